//! The MySQL source end to end, against a real MariaDB and the real `tidemark up` (broker, registry and connect
//! worker in one process), as a Debezium user would run it: connectors created over Kafka Connect's REST API, topics
//! read by ordinary Kafka clients.
//!
//! - Debezium's tutorial configuration of its MySQL connector, pasted as it is (schema history properties included),
//!   gives Debezium's topics and envelopes in Avro through the bundled registry (read with confluent-kafka's
//!   `AvroDeserializer`): the snapshot, then inserts, updates, deletes and their tombstones, with the binlog
//!   coordinates and GTIDs in the source block.
//! - The outbox pattern as Debezium documents it (`EventRouter`), read both ways: Avro, and JSON with a string key.
//! - The end-to-end invariant under `kill -9`: a concurrent random workload over two tables while the process is
//!   killed once in the snapshot and twice in the stream; afterwards the latest value per key in each topic equals the table, and per-key
//!   order matches commit order.
//!
//! The connectors are created and the Avro and JSON records read by tests/python/connect_client.py: Kafka Connect's
//! REST API and confluent-kafka.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{json, Value as Json};
use tidemark_tests::cdc::{check_table, Change};
use tidemark_tests::connect_client::{at, avro_records, create_connectors, json_records, stored_offset, task_state};
use tidemark_tests::mariadb::{MariaDbServer, RootSession};
use tidemark_tests::rng::Rng;
use tidemark_tests::{client_config, run_cli, TidemarkProcess, UpAddresses};

/// How long a test waits for what should take a few seconds at most.
const PATIENCE: Duration = Duration::from_secs(60);

/// The topics the broker at `bootstrap` has.
fn topic_names(bootstrap: &str) -> Result<BTreeSet<String>> {
    let consumer: BaseConsumer = client_config(bootstrap).create()?;
    let metadata = consumer.fetch_metadata(None, Duration::from_secs(10))?;
    Ok(metadata.topics().iter().map(|t| t.name().to_owned()).collect())
}

/// Waits until `count` binlog dump threads run on `server` (the connectors stream), within [`PATIENCE`].
fn wait_binlog_dumps(server: &MariaDbServer, count: usize) -> Result<()> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let out =
            server.root_sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'")?;
        if out.trim().parse::<usize>().ok() == Some(count) {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "{} binlog dump threads, not {count}", out.trim());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The GTID `0-1-17` as its sequence number (MariaDB's `domain-server-sequence`), from server 1 of domain 0.
fn gtid_sequence(gtid: &Json) -> Result<u64> {
    let text = gtid.as_str().with_context(|| format!("no GTID: {gtid}"))?;
    let sequence = text.strip_prefix("0-1-").with_context(|| format!("not a GTID of server 1 in domain 0: {text}"))?;
    sequence.parse().with_context(|| format!("not a GTID: {text}"))
}

/// Debezium's tutorial configuration of its MySQL connector: the registration request of the Debezium tutorial,
/// "Deploying the MySQL connector" > "Registering a connector to monitor the inventory database"
/// (<https://debezium.io/documentation/reference/stable/tutorial.html>), with its user, password, server id, topic
/// prefix, database and schema history properties.
const DEBEZIUM_TUTORIAL: &str = r#"{
  "name": "inventory-connector",
  "config": {
    "connector.class": "io.debezium.connector.mysql.MySqlConnector",
    "tasks.max": "1",
    "database.hostname": "mysql",
    "database.port": "3306",
    "database.user": "debezium",
    "database.password": "dbz",
    "database.server.id": "184054",
    "topic.prefix": "dbserver1",
    "database.include.list": "inventory",
    "schema.history.internal.kafka.bootstrap.servers": "kafka:9092",
    "schema.history.internal.kafka.topic": "schemahistory.inventory"
  }
}"#;

/// The tutorial's `debezium` user with the grants Debezium's MySQL documentation asks for, the tutorial's
/// `inventory.customers` (with two more columns, for a decimal and a timestamp) and a database the connector must
/// leave alone.
const INVENTORY: &str = "CREATE USER 'debezium'@'%' IDENTIFIED BY 'dbz';
    GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'debezium'@'%';
    CREATE DATABASE inventory;
    CREATE TABLE inventory.customers (
        id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
        first_name VARCHAR(255) NOT NULL,
        last_name VARCHAR(255) NOT NULL,
        email VARCHAR(255) NOT NULL UNIQUE KEY,
        balance DECIMAL(10,2),
        joined DATETIME(3)
    ) AUTO_INCREMENT=1001;
    INSERT INTO inventory.customers (first_name, last_name, email, balance, joined) VALUES
        ('Sally', 'Thomas', 'sally.thomas@acme.com', 1234.50, '2024-02-29 12:34:56.789'),
        ('George', 'Bailey', 'gbailey@foobar.com', 0.05, NULL),
        ('Edward', 'Walker', 'ed@walker.com', NULL, '1999-12-31 23:59:59'),
        ('Anne', 'Kretchmar', 'annek@noanswer.org', 99.99, NULL);
    CREATE DATABASE other;
    CREATE TABLE other.ignored (id INT PRIMARY KEY);
    INSERT INTO other.ignored VALUES (1);";

#[test]
fn debeziums_tutorial_config_works_as_it_is_with_avro_through_the_bundled_registry() -> Result<()> {
    let started = Instant::now();
    let server = MariaDbServer::start()?;
    server.root_sql(INVENTORY)?;
    let dir = tempfile::tempdir()?;
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;

    // Only what points the example at this test's server changes: the host and the port (the user, its password,
    // the server id, the prefix and the database are the tutorial's own). Nothing is added: no converters (the
    // worker's default in `tidemark up` is Avro through its registry), and the schema history properties stay,
    // pointing at a Kafka that does not exist: Tidemark keeps no schema history topic and says so in a warning.
    let mut definition: Json = serde_json::from_str(DEBEZIUM_TUTORIAL)?;
    let config = definition["config"].as_object_mut().context("config")?;
    config.insert("database.hostname".into(), json!(server.host));
    config.insert("database.port".into(), json!(server.port.to_string()));
    assert_eq!(config.len(), 11, "the tutorial's keys, no more");
    let connect = tidemark.connect_url.as_deref().context("no connect worker")?;
    create_connectors(connect, dir.path(), &[definition])?;

    let topic = "dbserver1.inventory.customers";
    let snapshot = avro_records(&tidemark, topic, 4)?;
    assert_eq!(snapshot.len(), 4, "the snapshot, once: {snapshot:#?}");
    let ops: Vec<&Json> = snapshot.iter().map(|r| at(r, "/value/op")).collect();
    assert_eq!(ops, [&json!("r"); 4]);
    let markers: Vec<&Json> = snapshot.iter().map(|r| at(r, "/value/source/snapshot")).collect();
    assert_eq!(markers, [&json!("first"), &json!("true"), &json!("true"), &json!("last")]);
    let ids: Vec<&Json> = snapshot.iter().map(|r| at(r, "/key/id")).collect();
    assert_eq!(ids, [&json!(1001), &json!(1002), &json!(1003), &json!(1004)]);
    for record in &snapshot {
        assert_eq!(at(record, "/key_schema"), &json!("dbserver1.inventory.customers.Key"), "{record}");
        assert_eq!(at(record, "/value_schema"), &json!("dbserver1.inventory.customers.Envelope"), "{record}");
        assert_eq!(at(record, "/value/before"), &Json::Null, "{record}");
        assert_eq!(at(record, "/value/transaction"), &Json::Null, "{record}");
        assert_eq!(at(record, "/key/id"), at(record, "/value/after/id"), "{record}");
        assert!(at(record, "/value/ts_ms").is_i64(), "{record}");
    }
    let sally = &snapshot[0];
    assert_eq!(
        at(sally, "/value/after"),
        &json!({
            "id": 1001, "first_name": "Sally", "last_name": "Thomas", "email": "sally.thomas@acme.com",
            // DECIMAL(10,2) is Connect's Decimal: Avro's decimal logical type, a Decimal in Python.
            "balance": {"$decimal": "1234.50"},
            // DATETIME(3) is io.debezium.time.Timestamp: ms since the epoch, the value read as UTC.
            "joined": 1_709_210_096_789_i64,
        })
    );
    assert_eq!(at(&snapshot[1], "/value/after/balance"), &json!({"$decimal": "0.05"}));
    assert_eq!(at(&snapshot[1], "/value/after/joined"), &Json::Null);
    assert_eq!(at(&snapshot[2], "/value/after/balance"), &Json::Null);
    assert_eq!(at(&snapshot[2], "/value/after/joined"), &json!(946_684_799_000_i64));
    let snapshot_source = at(sally, "/value/source");
    for (field, expected) in [
        ("connector", json!("mysql")),
        ("name", json!("dbserver1")),
        ("db", json!("inventory")),
        ("table", json!("customers")),
        // A snapshot read has no server and no GTID of its own, as in Debezium.
        ("server_id", json!(0)),
        ("gtid", Json::Null),
        ("row", json!(0)),
    ] {
        assert_eq!(&snapshot_source[field], &expected, "source.{field}: {snapshot_source}");
    }
    let snapshot_file = snapshot_source["file"].as_str().with_context(|| format!("no file: {snapshot_source}"))?;
    assert!(snapshot_file.starts_with("binlog."), "source.file: {snapshot_source}");
    let snapshot_pos = snapshot_source["pos"].as_i64().with_context(|| format!("no pos: {snapshot_source}"))?;
    assert!(snapshot_pos > 0, "{snapshot_source}");
    for record in &snapshot {
        // Every snapshot record stands at the snapshot's binlog position.
        assert_eq!(at(record, "/value/source/file"), &json!(snapshot_file), "{record}");
        assert_eq!(at(record, "/value/source/pos"), &json!(snapshot_pos), "{record}");
    }

    // Streaming: an insert, an update and a delete each in a transaction of its own, then two changes in one
    // transaction; a rolled-back insert in between never appears.
    wait_binlog_dumps(&server, 1)?;
    server.root_sql(
        "INSERT INTO inventory.customers (first_name, last_name, email, balance, joined)
            VALUES ('Kenneth', 'Anderson', 'kander@acme.com', 10.00, '2025-01-15 08:00:00.250');
         UPDATE inventory.customers SET first_name = 'Anne Marie', balance = 100.01 WHERE id = 1004;
         DELETE FROM inventory.customers WHERE id = 1002;
         BEGIN; INSERT INTO inventory.customers (id, first_name, last_name, email) VALUES (1099, 'No', 'One', 'x@y');
         ROLLBACK;
         BEGIN;
         INSERT INTO inventory.customers (id, first_name, last_name, email) VALUES (1006, 'Jane', 'Doe', 'j@doe.org');
         UPDATE inventory.customers SET email = 'sally@acme.com' WHERE id = 1001;
         COMMIT;
         INSERT INTO other.ignored VALUES (2);",
    )?;
    let all = avro_records(&tidemark, topic, 10)?;
    assert_eq!(all.len(), 10, "four snapshot records, five changes and a tombstone, each once: {all:#?}");
    assert_eq!(&all[..4], &snapshot[..], "the snapshot stays as it was read");
    let streamed = &all[4..];
    let summary: Vec<(&Json, &Json)> = streamed.iter().map(|r| (at(r, "/key/id"), at(r, "/value/op"))).collect();
    assert_eq!(
        summary,
        [
            (&json!(1005), &json!("c")),
            (&json!(1004), &json!("u")),
            (&json!(1002), &json!("d")),
            (&json!(1002), &Json::Null),
            (&json!(1006), &json!("c")),
            (&json!(1001), &json!("u")),
        ]
    );
    let (insert, update, delete, tombstone) = (&streamed[0], &streamed[1], &streamed[2], &streamed[3]);
    assert_eq!(at(insert, "/value/before"), &Json::Null);
    assert_eq!(
        at(insert, "/value/after"),
        &json!({
            "id": 1005, "first_name": "Kenneth", "last_name": "Anderson", "email": "kander@acme.com",
            "balance": {"$decimal": "10.00"}, "joined": 1_736_928_000_250_i64,
        })
    );
    // An update under binlog_row_image=FULL: the whole row before and after.
    assert_eq!(at(update, "/value/before"), at(&snapshot[3], "/value/after"), "{update}");
    assert_eq!(
        at(update, "/value/after"),
        &json!({
            "id": 1004, "first_name": "Anne Marie", "last_name": "Kretchmar", "email": "annek@noanswer.org",
            "balance": {"$decimal": "100.01"}, "joined": null,
        })
    );
    // A delete: the whole old row in before, no after; then a tombstone with the same key and a null value.
    assert_eq!(at(delete, "/value/before"), at(&snapshot[1], "/value/after"), "{delete}");
    assert_eq!(at(delete, "/value/after"), &Json::Null);
    assert_eq!(at(tombstone, "/key"), at(delete, "/key"));
    assert_eq!(at(tombstone, "/value"), &Json::Null);
    assert_eq!(at(tombstone, "/value_schema"), &Json::Null);
    assert_eq!(at(&streamed[5], "/value/before/email"), &json!("sally.thomas@acme.com"));
    assert_eq!(at(&streamed[5], "/value/after/email"), &json!("sally@acme.com"));

    // The source block of streamed events: the server, the transaction's GTID and where its event group starts in
    // the binlog, the thread that wrote it. Transactions come in commit order, after the snapshot's position; the
    // two changes of the last transaction share its GTID and position, rows numbered within their rows event.
    let changes = [&streamed[0], &streamed[1], &streamed[2], &streamed[4], &streamed[5]];
    for record in changes {
        let source = at(record, "/value/source");
        for (field, expected) in [
            ("connector", json!("mysql")),
            ("name", json!("dbserver1")),
            ("db", json!("inventory")),
            ("table", json!("customers")),
            ("snapshot", json!("false")),
            ("server_id", json!(1)),
            ("row", json!(0)),
        ] {
            assert_eq!(&source[field], &expected, "source.{field}: {record}");
        }
        assert_eq!(source["file"], json!(snapshot_file), "no rotation in this test: {record}");
        assert!(source["pos"].as_i64().is_some_and(|pos| pos >= snapshot_pos), "{record}");
        // A MariaDB transaction starts with its GTID event, not a `BEGIN` query that would name the thread.
        assert!(source["thread"].is_null() || source["thread"].is_i64(), "{record}");
        assert!(source["ts_ms"].as_i64().is_some_and(|ts| ts > 0), "{record}");
        gtid_sequence(&source["gtid"])?;
    }
    let gtids: Vec<u64> = changes.iter().map(|r| gtid_sequence(at(r, "/value/source/gtid"))).collect::<Result<_>>()?;
    let positions: Vec<i64> = changes.iter().map(|r| at(r, "/value/source/pos").as_i64().unwrap_or(-1)).collect();
    assert!(gtids[..4].windows(2).all(|w| w[0] < w[1]), "four transactions in commit order: {gtids:?}");
    assert!(positions[..4].windows(2).all(|w| w[0] < w[1]), "four transactions in binlog order: {positions:?}");
    assert_eq!((gtids[3], positions[3]), (gtids[4], positions[4]), "one transaction, one GTID and position");
    // Nothing of the rolled-back insert or of the other database arrived, and no schema history topic exists.
    assert!(all.iter().all(|r| at(r, "/key/id") != &json!(1099)), "the rolled-back insert: {all:#?}");
    let topics = topic_names(&tidemark.bootstrap)?;
    assert!(!topics.iter().any(|t| t.contains("other")), "database.include.list=inventory, yet: {topics:?}");
    assert!(!topics.iter().any(|t| t.contains("schemahistory")), "no schema history topic: {topics:?}");
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// The outbox.
// ---------------------------------------------------------------------------------------------------------------

/// Debezium's outbox table, as its "Outbox Event Router" documentation defines it (MySQL's form: a CHAR(36) id and
/// a JSON payload, which MariaDB stores as LONGTEXT), and the business tables it goes with.
const OUTBOX: &str = "CREATE DATABASE shop;
    CREATE TABLE shop.outbox (
        id CHAR(36) NOT NULL PRIMARY KEY,
        aggregatetype VARCHAR(255) NOT NULL,
        aggregateid VARCHAR(255) NOT NULL,
        type VARCHAR(255) NOT NULL,
        payload JSON
    );
    CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL);
    CREATE TABLE shop.orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2),
                              status VARCHAR(20) NOT NULL DEFAULT 'new',
                              FOREIGN KEY (customer_id) REFERENCES shop.customers (id));";

/// An event id: a fixed UUID ending in `n`.
fn event_id(n: u32) -> String {
    format!("6f1c2a4e-3b5d-4c7e-9a0b-{n:012}")
}

/// One outbox row inserted in SQL.
fn outbox_insert(n: u32, aggregate_type: &str, aggregate_id: &str, event_type: &str, payload: &Json) -> String {
    format!(
        "INSERT INTO shop.outbox VALUES ('{}', '{aggregate_type}', '{aggregate_id}', '{event_type}', '{payload}');",
        event_id(n)
    )
}

/// `payload` as `table.expand.json.payload` renders it with the default `table.json.payload.null.behavior=ignore`:
/// object fields that are null or empty arrays left out, as Debezium's `JsonSchemaData` does (no schema is inferred
/// for them).
fn expanded(payload: &Json) -> Json {
    match payload {
        Json::Object(fields) => Json::Object(
            fields
                .iter()
                .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|items| !items.is_empty()))
                .map(|(k, v)| (k.clone(), expanded(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(expanded).collect()),
        other => other.clone(),
    }
}

#[test]
fn the_outbox_event_router_as_debezium_documents_it_in_avro_and_in_json() -> Result<()> {
    let started = Instant::now();
    let server = MariaDbServer::start()?;
    server.root_sql(OUTBOX)?;
    // (event number, aggregate type, aggregate id, event type, payload), in commit order.
    let ada = json!({"id": 1, "name": "Ada"});
    let order_100 = json!({"id": 100, "customer": 1, "lines": [{"sku": "A-1", "qty": 2}], "total": "99.90"});
    let order_101 = json!({"id": 101, "customer": 1, "lines": [], "total": "0.00"});
    let ada_renamed = json!({"id": 1, "name": "Ada Lovelace"});
    let shipped = json!({"id": 100, "status": "shipped", "nested": {"carrier": "DHL", "tracking": null}});
    let events: Vec<(u32, &str, &str, &str, &Json)> = vec![
        (1, "customer", "1", "CustomerCreated", &ada),
        (2, "order", "100", "OrderCreated", &order_100),
        (3, "order", "101", "OrderCreated", &order_101),
        (4, "customer", "1", "CustomerRenamed", &ada_renamed),
        (5, "order", "100", "OrderShipped", &shipped),
    ];
    let insert = |n: usize| outbox_insert(events[n].0, events[n].1, events[n].2, events[n].3, events[n].4);

    // The first event is committed before the connectors exist: it comes through the snapshot.
    server.root_sql(&format!("BEGIN; INSERT INTO shop.customers VALUES (1, 'Ada'); {} COMMIT;", insert(0)))?;
    let dir = tempfile::tempdir()?;
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let database = |prefix: &str, server_id: u32| {
        json!({
            "connector.class": "io.debezium.connector.mysql.MySqlConnector",
            "database.hostname": server.host,
            "database.port": server.port.to_string(),
            "database.user": server.user,
            "database.password": server.password,
            "database.server.id": server_id.to_string(),
            "topic.prefix": prefix,
            "table.include.list": "shop.outbox",
            "tombstones.on.delete": "false",
            // Debezium's basic Outbox Event Router configuration.
            "transforms": "outbox",
            "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
        })
    };
    // Avro through the registry (the worker's default converters): the payload is the JSON column's text.
    let avro = json!({"name": "outbox-avro", "config": database("shop", 5401)});
    // JSON for the same events, to topics of their own: a string key, the payload expanded into JSON.
    let mut json_config = database("shopjson", 5402);
    let extra = json!({
        "transforms.outbox.route.topic.replacement": "outbox.json.${routedByValue}",
        "transforms.outbox.table.expand.json.payload": "true",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    });
    json_config.as_object_mut().context("config")?.extend(extra.as_object().cloned().unwrap_or_default());
    let as_json = json!({"name": "outbox-json", "config": json_config});
    let connect = tidemark.connect_url.as_deref().context("no connect worker")?;
    create_connectors(connect, dir.path(), &[avro, as_json])?;
    // Both snapshots are done once both connectors read the binlog: what follows is streamed.
    wait_binlog_dumps(&server, 2)?;

    // The rest is streamed, each event in the transaction that changes the business tables; the last one is
    // deleted in its own transaction right away (Debezium's advice to keep the table empty: the delete is not
    // routed), and a rolled-back event never appears.
    server.root_sql(&format!("BEGIN; INSERT INTO shop.orders VALUES (100, 1, 99.90, 'new'); {} COMMIT;", insert(1)))?;
    server.root_sql(&format!(
        "BEGIN; INSERT INTO shop.orders VALUES (101, 1, 0, 'new'); {}
         UPDATE shop.customers SET name = 'Ada Lovelace' WHERE id = 1; {} COMMIT;",
        insert(2),
        insert(3)
    ))?;
    server.root_sql(&format!(
        "BEGIN; INSERT INTO shop.orders VALUES (102, 1, 5, 'new'); {} ROLLBACK;",
        outbox_insert(9, "order", "102", "OrderCreated", &json!({"id": 102}))
    ))?;
    server.root_sql(&format!(
        "BEGIN; UPDATE shop.orders SET status = 'shipped' WHERE id = 100; {}
         DELETE FROM shop.outbox WHERE id = '{}'; COMMIT;",
        insert(4),
        event_id(5)
    ))?;

    for aggregate in ["order", "customer"] {
        let expected: Vec<&(u32, &str, &str, &str, &Json)> = events.iter().filter(|e| e.1 == aggregate).collect();
        let records = avro_records(&tidemark, &format!("outbox.event.{aggregate}"), expected.len())?;
        assert_eq!(records.len(), expected.len(), "each event once, in commit order: {records:#?}");
        let json_records = json_records(&tidemark, &format!("outbox.json.{aggregate}"), expected.len())?;
        assert_eq!(json_records.len(), expected.len(), "each event once, in commit order: {json_records:#?}");
        for ((record, json_record), (n, _, aggregate_id, _, payload)) in records.iter().zip(&json_records).zip(expected)
        {
            // Avro: the key is the aggregate id (an Avro string), the value the payload column (MariaDB's JSON is a
            // LONGTEXT: an Avro string holding the JSON text, as Debezium gives it), the event id in the `id`
            // header.
            assert_eq!(at(record, "/key"), &json!(aggregate_id), "{record}");
            assert_eq!(at(record, "/key_schema"), &json!("string"), "{record}");
            assert_eq!(at(record, "/value_schema"), &json!("string"), "{record}");
            let text = at(record, "/value").as_str().with_context(|| format!("payload not a string: {record}"))?;
            assert_eq!(&serde_json::from_str::<Json>(text)?, *payload, "{record}");
            assert_eq!(at(record, "/headers/id"), &json!(event_id(*n)), "{record}");
            // JSON: the key as text, the payload as the JSON document itself (expanded), the same header.
            assert_eq!(at(json_record, "/key"), &json!(aggregate_id), "{json_record}");
            assert_eq!(at(json_record, "/value"), &expanded(payload), "{json_record}");
            assert_eq!(at(json_record, "/headers/id"), &json!(event_id(*n)), "{json_record}");
        }
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// The end-to-end invariant under kill -9.
// ---------------------------------------------------------------------------------------------------------------

/// The database of the captured tables.
const DATABASE: &str = "shop";
/// The captured tables.
const TABLES: [&str; 2] = ["accounts", "orders"];
/// Rows in each table before the connector is created: what the snapshot reads.
const ROWS: i64 = 20_000;
/// Concurrent writers; writer `w` owns the pre-existing ids with `id % WRITERS == w` and the new ids it makes, so
/// their transactions never conflict.
const WRITERS: i64 = 2;
/// The workload's seed (`TIDEMARK_MYSQL_SEED` overrides it, to repeat a failing run's choices).
const SEED: u64 = 0x7D0E_0007;
/// The id of the row each table gets once the workload stopped: when it is in a topic, so is everything before.
const MARKER: i64 = 0;
/// The topic prefix.
const PREFIX: &str = "chaos";
/// Streamed changes to wait for before a kill and after a restart.
const STREAMED: usize = 400;

/// What the workload did.
#[derive(Debug, Default)]
struct WorkloadStats {
    committed: u64,
    rolled_back: u64,
    inserts: u64,
    updates: u64,
    key_changes: u64,
    deletes: u64,
}

/// The statement `UPDATE <table> SET <version bump> WHERE <condition>`: `val` is computed before `version` changes
/// (MySQL assigns left to right).
fn bump(table: &str, amount: u64, condition: &str) -> String {
    format!(
        "UPDATE {DATABASE}.{table} SET val = CONCAT('v', version + 1), version = version + 1, amount = {amount} \
         WHERE {condition};"
    )
}

/// One writer: transactions of 1 to 4 random statements over the two tables until `stop`, one every few
/// milliseconds, one in twenty rolled back. A statement inserts one to three fresh ids (one statement), updates one
/// or two live rows (bumping their `version`), changes a live row's primary key to a fresh id (a new key whose life
/// starts at version 1), or deletes a live row. Ids are never reused, not even those of rolled-back inserts.
fn writer(server: &MariaDbServer, writer: i64, seed: u64, stop: &AtomicBool) -> Result<WorkloadStats> {
    let mut session = RootSession::open(server)?;
    let mut rng = Rng(seed ^ (writer as u64).wrapping_mul(0xA076_1D64_78BD_642F));
    let mut live: Vec<Vec<i64>> =
        TABLES.iter().map(|_| (1..=ROWS).filter(|id| id % WRITERS == writer).collect()).collect();
    let mut next_id = ROWS + 1 + writer;
    let mut fresh = || {
        let id = next_id;
        next_id += WRITERS;
        id
    };
    let mut stats = WorkloadStats::default();
    while !stop.load(Ordering::Relaxed) {
        let mut statements = String::from("BEGIN;");
        let mut after = live.clone();
        let (mut inserts, mut updates, mut key_changes, mut deletes) = (0, 0, 0, 0);
        for _ in 0..1 + rng.below(4) {
            let t = rng.below(TABLES.len() as u64) as usize;
            let table = TABLES[t];
            let amount = rng.below(1_000_000);
            let choice = rng.below(20);
            if choice < 6 || after[t].len() < 2 {
                let ids: Vec<i64> = (0..1 + rng.below(3)).map(|_| fresh()).collect();
                let values: Vec<String> = ids.iter().map(|id| format!("({id}, 1, 'v1', {amount})")).collect();
                statements.push_str(&format!(
                    "INSERT INTO {DATABASE}.{table} (id, version, val, amount) VALUES {};",
                    values.join(", ")
                ));
                inserts += ids.len() as u64;
                after[t].extend(ids);
            } else if choice < 13 {
                let id = after[t][rng.below(after[t].len() as u64) as usize];
                statements.push_str(&bump(table, amount, &format!("id = {id}")));
                updates += 1;
            } else if choice < 15 {
                let a = after[t][rng.below(after[t].len() as u64) as usize];
                let b = after[t][rng.below(after[t].len() as u64) as usize];
                statements.push_str(&bump(table, amount, &format!("id IN ({a}, {b})")));
                updates += if a == b { 1 } else { 2 };
            } else if choice < 17 {
                let index = rng.below(after[t].len() as u64) as usize;
                let id = fresh();
                let old = std::mem::replace(&mut after[t][index], id);
                statements.push_str(&format!(
                    "UPDATE {DATABASE}.{table} SET id = {id}, version = 1, val = 'v1', amount = {amount} \
                     WHERE id = {old};"
                ));
                key_changes += 1;
            } else {
                let index = rng.below(after[t].len() as u64) as usize;
                let id = after[t].swap_remove(index);
                statements.push_str(&format!("DELETE FROM {DATABASE}.{table} WHERE id = {id};"));
                deletes += 1;
            }
        }
        if rng.below(20) == 0 {
            statements.push_str("ROLLBACK;");
            session.send(&statements)?;
            stats.rolled_back += 1;
        } else {
            statements.push_str("COMMIT;");
            session.send(&statements)?;
            live = after;
            stats.committed += 1;
            stats.inserts += inserts;
            stats.updates += updates;
            stats.key_changes += key_changes;
            stats.deletes += deletes;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    session.close()?;
    Ok(stats)
}

/// The workload: [`WRITERS`] writers, each on a thread of its own, until [`Workload::stop`].
struct Workload {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Result<WorkloadStats>>>,
}

impl Workload {
    fn start(server: &Arc<MariaDbServer>, seed: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..WRITERS)
            .map(|w| {
                let (server, stop) = (Arc::clone(server), Arc::clone(&stop));
                std::thread::spawn(move || writer(&server, w, seed, &stop))
            })
            .collect();
        Workload { stop, threads }
    }

    fn running(&self) -> bool {
        self.threads.iter().all(|t| !t.is_finished())
    }

    /// Stops the writers and waits until every transaction they sent ran.
    fn stop(mut self) -> Result<Vec<WorkloadStats>> {
        self.stop.store(true, Ordering::Relaxed);
        let mut stats = Vec::new();
        for thread in std::mem::take(&mut self.threads) {
            stats.push(thread.join().map_err(|_| anyhow!("a writer panicked"))??);
        }
        Ok(stats)
    }
}

/// A test that fails early still stops the writers, so that the server they hold goes when the test ends.
impl Drop for Workload {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in std::mem::take(&mut self.threads) {
            let _ = thread.join();
        }
    }
}

/// The topic of table `t`.
fn topic(t: usize) -> String {
    format!("{PREFIX}.{DATABASE}.{}", TABLES[t])
}

/// A consumer assigned to the topics, each from `from[t]`.
fn table_consumer(bootstrap: &str, from: &[i64; 2]) -> Result<BaseConsumer> {
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", "mysql-e2e")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "50")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for (t, offset) in from.iter().enumerate() {
        assignment.add_partition_offset(&topic(t), 0, Offset::Offset(*offset))?;
    }
    consumer.assign(&assignment)?;
    Ok(consumer)
}

/// The high watermarks of the topics (0 for a topic not created yet).
fn end_offsets(consumer: &BaseConsumer) -> [i64; 2] {
    let mut ends = [0; 2];
    for (t, end) in ends.iter_mut().enumerate() {
        *end = consumer.fetch_watermarks(&topic(t), 0, Duration::from_secs(2)).map_or(0, |(_, high)| high);
    }
    ends
}

/// The next record `consumer` has, decoded (JSON key `{"id": N}`, JSON value), within `wait`.
fn next_change(consumer: &BaseConsumer, wait: Duration) -> Result<Option<Change>> {
    let Some(message) = consumer.poll(wait) else { return Ok(None) };
    let message = message?;
    let table = (0..TABLES.len()).find(|t| message.topic() == topic(*t)).context("topic")?;
    let key: Json = serde_json::from_slice(message.key().context("a record without a key")?)?;
    let id = key["id"].as_i64().with_context(|| format!("key {key}"))?;
    let value = message.payload().map(serde_json::from_slice::<Json>).transpose()?;
    Ok(Some(Change { table, offset: message.offset(), id, value }))
}

/// What one life of the process wrote, as far as read.
#[derive(Debug, Default)]
struct Progress {
    /// Whether a snapshot's last record came.
    snapshot_finished: bool,
    /// Snapshot records.
    snapshot_reads: usize,
    /// Other records (changes and tombstones).
    streamed: usize,
}

/// Reads the records `consumer` is assigned until `ready` says so of what came and then the connector's stored
/// offset satisfies `stored_ok` (looked up every 100 ms), within [`PATIENCE`]; fails early when the workload
/// stopped. Answers what came and the stored offset.
fn read_until(
    consumer: &BaseConsumer,
    workload: &Workload,
    what: &str,
    (connect, name): (&str, &str),
    ready: impl Fn(&Progress) -> bool,
    stored_ok: impl Fn(&Json) -> bool,
) -> Result<(Progress, Json)> {
    let mut progress = Progress::default();
    let mut stored = Json::Null;
    let mut looked_up: Option<Instant> = None;
    let deadline = Instant::now() + PATIENCE;
    loop {
        ensure!(
            Instant::now() < deadline,
            "{what}: {progress:?}, stored offset {stored}; {}",
            task_state(connect, name)
        );
        ensure!(workload.running(), "the workload stopped early");
        if let Some(change) = next_change(consumer, Duration::from_millis(50))? {
            match change.op() {
                "r" => {
                    progress.snapshot_reads += 1;
                    progress.snapshot_finished |= change.ends_snapshot();
                }
                _ => progress.streamed += 1,
            }
        }
        if ready(&progress) && looked_up.is_none_or(|at| at.elapsed() >= Duration::from_millis(100)) {
            looked_up = Some(Instant::now());
            stored = stored_offset(connect, name)?;
            if stored_ok(&stored) {
                return Ok((progress, stored));
            }
        }
    }
}

/// The rows of `table` as (version, val, amount) by id.
fn table_rows(server: &MariaDbServer, table: &str) -> Result<BTreeMap<i64, (i64, String, i64)>> {
    let out = server.root_sql(&format!("SELECT id, version, val, amount FROM {DATABASE}.{table}"))?;
    out.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            ensure!(fields.len() == 4, "not a row: {line}");
            Ok((fields[0].parse()?, (fields[1].parse()?, fields[2].to_owned(), fields[3].parse()?)))
        })
        .collect()
}

#[test]
fn under_kill_9_in_the_snapshot_and_the_stream_the_topics_end_equal_to_the_tables_in_commit_order() -> Result<()> {
    let started = Instant::now();
    let seed = std::env::var("TIDEMARK_MYSQL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(SEED);
    eprintln!("workload seed {seed} (TIDEMARK_MYSQL_SEED repeats it)");
    let server = Arc::new(MariaDbServer::start()?);
    let mut setup = format!("CREATE DATABASE {DATABASE};");
    for table in TABLES {
        setup.push_str(&format!(
            "CREATE TABLE {DATABASE}.{table} (id BIGINT PRIMARY KEY, version INT NOT NULL, val VARCHAR(20) NOT NULL,
                                              amount BIGINT NOT NULL, pad VARCHAR(100));
             INSERT INTO {DATABASE}.{table} SELECT seq, 1, 'v1', seq * 10, REPEAT('p', 64) FROM {DATABASE}.seq_1_to_{ROWS};"
        ));
    }
    server.root_sql(&setup)?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let mut tidemark = TidemarkProcess::start_up(&data, "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let addresses = UpAddresses::of(&tidemark)?;
    let connect = tidemark.connect_url.clone().context("no connect worker")?;

    // The workload runs from before the connector exists until after the second restart.
    let workload = Workload::start(&server, seed);
    let name = "chaos";
    let definition = json!({"name": name, "config": {
        "connector.class": "mysql",
        "database.hostname": server.host,
        "database.port": server.port.to_string(),
        "database.user": server.user,
        "database.password": server.password,
        "database.server.id": "5500",
        "topic.prefix": PREFIX,
        "table.include.list": TABLES.iter().map(|t| format!("{DATABASE}.{t}")).collect::<Vec<_>>().join(","),
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "false",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "offset.flush.interval.ms": "200",
    }});
    let file = dir.path().join("chaos.json");
    std::fs::write(&file, serde_json::to_vec(&definition)?)?;
    run_cli(&["connector", "create", &file.to_string_lossy(), "--connect-url", &connect])?;
    let created = Instant::now();

    // Kill 0, in the snapshot: once half of the first table was read. The restart takes the snapshot again and then
    // streams from the interrupted snapshot's position, so rows deleted in between do not stay in the topics.
    let watcher = table_consumer(&addresses.kafka, &[0; 2])?;
    let (life, stored) =
        read_until(&watcher, &workload, "kill 0", (&connect, name), |p| p.snapshot_reads as i64 >= ROWS / 2, |_| true)?;
    drop(watcher);
    tidemark.kill9()?;
    eprintln!("kill 0 {:.2} s after the create: {life:?}, stored offset {stored}", created.elapsed().as_secs_f64());
    ensure!(!life.snapshot_finished, "kill 0 must fall inside the snapshot");
    tidemark = addresses.restart(&data)?;

    // Kill 1, in the stream: once the snapshot finished, changes followed it and the worker stored a streaming
    // position (so the restart resumes the stream rather than taking the snapshot again).
    let streaming = |stored: &Json| stored.is_object() && stored.get("snapshot").is_none();
    let watcher = table_consumer(&addresses.kafka, &[0; 2])?;
    let (life, stored) = read_until(
        &watcher,
        &workload,
        "before kill 1",
        (&connect, name),
        |p| p.snapshot_finished && p.streamed >= STREAMED,
        streaming,
    )?;
    drop(watcher);
    tidemark.kill9()?;
    eprintln!("kill 1 {:.2} s after the create: {life:?}, stored offset {stored}", created.elapsed().as_secs_f64());

    // Restart; kill 2, once the stream moved on again and the worker stored a position past the first one.
    let mut tidemark = addresses.restart(&data)?;
    let ends = end_offsets(&table_consumer(&addresses.kafka, &[0; 2])?);
    let watcher = table_consumer(&addresses.kafka, &ends)?;
    let first = stored;
    let (life, stored) = read_until(
        &watcher,
        &workload,
        "before kill 2",
        (&connect, name),
        |p| p.streamed >= STREAMED,
        |stored| streaming(stored) && *stored != first,
    )?;
    drop(watcher);
    tidemark.kill9()?;
    eprintln!("kill 2 {:.2} s after the create: {life:?}, stored offset {stored}", created.elapsed().as_secs_f64());
    ensure!(life.snapshot_reads == 0, "a snapshot taken again after a streaming position was stored: {life:?}");

    // Restart; once the stream moves again, stop the workload and mark the end of each table.
    let tidemark = addresses.restart(&data)?;
    let ends = end_offsets(&table_consumer(&addresses.kafka, &[0; 2])?);
    let watcher = table_consumer(&addresses.kafka, &ends)?;
    let (life, _) = read_until(
        &watcher,
        &workload,
        "after the second restart",
        (&connect, name),
        |p| p.streamed >= STREAMED,
        |_| true,
    )?;
    drop(watcher);
    ensure!(life.snapshot_reads == 0, "a snapshot taken again after a streaming position was stored: {life:?}");
    let stats = workload.stop()?;
    eprintln!("workload: {stats:?}");
    let markers: String = TABLES
        .iter()
        .map(|t| format!("INSERT INTO {DATABASE}.{t} (id, version, val, amount) VALUES ({MARKER}, 1, 'marker', 0);"))
        .collect();
    server.root_sql(&format!("BEGIN; {markers} COMMIT;"))?;

    // Read every record of the topics, up to the markers and to the end.
    let watcher = table_consumer(&addresses.kafka, &[0; 2])?;
    let mut changes: Vec<Change> = Vec::new();
    let mut marked = [false; 2];
    let mut positions = [0i64; 2];
    // The connector catches up on the whole workload here, which takes long on a busy machine: the patience runs
    // from the last record read.
    let mut deadline = Instant::now() + PATIENCE;
    loop {
        if marked.iter().all(|m| *m) {
            let ends = end_offsets(&watcher);
            if (0..2).all(|t| positions[t] >= ends[t]) {
                break;
            }
        }
        ensure!(
            Instant::now() < deadline,
            "markers {marked:?} at {positions:?} of {:?}; {}",
            end_offsets(&watcher),
            task_state(&connect, name)
        );
        if let Some(change) = next_change(&watcher, Duration::from_millis(100))? {
            marked[change.table] |= change.id == MARKER;
            positions[change.table] = change.offset + 1;
            changes.push(change);
            deadline = Instant::now() + PATIENCE;
        }
    }
    let state = task_state(&connect, name);
    ensure!(state.contains("RUNNING"), "the task is not running: {state}");

    for (t, table) in TABLES.iter().enumerate() {
        let rows = table_rows(&server, table)?;
        let mut histories: HashMap<i64, Vec<&Change>> = HashMap::new();
        for change in changes.iter().filter(|c| c.table == t) {
            histories.entry(change.id).or_default().push(change);
        }
        let replayed = check_table(table, &rows, &histories)?;
        let records = changes.iter().filter(|c| c.table == t).count();
        let snapshot = changes.iter().filter(|c| c.table == t && c.op() == "r").count();
        eprintln!(
            "{table}: {records} records ({snapshot} snapshot), {} keys seen, {} rows at the end, {replayed} keys \
             going back to an older version at a replay",
            histories.len(),
            rows.len()
        );
    }
    drop(tidemark);
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
