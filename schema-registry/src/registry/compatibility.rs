//! `POST /compatibility/...`: would a schema be accepted, and why not.

use super::subjects::{find_version, live_versions, RegisterRequest};
use super::{Registry, VersionSpec};
use crate::avro;
use crate::error::RegistryError;

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
        let candidate = self.candidate(&state, request)?;
        let level = Registry::effective_level(&state, subject);
        let against: Vec<i32> = match version {
            Some(spec) => vec![find_version(&state, subject, spec, false)?.1],
            None => match live_versions(&state, subject, false) {
                Ok(versions) => versions.into_iter().map(|(_, id)| id).collect(),
                Err(_) => Vec::new(),
            },
        };
        let existing: Vec<avro::ParsedSchema> =
            against.iter().map(|id| self.parsed(&state, *id)).collect::<Result<_, _>>()?;
        let messages = avro::check_level(level, &candidate.parsed, &existing);
        Ok(CompatibilityReport { is_compatible: messages.is_empty(), messages })
    }
}
