//! Subjects and their versions: register, look up, list and delete.

use serde::Deserialize;
use serde_json::json;

use super::{resolve_references, Registry, VersionSpec, AVRO};
use crate::avro;
use crate::error::RegistryError;
use crate::records::{RecordKey, SchemaReference, SchemaValue};
use crate::state::{IdWatermark, State, StoredSchema};

/// The body of `POST /subjects/{s}/versions` and `POST /subjects/{s}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterRequest {
    /// The schema text.
    pub schema: String,
    /// `AVRO` when absent.
    #[serde(default)]
    pub schema_type: Option<String>,
    /// Named types taken from other subjects.
    #[serde(default)]
    pub references: Vec<SchemaReference>,
    /// An explicit id (IMPORT mode only).
    #[serde(default)]
    pub id: Option<i32>,
    /// An explicit version (IMPORT mode only).
    #[serde(default)]
    pub version: Option<i32>,
    /// Accepted for compatibility with Confluent's clients; schemas are always compared normalised.
    #[serde(default)]
    pub normalize: Option<bool>,
    /// Accepted and ignored (Confluent's metadata and rule sets are not supported).
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// Accepted and ignored.
    #[serde(default)]
    pub rule_set: Option<serde_json::Value>,
}

impl RegisterRequest {
    /// Whether `stored` was registered from exactly this text, type and references.
    fn same_text_as(&self, stored: &StoredSchema) -> bool {
        self.schema == stored.schema
            && self.schema_type.as_deref().unwrap_or(AVRO) == stored.schema_type.as_deref().unwrap_or(AVRO)
            && self.references == stored.references
    }
}

/// One version of a subject, as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectVersion {
    /// The subject.
    pub subject: String,
    /// The version.
    pub version: i32,
    /// The schema id.
    pub id: i32,
    /// The schema.
    pub schema: StoredSchema,
}

/// What makes two registrations the same schema: the normalised text, the type and the references.
pub(super) struct Identity {
    pub normalized: String,
    pub schema_type: Option<String>,
    pub references: Vec<SchemaReference>,
}

impl Identity {
    fn matches(&self, stored: &StoredSchema) -> bool {
        self.schema_type.as_deref().unwrap_or(AVRO) == stored.schema_type.as_deref().unwrap_or(AVRO)
            && self.references == stored.references
            && stored.normalized == self.normalized
    }
}

impl Registry {
    /// The identity of a request's schema, without parsing it as Avro (cheap: lookups of registered schemas need
    /// no more). 42201 for a schema too large, of another type, or not JSON.
    pub(super) fn identify(&self, request: &RegisterRequest) -> Result<Identity, RegistryError> {
        if request.schema.len() > self.max_schema_bytes {
            return Err(RegistryError::InvalidSchema(format!(
                "the schema is {} bytes, more than the {} this registry accepts (--max-schema-bytes)",
                request.schema.len(),
                self.max_schema_bytes
            )));
        }
        let schema_type = request.schema_type.clone().filter(|t| t != AVRO);
        if let Some(other) = &schema_type {
            return Err(RegistryError::InvalidSchema(format!("schema type {other} is not supported; only AVRO is")));
        }
        let normalized = avro::normalize(&request.schema).map_err(|e| RegistryError::InvalidSchema(e.to_string()))?;
        Ok(Identity { normalized, schema_type, references: request.references.clone() })
    }

    /// Parses a request's schema with its references (42201 when it is not a valid Avro schema).
    pub(super) fn validate(
        &self,
        state: &State,
        request: &RegisterRequest,
    ) -> Result<avro::ParsedSchema, RegistryError> {
        let referenced = resolve_references(state, &request.references)?;
        avro::parse(&request.schema, &referenced).map_err(|e| RegistryError::InvalidSchema(e.to_string()))
    }

    /// Registers a schema under `subject` (or finds it already there) and returns its id.
    pub async fn register(&self, subject: &str, request: RegisterRequest) -> Result<i32, RegistryError> {
        let _writing = self.store.lock_writes().await;
        let (value, id) = {
            let state = self.store.read();
            let mode = Registry::effective_mode(&state, subject);
            if mode == "READONLY" {
                return Err(RegistryError::OperationNotPermitted(format!("Subject {subject} is in read-only mode")));
            }
            let importing = mode == "IMPORT";
            if !importing && (request.id.is_some() || request.version.is_some()) {
                return Err(RegistryError::OperationNotPermitted(
                    "an explicit id or version is allowed only in IMPORT mode".into(),
                ));
            }
            let identity = self.identify(&request)?;
            let versions = state.versions(subject);
            let live = versions.into_iter().flatten().filter(|(_, v)| !v.deleted);
            for (_, version) in live.clone() {
                if state.schema(version.id).is_some_and(|s| identity.matches(s)) {
                    return Ok(version.id);
                }
            }
            let parsed = self.validate(&state, &request)?;
            if !importing {
                let level = Registry::effective_level(&state, subject);
                let against: Vec<(i32, i32)> = live.map(|(n, v)| (*n, v.id)).collect();
                let details = self.conflicts(&state, level, &parsed, &against)?;
                if !details.is_empty() {
                    return Err(RegistryError::Incompatible { subject: subject.to_owned(), details });
                }
            }
            let id = match request.id {
                Some(id) => {
                    if state.schema(id).is_some_and(|s| !identity.matches(s)) {
                        return Err(RegistryError::OperationNotPermitted(format!(
                            "Overwrite new schema with id {id} is not permitted."
                        )));
                    }
                    id
                }
                None => state.schemas().find(|(_, s)| identity.matches(s)).map_or(state.max_id() + 1, |(id, _)| id),
            };
            let latest = versions.and_then(|v| v.keys().next_back().copied()).unwrap_or(0);
            let version = request.version.unwrap_or(latest + 1);
            let value = SchemaValue {
                subject: subject.to_owned(),
                version,
                id,
                schema: request.schema,
                schema_type: identity.schema_type,
                references: identity.references,
                deleted: false,
            };
            (value, id)
        };
        let key = RecordKey::schema(subject, value.version);
        self.store
            .write(vec![(key, Some(serde_json::to_value(&value).map_err(crate::store::StoreError::from)?))])
            .await?;
        Ok(id)
    }

    /// The schema registered under `id`, parsed with its references (cached: an id's schema never changes).
    pub(super) fn parsed(&self, state: &State, id: i32) -> Result<avro::ParsedSchema, RegistryError> {
        if let Some(parsed) = self.parsed_cache().get(&id) {
            return Ok(parsed.clone());
        }
        let stored = state.schema(id).ok_or_else(|| RegistryError::SchemaNotFound(format!("Schema {id} not found")))?;
        let referenced = resolve_references(state, &stored.references)?;
        let parsed =
            avro::parse(&stored.schema, &referenced).map_err(|e| RegistryError::InvalidSchema(e.to_string()))?;
        self.parsed_cache().insert(id, parsed.clone());
        Ok(parsed)
    }

    /// Finds `request`'s schema among the versions of `subject` (`POST /subjects/{s}`).
    pub fn lookup(
        &self,
        subject: &str,
        request: &RegisterRequest,
        deleted: bool,
    ) -> Result<SubjectVersion, RegistryError> {
        let state = self.store.read();
        let versions = live_versions(&state, subject, deleted)?;
        let find = |same: &dyn Fn(&StoredSchema) -> bool| {
            versions.iter().rev().find_map(|&(version, id)| {
                let schema = state.schema(id).filter(|schema| same(schema))?;
                Some(SubjectVersion { subject: subject.to_owned(), version, id, schema: schema.clone() })
            })
        };
        // Clients usually send the very text they registered: try that before normalising.
        let found = match find(&|schema| request.same_text_as(schema)) {
            Some(found) => Some(found),
            None => {
                let identity = self.identify(request)?;
                find(&|schema| identity.matches(schema))
            }
        };
        match found {
            Some(found) => Ok(found),
            None => {
                // Not registered: tell an invalid schema (42201) from an unknown one (40403).
                self.validate(&state, request)?;
                Err(RegistryError::SchemaNotFound("Schema not found".into()))
            }
        }
    }

    /// Subjects with a live version (or any version, with `deleted`), optionally only those with a prefix.
    pub fn subjects(&self, deleted: bool, prefix: Option<&str>) -> Vec<String> {
        let state = self.store.read();
        state
            .subjects()
            .filter(|(name, versions)| {
                prefix.is_none_or(|p| name.starts_with(p)) && versions.values().any(|v| deleted || !v.deleted)
            })
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// A subject's version numbers.
    pub fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        let state = self.store.read();
        Ok(live_versions(&state, subject, deleted)?.into_iter().map(|(v, _)| v).collect())
    }

    /// One version of a subject.
    pub fn version(&self, subject: &str, spec: VersionSpec, deleted: bool) -> Result<SubjectVersion, RegistryError> {
        let state = self.store.read();
        let (version, id) = find_version(&state, subject, spec, deleted)?;
        let schema =
            state.schema(id).cloned().ok_or_else(|| RegistryError::SchemaNotFound(format!("Schema {id} not found")))?;
        Ok(SubjectVersion { subject: subject.to_owned(), version, id, schema })
    }

    /// Ids of the schemas that reference a version of a subject.
    pub fn referenced_by(&self, subject: &str, spec: VersionSpec) -> Result<Vec<i32>, RegistryError> {
        let state = self.store.read();
        let (version, _) = find_version(&state, subject, spec, false)?;
        Ok(referrers(&state, subject, version))
    }

    /// Deletes a version: soft, or permanently after a soft delete.
    pub async fn delete_version(
        &self,
        subject: &str,
        spec: VersionSpec,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let _writing = self.store.lock_writes().await;
        let records = {
            let state = self.store.read();
            self.check_writable(&state, subject)?;
            // A numbered version is found even when soft-deleted (to answer 40406, or to delete it for good).
            let include_deleted = permanent || matches!(spec, VersionSpec::Number(_));
            let (version, id) = find_version(&state, subject, spec, include_deleted)?;
            let deleted = state.versions(subject).and_then(|v| v.get(&version)).is_some_and(|v| v.deleted);
            if !referrers(&state, subject, version).is_empty() {
                return Err(RegistryError::ReferenceExists(subject.to_owned(), version));
            }
            match (permanent, deleted) {
                (false, true) => return Err(RegistryError::VersionSoftDeleted(subject.to_owned(), version)),
                (true, false) => return Err(RegistryError::VersionNotSoftDeleted(subject.to_owned(), version)),
                (true, true) => permanent_delete(&state, subject, &[version]),
                (false, false) => vec![soft_delete(&state, subject, version, id)?],
            }
        };
        self.store.write(records).await?;
        Ok(match spec {
            VersionSpec::Number(n) => n,
            VersionSpec::Latest => self.versions(subject, true).ok().and_then(|v| v.last().copied()).unwrap_or(0),
        })
    }

    /// Deletes every version of a subject: soft, or permanently after a soft delete. Returns the versions.
    pub async fn delete_subject(&self, subject: &str, permanent: bool) -> Result<Vec<i32>, RegistryError> {
        let _writing = self.store.lock_writes().await;
        let (records, versions) = {
            let state = self.store.read();
            self.check_writable(&state, subject)?;
            let all = state
                .versions(subject)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))?;
            let live: Vec<(i32, i32)> = all.iter().filter(|(_, v)| !v.deleted).map(|(n, v)| (*n, v.id)).collect();
            for version in all.keys() {
                if !referrers(&state, subject, *version).is_empty() {
                    return Err(RegistryError::ReferenceExists(subject.to_owned(), *version));
                }
            }
            if permanent {
                if !live.is_empty() {
                    return Err(RegistryError::SubjectNotSoftDeleted(subject.to_owned()));
                }
                let versions: Vec<i32> = all.keys().copied().collect();
                (permanent_delete(&state, subject, &versions), versions)
            } else {
                if live.is_empty() {
                    return Err(RegistryError::SubjectSoftDeleted(subject.to_owned()));
                }
                let records =
                    live.iter().map(|(v, id)| soft_delete(&state, subject, *v, *id)).collect::<Result<_, _>>()?;
                (records, live.iter().map(|(v, _)| *v).collect())
            }
        };
        self.store.write(records).await?;
        Ok(versions)
    }

    /// Refuses changes to a subject in read-only mode.
    pub(super) fn check_writable(&self, state: &State, subject: &str) -> Result<(), RegistryError> {
        if Registry::effective_mode(state, subject) == "READONLY" {
            return Err(RegistryError::OperationNotPermitted(format!("Subject {subject} is in read-only mode")));
        }
        Ok(())
    }
}

/// The versions of a subject with their ids, live ones only unless `deleted`; 40401 when there are none.
pub(super) fn live_versions(state: &State, subject: &str, deleted: bool) -> Result<Vec<(i32, i32)>, RegistryError> {
    let versions: Vec<(i32, i32)> = state
        .versions(subject)
        .into_iter()
        .flatten()
        .filter(|(_, v)| deleted || !v.deleted)
        .map(|(n, v)| (*n, v.id))
        .collect();
    if versions.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject.to_owned()));
    }
    Ok(versions)
}

/// The version a spec names, with its id.
pub(super) fn find_version(
    state: &State,
    subject: &str,
    spec: VersionSpec,
    deleted: bool,
) -> Result<(i32, i32), RegistryError> {
    let versions = live_versions(state, subject, deleted)?;
    match spec {
        VersionSpec::Latest => {
            versions.last().copied().ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))
        }
        VersionSpec::Number(n) => {
            versions.into_iter().find(|(v, _)| *v == n).ok_or_else(|| RegistryError::VersionNotFound(n.to_string()))
        }
    }
}

fn referrers(state: &State, subject: &str, version: i32) -> Vec<i32> {
    let mut ids: Vec<i32> = state
        .subjects()
        .flat_map(|(_, versions)| versions.values().filter(|v| !v.deleted).map(|v| v.id))
        .filter(|id| {
            state.schema(*id).is_some_and(|s| s.references.iter().any(|r| r.subject == subject && r.version == version))
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn soft_delete(
    state: &State,
    subject: &str,
    version: i32,
    id: i32,
) -> Result<(RecordKey, Option<serde_json::Value>), RegistryError> {
    let schema = state.schema(id).ok_or_else(|| RegistryError::SchemaNotFound(format!("Schema {id} not found")))?;
    let value = SchemaValue {
        subject: subject.to_owned(),
        version,
        id,
        schema: schema.schema.clone(),
        schema_type: schema.schema_type.clone(),
        references: schema.references.clone(),
        deleted: true,
    };
    let value = serde_json::to_value(value).map_err(crate::store::StoreError::from)?;
    Ok((RecordKey::schema(subject, version), Some(value)))
}

/// Tombstones for the versions, after a record that keeps the id watermark (ids are never handed out twice).
fn permanent_delete(state: &State, subject: &str, versions: &[i32]) -> Vec<(RecordKey, Option<serde_json::Value>)> {
    let watermark = json!(IdWatermark { max_schema_id: state.max_id() });
    let mut records = vec![(RecordKey::Noop { magic: 0 }, Some(watermark))];
    records.extend(versions.iter().map(|v| (RecordKey::schema(subject, *v), None)));
    records
}
