//! Which tables are captured: `<container>.include.list` / `<container>.exclude.list` (`schema` for Postgres,
//! `database` for MySQL) and `table.include.list` / `table.exclude.list`, as Debezium reads them. Each list is
//! comma-separated regular expressions (`\,` for a comma inside one); a container expression must match the whole
//! schema or database name and a table expression the whole `<container>.<table>`, ignoring case. The system's own
//! schemas or databases are never captured.

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};
use tidemark_connect::config::FieldError;

/// The captured tables.
#[derive(Debug, Clone)]
pub struct TableFilter {
    containers: NameLists,
    tables: NameLists,
    system: fn(&str) -> bool,
}

impl TableFilter {
    /// The filter the four settings of `props` describe, for tables in containers of kind `container` (`schema`
    /// or `database`, naming the lists), where `system` tells the system's own containers. An include list and its
    /// exclude list cannot both be given (Debezium refuses that too).
    pub fn from_props(
        props: &BTreeMap<String, String>,
        container: &str,
        system: fn(&str) -> bool,
    ) -> Result<Self, FieldError> {
        Ok(TableFilter {
            containers: NameLists::from_props(props, container)?,
            tables: NameLists::from_props(props, "table")?,
            system,
        })
    }

    /// The expressions of a list setting, each anchored and matched without regard to case as the table lists
    /// are (for other lists of names, such as GTID sources).
    pub fn patterns(value: &str) -> Result<Vec<Regex>, String> {
        compile(value)
    }

    /// Whether every expression of a list setting compiles (a config validator).
    pub fn check_patterns(value: &str) -> Result<(), String> {
        compile(value).map(drop)
    }

    /// Whether the container (schema or database) passes its lists, so that some of its tables may be captured.
    pub fn includes_container(&self, container: &str) -> bool {
        !(self.system)(container) && self.containers.admits(container)
    }

    /// Whether `container.table` is captured.
    pub fn includes(&self, container: &str, table: &str) -> bool {
        self.includes_container(container) && self.tables.admits(&format!("{container}.{table}"))
    }
}

/// An include list and its exclude list of one kind of name (`schema`, `table`, `column`): with an include list,
/// the names one of its expressions matches; otherwise the names none of the exclude list's matches.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameLists {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

impl NameLists {
    /// `<kind>.include.list` and `<kind>.exclude.list` of `props`; both given is refused (as Debezium refuses it),
    /// on the exclude list, with a message naming both.
    pub(crate) fn from_props(props: &BTreeMap<String, String>, kind: &str) -> Result<Self, FieldError> {
        let list = |name: String| -> Result<Vec<Regex>, FieldError> {
            let value = props.get(&name).map(String::as_str).unwrap_or_default();
            compile(value).map_err(|message| FieldError { name, message })
        };
        let include = list(format!("{kind}.include.list"))?;
        let exclude = list(format!("{kind}.exclude.list"))?;
        if !include.is_empty() && !exclude.is_empty() {
            return Err(FieldError {
                name: format!("{kind}.exclude.list"),
                message: format!("{kind}.include.list and {kind}.exclude.list cannot both be set"),
            });
        }
        Ok(NameLists { include, exclude })
    }

    /// Whether `name` passes the lists.
    pub(crate) fn admits(&self, name: &str) -> bool {
        if self.include.is_empty() {
            !self.exclude.iter().any(|p| p.is_match(name))
        } else {
            self.include.iter().any(|p| p.is_match(name))
        }
    }
}

/// The expressions of a list, each anchored at both ends and matched without regard to case.
fn compile(value: &str) -> Result<Vec<Regex>, String> {
    split(value).iter().map(|pattern| anchored(pattern)).collect()
}

/// One expression, anchored at both ends (it must match a whole name) and matched without regard to case, as
/// Debezium matches its lists.
pub(crate) fn anchored(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .case_insensitive(true)
        .build()
        .map_err(|e| format!("invalid regular expression '{pattern}': {e}"))
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
        let props = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        TableFilter::from_props(&props, "schema", |schema| schema.starts_with("pg_"))
    }

    #[test]
    fn everything_but_system_containers_by_default() {
        let all = filter(&[]).expect("filter");
        assert!(all.includes("public", "orders"));
        assert!(all.includes("inventory", "Customers"));
        for schema in ["pg_catalog", "pg_toast", "pg_temp_3"] {
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
