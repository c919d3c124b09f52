//! Crash safety and retention, against a real `tidemark broker` process.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::Consumer;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use tidemark_tests::{client_config, consume, consumer_from_start, TidemarkProcess};

const WAIT: Duration = Duration::from_secs(30);

/// Producers write with `acks=all` while the broker is killed with SIGKILL; after a restart every acknowledged
/// record is present exactly once, in order, and the log accepts new writes.
#[tokio::test(flavor = "multi_thread")]
async fn kill_9_loses_no_acknowledged_record() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut broker = TidemarkProcess::start(dir.path(), &[])?;
    let bootstrap = broker.bootstrap.clone();
    let acked: Arc<Mutex<Vec<(i64, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let producer: FutureProducer = client_config(&bootstrap)
        .set("acks", "all")
        .set("linger.ms", "2")
        .set("message.timeout.ms", "5000")
        .set("retries", "0")
        .create()?;
    let writer = {
        let (acked, stop, producer) = (Arc::clone(&acked), Arc::clone(&stop), producer.clone());
        tokio::spawn(async move {
            let mut in_flight = Vec::new();
            for i in 0u64.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let value = format!("record-{i}");
                let producer = producer.clone();
                let acked = Arc::clone(&acked);
                in_flight.push(tokio::spawn(async move {
                    let record = FutureRecord::<(), str>::to("crash").payload(&value);
                    if let Ok(delivery) = producer.send(record, Duration::from_secs(5)).await {
                        acked.lock().map(|mut a| a.push((delivery.offset, i))).ok();
                    }
                }));
                if i % 50 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            for task in in_flight {
                let _ = task.await;
            }
        })
    };
    // Let writes flow, then crash the broker mid-stream.
    while acked.lock().map(|a| a.len()).unwrap_or(0) < 3_000 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    broker.kill9()?;
    stop.store(true, Ordering::Relaxed);
    writer.await?;
    drop(producer);
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    assert!(acked.len() >= 3_000);

    let broker = TidemarkProcess::start(dir.path(), &[])?;
    let consumer = consumer_from_start(&broker.bootstrap, "crash", 1)?;
    let (_, high) = consumer.fetch_watermarks("crash", 0, WAIT)?;
    let stored = consume(&consumer, usize::try_from(high)?, WAIT)?;
    assert_eq!(stored.len() as i64, high, "every offset below the high watermark is readable");
    let values: Vec<String> =
        stored.iter().map(|m| String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned()).collect();
    for (offset, i) in &acked {
        assert_eq!(values.get(usize::try_from(*offset)?), Some(&format!("record-{i}")), "acked record {i} at {offset}");
    }
    let distinct: BTreeSet<&String> = values.iter().collect();
    assert_eq!(distinct.len(), values.len(), "no record stored twice");
    for (position, message) in stored.iter().enumerate() {
        assert_eq!(message.offset(), position as i64, "offsets dense and ordered");
    }

    let producer: FutureProducer = client_config(&broker.bootstrap).set("acks", "all").create()?;
    let delivery =
        producer.send(FutureRecord::<(), str>::to("crash").payload("after"), WAIT).await.map_err(|(e, _)| e)?;
    assert_eq!(delivery.offset, high, "the recovered log accepts new writes at its end");
    Ok(())
}

/// Segments past `retention.ms` or beyond `retention.bytes` are deleted; offsets stay monotonic.
#[tokio::test(flavor = "multi_thread")]
async fn retention_deletes_old_segments_and_keeps_offsets_monotonic() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let broker = TidemarkProcess::start(dir.path(), &["--retention-check-interval-ms", "200"])?;
    let admin: AdminClient<DefaultClientContext> = client_config(&broker.bootstrap).create()?;
    let options = AdminOptions::new().operation_timeout(Some(WAIT));
    let by_size = NewTopic::new("by-size", 1, TopicReplication::Fixed(1))
        .set("segment.bytes", "4096")
        .set("retention.bytes", "16384");
    let by_time = NewTopic::new("by-time", 1, TopicReplication::Fixed(1))
        .set("segment.bytes", "4096")
        .set("retention.ms", "2000");
    admin.create_topics([&by_size, &by_time], &options).await?;

    let producer: FutureProducer = client_config(&broker.bootstrap).set("linger.ms", "0").create()?;
    let payload = "x".repeat(500);
    let now = rdkafka::util::millis_to_epoch(std::time::SystemTime::now());
    for i in 0..200i64 {
        producer.send(FutureRecord::<(), str>::to("by-size").payload(&payload), WAIT).await.map_err(|(e, _)| e)?;
        // Records timestamped an hour ago expire at once under retention.ms=2000.
        let old = FutureRecord::<(), str>::to("by-time").payload(&payload).timestamp(now - 3_600_000 + i);
        producer.send(old, WAIT).await.map_err(|(e, _)| e)?;
    }
    let consumer = consumer_from_start(&broker.bootstrap, "by-size", 1)?;
    let deadline = std::time::Instant::now() + WAIT;
    let (mut size_low, mut time_low) = (0, 0);
    while std::time::Instant::now() < deadline && (size_low == 0 || time_low < 200) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        size_low = consumer.fetch_watermarks("by-size", 0, WAIT)?.0;
        time_low = consumer.fetch_watermarks("by-time", 0, WAIT)?.0;
    }
    let (_, size_high) = consumer.fetch_watermarks("by-size", 0, WAIT)?;
    assert!(size_low > 0, "size retention moved the log start");
    assert_eq!(size_high, 200, "the high watermark is untouched");
    let size_dir = dir.path().join("topics/by-size-0");
    let bytes: u64 = std::fs::read_dir(&size_dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    assert!(bytes < 16_384 + 4_096, "{bytes} bytes left on disk");
    assert_eq!(time_low, 200, "every expired segment is gone, the active one included");

    // New writes continue the offsets; reading from the new start works.
    let delivery =
        producer.send(FutureRecord::<(), str>::to("by-time").payload("new"), WAIT).await.map_err(|(e, _)| e)?;
    assert_eq!(delivery.offset, 200);
    let consumer = consumer_from_start(&broker.bootstrap, "by-size", 1)?;
    let remaining = consume(&consumer, usize::try_from(size_high - size_low)?, WAIT)?;
    assert_eq!(remaining.first().map(|m| m.offset()), Some(size_low));
    assert_eq!(remaining.last().map(|m| m.offset()), Some(199));
    Ok(())
}
