//! The JDBC sink against real databases (a fresh Postgres and a fresh MariaDB per test), its task driven as the
//! runtime drives it: `start`, `put` batches of records (Debezium change events and flat records), `flush`. Every
//! scenario runs against both databases.

mod common;

use anyhow::{ensure, Result};
use tidemark_connect::connector::{Connector, TaskError};
use tidemark_connect::data::{logical, SchemaBuilder, Struct, Value};
use tidemark_debezium::calendar::days_from_civil;
use tidemark_debezium::names;
use tidemark_jdbc::JdbcSinkConnector;

use common::{batch, put, start_task, Db, Table};

/// One test per database for each scenario.
macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                super::$scenario(super::Db::postgres().await?).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() -> anyhow::Result<()> {
                super::$scenario(super::Db::mariadb().await?).await
            }
        }
    )*};
}

on_both!(
    upserts_deletes_and_replays,
    inserts_updates_and_kafka_keys,
    schema_evolution_creates_tables_and_adds_columns,
    refused_rows_are_rejected_and_the_rest_written,
    missing_tables_and_columns_fail_without_evolution,
    validation_names_the_bad_field,
    lost_connections_are_transient,
    truncate_events_empty_the_table_when_enabled,
    many_rows_with_awkward_values,
);

/// The sink over TLS, to a server that takes TCP connections over TLS only.
mod tls {
    use tidemark_tests::tls::Certificates;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let (trusted, stranger) = super::certificates(dir.path())?;
        let db = super::Db::postgres_tls(&trusted).await?;
        super::writes_over_tls(db, &trusted, &stranger, ("sslmode=verify-full&sslrootcert", "sslmode=disable")).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mariadb() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let (trusted, stranger) = super::certificates(dir.path())?;
        let db = super::Db::mariadb_tls(&trusted).await?;
        super::writes_over_tls(db, &trusted, &stranger, ("sslMode=VERIFY_IDENTITY&serverSslCert", "sslMode=DISABLED"))
            .await
    }

    /// A CA that signed the server's certificate, and one that did not.
    pub(super) fn certificates(dir: &std::path::Path) -> anyhow::Result<(Certificates, Certificates)> {
        Ok((Certificates::generate(dir, "db", "sink")?, Certificates::generate(dir, "stranger", "sink")?))
    }
}
use tls::certificates;

/// With `truncate.enabled`, a truncate event empties the table as it is at that point of the batch: the rows
/// before it go, the rows after it stay; a truncate of a table that does not exist yet changes nothing. Without
/// it, truncate events are skipped (`upserts_deletes_and_replays`).
async fn truncate_events_empty_the_table_when_enabled(mut db: Db) -> Result<()> {
    let props = db.props(&[
        ("insert.mode", "upsert"),
        ("primary.key.mode", "record_key"),
        ("schema.evolution", "basic"),
        ("truncate.enabled", "true"),
    ]);
    let t = customers()?;
    let query = "SELECT id, name, qty FROM pg1_public_customers ORDER BY id";
    let mut task = start_task(&props).await?;
    let first =
        batch(0, vec![t.event("t", customer(&t, 9, "never", None)?)?, t.event("c", customer(&t, 1, "Ann", None)?)?]);
    ensure!(put(&mut task, &first).await?.is_empty(), "a truncate before the table exists is nothing to do");
    assert_eq!(db.lines(query).await?, ["1|Ann|NULL"]);
    let second = batch(
        2,
        vec![
            t.event("c", customer(&t, 2, "Bo", Some(2))?)?,
            t.event("t", customer(&t, 2, "Bo", Some(2))?)?,
            t.event("c", customer(&t, 3, "Cy", Some(3))?)?,
            t.event("u", customer(&t, 3, "Cy", Some(4))?)?,
        ],
    );
    ensure!(put(&mut task, &second).await?.is_empty(), "nothing is rejected");
    assert_eq!(db.lines(query).await?, ["3|Cy|4"]);
    task.stop().await;
    Ok(())
}

fn customers() -> Result<Table> {
    Table::new(
        "pg1.public.customers",
        SchemaBuilder::struct_()
            .field("id", SchemaBuilder::int32().build()?)
            .field("name", SchemaBuilder::string().optional().build()?)
            .field("qty", SchemaBuilder::int32().optional().build()?),
        &["id"],
    )
}

fn customer(table: &Table, id: i32, name: &str, qty: Option<i32>) -> Result<tidemark_connect::data::Struct> {
    table.row(vec![Value::Int32(id), Value::from(name), Value::from(qty)])
}

/// Upserts and deletes from change events and tombstones, in batches of statements of two rows; the same batch
/// again (by a new task, and by the same one) leaves the table as it was; an older record of a partition does not
/// move a row back.
async fn upserts_deletes_and_replays(mut db: Db) -> Result<()> {
    let props = db.props(&[
        ("insert.mode", "upsert"),
        ("primary.key.mode", "record_key"),
        ("delete.enabled", "true"),
        ("schema.evolution", "basic"),
        ("batch.size", "2"),
    ]);
    let t = customers()?;
    let records = batch(
        0,
        vec![
            t.event("r", customer(&t, 1, "Ann", Some(10))?)?,
            t.event("c", customer(&t, 2, "Bo", Some(20))?)?,
            t.event("c", customer(&t, 5, "Ed", Some(50))?)?,
            t.event("u", customer(&t, 1, "Ann B", Some(11))?)?,
            t.event("d", customer(&t, 2, "Bo", Some(20))?)?,
            t.tombstone(&customer(&t, 2, "Bo", Some(20))?)?,
            t.event("c", customer(&t, 3, "Cy", None)?)?,
            t.event("t", customer(&t, 3, "Cy", None)?)?,
            t.event("u", customer(&t, 5, "Ed", Some(51))?)?,
            t.flat(customer(&t, 4, "Di", Some(40))?)?,
        ],
    );
    let expected = ["1|Ann B|11", "3|Cy|NULL", "4|Di|40", "5|Ed|51"];
    let query = "SELECT id, name, qty FROM pg1_public_customers ORDER BY id";

    let mut task = start_task(&props).await?;
    ensure!(put(&mut task, &records).await?.is_empty(), "nothing is rejected");
    assert_eq!(db.lines(query).await?, expected);

    // The same batch again, in the same task (its records are skipped) and in a new one (upserts are idempotent).
    ensure!(put(&mut task, &records).await?.is_empty());
    assert_eq!(db.lines(query).await?, expected);
    let mut fresh = start_task(&props).await?;
    ensure!(put(&mut fresh, &records).await?.is_empty());
    assert_eq!(db.lines(query).await?, expected);
    fresh.stop().await;

    // An older record of the partition (offset 0 again) does not move row 1 back; newer ones apply.
    let newer = batch(
        10,
        vec![t.event("d", customer(&t, 4, "Di", Some(40))?)?, t.tombstone(&customer(&t, 4, "Di", Some(40))?)?],
    );
    let older = batch(0, vec![t.event("r", customer(&t, 1, "Ann", Some(10))?)?]);
    ensure!(put(&mut task, &older).await?.is_empty());
    ensure!(put(&mut task, &newer).await?.is_empty());
    assert_eq!(db.lines(query).await?, ["1|Ann B|11", "3|Cy|NULL", "5|Ed|51"]);
    task.stop().await;
    Ok(())
}

/// `insert.mode=insert` with the key from the value (`record_value`), a duplicate refused by the database,
/// `insert.mode=update` (only existing rows change), and `primary.key.mode=kafka`.
async fn inserts_updates_and_kafka_keys(mut db: Db) -> Result<()> {
    let t = Table::new(
        "orders",
        SchemaBuilder::struct_()
            .field("id", SchemaBuilder::int64().build()?)
            .field("item", SchemaBuilder::string().build()?)
            .field("price", logical::decimal(2).parameter(logical::PRECISION, "8").build()?),
        &["id"],
    )?;
    let order = |id: i64, item: &str, cents: i128| {
        t.row(vec![
            Value::Int64(id),
            Value::from(item),
            Value::Bytes(tidemark_connect::data::decimal::unscaled_bytes(cents)),
        ])
    };
    let keyed = [("primary.key.mode", "record_value"), ("primary.key.fields", "id"), ("schema.evolution", "basic")];
    let mut inserts = start_task(&db.props(&keyed)).await?;
    let rejected = put(
        &mut inserts,
        &batch(
            0,
            vec![t.flat(order(1, "pen", 150)?)?, t.flat(order(2, "ink", 1999)?)?, t.flat(order(1, "pen", 150)?)?],
        ),
    )
    .await?;
    assert_eq!(rejected.iter().map(|r| r.index).collect::<Vec<_>>(), [2], "{rejected:?}");
    ensure!(rejected[0].reason.to_lowercase().contains("duplicate"), "{}", rejected[0].reason);
    assert_eq!(db.primary_key("orders").await?, ["id"]);
    let query = "SELECT id, item, price FROM orders ORDER BY id";
    assert_eq!(db.lines(query).await?, ["1|pen|1.50", "2|ink|19.99"]);
    inserts.stop().await;

    let mut props = db.props(&keyed);
    props.insert("insert.mode".into(), "update".into());
    let mut updates = start_task(&props).await?;
    let changed =
        batch(0, vec![t.flat(order(2, "ink", 2099)?)?, t.flat(order(9, "nib", 1)?)?, t.flat(order(1, "quill", 150)?)?]);
    ensure!(put(&mut updates, &changed).await?.is_empty());
    assert_eq!(db.lines(query).await?, ["1|quill|1.50", "2|ink|20.99"]);
    updates.stop().await;

    let mut props =
        db.props(&[("insert.mode", "upsert"), ("primary.key.mode", "kafka"), ("schema.evolution", "basic")]);
    props.insert("table.name.format".into(), "log_${topic}".into());
    let mut positions = start_task(&props).await?;
    let records = batch(40, vec![t.flat(order(1, "pen", 1)?)?, t.flat(order(1, "pen", 2)?)?]);
    ensure!(put(&mut positions, &records).await?.is_empty());
    let mut again = start_task(&props).await?;
    ensure!(put(&mut again, &records).await?.is_empty());
    assert_eq!(db.primary_key("log_orders").await?, ["__connect_topic", "__connect_partition", "__connect_offset"]);
    let query = "SELECT __connect_topic, __connect_partition, __connect_offset, price FROM log_orders ORDER BY 3";
    assert_eq!(db.lines(query).await?, ["orders|0|40|0.01", "orders|0|41|0.02"]);
    positions.stop().await;
    again.stop().await;
    Ok(())
}

/// A table created from the record's schema (column types, NOT NULL, primary key) with values of Kafka's logical and
/// Debezium's semantic types; then a record with a new field adds a nullable column.
async fn schema_evolution_creates_tables_and_adds_columns(mut db: Db) -> Result<()> {
    let string = |name: &str| SchemaBuilder::string().name(name).optional().build();
    let row = SchemaBuilder::struct_()
        .field("id", SchemaBuilder::int64().build()?)
        .field("code", SchemaBuilder::string().build()?)
        .field("amount", logical::decimal(2).parameter(logical::PRECISION, "10").build()?)
        .field("born", SchemaBuilder::int32().name(names::DATE).optional().build()?)
        .field("seen", SchemaBuilder::int64().name(names::MICRO_TIMESTAMP).optional().build()?)
        .field("at", string(names::ZONED_TIMESTAMP)?)
        .field("doc", string(names::JSON)?)
        .field("flag", SchemaBuilder::boolean().optional().build()?)
        .field("ratio", SchemaBuilder::float64().optional().build()?)
        .field("data", SchemaBuilder::bytes().optional().build()?)
        .field("tiny", SchemaBuilder::int8().optional().build()?)
        .field("tm", SchemaBuilder::int64().name(names::MICRO_TIME).optional().build()?)
        .field("uid", string(names::UUID)?)
        .field("span", SchemaBuilder::int64().name(names::MICRO_DURATION).optional().build()?)
        .field("var", variable_decimal()?);
    let t = Table::new("my1.shop.things", row, &["id", "code"])?;
    let born = days_from_civil(2024, 2, 29) as i32;
    let seen = i64::from(born) * 86_400_000_000 + 36_000_123_456;
    let thing = t.row(vec![
        Value::Int64(1),
        Value::from("a"),
        Value::Bytes(tidemark_connect::data::decimal::unscaled_bytes(-12345)),
        Value::Int32(born),
        Value::Int64(seen),
        Value::from("2024-02-29T12:00:00.5+02:00"),
        Value::from("{\"k\": [1, 2]}"),
        Value::Boolean(true),
        Value::Float64(0.25),
        Value::Bytes(bytes::Bytes::from_static(&[0, 255])),
        Value::Int8(-8),
        Value::Int64(36_000_000_001),
        Value::from("5f0c4d2e-9d1b-4c1e-8a4e-2b7f3c9d1e0a"),
        Value::Int64(1_500_000),
        Value::Struct(Struct::from_values(
            variable_decimal()?,
            vec![Value::Int32(3), Value::Bytes(tidemark_connect::data::decimal::unscaled_bytes(1500))],
        )?),
    ])?;
    let props =
        db.props(&[("insert.mode", "upsert"), ("primary.key.mode", "record_key"), ("schema.evolution", "basic")]);
    let mut task = start_task(&props).await?;
    ensure!(put(&mut task, &batch(0, vec![t.event("c", thing)?])).await?.is_empty());

    let table = "my1_shop_things";
    assert_eq!(db.primary_key(table).await?, ["id", "code"]);
    let types = db.column_types(table).await?;
    let postgres = db.is_postgres();
    let expect = |pg: &str, my: &str| if postgres { pg.to_owned() } else { my.to_owned() };
    assert_eq!(types["id"], "bigint not null");
    assert_eq!(types["code"], expect("text not null", "varchar not null"));
    assert_eq!(types["amount"], expect("numeric not null", "decimal not null"));
    assert_eq!(types["born"], "date");
    assert_eq!(types["seen"], expect("timestamp without time zone", "datetime"));
    assert_eq!(types["at"], expect("timestamp with time zone", "datetime"));
    assert_eq!(types["doc"], expect("jsonb", "longtext"));
    assert_eq!(types["data"], expect("bytea", "longblob"));
    assert_eq!(types["uid"], expect("uuid", "char"));
    assert_eq!(types["span"], expect("interval", "bigint"));

    let query = if db.is_postgres() {
        "SELECT amount, born, seen, at, doc, flag, ratio, encode(data, 'hex'), tiny, tm, uid, span, var \
         FROM my1_shop_things"
    } else {
        "SELECT amount, born, seen, at, doc, flag, ratio, hex(data), tiny, tm, uid, span, var FROM my1_shop_things"
    };
    let expected = if db.is_postgres() {
        "-123.45|2024-02-29|2024-02-29 10:00:00.123456|2024-02-29 10:00:00.5+00|{\"k\": [1, 2]}|t|0.25|00ff|-8|\
         10:00:00.000001|5f0c4d2e-9d1b-4c1e-8a4e-2b7f3c9d1e0a|00:00:01.5|1.500"
    } else {
        "-123.45|2024-02-29|2024-02-29 10:00:00.123456|2024-02-29 10:00:00.500000|{\"k\": [1, 2]}|1|0.25|00FF|-8|\
         10:00:00.000001|5f0c4d2e-9d1b-4c1e-8a4e-2b7f3c9d1e0a|1500000|1.500000000000000000000000000000"
    };
    assert_eq!(db.lines(query).await?, [expected]);

    // A new optional field: the column is added, nullable; the old row has NULL there.
    let wider = Table::new(
        "my1.shop.things",
        SchemaBuilder::struct_()
            .field("id", SchemaBuilder::int64().build()?)
            .field("code", SchemaBuilder::string().build()?)
            .field("amount", logical::decimal(2).parameter(logical::PRECISION, "10").build()?)
            .field("email", SchemaBuilder::string().build()?),
        &["id", "code"],
    )?;
    let amount = Value::Bytes(tidemark_connect::data::decimal::unscaled_bytes(1));
    let second = wider.row(vec![Value::Int64(2), Value::from("b"), amount, Value::from("b@example.com")])?;
    ensure!(put(&mut task, &batch(1, vec![wider.event("c", second)?])).await?.is_empty());
    assert_eq!(db.column_types(table).await?["email"], expect("text", "longtext"));
    assert_eq!(
        db.lines("SELECT id, email, amount FROM my1_shop_things ORDER BY id").await?,
        ["1|NULL|-123.45", "2|b@example.com|0.01"]
    );

    // An array: a Postgres array column; MariaDB has none, so the record is rejected, naming the field.
    let ints = SchemaBuilder::array(SchemaBuilder::int32().optional().build()?).optional().build()?;
    let tagged = Table::new(
        "tagged",
        SchemaBuilder::struct_().field("id", SchemaBuilder::int64().build()?).field("tags", ints),
        &["id"],
    )?;
    let tags = Value::Array(vec![Value::Int32(1), Value::Null, Value::Int32(3)]);
    let rejected = put(&mut task, &batch(2, vec![tagged.flat(tagged.row(vec![Value::Int64(1), tags])?)?])).await?;
    if db.is_postgres() {
        ensure!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(db.column_types("tagged").await?["tags"], "array");
        assert_eq!(db.lines("SELECT id, tags FROM tagged").await?, ["1|{1,NULL,3}"]);
    } else {
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].reason, "field tags: an ARRAY cannot be written to a MySQL column");
    }
    task.stop().await;
    Ok(())
}

/// Debezium's `VariableScaleDecimal` struct.
fn variable_decimal() -> Result<tidemark_connect::data::SchemaRef> {
    Ok(SchemaBuilder::struct_()
        .name(names::VARIABLE_SCALE_DECIMAL)
        .field("scale", SchemaBuilder::int32().build()?)
        .field("value", SchemaBuilder::bytes().build()?)
        .optional()
        .build()?)
}

/// In a table the user made, a CHECK violation, a value out of the column's range and a NULL into NOT NULL come back
/// as rejected records with the database's message; the rest of the batch is written.
async fn refused_rows_are_rejected_and_the_rest_written(mut db: Db) -> Result<()> {
    db.run("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, qty SMALLINT CHECK (qty >= 0))")
        .await?;
    let t = Table::new(
        "items",
        SchemaBuilder::struct_()
            .field("id", SchemaBuilder::int32().build()?)
            .field("name", SchemaBuilder::string().optional().build()?)
            .field("qty", SchemaBuilder::int32().optional().build()?),
        &["id"],
    )?;
    let item =
        |id: i32, name: Option<&str>, qty: i32| t.row(vec![Value::Int32(id), Value::from(name), Value::Int32(qty)]);
    let props = db.props(&[("insert.mode", "upsert"), ("primary.key.mode", "record_key"), ("delete.enabled", "true")]);
    let mut task = start_task(&props).await?;
    let records = batch(
        0,
        vec![
            t.event("c", item(1, Some("ok"), 1)?)?,
            t.event("c", item(2, Some("negative"), -1)?)?,
            t.event("c", item(3, Some("ok too"), 3)?)?,
            t.event("c", item(4, Some("huge"), 70_000)?)?,
            t.event("c", item(5, None, 5)?)?,
            t.event("u", item(1, Some("ok, changed"), 10)?)?,
            t.event("c", item(6, Some("a name far too long for the column"), 6)?)?,
        ],
    );
    let rejected = put(&mut task, &records).await?;
    let indexes: Vec<usize> = rejected.iter().map(|r| r.index).collect();
    assert_eq!(indexes, [1, 3, 4, 6], "{rejected:#?}");
    let reasons: Vec<String> = rejected.iter().map(|r| r.reason.to_lowercase()).collect();
    ensure!(reasons[0].contains("check") || reasons[0].contains("constraint"), "{}", reasons[0]);
    ensure!(reasons[1].contains("out of range"), "{}", reasons[1]);
    ensure!(reasons[2].contains("null"), "{}", reasons[2]);
    ensure!(reasons[3].contains("too long"), "{}", reasons[3]);
    assert_eq!(db.lines("SELECT id, name, qty FROM items ORDER BY id").await?, ["1|ok, changed|10", "3|ok too|3"]);
    task.stop().await;
    Ok(())
}

/// Under `schema.evolution=none` a missing table or column fails the task, saying what is missing.
async fn missing_tables_and_columns_fail_without_evolution(mut db: Db) -> Result<()> {
    let t = customers()?;
    let props = db.props(&[("insert.mode", "upsert"), ("primary.key.mode", "record_key")]);
    let mut task = start_task(&props).await?;
    let records = batch(0, vec![t.event("c", customer(&t, 1, "Ann", Some(1))?)?]);
    match task.put(&records).await {
        Err(TaskError::Definite(message)) => {
            ensure!(message.contains("the table pg1_public_customers does not exist"), "{message}")
        }
        other => anyhow::bail!("expected a definite failure, got {other:?}"),
    }
    db.run("CREATE TABLE pg1_public_customers (id INTEGER PRIMARY KEY, name TEXT)").await?;
    match task.put(&records).await {
        Err(TaskError::Definite(message)) => {
            ensure!(message.contains("the table pg1_public_customers has no column qty"), "{message}")
        }
        other => anyhow::bail!("expected a definite failure, got {other:?}"),
    }
    db.run("ALTER TABLE pg1_public_customers ADD COLUMN qty INTEGER").await?;
    ensure!(put(&mut task, &records).await?.is_empty());
    assert_eq!(db.lines("SELECT id, name, qty FROM pg1_public_customers").await?, ["1|Ann|1"]);
    task.stop().await;
    Ok(())
}

/// Validation connects: a wrong password is reported on the credentials, a database nobody listens on and one that
/// does not exist on `connection.url`; inconsistent settings on the setting to fix.
async fn validation_names_the_bad_field(db: Db) -> Result<()> {
    let connector = JdbcSinkConnector;
    let names =
        |errors: &[tidemark_connect::config::FieldError]| errors.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    assert_eq!(connector.validate(&db.props(&[])).await, []);

    let errors = connector.validate(&db.props(&[("connection.password", "wrong")])).await;
    assert_eq!(names(&errors), ["connection.password", "connection.username"], "{errors:?}");
    ensure!(errors[0].message.contains("refused the login"), "{}", errors[0].message);
    ensure!(!errors[0].message.contains("wrong"), "the password is never shown: {}", errors[0].message);

    let nowhere = format!("{}://127.0.0.1:1/sink", db.url().split("://").next().unwrap_or_default());
    let errors = connector.validate(&db.props(&[("connection.url", &nowhere)])).await;
    assert_eq!(names(&errors), ["connection.url"], "{errors:?}");
    ensure!(errors[0].message.contains("Unable to connect"), "{}", errors[0].message);

    let missing = db.url().replace("/postgres", "/nope").replace("/sink", "/nope");
    let errors = connector.validate(&db.props(&[("connection.url", &missing)])).await;
    assert_eq!(names(&errors), ["connection.url"], "{errors:?}");
    ensure!(errors[0].message.contains("nope"), "{}", errors[0].message);

    let errors = connector.validate(&db.props(&[("delete.enabled", "true"), ("primary.key.mode", "kafka")])).await;
    assert_eq!(names(&errors), ["delete.enabled"], "{errors:?}");
    Ok(())
}

/// With the CA and the host name checked (`connection.url` parameters `verify` plus `=<CA file>`), rows are written;
/// a CA that did not sign the server's certificate is named in validation; without TLS (`plain`) the server refuses
/// the login.
async fn writes_over_tls(
    mut db: Db,
    trusted: &tidemark_tests::tls::Certificates,
    stranger: &tidemark_tests::tls::Certificates,
    (verify, plain): (&str, &str),
) -> Result<()> {
    let connector = JdbcSinkConnector;
    let base = db.url();
    let url = |ca: &std::path::Path| format!("{base}?{verify}={}", ca.display());
    let props = db.props(&[
        ("connection.url", &url(&trusted.ca)),
        ("insert.mode", "upsert"),
        ("primary.key.mode", "record_key"),
        ("schema.evolution", "basic"),
    ]);
    assert_eq!(connector.validate(&props).await, []);
    let t = customers()?;
    let mut task = start_task(&props).await?;
    ensure!(put(&mut task, &batch(0, vec![t.event("c", customer(&t, 1, "Ann", Some(1))?)?])).await?.is_empty());
    assert_eq!(db.lines("SELECT id, name FROM pg1_public_customers").await?, ["1|Ann"]);
    task.stop().await;

    let errors = connector.validate(&db.props(&[("connection.url", &url(&stranger.ca))])).await;
    ensure!(errors.len() == 1 && errors[0].name == "connection.url", "{errors:?}");
    ensure!(errors[0].message.contains("invalid peer certificate: UnknownIssuer"), "{errors:?}");

    let errors = connector.validate(&db.props(&[("connection.url", &format!("{base}?{plain}"))])).await;
    ensure!(errors.first().is_some_and(|e| e.name == "connection.password"), "{errors:?}");
    let refusal = if db.is_postgres() { "no encryption" } else { "Access denied" };
    ensure!(errors[0].message.contains(refusal), "{errors:?}");
    Ok(())
}

/// A connection the server ends makes `put` fail transiently (the runtime retries the batch); the retry connects
/// again and writes it.
async fn lost_connections_are_transient(mut db: Db) -> Result<()> {
    let t = customers()?;
    let props =
        db.props(&[("insert.mode", "upsert"), ("primary.key.mode", "record_key"), ("schema.evolution", "basic")]);
    let mut task = start_task(&props).await?;
    ensure!(put(&mut task, &batch(0, vec![t.event("c", customer(&t, 1, "Ann", Some(1))?)?])).await?.is_empty());
    db.kill_sink_connections().await?;
    let next = batch(1, vec![t.event("c", customer(&t, 2, "Bo", Some(2))?)?]);
    match task.put(&next).await {
        Err(TaskError::Transient(message)) => tracing::info!(%message, "transient, as expected"),
        other => anyhow::bail!("expected a transient failure, got {other:?}"),
    }
    ensure!(put(&mut task, &next).await?.is_empty());
    assert_eq!(db.lines("SELECT id, name FROM pg1_public_customers ORDER BY id").await?, ["1|Ann", "2|Bo"]);
    task.stop().await;
    Ok(())
}

/// The text of row `i`: tabs, newlines, backslashes, quotes and non-ASCII letters for some rows, NULL or empty for
/// others (what COPY's text format must escape).
fn awkward_body(i: i64, revision: u32) -> Option<String> {
    match i % 3 {
        0 => Some(format!("r{revision} row {i}\ttab\nnewline\\back\\slash\r\"quote\" ünï {{a,b}} \\N {:.<300}", ':')),
        1 => None,
        _ => Some(String::new()),
    }
}

/// Bytes of row `i` with the byte values COPY escapes in text.
fn awkward_data(i: i64) -> Vec<u8> {
    vec![(i % 256) as u8, 0, b'\t', b'\n', b'\\', b'\r', 0xff]
}

/// Hundreds of rows per statement (written through COPY on Postgres, in several chunks) with values COPY's text
/// format must escape: inserted into an empty table, then upserted half over existing keys and half new (on
/// Postgres a direct COPY fails on the existing keys and `INSERT ... ON CONFLICT` writes them), then the same
/// upserts again by a new task. Each time the table holds exactly what was sent, and on Postgres no batch needed
/// the row-by-row fallback.
async fn many_rows_with_awkward_values(mut db: Db) -> Result<()> {
    let t = Table::new(
        "notes",
        SchemaBuilder::struct_()
            .field("id", SchemaBuilder::int64().build()?)
            .field("body", SchemaBuilder::string().optional().build()?)
            .field("data", SchemaBuilder::bytes().optional().build()?),
        &["id"],
    )?;
    let note = |i: i64, revision: u32| {
        let body = awkward_body(i, revision).map_or(Value::Null, Value::from);
        t.row(vec![Value::Int64(i), body, Value::Bytes(awkward_data(i).into())])
    };
    let props =
        db.props(&[("insert.mode", "upsert"), ("primary.key.mode", "record_key"), ("schema.evolution", "basic")]);
    let hex = if db.is_postgres() { "encode(data, 'hex')" } else { "LOWER(HEX(data))" };
    let query = format!("SELECT id, body, {hex} FROM notes ORDER BY id");
    let expected = |rows: &[(i64, u32)]| -> Vec<Vec<Option<String>>> {
        rows.iter()
            .map(|&(i, revision)| {
                let data: String = awkward_data(i).iter().map(|b| format!("{b:02x}")).collect();
                vec![Some(i.to_string()), awkward_body(i, revision), Some(data)]
            })
            .collect()
    };

    let mut task = start_task(&props).await?;
    let inserts = batch(0, (1..=1200).map(|i| t.event("c", note(i, 1)?)).collect::<Result<_>>()?);
    ensure!(put(&mut task, &inserts).await?.is_empty(), "nothing is rejected");
    let mut state: Vec<(i64, u32)> = (1..=1200).map(|i| (i, 1)).collect();
    assert_eq!(db.rows(&query).await?, expected(&state));

    let upserts = batch(1200, (601..=1800).map(|i| t.event("u", note(i, 2)?)).collect::<Result<_>>()?);
    ensure!(put(&mut task, &upserts).await?.is_empty(), "nothing is rejected");
    state = (1..=1800).map(|i| (i, if i > 600 { 2 } else { 1 })).collect();
    assert_eq!(db.rows(&query).await?, expected(&state));
    let mut fresh = start_task(&props).await?;
    ensure!(put(&mut fresh, &upserts).await?.is_empty(), "nothing is rejected");
    assert_eq!(db.rows(&query).await?, expected(&state));
    fresh.stop().await;
    task.stop().await;
    if db.is_postgres() {
        // Each of the two puts over existing keys met one in its first direct COPY and was written again, without
        // one (one rollback each); a row the database refused would have cost a second rollback and the put would
        // have gone record by record.
        assert_eq!(db.rolled_back_transactions().await?, 2, "each put over existing keys is written twice at most");
    }
    Ok(())
}
