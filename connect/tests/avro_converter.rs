//! The Avro converter against the real schema registry, served in process over HTTP on a free port (the registry's
//! axum app over its store on an in-process broker): a Debezium-like envelope round trips, its schema lands under
//! `<topic>-value` once, an incompatible change is refused with the registry's own message (definite), a registry
//! that cannot be reached is a transient error, and bytes another producer wrote with plain Avro read as the
//! Connect struct Confluent's converter gives.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use apache_avro::types::Value as AvroValue;
use apache_avro::writer::datum::GenericDatumWriter;
use serde_json::json;
use tidemark_connect::converters::avro::SchemaRegistryError;
use tidemark_connect::converters::{create_converter, AvroConverter, ConvertError, Converter, AVRO_CONVERTER};
use tidemark_connect::data::{decimal, logical, SchemaBuilder, SchemaRef, Struct, Value};
use tidemark_schema_registry::{http, Registry, Store};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const MAX_SCHEMA_BYTES: usize = 1 << 20;

/// A schema registry served on a free port; stops when dropped.
struct RegistryServer {
    url: String,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn registry() -> RegistryServer {
    let (log, dir) = common::in_process_log().await;
    let store = Store::open(log, "_schemas").await.expect("store");
    let registry = Arc::new(Registry::new(store, MAX_SCHEMA_BYTES));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(http::serve(listener, registry, MAX_SCHEMA_BYTES, async move {
        let _ = stopped.await;
    }));
    RegistryServer { url, _stop: stop, _dir: dir }
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A value converter of `url`, made as a worker makes it (class name and properties).
fn converter(url: &str, extra: &[(&str, &str)]) -> Box<dyn Converter> {
    let mut pairs = vec![("converter.type", "value"), ("schema.registry.url", url)];
    pairs.extend_from_slice(extra);
    create_converter(AVRO_CONVERTER, &props(&pairs)).expect("converter")
}

async fn get(url: &str) -> serde_json::Value {
    reqwest::get(url).await.expect("GET").json().await.expect("JSON")
}

fn schema(builder: SchemaBuilder) -> SchemaRef {
    builder.build().expect("schema")
}

/// A Debezium-like change event schema: key columns, an optional row before and after, the source block.
fn envelope() -> SchemaRef {
    let row = schema(
        SchemaBuilder::struct_()
            .name("server1.public.orders.Value")
            .optional()
            .field("id", schema(SchemaBuilder::int32()))
            .field("customer", schema(SchemaBuilder::string().optional()))
            .field("total", schema(logical::decimal(2).parameter(logical::PRECISION, "10")))
            .field("placed_at", schema(logical::timestamp().optional()))
            .field("quantity", schema(SchemaBuilder::int16().default_value(Value::Int16(1)))),
    );
    let source = schema(
        SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Source")
            .field("version", schema(SchemaBuilder::string()))
            .field("connector", schema(SchemaBuilder::string()))
            .field("ts_ms", schema(SchemaBuilder::int64()))
            .field("lsn", schema(SchemaBuilder::int64().optional())),
    );
    schema(
        SchemaBuilder::struct_()
            .name("server1.public.orders.Envelope")
            .version(1)
            .field("before", row.clone())
            .field("after", row)
            .field("source", source)
            .field("op", schema(SchemaBuilder::string()))
            .field("ts_ms", schema(SchemaBuilder::int64().optional())),
    )
}

/// A change event; a null `quantity` is written as the field's default (1), as Kafka's `Struct.get` reads it.
fn event(envelope: &SchemaRef, id: i32, total: i128, quantity: Value) -> Value {
    let field = |name: &str| envelope.field(name).expect(name).schema().clone();
    let row_schema = field("after");
    let row = Struct::from_values(
        row_schema,
        vec![
            Value::Int32(id),
            Value::from("ada"),
            Value::Bytes(decimal::unscaled_bytes(total)),
            Value::Int64(1_700_000_000_123),
            quantity,
        ],
    )
    .expect("row");
    let source = Struct::from_values(
        field("source"),
        vec![Value::from("2.7.0"), Value::from("postgresql"), Value::Int64(1_700_000_000_000), Value::Int64(42)],
    )
    .expect("source");
    let values = vec![Value::Null, Value::Struct(row), Value::Struct(source), Value::from("c"), Value::Int64(7)];
    Value::Struct(Struct::from_values(envelope.clone(), values).expect("envelope"))
}

#[tokio::test]
async fn a_change_event_round_trips_and_registers_once() {
    let server = registry().await;
    let converter = converter(&server.url, &[]);
    let envelope = envelope();
    let value = event(&envelope, 1, 12_345, Value::Null);

    let unprepared = converter.to_bytes("orders", Some(&envelope), &value);
    assert!(matches!(unprepared, Err(ConvertError::NotPrepared(_))), "{unprepared:?}");
    converter.prepare_write("orders", Some(&envelope)).await.expect("prepare");
    let bytes = converter.to_bytes("orders", Some(&envelope), &value).expect("bytes").expect("not a tombstone");
    assert_eq!(bytes[0], 0, "magic byte");
    let id = i32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);

    // The subject holds the Avro form of the schema, as AvroData makes it.
    assert_eq!(get(&format!("{}/subjects", server.url)).await, json!(["orders-value"]));
    let version = get(&format!("{}/subjects/orders-value/versions/1", server.url)).await;
    assert_eq!(version["id"], json!(id));
    let registered: serde_json::Value =
        serde_json::from_str(version["schema"].as_str().expect("schema")).expect("JSON");
    let avro = AvroConverter::new(
        tidemark_connect::converters::avro::AvroConverterConfig::from_props(&props(&[
            ("converter.type", "value"),
            ("schema.registry.url", &server.url),
        ]))
        .expect("config"),
    )
    .expect("converter");
    let expected: serde_json::Value = serde_json::from_str(&avro.avro_schema(&envelope).expect("avro")).expect("JSON");
    assert_eq!(registered, expected);
    assert_eq!(registered["name"], json!("Envelope"));
    assert_eq!(registered["fields"][0]["type"][1]["fields"][2]["type"]["logicalType"], json!("decimal"));

    // A second record, and a rebuilt but equal schema, register nothing new.
    let again = event(&envelope, 2, -1, Value::Int16(4));
    converter.prepare_write("orders", Some(&envelope)).await.expect("prepare again");
    let second = converter.to_bytes("orders", Some(&envelope), &again).expect("bytes").expect("bytes");
    let rebuilt = self::envelope();
    converter.prepare_write("orders", Some(&rebuilt)).await.expect("prepare rebuilt");
    let third = converter
        .to_bytes("orders", Some(&rebuilt), &event(&rebuilt, 3, 0, Value::Int16(2)))
        .expect("bytes")
        .expect("bytes");
    assert_eq!((&second[..5], &third[..5]), (&bytes[..5], &bytes[..5]));
    assert_eq!(get(&format!("{}/subjects/orders-value/versions", server.url)).await, json!([1]));

    // Reading, by another converter (a sink's): the same schema and value.
    let reader = self::converter(&server.url, &[]);
    let unfetched = reader.to_connect("orders", Some(&bytes));
    assert!(matches!(unfetched, Err(ConvertError::NotPrepared(_))), "{unfetched:?}");
    reader.prepare_read("orders", Some(&bytes)).await.expect("prepare read");
    let (read_schema, read_value) = reader.to_connect("orders", Some(&bytes)).expect("read");
    assert_eq!(read_schema.as_ref(), Some(&envelope));
    assert_eq!(read_value, event(&envelope, 1, 12_345, Value::Int16(1)));
    reader.prepare_read("orders", Some(&second)).await.expect("prepare read");
    let (_, second_value) = reader.to_connect("orders", Some(&second)).expect("read");
    assert_eq!(second_value, again);

    // Tombstones both ways; a null for a required schema is an error.
    assert_eq!(converter.to_bytes("orders", None, &Value::Null), Ok(None));
    let optional_row = envelope.field("after").expect("after").schema().clone();
    converter.prepare_write("rows", Some(&optional_row)).await.expect("prepare");
    assert_eq!(converter.to_bytes("rows", Some(&optional_row), &Value::Null), Ok(None));
    assert!(converter.to_bytes("orders", Some(&envelope), &Value::Null).is_err());
    assert_eq!(reader.to_connect("orders", None), Ok((None, Value::Null)));
    let not_avro = reader.to_connect("orders", Some(b"{\"json\":1}"));
    assert!(matches!(&not_avro, Err(e) if !e.is_transient() && e.to_string().contains("magic byte")), "{not_avro:?}");
}

#[tokio::test]
async fn an_incompatible_change_is_refused_with_the_registrys_message() {
    let server = registry().await;
    let converter = converter(&server.url, &[]);
    let v1 = schema(SchemaBuilder::struct_().name("shop.Order").field("id", schema(SchemaBuilder::int64())));
    converter.prepare_write("orders", Some(&v1)).await.expect("v1");
    // A new required field without a default cannot read the old records: BACKWARD refuses it.
    let v2 = schema(
        SchemaBuilder::struct_()
            .name("shop.Order")
            .field("id", schema(SchemaBuilder::int64()))
            .field("customer", schema(SchemaBuilder::string())),
    );
    let refused = converter.prepare_write("orders", Some(&v2)).await;
    let Err(error) = refused else { panic!("expected a refusal") };
    assert!(!error.is_transient());
    let ConvertError::Registry(SchemaRegistryError::Refused { status: 409, code: 40901, message }) = &error else {
        panic!("expected 409 / 40901: {error:?}");
    };
    assert!(message.contains("incompatible"), "{message}");
    assert!(error.to_string().contains(message.as_str()));
    // An optional field (default null) is a compatible change.
    let v3 = schema(
        SchemaBuilder::struct_()
            .name("shop.Order")
            .field("id", schema(SchemaBuilder::int64()))
            .field("customer", schema(SchemaBuilder::string().optional())),
    );
    converter.prepare_write("orders", Some(&v3)).await.expect("v3");
    assert_eq!(get(&format!("{}/subjects/orders-value/versions", server.url)).await, json!([1, 2]));
}

#[tokio::test]
async fn an_unreachable_registry_is_transient() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let converter = converter(&closed, &[]);
    let row = schema(SchemaBuilder::struct_().name("a.B").field("x", schema(SchemaBuilder::int32())));
    let error = converter.prepare_write("t", Some(&row)).await.expect_err("unreachable");
    assert!(error.is_transient(), "{error:?}");
    assert!(matches!(error, ConvertError::Registry(SchemaRegistryError::Unreachable { .. })));
    let bytes = [0u8, 0, 0, 0, 1, 2];
    assert!(converter.prepare_read("t", Some(&bytes)).await.expect_err("unreachable").is_transient());

    // With a second URL that answers, the converter carries on.
    let server = registry().await;
    let both = format!("{closed},{}", server.url);
    let converter = self::converter(&both, &[]);
    converter.prepare_write("t", Some(&row)).await.expect("second URL");
    let value = Value::Struct(Struct::from_values(row.clone(), vec![Value::Int32(5)]).expect("row"));
    assert!(converter.to_bytes("t", Some(&row), &value).expect("bytes").is_some());
}

#[tokio::test]
async fn without_auto_registration_schemas_are_looked_up() {
    let server = registry().await;
    let row = schema(SchemaBuilder::struct_().name("a.B").field("x", schema(SchemaBuilder::int32())));
    let lookup_only = converter(&server.url, &[("auto.register.schemas", "false")]);
    let missing = lookup_only.prepare_write("t", Some(&row)).await.expect_err("not registered");
    assert!(!missing.is_transient());
    assert!(missing.to_string().contains("auto.register.schemas"), "{missing}");
    converter(&server.url, &[]).prepare_write("t", Some(&row)).await.expect("register");
    lookup_only.prepare_write("t", Some(&row)).await.expect("found");
}

/// What confluent-kafka's AvroSerializer writes: a plain Avro schema registered over HTTP, Avro binary after the
/// 5-byte header.
#[tokio::test]
async fn plain_avro_from_another_producer_reads_as_confluent_reads_it() {
    let server = registry().await;
    let avro_schema = r#"{"type":"record","name":"User","namespace":"example","fields":[
        {"name":"id","type":"long"},
        {"name":"email","type":["null","string"],"default":null},
        {"name":"tier","type":{"type":"enum","name":"Tier","symbols":["FREE","PRO"]}},
        {"name":"tags","type":{"type":"array","items":"string"}},
        {"name":"balance","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
        {"name":"joined","type":{"type":"int","logicalType":"date"}}]}"#;
    let client = tidemark_connect::http_client::builder(None).expect("trust").build().expect("the HTTP client");
    let registered: serde_json::Value = client
        .post(format!("{}/subjects/users-value/versions", server.url))
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(json!({ "schema": avro_schema }).to_string())
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("JSON");
    let id = registered["id"].as_i64().expect("id") as i32;

    let parsed = apache_avro::Schema::parse_str(avro_schema).expect("apache-avro schema");
    let record = AvroValue::Record(vec![
        ("id".into(), AvroValue::Long(7)),
        ("email".into(), AvroValue::Union(1, Box::new(AvroValue::String("ada@example.com".into())))),
        ("tier".into(), AvroValue::Enum(1, "PRO".into())),
        ("tags".into(), AvroValue::Array(vec![AvroValue::String("a".into()), AvroValue::String("b".into())])),
        ("balance".into(), AvroValue::Decimal(apache_avro::Decimal::from(vec![0x30u8, 0x39]))),
        ("joined".into(), AvroValue::Date(19_000)),
    ]);
    let body =
        GenericDatumWriter::builder(&parsed).build().expect("writer").write_value_to_vec(record).expect("encode");
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(&body);

    let converter = converter(&server.url, &[]);
    converter.prepare_read("users", Some(&bytes)).await.expect("prepare");
    let (read_schema, value) = converter.to_connect("users", Some(&bytes)).expect("read");
    let tier = schema(
        SchemaBuilder::string()
            .name("example.Tier")
            .parameter("io.confluent.connect.avro.Enum", "example.Tier")
            .parameter("io.confluent.connect.avro.Enum.FREE", "FREE")
            .parameter("io.confluent.connect.avro.Enum.PRO", "PRO"),
    );
    // Confluent's converter gives the top-level schema the registry's version of it under the subject.
    let expected_schema = schema(
        SchemaBuilder::struct_()
            .name("example.User")
            .version(1)
            .field("id", schema(SchemaBuilder::int64()))
            .field("email", schema(SchemaBuilder::string().optional()))
            .field("tier", tier)
            .field("tags", schema(SchemaBuilder::array(schema(SchemaBuilder::string()))))
            .field("balance", schema(logical::decimal(2).parameter(logical::PRECISION, "10")))
            .field("joined", schema(logical::date())),
    );
    assert_eq!(read_schema.as_ref(), Some(&expected_schema));
    let expected = Struct::from_values(
        expected_schema,
        vec![
            Value::Int64(7),
            Value::from("ada@example.com"),
            Value::from("PRO"),
            Value::Array(vec![Value::from("a"), Value::from("b")]),
            Value::from(vec![0x30u8, 0x39]),
            Value::Int32(19_000),
        ],
    )
    .expect("struct");
    assert_eq!(value, Value::Struct(expected));
    assert_eq!(decimal::to_text(&[0x30, 0x39], 2).as_deref(), Ok("123.45"));

    // An id the registry does not have is a definite error.
    let mut unknown = bytes.clone();
    unknown[1..5].copy_from_slice(&999i32.to_be_bytes());
    let error = converter.prepare_read("users", Some(&unknown)).await.expect_err("unknown id");
    assert!(!error.is_transient());
    assert!(matches!(error, ConvertError::Registry(SchemaRegistryError::Refused { status: 404, .. })), "{error:?}");
}

/// The Python interpreter with confluent-kafka (`scripts/test` makes the venv and sets `TIDEMARK_PYTHON`).
fn python() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("TIDEMARK_PYTHON") {
        return Some(path.into());
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pyenv/bin/python");
    venv.exists().then_some(venv)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

/// confluent-kafka's AvroDeserializer reads what the converter writes, and the converter reads what its
/// AvroSerializer writes.
#[tokio::test]
async fn confluent_kafka_reads_ours_and_we_read_theirs() {
    let Some(python) = python() else {
        eprintln!("skipped: no Python venv with confluent-kafka (scripts/test makes it and sets TIDEMARK_PYTHON)");
        return;
    };
    let server = registry().await;
    let converter = converter(&server.url, &[]);
    let envelope = envelope();
    converter.prepare_write("orders", Some(&envelope)).await.expect("prepare");
    let ours = converter.to_bytes("orders", Some(&envelope), &event(&envelope, 1, 12_345, Value::Null)).expect("bytes");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python/avro_converter_check.py");
    let url = server.url.clone();
    let arg = hex(&ours.expect("bytes"));
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python).arg(script).args([url.as_str(), "orders", arg.as_str()]).output()
    })
    .await
    .expect("join")
    .expect("python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "stdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr));
    let mut lines = stdout.lines();
    let read: serde_json::Value = serde_json::from_str(lines.next().expect("first line")).expect("JSON");
    assert_eq!(read["before"], json!(null));
    assert_eq!(read["op"], json!("c"));
    assert_eq!(read["after"]["id"], json!(1));
    assert_eq!(read["after"]["total"], json!("123.45"));
    assert_eq!(read["after"]["quantity"], json!(1));
    assert_eq!(read["after"]["placed_at"], json!("2023-11-14T22:13:20.123000+00:00"));
    assert_eq!(read["source"]["lsn"], json!(42));

    let theirs = unhex(lines.next().expect("second line"));
    converter.prepare_read("py-orders", Some(&theirs)).await.expect("prepare read");
    let (schema, value) = converter.to_connect("py-orders", Some(&theirs)).expect("read");
    let schema = schema.expect("schema");
    assert_eq!(schema.name(), Some("py.Payment"));
    let Value::Struct(payment) = value else { panic!("a struct") };
    assert_eq!(payment.get("id"), Ok(&Value::Int64(9)));
    assert_eq!(payment.get("payer"), Ok(&Value::from("py")));
    let Ok(Value::Bytes(amount)) = payment.get("amount") else { panic!("amount") };
    assert_eq!(decimal::to_text(amount, 2).as_deref(), Ok("1.50"));
    assert_eq!(payment.get("kind"), Ok(&Value::from("CASH")));
}

/// `basic.auth.credentials.source=USER_INFO` and credentials in the URL both reach the registry as HTTP basic
/// authentication; a 401 is a definite refusal.
#[tokio::test]
async fn credentials_reach_the_registry() {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    let app = axum::Router::new().route(
        "/subjects/{subject}/versions",
        post(|headers: HeaderMap| async move {
            match headers.get("authorization").and_then(|v| v.to_str().ok()) {
                Some("Basic ZnJlZDpsZXRtZWlu") => (StatusCode::OK, r#"{"id":5}"#),
                _ => (StatusCode::UNAUTHORIZED, r#"{"error_code":401,"message":"Unauthorized"}"#),
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{address}");
    let row = schema(SchemaBuilder::struct_().name("a.B").field("x", schema(SchemaBuilder::int32())));
    let value = Value::Struct(Struct::from_values(row.clone(), vec![Value::Int32(1)]).expect("row"));

    let user_info =
        converter(&url, &[("basic.auth.credentials.source", "USER_INFO"), ("basic.auth.user.info", "fred:letmein")]);
    user_info.prepare_write("t", Some(&row)).await.expect("authorised");
    let bytes = user_info.to_bytes("t", Some(&row), &value).expect("bytes").expect("bytes");
    assert_eq!(&bytes[..5], &[0, 0, 0, 0, 5]);

    let in_url = converter(&format!("http://fred:letmein@{address}"), &[]);
    in_url.prepare_write("t", Some(&row)).await.expect("authorised by the URL");

    let anonymous = converter(&url, &[]);
    let error = anonymous.prepare_write("t", Some(&row)).await.expect_err("unauthorised");
    assert!(!error.is_transient());
    assert!(matches!(error, ConvertError::Registry(SchemaRegistryError::Refused { status: 401, .. })), "{error:?}");
}
