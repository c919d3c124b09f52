//! Property tests: generated schemas (every type, logical and Debezium-named ones, defaults, parameters, nesting)
//! with values that fit them round-trip through the JSON converter in both decimal formats; writing is stable;
//! schemaless JSON reads back as Kafka infers it, whoever wrote it; no input makes reading panic.

use proptest::collection::vec;
use proptest::prelude::*;

use super::{json, read};
use tidemark_connect::converters::{Converter, DecimalFormat};
use tidemark_connect::data::logical::{self, Logical};
use tidemark_connect::data::{decimal, SchemaBuilder, SchemaRef, Struct, Type, Value};

#[derive(Debug, Clone, Copy)]
enum Leaf {
    Plain(Type),
    Decimal(i32),
    Date,
    Time,
    Timestamp,
}

fn leaf() -> impl Strategy<Value = Leaf> {
    let plain = [Type::Int8, Type::Int16, Type::Int32, Type::Int64, Type::Float32, Type::Float64, Type::Boolean]
        .into_iter()
        .chain([Type::String, Type::Bytes])
        .map(|t| Just(Leaf::Plain(t)).boxed());
    let logical = [Just(Leaf::Date).boxed(), Just(Leaf::Time).boxed(), Just(Leaf::Timestamp).boxed()];
    let decimal = (-3..12i32).prop_map(Leaf::Decimal).boxed();
    proptest::strategy::Union::new(plain.chain(logical).chain([decimal]))
}

/// Text with what JSON must escape, quotes, backslashes and characters beyond ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z\"\\\\\u{0}-\u{1f}é😀 ]{0,8}"]
}

fn leaf_builder(leaf: Leaf) -> SchemaBuilder {
    match leaf {
        Leaf::Plain(t) => SchemaBuilder::primitive(t).expect("primitive"),
        Leaf::Decimal(scale) => logical::decimal(scale),
        Leaf::Date => logical::date(),
        Leaf::Time => logical::time(),
        Leaf::Timestamp => logical::timestamp(),
    }
}

fn leaf_of(schema: &SchemaRef) -> Leaf {
    match Logical::of(schema).expect("logical") {
        Some(Logical::Decimal { scale }) => Leaf::Decimal(scale),
        Some(Logical::Date) => Leaf::Date,
        Some(Logical::Time) => Leaf::Time,
        Some(Logical::Timestamp) => Leaf::Timestamp,
        None => Leaf::Plain(schema.schema_type()),
    }
}

fn leaf_value(leaf: Leaf) -> BoxedStrategy<Value> {
    match leaf {
        Leaf::Plain(Type::Int8) => any::<i8>().prop_map(Value::Int8).boxed(),
        Leaf::Plain(Type::Int16) => any::<i16>().prop_map(Value::Int16).boxed(),
        Leaf::Plain(Type::Int32) | Leaf::Date => any::<i32>().prop_map(Value::Int32).boxed(),
        Leaf::Plain(Type::Int64) | Leaf::Timestamp => any::<i64>().prop_map(Value::Int64).boxed(),
        Leaf::Plain(Type::Float32) => any::<f32>().prop_map(Value::Float32).boxed(),
        Leaf::Plain(Type::Float64) => any::<f64>().prop_map(Value::Float64).boxed(),
        Leaf::Plain(Type::Boolean) => any::<bool>().prop_map(Value::Boolean).boxed(),
        Leaf::Plain(Type::Bytes) => vec(any::<u8>(), 0..12).prop_map(Value::from).boxed(),
        Leaf::Plain(_) => text().prop_map(Value::String).boxed(),
        Leaf::Decimal(_) => any::<i128>().prop_map(|v| Value::Bytes(decimal::unscaled_bytes(v))).boxed(),
        Leaf::Time => (0..logical::MILLIS_PER_DAY).prop_map(Value::Int32).boxed(),
    }
}

/// A primitive or logical schema, with or without a name (Debezium's among them), doc, version, parameters and
/// default.
fn leaf_schema() -> impl Strategy<Value = SchemaRef> {
    let names = prop::option::of(prop_oneof![Just("io.debezium.time.MicroTimestamp".to_owned()), text()]);
    let parameters = vec(("p\\.[a-z]{1,4}", text()), 0..3);
    let meta = (any::<bool>(), names, prop::option::of(text()), prop::option::of(any::<i32>()), parameters);
    (leaf(), meta, any::<bool>()).prop_flat_map(|(leaf, (optional, name, doc, version, parameters), with_default)| {
        let mut builder = leaf_builder(leaf);
        if let (Leaf::Plain(_), Some(name)) = (leaf, name) {
            builder = builder.name(name);
        }
        builder = doc.into_iter().fold(builder, SchemaBuilder::doc);
        builder = version.into_iter().fold(builder, SchemaBuilder::version);
        builder = parameters.into_iter().fold(builder, |b, (k, v)| b.parameter(k, v));
        builder = if optional { builder.optional() } else { builder };
        match with_default {
            true => {
                leaf_value(leaf).prop_map(move |v| builder.clone().default_value(v).build().expect("default")).boxed()
            }
            false => Just(builder.build().expect("leaf")).boxed(),
        }
    })
}

fn schema() -> impl Strategy<Value = SchemaRef> {
    leaf_schema().prop_recursive(3, 32, 4, |inner| {
        let keys = prop_oneof![Just(Type::String), Just(Type::Int32), Just(Type::Float64), Just(Type::Bytes)];
        prop_oneof![
            (inner.clone(), any::<bool>()).prop_map(|(items, optional)| {
                let builder = SchemaBuilder::array(items);
                (if optional { builder.optional() } else { builder }).build().expect("array")
            }),
            (keys, inner.clone()).prop_map(|(key, values)| {
                let key = SchemaBuilder::primitive(key).expect("key").build().expect("key");
                SchemaBuilder::map(key, values).build().expect("map")
            }),
            (vec((text(), inner), 1..5), any::<bool>()).prop_map(|(fields, optional)| {
                let builder = fields
                    .into_iter()
                    .enumerate()
                    .fold(SchemaBuilder::struct_().name("row"), |b, (i, (name, s))| b.field(format!("{name}{i}"), s));
                (if optional { builder.optional() } else { builder }).build().expect("struct")
            }),
        ]
    })
}

/// Values that fit `schema`, nulls where it allows them.
fn value_for(schema: &SchemaRef) -> BoxedStrategy<Value> {
    let fitting = match schema.schema_type() {
        Type::Array => vec(value_for(schema.value_schema().expect("items")), 0..4).prop_map(Value::Array).boxed(),
        Type::Map => {
            let (keys, values) = (schema.key_schema().expect("keys"), schema.value_schema().expect("values"));
            let string_keys = keys.schema_type() == Type::String;
            vec((value_for(keys), value_for(values)), 0..4)
                .prop_map(move |mut entries| {
                    if string_keys {
                        let mut unique: Vec<(Value, Value)> = Vec::new();
                        for (k, v) in entries.drain(..) {
                            if !unique.iter().any(|(seen, _)| *seen == k) {
                                unique.push((k, v));
                            }
                        }
                        entries = unique;
                    }
                    Value::Map(entries)
                })
                .boxed()
        }
        Type::Struct => {
            let fields: Vec<_> = schema.fields().iter().map(|f| value_for(f.schema())).collect();
            let schema = schema.clone();
            fields
                .prop_map(move |values| Value::Struct(Struct::from_values(schema.clone(), values).expect("struct")))
                .boxed()
        }
        _ => leaf_value(leaf_of(schema)),
    };
    match schema.is_optional() || schema.default_value().is_some() {
        true => prop_oneof![1 => Just(Value::Null), 4 => fitting].boxed(),
        false => fitting,
    }
}

/// The value as read back: a null with a default becomes the default (`replace.null.with.default`).
fn expected(schema: &SchemaRef, value: &Value) -> Value {
    match (value, schema.default_value()) {
        (Value::Null, Some(default)) => default.clone(),
        (Value::Array(items), _) => {
            let items_schema = schema.value_schema().expect("items");
            Value::Array(items.iter().map(|v| expected(items_schema, v)).collect())
        }
        (Value::Map(entries), _) => {
            let (keys, values) = (schema.key_schema().expect("keys"), schema.value_schema().expect("values"));
            Value::Map(entries.iter().map(|(k, v)| (expected(keys, k), expected(values, v))).collect())
        }
        (Value::Struct(s), _) => {
            let values = s.schema().fields().iter().zip(s.values()).map(|(f, v)| expected(f.schema(), v)).collect();
            Value::Struct(Struct::from_values(s.schema().clone(), values).expect("struct"))
        }
        (other, _) => other.clone(),
    }
}

fn schema_and_value() -> impl Strategy<Value = (SchemaRef, Value)> {
    schema().prop_flat_map(|schema| (Just(schema.clone()), value_for(&schema)))
}

/// JSON values of the types Kafka infers without a schema.
fn inferred_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Int64),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::Float64),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Map(m.into_iter().map(|(k, v)| (Value::String(k), v)).collect())),
        ]
    })
}

proptest! {
    #[test]
    fn json_with_schemas_round_trips((schema, value) in schema_and_value()) {
        for format in [DecimalFormat::Base64, DecimalFormat::Numeric] {
            let converter = json(true, format);
            let bytes = converter.to_bytes("topic", Some(&schema), &value).expect("write").expect("bytes");
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(), "not JSON to serde_json");
            let (read_schema, read_value) = converter.to_connect("topic", Some(&bytes)).expect("read");
            prop_assert_eq!(read_schema.as_ref(), Some(&schema));
            prop_assert_eq!(&read_value, &expected(&schema, &value));
            let again = converter.to_bytes("topic", read_schema.as_ref(), &read_value).expect("rewrite").expect("bytes");
            prop_assert_eq!(again, bytes);
        }
    }

    #[test]
    fn schemaless_json_round_trips(value in inferred_value()) {
        let converter = json(false, DecimalFormat::Base64);
        let bytes = converter.to_bytes("topic", None, &value).expect("write");
        prop_assert_eq!(converter.to_connect("topic", bytes.as_deref()).expect("read"), (None, value));
    }

    #[test]
    fn json_written_by_serde_reads_as_kafka_infers(value in inferred_value()) {
        fn to_serde(v: &Value) -> serde_json::Value {
            match v {
                Value::Boolean(b) => serde_json::Value::Bool(*b),
                Value::Int64(i) => serde_json::Value::from(*i),
                Value::Float64(f) => serde_json::Value::from(*f),
                Value::String(s) => serde_json::Value::String(s.clone()),
                Value::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
                Value::Map(entries) => serde_json::Value::Object(entries.iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), to_serde(v))).collect()),
                _ => serde_json::Value::Null,
            }
        }
        let text = serde_json::to_string_pretty(&to_serde(&value)).expect("serde");
        prop_assert_eq!(read(&json(false, DecimalFormat::Base64), &text).expect("read"), (None, value));
    }

    #[test]
    fn reading_never_panics(bytes in prop_oneof![vec(any::<u8>(), 0..64), "[\\[\\]{}\",:0-9a-zA-Z\\\\ .eE+-]{0,64}".prop_map(String::into_bytes)]) {
        for schemas_enable in [true, false] {
            let _ = json(schemas_enable, DecimalFormat::Numeric).to_connect("topic", Some(&bytes));
        }
    }
}
