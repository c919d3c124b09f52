//! The Postgres source against a real PostgreSQL 15 (a fresh cluster per test), its task driven directly as the
//! runtime drives it: `start` with the stored offsets, `poll` for records, `commit` the positions made durable.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value as Json};
use tidemark_connect::connector::{Connector, SourceConnector, SourceRecord, SourceTask};
use tidemark_connect::data::Value;
use tidemark_postgres::replication::Lsn;
use tidemark_postgres::source::PostgresConnector;
use tidemark_tests::postgres::PostgresServer;
use tokio::time::Instant;
use tokio_postgres::{Client, NoTls};

/// How long a test waits for what should take well under a second.
const PATIENCE: Duration = Duration::from_secs(30);

async fn start_server() -> Result<PostgresServer> {
    tokio::task::spawn_blocking(PostgresServer::start).await?
}

async fn sql(server: &PostgresServer) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(&server.connection_string(), NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The connector config for `server` with `topic.prefix=pg1`, plus `extra`.
fn props(server: &PostgresServer, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut props: BTreeMap<String, String> = [
        ("name", "pg-source".to_owned()),
        ("connector.class", "io.debezium.connector.postgresql.PostgresConnector".to_owned()),
        ("database.hostname", server.host.clone()),
        ("database.port", server.port.to_string()),
        ("database.user", server.user.clone()),
        ("database.password", server.password.clone()),
        ("database.dbname", server.dbname.clone()),
        ("topic.prefix", "pg1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    props
}

/// A started task, as the runtime would start it with `offsets`.
async fn task(props: &BTreeMap<String, String>, offsets: Vec<(Json, Json)>) -> Result<Box<dyn SourceTask>> {
    let connector = PostgresConnector;
    let config = connector.task_configs(props, 1).remove(0);
    let mut task = connector.create_task(&config)?;
    task.start(offsets).await?;
    Ok(task)
}

/// Polls until `count` records arrived (more may come in the last poll), within [`PATIENCE`].
async fn poll(task: &mut Box<dyn SourceTask>, count: usize) -> Result<Vec<SourceRecord>> {
    let deadline = Instant::now() + PATIENCE;
    let mut records = Vec::new();
    while records.len() < count {
        ensure!(Instant::now() < deadline, "{} of {count} records arrived: {:#?}", records.len(), summary(&records));
        records.extend(task.poll().await?);
    }
    Ok(records)
}

/// Polls for `wait` and returns whatever arrived.
async fn poll_for(task: &mut Box<dyn SourceTask>, wait: Duration) -> Result<Vec<SourceRecord>> {
    let deadline = Instant::now() + wait;
    let mut records = Vec::new();
    while Instant::now() < deadline {
        records.extend(task.poll().await?);
    }
    Ok(records)
}

/// Tells the task that everything up to `record` is durable.
async fn commit(task: &mut Box<dyn SourceTask>, record: &SourceRecord) -> Result<()> {
    task.commit(&[((*record.source_partition).clone(), (*record.source_offset).clone())]).await?;
    Ok(())
}

/// (topic, op or "tombstone", key id) of each record, for messages and quick comparisons.
fn summary(records: &[SourceRecord]) -> Vec<(String, String, Option<i64>)> {
    records
        .iter()
        .map(|r| {
            let op = if r.record.value.is_null() {
                "tombstone".to_owned()
            } else {
                field(&r.record.value, "op").as_str().unwrap_or("?").to_owned()
            };
            let id = r.record.key.as_struct().and_then(|k| k.values().first()).and_then(as_i64);
            (r.record.topic.clone(), op, id)
        })
        .collect()
}

/// A field of a struct value, as stored (no default applied).
fn field<'a>(value: &'a Value, name: &str) -> &'a Value {
    value.as_struct().and_then(|s| s.get_without_default(name).ok()).unwrap_or(&Value::Null)
}

fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Int16(v) => Some(i64::from(*v)),
        Value::Int32(v) => Some(i64::from(*v)),
        Value::Int64(v) => Some(*v),
        _ => None,
    }
}

/// The row struct's values in field order.
fn row(value: &Value) -> Option<Vec<Value>> {
    value.as_struct().map(|s| s.values().to_vec())
}

/// The `source` block of a change event.
fn source(record: &SourceRecord) -> &Value {
    field(&record.record.value, "source")
}

/// The slot's `confirmed_flush_lsn`.
async fn confirmed_flush(client: &Client, slot: &str) -> Result<Lsn> {
    let row = client
        .query_one("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", &[&slot])
        .await?;
    let text: String = row.get(0);
    Ok(text.parse()?)
}

fn offset_lsn(record: &SourceRecord) -> Lsn {
    Lsn(record.source_offset["lsn"].as_u64().unwrap_or(0))
}

const ORDERS: &str = "CREATE TABLE orders (id int4 PRIMARY KEY, name text NOT NULL, qty int8, note varchar(20), \
                      paid bool NOT NULL DEFAULT false)";

#[tokio::test]
async fn snapshot_then_stream_as_debezium_events() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client
        .batch_execute(&format!(
            "{ORDERS};
             CREATE TABLE items (sku text PRIMARY KEY);
             INSERT INTO orders VALUES (1, 'one', 10, 'first', true), (2, 'two', NULL, NULL, false);
             INSERT INTO items VALUES ('a'), ('b');"
        ))
        .await?;
    let mut task = task(&props(&server, &[]), Vec::new()).await?;

    // The snapshot: items then orders (by name), every row an `r` event.
    let snapshot = poll(&mut task, 4).await?;
    assert_eq!(
        summary(&snapshot).iter().map(|(t, op, _)| (t.as_str(), op.as_str())).collect::<Vec<_>>(),
        [("pg1.public.items", "r"), ("pg1.public.items", "r"), ("pg1.public.orders", "r"), ("pg1.public.orders", "r")]
    );
    let markers: Vec<&str> = snapshot.iter().map(|r| field(source(r), "snapshot").as_str().unwrap_or("")).collect();
    assert_eq!(markers, ["first", "last_in_data_collection", "first_in_data_collection", "last"]);
    let first_order = &snapshot[2].record;
    assert_eq!(first_order.key_schema.as_ref().and_then(|s| s.name()), Some("pg1.public.orders.Key"));
    assert_eq!(row(&first_order.key), Some(vec![Value::Int32(1)]));
    let envelope = first_order.value_schema.as_ref().context("envelope schema")?;
    assert_eq!(envelope.name(), Some("pg1.public.orders.Envelope"));
    let names: Vec<&str> = envelope.fields().iter().map(|f| f.name()).collect();
    assert_eq!(names, ["before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns"]);
    assert_eq!(field(&first_order.value, "before"), &Value::Null);
    assert_eq!(
        row(field(&first_order.value, "after")),
        Some(vec![Value::Int32(1), Value::from("one"), Value::Int64(10), Value::from("first"), Value::Boolean(true)])
    );
    assert_eq!(
        row(field(&snapshot[3].record.value, "after")),
        Some(vec![Value::Int32(2), Value::from("two"), Value::Null, Value::Null, Value::Boolean(false)])
    );
    let after_schema = envelope.field("after").context("after")?.schema();
    assert_eq!(after_schema.name(), Some("pg1.public.orders.Value"));
    let optional: Vec<bool> = after_schema.fields().iter().map(|f| f.schema().is_optional()).collect();
    assert_eq!(optional, [false, false, true, true, false]);
    let block = source(&snapshot[2]);
    assert_eq!(field(block, "connector"), &Value::from("postgresql"));
    assert_eq!(field(block, "name"), &Value::from("pg1"));
    assert_eq!(field(block, "db"), &Value::from("postgres"));
    assert_eq!((field(block, "schema"), field(block, "table")), (&Value::from("public"), &Value::from("orders")));
    let snapshot_lsn = as_i64(field(block, "lsn")).context("lsn")?;
    assert!(as_i64(field(block, "txId")).is_some());
    assert_eq!(field(block, "sequence"), &Value::from(format!("[null,\"{snapshot_lsn}\"]")));
    assert_eq!(*snapshot[0].source_partition, json!({"server": "pg1"}));
    assert_eq!(snapshot[2].source_offset["snapshot"], json!(true));
    assert_eq!(snapshot[2].source_offset["last_snapshot_record"], json!(false));
    assert_eq!(snapshot[3].source_offset["last_snapshot_record"], json!(true));
    assert_eq!(snapshot[3].source_offset["lsn"], json!(snapshot_lsn));

    // Streaming: an insert, an update (no before without REPLICA IDENTITY FULL), a delete and its tombstone.
    client.batch_execute("INSERT INTO orders VALUES (3, 'three', 30, 'new', false)").await?;
    client.batch_execute("UPDATE orders SET qty = 31, paid = true WHERE id = 3").await?;
    client.batch_execute("DELETE FROM orders WHERE id = 1").await?;
    let stream = poll(&mut task, 4).await?;
    assert_eq!(
        summary(&stream),
        [
            ("pg1.public.orders".to_owned(), "c".to_owned(), Some(3)),
            ("pg1.public.orders".to_owned(), "u".to_owned(), Some(3)),
            ("pg1.public.orders".to_owned(), "d".to_owned(), Some(1)),
            ("pg1.public.orders".to_owned(), "tombstone".to_owned(), Some(1)),
        ]
    );
    let (insert, update, delete) = (&stream[0], &stream[1], &stream[2]);
    assert_eq!(field(&insert.record.value, "before"), &Value::Null);
    let new_row =
        vec![Value::Int32(3), Value::from("three"), Value::Int64(30), Value::from("new"), Value::Boolean(false)];
    assert_eq!(row(field(&insert.record.value, "after")), Some(new_row));
    assert_eq!(field(&update.record.value, "before"), &Value::Null);
    assert_eq!(
        row(field(&update.record.value, "after")),
        Some(vec![Value::Int32(3), Value::from("three"), Value::Int64(31), Value::from("new"), Value::Boolean(true)])
    );
    // A delete's old key: the key column, nulls, and Debezium's fallbacks for the other NOT NULL columns.
    assert_eq!(
        row(field(&delete.record.value, "before")),
        Some(vec![Value::Int32(1), Value::from(""), Value::Null, Value::Null, Value::Boolean(false)])
    );
    assert_eq!(field(&delete.record.value, "after"), &Value::Null);
    assert_eq!(stream[3].record.key, delete.record.key);
    assert_eq!(stream[3].record.value_schema, None);
    for record in &stream[..3] {
        let block = source(record);
        assert_eq!(field(block, "snapshot"), &Value::from("false"));
        let lsn = as_i64(field(block, "lsn")).context("lsn")?;
        // The consistent point is where the first change after the snapshot can start.
        assert!(lsn >= snapshot_lsn, "{lsn} < {snapshot_lsn}");
        let sequence = field(block, "sequence").as_str().context("sequence")?;
        assert!(sequence.ends_with(&format!(",\"{lsn}\"]")), "{sequence}");
        assert!(field(block, "ts_ms") != &Value::Null && field(block, "txId") != &Value::Null);
        // A transaction's last record carries its commit's end.
        if !std::ptr::eq(record, delete) {
            assert!(offset_lsn(record).0 > lsn as u64);
        }
    }
    // The delete is followed by its tombstone in the same transaction: the delete still carries the previous
    // transaction's end, the tombstone the delete's.
    assert_eq!(offset_lsn(delete), offset_lsn(update));
    assert!(offset_lsn(&stream[3]) > offset_lsn(delete));
    // Three transactions, three ids, in order.
    let tx_ids: Vec<i64> = stream[..3].iter().filter_map(|r| as_i64(field(source(r), "txId"))).collect();
    assert!(tx_ids.windows(2).all(|w| w[0] < w[1]), "{tx_ids:?}");
    // The second transaction's sequence starts with the first's commit LSN.
    let first_commit = insert.source_offset["lsn_commit"].as_u64().context("lsn_commit")?;
    let sequence = field(source(update), "sequence").as_str().context("sequence")?.to_owned();
    assert!(sequence.starts_with(&format!("[\"{first_commit}\",")), "{sequence} after commit {first_commit}");
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn positions_resume_without_loss_and_confirm_only_what_commit_said() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute(ORDERS).await?;
    client.batch_execute("ALTER SYSTEM SET wal_sender_timeout = '2s'").await?;
    client.batch_execute("SELECT pg_reload_conf()").await?;
    let props = props(&server, &[("snapshot.mode", "no_data"), ("status.update.interval.ms", "200")]);
    let mut task = task(&props, Vec::new()).await?;
    // The task created the slot; wait for it to stream, then write three transactions of two rows each.
    poll_for(&mut task, Duration::from_millis(600)).await?;
    let created = confirmed_flush(&client, "debezium").await?;
    for id in [1, 3, 5] {
        client
            .batch_execute(&format!(
                "BEGIN; INSERT INTO orders VALUES ({id}, 'x'); INSERT INTO orders VALUES ({}, 'y'); COMMIT",
                id + 1
            ))
            .await?;
    }
    let records = poll(&mut task, 6).await?;
    let ids: Vec<Option<i64>> = summary(&records).into_iter().map(|(_, _, id)| id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6].map(Some));
    // A transaction's first record carries the previous transaction's end; its last one its own.
    assert_eq!(offset_lsn(&records[0]), created);
    assert_eq!(offset_lsn(&records[1]), offset_lsn(&records[2]));
    assert!(offset_lsn(&records[1]) < offset_lsn(&records[3]));

    // Nothing committed yet: keepalives come and go (wal_sender_timeout=2s), the slot stays where it was created.
    poll_for(&mut task, Duration::from_secs(3)).await?;
    assert_eq!(confirmed_flush(&client, "debezium").await?, created);
    // Commit the middle of the second transaction: the slot moves to the end of the first, no further.
    commit(&mut task, &records[2]).await?;
    let first_end = offset_lsn(&records[1]);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let confirmed = confirmed_flush(&client, "debezium").await?;
        ensure!(confirmed <= first_end, "confirmed {confirmed} past the committed {first_end}");
        if confirmed == first_end {
            break;
        }
        ensure!(Instant::now() < deadline, "confirmed_flush_lsn stayed at {confirmed}");
        poll_for(&mut task, Duration::from_millis(100)).await?;
    }
    poll_for(&mut task, Duration::from_secs(3)).await?;
    assert_eq!(confirmed_flush(&client, "debezium").await?, first_end, "keepalive answers stay at the durable LSN");
    task.stop().await;

    // A restart from the middle of the second transaction repeats that whole transaction and loses nothing,
    // including what was written while the task was down.
    client.batch_execute("INSERT INTO orders VALUES (7, 'z')").await?;
    let stored = vec![((*records[2].source_partition).clone(), (*records[2].source_offset).clone())];
    let mut task = self::task(&props, stored).await?;
    let again = poll(&mut task, 5).await?;
    let ids: Vec<Option<i64>> = summary(&again).into_iter().map(|(_, _, id)| id).collect();
    assert_eq!(ids, [3, 4, 5, 6, 7].map(Some));
    commit(&mut task, &again[4]).await?;
    task.stop().await;

    // A restart from the last record repeats nothing.
    client.batch_execute("INSERT INTO orders VALUES (8, 'w')").await?;
    let stored = vec![((*again[4].source_partition).clone(), (*again[4].source_offset).clone())];
    let mut task = self::task(&props, stored).await?;
    let last = poll(&mut task, 1).await?;
    let more = poll_for(&mut task, Duration::from_secs(1)).await?;
    let ids: Vec<Option<i64>> = summary(&last).into_iter().chain(summary(&more)).map(|(_, _, id)| id).collect();
    assert_eq!(ids, [Some(8)]);
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn rolled_back_work_emits_nothing() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute(ORDERS).await?;
    let mut task = task(&props(&server, &[("snapshot.mode", "never")]), Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(600)).await?;
    client
        .batch_execute(
            "BEGIN; INSERT INTO orders VALUES (1, 'rolled back'); ROLLBACK;
             BEGIN; INSERT INTO orders VALUES (2, 'kept');
                    SAVEPOINT s; INSERT INTO orders VALUES (3, 'rolled back to s'); ROLLBACK TO SAVEPOINT s;
                    INSERT INTO orders VALUES (4, 'kept'); COMMIT;",
        )
        .await?;
    let records = poll(&mut task, 2).await?;
    let more = poll_for(&mut task, Duration::from_secs(1)).await?;
    let ids: Vec<Option<i64>> = summary(&records).into_iter().chain(summary(&more)).map(|(_, _, id)| id).collect();
    assert_eq!(ids, [Some(2), Some(4)]);
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn large_transactions_are_streamed_and_emitted_only_on_commit() -> Result<()> {
    streamed_transactions(&[]).await
}

/// As above, with every streamed change held in a temporary file rather than in memory.
#[tokio::test]
async fn large_transactions_held_on_disk_are_streamed_and_emitted_only_on_commit() -> Result<()> {
    streamed_transactions(&[("streamed.transaction.spill.bytes", "1")]).await
}

/// Two transactions that pgoutput streams, one committed (with a savepoint rolled back), one rolled back, then a
/// small one; `extra` settings on top of `snapshot.mode=never`.
async fn streamed_transactions(extra: &[(&str, &str)]) -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    // A small decoding memory makes pgoutput stream these transactions in blocks before they end.
    client.batch_execute(ORDERS).await?;
    client.batch_execute("ALTER SYSTEM SET logical_decoding_work_mem = '64kB'").await?;
    client.batch_execute("SELECT pg_reload_conf()").await?;
    let settings: Vec<(&str, &str)> = [("snapshot.mode", "never")].into_iter().chain(extra.iter().copied()).collect();
    let mut task = task(&props(&server, &settings), Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(600)).await?;
    client
        .batch_execute(
            "BEGIN;
             INSERT INTO orders SELECT i, repeat('a', 100) FROM generate_series(1, 3000) i;
             SAVEPOINT s;
             INSERT INTO orders SELECT i, repeat('b', 100) FROM generate_series(3001, 6000) i;
             ROLLBACK TO SAVEPOINT s;
             INSERT INTO orders SELECT i, repeat('c', 100) FROM generate_series(6001, 7000) i;
             COMMIT;
             BEGIN;
             INSERT INTO orders SELECT i, repeat('d', 100) FROM generate_series(10001, 14000) i;
             ROLLBACK;
             INSERT INTO orders VALUES (20000, 'after');",
        )
        .await?;

    let records = poll(&mut task, 4001).await?;
    let more = poll_for(&mut task, Duration::from_secs(1)).await?;
    let ids: Vec<i64> = summary(&records).into_iter().chain(summary(&more)).filter_map(|(_, _, id)| id).collect();
    let expected: Vec<i64> = (1..=3000).chain(6001..=7000).chain([20000]).collect();
    assert_eq!(ids.len(), expected.len());
    assert!(ids == expected, "the committed rows, in order, and nothing of what was rolled back");
    // Only the transaction's last record carries its end: nothing before it is a resume point past its start.
    let ends: Vec<Lsn> = records[..4000].iter().map(offset_lsn).collect();
    assert!(ends[..3999].iter().all(|lsn| *lsn == ends[0]) && ends[3999] > ends[0]);
    // pgoutput did stream them (the statistics arrive a little later).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let streamed: i64 = client
            .query_one("SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = 'debezium'", &[])
            .await?
            .get(0);
        if streamed >= 2 {
            break;
        }
        ensure!(Instant::now() < deadline, "pgoutput streamed {streamed} transactions, not both");
        poll_for(&mut task, Duration::from_millis(200)).await?;
    }
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn replica_identity_full_and_key_changes() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client
        .batch_execute(&format!(
            "{ORDERS}; CREATE TABLE notes (id int4 PRIMARY KEY, body text);
             ALTER TABLE notes REPLICA IDENTITY FULL;
             INSERT INTO orders VALUES (1, 'one', 10); INSERT INTO notes VALUES (1, 'hello');"
        ))
        .await?;
    let mut task = task(&props(&server, &[("snapshot.mode", "never")]), Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(600)).await?;
    client
        .batch_execute(
            "UPDATE notes SET body = 'bye' WHERE id = 1;
             UPDATE notes SET id = 2 WHERE id = 1;
             UPDATE orders SET id = 5 WHERE id = 1;
             DELETE FROM notes WHERE id = 2;",
        )
        .await?;
    let records = poll(&mut task, 9).await?;
    let ops: Vec<(String, Option<i64>)> =
        summary(&records).into_iter().map(|(t, op, id)| (format!("{t} {op}"), id)).collect();
    let expected = [
        ("pg1.public.notes u", Some(1)),
        ("pg1.public.notes d", Some(1)),
        ("pg1.public.notes tombstone", Some(1)),
        ("pg1.public.notes c", Some(2)),
        ("pg1.public.orders d", Some(1)),
        ("pg1.public.orders tombstone", Some(1)),
        ("pg1.public.orders c", Some(5)),
        ("pg1.public.notes d", Some(2)),
        ("pg1.public.notes tombstone", Some(2)),
    ];
    let expected: Vec<(String, Option<i64>)> = expected.iter().map(|(s, id)| (s.to_string(), *id)).collect();
    assert_eq!(ops, expected);
    // REPLICA IDENTITY FULL: the update's before is the old row; the key change's delete carries the whole row.
    assert_eq!(row(field(&records[0].record.value, "before")), Some(vec![Value::Int32(1), Value::from("hello")]));
    assert_eq!(row(field(&records[0].record.value, "after")), Some(vec![Value::Int32(1), Value::from("bye")]));
    assert_eq!(row(field(&records[1].record.value, "before")), Some(vec![Value::Int32(1), Value::from("bye")]));
    assert_eq!(row(field(&records[3].record.value, "after")), Some(vec![Value::Int32(2), Value::from("bye")]));
    // The default identity: the old key only.
    assert_eq!(
        row(field(&records[4].record.value, "before")),
        Some(vec![Value::Int32(1), Value::from(""), Value::Null, Value::Null, Value::Boolean(false)])
    );
    assert_eq!(row(field(&records[7].record.value, "before")), Some(vec![Value::Int32(2), Value::from("bye")]));
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn logical_messages_truncates_keyless_tables_and_filters() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client
        .batch_execute(
            "CREATE TABLE log (line text); CREATE TABLE skipped (id int PRIMARY KEY);
             CREATE TABLE kept (id int PRIMARY KEY);",
        )
        .await?;
    let extra = [("snapshot.mode", "never"), ("skipped.operations", "none"), ("table.exclude.list", "public\\.skip.*")];
    let mut task = task(&props(&server, &extra), Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(600)).await?;
    client
        .batch_execute(
            "BEGIN; INSERT INTO skipped VALUES (1); SELECT pg_logical_emit_message(true, 'outbox', 'in a transaction');
             INSERT INTO log VALUES ('no key'); COMMIT;
             SELECT pg_logical_emit_message(false, 'audit', 'on its own');
             TRUNCATE kept;",
        )
        .await?;
    let records = poll(&mut task, 4).await?;
    let topics: Vec<(String, String)> = summary(&records).into_iter().map(|(t, op, _)| (t, op)).collect();
    let expected = [("pg1.message", "m"), ("pg1.public.log", "c"), ("pg1.message", "m"), ("pg1.public.kept", "t")];
    assert_eq!(topics, expected.map(|(t, op)| (t.to_owned(), op.to_owned())));
    let message = &records[0].record;
    assert_eq!(
        message.value_schema.as_ref().and_then(|s| s.name()),
        Some("io.debezium.connector.postgresql.MessageValue")
    );
    assert_eq!(row(&message.key), Some(vec![Value::from("outbox")]));
    let block = field(&message.value, "message");
    assert_eq!(
        row(block),
        Some(vec![Value::from("outbox"), Value::Bytes(bytes::Bytes::from_static(b"in a transaction"))])
    );
    assert!(field(source(&records[0]), "txId") != &Value::Null);
    assert_eq!(field(source(&records[2]), "txId"), &Value::Null);
    // A table without a primary key: a null key, the event still flows.
    assert_eq!(records[1].record.key, Value::Null);
    assert_eq!(records[1].record.key_schema, None);
    // A truncate event has neither before nor after.
    assert_eq!(
        (field(&records[3].record.value, "before"), field(&records[3].record.value, "after")),
        (&Value::Null, &Value::Null)
    );
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn heartbeats_carry_the_position_past_uncaptured_changes() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute("CREATE TABLE hidden (id int PRIMARY KEY); CREATE TABLE shown (id int PRIMARY KEY)").await?;
    let extra = [("snapshot.mode", "never"), ("table.include.list", "public.shown"), ("heartbeat.interval.ms", "300")];
    let mut task = task(&props(&server, &extra), Vec::new()).await?;
    let first = poll(&mut task, 1).await?;
    assert_eq!(first[0].record.topic, "__debezium-heartbeat.pg1");
    assert_eq!(row(&first[0].record.key), Some(vec![Value::from("pg1")]));
    let before = offset_lsn(&first[0]);
    for id in 0..20 {
        client.batch_execute(&format!("INSERT INTO hidden VALUES ({id})")).await?;
    }
    let end: String = client.query_one("SELECT pg_current_wal_lsn()::text", &[]).await?.get(0);
    let end: Lsn = end.parse()?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let records = task.poll().await?;
        ensure!(records.iter().all(|r| r.record.topic == "__debezium-heartbeat.pg1"), "{:?}", summary(&records));
        if let Some(last) = records.last() {
            if offset_lsn(last) >= end {
                commit(&mut task, last).await?;
                break;
            }
        }
        ensure!(Instant::now() < deadline, "the heartbeats' position stayed before {end} (from {before})");
    }
    let deadline = Instant::now() + PATIENCE;
    while confirmed_flush(&client, "debezium").await? < end {
        ensure!(Instant::now() < deadline, "the slot did not move past the uncaptured changes");
        poll_for(&mut task, Duration::from_millis(100)).await?;
    }
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_heartbeat_action_query_runs_at_each_heartbeat() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute("CREATE TABLE beats (id int PRIMARY KEY, n int NOT NULL)").await?;
    let extra = [
        ("snapshot.mode", "never"),
        ("heartbeat.interval.ms", "200"),
        ("heartbeat.action.query", "INSERT INTO beats VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = beats.n + 1"),
    ];
    let mut task = task(&props(&server, &extra), Vec::new()).await?;
    let records = poll_for(&mut task, Duration::from_secs(2)).await?;
    let beats = records.iter().filter(|r| r.record.topic == "pg1.public.beats").count();
    assert!(beats >= 2, "the action's own changes stream: {:?}", summary(&records));
    let n: i32 = client.query_one("SELECT n FROM beats WHERE id = 1", &[]).await?.get(0);
    assert!(n >= 2, "the action ran at each heartbeat: n = {n}");
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_restart_after_an_unfinished_snapshot_takes_it_again() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute(&format!("{ORDERS}; INSERT INTO orders SELECT i, 'r' FROM generate_series(1, 3) i")).await?;
    let props = props(&server, &[]);
    let mut first = task(&props, Vec::new()).await?;
    let snapshot = poll(&mut first, 3).await?;
    first.stop().await;
    // Only the first snapshot record was durable; meanwhile a row changed.
    client.batch_execute("UPDATE orders SET name = 'changed' WHERE id = 3").await?;
    let stored = vec![((*snapshot[0].source_partition).clone(), (*snapshot[0].source_offset).clone())];
    let mut second = task(&props, stored).await?;
    let records = poll(&mut second, 4).await?;
    let ops: Vec<String> = summary(&records).into_iter().map(|(_, op, _)| op).collect();
    // The snapshot again (it sees the change), then the change streamed from the slot (at least once).
    assert_eq!(ops, ["r", "r", "r", "u"]);
    assert_eq!(field(field(&records[2].record.value, "after"), "name"), &Value::from("changed"));
    second.stop().await;
    Ok(())
}

#[tokio::test]
async fn slot_drop_on_stop_and_a_missing_slot() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute(ORDERS).await?;
    let dropping = props(&server, &[("snapshot.mode", "no_data"), ("slot.drop.on.stop", "true")]);
    let mut task = task(&dropping, Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(600)).await?;
    client.batch_execute("INSERT INTO orders VALUES (1, 'one')").await?;
    let records = poll(&mut task, 1).await?;
    task.stop().await;
    let slots: i64 = client.query_one("SELECT count(*) FROM pg_replication_slots", &[]).await?.get(0);
    assert_eq!(slots, 0);
    // With a stored position and no slot, the task fails and says what to do.
    let stored = vec![((*records[0].source_partition).clone(), (*records[0].source_offset).clone())];
    let mut task = self::task(&props(&server, &[]), stored.clone()).await?;
    let error = task.poll().await.err().context("a missing slot was accepted")?;
    assert!(error.to_string().contains("\"debezium\" does not exist"), "{error}");
    assert!(error.to_string().contains("when_needed"), "{error}");
    // when_needed takes a new snapshot instead.
    let mut task = self::task(&props(&server, &[("snapshot.mode", "when_needed")]), stored).await?;
    let records = poll(&mut task, 1).await?;
    assert_eq!(summary(&records)[0].1, "r");
    task.stop().await;
    Ok(())
}

/// Restarts the server `client` is connected to with `setting` (a postmaster-level one such as `wal_level`) changed.
async fn restart_with(client: &Client, setting: &str) -> Result<()> {
    client.batch_execute(&format!("ALTER SYSTEM SET {setting}")).await?;
    let data: String = client.query_one("SHOW data_directory", &[]).await?.get(0);
    let bin = std::fs::read_dir("/usr/lib/postgresql")?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin/pg_ctl")))
        .filter(|path| path.exists())
        .max()
        .context("no pg_ctl")?;
    let log = PathBuf::from(&data).with_file_name("restart.log");
    let as_root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)?;
    let mut command = if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(bin);
        command
    } else {
        Command::new(bin)
    };
    command.args(["restart", "-w", "-m", "fast", "-D", &data, "-l"]).arg(&log);
    let output = tokio::task::spawn_blocking(move || command.output()).await??;
    if !output.status.success() {
        bail!("pg_ctl restart failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

#[tokio::test]
async fn validation_names_the_setting_to_fix_in_the_servers_words() -> Result<()> {
    let server = start_server().await?;
    let connector = PostgresConnector;

    let errors = connector.validate(&props(&server, &[])).await;
    assert!(errors.is_empty(), "{errors:?}");

    let errors = connector.validate(&props(&server, &[("database.password", "wrong")])).await;
    let fields: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(fields, ["database.password", "database.user"]);
    assert!(errors[0].message.contains("password authentication failed for user \"postgres\""), "{errors:?}");
    assert!(!errors[0].message.contains("wrong"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port().to_string();
    let errors = connector.validate(&props(&server, &[("database.port", &closed)])).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].name, "database.hostname");
    assert!(errors[0].message.contains("Connection refused"), "{}", errors[0].message);

    let errors = connector.validate(&props(&server, &[("database.dbname", "missing")])).await;
    assert_eq!(errors.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["database.dbname"]);
    assert!(errors[0].message.contains("database \"missing\" does not exist"), "{errors:?}");

    let client = sql(&server).await?;
    client.batch_execute("CREATE ROLE plain LOGIN PASSWORD 'plain'").await?;
    let errors =
        connector.validate(&props(&server, &[("database.user", "plain"), ("database.password", "plain")])).await;
    assert_eq!(errors.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["database.user"]);
    assert!(errors[0].message.contains("ALTER ROLE plain REPLICATION"), "{errors:?}");

    let errors = connector.validate(&props(&server, &[("table.include.list", "a"), ("table.exclude.list", "b")])).await;
    assert_eq!(errors.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["table.exclude.list"]);

    restart_with(&client, "wal_level = replica").await?;
    let errors = connector.validate(&props(&server, &[])).await;
    assert_eq!(errors.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["plugin.name"]);
    assert!(errors[0].message.contains("wal_level=replica") && errors[0].message.contains("wal_level=logical"));
    Ok(())
}

#[tokio::test]
async fn snapshot_and_stream_give_the_same_values_for_many_types() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    let values = "1::int2, 2, 3::int8, 12.34, 5.600, 1.5::float8, 'text', 'varchar', true, '2024-02-29', \
                  '2024-02-29 12:34:56.789', '2024-02-29 12:34:56.789+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', \
                  '{\"a\": [1, 2]}', '\\x00ff', ARRAY['x', NULL, 'z'], ARRAY[1, 2], '1 day 02:00:00', \
                  '192.168.0.1/24', 'sad'";
    client
        .batch_execute(&format!(
            "CREATE TYPE mood AS ENUM ('sad', 'happy');
             CREATE TABLE many (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, n numeric(10,2), nv numeric, f8 float8,
                 t text, vc varchar(10), b bool, d date, ts timestamp(3), tz timestamptz, u uuid, j jsonb,
                 by bytea, ta text[], ia int4[], iv interval, ip inet, m mood);
             INSERT INTO many VALUES (1, {values});"
        ))
        .await?;
    let mut task = task(&props(&server, &[]), Vec::new()).await?;
    let snapshot = poll(&mut task, 1).await?;
    client.batch_execute(&format!("INSERT INTO many VALUES (2, {values})")).await?;
    let streamed = poll(&mut task, 1).await?;
    let read = row(field(&snapshot[0].record.value, "after")).context("snapshot row")?;
    let created = row(field(&streamed[0].record.value, "after")).context("streamed row")?;
    assert_eq!(snapshot[0].record.value_schema, streamed[0].record.value_schema, "one schema for both");
    assert_eq!(read[0], Value::Int32(1));
    assert_eq!(created[0], Value::Int32(2));
    let names: Vec<String> = snapshot[0]
        .record
        .value_schema
        .as_ref()
        .and_then(|s| s.field("after"))
        .map(|f| f.schema().fields().iter().map(|f| f.name().to_owned()).collect())
        .unwrap_or_default();
    for (index, (binary, text)) in read.iter().zip(&created).enumerate().skip(1) {
        assert_eq!(binary, text, "column {} from COPY (binary) and from pgoutput (text)", names[index]);
    }
    assert_eq!(read[7], Value::from("text"));
    assert_eq!(read[11], Value::Int64(1_709_210_096_789));
    assert_eq!(read[12], Value::from("2024-02-29T10:34:56.789000Z"));
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn unchanged_toast_values_are_the_placeholder_or_the_old_value() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client
        .batch_execute(
            "CREATE TABLE docs (id int PRIMARY KEY, body text, n int);
             ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
             CREATE TABLE full_docs (id int PRIMARY KEY, body text, n int);
             ALTER TABLE full_docs ALTER COLUMN body SET STORAGE EXTERNAL;
             ALTER TABLE full_docs REPLICA IDENTITY FULL;
             INSERT INTO docs VALUES (1, repeat('x', 10000), 0);
             INSERT INTO full_docs VALUES (1, repeat('y', 10000), 0);",
        )
        .await?;
    let mut task = task(&props(&server, &[("snapshot.mode", "never")]), Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(600)).await?;
    client.batch_execute("UPDATE docs SET n = 1; UPDATE full_docs SET n = 1").await?;
    let records = poll(&mut task, 2).await?;
    let body = |record: &SourceRecord| field(field(&record.record.value, "after"), "body").clone();
    assert_eq!(body(&records[0]), Value::from("__debezium_unavailable_value"));
    assert_eq!(body(&records[1]), Value::from("y".repeat(10000)));
    assert_eq!(field(field(&records[1].record.value, "before"), "n"), &Value::Int32(0));
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn initial_only_reads_the_tables_and_stops_there() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute(&format!("{ORDERS}; INSERT INTO orders VALUES (1, 'one'), (2, 'two')")).await?;
    let props = props(&server, &[("snapshot.mode", "initial_only")]);
    let mut task = task(&props, Vec::new()).await?;
    let records = poll(&mut task, 2).await?;
    client.batch_execute("INSERT INTO orders VALUES (3, 'three')").await?;
    assert!(poll_for(&mut task, Duration::from_secs(1)).await?.is_empty(), "no streaming");
    task.stop().await;
    let slots: i64 = client.query_one("SELECT count(*) FROM pg_replication_slots", &[]).await?.get(0);
    assert_eq!(slots, 0, "no slot is kept for a snapshot alone");
    // Once the snapshot is stored, a restart has nothing to do.
    let stored = vec![((*records[1].source_partition).clone(), (*records[1].source_offset).clone())];
    let mut task = self::task(&props, stored).await?;
    assert!(poll_for(&mut task, Duration::from_secs(1)).await?.is_empty());
    task.stop().await;
    Ok(())
}

/// The task under the connect runtime over an in-process broker: records reach the log, positions reach
/// `connect-offsets`, and the slot is confirmed only as far as what was stored.
#[tokio::test]
async fn under_the_runtime_positions_are_stored_then_confirmed() -> Result<()> {
    use std::sync::Arc;

    use tidemark_broker::{Broker, BrokerConfig};
    use tidemark_connect::metrics::ConnectMetrics;
    use tidemark_connect::runtime::{run_source_task, Pipeline, SourceTaskContext};
    use tidemark_connect::state::{StateTopics, WorkerState};
    use tidemark_log_client::{InProcessLog, LogClient};

    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute(&format!("{ORDERS}; INSERT INTO orders VALUES (1, 'one'), (2, 'two')")).await?;
    let dir = tempfile::tempdir()?;
    let broker = Broker::open(BrokerConfig::new(dir.path().join("broker"), "127.0.0.1".into(), 9092)).await?;
    let log: Arc<dyn LogClient> = Arc::new(InProcessLog::new(broker));
    let topics = StateTopics { offsets_partitions: 1, status_partitions: 1, ..StateTopics::default() };
    let state = Arc::new(WorkerState::open(Arc::clone(&log), &topics).await?);
    let converters: BTreeMap<String, String> = [
        ("key.converter", "json"),
        ("key.converter.schemas.enable", "false"),
        ("value.converter", "json"),
        ("value.converter.schemas.enable", "false"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let metrics = Arc::new(ConnectMetrics::default()).task("pg", 0);
    let context = SourceTaskContext {
        connector: "pg".into(),
        task: 0,
        log: Arc::clone(&log),
        state: Arc::clone(&state),
        pipeline: Pipeline::from_props(&converters, ("pg", 0), Arc::clone(&log), metrics)?,
        offset_flush_interval: Duration::from_millis(100),
    };
    let connector = PostgresConnector;
    let source = connector.create_task(&props(&server, &[]))?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(run_source_task(source, context, stopped));

    let stored_lsn = || -> Option<(bool, u64)> {
        let offsets = state.offsets().of("pg");
        let (_, offset) = offsets.first()?;
        Some((offset.get("snapshot").is_some(), offset["lsn"].as_u64()?))
    };
    // The snapshot is stored first; then a change, which is stored as a streaming position.
    let deadline = Instant::now() + PATIENCE;
    while stored_lsn().is_none() {
        ensure!(Instant::now() < deadline, "no snapshot position stored");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client.batch_execute("INSERT INTO orders VALUES (3, 'three')").await?;
    let stored = loop {
        if let Some((false, lsn)) = stored_lsn() {
            break Lsn(lsn);
        }
        ensure!(Instant::now() < deadline, "no streaming position stored: {:?}", stored_lsn());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    loop {
        let confirmed = confirmed_flush(&client, "debezium").await?;
        ensure!(confirmed <= stored, "confirmed {confirmed} past the stored {stored}");
        if confirmed == stored {
            break;
        }
        ensure!(Instant::now() < deadline, "the slot stayed at {confirmed}, the stored position is {stored}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true)?;
    running.await?.map_err(|e| anyhow::anyhow!("the task failed: {e}"))?;

    let mut reader = log.reader("pg1.public.orders", 0, 0)?;
    let mut values = Vec::new();
    while values.len() < 3 {
        for record in reader.next_records(Duration::from_secs(1)).await? {
            let value: Json = serde_json::from_slice(record.value.as_deref().context("value")?)?;
            values.push((value["op"].clone(), value["after"]["id"].clone()));
        }
        ensure!(Instant::now() < deadline, "{values:?}");
    }
    assert_eq!(values, [(json!("r"), json!(1)), (json!("r"), json!(2)), (json!("c"), json!(3))]);
    Ok(())
}

/// The names of a struct schema's fields.
fn field_names(schema: Option<&tidemark_connect::data::SchemaRef>) -> Vec<String> {
    schema.map(|s| s.fields().iter().map(|f| f.name().to_owned()).collect()).unwrap_or_default()
}

/// The schema of `after` in a change event.
fn after_schema(record: &SourceRecord) -> Option<tidemark_connect::data::SchemaRef> {
    record.record.value_schema.as_ref().and_then(|s| s.field("after")).map(|f| f.schema().clone())
}

#[tokio::test]
async fn column_lists_and_message_key_columns_in_the_snapshot_and_the_stream() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client
        .batch_execute(
            "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, card text);
             CREATE TABLE events (at int8 NOT NULL, tenant text NOT NULL, body text);
             ALTER TABLE events REPLICA IDENTITY FULL;
             INSERT INTO customers VALUES (1, 'ann', 'ann@example.com', '4111');
             INSERT INTO events VALUES (1, 't1', 'hello');",
        )
        .await?;
    let extra =
        [("column.exclude.list", "public\\.customers\\.(id|card)"), ("message.key.columns", "public.events:tenant,at")];
    let mut task = task(&props(&server, &extra), Vec::new()).await?;
    let snapshot = poll(&mut task, 2).await?;
    let (customer, event) = (&snapshot[0], &snapshot[1]);
    // The excluded columns are not in the row; the primary key column stays in the key.
    assert_eq!(field_names(after_schema(customer).as_ref()), ["name", "email"]);
    assert_eq!(row(field(&customer.record.value, "after")), Some(vec!["ann".into(), "ann@example.com".into()]));
    assert_eq!(row(&customer.record.key), Some(vec![Value::Int32(1)]));
    // A table without a primary key is keyed by message.key.columns, in the order they are listed.
    assert_eq!(field_names(event.record.key_schema.as_ref()), ["tenant", "at"]);
    assert_eq!(event.record.key_schema.as_ref().and_then(|s| s.name()), Some("pg1.public.events.Key"));
    assert_eq!(row(&event.record.key), Some(vec!["t1".into(), Value::Int64(1)]));
    assert_eq!(field_names(after_schema(event).as_ref()), ["at", "tenant", "body"]);

    client
        .batch_execute(
            "INSERT INTO customers VALUES (2, 'bob', NULL, '5500');
             UPDATE events SET body = 'bye';
             DELETE FROM customers WHERE id = 1;",
        )
        .await?;
    let stream = poll(&mut task, 4).await?;
    let ops: Vec<(String, String)> = summary(&stream).into_iter().map(|(t, op, _)| (t, op)).collect();
    let expected = [
        ("pg1.public.customers", "c"),
        ("pg1.public.events", "u"),
        ("pg1.public.customers", "d"),
        ("pg1.public.customers", "tombstone"),
    ];
    assert_eq!(ops, expected.map(|(t, op)| (t.to_owned(), op.to_owned())));
    // The stream's schemas are the snapshot's.
    assert_eq!(stream[0].record.value_schema, customer.record.value_schema);
    assert_eq!(stream[1].record.value_schema, event.record.value_schema);
    assert_eq!(row(field(&stream[0].record.value, "after")), Some(vec!["bob".into(), Value::Null]));
    assert_eq!(row(&stream[0].record.key), Some(vec![Value::Int32(2)]));
    assert_eq!(row(&stream[1].record.key), Some(vec!["t1".into(), Value::Int64(1)]));
    assert_eq!(row(field(&stream[1].record.value, "before")), Some(vec![Value::Int64(1), "t1".into(), "hello".into()]));
    // A delete's old key (the default replica identity): the key, and the row without the excluded columns.
    assert_eq!(row(&stream[2].record.key), Some(vec![Value::Int32(1)]));
    assert_eq!(row(field(&stream[2].record.value, "before")), Some(vec!["".into(), Value::Null]));
    assert_eq!(stream[3].record.key, stream[2].record.key);
    task.stop().await;
    Ok(())
}

/// A field of a struct value as text.
fn text<'a>(value: &'a Value, name: &str) -> &'a str {
    field(value, name).as_str().unwrap_or_default()
}

/// The `(data_collection, event_count)` pairs of an END record.
fn data_collections(value: &Value) -> Vec<(String, i64)> {
    let Value::Array(collections) = field(value, "data_collections") else { return Vec::new() };
    collections
        .iter()
        .map(|c| (text(c, "data_collection").to_owned(), as_i64(field(c, "event_count")).unwrap_or(-1)))
        .collect()
}

#[tokio::test]
async fn transaction_metadata_counts_a_transaction_touching_three_tables() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client
        .batch_execute(
            "CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY, v text);
             CREATE TABLE c (id int PRIMARY KEY, v text); CREATE TABLE hidden (id int PRIMARY KEY);
             INSERT INTO a VALUES (0, 'before');",
        )
        .await?;
    let extra = [("provide.transaction.metadata", "true"), ("table.exclude.list", "public\\.hidden")];
    let props = props(&server, &extra);
    let mut task = task(&props, Vec::new()).await?;
    let snapshot = poll(&mut task, 1).await?;
    assert_eq!(field(&snapshot[0].record.value, "transaction"), &Value::Null, "snapshot records have no block");

    client
        .batch_execute(
            "BEGIN;
             INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (1, 'x'); INSERT INTO c VALUES (1, 'x');
             UPDATE a SET v = 'y' WHERE id = 1; DELETE FROM c WHERE id = 1;
             SELECT pg_logical_emit_message(true, 'audit', 'in the transaction');
             COMMIT;
             INSERT INTO hidden VALUES (1);",
        )
        .await?;
    let records = poll(&mut task, 11).await?;
    let topics: Vec<String> =
        summary(&records).into_iter().map(|(t, op, _)| if op == "?" { t } else { format!("{t} {op}") }).collect();
    assert_eq!(
        topics,
        [
            "pg1.transaction",
            "pg1.public.a c",
            "pg1.public.b c",
            "pg1.public.c c",
            "pg1.public.a u",
            "pg1.public.c d",
            "pg1.public.c tombstone",
            "pg1.message m",
            "pg1.transaction",
            // A transaction whose changes are all filtered out still has its BEGIN and END.
            "pg1.transaction",
            "pg1.transaction",
        ]
    );
    let (begin, end) = (&records[0].record, &records[8].record);
    let events: Vec<&SourceRecord> = records[1..8].iter().filter(|r| !r.record.value.is_null()).collect();
    let tx_id = as_i64(field(source(events[0]), "txId")).context("txId")?;
    let commit_ms = as_i64(field(source(events[0]), "ts_ms")).context("ts_ms")?;

    // BEGIN: the transaction's id `<txId>:<lsn>`, no counts yet, the commit time.
    let begin_value = &begin.value;
    assert_eq!(
        begin.value_schema.as_ref().and_then(|s| s.name()),
        Some("io.debezium.connector.common.TransactionMetadataValue")
    );
    assert_eq!(
        begin.key_schema.as_ref().and_then(|s| s.name()),
        Some("io.debezium.connector.common.TransactionMetadataKey")
    );
    assert_eq!(text(begin_value, "status"), "BEGIN");
    let begin_id = text(begin_value, "id");
    let (begin_tx, begin_lsn) = begin_id.split_once(':').context("<txId>:<lsn>")?;
    assert_eq!(begin_tx, tx_id.to_string());
    // PostgreSQL 15 sends the Begin with the first change, at its LSN.
    assert_eq!(begin_lsn, as_i64(field(source(events[0]), "lsn")).context("lsn")?.to_string());
    assert_eq!(row(&begin.key), Some(vec![Value::from(begin_id)]));
    assert_eq!(
        (field(begin_value, "event_count"), field(begin_value, "data_collections")),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(field(begin_value, "ts_ms"), &Value::Int64(commit_ms));

    // Each event: its place in the transaction and in its table, and the id with its own LSN.
    let blocks: Vec<(String, i64, i64)> = events
        .iter()
        .map(|r| {
            let block = field(&r.record.value, "transaction");
            (
                text(block, "id").to_owned(),
                as_i64(field(block, "total_order")).unwrap_or(0),
                as_i64(field(block, "data_collection_order")).unwrap_or(0),
            )
        })
        .collect();
    let orders: Vec<(i64, i64)> = blocks.iter().map(|(_, total, order)| (*total, *order)).collect();
    assert_eq!(orders, [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 1)]);
    for (record, (id, _, _)) in events.iter().zip(&blocks) {
        let lsn = as_i64(field(source(record), "lsn")).context("lsn")?;
        assert_eq!(*id, format!("{tx_id}:{lsn}"));
    }

    // END: the counts per table, in the order first seen, with the transactional message's.
    assert_eq!(text(&end.value, "status"), "END");
    assert_eq!(text(&end.value, "id"), format!("{tx_id}:{}", offset_lsn(&records[8]).0), "the commit's end");
    assert_eq!(row(&end.key), Some(vec![field(&end.value, "id").clone()]));
    assert_eq!(field(&end.value, "event_count"), &Value::Int64(6));
    let expected = [("public.a", 2), ("public.b", 1), ("public.c", 2), ("LOGICAL_DECODING_MESSAGE", 1)];
    assert_eq!(data_collections(&end.value), expected.map(|(name, count)| (name.to_owned(), count)));
    assert_eq!(field(&end.value, "ts_ms"), &Value::Int64(commit_ms));
    // The filtered-out transaction: BEGIN and END with no events.
    assert_eq!(field(&records[10].record.value, "event_count"), &Value::Int64(0));
    assert_eq!(data_collections(&records[10].record.value), []);

    // The END is the transaction's last record: only it carries the transaction's end as the resume point.
    let ends: Vec<Lsn> = records[..9].iter().map(offset_lsn).collect();
    assert!(ends[..8].iter().all(|lsn| *lsn == ends[0]) && ends[8] > ends[0], "{ends:?}");
    task.stop().await;

    // A restart from the middle of the transaction repeats it whole, BEGIN to END, with the same metadata.
    let stored = vec![((*records[4].source_partition).clone(), (*records[4].source_offset).clone())];
    let mut again = self::task(&props, stored).await?;
    let repeated = poll(&mut again, 11).await?;
    let values = |records: &[SourceRecord]| records.iter().map(|r| r.record.value.clone()).collect::<Vec<_>>();
    let strip = |values: Vec<Value>| -> Vec<Value> {
        // The events' processing times (ts_ms, ts_us, ts_ns of the envelope) differ; the rest must not.
        values.into_iter().map(|v| field(&v, "transaction").clone()).collect()
    };
    assert_eq!(values(&repeated[..1]), values(&records[..1]));
    assert_eq!(strip(values(&repeated[..9])), strip(values(&records[..9])));
    assert_eq!(values(&repeated[8..11]), values(&records[8..11]));
    again.stop().await;
    Ok(())
}

/// Strings holding a JSON object or array, read as that JSON (`jsonb` normalises the text of a payload: its key
/// order and spacing).
fn parsed_json(value: Json) -> Json {
    match value {
        Json::String(text) => match serde_json::from_str::<Json>(&text) {
            Ok(parsed @ (Json::Object(_) | Json::Array(_))) => parsed_json(parsed),
            _ => Json::String(text),
        },
        Json::Array(items) => Json::Array(items.into_iter().map(parsed_json).collect()),
        Json::Object(members) => Json::Object(members.into_iter().map(|(k, v)| (k, parsed_json(v))).collect()),
        other => other,
    }
}

/// Topic, key bytes, headers' keys and bytes, and the value as a JSON document.
type Consumed = (String, Vec<u8>, Vec<(String, Vec<u8>)>, Json);

/// What a consumer of JSON sees of a record: topic, key and headers as bytes, and the value as a JSON document
/// (see [`parsed_json`]).
fn as_consumed(record: &tidemark_connect::record::ConnectRecord) -> Result<Consumed> {
    use tidemark_connect::converters::{create_converter, header_bytes};
    let settings = [("converter.type", "value"), ("schemas.enable", "false")];
    let json = create_converter("json", &settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())?;
    let key = json.to_bytes(&record.topic, record.key_schema.as_ref(), &record.key)?.unwrap_or_default();
    let value = json.to_bytes(&record.topic, record.value_schema.as_ref(), &record.value)?.unwrap_or_default();
    let value = parsed_json(serde_json::from_slice(&value)?);
    let mut headers = Vec::new();
    for header in &record.headers {
        let bytes = header_bytes(&header.value).map_err(anyhow::Error::msg)?.unwrap_or_default();
        headers.push((header.key.clone(), bytes.to_vec()));
    }
    Ok((record.topic.clone(), key.to_vec(), headers, value))
}

#[tokio::test]
async fn the_outbox_routes_a_table_row_and_a_logical_message_alike() -> Result<()> {
    use tidemark_connect::transforms::TransformChain;

    let server = start_server().await?;
    let client = sql(&server).await?;
    // Debezium's outbox table.
    client
        .batch_execute(
            "CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL,
                 aggregateid varchar(255) NOT NULL, type varchar(255) NOT NULL, payload jsonb)",
        )
        .await?;
    let extra = [("snapshot.mode", "never"), ("table.include.list", "public\\.outbox")];
    let mut task = task(&props(&server, &extra), Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(600)).await?;
    let payload = r#"{"customer": "ann", "total": 10.5, "lines": [{"sku": "a-1", "qty": 2}]}"#;
    let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let message = format!(
        r#"{{"id": "{id}", "aggregatetype": "order", "aggregateid": "7", "type": "OrderCreated", "payload": {payload}}}"#
    );
    // Both ways inside the business transaction; and a message of another prefix.
    client
        .batch_execute(&format!(
            "BEGIN;
             INSERT INTO outbox VALUES ('{id}', 'order', '7', 'OrderCreated', '{payload}');
             SELECT pg_logical_emit_message(true, 'outbox', '{message}');
             SELECT pg_logical_emit_message(true, 'audit', 'left alone');
             COMMIT;"
        ))
        .await?;
    let records = poll(&mut task, 3).await?;
    task.stop().await;
    let topics: Vec<&str> = records.iter().map(|r| r.record.topic.as_str()).collect();
    assert_eq!(topics, ["pg1.public.outbox", "pg1.message", "pg1.message"]);

    for settings in [
        vec![],
        vec![("table.expand.json.payload", "true")],
        vec![("table.fields.additional.placement", "type:header:eventType,aggregatetype:envelope")],
    ] {
        let mut config: BTreeMap<String, String> =
            [("transforms", "outbox"), ("transforms.outbox.type", "io.debezium.transforms.outbox.EventRouter")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        config.extend(settings.iter().map(|(k, v)| (format!("transforms.outbox.{k}"), v.to_string())));
        let chain = TransformChain::from_config(&config).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let mut routed = Vec::new();
        for record in &records {
            routed.push(chain.apply(record.record.clone())?.context("dropped")?);
        }
        let (from_row, from_message) = (as_consumed(&routed[0])?, as_consumed(&routed[1])?);
        assert_eq!(from_message, from_row, "{settings:?}");
        assert_eq!(from_row.0, "outbox.event.order");
        assert_eq!(from_row.1, b"\"7\"");
        assert_eq!(from_row.2[0], ("id".to_owned(), id.as_bytes().to_vec()));
        let expected: Json = serde_json::from_str(payload)?;
        match settings.first() {
            Some(("table.fields.additional.placement", _)) => {
                assert_eq!(from_row.3, json!({"payload": expected, "aggregatetype": "order"}));
                assert_eq!(from_row.2[1], ("eventType".to_owned(), b"OrderCreated".to_vec()));
            }
            _ => assert_eq!(from_row.3, expected),
        }
        // The key's schema is the same (a required string), so an Avro key subject gets one schema.
        let key_type = |r: &tidemark_connect::record::ConnectRecord| {
            r.key_schema.as_ref().map(|s| (s.schema_type(), s.is_optional()))
        };
        assert_eq!(key_type(&routed[1]), key_type(&routed[0]));
        // Other prefixes pass unchanged.
        assert_eq!(routed[2], records[2].record);
    }
    Ok(())
}

#[tokio::test]
async fn a_streamed_transaction_gets_its_metadata_when_it_commits() -> Result<()> {
    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute(ORDERS).await?;
    client.batch_execute("ALTER SYSTEM SET logical_decoding_work_mem = '64kB'").await?;
    client.batch_execute("SELECT pg_reload_conf()").await?;
    let extra = [("snapshot.mode", "never"), ("provide.transaction.metadata", "true")];
    let mut task = task(&props(&server, &extra), Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(600)).await?;
    client
        .batch_execute(
            "BEGIN;
             INSERT INTO orders SELECT i, repeat('a', 100) FROM generate_series(1, 3000) i;
             SAVEPOINT s; INSERT INTO orders SELECT i, 'b' FROM generate_series(3001, 4000) i; ROLLBACK TO SAVEPOINT s;
             COMMIT;",
        )
        .await?;
    let records = poll(&mut task, 3002).await?;
    let (begin, events, end) = (&records[0], &records[1..3001], &records[3001]);
    assert_eq!((begin.record.topic.as_str(), end.record.topic.as_str()), ("pg1.transaction", "pg1.transaction"));
    // The BEGIN stands where the first change is, as pgoutput's Begin does; the rolled-back subtransaction is not
    // counted.
    let first_lsn = as_i64(field(source(&events[0]), "lsn")).context("lsn")?;
    let tx_id = as_i64(field(source(&events[0]), "txId")).context("txId")?;
    assert_eq!(text(&begin.record.value, "id"), format!("{tx_id}:{first_lsn}"));
    let last = field(&events[2999].record.value, "transaction");
    assert_eq!(
        (as_i64(field(last, "total_order")), as_i64(field(last, "data_collection_order"))),
        (Some(3000), Some(3000))
    );
    assert_eq!(field(&end.record.value, "event_count"), &Value::Int64(3000));
    assert_eq!(data_collections(&end.record.value), [("public.orders".to_owned(), 3000)]);
    task.stop().await;
    Ok(())
}

/// The table-free outbox as docs/outbox.md sets it up: a publication of no table, no snapshot; only the
/// transactional messages of committed transactions (and not of their rolled-back savepoints) come out, routed.
#[tokio::test]
async fn a_table_free_outbox_needs_no_table_and_keeps_rolled_back_messages_out() -> Result<()> {
    use tidemark_connect::transforms::TransformChain;

    let server = start_server().await?;
    let client = sql(&server).await?;
    client.batch_execute(&format!("{ORDERS}; CREATE PUBLICATION outbox_only")).await?;
    let extra = [
        ("publication.name", "outbox_only"),
        ("publication.autocreate.mode", "disabled"),
        ("snapshot.mode", "no_data"),
        ("transforms", "outbox"),
        ("transforms.outbox.type", "io.debezium.transforms.outbox.EventRouter"),
    ];
    let props = props(&server, &extra);
    let chain = TransformChain::from_config(&props).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut task = task(&props, Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(600)).await?;
    let emit = |id: u32| {
        format!(
            "INSERT INTO orders VALUES ({id}, 'order {id}');
             SELECT pg_logical_emit_message(true, 'outbox', '{{\"id\": \"e{id}\", \"aggregatetype\": \"order\",
                 \"aggregateid\": \"{id}\", \"type\": \"OrderCreated\", \"payload\": {{\"order\": {id}}}}}');"
        )
    };
    let savepoint = format!("SAVEPOINT s; {} ROLLBACK TO SAVEPOINT s;", emit(3));
    client.batch_execute(&format!("BEGIN; {} ROLLBACK; BEGIN; {} {savepoint} COMMIT;", emit(1), emit(2))).await?;
    let records = poll(&mut task, 1).await?;
    let more = poll_for(&mut task, Duration::from_secs(1)).await?;
    task.stop().await;
    assert!(more.is_empty(), "{:?}", summary(&more));
    assert_eq!(records.len(), 1, "only the committed transaction's message: {:?}", summary(&records));
    let routed = chain.apply(records[0].record.clone())?.context("dropped")?;
    assert_eq!((routed.topic.as_str(), &routed.key), ("outbox.event.order", &Value::from("2")));
    assert_eq!(routed.value, Value::from("{\"order\": 2}"));
    assert_eq!(routed.headers.first().map(|h| &h.value), Some(&Value::from("e2")));
    Ok(())
}

/// A table of five ranges of pages, between two small ones, read by two connections sharing the snapshot while it
/// is being updated (the ranges still to read then start after the update): every row comes once and as of the
/// snapshot (the update shows only in the stream), the tables in order with their markers, as one connection would
/// give them.
#[tokio::test]
async fn a_large_table_is_read_in_ranges_on_several_connections_as_of_the_snapshot() -> Result<()> {
    const ROWS: i64 = 150_000;
    let server = start_server().await?;
    let client = sql(&server).await?;
    client
        .batch_execute(&format!(
            "CREATE TABLE a_first (id int4 PRIMARY KEY);
             CREATE TABLE big (id int8 PRIMARY KEY, note text NOT NULL);
             CREATE TABLE z_last (id int4 PRIMARY KEY);
             INSERT INTO a_first VALUES (1);
             INSERT INTO big SELECT g, repeat('x', 400) FROM generate_series(1, {ROWS}) g;
             INSERT INTO z_last VALUES (1);"
        ))
        .await?;
    let pages: i64 = client.query_one("SELECT pg_relation_size('big') / 8192", &[]).await?.get(0);
    ensure!(pages > 4 * 2048, "big has {pages} pages, too few for five ranges");
    let mut task = task(&props(&server, &[("snapshot.max.threads", "2")]), Vec::new()).await?;

    let mut records = poll(&mut task, 1).await?;
    let deadline = Instant::now() + PATIENCE;
    let readers = loop {
        let readers: Vec<String> = client
            .query(
                "SELECT query FROM pg_stat_activity WHERE application_name = 'tidemark-pg1' AND query LIKE 'COPY%'",
                &[],
            )
            .await?
            .into_iter()
            .map(|row| row.get(0))
            .collect();
        if readers.len() == 2 || Instant::now() > deadline {
            break readers;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    ensure!(readers.len() == 2, "two connections read the snapshot: {readers:#?}");
    ensure!(readers.iter().any(|q| q.contains("ctid")), "big is read in ranges: {readers:#?}");
    // Rows move to new pages past the ranges' ends; the snapshot must not see them.
    client.batch_execute("UPDATE big SET note = 'changed'").await?;

    records.extend(poll(&mut task, ROWS as usize + 3 - records.len()).await?);
    let (snapshot, stream) = records.split_at(ROWS as usize + 2);
    let topics: Vec<&str> = snapshot.iter().map(|r| r.record.topic.as_str()).collect();
    ensure!(topics[0] == "pg1.public.a_first" && topics[ROWS as usize + 1] == "pg1.public.z_last", "table order");
    let marker = |r: &SourceRecord| field(source(r), "snapshot").as_str().unwrap_or("").to_owned();
    let markers: Vec<String> =
        [0, 1, 2, ROWS as usize, ROWS as usize + 1].iter().map(|&i| marker(&snapshot[i])).collect();
    assert_eq!(markers, ["first", "first_in_data_collection", "true", "last_in_data_collection", "last"]);
    let mut ids = Vec::with_capacity(ROWS as usize);
    for record in &snapshot[1..=ROWS as usize] {
        ensure!(record.record.topic == "pg1.public.big", "{}", record.record.topic);
        let after = field(&record.record.value, "after");
        ensure!(field(after, "note").as_str().is_some_and(|n| n.len() == 400), "a value as of the snapshot");
        ids.extend(as_i64(field(after, "id")));
    }
    ids.sort_unstable();
    ensure!(ids == (1..=ROWS).collect::<Vec<_>>(), "every row of big exactly once");
    let first_streamed = &stream[0].record.value;
    assert_eq!(field(first_streamed, "op"), &Value::from("u"));
    assert_eq!(field(field(first_streamed, "after"), "note"), &Value::from("changed"));
    task.stop().await;
    Ok(())
}
