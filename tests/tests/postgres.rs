//! The Postgres source end to end, against a real Postgres 15 and the real `tidemark up` (broker, registry and
//! connect worker in one process), as a Debezium user would run it: connectors created over Kafka Connect's REST API,
//! topics read by ordinary Kafka clients.
//!
//! - Debezium's own example configuration, pasted as it is, gives Debezium's topics and envelopes in Avro through the
//!   bundled registry (read with confluent-kafka's `AvroDeserializer`): the snapshot, then inserts, updates, deletes
//!   and their tombstones.
//! - The outbox pattern as Debezium documents it (`EventRouter`), read both ways: Avro, and JSON with a string key.
//! - The end-to-end invariant under `kill -9`: a concurrent random workload over three tables while the process is
//!   killed during the snapshot and again during the stream; afterwards the latest value per key in each topic
//!   equals the table, and per-key order matches commit order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
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
use tidemark_tests::postgres::PostgresServer;
use tidemark_tests::rng::Rng;
use tidemark_tests::{client_config, run_cli, TidemarkProcess, UpAddresses};
use tokio_postgres::{NoTls, Row};

/// How long a test waits for what should take a few seconds at most.
const PATIENCE: Duration = Duration::from_secs(60);

/// Blocking SQL against the test's Postgres: a tokio-postgres client on a runtime of its own.
struct Sql {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Sql {
    fn connect(server: &PostgresServer) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (client, connection) = runtime.block_on(tokio_postgres::connect(&server.connection_string(), NoTls))?;
        runtime.spawn(connection);
        Ok(Sql { runtime, client })
    }

    /// Runs `sql` (one or more statements, simple query protocol).
    fn execute(&self, sql: &str) -> Result<()> {
        self.runtime.block_on(self.client.batch_execute(sql)).with_context(|| format!("running {sql}"))
    }

    fn query(&self, sql: &str) -> Result<Vec<Row>> {
        self.runtime.block_on(self.client.query(sql, &[])).with_context(|| format!("running {sql}"))
    }

    /// Waits until a walsender streams every slot in `slots` (`START_REPLICATION` under way), within [`PATIENCE`].
    /// A slot being created is already listed as active, and a transaction committed before its consistent point
    /// belongs to the snapshot, not to the stream.
    fn wait_streaming(&self, slots: &[&str]) -> Result<()> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let streaming: BTreeSet<String> = self
                .query(
                    "SELECT s.slot_name::text FROM pg_replication_slots s
                     JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE r.state = 'streaming'",
                )?
                .iter()
                .map(|row| row.get(0))
                .collect();
            if slots.iter().all(|slot| streaming.contains(*slot)) {
                return Ok(());
            }
            ensure!(Instant::now() < deadline, "slots {slots:?} not streaming, streaming: {streaming:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Debezium's example configuration of its PostgreSQL connector, as printed (verbatim) in the Debezium
/// documentation, "Debezium connector for PostgreSQL" > Deployment > "Connector configuration example"
/// (<https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-example-configuration>).
const DEBEZIUM_EXAMPLE: &str = r#"{
  "name": "fulfillment-connector",
  "config": {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "192.168.99.100",
    "database.port": "5432",
    "database.user": "postgres",
    "database.password": "postgres",
    "database.dbname" : "postgres",
    "topic.prefix": "fulfillment",
    "table.include.list": "public.inventory"
  }
}"#;

const CUSTOMERS: &str = "CREATE SCHEMA inventory;
    CREATE TABLE inventory.customers (
        id int PRIMARY KEY,
        first_name varchar(255) NOT NULL,
        last_name varchar(255) NOT NULL,
        email text,
        balance numeric(10,2),
        joined timestamptz
    );";

#[test]
fn debeziums_example_config_works_as_it_is_with_avro_through_the_bundled_registry() -> Result<()> {
    let server = PostgresServer::start()?;
    let sql = Sql::connect(&server)?;
    sql.execute(CUSTOMERS)?;
    sql.execute(
        "INSERT INTO inventory.customers VALUES
            (1001, 'Sally', 'Thomas', 'sally.thomas@acme.com', 1234.50, '2024-02-29 12:34:56.789+02'),
            (1002, 'George', 'Bailey', 'gbailey@foobar.com', 0.05, NULL),
            (1003, 'Edward', 'Walker', NULL, NULL, '1999-12-31 23:59:59+00');",
    )?;
    let dir = tempfile::tempdir()?;
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;

    // Only what points the example at this test's database changes: the host, the port and the password (the
    // user and the database, `postgres`, are the example's own), and the table (`public.inventory` in the
    // example, `inventory.customers` here). Nothing is added: no plugin.name, no converters (the worker's default
    // in `tidemark up` is Avro through its registry), as a Debezium user would paste it.
    let mut definition: Json = serde_json::from_str(DEBEZIUM_EXAMPLE)?;
    let config = definition["config"].as_object_mut().context("config")?;
    config.insert("database.hostname".into(), json!(server.host));
    config.insert("database.port".into(), json!(server.port.to_string()));
    config.insert("database.password".into(), json!(server.password));
    config.insert("table.include.list".into(), json!("inventory.customers"));
    assert_eq!(config.len(), 8, "the example's keys, no more");
    let connect = tidemark.connect_url.as_deref().context("no connect worker")?;
    create_connectors(connect, dir.path(), &[definition])?;

    let topic = "fulfillment.inventory.customers";
    let snapshot = avro_records(&tidemark, topic, 3)?;
    assert_eq!(snapshot.len(), 3, "the snapshot, once: {snapshot:#?}");
    let ops: Vec<&Json> = snapshot.iter().map(|r| at(r, "/value/op")).collect();
    assert_eq!(ops, [&json!("r"); 3]);
    let markers: Vec<&Json> = snapshot.iter().map(|r| at(r, "/value/source/snapshot")).collect();
    assert_eq!(markers, [&json!("first"), &json!("true"), &json!("last")]);
    for record in &snapshot {
        assert_eq!(at(record, "/key_schema"), &json!("fulfillment.inventory.customers.Key"), "{record}");
        assert_eq!(at(record, "/value_schema"), &json!("fulfillment.inventory.customers.Envelope"), "{record}");
        assert_eq!(at(record, "/value/before"), &Json::Null, "{record}");
        assert_eq!(at(record, "/key/id"), at(record, "/value/after/id"), "{record}");
    }
    let sally = &snapshot[0];
    assert_eq!(
        at(sally, "/value/after"),
        &json!({
            "id": 1001, "first_name": "Sally", "last_name": "Thomas", "email": "sally.thomas@acme.com",
            // numeric(10,2) is Connect's Decimal: Avro's decimal logical type, a Decimal in Python.
            "balance": {"$decimal": "1234.50"},
            "joined": at(sally, "/value/after/joined"),
        })
    );
    // timestamptz is io.debezium.time.ZonedTimestamp: ISO 8601 text in UTC.
    let joined = at(sally, "/value/after/joined").as_str().context("joined")?;
    assert!(joined.starts_with("2024-02-29T10:34:56.789") && joined.ends_with('Z'), "{joined}");
    assert_eq!(at(&snapshot[1], "/value/after/balance"), &json!({"$decimal": "0.05"}));
    assert_eq!(at(&snapshot[2], "/value/after/email"), &Json::Null);
    let source = at(sally, "/value/source");
    for (field, expected) in [
        ("connector", json!("postgresql")),
        ("name", json!("fulfillment")),
        ("db", json!("postgres")),
        ("schema", json!("inventory")),
        ("table", json!("customers")),
    ] {
        assert_eq!(&source[field], &expected, "source.{field}: {source}");
    }
    assert!(source["lsn"].is_i64() && source["txId"].is_i64() && source["ts_ms"].is_i64(), "{source}");
    let snapshot_lsn = source["lsn"].as_i64().context("lsn")?;

    // Streaming: each change in a transaction of its own.
    sql.execute(
        "INSERT INTO inventory.customers VALUES (1004, 'Anne', 'Kretchmar', 'annek@noanswer.org', 99.99, now())",
    )?;
    sql.execute("UPDATE inventory.customers SET balance = 1300.25, email = 'sally@acme.com' WHERE id = 1001")?;
    sql.execute("DELETE FROM inventory.customers WHERE id = 1002")?;
    let all = avro_records(&tidemark, topic, 7)?;
    assert_eq!(all.len(), 7, "three snapshot records, three changes and a tombstone, each once: {all:#?}");
    assert_eq!(&all[..3], &snapshot[..], "the snapshot stays as it was read");
    let (insert, update, delete, tombstone) = (&all[3], &all[4], &all[5], &all[6]);
    let summary: Vec<(&Json, &Json)> = all[3..].iter().map(|r| (at(r, "/key/id"), at(r, "/value/op"))).collect();
    assert_eq!(
        summary,
        [
            (&json!(1004), &json!("c")),
            (&json!(1001), &json!("u")),
            (&json!(1002), &json!("d")),
            (&json!(1002), &Json::Null)
        ]
    );
    assert_eq!(at(insert, "/value/before"), &Json::Null);
    assert_eq!(at(insert, "/value/after/first_name"), &json!("Anne"));
    assert_eq!(at(insert, "/value/after/balance"), &json!({"$decimal": "99.99"}));
    // An update under the default REPLICA IDENTITY: the whole new row after, and no before: pgoutput sends no old
    // tuple unless the key changed, and Debezium's pgoutput decoder then emits before = null (the documentation's
    // example shows the key there; connectors/postgres/tests/source.rs asserts the same as here).
    assert_eq!(at(update, "/value/before"), &Json::Null);
    assert_eq!(
        at(update, "/value/after"),
        &json!({
            "id": 1001, "first_name": "Sally", "last_name": "Thomas", "email": "sally@acme.com",
            "balance": {"$decimal": "1300.25"}, "joined": joined,
        })
    );
    // A delete: the old key in before, no after; then a tombstone with the same key and a null value.
    assert_eq!(at(delete, "/value/before/id"), &json!(1002));
    assert_eq!(at(delete, "/value/after"), &Json::Null);
    assert_eq!(at(tombstone, "/key"), at(delete, "/key"));
    assert_eq!(at(tombstone, "/value"), &Json::Null);
    assert_eq!(at(tombstone, "/value_schema"), &Json::Null);
    // The first change may start right at the snapshot's position (the slot's consistent point).
    let mut previous_lsn = snapshot_lsn - 1;
    for record in [insert, update, delete] {
        let source = at(record, "/value/source");
        assert_eq!(source["snapshot"], json!("false"), "{record}");
        assert_eq!(source["table"], json!("customers"), "{record}");
        let lsn = source["lsn"].as_i64().with_context(|| format!("no source.lsn: {record}"))?;
        assert!(lsn > previous_lsn, "source.lsn {lsn} after {previous_lsn}: {record}");
        previous_lsn = lsn;
        assert!(source["txId"].is_i64() && at(record, "/value/ts_ms").is_i64(), "{record}");
    }
    let streamed_tx: Vec<&Json> = [insert, update, delete].iter().map(|r| at(r, "/value/source/txId")).collect();
    assert!(streamed_tx.windows(2).all(|w| w[0].as_i64() < w[1].as_i64()), "three transactions: {streamed_tx:?}");
    // The snapshot's source.txId is the snapshot transaction's own id (Debezium's `txid_current()`), which no
    // streamed transaction shares.
    let snapshot_tx = at(sally, "/value/source/txId");
    assert!(
        !streamed_tx.contains(&snapshot_tx),
        "the snapshot's source.txId {snapshot_tx} is also a streamed transaction's: {streamed_tx:?}"
    );
    Ok(())
}

/// A table change the registry refuses (a column's type changed incompatibly under the default BACKWARD level)
/// fails the task with the registry's message and the table's topic named, and nothing of the refused version is
/// written.
#[test]
fn a_schema_change_the_registry_refuses_fails_the_task_naming_the_table() -> Result<()> {
    let server = PostgresServer::start()?;
    let sql = Sql::connect(&server)?;
    sql.execute("CREATE TABLE parts (id int PRIMARY KEY, qty int8); INSERT INTO parts VALUES (1, 5);")?;
    let dir = tempfile::tempdir()?;
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let connect = tidemark.connect_url.as_deref().context("no connect worker")?;
    let definition = json!({"name": "parts", "config": {
        "connector.class": "postgres",
        "database.hostname": server.host,
        "database.port": server.port.to_string(),
        "database.user": server.user,
        "database.password": server.password,
        "database.dbname": server.dbname,
        "topic.prefix": "shop",
        "table.include.list": "public.parts",
    }});
    create_connectors(connect, dir.path(), &[definition])?;
    assert_eq!(avro_records(&tidemark, "shop.public.parts", 1)?.len(), 1);

    sql.execute("ALTER TABLE parts ALTER COLUMN qty TYPE text; INSERT INTO parts VALUES (2, 'many');")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let state = loop {
        let state = task_state(connect, "parts");
        if state.contains("FAILED") {
            break state;
        }
        ensure!(Instant::now() < deadline, "the task did not fail: {state}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(state.contains("shop.public.parts"), "the table's topic is named: {state}");
    assert!(state.to_ascii_lowercase().contains("incompatible"), "the registry's message: {state}");
    Ok(())
}

/// Debezium's outbox table, as its "Outbox Event Router" documentation defines it.
const OUTBOX: &str = "CREATE TABLE outbox (
        id uuid NOT NULL PRIMARY KEY,
        aggregatetype varchar(255) NOT NULL,
        aggregateid varchar(255) NOT NULL,
        type varchar(255) NOT NULL,
        payload jsonb
    );
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, total numeric(10,2),
                         status text NOT NULL DEFAULT 'new');";

/// An event id: a fixed UUID ending in `n`.
fn event_id(n: u32) -> String {
    format!("6f1c2a4e-3b5d-4c7e-9a0b-{n:012}")
}

/// One outbox row inserted in SQL.
fn outbox_insert(n: u32, aggregate_type: &str, aggregate_id: &str, event_type: &str, payload: &Json) -> String {
    format!(
        "INSERT INTO outbox VALUES ('{}', '{aggregate_type}', '{aggregate_id}', '{event_type}', '{payload}');",
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
    let server = PostgresServer::start()?;
    let sql = Sql::connect(&server)?;
    sql.execute(OUTBOX)?;
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
    sql.execute(&format!("BEGIN; INSERT INTO customers VALUES (1, 'Ada'); {} COMMIT;", insert(0)))?;
    let dir = tempfile::tempdir()?;
    let tidemark = TidemarkProcess::start_up(dir.path(), "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let database = |prefix: &str, slot: &str| {
        json!({
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": server.host,
            "database.port": server.port.to_string(),
            "database.user": server.user,
            "database.password": server.password,
            "database.dbname": server.dbname,
            "topic.prefix": prefix,
            "slot.name": slot,
            "table.include.list": "public.outbox",
            "tombstones.on.delete": "false",
            // Debezium's basic Outbox Event Router configuration.
            "transforms": "outbox",
            "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
        })
    };
    // Avro through the registry (the worker's default converters): the payload is the jsonb column's text.
    let avro = json!({"name": "outbox-avro", "config": database("shop", "outbox_avro")});
    // JSON for the same events, to topics of their own: a string key, the payload expanded into JSON.
    let mut json_config = database("shopjson", "outbox_json");
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
    sql.wait_streaming(&["outbox_avro", "outbox_json"])?;

    // The rest is streamed, each event in the transaction that changes the business tables; the last one is
    // deleted in its own transaction right away (Debezium's advice to keep the table empty: the delete is not
    // routed), and a rolled-back event never appears.
    sql.execute(&format!("BEGIN; INSERT INTO orders VALUES (100, 1, 99.90); {} COMMIT;", insert(1)))?;
    sql.execute(&format!(
        "BEGIN; INSERT INTO orders VALUES (101, 1, 0); {} UPDATE customers SET name = 'Ada Lovelace' WHERE id = 1;
         {} COMMIT;",
        insert(2),
        insert(3)
    ))?;
    sql.execute(&format!(
        "BEGIN; INSERT INTO orders VALUES (102, 1, 5); {} ROLLBACK;",
        outbox_insert(9, "order", "102", "OrderCreated", &json!({"id": 102}))
    ))?;
    sql.execute(&format!(
        "BEGIN; UPDATE orders SET status = 'shipped' WHERE id = 100; {} DELETE FROM outbox WHERE id = '{}'; COMMIT;",
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
            // Avro: the key is the aggregate id (an Avro string), the value the payload column (io.debezium.data.Json,
            // an Avro string holding the JSON text), the event id in the `id` header.
            assert_eq!(at(record, "/key"), &json!(aggregate_id), "{record}");
            assert_eq!(at(record, "/key_schema"), &json!("string"), "{record}");
            assert_eq!(at(record, "/value_schema"), &json!("io.debezium.data.Json"), "{record}");
            let text = at(record, "/value").as_str().with_context(|| format!("payload not a string: {record}"))?;
            assert_eq!(&serde_json::from_str::<Json>(text)?, *payload, "{record}");
            assert_eq!(at(record, "/headers/id"), &json!(event_id(*n)), "{record}");
            // JSON: the key as text, the payload as the JSON document itself (expanded), the same header.
            assert_eq!(at(json_record, "/key"), &json!(aggregate_id), "{json_record}");
            assert_eq!(at(json_record, "/value"), &expanded(payload), "{json_record}");
            assert_eq!(at(json_record, "/headers/id"), &json!(event_id(*n)), "{json_record}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// The end-to-end invariant under kill -9.
// ---------------------------------------------------------------------------------------------------------------

/// The captured tables.
const TABLES: [&str; 3] = ["accounts", "orders", "shipments"];
/// Rows in each table before the connector is created: what the snapshot reads.
const ROWS: i64 = 20_000;
/// Concurrent writers; writer `w` owns the ids with `id % WRITERS == w`, so their transactions never conflict.
const WRITERS: i64 = 2;
/// The workload's seed (`TIDEMARK_PG_SEED` overrides it, to repeat a failing run's choices).
const SEED: u64 = 0x7D0E_0006;
/// The id of the row each table gets once the workload stopped: when it is in a topic, so is everything before.
const MARKER: i64 = 0;
/// The topic prefix.
const PREFIX: &str = "chaos";

/// What the workload did.
#[derive(Debug, Default)]
struct WorkloadStats {
    committed: u64,
    rolled_back: u64,
    inserts: u64,
    updates: u64,
    deletes: u64,
}

/// One writer: transactions of 1 to 4 random statements over the three tables (insert a fresh id, update a live
/// row, which bumps its `version`, or delete one), one in twenty rolled back, until `stop`; one every few
/// milliseconds.
async fn writer(connection: String, writer: i64, seed: u64, stop: Arc<AtomicBool>) -> Result<WorkloadStats> {
    let (client, driver) = tokio_postgres::connect(&connection, NoTls).await?;
    tokio::spawn(driver);
    let mut rng = Rng(seed ^ (writer as u64).wrapping_mul(0xA076_1D64_78BD_642F));
    let mut live: Vec<Vec<i64>> =
        TABLES.iter().map(|_| (1..=ROWS).filter(|id| id % WRITERS == writer).collect()).collect();
    // Ids are never reused, not even those of rolled-back inserts.
    let mut next_id = ROWS + 1 + writer;
    let mut stats = WorkloadStats::default();
    while !stop.load(Ordering::Relaxed) {
        let mut statements = String::from("BEGIN;");
        let mut after = live.clone();
        let (mut inserts, mut updates, mut deletes) = (0, 0, 0);
        for _ in 0..1 + rng.below(4) {
            let t = rng.below(TABLES.len() as u64) as usize;
            let table = TABLES[t];
            let amount = rng.below(1_000_000);
            let choice = rng.below(10);
            if choice < 3 || after[t].is_empty() {
                let id = next_id;
                next_id += WRITERS;
                after[t].push(id);
                statements.push_str(&format!(
                    "INSERT INTO {table} (id, version, val, amount) VALUES ({id}, 1, 'v1', {amount});"
                ));
                inserts += 1;
            } else if choice < 8 {
                let id = after[t][rng.below(after[t].len() as u64) as usize];
                statements.push_str(&format!(
                    "UPDATE {table} SET version = version + 1, val = 'v' || (version + 1), amount = {amount} \
                     WHERE id = {id};"
                ));
                updates += 1;
            } else {
                let index = rng.below(after[t].len() as u64) as usize;
                let id = after[t].swap_remove(index);
                statements.push_str(&format!("DELETE FROM {table} WHERE id = {id};"));
                deletes += 1;
            }
        }
        if rng.below(20) == 0 {
            statements.push_str("ROLLBACK;");
            client.batch_execute(&statements).await?;
            stats.rolled_back += 1;
        } else {
            statements.push_str("COMMIT;");
            client.batch_execute(&statements).await?;
            live = after;
            stats.committed += 1;
            stats.inserts += inserts;
            stats.updates += updates;
            stats.deletes += deletes;
        }
        tokio::time::sleep(Duration::from_millis(4)).await;
    }
    Ok(stats)
}

/// The workload: [`WRITERS`] writers on a thread of their own until [`Workload::stop`].
struct Workload {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<Vec<WorkloadStats>>>,
}

impl Workload {
    fn start(server: &PostgresServer, seed: u64) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let connection = server.connection_string();
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async move {
                let writers = (0..WRITERS).map(|w| writer(connection.clone(), w, seed, Arc::clone(&flag)));
                join_writers(writers.collect()).await
            })
        });
        Ok(Workload { stop, thread })
    }

    fn running(&self) -> bool {
        !self.thread.is_finished()
    }

    fn stop(self) -> Result<Vec<WorkloadStats>> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().map_err(|_| anyhow!("the workload panicked"))?
    }
}

/// Runs the futures concurrently on the current task; the first error wins.
async fn join_writers<F: std::future::Future<Output = Result<WorkloadStats>> + Send + 'static>(
    futures: Vec<F>,
) -> Result<Vec<WorkloadStats>> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await??);
    }
    Ok(results)
}

/// The topic of table `t`.
fn topic(t: usize) -> String {
    format!("{PREFIX}.public.{}", TABLES[t])
}

/// A consumer assigned to the three topics, each from `from[t]`.
fn table_consumer(bootstrap: &str, from: &[i64; 3]) -> Result<BaseConsumer> {
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", "postgres-e2e")
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

/// The high watermarks of the three topics (0 for a topic not created yet).
fn end_offsets(consumer: &BaseConsumer) -> [i64; 3] {
    let mut ends = [0; 3];
    for (t, end) in ends.iter_mut().enumerate() {
        *end = consumer.fetch_watermarks(&topic(t), 0, Duration::from_secs(2)).map_or(0, |(_, high)| high);
    }
    ends
}

/// The next record `consumer` has, decoded (JSON key `{"id": N}`, JSON value), within `wait`.
fn next_change(consumer: &BaseConsumer, wait: Duration) -> Result<Option<Change>> {
    let Some(message) = consumer.poll(wait) else { return Ok(None) };
    let message = message?;
    let table = TABLES.iter().position(|t| message.topic() == format!("{PREFIX}.public.{t}")).context("topic")?;
    let key: Json = serde_json::from_slice(message.key().context("a record without a key")?)?;
    let id = key["id"].as_i64().with_context(|| format!("key {key}"))?;
    let value = message.payload().map(serde_json::from_slice::<Json>).transpose()?;
    Ok(Some(Change { table, offset: message.offset(), id, value }))
}

/// Reads every record of the three topics in `data_dir` with a `tidemark broker` of its own (the `up` process is
/// down): what survived the crash.
fn records_on_disk(data_dir: &Path) -> Result<Vec<Change>> {
    let broker = TidemarkProcess::start(data_dir, &[])?;
    let consumer = table_consumer(&broker.bootstrap, &[0; 3])?;
    let ends = end_offsets(&consumer);
    let mut changes = Vec::new();
    let mut positions = [0i64; 3];
    let deadline = Instant::now() + PATIENCE;
    while (0..3).any(|t| positions[t] < ends[t]) {
        ensure!(Instant::now() < deadline, "read {positions:?} of {ends:?} records from disk");
        if let Some(change) = next_change(&consumer, Duration::from_millis(100))? {
            positions[change.table] = change.offset + 1;
            changes.push(change);
        }
    }
    Ok(changes)
}

#[test]
fn under_kill_9_in_snapshot_and_stream_the_topics_end_equal_to_the_tables_in_commit_order() -> Result<()> {
    let started = Instant::now();
    let seed = std::env::var("TIDEMARK_PG_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(SEED);
    eprintln!("workload seed {seed} (TIDEMARK_PG_SEED repeats it)");
    let server = PostgresServer::start()?;
    let sql = Sql::connect(&server)?;
    for table in TABLES {
        sql.execute(&format!(
            "CREATE TABLE {table} (id bigint PRIMARY KEY, version int NOT NULL, val text NOT NULL,
                                   amount bigint NOT NULL, pad text);
             INSERT INTO {table} SELECT g, 1, 'v1', g * 10, repeat('p', 64) FROM generate_series(1, {ROWS}) g;"
        ))?;
    }
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data)?;
    let mut tidemark = TidemarkProcess::start_up(&data, "127.0.0.1:0", "127.0.0.1:0", &[])?;
    let addresses = UpAddresses::of(&tidemark)?;
    let connect = tidemark.connect_url.clone().context("no connect worker")?;

    // The workload runs from before the connector exists until after the second restart.
    let workload = Workload::start(&server, seed)?;
    let name = "chaos";
    let definition = json!({"name": name, "config": {
        "connector.class": "postgres",
        "database.hostname": server.host,
        "database.port": server.port.to_string(),
        "database.user": server.user,
        "database.password": server.password,
        "database.dbname": server.dbname,
        "topic.prefix": PREFIX,
        "table.include.list": TABLES.iter().map(|t| format!("public.{t}")).collect::<Vec<_>>().join(","),
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

    // Kill 1, during the snapshot: once a fifth of the pre-existing rows reached the topics.
    let watcher = table_consumer(&addresses.kafka, &[0; 3])?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let ends = end_offsets(&watcher);
        if ends.iter().sum::<i64>() >= ROWS * 3 / 5 {
            break;
        }
        ensure!(Instant::now() < deadline, "the snapshot did not start: {ends:?}, {}", task_state(&connect, name));
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(watcher);
    tidemark.kill9()?;
    eprintln!("killed during the snapshot {:.2} s after the create", created.elapsed().as_secs_f64());
    let first_life = records_on_disk(&data)?;
    let snapshot_done = first_life.iter().any(|c| c.value.as_ref().is_some_and(|v| v["source"]["snapshot"] == "last"));
    ensure!(
        !snapshot_done,
        "the snapshot had finished before the kill ({} records): the test needs a longer snapshot (more ROWS)",
        first_life.len()
    );
    ensure!(!first_life.is_empty(), "nothing of the snapshot was durable before the kill");
    let mut first_ends = [0i64; 3];
    for change in &first_life {
        first_ends[change.table] = first_ends[change.table].max(change.offset + 1);
    }
    eprintln!("after kill 1: {first_ends:?} snapshot records durable");

    // Restart; kill 2, during the stream: once the new snapshot finished, 500 streamed changes followed it and the
    // worker stored a streaming position (so the restart resumes the stream rather than taking the snapshot again).
    let mut tidemark = addresses.restart(&data)?;
    let watcher = table_consumer(&addresses.kafka, &first_ends)?;
    let (mut snapshot_finished, mut streamed, mut stored) = (false, 0, Json::Null);
    let deadline = Instant::now() + PATIENCE;
    loop {
        if snapshot_finished && streamed >= 500 {
            stored = stored_offset(&connect, name)?;
            if stored.is_object() && stored.get("snapshot").is_none() {
                break;
            }
        }
        ensure!(
            Instant::now() < deadline,
            "after the restart: snapshot finished {snapshot_finished}, {streamed} changes streamed, stored offset \
             {stored}; {}",
            task_state(&connect, name)
        );
        if !workload.running() {
            let error = workload.stop().err().unwrap_or_else(|| anyhow!("the workload stopped early"));
            return Err(error.context("the workload failed"));
        }
        if let Some(change) = next_change(&watcher, Duration::from_millis(100))? {
            match change.op() {
                "r" => snapshot_finished |= change.value.as_ref().is_some_and(|v| v["source"]["snapshot"] == "last"),
                _ => streamed += 1,
            }
        }
    }
    drop(watcher);
    tidemark.kill9()?;
    eprintln!(
        "killed during the stream {:.2} s after the create, {streamed} changes streamed, stored offset {stored}",
        created.elapsed().as_secs_f64()
    );

    // Restart; once the stream moves again, stop the workload and mark the end of each table.
    let tidemark = addresses.restart(&data)?;
    let watcher = table_consumer(&addresses.kafka, &[0; 3])?;
    let restarted_at = end_offsets(&watcher).iter().sum::<i64>();
    let deadline = Instant::now() + PATIENCE;
    while end_offsets(&watcher).iter().sum::<i64>() < restarted_at + 500 {
        ensure!(Instant::now() < deadline, "the stream did not resume: {}", task_state(&connect, name));
        std::thread::sleep(Duration::from_millis(20));
    }
    let stats = workload.stop()?;
    eprintln!("workload: {stats:?}");
    let markers: String =
        TABLES.iter().map(|t| format!("INSERT INTO {t} VALUES ({MARKER}, 1, 'marker', 0);")).collect();
    sql.execute(&format!("BEGIN; {markers} COMMIT;"))?;

    // Read every record of the three topics, up to the markers and to the end.
    let mut changes: Vec<Change> = Vec::new();
    let mut marked = [false; 3];
    let mut positions = [0i64; 3];
    let deadline = Instant::now() + PATIENCE;
    loop {
        if marked.iter().all(|m| *m) {
            let ends = end_offsets(&watcher);
            if (0..3).all(|t| positions[t] >= ends[t]) {
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
        }
    }
    let state = task_state(&connect, name);
    ensure!(state.contains("RUNNING"), "the task is not running: {state}");

    for (t, table) in TABLES.iter().enumerate() {
        let rows: BTreeMap<i64, (i64, String, i64)> = sql
            .query(&format!("SELECT id, version, val, amount FROM {table}"))?
            .iter()
            .map(|row| (row.get(0), (i64::from(row.get::<_, i32>(1)), row.get(2), row.get(3))))
            .collect();
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
