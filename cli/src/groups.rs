//! `tidemark group list|describe|reset-offsets`, on librdkafka so they work against any Kafka cluster.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use bytes::{Buf, Bytes};
use kafka_protocol::messages::ConsumerProtocolAssignment;
use kafka_protocol::protocol::Decodable;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::groups::{GroupInfo, GroupList};
use rdkafka::{Offset, TopicPartitionList};

use crate::args::{ClientArgs, GroupCommand, ResetTarget};
use crate::client::{client_config, TIMEOUT};
use crate::output::out;

/// Runs a group subcommand.
pub async fn run(command: GroupCommand) -> Result<()> {
    tokio::task::block_in_place(|| match command {
        GroupCommand::List { client } => list(&client),
        GroupCommand::Describe { group, client } => describe(&group, &client),
        GroupCommand::ResetOffsets { group, topic, target, client } => reset(&group, &topic, &target, &client),
    })
}

/// A consumer that speaks for `group` without joining it: it reads and commits the group's offsets.
fn group_client(group: &str, client: &ClientArgs) -> Result<BaseConsumer> {
    client_config(client)?
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .context("creating the group client")
}

fn list(client: &ClientArgs) -> Result<()> {
    let consumer = group_client("tidemark-cli", client)?;
    let groups = consumer.fetch_group_list(None, TIMEOUT).context("listing groups")?;
    out!("{:<40} {:<20} PROTOCOL-TYPE", "GROUP", "STATE")?;
    for g in groups.groups() {
        out!("{:<40} {:<20} {}", g.name(), g.state(), g.protocol_type())?;
    }
    Ok(())
}

fn group_list(consumer: &BaseConsumer, group: &str) -> Result<GroupList> {
    let groups = consumer.fetch_group_list(Some(group), TIMEOUT).context("describing the group")?;
    if groups.groups().is_empty() {
        bail!("no answer for group {group}");
    }
    Ok(groups)
}

/// Partitions assigned to each member of a consumer-protocol group: (topic, partition) → member index.
fn assignments(info: &GroupInfo) -> BTreeMap<(String, i32), usize> {
    let mut owners = BTreeMap::new();
    if info.protocol_type() != "consumer" {
        return owners;
    }
    for (i, member) in info.members().iter().enumerate() {
        let mut bytes = Bytes::copy_from_slice(member.assignment().unwrap_or_default());
        if bytes.remaining() < 2 {
            continue;
        }
        let version = bytes.get_i16().clamp(0, 3);
        let Ok(assignment) = ConsumerProtocolAssignment::decode(&mut bytes, version) else { continue };
        for tp in assignment.assigned_partitions {
            for p in tp.partitions {
                owners.insert((tp.topic.to_string(), p), i);
            }
        }
    }
    owners
}

/// Every partition of every topic that is not internal, to ask for committed offsets.
fn all_partitions(consumer: &BaseConsumer) -> Result<TopicPartitionList> {
    let metadata = consumer.fetch_metadata(None, TIMEOUT).context("fetching metadata")?;
    let mut list = TopicPartitionList::new();
    for topic in metadata.topics().iter().filter(|t| !t.name().starts_with("__")) {
        for p in topic.partitions() {
            list.add_partition(topic.name(), p.id());
        }
    }
    Ok(list)
}

fn describe(group: &str, client: &ClientArgs) -> Result<()> {
    let consumer = group_client(group, client)?;
    let list = group_list(&consumer, group)?;
    let info = &list.groups()[0];
    let owners = assignments(info);
    let committed =
        consumer.committed_offsets(all_partitions(&consumer)?, TIMEOUT).context("fetching committed offsets")?;
    let mut rows: BTreeMap<(String, i32), Option<i64>> = owners.keys().map(|tp| (tp.clone(), None)).collect();
    for e in committed.elements() {
        if let Offset::Offset(offset) = e.offset() {
            rows.insert((e.topic().to_owned(), e.partition()), Some(offset));
        }
    }
    if info.state() == "Dead" && rows.is_empty() {
        bail!("group {group} does not exist");
    }
    out!(
        "group {group}: state {}, protocol {} ({}), {} members",
        info.state(),
        info.protocol(),
        info.protocol_type(),
        info.members().len()
    )?;
    for m in info.members() {
        out!("  member {}  client {}  host {}", m.id(), m.client_id(), m.client_host())?;
    }
    out!("{:<30} {:>9} {:>14} {:>14} {:>8}  MEMBER", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG")?;
    for ((topic, partition), offset) in rows {
        let (_, end) = consumer.fetch_watermarks(&topic, partition, TIMEOUT).context("fetching the log end")?;
        let (current, lag) = match offset {
            Some(o) => (o.to_string(), (end - o).max(0).to_string()),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let member = owners.get(&(topic.clone(), partition)).map_or("-", |&i| info.members()[i].id());
        out!("{topic:<30} {partition:>9} {current:>14} {end:>14} {lag:>8}  {member}")?;
    }
    Ok(())
}

fn reset(group: &str, topic: &str, target: &ResetTarget, client: &ClientArgs) -> Result<()> {
    let consumer = group_client(group, client)?;
    let list = group_list(&consumer, group)?;
    let info = &list.groups()[0];
    if !info.members().is_empty() {
        bail!(
            "group {group} has {} active members (state {}); stop them before resetting offsets",
            info.members().len(),
            info.state()
        );
    }
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT).context("fetching metadata")?;
    let partitions: Vec<i32> =
        metadata.topics().first().map(|t| t.partitions().iter().map(|p| p.id()).collect()).unwrap_or_default();
    if partitions.is_empty() {
        bail!("topic {topic} does not exist");
    }
    let mut offsets = TopicPartitionList::new();
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, TIMEOUT).context("fetching offsets")?;
        let offset = match (target.to_earliest, target.to_latest, target.to_offset) {
            (true, _, _) => low,
            (_, true, _) => high,
            (_, _, Some(n)) => n.clamp(low, high),
            _ => bail!("one of --to-earliest, --to-latest, --to-offset is required"),
        };
        offsets.add_partition_offset(topic, p, Offset::Offset(offset))?;
    }
    consumer.commit(&offsets, CommitMode::Sync).with_context(|| format!("committing offsets for group {group}"))?;
    for e in offsets.elements() {
        if let Offset::Offset(o) = e.offset() {
            out!("{group} {topic} partition {} -> {o}", e.partition())?;
        }
    }
    Ok(())
}
