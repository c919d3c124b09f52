//! `POST /compatibility/...`: would a schema be accepted, and why not.

use super::subjects::{find_version, live_versions, RegisterRequest};
use super::{Registry, VersionSpec};
use crate::avro::{self, CompatibilityLevel};
use crate::error::RegistryError;
use crate::state::State;

/// The answer to a compatibility check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatibilityReport {
    /// Whether the schema is compatible.
    pub is_compatible: bool,
    /// Why not (shown with `verbose=true`).
    pub messages: Vec<String>,
}

impl Registry {
    /// Checks `request`'s schema against one version of `subject` (by the subject's level, non-transitively), or
    /// against the versions its level says when `version` is `None`.
    pub fn check_compatibility(
        &self,
        subject: &str,
        version: Option<VersionSpec>,
        request: &RegisterRequest,
    ) -> Result<CompatibilityReport, RegistryError> {
        let state = self.store.read();
        self.identify(request)?;
        let parsed = self.validate(&state, request)?;
        let level = Registry::effective_level(&state, subject);
        let against: Vec<(i32, i32)> = match version {
            Some(spec) => vec![find_version(&state, subject, spec, false)?],
            None => live_versions(&state, subject, false).unwrap_or_default(),
        };
        let messages = self.conflicts(&state, level, &parsed, &against)?;
        Ok(CompatibilityReport { is_compatible: messages.is_empty(), messages })
    }

    /// Why `parsed` is incompatible under `level` with the (version, id) pairs `against` (oldest first), in
    /// Confluent's words: the rule messages, then `{oldSchemaVersion: n}`, `{oldSchema: '...'}` and
    /// `{validateFields: 'false', compatibility: 'LEVEL'}`. Empty when compatible.
    pub(super) fn conflicts(
        &self,
        state: &State,
        level: CompatibilityLevel,
        parsed: &avro::ParsedSchema,
        against: &[(i32, i32)],
    ) -> Result<Vec<String>, RegistryError> {
        let existing: Vec<avro::ParsedSchema> =
            against.iter().map(|(_, id)| self.parsed(state, *id)).collect::<Result<_, _>>()?;
        let Some(conflict) = avro::find_conflict(level, parsed, &existing) else {
            return Ok(Vec::new());
        };
        let mut messages = conflict.messages;
        if let Some(&(version, id)) = against.get(conflict.index) {
            messages.push(format!("{{oldSchemaVersion: {version}}}"));
            if let Some(old) = state.schema(id) {
                messages.push(format!("{{oldSchema: '{}'}}", old.schema));
            }
        }
        messages.push(format!("{{validateFields: 'false', compatibility: '{level}'}}"));
        Ok(messages)
    }
}
