//! The records of `_schemas` in Confluent's key/value layout, so a Confluent registry and Tidemark's read each
//! other's topic: JSON keys `{"keytype": "SCHEMA"|"CONFIG"|"MODE"|"DELETE_SUBJECT"|"NOOP", "subject", "version",
//! "magic"}` and JSON values; a null value (tombstone) removes what the key names.

use serde::{Deserialize, Serialize};

/// The topic holding the registry's state.
pub const SCHEMAS_TOPIC: &str = "_schemas";

/// A reference from one schema to a named type in another registered schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SchemaReference {
    /// The referenced type's full name as the referencing schema uses it.
    pub name: String,
    /// The subject holding the referenced schema.
    pub subject: String,
    /// The version of that subject.
    pub version: i32,
}

/// The key of a `_schemas` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "keytype", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordKey {
    /// One version of a subject.
    Schema {
        /// The subject.
        subject: String,
        /// The version.
        version: i32,
        /// Always 1.
        magic: i32,
    },
    /// The compatibility level of a subject, or the global one when `subject` is null.
    Config {
        /// The subject, or `None` for the global level.
        subject: Option<String>,
        /// Always 0.
        magic: i32,
    },
    /// The mode of a subject, or the global one when `subject` is null.
    Mode {
        /// The subject, or `None` for the global mode.
        subject: Option<String>,
        /// Always 0.
        magic: i32,
    },
    /// A soft delete of a subject's versions (written by Confluent's registry; Tidemark marks versions instead).
    DeleteSubject {
        /// The subject.
        subject: String,
        /// Always 0.
        magic: i32,
    },
    /// A marker with no state.
    Noop {
        /// Always 0.
        magic: i32,
    },
}

/// The value of a `SCHEMA` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaValue {
    /// The subject.
    pub subject: String,
    /// The version.
    pub version: i32,
    /// The global schema id.
    pub id: i32,
    /// The schema text as registered.
    pub schema: String,
    /// `AVRO` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<String>,
    /// Named types this schema takes from other subjects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<SchemaReference>,
    /// Soft-deleted.
    #[serde(default)]
    pub deleted: bool,
}

/// The value of a `CONFIG` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigValue {
    /// The compatibility level's name.
    pub compatibility_level: String,
}

/// The value of a `MODE` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeValue {
    /// `READWRITE`, `READONLY` or `IMPORT`.
    pub mode: String,
}

/// The value of a `DELETE_SUBJECT` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteSubjectValue {
    /// The subject.
    pub subject: String,
    /// Versions up to this one are soft-deleted.
    pub version: i32,
}

impl RecordKey {
    /// The key of a subject's version.
    pub fn schema(subject: &str, version: i32) -> Self {
        RecordKey::Schema { subject: subject.to_owned(), version, magic: 1 }
    }

    /// The key of a compatibility level.
    pub fn config(subject: Option<&str>) -> Self {
        RecordKey::Config { subject: subject.map(str::to_owned), magic: 0 }
    }

    /// The key of a mode.
    pub fn mode(subject: Option<&str>) -> Self {
        RecordKey::Mode { subject: subject.map(str::to_owned), magic: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_use_confluents_layout() {
        let key = serde_json::to_string(&RecordKey::schema("orders-value", 3)).expect("encode");
        assert_eq!(key, r#"{"keytype":"SCHEMA","subject":"orders-value","version":3,"magic":1}"#);
        let global = serde_json::to_string(&RecordKey::config(None)).expect("encode");
        assert_eq!(global, r#"{"keytype":"CONFIG","subject":null,"magic":0}"#);
        let parsed: RecordKey =
            serde_json::from_str(r#"{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}"#).expect("decode");
        assert_eq!(parsed, RecordKey::DeleteSubject { subject: "s".into(), magic: 0 });
        let value: SchemaValue =
            serde_json::from_str(r#"{"subject":"s","version":1,"id":7,"schema":"\"string\"","deleted":false}"#)
                .expect("decode");
        assert_eq!(value.schema_type, None);
        assert!(value.references.is_empty());
    }
}
