//! Compatibility levels and modes, global and per subject.

use super::{Registry, DEFAULT_COMPATIBILITY, DEFAULT_MODE};
use crate::avro::CompatibilityLevel;
use crate::error::RegistryError;
use crate::records::{ConfigValue, ModeValue, RecordKey};
use crate::store::StoreError;

/// The modes a registry or subject can be in.
const MODES: &[&str] = &["READWRITE", "READONLY", "IMPORT"];

impl Registry {
    /// The level set for `subject` (or the global one); a subject without its own level is 40408 unless
    /// `default_to_global`.
    pub fn config(&self, subject: Option<&str>, default_to_global: bool) -> Result<String, RegistryError> {
        let state = self.store.read();
        match subject {
            None => Ok(state.config(None).unwrap_or(DEFAULT_COMPATIBILITY).to_owned()),
            Some(s) => match state.config(Some(s)) {
                Some(level) => Ok(level.to_owned()),
                None if default_to_global => Ok(state.config(None).unwrap_or(DEFAULT_COMPATIBILITY).to_owned()),
                None => Err(RegistryError::SubjectConfigNotFound(s.to_owned())),
            },
        }
    }

    /// Sets a level; returns it as stored (upper case).
    pub async fn set_config(&self, subject: Option<&str>, level: &str) -> Result<String, RegistryError> {
        let level: CompatibilityLevel =
            level.parse().map_err(|_| RegistryError::InvalidCompatibilityLevel(level.to_owned()))?;
        let value = ConfigValue { compatibility_level: level.to_string() };
        let value = serde_json::to_value(&value).map_err(StoreError::from)?;
        self.store.write(vec![(RecordKey::config(subject), Some(value))]).await?;
        Ok(level.to_string())
    }

    /// Removes a level; returns the level it had.
    pub async fn delete_config(&self, subject: Option<&str>) -> Result<String, RegistryError> {
        let previous = match subject {
            Some(s) => {
                if self.store.read().versions(s).is_none() && self.store.read().config(Some(s)).is_none() {
                    return Err(RegistryError::SubjectNotFound(s.to_owned()));
                }
                self.config(Some(s), true)?
            }
            None => self.config(None, true)?,
        };
        self.store.write(vec![(RecordKey::config(subject), None)]).await?;
        Ok(previous)
    }

    /// The mode of `subject` (or the global one); 40409 for a subject without its own mode unless
    /// `default_to_global`.
    pub fn mode(&self, subject: Option<&str>, default_to_global: bool) -> Result<String, RegistryError> {
        let state = self.store.read();
        match subject {
            None => Ok(state.mode(None).unwrap_or(DEFAULT_MODE).to_owned()),
            Some(s) => match state.mode(Some(s)) {
                Some(mode) => Ok(mode.to_owned()),
                None if default_to_global => Ok(state.mode(None).unwrap_or(DEFAULT_MODE).to_owned()),
                None => Err(RegistryError::SubjectModeNotFound(s.to_owned())),
            },
        }
    }

    /// Sets a mode. IMPORT over existing schemas needs `force`, as in Confluent's registry.
    pub async fn set_mode(&self, subject: Option<&str>, mode: &str, force: bool) -> Result<String, RegistryError> {
        let mode = mode.to_ascii_uppercase();
        if !MODES.contains(&mode.as_str()) {
            return Err(RegistryError::InvalidMode(mode));
        }
        if mode == "IMPORT" && !force {
            let state = self.store.read();
            let has_schemas = match subject {
                Some(s) => state.versions(s).is_some_and(|v| !v.is_empty()),
                None => state.subjects().next().is_some(),
            };
            if has_schemas {
                return Err(RegistryError::OperationNotPermitted("Cannot import since found existing subjects".into()));
            }
        }
        let value = serde_json::to_value(ModeValue { mode: mode.clone() }).map_err(StoreError::from)?;
        self.store.write(vec![(RecordKey::mode(subject), Some(value))]).await?;
        Ok(mode)
    }

    /// Removes a subject's mode; returns the mode it had.
    pub async fn delete_mode(&self, subject: &str) -> Result<String, RegistryError> {
        let previous = self.mode(Some(subject), false)?;
        self.store.write(vec![(RecordKey::mode(Some(subject)), None)]).await?;
        Ok(previous)
    }
}
