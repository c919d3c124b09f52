//! The converters through their public interface: Kafka's own `JsonConverter` expectations ([`kafka_json`]),
//! round trips of every type here, and property tests over generated schemas and values ([`properties`]).

#[path = "converters/kafka_json.rs"]
mod kafka_json;
#[path = "converters/properties.rs"]
mod properties;

use std::collections::BTreeMap;

use tidemark_connect::converters::{
    create_converter, ConvertError, Converter, ConverterType, DecimalFormat, JsonConverter, JsonConverterConfig,
};
use tidemark_connect::data::{decimal, logical, SchemaBuilder, SchemaRef, Struct, Value};

/// A JSON converter for record values.
fn json(schemas_enable: bool, decimal_format: DecimalFormat) -> JsonConverter {
    let defaults = JsonConverterConfig::new(ConverterType::Value);
    JsonConverter::new(JsonConverterConfig { schemas_enable, decimal_format, ..defaults })
}

/// What a converter reads from `text`.
fn read(converter: &impl Converter, text: &str) -> Result<(Option<SchemaRef>, Value), ConvertError> {
    converter.to_connect("topic", Some(text.as_bytes()))
}

/// What a converter writes, as text.
fn write(converter: &impl Converter, schema: Option<&SchemaRef>, value: &Value) -> String {
    let bytes = converter.to_bytes("topic", schema, value).expect("convert").expect("not a tombstone");
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

fn build(builder: SchemaBuilder) -> SchemaRef {
    builder.build().expect("schema")
}

/// A row with a column of every type, as a Debezium-shaped value: logical types, Debezium's semantic names,
/// optional and defaulted columns, containers and a nested struct.
fn every_type() -> (SchemaRef, Value) {
    let string = build(SchemaBuilder::string());
    let int32 = build(SchemaBuilder::int32());
    let source = build(
        SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Source")
            .field("lsn", build(SchemaBuilder::int64().optional()))
            .field("db", string.clone()),
    );
    let columns: Vec<(&str, SchemaRef, Value)> = vec![
        ("i8", build(SchemaBuilder::int8()), Value::Int8(-8)),
        ("i16", build(SchemaBuilder::int16()), Value::Int16(16_000)),
        ("i32", int32.clone(), Value::Int32(-32)),
        ("i64", build(SchemaBuilder::int64()), Value::Int64(i64::MIN)),
        ("f32", build(SchemaBuilder::float32()), Value::Float32(3.25)),
        ("f64", build(SchemaBuilder::float64()), Value::Float64(-1.0e-300)),
        ("nan", build(SchemaBuilder::float64()), Value::Float64(f64::NAN)),
        ("flag", build(SchemaBuilder::boolean()), Value::Boolean(true)),
        ("text", string.clone(), Value::from("tab\t, quote \", é, 😀, \u{1}")),
        ("raw", build(SchemaBuilder::bytes()), Value::from(vec![0u8, 1, 0xff])),
        (
            "price",
            build(logical::decimal(3).parameter(logical::PRECISION, "12")),
            Value::Bytes(decimal::unscaled_bytes(-123_456_789)),
        ),
        ("day", build(logical::date()), Value::Int32(19_000)),
        ("at", build(logical::time()), Value::Int32(43_200_000)),
        ("ts", build(logical::timestamp()), Value::Int64(1_700_000_000_000)),
        (
            "micros",
            build(SchemaBuilder::int64().name("io.debezium.time.MicroTimestamp").version(1)),
            Value::Int64(1_700_000_000_000_123),
        ),
        (
            "doc",
            build(SchemaBuilder::string().optional().name("io.debezium.data.Json").version(1)),
            Value::from(r#"{"a": [1]}"#),
        ),
        (
            "id",
            build(SchemaBuilder::string().name("io.debezium.data.Uuid").version(1)),
            Value::from("1f0e3dad-9990-4c5b-a1b1-aaaaaaaaaaaa"),
        ),
        ("missing", build(SchemaBuilder::string().optional()), Value::Null),
        ("tier", build(SchemaBuilder::string().default_value(Value::from("basic"))), Value::from("gold")),
        ("tags", build(SchemaBuilder::array(string.clone())), Value::Array(vec![Value::from("a"), Value::from("b")])),
        (
            "attrs",
            build(SchemaBuilder::map(string.clone(), int32.clone())),
            Value::Map(vec![(Value::from("x"), Value::Int32(1))]),
        ),
        (
            "codes",
            build(SchemaBuilder::map(int32.clone(), string)),
            Value::Map(vec![(Value::Int32(7), Value::from("seven"))]),
        ),
        (
            "source",
            source.clone(),
            Value::Struct(
                Struct::from_values(source, vec![Value::Int64(33_554_432), Value::from("inventory")]).expect("source"),
            ),
        ),
    ];
    let mut builder = SchemaBuilder::struct_().name("server1.public.everything.Value").version(1).doc("every column");
    for (name, schema, _) in &columns {
        builder = builder.field(*name, schema.clone());
    }
    let schema = build(builder);
    let row = Struct::from_values(schema.clone(), columns.into_iter().map(|(_, _, v)| v).collect()).expect("row");
    row.validate().expect("valid row");
    (schema, Value::Struct(row))
}

#[test]
fn every_type_round_trips_through_json_with_its_schema() {
    let (schema, value) = every_type();
    for format in [DecimalFormat::Base64, DecimalFormat::Numeric] {
        let converter = json(true, format);
        let text = write(&converter, Some(&schema), &value);
        assert_eq!(read(&converter, &text), Ok((Some(schema.clone()), value.clone())), "{format:?}: {text}");
    }
}

#[test]
fn every_type_without_the_envelope_reads_back_as_kafka_infers() {
    let (schema, value) = every_type();
    let converter = json(false, DecimalFormat::Numeric);
    let text = write(&converter, Some(&schema), &value);
    assert!(
        text.starts_with(
            r#"{"i8":-8,"i16":16000,"i32":-32,"i64":-9223372036854775808,"f32":3.25,"f64":-1.0E-300,"nan":"NaN","#
        ),
        "{text}"
    );
    assert!(text.contains(r#""price":-123456.789,"day":19000,"#), "{text}");
    let (read_schema, read_value) = read(&converter, &text).expect("read");
    assert_eq!(read_schema, None);
    let Value::Map(entries) = read_value else { panic!("a map: {read_value:?}") };
    let get = |key: &str| entries.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v.clone());
    assert_eq!(get("i8"), Some(Value::Int64(-8)));
    assert_eq!(get("f32"), Some(Value::Float64(3.25)));
    assert_eq!(get("price"), Some(Value::Float64(-123456.789)));
    assert_eq!(get("raw"), Some(Value::from("AAH/")));
    assert_eq!(get("codes"), Some(Value::Array(vec![Value::Array(vec![Value::Int64(7), Value::from("seven")])])));
    assert_eq!(get("missing"), Some(Value::Null));
}

#[test]
fn schemas_round_trip_through_their_json() {
    let (schema, _) = every_type();
    let converter = json(true, DecimalFormat::Base64);
    let text = converter.schema_to_json(&schema).expect("schema JSON");
    assert_eq!(converter.schema_from_json(text.as_bytes()), Ok(Some(schema)));
}

#[test]
fn string_and_byte_array_converters_round_trip() {
    let props: BTreeMap<String, String> = [("converter.type".to_owned(), "key".to_owned())].into_iter().collect();
    let string = create_converter("org.apache.kafka.connect.storage.StringConverter", &props).expect("string");
    for text in ["", "plain", "é 😀 \u{0}"] {
        let bytes = string.to_bytes("topic", None, &Value::from(text)).expect("bytes");
        let (schema, value) = string.to_connect("topic", bytes.as_deref()).expect("read");
        assert_eq!((schema.map(|s| s.is_optional()), value), (Some(true), Value::from(text)));
    }
    let bytes = create_converter("org.apache.kafka.connect.converters.ByteArrayConverter", &props).expect("bytes");
    for raw in [vec![], vec![0u8, 1, 0xff]] {
        let written = bytes.to_bytes("topic", None, &Value::from(raw.clone())).expect("bytes");
        assert_eq!(bytes.to_connect("topic", written.as_deref()).map(|r| r.1), Ok(Value::from(raw)));
    }
    assert_eq!(bytes.to_bytes("topic", None, &Value::Null), Ok(None));
}

#[test]
fn debezium_change_event_envelope() {
    let key = build(
        SchemaBuilder::struct_().name("server1.inventory.customers.Key").field("id", build(SchemaBuilder::int32())),
    );
    let converter = create_converter("json", &[("converter.type".to_owned(), "key".to_owned())].into_iter().collect())
        .expect("json");
    let row = Struct::from_values(key.clone(), vec![Value::Int32(1001)]).expect("key");
    let text = converter
        .to_bytes("server1.inventory.customers", Some(&key), &Value::Struct(row))
        .expect("bytes")
        .expect("some");
    let expected = r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"server1.inventory.customers.Key"},"payload":{"id":1001}}"#;
    assert_eq!(&text[..], expected.as_bytes());
    assert_eq!(
        converter.to_bytes("server1.inventory.customers", None, &Value::Null),
        Ok(None),
        "the tombstone after a delete"
    );
}
