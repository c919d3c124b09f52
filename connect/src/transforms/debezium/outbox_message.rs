//! The table-free outbox (beyond Debezium): a Postgres logical decoding message, as the Postgres source writes it
//! on `<topic.prefix>.message` (`io.debezium.connector.postgresql.MessageValue`: `op: "m"`,
//! `message: {prefix, content}`), read as the outbox row it stands for, so that [`super::EventRouter`] routes
//! `pg_logical_emit_message(true, 'outbox', '{...}')` exactly as it routes a row of the outbox table.
//!
//! The content is a UTF-8 JSON object whose members are the row's columns, in document order (a repeated member
//! keeps its first place and its last value):
//! - the payload member (`table.field.event.payload`) is its JSON text exactly as written, an optional STRING
//!   named `io.debezium.data.Json` (as a `json` or `jsonb` column gives it); a JSON string is taken as that string
//!   (as a `text` column), null as null;
//! - the timestamp member (`table.field.event.timestamp`, when set), an integer, is epoch milliseconds (Kafka's
//!   `Timestamp`);
//! - any other member: a string is a STRING, an integer an INT32 (INT64 beyond), another number a FLOAT64, a
//!   boolean a BOOLEAN (all required, as NOT NULL columns give them), an object or array its JSON text (a STRING
//!   named `io.debezium.data.Json`), null an optional STRING holding null.

use serde::de::{Deserialize, IgnoredAny};
use serde_json::Value as Json;

use crate::data::{logical, SchemaBuilder, SchemaRef, Struct, Value};

use super::super::error::TransformError;

/// The `op` of a logical decoding message event.
const MESSAGE_OP: &str = "m";
/// The schema name Debezium gives JSON text.
const JSON_NAME: &str = "io.debezium.data.Json";

/// The prefix and content of the logical decoding message event `value`, when it is one (content as bytes, or as
/// text when `binary.handling.mode` made it a string).
pub(crate) fn logical_message(value: &Struct) -> Option<(&str, &[u8])> {
    if value.get_without_default("op").ok()?.as_str()? != MESSAGE_OP {
        return None;
    }
    let message = value.get_without_default("message").ok()?.as_struct()?;
    let prefix = message.get_without_default("prefix").ok()?.as_str()?;
    let content = match message.get_without_default("content").ok()? {
        Value::Bytes(bytes) => bytes.as_ref(),
        Value::String(text) => text.as_bytes(),
        _ => return None,
    };
    Some((prefix, content))
}

/// The columns of the outbox row that a message's content is read with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowColumns<'a> {
    /// `table.field.event.payload`.
    pub(crate) payload: &'a str,
    /// `table.field.event.timestamp`.
    pub(crate) timestamp: Option<&'a str>,
}

/// The outbox row that `content` stands for, its schema named `name`; the error says why the content is not one.
pub(crate) fn outbox_row(name: &str, content: &[u8], columns: RowColumns<'_>) -> Result<Struct, TransformError> {
    let invalid = |why: String| TransformError::new(format!("the outbox message is not a JSON object: {why}"));
    let text = std::str::from_utf8(content).map_err(|e| invalid(format!("not UTF-8 ({e})")))?;
    let mut builder = SchemaBuilder::struct_().name(name);
    let mut values = Vec::new();
    for (member, raw) in members(text).map_err(invalid)? {
        let (schema, value) = column(&member, raw, columns).map_err(invalid)?;
        builder = builder.field(member, schema);
        values.push(value);
    }
    Ok(Struct::from_values(builder.build()?, values)?)
}

/// The schema and value of member `member`, whose JSON text is `raw`.
fn column(member: &str, raw: &str, columns: RowColumns<'_>) -> Result<(SchemaRef, Value), String> {
    let parsed: Json = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let json_text = |builder: SchemaBuilder| (builder.name(JSON_NAME), Value::from(raw));
    let (builder, value) = match parsed {
        Json::String(text) if member == columns.payload => (SchemaBuilder::string().optional(), Value::from(text)),
        Json::Null if member == columns.payload => (SchemaBuilder::string().optional().name(JSON_NAME), Value::Null),
        _ if member == columns.payload => json_text(SchemaBuilder::string().optional()),
        Json::Number(n) if Some(member) == columns.timestamp && n.is_i64() => {
            (logical::timestamp(), Value::from(n.as_i64()))
        }
        Json::String(text) => (SchemaBuilder::string(), Value::from(text)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => match i32::try_from(i) {
                Ok(small) => (SchemaBuilder::int32(), Value::Int32(small)),
                Err(_) => (SchemaBuilder::int64(), Value::Int64(i)),
            },
            None => (SchemaBuilder::float64(), Value::Float64(n.as_f64().unwrap_or(f64::NAN))),
        },
        Json::Bool(b) => (SchemaBuilder::boolean(), Value::Boolean(b)),
        Json::Null => (SchemaBuilder::string().optional(), Value::Null),
        Json::Object(_) | Json::Array(_) => json_text(SchemaBuilder::string()),
    };
    Ok((builder.build().map_err(|e| e.to_string())?, value))
}

/// The members of the JSON object `text`, each with its value's text as written, in document order.
fn members(text: &str) -> Result<Vec<(String, &str)>, String> {
    let bytes = text.as_bytes();
    let mut at = skip_space(text, 0);
    if bytes.get(at) != Some(&b'{') {
        return Err("it does not start with '{'".to_owned());
    }
    at = skip_space(text, at + 1);
    let mut members: Vec<(String, &str)> = Vec::new();
    if bytes.get(at) != Some(&b'}') {
        loop {
            let (name, after_name) = next_value::<String>(text, at)?;
            at = skip_space(text, after_name);
            if bytes.get(at) != Some(&b':') {
                return Err(format!("no ':' after the member name {name:?}"));
            }
            let start = skip_space(text, at + 1);
            let (IgnoredAny, end) = next_value::<IgnoredAny>(text, start)?;
            let raw = &text[start..end];
            match members.iter_mut().find(|(known, _)| *known == name) {
                Some(member) => member.1 = raw,
                None => members.push((name, raw)),
            }
            at = skip_space(text, end);
            match bytes.get(at) {
                Some(b',') => at = skip_space(text, at + 1),
                Some(b'}') => break,
                _ => return Err(format!("no ',' or '}}' at byte {at}")),
            }
        }
    }
    if skip_space(text, at + 1) != text.len() {
        return Err("there is more after the object".to_owned());
    }
    Ok(members)
}

/// The one JSON value of type `T` that starts at byte `at`, and where it ends.
fn next_value<'de, T: Deserialize<'de>>(text: &'de str, at: usize) -> Result<(T, usize), String> {
    let mut stream = serde_json::Deserializer::from_str(&text[at..]).into_iter::<T>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, at + stream.byte_offset())),
        Some(Err(e)) => Err(format!("invalid JSON at byte {at}: {e}")),
        None => Err("it ends early".to_owned()),
    }
}

/// The first byte at or after `at` that is not JSON whitespace.
fn skip_space(text: &str, at: usize) -> usize {
    let rest = text.get(at..).unwrap_or_default();
    at + rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Type;

    const COLUMNS: RowColumns<'static> = RowColumns { payload: "payload", timestamp: Some("at") };

    fn read(content: &str) -> Result<Struct, TransformError> {
        outbox_row("pg1.message.Value", content.as_bytes(), COLUMNS)
    }

    #[test]
    fn members_keep_their_text_and_order() {
        let text = r#" { "b" : [1, {"x": "}"}] ,"a":"s\"","b":2.50, "n": null } "#;
        let members = members(text).expect("members");
        assert_eq!(members, [("b".to_owned(), "2.50"), ("a".to_owned(), r#""s\"""#), ("n".to_owned(), "null")]);
        assert_eq!(super::members("{}").expect("empty"), []);
        for bad in ["[1]", "{\"a\" 1}", "{\"a\": 1,}", "{\"a\": tru}", "{\"a\": 1} x", "{\"a\": 1", "{1: 2}", ""] {
            assert!(super::members(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_row_an_outbox_message_stands_for() {
        let content = r#"{"id": "4f1c", "aggregatetype": "order", "aggregateid": "7", "type": "OrderCreated",
            "payload": {"customer": "ann", "total": 10.50}, "shard": 3, "big": 5000000000, "ratio": 0.5,
            "urgent": true, "tags": ["a"], "note": null, "at": 1700000000123}"#;
        let row = read(content).expect("row");
        let schema = row.schema();
        assert_eq!(schema.name(), Some("pg1.message.Value"));
        let fields: Vec<(&str, Type, bool, Option<&str>)> = schema
            .fields()
            .iter()
            .map(|f| (f.name(), f.schema().schema_type(), f.schema().is_optional(), f.schema().name()))
            .collect();
        assert_eq!(
            fields,
            [
                ("id", Type::String, false, None),
                ("aggregatetype", Type::String, false, None),
                ("aggregateid", Type::String, false, None),
                ("type", Type::String, false, None),
                ("payload", Type::String, true, Some(JSON_NAME)),
                ("shard", Type::Int32, false, None),
                ("big", Type::Int64, false, None),
                ("ratio", Type::Float64, false, None),
                ("urgent", Type::Boolean, false, None),
                ("tags", Type::String, false, Some(JSON_NAME)),
                ("note", Type::String, true, None),
                ("at", Type::Int64, false, Some(logical::TIMESTAMP)),
            ]
        );
        assert_eq!(row.get("payload"), Ok(&Value::from(r#"{"customer": "ann", "total": 10.50}"#)), "as written");
        assert_eq!(row.get("at"), Ok(&Value::Int64(1_700_000_000_123)));
        let text_payload = read(r#"{"payload": "plain"}"#).expect("row");
        assert_eq!(text_payload.schema().fields()[0].schema().name(), None);
        assert_eq!(text_payload.get("payload"), Ok(&Value::from("plain")));
        assert_eq!(read(r#"{"payload": null}"#).expect("row").get("payload"), Ok(&Value::Null));
        assert!(read("not json").is_err());
        assert!(outbox_row("n", b"\xff", COLUMNS).is_err());
    }

    #[test]
    fn recognises_message_events() {
        let block = SchemaBuilder::struct_()
            .field("prefix", SchemaBuilder::string().optional().build().expect("prefix"))
            .field("content", SchemaBuilder::bytes().optional().build().expect("content"))
            .build()
            .expect("block");
        let schema = SchemaBuilder::struct_()
            .name("io.debezium.connector.postgresql.MessageValue")
            .field("op", SchemaBuilder::string().build().expect("op"))
            .field("message", block.clone())
            .build()
            .expect("value");
        let event = |op: &str| {
            let message = Struct::from_values(block.clone(), vec!["outbox".into(), Value::Bytes("{}".into())]);
            Struct::from_values(schema.clone(), vec![op.into(), message.expect("message").into()]).expect("event")
        };
        assert_eq!(logical_message(&event("m")), Some(("outbox", b"{}".as_slice())));
        assert_eq!(logical_message(&event("c")), None);
    }
}
