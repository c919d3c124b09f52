//! The schema mapping against Confluent's `AvroDataTest` expectations (the Avro schemas `AvroData` makes, written as
//! the JSON Avro's Java library prints), and the binary codec against `apache-avro`.

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value as AvroValue;
use apache_avro::writer::datum::GenericDatumWriter;
use bytes::BytesMut;
use serde_json::json;

use super::binary::Reader as BinaryReader;
use super::config::AvroDataConfig;
use super::encode::{EncodeOptions, SharedBlocks};
use super::{decode, encode, from_connect, parse, to_connect};
use crate::data::{logical, Path, SchemaBuilder, SchemaRef, Struct, Value};

const DEFAULTS: AvroDataConfig = AvroDataConfig {
    enhanced_avro_schema_support: false,
    connect_meta_data: true,
    scrub_invalid_names: false,
    allow_optional_map_keys: false,
    ignore_default_for_nullables: false,
    schemas_cache_size: 1000,
};

fn schema(builder: SchemaBuilder) -> SchemaRef {
    builder.build().expect("schema")
}

fn avro_text(schema: &SchemaRef, config: &AvroDataConfig) -> String {
    from_connect::from_connect(schema, config).and_then(|a| a.to_json()).expect("avro schema")
}

/// The Avro schema of `schema`, as JSON (member order aside).
fn avro(schema: &SchemaRef) -> serde_json::Value {
    serde_json::from_str(&avro_text(schema, &DEFAULTS)).expect("JSON")
}

fn back(avro_json: &str, version: Option<i32>, config: &AvroDataConfig) -> SchemaRef {
    let avro = parse::parse(avro_json).expect("parse");
    to_connect::to_connect(&avro, version, config).expect("to connect")
}

fn encoded(schema: &SchemaRef, value: &Value) -> Vec<u8> {
    let avro = from_connect::from_connect(schema, &DEFAULTS).expect("avro");
    let mut out = BytesMut::new();
    let options = EncodeOptions { ignore_default_for_nullables: false };
    encode::value(&mut out, (&avro, &SharedBlocks::default()), schema, value, options, &Path::Root).expect("encode");
    out.to_vec()
}

fn decoded(schema: &SchemaRef, bytes: &[u8]) -> (SchemaRef, Value) {
    let text = avro_text(schema, &DEFAULTS);
    let avro = parse::parse(&text).expect("parse");
    let connect = to_connect::to_connect(&avro, None, &DEFAULTS).expect("to connect");
    let value = decode::value(&mut BinaryReader::new(bytes), &avro, &connect).expect("decode");
    (connect, value)
}

fn theirs_decode(avro_json: &str, bytes: &[u8]) -> AvroValue {
    let schema = apache_avro::Schema::parse_str(avro_json).expect("apache-avro parses the schema");
    let reader = GenericDatumReader::builder(&schema).build().expect("reader");
    let mut input = bytes;
    let value = reader.read_value(&mut input).expect("apache-avro decodes");
    assert!(input.is_empty(), "apache-avro read every byte");
    value
}

fn theirs_encode(avro_json: &str, value: AvroValue) -> Vec<u8> {
    let schema = apache_avro::Schema::parse_str(avro_json).expect("apache-avro parses the schema");
    GenericDatumWriter::builder(&schema)
        .build()
        .expect("writer")
        .write_value_to_vec(value)
        .expect("apache-avro encodes")
}

#[test]
fn primitives_as_avrodata_maps_them() {
    // AvroDataTest.testFromConnectByte / Short / Integer / ...
    assert_eq!(avro(&schema(SchemaBuilder::int8())), json!({"type": "int", "connect.type": "int8"}));
    assert_eq!(avro(&schema(SchemaBuilder::int16())), json!({"type": "int", "connect.type": "int16"}));
    assert_eq!(avro(&schema(SchemaBuilder::int32())), json!("int"));
    assert_eq!(avro(&schema(SchemaBuilder::int64())), json!("long"));
    assert_eq!(avro(&schema(SchemaBuilder::float32())), json!("float"));
    assert_eq!(avro(&schema(SchemaBuilder::float64())), json!("double"));
    assert_eq!(avro(&schema(SchemaBuilder::boolean())), json!("boolean"));
    assert_eq!(avro(&schema(SchemaBuilder::string())), json!("string"));
    assert_eq!(avro(&schema(SchemaBuilder::bytes())), json!("bytes"));
    assert_eq!(avro(&schema(SchemaBuilder::string().optional())), json!(["null", "string"]));
    let defaulted = schema(SchemaBuilder::int32().optional().default_value(Value::Int32(5)));
    assert_eq!(avro(&defaulted), json!([{"type": "int", "connect.default": 5}, "null"]));
    // Exact text, in Avro's member order.
    assert_eq!(
        avro_text(&schema(SchemaBuilder::int16().optional()), &DEFAULTS),
        r#"["null",{"type":"int","connect.type":"int16"}]"#
    );
}

#[test]
fn maps_as_avrodata_maps_them() {
    let string = schema(SchemaBuilder::string());
    let int = schema(SchemaBuilder::int32());
    // testFromConnectMapWithStringKey
    assert_eq!(avro(&schema(SchemaBuilder::map(string, int.clone()))), json!({"type": "map", "values": "int"}));
    // testFromConnectMapWithNonStringKey
    let entry = json!({"type": "array", "items": {"type": "record", "name": "MapEntry", "namespace": "io.confluent.connect.avro",
        "fields": [{"name": "key", "type": "int"}, {"name": "value", "type": "int"}]}});
    assert_eq!(avro(&schema(SchemaBuilder::map(int.clone(), int.clone()))), entry);
    // testFromConnectMapWithOptionalKey
    let optional_key = schema(SchemaBuilder::map(crate::data::Schema::optional_string(), int.clone()));
    assert_eq!(
        avro(&optional_key),
        json!({"type": "array", "items": {"type": "record", "name": "MapEntry", "namespace": "io.confluent.connect.avro",
            "fields": [{"name": "key", "type": ["null", "string"], "default": null}, {"name": "value", "type": "int"}]}})
    );
    // testFromNamedConnectMapWithNonStringKey
    let named = schema(SchemaBuilder::map(crate::data::Schema::optional_string(), int.clone()).name("foo.bar"));
    assert_eq!(
        avro(&named),
        json!({"type": "array", "connect.name": "foo.bar", "items": {"type": "record", "name": "bar", "namespace": "foo",
            "connect.internal.type": "MapEntry",
            "fields": [{"name": "key", "type": ["null", "string"], "default": null}, {"name": "value", "type": "int"}]}})
    );
    // testFromConnectMapWithAllowOptionalKey
    let allow = AvroDataConfig { allow_optional_map_keys: true, ..DEFAULTS };
    let optional_values =
        schema(SchemaBuilder::map(crate::data::Schema::optional_string(), crate::data::Schema::optional_string()));
    let text = avro_text(&optional_values, &allow);
    assert_eq!(text, r#"{"type":"map","values":["null","string"]}"#);
}

/// AvroDataTest.testFromConnectComplex: an unnamed struct of every type.
#[test]
fn complex_struct_as_avrodata_maps_it() {
    let int = schema(SchemaBuilder::int32());
    let row = schema(
        SchemaBuilder::struct_()
            .field("int8", schema(SchemaBuilder::int8().default_value(Value::Int8(2)).doc("int8 field")))
            .field("int16", schema(SchemaBuilder::int16()))
            .field("int32", int.clone())
            .field("int64", schema(SchemaBuilder::int64()))
            .field("float32", schema(SchemaBuilder::float32()))
            .field("float64", schema(SchemaBuilder::float64()))
            .field("boolean", schema(SchemaBuilder::boolean()))
            .field("string", schema(SchemaBuilder::string()))
            .field("bytes", schema(SchemaBuilder::bytes()))
            .field("array", schema(SchemaBuilder::array(schema(SchemaBuilder::string()))))
            .field("map", schema(SchemaBuilder::map(schema(SchemaBuilder::string()), int.clone())))
            .field("mapNonStringKeys", schema(SchemaBuilder::map(int.clone(), int.clone()))),
    );
    let expected = json!({"type": "record", "name": "ConnectDefault", "namespace": "io.confluent.connect.avro", "fields": [
        {"name": "int8", "type": {"type": "int", "connect.doc": "int8 field", "connect.default": 2, "connect.type": "int8"}, "default": 2},
        {"name": "int16", "type": {"type": "int", "connect.type": "int16"}},
        {"name": "int32", "type": "int"},
        {"name": "int64", "type": "long"},
        {"name": "float32", "type": "float"},
        {"name": "float64", "type": "double"},
        {"name": "boolean", "type": "boolean"},
        {"name": "string", "type": "string"},
        {"name": "bytes", "type": "bytes"},
        {"name": "array", "type": {"type": "array", "items": "string"}},
        {"name": "map", "type": {"type": "map", "values": "int"}},
        {"name": "mapNonStringKeys", "type": {"type": "array", "items": {"type": "record", "name": "MapEntry",
            "fields": [{"name": "key", "type": "int"}, {"name": "value", "type": "int"}]}}}
    ]});
    assert_eq!(avro(&row), expected);
}

/// AvroDataTest.testFromConnectComplexWithDefaults: logical types and defaults.
#[test]
fn logical_types_and_defaults_as_avrodata_maps_them() {
    let row = schema(
        SchemaBuilder::struct_()
            .field("float32", schema(SchemaBuilder::float32().default_value(Value::Float32(12.2)).doc("float32 field")))
            .field(
                "bytes",
                schema(SchemaBuilder::bytes().default_value(Value::from(b"foo".to_vec())).doc("bytes field")),
            )
            .field("date", schema(logical::date().default_value(Value::Int32(100)).doc("date field")))
            .field("time", schema(logical::time().default_value(Value::Int32(7_200_000)).doc("time field")))
            .field("ts", schema(logical::timestamp().default_value(Value::Int64(31_536_000_100)).doc("ts field")))
            .field(
                "decimal",
                schema(logical::decimal(5).default_value(Value::from(vec![0x04u8, 0xcb, 0x2f])).doc("decimal field")),
            ),
    );
    let expected = json!({"type": "record", "name": "ConnectDefault", "namespace": "io.confluent.connect.avro", "fields": [
        {"name": "float32", "type": {"type": "float", "connect.doc": "float32 field", "connect.default": 12.2}, "default": 12.2},
        {"name": "bytes", "type": {"type": "bytes", "connect.doc": "bytes field", "connect.default": "foo"}, "default": "foo"},
        {"name": "date", "type": {"type": "int", "connect.doc": "date field", "connect.version": 1, "connect.default": 100,
            "connect.name": "org.apache.kafka.connect.data.Date", "logicalType": "date"}, "default": 100},
        {"name": "time", "type": {"type": "int", "connect.doc": "time field", "connect.version": 1, "connect.default": 7_200_000,
            "connect.name": "org.apache.kafka.connect.data.Time", "logicalType": "time-millis"}, "default": 7_200_000},
        {"name": "ts", "type": {"type": "long", "connect.doc": "ts field", "connect.version": 1, "connect.default": 31_536_000_100u64,
            "connect.name": "org.apache.kafka.connect.data.Timestamp", "logicalType": "timestamp-millis"}, "default": 31_536_000_100u64},
        {"name": "decimal", "type": {"type": "bytes", "scale": 5, "precision": 64, "connect.doc": "decimal field", "connect.version": 1,
            "connect.parameters": {"scale": "5"}, "connect.default": "\u{4}\u{cb}/",
            "connect.name": "org.apache.kafka.connect.data.Decimal", "logicalType": "decimal"}, "default": "\u{4}\u{cb}/"}
    ]});
    assert_eq!(avro(&row), expected);
    let precise = schema(logical::decimal(2).parameter(logical::PRECISION, "10"));
    assert_eq!(
        avro_text(&precise, &DEFAULTS),
        r#"{"type":"bytes","scale":2,"precision":10,"connect.version":1,"connect.parameters":{"scale":"2","connect.decimal.precision":"10"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}"#
    );
    let no_metadata = AvroDataConfig { connect_meta_data: false, ..DEFAULTS };
    assert_eq!(
        avro_text(&schema(logical::timestamp()), &no_metadata),
        r#"{"type":"long","logicalType":"timestamp-millis"}"#
    );
    assert_eq!(avro_text(&schema(SchemaBuilder::int8()), &no_metadata), r#""int""#);
}

/// Named structs, shared types, optional structs and default names.
#[test]
fn records_are_named_and_defined_once() {
    let value = schema(
        SchemaBuilder::struct_()
            .name("server1.inventory.customers.Value")
            .field("id", schema(SchemaBuilder::int32()))
            .field("email", schema(SchemaBuilder::string().optional())),
    );
    let optional = schema(
        SchemaBuilder::struct_()
            .name("server1.inventory.customers.Value")
            .optional()
            .field("id", schema(SchemaBuilder::int32()))
            .field("email", schema(SchemaBuilder::string().optional())),
    );
    let envelope = schema(
        SchemaBuilder::struct_()
            .name("server1.inventory.customers.Envelope")
            .version(1)
            .field("before", optional.clone())
            .field("after", optional)
            .field("op", schema(SchemaBuilder::string())),
    );
    assert_eq!(
        avro_text(&envelope, &DEFAULTS),
        r#"{"type":"record","name":"Envelope","namespace":"server1.inventory.customers","fields":[{"name":"before","type":["null",{"type":"record","name":"Value","fields":[{"name":"id","type":"int"},{"name":"email","type":["null","string"],"default":null}],"connect.name":"server1.inventory.customers.Value"}],"default":null},{"name":"after","type":["null","Value"],"default":null},{"name":"op","type":"string"}],"connect.version":1,"connect.name":"server1.inventory.customers.Envelope"}"#
    );
    assert_eq!(avro(&value)["name"], json!("Value"));
    // Two different unnamed structs: ConnectDefault, then ConnectDefault2.
    let a = schema(SchemaBuilder::struct_().field("x", schema(SchemaBuilder::int32())));
    let b = schema(SchemaBuilder::struct_().field("y", schema(SchemaBuilder::int32())));
    let outer = schema(SchemaBuilder::struct_().field("a", a.clone()).field("b", b).field("c", a));
    let names = avro(&outer);
    assert_eq!(names["name"], json!("ConnectDefault"));
    assert_eq!(names["fields"][0]["type"]["name"], json!("ConnectDefault2"));
    assert_eq!(names["fields"][1]["type"]["name"], json!("ConnectDefault3"));
    assert_eq!(names["fields"][2]["type"], json!("ConnectDefault2"));
    // Two different structs of one name cannot be one Avro schema.
    let x1 = schema(SchemaBuilder::struct_().name("X").field("a", schema(SchemaBuilder::int32())));
    let x2 = schema(SchemaBuilder::struct_().name("X").field("b", schema(SchemaBuilder::int32())));
    let clash = schema(SchemaBuilder::struct_().field("one", x1).field("two", x2));
    let error = from_connect::from_connect(&clash, &DEFAULTS).and_then(|a| a.to_json());
    assert_eq!(error.map_err(|e| e.to_string()), Err("Can't redefine: X".to_owned()));
}

#[test]
fn unions_enums_and_scrubbed_names() {
    let union = schema(
        SchemaBuilder::struct_()
            .name("io.confluent.connect.avro.Union")
            .optional()
            .field("int", schema(SchemaBuilder::int32().optional()))
            .field("string", schema(SchemaBuilder::string().optional())),
    );
    assert_eq!(avro(&union), json!(["null", "int", "string"]));
    let colour = schema(
        SchemaBuilder::string()
            .name("Colour")
            .parameter("io.confluent.connect.avro.Enum", "shop.Colour")
            .parameter("io.confluent.connect.avro.Enum.RED", "RED")
            .parameter("io.confluent.connect.avro.Enum.GREEN", "GREEN"),
    );
    let enhanced = AvroDataConfig { enhanced_avro_schema_support: true, ..DEFAULTS };
    assert_eq!(
        avro_text(&colour, &enhanced),
        r#"{"type":"enum","name":"Colour","namespace":"shop","symbols":["RED","GREEN"],"connect.parameters":{"io.confluent.connect.avro.Enum":"shop.Colour","io.confluent.connect.avro.Enum.RED":"RED","io.confluent.connect.avro.Enum.GREEN":"GREEN"},"connect.name":"Colour"}"#
    );
    assert_eq!(avro(&colour)["type"], json!("string"));
    let scrub = AvroDataConfig { scrub_invalid_names: true, ..DEFAULTS };
    let odd = schema(SchemaBuilder::struct_().name("my-db.1st.row").field("a-b", schema(SchemaBuilder::int32())));
    let text = avro_text(&odd, &scrub);
    assert!(
        text.starts_with(
            r#"{"type":"record","name":"row","namespace":"my_db.x1st","fields":[{"name":"a_b","type":"int"}]"#
        ),
        "{text}"
    );
}

/// What other producers register (plain Avro, as confluent-kafka's AvroSerializer writes it) reads as AvroData
/// reads it.
#[test]
fn plain_avro_as_avrodata_reads_it() {
    let text = r#"{"type":"record","name":"User","namespace":"example","doc":"a user","fields":[
        {"name":"id","type":"long"},
        {"name":"email","type":["null","string"],"default":null},
        {"name":"age","type":"int","default":18,"doc":"years"},
        {"name":"colour","type":{"type":"enum","name":"Colour","symbols":["RED","GREEN"]}},
        {"name":"either","type":["int","string","null"]},
        {"name":"tags","type":{"type":"map","values":"string"}},
        {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
        {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"hash","type":{"type":"fixed","name":"Hash","size":2}}]}"#;
    let user = back(text, Some(3), &DEFAULTS);
    let expected = schema(
        SchemaBuilder::struct_()
            .name("example.User")
            .version(3)
            .parameter("io.confluent.connect.avro.record.doc", "a user")
            .parameter("io.confluent.connect.avro.field.doc.age", "years")
            .field("id", schema(SchemaBuilder::int64()))
            .field("email", schema(SchemaBuilder::string().optional()))
            .field(
                "age",
                schema(
                    SchemaBuilder::int32()
                        .parameter("io.confluent.connect.avro.field.default", "true")
                        .default_value(Value::Int32(18)),
                ),
            )
            .field(
                "colour",
                schema(
                    SchemaBuilder::string()
                        .name("example.Colour")
                        .parameter("io.confluent.connect.avro.Enum", "example.Colour")
                        .parameter("io.confluent.connect.avro.Enum.RED", "RED")
                        .parameter("io.confluent.connect.avro.Enum.GREEN", "GREEN"),
                ),
            )
            .field(
                "either",
                schema(
                    SchemaBuilder::struct_()
                        .name("io.confluent.connect.avro.Union")
                        .optional()
                        .field("int", schema(SchemaBuilder::int32().optional()))
                        .field("string", schema(SchemaBuilder::string().optional())),
                ),
            )
            .field("tags", schema(SchemaBuilder::map(crate::data::Schema::string(), schema(SchemaBuilder::string()))))
            .field("price", schema(logical::decimal(2).parameter(logical::PRECISION, "10")))
            .field("at", schema(logical::timestamp()))
            .field("hash", schema(SchemaBuilder::bytes().name("example.Hash").parameter("connect.fixed.size", "2"))),
    );
    assert_eq!(user, expected);
    let enhanced = AvroDataConfig { enhanced_avro_schema_support: true, ..DEFAULTS };
    let union = back(r#"[{"type":"record","name":"a.R","fields":[]},"int"]"#, None, &enhanced);
    assert_eq!(union.fields().iter().map(|f| f.name()).collect::<Vec<_>>(), ["a.R", "int"]);
    let union = back(r#"[{"type":"record","name":"a.R","fields":[]},"int"]"#, None, &DEFAULTS);
    assert_eq!(union.fields().iter().map(|f| f.name()).collect::<Vec<_>>(), ["R", "int"]);
}

#[test]
fn avro_schemas_connect_cannot_take_are_refused() {
    let refused = |text: &str| {
        let avro = parse::parse(text).expect("parse");
        to_connect::to_connect(&avro, None, &DEFAULTS).map_err(|e| e.to_string())
    };
    assert!(refused(r#""null""#).is_err_and(|e| e.contains("Standalone null")));
    assert!(refused(r#"{"type":"int","connect.type":"int128"}"#).is_err_and(|e| e.contains("annotation")));
    assert!(refused(r#"["int","int"]"#).is_err_and(|e| e.contains("Multiple union schemas")));
    assert!(refused(r#"{"type":"int","logicalType":"date","connect.version":2}"#)
        .is_err_and(|e| e.contains("Mismatched versions")));
    assert!(refused(r#"{"type":"int","connect.parameters":{"a":1}}"#).is_err_and(|e| e.contains("strings")));
    // An invalid default is dropped, not refused.
    let dropped =
        back(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}"#, None, &DEFAULTS);
    assert_eq!(dropped.fields()[0].schema().default_value(), None);
}

/// Connect → Avro → Connect gives the schema back, parameters in order.
#[test]
fn schemas_round_trip() {
    let int = schema(SchemaBuilder::int32());
    let source = schema(
        SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.Source")
            .field("version", schema(SchemaBuilder::string()))
            .field("lsn", schema(SchemaBuilder::int64().optional()))
            .field(
                "snapshot",
                schema(
                    SchemaBuilder::string()
                        .name("io.debezium.data.Enum")
                        .version(1)
                        .parameter("allowed", "true,last,false,incremental")
                        .default_value(Value::from("false"))
                        .optional(),
                ),
            ),
    );
    let row = schema(
        SchemaBuilder::struct_()
            .name("server1.public.orders.Value")
            .doc("a row")
            .optional()
            .field("id", int.clone())
            .field("small", schema(SchemaBuilder::int16().default_value(Value::Int16(3))))
            .field("price", schema(logical::decimal(2).parameter(logical::PRECISION, "10").optional()))
            .field("day", schema(logical::date().optional()))
            .field("at", schema(SchemaBuilder::int64().name("io.debezium.time.MicroTimestamp").version(1)))
            .field("tags", schema(SchemaBuilder::array(schema(SchemaBuilder::string())).optional()))
            .field("counts", schema(SchemaBuilder::map(int.clone(), schema(SchemaBuilder::float64().optional())))),
    );
    let envelope = schema(
        SchemaBuilder::struct_()
            .name("server1.public.orders.Envelope")
            .version(1)
            .field("before", row.clone())
            .field("after", row)
            .field("source", source)
            .field("op", schema(SchemaBuilder::string()))
            .field("ts_ms", schema(SchemaBuilder::int64().optional())),
    );
    assert_eq!(back(&avro_text(&envelope, &DEFAULTS), None, &DEFAULTS), envelope);
    // Without a version of its own, the registry's version is the schema's.
    let unversioned = schema(SchemaBuilder::struct_().name("a.B").field("x", int));
    assert_eq!(back(&avro_text(&unversioned, &DEFAULTS), Some(4), &DEFAULTS).version(), Some(4));
    assert_eq!(back(&avro_text(&envelope, &DEFAULTS), Some(4), &DEFAULTS).version(), Some(1));
}

/// Our bytes read back through apache-avro, and apache-avro's bytes through ours.
#[test]
fn binary_agrees_with_apache_avro() {
    let int = schema(SchemaBuilder::int32());
    let inner = schema(SchemaBuilder::struct_().name("a.Inner").optional().field("x", schema(SchemaBuilder::int64())));
    let row = schema(
        SchemaBuilder::struct_()
            .name("a.Row")
            .field("i8", schema(SchemaBuilder::int8()))
            .field("i16", schema(SchemaBuilder::int16().optional()))
            .field("i32", int.clone())
            .field("f32", schema(SchemaBuilder::float32()))
            .field("f64", schema(SchemaBuilder::float64()))
            .field("flag", schema(SchemaBuilder::boolean()))
            .field("text", schema(SchemaBuilder::string().optional()))
            .field("blob", schema(SchemaBuilder::bytes()))
            .field("price", schema(logical::decimal(2)))
            .field("day", schema(logical::date()))
            .field("list", schema(SchemaBuilder::array(int.clone())))
            .field("dict", schema(SchemaBuilder::map(schema(SchemaBuilder::string()), int.clone())))
            .field("pairs", schema(SchemaBuilder::map(int.clone(), schema(SchemaBuilder::string()))))
            .field("inner", inner.clone())
            .field("defaulted", schema(SchemaBuilder::int64().optional().default_value(Value::Int64(9)))),
    );
    let inner_value = Struct::from_values(inner, vec![Value::Int64(-5)]).expect("inner");
    let value = Value::Struct(
        Struct::from_values(
            row.clone(),
            vec![
                Value::Int8(-3),
                Value::Null,
                Value::Int32(1_000_000),
                Value::Float32(1.5),
                Value::Float64(-2.25),
                Value::Boolean(true),
                Value::from("héllo"),
                Value::from(vec![0u8, 255]),
                Value::from(vec![0u8, 0x9c]),
                Value::Int32(19_000),
                Value::Array(vec![Value::Int32(1), Value::Int32(-1)]),
                Value::Map(vec![(Value::from("k"), Value::Int32(7))]),
                Value::Map(vec![(Value::Int32(1), Value::from("one")), (Value::Int32(2), Value::from("two"))]),
                Value::Struct(inner_value),
                Value::Null,
            ],
        )
        .expect("row"),
    );
    let bytes = encoded(&row, &value);
    let text = avro_text(&row, &DEFAULTS);
    let AvroValue::Record(fields) = theirs_decode(&text, &bytes) else { panic!("a record") };
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    assert_eq!(field("i8"), Some(AvroValue::Int(-3)));
    assert_eq!(field("i16"), Some(AvroValue::Union(0, Box::new(AvroValue::Null))));
    assert_eq!(field("text"), Some(AvroValue::Union(1, Box::new(AvroValue::String("héllo".into())))));
    assert_eq!(field("day"), Some(AvroValue::Date(19_000)));
    assert_eq!(field("list"), Some(AvroValue::Array(vec![AvroValue::Int(1), AvroValue::Int(-1)])));
    assert_eq!(field("defaulted"), Some(AvroValue::Union(0, Box::new(AvroValue::Long(9)))));
    let Some(AvroValue::Array(pairs)) = field("pairs") else { panic!("pairs") };
    assert_eq!(pairs.len(), 2);
    // And back through our decoder: the value, with the default written in.
    let (read_schema, read) = decoded(&row, &bytes);
    assert_eq!(read_schema, row);
    let Value::Struct(read) = read else { panic!("a struct") };
    let Value::Struct(original) = value else { panic!("a struct") };
    assert_eq!(&read.values()[..14], &original.values()[..14]);
    assert_eq!(read.values()[14], Value::Int64(9));
    // apache-avro's own bytes for the same record read the same.
    let theirs = theirs_encode(&text, AvroValue::Record(fields));
    assert_eq!(theirs, bytes);
}

#[test]
fn unions_and_enums_encode_as_apache_avro_expects() {
    let union_schema = schema(
        SchemaBuilder::struct_()
            .name("io.confluent.connect.avro.Union")
            .field("int", schema(SchemaBuilder::int32().optional()))
            .field("string", schema(SchemaBuilder::string().optional())),
    );
    let union_value =
        Value::Struct(Struct::from_values(union_schema.clone(), vec![Value::Null, Value::from("s")]).expect("u"));
    let bytes = encoded(&union_schema, &union_value);
    let text = avro_text(&union_schema, &DEFAULTS);
    assert_eq!(theirs_decode(&text, &bytes), AvroValue::Union(1, Box::new(AvroValue::String("s".into()))));
    assert_eq!(decoded(&union_schema, &bytes).1, union_value);

    let enhanced = AvroDataConfig { enhanced_avro_schema_support: true, ..DEFAULTS };
    let colour = schema(
        SchemaBuilder::string()
            .parameter("io.confluent.connect.avro.Enum", "Colour")
            .parameter("io.confluent.connect.avro.Enum.RED", "RED")
            .parameter("io.confluent.connect.avro.Enum.GREEN", "GREEN"),
    );
    let avro = from_connect::from_connect(&colour, &enhanced).expect("avro");
    let mut out = BytesMut::new();
    let options = EncodeOptions { ignore_default_for_nullables: false };
    let blocks = SharedBlocks::default();
    encode::value(&mut out, (&avro, &blocks), &colour, &Value::from("GREEN"), options, &Path::Root).expect("encode");
    let text = avro.to_json().expect("json");
    assert_eq!(theirs_decode(&text, &out), AvroValue::Enum(1, "GREEN".into()));
    let wrong =
        encode::value(&mut BytesMut::new(), (&avro, &blocks), &colour, &Value::from("BLUE"), options, &Path::Root);
    assert!(wrong.is_err());
}

#[test]
fn encoding_errors_name_the_path() {
    let row = schema(
        SchemaBuilder::struct_()
            .field("id", schema(SchemaBuilder::int32()))
            .field("list", schema(SchemaBuilder::array(schema(SchemaBuilder::string())))),
    );
    let avro = from_connect::from_connect(&row, &DEFAULTS).expect("avro");
    let options = EncodeOptions { ignore_default_for_nullables: false };
    let value = |id: Value, list: Vec<Value>| {
        Value::Struct(Struct::from_values(row.clone(), vec![id, Value::Array(list)]).expect("row"))
    };
    let blocks = SharedBlocks::default();
    let error = |v: &Value| {
        encode::value(&mut BytesMut::new(), (&avro, &blocks), &row, v, options, &Path::Root).map_err(|e| e.to_string())
    };
    assert_eq!(error(&value(Value::Null, vec![])), Err("$.id: null for a required INT32 value".to_owned()));
    assert_eq!(
        error(&value(Value::Int32(1), vec![Value::Int32(1)])),
        Err("$.list[0]: expected STRING, found INT32".to_owned())
    );
    assert!(error(&value(Value::Int32(1), vec![Value::from("a")])).is_ok());
}

#[test]
fn malformed_bytes_are_refused() {
    let row =
        schema(SchemaBuilder::struct_().field("list", schema(SchemaBuilder::array(schema(SchemaBuilder::string())))));
    let avro = from_connect::from_connect(&row, &DEFAULTS).expect("avro");
    let connect = to_connect::to_connect(&avro, None, &DEFAULTS).expect("connect");
    let read = |bytes: &[u8]| decode::value(&mut BinaryReader::new(bytes), &avro, &connect);
    assert!(read(&[]).is_err());
    assert!(read(&[0x7e]).is_err(), "a count past the end of the data");
    assert!(read(&[2, 4, b'a']).is_err(), "a string past the end");
    assert!(read(&[2, 2, 0xc3]).is_err(), "invalid UTF-8");
    assert!(read(&[2, 0, 0]).is_ok());
    let nulls = schema(SchemaBuilder::array(schema(SchemaBuilder::struct_())));
    let avro = from_connect::from_connect(&nulls, &DEFAULTS).expect("avro");
    let connect = to_connect::to_connect(&avro, None, &DEFAULTS).expect("connect");
    let mut huge = BytesMut::new();
    super::binary::long(&mut huge, i64::MAX);
    assert!(decode::value(&mut BinaryReader::new(&huge), &avro, &connect).is_err(), "zero-size items are bounded");
}

#[test]
fn shared_structs_are_encoded_once_and_alike() {
    let source = schema(
        SchemaBuilder::struct_()
            .name("Source")
            .field("db", schema(SchemaBuilder::string()))
            .field("lsn", schema(SchemaBuilder::int64().optional())),
    );
    let envelope =
        schema(SchemaBuilder::struct_().field("id", schema(SchemaBuilder::int32())).field("source", source.clone()));
    let avro = from_connect::from_connect(&envelope, &DEFAULTS).expect("avro");
    let options = EncodeOptions { ignore_default_for_nullables: false };
    let block = |db: &str| Struct::from_values(source.clone(), vec![Value::from(db), Value::Int64(7)]).expect("source");
    let event = |id: i32, block: Struct| {
        Value::Struct(
            Struct::from_values(envelope.clone(), vec![Value::Int32(id), Value::Struct(block)]).expect("event"),
        )
    };
    let blocks = SharedBlocks::default();
    let encode = |value: &Value| {
        let mut out = BytesMut::new();
        encode::value(&mut out, (&avro, &blocks), &envelope, value, options, &Path::Root).expect("encode");
        out.to_vec()
    };
    let shop = block("shop").into_shared();
    let stock = block("stock").into_shared();
    for (id, shared, owned) in [(1, &shop, block("shop")), (2, &shop, block("shop")), (3, &stock, block("stock"))] {
        let from_memo = encode(&event(id, shared.clone()));
        assert_eq!(from_memo, encode(&event(id, owned.clone())), "record {id}");
        assert_eq!(from_memo, encoded(&envelope, &event(id, owned)), "record {id}");
    }
    assert_eq!(encode(&event(4, shop.clone())), encoded(&envelope, &event(4, block("shop"))), "after another block");
}
