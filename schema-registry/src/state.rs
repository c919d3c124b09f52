//! The registry's state in memory, built by applying `_schemas` records in log order: schemas by id, subjects
//! and their versions, compatibility levels and modes.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::avro::normalize;
use crate::records::{ConfigValue, DeleteSubjectValue, ModeValue, RecordKey, SchemaReference, SchemaValue};

/// A schema as registered under an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchema {
    /// The text as first registered.
    pub schema: String,
    /// `AVRO` when `None`.
    pub schema_type: Option<String>,
    /// Its references.
    pub references: Vec<SchemaReference>,
    /// The normalised text registrations are compared by (the text itself if it does not parse).
    pub normalized: String,
}

/// One version of a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// The schema id.
    pub id: i32,
    /// Soft-deleted.
    pub deleted: bool,
}

/// The value of the Tidemark-only `NOOP` record that remembers the largest id ever given out, so permanent deletes
/// (tombstones that compaction removes) never let an id be handed out twice. Confluent's registry ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdWatermark {
    /// The largest schema id given out so far.
    pub max_schema_id: i32,
}

/// Everything the registry knows.
#[derive(Debug, Default)]
pub struct State {
    schemas: BTreeMap<i32, StoredSchema>,
    subjects: BTreeMap<String, BTreeMap<i32, Version>>,
    configs: HashMap<Option<String>, String>,
    modes: HashMap<Option<String>, String>,
    max_id: i32,
}

impl State {
    /// Applies one record (`value` `None` for a tombstone). Records that do not parse are skipped with a warning:
    /// the topic may hold records of newer registries.
    pub fn apply(&mut self, key: &[u8], value: Option<&[u8]>) {
        let key: RecordKey = match serde_json::from_slice(key) {
            Ok(key) => key,
            Err(e) => {
                tracing::warn!(error = %e, "skipping a _schemas record with an unreadable key");
                return;
            }
        };
        if let Err(e) = self.apply_key(key, value) {
            tracing::warn!(error = %e, "skipping a _schemas record with an unreadable value");
        }
    }

    fn apply_key(&mut self, key: RecordKey, value: Option<&[u8]>) -> Result<(), serde_json::Error> {
        match (key, value) {
            (RecordKey::Schema { subject, version, .. }, None) => {
                if let Some(versions) = self.subjects.get_mut(&subject) {
                    versions.remove(&version);
                    if versions.is_empty() {
                        self.subjects.remove(&subject);
                    }
                }
            }
            (RecordKey::Schema { .. }, Some(value)) => {
                let value: SchemaValue = serde_json::from_slice(value)?;
                self.max_id = self.max_id.max(value.id);
                self.schemas.entry(value.id).or_insert_with(|| StoredSchema {
                    normalized: normalize(&value.schema).unwrap_or_else(|_| value.schema.clone()),
                    schema: value.schema,
                    schema_type: value.schema_type,
                    references: value.references,
                });
                let versions = self.subjects.entry(value.subject).or_default();
                versions.insert(value.version, Version { id: value.id, deleted: value.deleted });
            }
            (RecordKey::Config { subject, .. }, Some(value)) => {
                let value: ConfigValue = serde_json::from_slice(value)?;
                self.configs.insert(subject, value.compatibility_level);
            }
            (RecordKey::Config { subject, .. }, None) => {
                self.configs.remove(&subject);
            }
            (RecordKey::Mode { subject, .. }, Some(value)) => {
                let value: ModeValue = serde_json::from_slice(value)?;
                self.modes.insert(subject, value.mode);
            }
            (RecordKey::Mode { subject, .. }, None) => {
                self.modes.remove(&subject);
            }
            (RecordKey::DeleteSubject { .. }, Some(value)) => {
                let value: DeleteSubjectValue = serde_json::from_slice(value)?;
                if let Some(versions) = self.subjects.get_mut(&value.subject) {
                    versions.range_mut(..=value.version).for_each(|(_, v)| v.deleted = true);
                }
            }
            (RecordKey::Noop { .. }, Some(value)) => {
                if let Ok(watermark) = serde_json::from_slice::<IdWatermark>(value) {
                    self.max_id = self.max_id.max(watermark.max_schema_id);
                }
            }
            (RecordKey::DeleteSubject { .. } | RecordKey::Noop { .. }, None) => {}
        }
        Ok(())
    }

    /// The schema registered under `id`, whether or not a live version still uses it.
    pub fn schema(&self, id: i32) -> Option<&StoredSchema> {
        self.schemas.get(&id)
    }

    /// Every schema with its id.
    pub fn schemas(&self) -> impl Iterator<Item = (i32, &StoredSchema)> {
        self.schemas.iter().map(|(id, s)| (*id, s))
    }

    /// The largest id given out so far (0 before the first).
    pub fn max_id(&self) -> i32 {
        self.max_id
    }

    /// A subject's versions, soft-deleted ones included.
    pub fn versions(&self, subject: &str) -> Option<&BTreeMap<i32, Version>> {
        self.subjects.get(subject)
    }

    /// Every subject with its versions.
    pub fn subjects(&self) -> impl Iterator<Item = (&str, &BTreeMap<i32, Version>)> {
        self.subjects.iter().map(|(s, v)| (s.as_str(), v))
    }

    /// The compatibility level set for `subject` (or globally for `None`), if any.
    pub fn config(&self, subject: Option<&str>) -> Option<&str> {
        self.configs.get(&subject.map(str::to_owned)).map(String::as_str)
    }

    /// The mode set for `subject` (or globally for `None`), if any.
    pub fn mode(&self, subject: Option<&str>) -> Option<&str> {
        self.modes.get(&subject.map(str::to_owned)).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_record(subject: &str, version: i32, id: i32, deleted: bool) -> (Vec<u8>, Vec<u8>) {
        let key = serde_json::to_vec(&RecordKey::schema(subject, version)).expect("key");
        let value = SchemaValue {
            subject: subject.into(),
            version,
            id,
            schema: "\"string\"".into(),
            schema_type: None,
            references: vec![],
            deleted,
        };
        (key, serde_json::to_vec(&value).expect("value"))
    }

    #[test]
    fn applies_versions_soft_and_permanent_deletes_and_keeps_the_id_watermark() {
        let mut state = State::default();
        let (k1, v1) = schema_record("s", 1, 1, false);
        let (k2, v2) = schema_record("s", 2, 5, false);
        state.apply(&k1, Some(&v1));
        state.apply(&k2, Some(&v2));
        assert_eq!(state.max_id(), 5);
        let (k2, v2) = schema_record("s", 2, 5, true);
        state.apply(&k2, Some(&v2));
        assert!(state.versions("s").is_some_and(|v| v[&2].deleted));
        state.apply(&k2, None);
        assert_eq!(state.versions("s").map(|v| v.len()), Some(1));

        let mut replayed = State::default();
        let noop = serde_json::to_vec(&RecordKey::Noop { magic: 0 }).expect("key");
        let watermark = serde_json::to_vec(&IdWatermark { max_schema_id: 5 }).expect("value");
        replayed.apply(&k1, Some(&v1));
        replayed.apply(&noop, Some(&watermark));
        assert_eq!(replayed.max_id(), 5, "a compacted-away tombstone does not free its id");
        replayed.apply(b"not json", None);
    }
}
