//! Real Kafka clients against a real `tidemark broker` process: librdkafka (the `rdkafka` crate and `kcat`) and
//! kafka-python.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::Consumer;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, TopicPartitionList};
use tidemark_tests::{client_config, consume, consumer_from_start, python, repo_root, TidemarkProcess};

const WAIT: Duration = Duration::from_secs(20);

fn admin(bootstrap: &str) -> Result<AdminClient<DefaultClientContext>> {
    Ok(client_config(bootstrap).create()?)
}

#[tokio::test(flavor = "multi_thread")]
async fn librdkafka_round_trips_every_codec_byte_for_byte() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &[])?;
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("codec-{codec}");
        let producer: FutureProducer = client_config(&broker.bootstrap)
            .set("compression.codec", codec)
            .set("acks", "all")
            .set("linger.ms", "5")
            .create()?;
        let mut sent = Vec::new();
        for i in 0..500u32 {
            let key = format!("key-{i}");
            // Values of varying size and content, including bytes that are not UTF-8.
            let value: Vec<u8> = (0..(i % 97) * 13).map(|b| (b as u8).wrapping_mul(31) ^ (i as u8)).collect();
            let headers = OwnedHeaders::new().insert(Header { key: "h", value: Some(&i.to_be_bytes()) });
            let record = FutureRecord::to(&topic)
                .key(&key)
                .payload(&value)
                .headers(headers)
                .timestamp(1_700_000_000_000 + i64::from(i));
            let delivery = producer.send_result(record).map_err(|(e, _)| e)?;
            sent.push((key, value, i, delivery));
        }
        let mut sent_records = Vec::with_capacity(sent.len());
        for (key, value, i, delivery) in sent {
            let delivery = delivery.await?.map_err(|(e, _)| e)?;
            assert_eq!(delivery.offset, i64::from(i), "offsets are dense and in order");
            sent_records.push((key, value, i));
        }
        let sent = sent_records;
        let consumer = consumer_from_start(&broker.bootstrap, &topic, 1)?;
        let received = consume(&consumer, sent.len(), WAIT)?;
        assert_eq!(received.len(), sent.len(), "{codec}: every record comes back");
        for (message, (key, value, i)) in received.iter().zip(&sent) {
            assert_eq!(message.key(), Some(key.as_bytes()), "{codec}");
            assert_eq!(message.payload().unwrap_or_default(), value.as_slice(), "{codec}");
            assert_eq!(message.offset(), i64::from(*i));
            assert_eq!(message.timestamp().to_millis(), Some(1_700_000_000_000 + i64::from(*i)));
            let header = message.headers().map(|h| h.get(0));
            assert_eq!(header.and_then(|h| h.value), Some(&i.to_be_bytes()[..]), "{codec}: headers survive");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_operations_and_their_errors() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &[])?;
    let admin = admin(&broker.bootstrap)?;
    let options = AdminOptions::new().operation_timeout(Some(WAIT));

    let topic = NewTopic::new("orders", 3, TopicReplication::Fixed(1)).set("retention.ms", "3600000");
    let created = admin.create_topics([&topic], &options).await?;
    assert_eq!(created, vec![Ok("orders".to_owned())]);
    let again = admin.create_topics([&topic], &options).await?;
    assert_eq!(again, vec![Err(("orders".to_owned(), RDKafkaErrorCode::TopicAlreadyExists))]);
    let bad_config = NewTopic::new("bad", 1, TopicReplication::Fixed(1)).set("retention.mss", "1");
    let refused = admin.create_topics([&bad_config], &options).await?;
    assert_eq!(refused, vec![Err(("bad".to_owned(), RDKafkaErrorCode::InvalidConfig))]);
    let bad_rf = NewTopic::new("rf", 1, TopicReplication::Fixed(3));
    let refused = admin.create_topics([&bad_rf], &options).await?;
    assert_eq!(refused, vec![Err(("rf".to_owned(), RDKafkaErrorCode::InvalidReplicationFactor))]);
    let bad_name = NewTopic::new("no/slashes", 1, TopicReplication::Fixed(1));
    let refused = admin.create_topics([&bad_name], &options).await?;
    assert_eq!(refused, vec![Err(("no/slashes".to_owned(), RDKafkaErrorCode::InvalidTopic))]);

    let described = admin.describe_configs([&ResourceSpecifier::Topic("orders")], &options).await?;
    let resource = described.into_iter().next().context("one resource")?.map_err(|e| anyhow::anyhow!("{e}"))?;
    let entries = resource.entry_map();
    assert_eq!(entries["retention.ms"].value.as_deref(), Some("3600000"));
    assert!(!entries["retention.ms"].is_default);
    assert_eq!(entries["segment.bytes"].value.as_deref(), Some("1073741824"));
    assert!(entries["segment.bytes"].is_default);

    let alter = AlterConfig::new(ResourceSpecifier::Topic("orders")).set("cleanup.policy", "compact,delete");
    let altered = admin.alter_configs([&alter], &options).await?;
    assert!(altered.iter().all(Result::is_ok), "{altered:?}");
    let described = admin.describe_configs([&ResourceSpecifier::Topic("orders")], &options).await?;
    let resource = described.into_iter().next().context("one resource")?.map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(resource.get("cleanup.policy").and_then(|e| e.value.as_deref()), Some("compact,delete"));
    assert!(resource.get("retention.ms").is_some_and(|e| e.is_default), "AlterConfigs replaces the whole set");

    let grown = admin.create_partitions([&NewPartitions::new("orders", 5)], &options).await?;
    assert_eq!(grown, vec![Ok("orders".to_owned())]);
    let shrink = admin.create_partitions([&NewPartitions::new("orders", 2)], &options).await?;
    assert_eq!(shrink, vec![Err(("orders".to_owned(), RDKafkaErrorCode::InvalidPartitions))]);
    let metadata = admin.inner().fetch_metadata(Some("orders"), WAIT)?;
    assert_eq!(metadata.topics()[0].partitions().len(), 5);

    let deleted = admin.delete_topics(&["orders"], &options).await?;
    assert_eq!(deleted, vec![Ok("orders".to_owned())]);
    let missing = admin.delete_topics(&["orders"], &options).await?;
    assert_eq!(missing, vec![Err(("orders".to_owned(), RDKafkaErrorCode::UnknownTopicOrPartition))]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn offsets_by_time_earliest_and_latest() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &["--num-partitions", "1"])?;
    let producer: FutureProducer = client_config(&broker.bootstrap).set("linger.ms", "0").create()?;
    for i in 0..10i64 {
        let record = FutureRecord::<(), str>::to("timed").payload("x").timestamp(10_000 + i * 1_000);
        producer.send(record, WAIT).await.map_err(|(e, _)| e)?;
    }
    let consumer = consumer_from_start(&broker.bootstrap, "timed", 1)?;
    let mut wanted = TopicPartitionList::new();
    wanted.add_partition_offset("timed", 0, Offset::Offset(14_500))?;
    let found = consumer.offsets_for_times(wanted, WAIT)?;
    assert_eq!(found.find_partition("timed", 0).map(|p| p.offset()), Some(Offset::Offset(5)));
    let (low, high) = consumer.fetch_watermarks("timed", 0, WAIT)?;
    assert_eq!((low, high), (0, 10));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn keyed_records_from_the_cli_land_on_kafkas_murmur2_partition() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &["--num-partitions", "6"])?;
    let keys: Vec<String> = (0..30).map(|i| format!("customer-{i}")).collect();
    let input: String = keys.iter().map(|k| format!("{k}:v\n")).collect();
    let mut child = Command::new(tidemark_tests::tidemark_binary()?)
        .args(["produce", "keyed", "--key-separator", ":", "--bootstrap-servers", &broker.bootstrap])
        .stdin(Stdio::piped())
        .spawn()?;
    child.stdin.take().context("stdin")?.write_all(input.as_bytes())?;
    assert!(child.wait()?.success());
    let consumer = consumer_from_start(&broker.bootstrap, "keyed", 6)?;
    let received = consume(&consumer, keys.len(), WAIT)?;
    assert_eq!(received.len(), keys.len());
    for message in received {
        let key = message.key().context("key")?;
        let expected = (murmur2::murmur2(key, murmur2::KAFKA_SEED) & 0x7fff_ffff) % 6;
        assert_eq!(message.partition() as u32, expected, "key {}", String::from_utf8_lossy(key));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_creation_can_be_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &["--auto-create-topics", "false"])?;
    let producer: FutureProducer = client_config(&broker.bootstrap).set("message.timeout.ms", "3000").create()?;
    let record = FutureRecord::<(), str>::to("never-created").payload("x");
    let (error, _) = producer.send(record, WAIT).await.expect_err("unknown topic is refused");
    assert!(error.to_string().contains("Unknown topic") || error.to_string().contains("timed out"), "{error}");
    let metadata = admin(&broker.bootstrap)?.inner().fetch_metadata(None, WAIT)?;
    assert!(metadata.topics().iter().all(|t| t.name() != "never-created"));
    Ok(())
}

#[test]
fn kcat_produces_and_consumes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &[])?;
    let mut producer = Command::new("kcat")
        .args(["-b", &broker.bootstrap, "-t", "kcat-topic", "-P", "-K", ":", "-z", "snappy"])
        .stdin(Stdio::piped())
        .spawn()
        .context("kcat must be installed (scripts/test installs it)")?;
    let lines: String = (0..100).map(|i| format!("k{i}:value {i}\n")).collect();
    producer.stdin.take().context("stdin")?.write_all(lines.as_bytes())?;
    assert!(producer.wait()?.success());
    let output = Command::new("kcat")
        .args(["-b", &broker.bootstrap, "-t", "kcat-topic", "-C", "-o", "beginning", "-e", "-f", "%k=%s@%o\n"])
        .output()?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let expected: String = (0..100).map(|i| format!("k{i}=value {i}@{i}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
    let listing = Command::new("kcat").args(["-b", &broker.bootstrap, "-L", "-t", "kcat-topic"]).output()?;
    assert!(String::from_utf8_lossy(&listing.stdout).contains("partition 0, leader 1"));
    Ok(())
}

#[test]
fn kafka_python_produces_and_consumes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &[])?;
    let script = repo_root().join("tests/python/kafka_python_roundtrip.py");
    let output = Command::new(python()).arg(script).arg(&broker.bootstrap).output().context("running kafka-python")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr));
    let counts: HashMap<&str, &str> = stdout.lines().filter_map(|l| l.split_once('=')).collect();
    assert_eq!(counts.get("consumed"), Some(&"300"), "{stdout}");
    Ok(())
}

#[test]
fn the_cli_manages_topics_and_consumes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &[])?;
    let cli = |args: &[&str]| -> Result<String> {
        let output = Command::new(tidemark_tests::tidemark_binary()?)
            .args(args)
            .args(["--bootstrap-servers", &broker.bootstrap])
            .output()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        anyhow::ensure!(output.status.success(), "tidemark {args:?} failed: {stderr}");
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    cli(&["topic", "create", "cli-topic", "--partitions", "2", "--config-entry", "retention.ms=60000"])?;
    assert_eq!(cli(&["topic", "list"])?, "cli-topic\n");
    let described = cli(&["topic", "describe", "cli-topic"])?;
    assert!(described.contains("2 partitions"), "{described}");
    assert!(described.contains("retention.ms = 60000  (override)"), "{described}");

    let mut producer = Command::new(tidemark_tests::tidemark_binary()?)
        .args(["produce", "cli-topic", "--key", "same-key", "--bootstrap-servers", &broker.bootstrap])
        .stdin(Stdio::piped())
        .spawn()?;
    producer.stdin.take().context("stdin")?.write_all(b"one\ntwo\nthree\n")?;
    assert!(producer.wait()?.success());
    let consumed = cli(&["consume", "cli-topic", "--from-beginning", "--max", "3", "--print-key"])?;
    assert_eq!(consumed, "same-key\tone\nsame-key\ttwo\nsame-key\tthree\n");
    let partition = (murmur2::murmur2(b"same-key", murmur2::KAFKA_SEED) & 0x7fff_ffff) % 2;
    let from_offset =
        cli(&["consume", "cli-topic", "--partition", &partition.to_string(), "--offset", "2", "--max", "1"])?;
    assert_eq!(from_offset, "three\n");

    // A reader that goes away after the first line (`| head -1`) ends the command quietly, without a panic.
    cli(&["topic", "create", "wide", "--partitions", "40"])?;
    let mut describe = Command::new(tidemark_tests::tidemark_binary()?)
        .args(["topic", "describe", "wide", "--bootstrap-servers", &broker.bootstrap])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(describe.stdout.take().context("stdout")?), &mut first)?;
    assert_eq!(first, "topic wide: 40 partitions\n");
    let closed = describe.wait_with_output()?;
    assert!(closed.status.success(), "{}", String::from_utf8_lossy(&closed.stderr));
    cli(&["topic", "delete", "wide"])?;

    cli(&["topic", "delete", "cli-topic"])?;
    assert_eq!(cli(&["topic", "list"])?, "");
    // Describing a missing topic says so and creates nothing.
    assert!(cli(&["topic", "describe", "missing"]).is_err(), "a missing topic cannot be described");
    assert_eq!(cli(&["topic", "list"])?, "", "describing did not create it");
    Ok(())
}
