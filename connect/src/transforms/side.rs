//! [`Side`]: which half of a record a `$Key` / `$Value` transform works on.

use crate::data::{SchemaRef, Value};
use crate::record::ConnectRecord;

/// The key or the value of a record (Kafka's `InsertField$Key` versus `InsertField$Value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

impl Side {
    /// The schema of this side.
    pub fn schema(self, record: &ConnectRecord) -> Option<&SchemaRef> {
        match self {
            Side::Key => record.key_schema.as_ref(),
            Side::Value => record.value_schema.as_ref(),
        }
    }

    /// The data of this side.
    pub fn value(self, record: &ConnectRecord) -> &Value {
        match self {
            Side::Key => &record.key,
            Side::Value => &record.value,
        }
    }

    /// Takes this side's data out of the record, leaving null.
    pub fn take(self, record: &mut ConnectRecord) -> Value {
        match self {
            Side::Key => std::mem::replace(&mut record.key, Value::Null),
            Side::Value => std::mem::replace(&mut record.value, Value::Null),
        }
    }

    /// Replaces this side's schema and data.
    pub fn set(self, record: &mut ConnectRecord, schema: Option<SchemaRef>, value: Value) {
        match self {
            Side::Key => {
                record.key_schema = schema;
                record.key = value;
            }
            Side::Value => {
                record.value_schema = schema;
                record.value = value;
            }
        }
    }
}
