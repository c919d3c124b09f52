//! The record every connector, transform and converter works on (Kafka Connect's `ConnectRecord`): a topic and
//! partition, a key and a value with their schemas, a timestamp and headers. Source records add their position in
//! the source ([`crate::connector::SourceRecord`]); sink records their offset in the log
//! ([`crate::connector::SinkRecord`]).

use crate::data::{SchemaRef, Value};

/// One header of a record: a key and a value with its optional schema (Kafka Connect's `Header`).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The header's key (keys may repeat).
    pub key: String,
    /// The value's schema, when known.
    pub schema: Option<SchemaRef>,
    /// The value.
    pub value: Value,
}

impl Header {
    /// A header holding a string.
    pub fn string(key: impl Into<String>, value: impl Into<String>) -> Self {
        Header { key: key.into(), schema: Some(crate::data::Schema::string()), value: Value::String(value.into()) }
    }
}

/// A record in Connect's data model.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRecord {
    /// The topic.
    pub topic: String,
    /// The partition, or `None` for Kafka's partitioner over the key bytes (source records only: a sink record
    /// always has its partition).
    pub partition: Option<i32>,
    /// The key's schema.
    pub key_schema: Option<SchemaRef>,
    /// The key.
    pub key: Value,
    /// The value's schema.
    pub value_schema: Option<SchemaRef>,
    /// The value (null for a tombstone).
    pub value: Value,
    /// The timestamp in ms since the epoch; `None` lets the log stamp it when written.
    pub timestamp: Option<i64>,
    /// Headers, in order.
    pub headers: Vec<Header>,
}

impl ConnectRecord {
    /// A record for `topic` with a key and a value and no timestamp, partition or headers.
    pub fn new(topic: impl Into<String>, key: (Option<SchemaRef>, Value), value: (Option<SchemaRef>, Value)) -> Self {
        ConnectRecord {
            topic: topic.into(),
            partition: None,
            key_schema: key.0,
            key: key.1,
            value_schema: value.0,
            value: value.1,
            timestamp: None,
            headers: Vec::new(),
        }
    }

    /// Whether the value is null (a tombstone).
    pub fn is_tombstone(&self) -> bool {
        self.value.is_null()
    }

    /// The value of the last header named `key`.
    pub fn last_header(&self, key: &str) -> Option<&Header> {
        self.headers.iter().rev().find(|h| h.key == key)
    }
}
