//! Debezium's transforms on datagen records shaped like Debezium change events, through the whole worker (source
//! runtime, transforms, JSON converter, the log), configured as Debezium's documentation shows: the outbox
//! `EventRouter` routes outbox rows to `outbox.event.<aggregatetype>` keyed by the aggregate id with the payload as
//! the value and the event id as a header; `ExtractNewRecordState` flattens change events to the row state with
//! `__deleted` and the added metadata fields.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Backend;
use serde_json::{json, Value as Json};
use tidemark_connect::worker::{Plugins, Worker};
use tidemark_log_client::{LogClient, LogRecord};

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Every record of `topic` once `count` are there.
async fn records(log: &Arc<dyn LogClient>, topic: &str, count: usize) -> Vec<LogRecord> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ends = log.end_offsets(topic).await.unwrap_or_default();
        if ends.iter().sum::<i64>() as usize >= count {
            let mut all = Vec::new();
            for partition in 0..ends.len() as i32 {
                let mut reader = log.reader(topic, partition, 0).expect("reader");
                while all.iter().filter(|r: &&LogRecord| r.partition == partition).count()
                    < ends[partition as usize] as usize
                {
                    all.extend(reader.next_records(Duration::from_millis(500)).await.expect("read"));
                }
            }
            return all;
        }
        assert!(Instant::now() < deadline, "{topic} never held {count} records");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn json_of(bytes: Option<&[u8]>) -> Json {
    bytes.map_or(Json::Null, |b| serde_json::from_slice(b).expect("JSON"))
}

/// Plain JSON keys and values, so the test reads what the transforms made.
const PLAIN_JSON: [(&str, &str); 4] = [
    ("key.converter", "org.apache.kafka.connect.json.JsonConverter"),
    ("key.converter.schemas.enable", "false"),
    ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
    ("value.converter.schemas.enable", "false"),
];

on_both_logs!(outbox_rows_are_routed_as_debezium_documents);

async fn outbox_rows_are_routed_as_debezium_documents(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let log = &test_log.log;
    let worker = Worker::new(Arc::clone(log), common::worker_state(log, 2).await, Plugins::default(), "w".into());
    let mut config = props(&[
        ("connector.class", "datagen"),
        ("quickstart", "outbox"),
        ("kafka.topic", "datagen.inventory.outboxevent"),
        ("rate", "0"),
        ("iterations", "10"),
        // From Debezium's "Outbox Event Router" page, "Basic configuration" and "Expanding escaped JSON".
        ("transforms", "outbox"),
        ("transforms.outbox.type", "io.debezium.transforms.outbox.EventRouter"),
        ("transforms.outbox.table.expand.json.payload", "true"),
    ]);
    config.extend(props(&PLAIN_JSON));
    worker.put_connector("outbox", config, true).await.expect("create");

    let orders = records(log, "outbox.event.order", 5).await;
    let customers = records(log, "outbox.event.customer", 5).await;
    assert_eq!((orders.len(), customers.len()), (5, 5));
    let first = orders.iter().find(|r| json_of(r.key.as_deref()) == json!("0")).expect("aggregate 0");
    assert_eq!(json_of(first.value.as_deref()), json!({ "id": 0, "units": 1 }), "the payload, expanded");
    let id = first.headers.iter().find(|(k, _)| k == "id").and_then(|(_, v)| v.clone()).expect("an id header");
    assert_eq!(&id[..], b"00000000-0000-4000-8000-000000000000");
    assert!(records(log, "datagen.inventory.outboxevent", 0).await.is_empty(), "nothing is left on the table's topic");
    worker.shutdown().await;
}

on_both_logs!(change_events_are_flattened_as_debezium_documents);

async fn change_events_are_flattened_as_debezium_documents(backend: Backend) {
    let test_log = common::test_log(backend).await;
    let log = &test_log.log;
    let worker = Worker::new(Arc::clone(log), common::worker_state(log, 2).await, Plugins::default(), "w".into());
    let mut config = props(&[
        ("connector.class", "datagen"),
        ("quickstart", "debezium"),
        ("kafka.topic", "datagen.inventory.customers"),
        ("rate", "0"),
        ("iterations", "6"),
        // From Debezium's "New Record State Extraction" page.
        ("transforms", "unwrap"),
        ("transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState"),
        ("transforms.unwrap.delete.tombstone.handling.mode", "rewrite"),
        ("transforms.unwrap.add.fields", "op,table,lsn,source.ts_ms"),
    ]);
    config.extend(props(&PLAIN_JSON));
    worker.put_connector("cdc", config, true).await.expect("create");

    // Two customers, each created, updated and deleted; the tombstones after the deletes are dropped.
    let mut events = records(log, "datagen.inventory.customers", 6).await;
    events.sort_by_key(|r| r.offset);
    let values: Vec<Json> = events.iter().map(|r| json_of(r.value.as_deref())).collect();
    let ops: Vec<&str> = values.iter().filter_map(|v| v["__op"].as_str()).collect();
    assert_eq!(ops, ["c", "u", "d", "c", "u", "d"], "{values:?}");
    assert_eq!(values[1]["email"], json!("customer-0-v1@example.com"), "an update carries the new state");
    assert_eq!(values[2]["__deleted"], json!("true"), "a delete is rewritten with the state before it");
    assert_eq!(values[2]["id"], json!(0));
    assert_eq!(values[0]["__deleted"], json!("false"));
    assert_eq!(values[0]["__table"], json!("customers"));
    assert!(values.iter().all(|v| v["__lsn"].is_i64() && v["__source_ts_ms"].is_i64()), "{values:?}");
    assert_eq!(json_of(events[3].key.as_deref()), json!({ "id": 1 }));
    worker.shutdown().await;
}
