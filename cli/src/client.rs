//! The client subcommands (`topic`, `produce`, `consume`), written on librdkafka so they work against any Kafka
//! cluster, Tidemark's or not.

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::args::{ClientArgs, ConsumeArgs, ProduceArgs, TopicCommand};
use crate::client_properties;
use crate::output::out;

/// How long a client command waits for the cluster.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// librdkafka settings that reach the cluster: `--bootstrap-servers` and the `--command-config` properties.
pub fn client_config(client: &ClientArgs) -> Result<ClientConfig> {
    let mut config = ClientConfig::new();
    for (key, value) in client_properties::load(client)? {
        config.set(key, value);
    }
    config.set("bootstrap.servers", &client.bootstrap_servers);
    Ok(config)
}

/// An admin client; its metadata requests never create a topic (`topic describe` of a missing topic says so).
fn admin(client: &ClientArgs) -> Result<AdminClient<DefaultClientContext>> {
    client_config(client)?.set("allow.auto.create.topics", "false").create().context("creating the admin client")
}

fn check_topic_results(results: Vec<rdkafka::admin::TopicResult>) -> Result<()> {
    for result in results {
        if let Err((topic, code)) = result {
            bail!("{topic}: {code}");
        }
    }
    Ok(())
}

/// `tidemark topic ...`.
pub async fn topic(command: TopicCommand) -> Result<()> {
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    match command {
        TopicCommand::Create { name, partitions, replication_factor, configs, client } => {
            let mut new_topic = NewTopic::new(&name, partitions, TopicReplication::Fixed(replication_factor));
            for entry in &configs {
                let (key, value) =
                    entry.split_once('=').ok_or_else(|| anyhow!("--config-entry '{entry}' must be NAME=VALUE"))?;
                new_topic = new_topic.set(key, value);
            }
            check_topic_results(admin(&client)?.create_topics([&new_topic], &options).await?)?;
            out!("created topic {name}")?;
        }
        TopicCommand::Delete { name, client } => {
            check_topic_results(admin(&client)?.delete_topics(&[&name], &options).await?)?;
            out!("deleted topic {name}")?;
        }
        TopicCommand::List { include_internal, client } => {
            let admin = admin(&client)?;
            let metadata = admin.inner().fetch_metadata(None, TIMEOUT)?;
            let mut names: Vec<&str> = metadata
                .topics()
                .iter()
                .map(|t| t.name())
                .filter(|name| include_internal || !name.starts_with("__"))
                .collect();
            names.sort_unstable();
            for name in names {
                out!("{name}")?;
            }
        }
        TopicCommand::Describe { name, client } => describe(&name, &client, &options).await?,
    }
    Ok(())
}

async fn describe(name: &str, client: &ClientArgs, options: &AdminOptions) -> Result<()> {
    let admin = admin(client)?;
    let metadata = admin.inner().fetch_metadata(Some(name), TIMEOUT)?;
    let topic = metadata.topics().first().ok_or_else(|| anyhow!("no metadata for {name}"))?;
    if let Some(error) = topic.error() {
        bail!("{name}: {:?}", rdkafka::types::RDKafkaErrorCode::from(error));
    }
    out!("topic {name}: {} partitions", topic.partitions().len())?;
    for p in topic.partitions() {
        let (low, high) = admin.inner().fetch_watermarks(name, p.id(), TIMEOUT)?;
        out!(
            "  partition {:>3}  leader {}  replicas {:?}  isr {:?}  offsets {low}..{high}",
            p.id(),
            p.leader(),
            p.replicas(),
            p.isr()
        )?;
    }
    let described = admin.describe_configs([&ResourceSpecifier::Topic(name)], options).await?;
    for resource in described {
        let resource = resource.map_err(|code| anyhow!("describing configs of {name}: {code}"))?;
        for entry in resource.entries {
            let marker = if entry.is_default { "" } else { "  (override)" };
            out!("  {} = {}{marker}", entry.name, entry.value.unwrap_or_default())?;
        }
    }
    Ok(())
}

/// `tidemark produce TOPIC`: each stdin line becomes a record; keyed records go to Kafka's murmur2 partition.
pub async fn produce(args: ProduceArgs) -> Result<()> {
    let producer: FutureProducer = client_config(&args.client)?
        .set("partitioner", "murmur2_random")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()
        .context("creating the producer")?;
    let mut deliveries = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading stdin")?;
        let (key, value) = match (&args.key, &args.key_separator) {
            (Some(key), _) => (Some(key.clone()), line),
            (None, Some(sep)) => match line.split_once(sep.as_str()) {
                Some((k, v)) => (Some(k.to_owned()), v.to_owned()),
                None => (None, line),
            },
            (None, None) => (None, line),
        };
        let mut record = FutureRecord::<String, String>::to(&args.topic).payload(&value);
        if let Some(key) = &key {
            record = record.key(key);
        }
        let delivery = producer.send_result(record).map_err(|(e, _)| anyhow!("queueing a record: {e}"))?;
        deliveries.push(delivery);
    }
    producer.flush(TIMEOUT)?;
    let count = deliveries.len();
    for delivery in deliveries {
        delivery.await.context("producer dropped")?.map_err(|(e, _)| anyhow!("delivery failed: {e}"))?;
    }
    eprintln!("produced {count} records to {}", args.topic);
    Ok(())
}

/// `tidemark consume TOPIC`: prints values (or `key<TAB>value`) until `--max` records or Ctrl-C. With `--group`,
/// it consumes as a group member and commits what it printed.
pub async fn consume(args: ConsumeArgs) -> Result<()> {
    let reset = if args.from_beginning { "earliest" } else { "latest" };
    // librdkafka needs a group id to assign partitions; without --group nothing is committed under it.
    let consumer: BaseConsumer = client_config(&args.client)?
        .set("group.id", args.group.as_deref().unwrap_or("tidemark-cli"))
        .set("enable.auto.commit", if args.group.is_some() { "true" } else { "false" })
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", reset)
        .set("enable.partition.eof", "false")
        .create()
        .context("creating the consumer")?;
    if args.group.is_some() {
        consumer.subscribe(&[&args.topic])?;
    } else {
        assign_partitions(&consumer, &args)?;
    }
    let mut printed = 0u64;
    let stdout = std::io::stdout();
    while args.max.is_none_or(|max| printed < max) {
        let Some(message) = tokio::task::block_in_place(|| consumer.poll(Duration::from_millis(200))) else { continue };
        let message = message?;
        let value = String::from_utf8_lossy(message.payload().unwrap_or_default());
        let mut out = stdout.lock();
        if args.print_key {
            let key = String::from_utf8_lossy(message.key().unwrap_or_default());
            writeln!(out, "{key}\t{value}")?;
        } else {
            writeln!(out, "{value}")?;
        }
        out.flush()?;
        if args.group.is_some() {
            consumer.store_offset_from_message(&message)?;
        }
        printed += 1;
    }
    if args.group.is_some() {
        consumer.commit_consumer_state(CommitMode::Sync)?;
    }
    Ok(())
}

fn assign_partitions(consumer: &BaseConsumer, args: &ConsumeArgs) -> Result<()> {
    let metadata = consumer.fetch_metadata(Some(&args.topic), TIMEOUT)?;
    let topic = metadata.topics().first().ok_or_else(|| anyhow!("no metadata for {}", args.topic))?;
    if let Some(error) = topic.error() {
        bail!("{}: {:?}", args.topic, rdkafka::types::RDKafkaErrorCode::from(error));
    }
    let start = match (args.offset, args.from_beginning) {
        (Some(offset), _) => Offset::Offset(offset),
        (None, true) => Offset::Beginning,
        (None, false) => Offset::End,
    };
    let mut assignment = TopicPartitionList::new();
    for p in topic.partitions().iter().map(|p| p.id()).filter(|id| args.partition.is_none_or(|want| want == *id)) {
        assignment.add_partition_offset(&args.topic, p, start)?;
    }
    if assignment.count() == 0 {
        bail!("{} has no partition {:?}", args.topic, args.partition);
    }
    consumer.assign(&assignment)?;
    Ok(())
}
