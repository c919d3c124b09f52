//! The MySQL source against a real MariaDB (a fresh server per test), its task driven directly as the runtime
//! drives it: `start` with the stored offsets, `poll` for records (again after a transient failure, as the
//! runtime retries).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, ensure, Result};
use common::PATIENCE;
use serde_json::Value as Json;
use tidemark_connect::connector::{Connector, SourceConnector, SourceRecord, SourceTask, TaskError};
use tidemark_connect::data::Value;
use tidemark_mysql::source::MySqlConnector;
use tidemark_tests::mariadb::MariaDbServer;
use tokio::time::Instant;

/// Polls until `count` records arrived; a timeout lists them.
async fn poll(task: &mut Box<dyn SourceTask>, count: usize) -> Result<Vec<SourceRecord>> {
    common::poll(task, count, |records| format!("{:#?}", summary(records))).await
}

async fn start_server() -> Result<MariaDbServer> {
    tokio::task::spawn_blocking(MariaDbServer::start).await?
}

/// The connector config for `server` with `topic.prefix=my1`, capturing database `shop`, plus `extra`.
fn props(server: &MariaDbServer, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut props: BTreeMap<String, String> = [
        ("name", "my-source".to_owned()),
        ("connector.class", "io.debezium.connector.mysql.MySqlConnector".to_owned()),
        ("database.hostname", server.host.clone()),
        ("database.port", server.port.to_string()),
        ("database.user", server.user.clone()),
        ("database.password", server.password.clone()),
        ("database.server.id", "5400".to_owned()),
        ("database.include.list", "shop".to_owned()),
        ("topic.prefix", "my1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    props
}

/// A started task, as the runtime would start it with `offsets`.
async fn task(props: &BTreeMap<String, String>, offsets: Vec<(Json, Json)>) -> Result<Box<dyn SourceTask>> {
    let connector = MySqlConnector;
    let config = connector.task_configs(props, 1).remove(0);
    let mut task = connector.create_task(&config)?;
    task.start(offsets).await?;
    Ok(task)
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

/// (topic, op or "tombstone", key id) of each record.
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

fn source(record: &SourceRecord) -> &Value {
    field(&record.record.value, "source")
}

/// The `after` (or for a delete `before`) row's field `name`.
fn row_field<'a>(record: &'a SourceRecord, name: &str) -> &'a Value {
    let after = field(&record.record.value, "after");
    let row = if after.is_null() { field(&record.record.value, "before") } else { after };
    field(row, name)
}

fn ops(records: &[SourceRecord]) -> Vec<(String, String, Option<i64>)> {
    summary(records)
}

fn t(topic: &str, op: &str, id: i64) -> (String, String, Option<i64>) {
    (topic.to_owned(), op.to_owned(), Some(id))
}

const SCHEMA: &str = "CREATE DATABASE shop; \
    CREATE TABLE shop.orders (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, qty BIGINT UNSIGNED, \
        price DECIMAL(10,2), made DATETIME(3)); \
    CREATE TABLE shop.items (sku VARCHAR(10) PRIMARY KEY, stock INT NOT NULL); \
    CREATE DATABASE other; CREATE TABLE other.ignored (id INT PRIMARY KEY);";

#[tokio::test]
async fn snapshot_then_streaming_transactions() -> Result<()> {
    let server = start_server().await?;
    server.root_sql(SCHEMA)?;
    server.root_sql(
        "INSERT INTO shop.orders VALUES (1, 'one', 18446744073709551615, 12.50, '2024-01-02 03:04:05.678'), \
         (2, 'two', NULL, NULL, NULL); INSERT INTO shop.items VALUES ('a', 5); INSERT INTO other.ignored VALUES (1)",
    )?;
    let mut task = task(&props(&server, &[]), Vec::new()).await?;
    let snapshot = poll(&mut task, 3).await?;
    assert_eq!(
        ops(&snapshot),
        [("my1.shop.items".into(), "r".into(), None), t("my1.shop.orders", "r", 1), t("my1.shop.orders", "r", 2)]
    );
    let markers: Vec<&Value> = snapshot.iter().map(|r| field(source(r), "snapshot")).collect();
    assert_eq!(markers, [&Value::from("first"), &Value::from("first_in_data_collection"), &Value::from("last")]);
    assert_eq!(row_field(&snapshot[1], "name"), &Value::from("one"));
    assert_eq!(field(source(&snapshot[1]), "connector"), &Value::from("mysql"));
    assert_eq!(field(source(&snapshot[1]), "db"), &Value::from("shop"));
    assert!(snapshot.iter().all(|r| r.source_offset["snapshot"] == Json::Bool(true)));
    assert_eq!(snapshot[2].source_offset["snapshot_completed"], Json::Bool(true));

    server.root_sql(
        "BEGIN; INSERT INTO shop.orders VALUES (3, 'three', 3, 3.30, NULL); \
         UPDATE shop.orders SET name = 'uno' WHERE id = 1; DELETE FROM shop.orders WHERE id = 2; COMMIT; \
         BEGIN; INSERT INTO shop.orders VALUES (9, 'rolled back', 0, 0, NULL); ROLLBACK; \
         BEGIN; UPDATE shop.items SET stock = stock - 1 WHERE sku = 'a'; INSERT INTO shop.orders VALUES (4, 'four', 4, 4, NULL); \
         INSERT INTO other.ignored VALUES (2); COMMIT; \
         UPDATE shop.orders SET id = 5 WHERE id = 4",
    )?;
    let records = poll(&mut task, 9).await?;
    assert_eq!(
        ops(&records),
        [
            t("my1.shop.orders", "c", 3),
            t("my1.shop.orders", "u", 1),
            t("my1.shop.orders", "d", 2),
            t("my1.shop.orders", "tombstone", 2),
            ("my1.shop.items".into(), "u".into(), None),
            t("my1.shop.orders", "c", 4),
            t("my1.shop.orders", "d", 4),
            t("my1.shop.orders", "tombstone", 4),
            t("my1.shop.orders", "c", 5),
        ]
    );
    // The update carries both images; the BIGINT UNSIGNED beyond i64 and the DECIMAL came through.
    let update = &records[1];
    assert_eq!(field(field(&update.record.value, "before"), "name"), &Value::from("one"));
    assert_eq!(field(field(&update.record.value, "after"), "name"), &Value::from("uno"));
    let gtid = field(source(update), "gtid").as_str().unwrap_or_default().to_owned();
    assert!(gtid.starts_with("0-1-"), "MariaDB GTID in the source block: {gtid}");
    assert_eq!(field(source(update), "row"), &Value::Int32(0));
    assert_eq!(field(source(update), "table"), &Value::from("orders"));
    // Records of one transaction share its GTID; only the last carries the position after it.
    assert_eq!(field(source(&records[0]), "gtid"), field(source(&records[2]), "gtid"));
    assert_eq!(records[0].source_offset, records[2].source_offset);
    assert_ne!(records[3].source_offset, records[2].source_offset);
    assert!(records[3].source_offset["gtids"].as_str().is_some_and(|g| g == gtid), "{:?}", records[3].source_offset);
    let keys: Vec<Option<i64>> =
        records.iter().map(|r| r.record.key.as_struct().and_then(|k| k.values().first()).and_then(as_i64)).collect();
    assert!(!keys.contains(&Some(9)), "the rolled-back insert is not emitted");
    assert!(records.iter().all(|r| !r.record.topic.contains("other")));
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_table_changed_mid_stream_gets_its_new_schema() -> Result<()> {
    let server = start_server().await?;
    server.root_sql(SCHEMA)?;
    let mut task = task(&props(&server, &[("snapshot.mode", "no_data")]), Vec::new()).await?;
    poll_for(&mut task, Duration::from_secs(1)).await?;
    server.root_sql(
        "INSERT INTO shop.orders (id, name) VALUES (1, 'before'); \
         ALTER TABLE shop.orders ADD COLUMN note VARCHAR(20) DEFAULT 'n/a'; \
         INSERT INTO shop.orders (id, name, note) VALUES (2, 'after', 'new'); \
         TRUNCATE TABLE shop.items; \
         INSERT INTO shop.items VALUES ('b', 1)",
    )?;
    let records = poll(&mut task, 4).await?;
    let topics: Vec<&str> = records.iter().map(|r| r.record.topic.as_str()).collect();
    assert_eq!(topics, ["my1.shop.orders", "my1", "my1.shop.orders", "my1.shop.items"]);
    // The schema change event, as Debezium writes it on <topic.prefix>.
    let change = &records[1].record;
    assert_eq!(change.key.as_struct().map(|k| k.values().to_vec()), Some(vec![Value::from("shop")]));
    assert!(field(&change.value, "ddl").as_str().is_some_and(|ddl| ddl.starts_with("ALTER TABLE")));
    assert_eq!(field(&change.value, "databaseName"), &Value::from("shop"));
    let Value::Array(changes) = field(&change.value, "tableChanges") else { bail!("tableChanges") };
    assert_eq!(changes.len(), 1);
    assert_eq!(field(&changes[0], "type"), &Value::from("ALTER"));
    assert_eq!(field(&changes[0], "id"), &Value::from("\"shop\".\"orders\""));
    let table = field(&changes[0], "table");
    let Value::Array(columns) = field(table, "columns") else { bail!("columns") };
    let names: Vec<&Value> = columns.iter().map(|c| field(c, "name")).collect();
    assert_eq!(names.last(), Some(&&Value::from("note")));
    assert_eq!(field(table, "primaryKeyColumnNames"), &Value::Array(vec![Value::from("id")]));
    let records: Vec<SourceRecord> = records.into_iter().filter(|r| r.record.topic != "my1").collect();
    let fields = |record: &SourceRecord| -> Vec<String> {
        let after = field(&record.record.value, "after");
        after.as_struct().map(|s| s.schema().fields().iter().map(|f| f.name().to_owned()).collect()).unwrap_or_default()
    };
    assert_eq!(fields(&records[0]), ["id", "name", "qty", "price", "made"]);
    assert_eq!(fields(&records[1]), ["id", "name", "qty", "price", "made", "note"]);
    assert_eq!(row_field(&records[1], "note"), &Value::from("new"));
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn resumes_by_gtid_across_a_rotation_without_loss_or_repeat() -> Result<()> {
    let server = start_server().await?;
    server.root_sql(SCHEMA)?;
    let settings = props(&server, &[]);
    let mut first = task(&settings, Vec::new()).await?;
    assert!(poll_for(&mut first, Duration::from_secs(1)).await?.is_empty(), "the tables are empty");
    server.root_sql(
        "INSERT INTO shop.orders (id, name) VALUES (1, 'a'); INSERT INTO shop.orders (id, name) VALUES (2, 'b')",
    )?;
    let records = poll(&mut first, 2).await?;
    assert_eq!(ops(&records), [t("my1.shop.orders", "c", 1), t("my1.shop.orders", "c", 2)]);
    let last = records.last().cloned().expect("a record");
    first.stop().await;

    server.root_sql(
        "INSERT INTO shop.orders (id, name) VALUES (3, 'c'); FLUSH BINARY LOGS; \
         INSERT INTO shop.orders (id, name) VALUES (4, 'd'); UPDATE shop.orders SET name = 'bb' WHERE id = 2",
    )?;
    let mut second = task(&settings, vec![((*last.source_partition).clone(), (*last.source_offset).clone())]).await?;
    let records = poll(&mut second, 3).await?;
    assert_eq!(
        ops(&records),
        [t("my1.shop.orders", "c", 3), t("my1.shop.orders", "c", 4), t("my1.shop.orders", "u", 2)]
    );
    let files: Vec<&Value> = records.iter().map(|r| field(source(r), "file")).collect();
    assert_ne!(files[0], files[1], "the rotation shows in the source block");
    assert!(poll_for(&mut second, Duration::from_secs(1)).await?.is_empty(), "nothing repeated");
    second.stop().await;
    Ok(())
}

#[tokio::test]
async fn reconnects_after_a_server_restart() -> Result<()> {
    let mut server = start_server().await?;
    server.root_sql(SCHEMA)?;
    let mut task = task(&props(&server, &[("snapshot.mode", "no_data")]), Vec::new()).await?;
    poll_for(&mut task, Duration::from_secs(1)).await?;
    server.root_sql("INSERT INTO shop.orders (id, name) VALUES (1, 'a')")?;
    assert_eq!(ops(&poll(&mut task, 1).await?), [t("my1.shop.orders", "c", 1)]);
    let restarted = tokio::task::spawn_blocking(move || server.restart().map(|()| server)).await??;
    restarted.root_sql("INSERT INTO shop.orders (id, name) VALUES (2, 'b')")?;
    assert_eq!(ops(&poll(&mut task, 1).await?), [t("my1.shop.orders", "c", 2)]);
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_purged_position_fails_or_resnapshots_when_needed() -> Result<()> {
    let server = start_server().await?;
    server.root_sql(SCHEMA)?;
    server.root_sql("INSERT INTO shop.orders (id, name) VALUES (1, 'a')")?;
    let mut first = task(&props(&server, &[]), Vec::new()).await?;
    let records = poll(&mut first, 1).await?;
    let last = records.last().cloned().expect("a record");
    first.stop().await;
    let stored = vec![((*last.source_partition).clone(), (*last.source_offset).clone())];
    server.root_sql("INSERT INTO shop.orders (id, name) VALUES (2, 'b'); FLUSH BINARY LOGS; FLUSH BINARY LOGS")?;
    // PURGE may wait for the binlog checkpoint: repeat until the first file is gone.
    let current = server.root_sql("SHOW MASTER STATUS")?;
    let current_file = current.split_whitespace().next().unwrap_or_default().to_owned();
    let deadline = Instant::now() + PATIENCE;
    loop {
        server.root_sql(&format!("PURGE BINARY LOGS TO '{current_file}'"))?;
        let logs = server.root_sql("SHOW BINARY LOGS")?;
        if logs.lines().count() == 1 {
            break;
        }
        ensure!(Instant::now() < deadline, "the binlogs were not purged: {logs}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let mut failing = task(&props(&server, &[]), stored.clone()).await?;
    match failing.poll().await {
        Err(TaskError::Definite(message)) => {
            assert!(message.contains("snapshot.mode=when_needed"), "{message}")
        }
        other => bail!("expected the purged position to fail the task, got {other:?}"),
    }
    failing.stop().await;

    let mut resnapshot = task(&props(&server, &[("snapshot.mode", "when_needed")]), stored).await?;
    let records = poll(&mut resnapshot, 2).await?;
    assert_eq!(ops(&records), [t("my1.shop.orders", "r", 1), t("my1.shop.orders", "r", 2)]);
    resnapshot.stop().await;
    Ok(())
}

#[tokio::test]
async fn validation_names_the_setting_to_fix() -> Result<()> {
    let server = start_server().await?;
    let connector = MySqlConnector;
    assert!(connector.validate(&props(&server, &[])).await.is_empty());
    let errors = connector.validate(&props(&server, &[("database.password", "wrong")])).await;
    assert!(errors.iter().any(|e| e.name == "database.password"), "{errors:?}");
    server.root_sql("SET GLOBAL binlog_format = 'STATEMENT'")?;
    let errors = connector.validate(&props(&server, &[])).await;
    assert!(errors.iter().any(|e| e.message.contains("binlog_format")), "{errors:?}");
    Ok(())
}

#[tokio::test]
async fn negative_fractional_times_read_alike_in_snapshot_and_binlog() -> Result<()> {
    let server = start_server().await?;
    server.root_sql(
        "CREATE DATABASE shop; CREATE TABLE shop.times (id INT PRIMARY KEY, t1 TIME(1), t2 TIME(2), t6 TIME(6)); \
         INSERT INTO shop.times VALUES (1, '-00:00:01.5', '-00:00:00.01', '-838:59:58.999999'), \
         (2, '-123:04:05.9', '-99:00:00.99', '00:00:00.000001')",
    )?;
    let mut task = task(&props(&server, &[]), Vec::new()).await?;
    let snapshot = poll(&mut task, 2).await?;
    server.root_sql(
        "INSERT INTO shop.times VALUES (11, '-00:00:01.5', '-00:00:00.01', '-838:59:58.999999'), \
         (12, '-123:04:05.9', '-99:00:00.99', '00:00:00.000001')",
    )?;
    let streamed = poll(&mut task, 2).await?;
    for (read, changed) in snapshot.iter().zip(&streamed) {
        for column in ["t1", "t2", "t6"] {
            assert_eq!(row_field(read, column), row_field(changed, column), "{column}");
        }
    }
    assert_eq!(row_field(&snapshot[0], "t1"), &Value::Int64(-1_500_000));
    assert_eq!(row_field(&snapshot[1], "t2"), &Value::Int64(-(99 * 3600 * 1_000_000 + 990_000)));
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn transaction_metadata_and_heartbeats() -> Result<()> {
    let server = start_server().await?;
    server.root_sql(SCHEMA)?;
    let extra =
        [("snapshot.mode", "no_data"), ("provide.transaction.metadata", "true"), ("heartbeat.interval.ms", "200")];
    let mut task = task(&props(&server, &extra), Vec::new()).await?;
    poll_for(&mut task, Duration::from_millis(500)).await?;
    server.root_sql(
        "BEGIN; INSERT INTO shop.orders (id, name) VALUES (1, 'a'); INSERT INTO shop.items VALUES ('x', 1); COMMIT",
    )?;
    let records = poll(&mut task, 4).await?;
    let records: Vec<&SourceRecord> =
        records.iter().filter(|r| !r.record.topic.starts_with("__debezium-heartbeat")).collect();
    let topics: Vec<&str> = records.iter().map(|r| r.record.topic.as_str()).collect();
    assert_eq!(topics[..4], ["my1.transaction", "my1.shop.orders", "my1.shop.items", "my1.transaction"]);
    let gtid = field(source(records[1]), "gtid").clone();
    assert_eq!(field(&records[0].record.value, "status"), &Value::from("BEGIN"));
    assert_eq!(field(&records[0].record.value, "id"), &gtid);
    let block = field(&records[2].record.value, "transaction");
    assert_eq!((field(block, "id"), field(block, "total_order")), (&gtid, &Value::Int64(2)));
    assert_eq!(field(&records[3].record.value, "status"), &Value::from("END"));
    assert_eq!(field(&records[3].record.value, "event_count"), &Value::Int64(2));
    // Idle: heartbeats carry the position after the transaction.
    let beats = poll_for(&mut task, Duration::from_secs(1)).await?;
    let beat = beats.iter().find(|r| r.record.topic == "__debezium-heartbeat.my1").expect("a heartbeat");
    assert_eq!(beat.source_offset, records[3].source_offset);
    task.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_interrupted_snapshot_is_taken_again_and_what_changed_meanwhile_streams_after_it() -> Result<()> {
    // More rows than one poll hands over, so the first task stops inside the snapshot.
    const ROWS: i32 = 20_000;
    let server = start_server().await?;
    server.root_sql(SCHEMA)?;
    server.root_sql(&format!(
        "INSERT INTO shop.orders (id, name) SELECT seq, CONCAT('n', seq) FROM shop.seq_1_to_{ROWS}"
    ))?;
    let settings = props(&server, &[]);
    let mut first = task(&settings, Vec::new()).await?;
    let partial = poll(&mut first, 1).await?;
    first.stop().await;
    let last = partial.last().cloned().expect("a record");
    assert_eq!(last.source_offset["snapshot_completed"], Json::Bool(false), "stopped inside the snapshot");
    assert!(partial.len() < ROWS as usize, "one poll takes at most 8,192 records");

    server.root_sql("DELETE FROM shop.orders WHERE id = 1; UPDATE shop.orders SET name = 'changed' WHERE id = 2")?;
    let mut second = task(&settings, vec![((*last.source_partition).clone(), (*last.source_offset).clone())]).await?;
    let records = poll(&mut second, ROWS as usize - 1 + 3).await?;
    let reads = records.iter().filter(|r| field(&r.record.value, "op") == &Value::from("r")).count();
    assert_eq!(reads, ROWS as usize - 1, "the snapshot is taken again, without the deleted row");
    let streamed: Vec<_> = ops(&records).into_iter().filter(|(_, op, _)| op != "r").collect();
    assert_eq!(
        streamed,
        [t("my1.shop.orders", "d", 1), t("my1.shop.orders", "tombstone", 1), t("my1.shop.orders", "u", 2)],
        "the changes since the first snapshot's position stream after the second"
    );
    second.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_heartbeat_action_query_runs_at_each_heartbeat_and_its_changes_stream() -> Result<()> {
    let server = start_server().await?;
    server.root_sql(SCHEMA)?;
    server.root_sql("CREATE TABLE shop.beats (id INT PRIMARY KEY, n INT NOT NULL); GRANT INSERT, UPDATE ON shop.beats TO 'tidemark'@'%'")?;
    let extra = [
        ("snapshot.mode", "no_data"),
        ("heartbeat.interval.ms", "200"),
        ("heartbeat.action.query", "INSERT INTO shop.beats VALUES (1, 1) ON DUPLICATE KEY UPDATE n = n + 1"),
        ("topic.transaction", "tx"),
    ];
    let mut task = task(&props(&server, &extra), Vec::new()).await?;
    let records = poll_for(&mut task, Duration::from_secs(2)).await?;
    let beats = records.iter().filter(|r| r.record.topic == "my1.shop.beats").count();
    assert!(beats >= 2, "the action's own changes stream: {:?}", summary(&records));
    let n: i64 = server.root_sql("SELECT n FROM shop.beats WHERE id = 1")?.trim().parse()?;
    assert!(n >= 2, "the action ran at each heartbeat: n = {n}");
    task.stop().await;
    Ok(())
}
