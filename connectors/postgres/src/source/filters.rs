//! Which tables are captured: `schema.include.list` / `schema.exclude.list` and `table.include.list` /
//! `table.exclude.list`, as Debezium reads them. Each list is comma-separated regular expressions (`\,` for a
//! comma inside one); a schema expression must match the whole schema name and a table expression the whole
//! `<schema>.<table>`, ignoring case. System schemas are never captured.

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};
use tidemark_connect::config::FieldError;

/// Schemas that hold the system catalogs, never captured.
const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "pg_toast"];

/// The captured tables.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    schema_include: Vec<Regex>,
    schema_exclude: Vec<Regex>,
    table_include: Vec<Regex>,
    table_exclude: Vec<Regex>,
}

impl TableFilter {
    /// The filter the four settings of `props` describe. An include list and its exclude list cannot both be
    /// given (Debezium refuses that too).
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, FieldError> {
        let list = |name: &str| -> Result<Vec<Regex>, FieldError> {
            let value = props.get(name).map(String::as_str).unwrap_or_default();
            compile(value).map_err(|message| FieldError { name: name.to_owned(), message })
        };
        let filter = TableFilter {
            schema_include: list("schema.include.list")?,
            schema_exclude: list("schema.exclude.list")?,
            table_include: list("table.include.list")?,
            table_exclude: list("table.exclude.list")?,
        };
        for (include, exclude, name) in [
            (&filter.schema_include, &filter.schema_exclude, "schema"),
            (&filter.table_include, &filter.table_exclude, "table"),
        ] {
            if !include.is_empty() && !exclude.is_empty() {
                return Err(FieldError {
                    name: format!("{name}.exclude.list"),
                    message: format!("{name}.include.list and {name}.exclude.list cannot both be set"),
                });
            }
        }
        Ok(filter)
    }

    /// Whether every expression of a list setting compiles (a config validator).
    pub fn check_patterns(value: &str) -> Result<(), String> {
        compile(value).map(drop)
    }

    /// Whether `schema.table` is captured.
    pub fn includes(&self, schema: &str, table: &str) -> bool {
        if is_system_schema(schema) {
            return false;
        }
        let schema_ok = if self.schema_include.is_empty() {
            !self.schema_exclude.iter().any(|p| p.is_match(schema))
        } else {
            self.schema_include.iter().any(|p| p.is_match(schema))
        };
        if !schema_ok {
            return false;
        }
        let id = format!("{schema}.{table}");
        if self.table_include.is_empty() {
            !self.table_exclude.iter().any(|p| p.is_match(&id))
        } else {
            self.table_include.iter().any(|p| p.is_match(&id))
        }
    }
}

/// Whether `schema` holds system catalogs or temporary tables.
fn is_system_schema(schema: &str) -> bool {
    SYSTEM_SCHEMAS.contains(&schema) || schema.starts_with("pg_temp_") || schema.starts_with("pg_toast_temp_")
}

/// The expressions of a list, each anchored at both ends and matched without regard to case.
fn compile(value: &str) -> Result<Vec<Regex>, String> {
    split(value)
        .into_iter()
        .map(|pattern| {
            RegexBuilder::new(&format!("^(?:{pattern})$"))
                .case_insensitive(true)
                .build()
                .map_err(|e| format!("invalid regular expression '{pattern}': {e}"))
        })
        .collect()
}

/// The entries of a comma-separated list where `\,` is a comma inside an entry; entries trimmed, empty ones
/// dropped.
fn split(value: &str) -> Vec<String> {
    let mut entries = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                current.push(',');
                chars.next();
            }
            ',' => entries.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    entries.push(current);
    entries.into_iter().map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(pairs: &[(&str, &str)]) -> Result<TableFilter, FieldError> {
        TableFilter::from_props(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn everything_but_system_schemas_by_default() {
        let all = filter(&[]).expect("filter");
        assert!(all.includes("public", "orders"));
        assert!(all.includes("inventory", "Customers"));
        for schema in ["pg_catalog", "information_schema", "pg_toast", "pg_temp_3", "pg_toast_temp_3"] {
            assert!(!all.includes(schema, "t"), "{schema}");
        }
    }

    #[test]
    fn table_lists_match_whole_names_ignoring_case() {
        let include = filter(&[("table.include.list", "public.orders, inventory\\..*")]).expect("filter");
        assert!(include.includes("public", "orders"));
        assert!(include.includes("PUBLIC", "Orders"));
        assert!(!include.includes("public", "orders_archive"));
        assert!(include.includes("inventory", "anything"));
        assert!(!include.includes("other", "orders"));

        let exclude = filter(&[("table.exclude.list", "public\\.audit_.*")]).expect("filter");
        assert!(!exclude.includes("public", "audit_log"));
        assert!(exclude.includes("public", "orders"));
    }

    #[test]
    fn schema_lists() {
        let include = filter(&[("schema.include.list", "inventory")]).expect("filter");
        assert!(include.includes("inventory", "orders"));
        assert!(!include.includes("public", "orders"));
        let both = filter(&[("schema.exclude.list", "staging"), ("table.include.list", ".*\\.orders")]).expect("f");
        assert!(!both.includes("staging", "orders"));
        assert!(both.includes("public", "orders"));
        assert!(!both.includes("public", "items"));
    }

    #[test]
    fn escaped_commas_and_bad_settings() {
        assert_eq!(split("a\\,b, c ,,"), ["a,b", "c"]);
        let quantified = filter(&[("table.include.list", "public.t{1\\,2}")]).expect("filter");
        assert!(quantified.includes("public", "tt"));
        let error = filter(&[("table.include.list", "a"), ("table.exclude.list", "b")]).expect_err("both");
        assert_eq!(error.name, "table.exclude.list");
        let error = filter(&[("schema.include.list", "(")]).expect_err("bad regex");
        assert_eq!(error.name, "schema.include.list");
        assert!(TableFilter::check_patterns("public.(").is_err());
    }
}
