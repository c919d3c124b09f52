//! `message.key.columns`: the columns that key a table's events instead of its primary key, in Debezium's syntax
//! `<table>:<column>[,<column>...][;<table>:<column>...]`, where `<table>` is a regular expression over
//! `<schema>.<table>` and each `<column>` one over the column's name. Each `<table>.<column>` pair is matched, whole
//! and ignoring case, against `<schema>.<table>.<column>`; a table's key is the columns the pairs match, in the
//! order of the pairs (and of the table's columns within one pair). A table that no pair matches keeps its
//! primary key; a table without one gets a key this way.

use regex::Regex;

use crate::filters::anchored;

/// The shape of one `<table>:<columns>` entry (Debezium's `MSG_KEY_COLUMNS_PATTERN`).
const ENTRY_SHAPE: &str = r"^\s*([^\s:]+):([^:\s]+)\s*$";

/// The parsed `message.key.columns`.
#[derive(Debug, Clone, Default)]
pub struct MessageKeyColumns {
    /// One expression per `<table>.<column>` pair, in order.
    pairs: Vec<Regex>,
}

impl MessageKeyColumns {
    /// Parses the setting; the error names the entry that is wrong and why.
    pub fn parse(value: &str) -> Result<Self, String> {
        let shape = Regex::new(ENTRY_SHAPE).map_err(|e| e.to_string())?;
        let mut entries: Vec<&str> = value.split(';').collect();
        // Java's split drops trailing empty strings: `a:b;` is one entry.
        while entries.last().is_some_and(|e| e.trim().is_empty()) {
            entries.pop();
        }
        let mut pairs = Vec::new();
        for entry in entries {
            let captures = shape.captures(entry).ok_or_else(|| {
                format!("'{entry}' has an invalid format (expecting '<table>:<column>[,<column>...]')")
            })?;
            let (table, columns) = (&captures[1], &captures[2]);
            for column in columns.split(',').filter(|c| !c.is_empty()) {
                pairs.push(anchored(&format!("{table}.{column}"))?);
            }
        }
        Ok(MessageKeyColumns { pairs })
    }

    /// Whether the setting parses (a config validator).
    pub fn check(value: &str) -> Result<(), String> {
        MessageKeyColumns::parse(value).map(drop)
    }

    /// The key columns of `schema.table` among `columns` (its columns' names, in table order), or `None` when no
    /// pair matches any of them (the primary key then keys its events).
    pub fn key_columns<'a>(&self, schema: &str, table: &str, columns: &[&'a str]) -> Option<Vec<&'a str>> {
        let mut key: Vec<&str> = Vec::new();
        for pair in &self.pairs {
            for column in columns {
                if !key.contains(column) && pair.is_match(&format!("{schema}.{table}.{column}")) {
                    key.push(column);
                }
            }
        }
        (!key.is_empty()).then_some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[&str] = &["id", "tenant", "sku", "name"];

    #[test]
    fn pairs_pick_columns_in_their_order() {
        let keys = MessageKeyColumns::parse("inventory.products:sku,tenant;(.*).purchase_orders:pk3").expect("parse");
        assert_eq!(keys.key_columns("inventory", "products", COLUMNS), Some(vec!["sku", "tenant"]));
        assert_eq!(keys.key_columns("INVENTORY", "Products", COLUMNS), Some(vec!["sku", "tenant"]), "ignoring case");
        assert_eq!(keys.key_columns("inventory", "products_old", COLUMNS), None, "whole names only");
        assert_eq!(keys.key_columns("sales", "purchase_orders", &["pk3", "x"]), Some(vec!["pk3"]));
        assert_eq!(keys.key_columns("sales", "purchase_orders", &["x"]), None, "no column matched: primary key");
        let regex_columns = MessageKeyColumns::parse(" public.t:(tenant|id) ").expect("parse");
        assert_eq!(regex_columns.key_columns("public", "t", COLUMNS), Some(vec!["id", "tenant"]));
        assert!(MessageKeyColumns::parse("").expect("empty").key_columns("public", "t", COLUMNS).is_none());
        assert!(MessageKeyColumns::parse("public.t:id;").is_ok(), "a trailing ';'");
    }

    #[test]
    fn malformed_settings_name_the_entry() {
        for bad in ["public.t", "public.t:a:b", "public.t: id, tenant", "public.t:id;;public.u:id", "public.t:("] {
            let error = MessageKeyColumns::check(bad).expect_err(bad);
            assert!(error.contains('\'') || error.contains("regular expression"), "{bad}: {error}");
        }
        let error = MessageKeyColumns::check("public.t:id;nonsense").expect_err("second entry");
        assert!(error.starts_with("'nonsense'"), "{error}");
    }
}
