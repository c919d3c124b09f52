//! The settings of `ExtractNewRecordState` and how deletes and tombstones are handled.
//!
//! `delete.tombstone.handling.mode` (Debezium 2.5+) decides, and wins over the deprecated pair it replaced:
//!
//! | mode | a delete event (`op=d`) becomes | a tombstone |
//! |---|---|---|
//! | `drop` | nothing | dropped |
//! | `tombstone` (default) | a record with a null value (the row's value schema kept, as Debezium does) | dropped |
//! | `rewrite` | the `before` row with `__deleted: "true"` (other rows get `"false"`) | dropped |
//! | `rewrite-with-tombstone` | as `rewrite` | kept |
//! | `delete-to-tombstone` | a true tombstone (value and value schema null) | dropped |
//!
//! When it is not given but `delete.handling.mode` (`drop` default, `none`, `rewrite`) or `drop.tombstones`
//! (default `true`) is, those are read as Debezium read them before 2.5: `none` keeps a null-value record,
//! `drop.tombstones=false` keeps tombstones. With none of the three, the mode is `tombstone` (Debezium 3).

use crate::config::{ConfigDef, ConfigKey, ConfigType, FieldError};

use super::super::settings::Settings;

/// What becomes of a delete event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDelete {
    /// Dropped.
    Drop,
    /// A record with a null value and the row's value schema (Debezium's `tombstone` / legacy `none`).
    NullValue,
    /// The `before` row, with `__deleted` added to every row.
    Rewrite,
    /// A tombstone: null value, no value schema.
    Tombstone,
}

/// How deletes and tombstones are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeleteHandling {
    /// What a delete event becomes.
    pub(crate) on_delete: OnDelete,
    /// Whether tombstones from the source are kept.
    pub(crate) keep_tombstones: bool,
}

impl DeleteHandling {
    /// Reads the mode from `settings` (see the module docs).
    pub(crate) fn from_settings(settings: &Settings) -> Result<Self, FieldError> {
        let handling = |on_delete, keep_tombstones| DeleteHandling { on_delete, keep_tombstones };
        if let Some(mode) = settings.given("delete.tombstone.handling.mode").map(str::trim).filter(|m| !m.is_empty()) {
            return Ok(match mode.to_ascii_lowercase().as_str() {
                "drop" => handling(OnDelete::Drop, false),
                "tombstone" => handling(OnDelete::NullValue, false),
                "rewrite" => handling(OnDelete::Rewrite, false),
                "rewrite-with-tombstone" => handling(OnDelete::Rewrite, true),
                "delete-to-tombstone" => handling(OnDelete::Tombstone, false),
                _ => {
                    return Err(settings
                        .invalid("delete.tombstone.handling.mode", format!("must be one of {}", MODES.join(", "))))
                }
            });
        }
        if settings.given("delete.handling.mode").is_none() && settings.given("drop.tombstones").is_none() {
            return Ok(handling(OnDelete::NullValue, false));
        }
        let on_delete = match settings.get("delete.handling.mode").map(|m| m.trim().to_ascii_lowercase()).as_deref() {
            Some("none") => OnDelete::NullValue,
            Some("rewrite") => OnDelete::Rewrite,
            _ => OnDelete::Drop,
        };
        Ok(handling(on_delete, !settings.flag("drop.tombstones")))
    }
}

const MODES: &[&str] = &["drop", "tombstone", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone"];

/// The settings `ExtractNewRecordState` declares (Debezium's names and defaults).
pub(crate) fn config_def() -> ConfigDef {
    let low = |name, kind, default, doc| ConfigKey::optional(name, kind, default, doc);
    ConfigDef::new([
        low("delete.tombstone.handling.mode", ConfigType::String, "tombstone", "How delete events and tombstones are handled: drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone.").one_of(MODES),
        low("drop.tombstones", ConfigType::Boolean, "true", "Deprecated: use delete.tombstone.handling.mode."),
        low("delete.handling.mode", ConfigType::String, "drop", "Deprecated: use delete.tombstone.handling.mode.").one_of(&["drop", "rewrite", "none"]),
        low("route.by.field", ConfigType::String, "", "A row field whose value becomes the topic (the before row's for deletes)."),
        low("add.fields.prefix", ConfigType::String, "__", "Prefix of the metadata fields added to the value."),
        low("add.fields", ConfigType::List, "", "Metadata fields added to the value, e.g. op,table,lsn,source.ts_ms (field:newName renames)."),
        low("add.headers.prefix", ConfigType::String, "__", "Prefix of the metadata headers added."),
        low("add.headers", ConfigType::List, "", "Metadata fields added as headers, e.g. op,db."),
        low("replace.null.with.default", ConfigType::Boolean, "true", "Whether null row fields take their default when the row is rewritten."),
        low("drop.fields.header.name", ConfigType::String, "", "A header listing fields to remove from the value."),
        low("drop.fields.from.key", ConfigType::Boolean, "false", "Whether the fields of drop.fields.header.name are removed from the key too."),
        low("drop.fields.keep.schema.compatible", ConfigType::Boolean, "true", "Whether only optional fields are removed."),
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn handling(pairs: &[(&str, &str)]) -> Result<DeleteHandling, FieldError> {
        let props: BTreeMap<String, String> =
            pairs.iter().map(|(k, v)| (format!("transforms.unwrap.{k}"), v.to_string())).collect();
        DeleteHandling::from_settings(&Settings::new("transforms.unwrap.", &props, config_def()))
    }

    #[test]
    fn modes_and_their_deprecated_predecessors() {
        let of = |on_delete, keep_tombstones| Ok(DeleteHandling { on_delete, keep_tombstones });
        assert_eq!(handling(&[]), of(OnDelete::NullValue, false));
        assert_eq!(
            handling(&[("delete.tombstone.handling.mode", "rewrite-with-tombstone")]),
            of(OnDelete::Rewrite, true)
        );
        assert_eq!(handling(&[("delete.tombstone.handling.mode", "DROP")]), of(OnDelete::Drop, false));
        assert_eq!(
            handling(&[("delete.tombstone.handling.mode", "delete-to-tombstone")]),
            of(OnDelete::Tombstone, false)
        );
        assert_eq!(handling(&[("drop.tombstones", "false")]), of(OnDelete::Drop, true));
        assert_eq!(handling(&[("delete.handling.mode", "rewrite")]), of(OnDelete::Rewrite, false));
        assert_eq!(
            handling(&[("delete.handling.mode", "none"), ("drop.tombstones", "false")]),
            of(OnDelete::NullValue, true)
        );
        assert_eq!(
            handling(&[("delete.tombstone.handling.mode", "tombstone"), ("delete.handling.mode", "rewrite")]),
            of(OnDelete::NullValue, false),
            "the new option wins"
        );
        assert!(handling(&[("delete.tombstone.handling.mode", "keep")]).is_err());
    }
}
