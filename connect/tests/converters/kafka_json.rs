//! Kafka's own expectations for its `JsonConverter`, from `connect/json/src/test/.../JsonConverterTest.java`: the
//! JSON it reads (its exact input strings) and the JSON it writes. Kafka's tests compare written JSON as trees; here
//! the bytes must also be exactly Jackson's output of Kafka's `asJsonSchema` / `convertToJson` (member order, no
//! spaces), and each is checked to be the same tree as the test's expected string.

use super::{json, read, write};
use tidemark_connect::converters::{ConvertError, Converter, DecimalFormat};
use tidemark_connect::data::{logical, Schema, SchemaBuilder, SchemaRef, Struct, Value};

fn schema(builder: SchemaBuilder) -> SchemaRef {
    builder.build().expect("schema")
}

/// `our` is byte for byte `exact`, and the same JSON tree as Kafka's expected `kafka` (a schema alone).
fn assert_schema_and_payload(written: &str, exact: &str, kafka_schema: &str) {
    assert_eq!(written, exact);
    let tree: serde_json::Value = serde_json::from_str(written).expect("our JSON");
    let kafka: serde_json::Value = serde_json::from_str(kafka_schema).expect("Kafka's JSON");
    assert_eq!(tree["schema"], kafka, "schema of {written}");
}

#[test]
fn schema_metadata_to_connect() {
    let c = json(true, DecimalFormat::Base64);
    assert_eq!(
        read(&c, r#"{ "schema": { "type": "boolean" }, "payload": true }"#),
        Ok((Some(schema(SchemaBuilder::boolean())), Value::Boolean(true)))
    );
    let optional = schema(SchemaBuilder::boolean().optional());
    assert_eq!(
        read(&c, r#"{ "schema": { "type": "boolean", "optional": true }, "payload": null }"#),
        Ok((Some(optional), Value::Null))
    );
    let defaulted = schema(SchemaBuilder::boolean().default_value(Value::Boolean(true)));
    assert_eq!(
        read(&c, r#"{ "schema": { "type": "boolean", "default": true }, "payload": null }"#),
        Ok((Some(defaulted), Value::Boolean(true)))
    );
    let full = schema(
        SchemaBuilder::boolean().required().name("bool").version(2).doc("the documentation").parameter("foo", "bar"),
    );
    let text = r#"{ "schema": { "type": "boolean", "optional": false, "name": "bool", "version": 2, "doc": "the documentation", "parameters": { "foo": "bar" }}, "payload": true }"#;
    assert_eq!(read(&c, text), Ok((Some(full), Value::Boolean(true))));
}

#[test]
fn primitives_to_connect() {
    let c = json(true, DecimalFormat::Base64);
    let cases = [
        (r#"{ "schema": { "type": "int8" }, "payload": 12 }"#, SchemaBuilder::int8(), Value::Int8(12)),
        (r#"{ "schema": { "type": "int16" }, "payload": 12 }"#, SchemaBuilder::int16(), Value::Int16(12)),
        (r#"{ "schema": { "type": "int32" }, "payload": 12 }"#, SchemaBuilder::int32(), Value::Int32(12)),
        (
            r#"{ "schema": { "type": "int64" }, "payload": 4398046511104 }"#,
            SchemaBuilder::int64(),
            Value::Int64(4398046511104),
        ),
        (r#"{ "schema": { "type": "float" }, "payload": 12.34 }"#, SchemaBuilder::float32(), Value::Float32(12.34)),
        (r#"{ "schema": { "type": "double" }, "payload": 12.34 }"#, SchemaBuilder::float64(), Value::Float64(12.34)),
        (
            r#"{ "schema": { "type": "bytes" }, "payload": "dGVzdC1zdHJpbmc=" }"#,
            SchemaBuilder::bytes(),
            Value::from(&b"test-string"[..]),
        ),
        (
            r#"{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }"#,
            SchemaBuilder::string(),
            Value::from("foo-bar-baz"),
        ),
    ];
    for (text, builder, value) in cases {
        assert_eq!(read(&c, text), Ok((Some(schema(builder)), value)), "{text}");
    }
}

#[test]
fn containers_to_connect() {
    let c = json(true, DecimalFormat::Base64);
    let int32 = schema(SchemaBuilder::int32());
    let array = r#"{ "schema": { "type": "array", "items": { "type" : "int32" } }, "payload": [1, 2, 3] }"#;
    let items = Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)]);
    assert_eq!(read(&c, array), Ok((Some(schema(SchemaBuilder::array(int32.clone()))), items)));
    let map = r#"{ "schema": { "type": "map", "keys": { "type" : "string" }, "values": { "type" : "int32" } }, "payload": { "key1": 12, "key2": 15} }"#;
    let entries = Value::Map(vec![(Value::from("key1"), Value::Int32(12)), (Value::from("key2"), Value::Int32(15))]);
    assert_eq!(read(&c, map).map(|r| r.1), Ok(entries));
    let pairs = r#"{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, "payload": [ [1, 12], [2, 15] ] }"#;
    let entries = Value::Map(vec![(Value::Int32(1), Value::Int32(12)), (Value::Int32(2), Value::Int32(15))]);
    assert_eq!(read(&c, pairs), Ok((Some(schema(SchemaBuilder::map(int32.clone(), int32))), entries)));
    let row = r#"{ "schema": { "type": "struct", "fields": [{ "field": "field1", "type": "boolean" }, { "field": "field2", "type": "string" }] }, "payload": { "field1": true, "field2": "string" } }"#;
    let expected = schema(
        SchemaBuilder::struct_()
            .field("field1", schema(SchemaBuilder::boolean()))
            .field("field2", schema(SchemaBuilder::string())),
    );
    let mut value = Struct::new(expected.clone()).expect("struct");
    value.put("field1", true).expect("field1").put("field2", "string").expect("field2");
    assert_eq!(read(&c, row), Ok((Some(expected), Value::Struct(value))));
    let optional = r#"{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true }, {  "field": "required", "type": "string" }] }, "payload": { "required": "required" } }"#;
    let (_, value) = read(&c, optional).expect("optional field");
    assert_eq!(value.as_struct().map(|s| s.values().to_vec()), Some(vec![Value::Null, Value::from("required")]));
}

#[test]
fn nulls_and_schemaless_to_connect() {
    let c = json(true, DecimalFormat::Base64);
    assert_eq!(c.to_connect("topic", None), Ok((None, Value::Null)));
    assert_eq!(read(&c, r#"{ "schema": null, "payload": null }"#), Ok((None, Value::Null)));
    assert_eq!(read(&c, r#"{ "schema": null, "payload": true }"#), Ok((None, Value::Boolean(true))));
    assert_eq!(read(&c, r#"{ "schema": null, "payload": 12 }"#), Ok((None, Value::Int64(12))));
    assert_eq!(read(&c, r#"{ "schema": null, "payload": 12.24 }"#), Ok((None, Value::Float64(12.24))));
    assert_eq!(read(&c, r#"{ "schema": null, "payload": "a string" }"#), Ok((None, Value::from("a string"))));
    let mixed = Value::Array(vec![Value::Int64(1), Value::from("2"), Value::Int64(3)]);
    assert_eq!(read(&c, r#"{ "schema": null, "payload": [1, "2", 3] }"#), Ok((None, mixed)));
    let object = Value::Map(vec![(Value::from("field1"), Value::Int64(1)), (Value::from("field2"), Value::Int64(2))]);
    assert_eq!(read(&c, r#"{ "schema": null, "payload": { "field1": 1, "field2": 2} }"#), Ok((None, object)));
    let plain = json(false, DecimalFormat::Base64);
    assert_eq!(read(&plain, ""), Ok((None, Value::Null)));
    assert_eq!(read(&plain, "true"), Ok((None, Value::Boolean(true))));
    let empty_field = Value::Map(vec![(Value::from("a"), Value::from("")), (Value::from("b"), Value::Null)]);
    assert_eq!(read(&plain, r#"{ "a": "", "b": null}"#), Ok((None, empty_field)));
}

#[test]
fn logical_types_to_connect() {
    let c = json(true, DecimalFormat::Base64);
    let decimal = |b: SchemaBuilder| Some(schema(b));
    let unscaled = Value::from(vec![0u8, 0x9c]);
    let base = r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": "AJw=" }"#;
    assert_eq!(read(&c, base), Ok((decimal(logical::decimal(2)), unscaled.clone())));
    let optional = r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "optional": true, "parameters": { "scale": "2" } }, "payload": null }"#;
    assert_eq!(read(&c, optional), Ok((decimal(logical::decimal(2).optional()), Value::Null)));
    let defaulted = r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "default": "AJw=", "parameters": { "scale": "2" } }, "payload": null }"#;
    assert_eq!(
        read(&c, defaulted),
        Ok((decimal(logical::decimal(2).default_value(unscaled.clone())), unscaled.clone()))
    );
    let numeric = r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": 1.56 }"#;
    assert_eq!(read(&c, numeric), Ok((decimal(logical::decimal(2)), unscaled)));
    let trailing = r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "4" } }, "payload": 1.5600 }"#;
    assert_eq!(read(&c, trailing).map(|r| r.1), Ok(Value::Bytes(logical_bytes(15600))));
    let precise = r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "17" } }, "payload": 1.23456789123456789 }"#;
    assert_eq!(read(&c, precise).map(|r| r.1), Ok(Value::Bytes(logical_bytes(123_456_789_123_456_789))));
    let date = r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1 }, "payload": 10000 }"#;
    assert_eq!(read(&c, date), Ok((Some(schema(logical::date())), Value::Int32(10000))));
    let date_default = r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1, "optional": true, "default": 0 }, "payload": null }"#;
    assert_eq!(read(&c, date_default).map(|r| r.1), Ok(Value::Int32(0)));
    let time = r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1 }, "payload": 14400000 }"#;
    assert_eq!(read(&c, time), Ok((Some(schema(logical::time())), Value::Int32(14_400_000))));
    let timestamp = r#"{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1 }, "payload": 4000000000 }"#;
    assert_eq!(read(&c, timestamp), Ok((Some(schema(logical::timestamp())), Value::Int64(4_000_000_000))));
    let timestamp_default = r#"{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1,  "optional": true, "default": 42 }, "payload": null }"#;
    assert_eq!(read(&c, timestamp_default).map(|r| r.1), Ok(Value::Int64(42)));
}

fn logical_bytes(unscaled: i128) -> bytes::Bytes {
    tidemark_connect::data::decimal::unscaled_bytes(unscaled)
}

#[test]
fn schema_metadata_to_json() {
    let c = json(true, DecimalFormat::Base64);
    let cases = [
        (
            schema(SchemaBuilder::boolean()),
            Value::Boolean(true),
            r#"{ "type": "boolean", "optional": false }"#,
            r#"{"schema":{"type":"boolean","optional":false},"payload":true}"#,
        ),
        (
            schema(SchemaBuilder::boolean().optional()),
            Value::Null,
            r#"{ "type": "boolean", "optional": true }"#,
            r#"{"schema":{"type":"boolean","optional":true},"payload":null}"#,
        ),
        (
            schema(SchemaBuilder::boolean().default_value(Value::Boolean(true))),
            Value::Boolean(true),
            r#"{ "type": "boolean", "optional": false, "default": true }"#,
            r#"{"schema":{"type":"boolean","optional":false,"default":true},"payload":true}"#,
        ),
        (
            schema(
                SchemaBuilder::boolean()
                    .required()
                    .name("bool")
                    .version(3)
                    .doc("the documentation")
                    .parameter("foo", "bar"),
            ),
            Value::Boolean(true),
            r#"{ "type": "boolean", "optional": false, "name": "bool", "version": 3, "doc": "the documentation", "parameters": { "foo": "bar" }}"#,
            r#"{"schema":{"type":"boolean","optional":false,"name":"bool","version":3,"doc":"the documentation","parameters":{"foo":"bar"}},"payload":true}"#,
        ),
    ];
    for (s, value, kafka, exact) in cases {
        assert_schema_and_payload(&write(&c, Some(&s), &value), exact, kafka);
    }
}

#[test]
fn primitives_to_json() {
    let c = json(true, DecimalFormat::Base64);
    let cases = [
        (
            SchemaBuilder::boolean(),
            Value::Boolean(true),
            r#"{"schema":{"type":"boolean","optional":false},"payload":true}"#,
        ),
        (SchemaBuilder::int8(), Value::Int8(12), r#"{"schema":{"type":"int8","optional":false},"payload":12}"#),
        (SchemaBuilder::int16(), Value::Int16(12), r#"{"schema":{"type":"int16","optional":false},"payload":12}"#),
        (SchemaBuilder::int32(), Value::Int32(12), r#"{"schema":{"type":"int32","optional":false},"payload":12}"#),
        (
            SchemaBuilder::int64(),
            Value::Int64(4398046511104),
            r#"{"schema":{"type":"int64","optional":false},"payload":4398046511104}"#,
        ),
        (
            SchemaBuilder::float32(),
            Value::Float32(12.34),
            r#"{"schema":{"type":"float","optional":false},"payload":12.34}"#,
        ),
        (
            SchemaBuilder::float64(),
            Value::Float64(12.34),
            r#"{"schema":{"type":"double","optional":false},"payload":12.34}"#,
        ),
        (
            SchemaBuilder::bytes(),
            Value::from(&b"test-string"[..]),
            r#"{"schema":{"type":"bytes","optional":false},"payload":"dGVzdC1zdHJpbmc="}"#,
        ),
        (
            SchemaBuilder::string(),
            Value::from("test-string"),
            r#"{"schema":{"type":"string","optional":false},"payload":"test-string"}"#,
        ),
    ];
    for (builder, value, exact) in cases {
        assert_eq!(write(&c, Some(&schema(builder)), &value), exact);
    }
}

#[test]
fn containers_to_json() {
    let c = json(true, DecimalFormat::Base64);
    let int32 = schema(SchemaBuilder::int32());
    let array = schema(SchemaBuilder::array(int32.clone()));
    let items = Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)]);
    let exact =
        r#"{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2,3]}"#;
    assert_schema_and_payload(
        &write(&c, Some(&array), &items),
        exact,
        r#"{ "type": "array", "items": { "type": "int32", "optional": false }, "optional": false }"#,
    );
    let by_name = schema(SchemaBuilder::map(schema(SchemaBuilder::string()), int32.clone()));
    let entries = Value::Map(vec![(Value::from("key1"), Value::Int32(12)), (Value::from("key2"), Value::Int32(15))]);
    let exact = r#"{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"key1":12,"key2":15}}"#;
    let kafka = r#"{ "type": "map", "keys": { "type" : "string", "optional": false }, "values": { "type" : "int32", "optional": false }, "optional": false }"#;
    assert_schema_and_payload(&write(&c, Some(&by_name), &entries), exact, kafka);
    let by_number = schema(SchemaBuilder::map(int32.clone(), int32));
    let entries = Value::Map(vec![(Value::Int32(1), Value::Int32(12)), (Value::Int32(2), Value::Int32(15))]);
    let exact = r#"{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":[[1,12],[2,15]]}"#;
    let kafka = r#"{ "type": "map", "keys": { "type" : "int32", "optional": false }, "values": { "type" : "int32", "optional": false }, "optional": false }"#;
    assert_schema_and_payload(&write(&c, Some(&by_number), &entries), exact, kafka);
    let (boolean, string) = (schema(SchemaBuilder::boolean()), schema(SchemaBuilder::string()));
    let row = schema(
        SchemaBuilder::struct_()
            .field("field1", boolean.clone())
            .field("field2", string.clone())
            .field("field3", string)
            .field("field4", boolean),
    );
    let mut value = Struct::new(row.clone()).expect("struct");
    value
        .put("field1", true)
        .and_then(|v| v.put("field2", "string2"))
        .and_then(|v| v.put("field3", "string3"))
        .and_then(|v| v.put("field4", false))
        .expect("fields");
    let exact = r#"{"schema":{"type":"struct","fields":[{"type":"boolean","optional":false,"field":"field1"},{"type":"string","optional":false,"field":"field2"},{"type":"string","optional":false,"field":"field3"},{"type":"boolean","optional":false,"field":"field4"}],"optional":false},"payload":{"field1":true,"field2":"string2","field3":"string3","field4":false}}"#;
    let kafka = r#"{ "type": "struct", "optional": false, "fields": [{ "field": "field1", "type": "boolean", "optional": false }, { "field": "field2", "type": "string", "optional": false }, { "field": "field3", "type": "string", "optional": false }, { "field": "field4", "type": "boolean", "optional": false }] }"#;
    assert_schema_and_payload(&write(&c, Some(&row), &Value::Struct(value)), exact, kafka);
}

#[test]
fn logical_types_to_json() {
    let c = json(true, DecimalFormat::Base64);
    let kafka = r#"{ "type": "bytes", "optional": false, "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }"#;
    let decimal = schema(logical::decimal(2));
    let exact = r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}"#;
    assert_schema_and_payload(&write(&c, Some(&decimal), &Value::Bytes(logical_bytes(156))), exact, kafka);
    let numeric = json(true, DecimalFormat::Numeric);
    let exact = r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":1.56}"#;
    assert_eq!(write(&numeric, Some(&decimal), &Value::Bytes(logical_bytes(156))), exact);
    let exact = r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"4"}},"payload":1.5600}"#;
    assert_eq!(write(&numeric, Some(&schema(logical::decimal(4))), &Value::Bytes(logical_bytes(15600))), exact);
    let cases = [
        (
            logical::date(),
            Value::Int32(10000),
            r#"{ "type": "int32", "optional": false, "name": "org.apache.kafka.connect.data.Date", "version": 1 }"#,
            r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}"#,
        ),
        (
            logical::time(),
            Value::Int32(14_400_000),
            r#"{ "type": "int32", "optional": false, "name": "org.apache.kafka.connect.data.Time", "version": 1 }"#,
            r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}"#,
        ),
        (
            logical::timestamp(),
            Value::Int64(4_000_000_000),
            r#"{ "type": "int64", "optional": false, "name": "org.apache.kafka.connect.data.Timestamp", "version": 1 }"#,
            r#"{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}"#,
        ),
    ];
    for (builder, value, kafka, exact) in cases {
        assert_schema_and_payload(&write(&c, Some(&schema(builder)), &value), exact, kafka);
    }
}

#[test]
fn schemaless_to_json() {
    let c = json(true, DecimalFormat::Base64);
    assert_eq!(write(&c, None, &Value::Boolean(true)), r#"{"schema":null,"payload":true}"#);
    let mixed = Value::Array(vec![Value::Int32(1), Value::from("string"), Value::Boolean(true)]);
    assert_eq!(write(&c, None, &mixed), r#"{"schema":null,"payload":[1,"string",true]}"#);
    let object = Value::Map(vec![
        (Value::from("key1"), Value::Int32(12)),
        (Value::from("key2"), Value::from("string")),
        (Value::from("key3"), Value::Boolean(true)),
    ]);
    assert_eq!(write(&c, None, &object), r#"{"schema":null,"payload":{"key1":12,"key2":"string","key3":true}}"#);
    let pairs = Value::Map(vec![
        (Value::from("string"), Value::Int32(12)),
        (Value::Int32(52), Value::from("string")),
        (Value::Boolean(false), Value::Boolean(true)),
    ]);
    assert_eq!(write(&c, None, &pairs), r#"{"schema":null,"payload":[["string",12],[52,"string"],[false,true]]}"#);
    assert_eq!(c.to_bytes("topic", None, &Value::Null), Ok(None));
    let plain = json(false, DecimalFormat::Base64);
    assert_eq!(plain.to_bytes("topic", None, &Value::Null), Ok(None));
    assert_eq!(write(&plain, None, &Value::Boolean(true)), "true");
    let mismatch = c.to_bytes("topic", Some(&schema(SchemaBuilder::float64())), &Value::Boolean(true));
    assert!(matches!(mismatch, Err(ConvertError::Invalid(_))));
    let optional_string = Schema::optional_string();
    assert_eq!(
        write(&c, Some(&optional_string), &Value::Null),
        r#"{"schema":{"type":"string","optional":true},"payload":null}"#
    );
}
