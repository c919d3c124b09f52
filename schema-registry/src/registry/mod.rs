//! The registry's operations, as Confluent's Schema Registry defines them, over the [`Store`]. The HTTP layer
//! (`http/`) only translates requests and answers.

mod compatibility;
mod config;
mod ids;
mod subjects;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::avro::{CompatibilityLevel, ParsedSchema};
use crate::error::RegistryError;
use crate::metrics::RegistryMetrics;
use crate::records::SchemaReference;
use crate::state::State;
use crate::store::Store;

pub use compatibility::CompatibilityReport;
pub use subjects::{RegisterRequest, SubjectVersion};

/// The compatibility level when none is configured.
pub const DEFAULT_COMPATIBILITY: &str = "BACKWARD";
/// The mode when none is configured.
pub const DEFAULT_MODE: &str = "READWRITE";
/// The only schema type served.
pub const AVRO: &str = "AVRO";

/// Which version of a subject a request means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSpec {
    /// `latest` or `-1`: the newest live version.
    Latest,
    /// A version number.
    Number(i32),
}

impl VersionSpec {
    /// Parses a version path segment (42202 for anything else).
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        match text {
            "latest" | "-1" => Ok(VersionSpec::Latest),
            _ => match text.parse::<i32>() {
                Ok(n) if n > 0 => Ok(VersionSpec::Number(n)),
                _ => Err(RegistryError::InvalidVersion(text.to_owned())),
            },
        }
    }
}

/// The schema registry.
pub struct Registry {
    store: Arc<Store>,
    max_schema_bytes: usize,
    /// Registered schemas parsed with their references, by id, for compatibility checks.
    parsed: Mutex<HashMap<i32, ParsedSchema>>,
    metrics: RegistryMetrics,
}

impl Registry {
    /// A registry over `store` accepting schemas up to `max_schema_bytes`.
    pub fn new(store: Arc<Store>, max_schema_bytes: usize) -> Self {
        Registry { store, max_schema_bytes, parsed: Mutex::new(HashMap::new()), metrics: RegistryMetrics::default() }
    }

    /// The registry's Prometheus metrics (counted by the HTTP layer).
    pub fn metrics(&self) -> &RegistryMetrics {
        &self.metrics
    }

    fn parsed_cache(&self) -> MutexGuard<'_, HashMap<i32, ParsedSchema>> {
        self.parsed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The compatibility level that applies to `subject` (a level this registry cannot read, written by another
    /// registry into the topic, counts as the default).
    fn effective_level(state: &State, subject: &str) -> CompatibilityLevel {
        let name = state.config(Some(subject)).or(state.config(None)).unwrap_or(DEFAULT_COMPATIBILITY);
        name.parse().unwrap_or_default()
    }

    /// The mode that applies to `subject`.
    fn effective_mode(state: &State, subject: &str) -> String {
        state.mode(Some(subject)).or(state.mode(None)).unwrap_or(DEFAULT_MODE).to_owned()
    }
}

/// The schema texts `references` name, dependencies first, each followed by what it references in turn.
fn resolve_references(state: &State, references: &[SchemaReference]) -> Result<Vec<String>, RegistryError> {
    let mut resolved = Vec::new();
    let mut seen = Vec::new();
    collect_references(state, references, &mut resolved, &mut seen, 0)?;
    Ok(resolved)
}

/// How deep references may nest before they are taken for a cycle.
const MAX_REFERENCE_DEPTH: usize = 32;

fn collect_references(
    state: &State,
    references: &[SchemaReference],
    resolved: &mut Vec<String>,
    seen: &mut Vec<(String, i32)>,
    depth: usize,
) -> Result<(), RegistryError> {
    if depth > MAX_REFERENCE_DEPTH {
        return Err(RegistryError::InvalidSchema("references nest too deeply (or form a cycle)".into()));
    }
    for reference in references {
        let key = (reference.subject.clone(), reference.version);
        if seen.contains(&key) {
            continue;
        }
        let id = state
            .versions(&reference.subject)
            .and_then(|v| v.get(&reference.version))
            .filter(|v| !v.deleted)
            .map(|v| v.id)
            .ok_or_else(|| {
                RegistryError::InvalidSchema(format!(
                    "reference '{}' names subject '{}' version {}, which does not exist",
                    reference.name, reference.subject, reference.version
                ))
            })?;
        let schema = state.schema(id).ok_or_else(|| RegistryError::InvalidSchema(format!("schema {id} is missing")))?;
        seen.push(key);
        collect_references(state, &schema.references, resolved, seen, depth + 1)?;
        resolved.push(schema.schema.clone());
    }
    Ok(())
}
