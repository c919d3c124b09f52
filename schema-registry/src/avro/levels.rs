//! The seven compatibility levels and what each checks a new schema against.
//!
//! As in Confluent's registry: BACKWARD means the new schema reads data written with the latest version; FORWARD
//! means the latest version reads data written with the new one; FULL both. The `_TRANSITIVE` levels check every
//! existing version instead of the latest, newest first, and stop at the first version that fails; NONE checks
//! nothing. A FULL check lists the forward messages (old reads new) before the backward ones, as Confluent does.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use super::compat::check;
use super::ParsedSchema;

/// A subject's (or the registry's) compatibility level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CompatibilityLevel {
    /// No checks.
    None,
    /// The new schema reads data written with the latest version (the default).
    #[default]
    Backward,
    /// The new schema reads data written with every version.
    BackwardTransitive,
    /// The latest version reads data written with the new schema.
    Forward,
    /// Every version reads data written with the new schema.
    ForwardTransitive,
    /// Backward and forward against the latest version.
    Full,
    /// Backward and forward against every version.
    FullTransitive,
}

/// A string that names no compatibility level.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown compatibility level '{0}'")]
pub struct UnknownLevel(pub String);

impl CompatibilityLevel {
    /// Every level.
    pub const ALL: [CompatibilityLevel; 7] = [
        CompatibilityLevel::None,
        CompatibilityLevel::Backward,
        CompatibilityLevel::BackwardTransitive,
        CompatibilityLevel::Forward,
        CompatibilityLevel::ForwardTransitive,
        CompatibilityLevel::Full,
        CompatibilityLevel::FullTransitive,
    ];

    /// The level's name as Confluent spells it, e.g. `BACKWARD_TRANSITIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            CompatibilityLevel::None => "NONE",
            CompatibilityLevel::Backward => "BACKWARD",
            CompatibilityLevel::BackwardTransitive => "BACKWARD_TRANSITIVE",
            CompatibilityLevel::Forward => "FORWARD",
            CompatibilityLevel::ForwardTransitive => "FORWARD_TRANSITIVE",
            CompatibilityLevel::Full => "FULL",
            CompatibilityLevel::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether every existing version is checked, not only the latest.
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            CompatibilityLevel::BackwardTransitive
                | CompatibilityLevel::ForwardTransitive
                | CompatibilityLevel::FullTransitive
        )
    }

    /// Whether the new schema must read the old versions' data.
    fn backward(self) -> bool {
        matches!(
            self,
            CompatibilityLevel::Backward
                | CompatibilityLevel::BackwardTransitive
                | CompatibilityLevel::Full
                | CompatibilityLevel::FullTransitive
        )
    }

    /// Whether the old versions must read the new schema's data.
    fn forward(self) -> bool {
        matches!(
            self,
            CompatibilityLevel::Forward
                | CompatibilityLevel::ForwardTransitive
                | CompatibilityLevel::Full
                | CompatibilityLevel::FullTransitive
        )
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompatibilityLevel {
    type Err = UnknownLevel;

    /// Parses a level's name in any case (`backward`, `FULL_TRANSITIVE`), as Confluent's registry accepts it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CompatibilityLevel::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownLevel(text.to_owned()))
    }
}

impl Serialize for CompatibilityLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CompatibilityLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// The existing version a new schema is incompatible with, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The version's position in the `existing` slice given to [`find_conflict`] (oldest first).
    pub index: usize,
    /// Confluent's messages, `{errorType:'…', description:'…', additionalInfo:'…'}`, the new schema called "new" and
    /// the version "old".
    pub messages: Vec<String>,
}

/// The first existing version (newest first) that `new_schema` is incompatible with under `level`, or `None` when
/// it is compatible. `existing` holds the subject's live versions, oldest first.
pub fn find_conflict<S: Borrow<ParsedSchema>>(
    level: CompatibilityLevel,
    new_schema: &ParsedSchema,
    existing: &[S],
) -> Option<Conflict> {
    let against = match level {
        CompatibilityLevel::None => 0..0,
        _ if level.is_transitive() => 0..existing.len(),
        _ => existing.len().saturating_sub(1)..existing.len(),
    };
    against.rev().find_map(|index| {
        let old = existing[index].borrow();
        let mut messages = Vec::new();
        if level.forward() {
            messages.extend(check(old, new_schema).iter().map(|i| i.confluent_message("old", "new")));
        }
        if level.backward() {
            messages.extend(check(new_schema, old).iter().map(|i| i.confluent_message("new", "old")));
        }
        (!messages.is_empty()).then_some(Conflict { index, messages })
    })
}

/// Why `new_schema` cannot be registered under `level` after `existing` (the subject's live versions, oldest
/// first): Confluent's messages for the first version it conflicts with; empty when it is compatible.
pub fn check_level<S: Borrow<ParsedSchema>>(
    level: CompatibilityLevel,
    new_schema: &ParsedSchema,
    existing: &[S],
) -> Vec<String> {
    find_conflict(level, new_schema, existing).map(|conflict| conflict.messages).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() -> Result<(), UnknownLevel> {
        for level in CompatibilityLevel::ALL {
            assert_eq!(level.as_str().parse::<CompatibilityLevel>()?, level);
            assert_eq!(level.to_string().to_lowercase().parse::<CompatibilityLevel>()?, level);
        }
        assert_eq!("sideways".parse::<CompatibilityLevel>(), Err(UnknownLevel("sideways".into())));
        assert_eq!(CompatibilityLevel::default(), CompatibilityLevel::Backward);
        Ok(())
    }

    #[test]
    fn serde_uses_the_names() -> Result<(), serde_json::Error> {
        let json = serde_json::to_string(&CompatibilityLevel::FullTransitive)?;
        assert_eq!(json, "\"FULL_TRANSITIVE\"");
        assert_eq!(serde_json::from_str::<CompatibilityLevel>("\"forward\"")?, CompatibilityLevel::Forward);
        assert!(serde_json::from_str::<CompatibilityLevel>("\"NEVER\"").is_err());
        Ok(())
    }
}
