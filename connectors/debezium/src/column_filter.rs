//! Which columns events carry: `column.include.list` / `column.exclude.list`, as Debezium reads them. Each list is
//! comma-separated regular expressions matched, whole and ignoring case, against `<schema>.<table>.<column>`; the
//! two lists cannot both be set. A column left out is missing from the `before` and `after` rows (their schemas and
//! values) in the snapshot and the stream alike; the key keeps its columns either way, as Debezium's does.

use std::collections::BTreeMap;

use tidemark_connect::config::FieldError;

use crate::filters::NameLists;

/// The columns events carry.
#[derive(Debug, Clone, Default)]
pub struct ColumnFilter {
    columns: NameLists,
}

impl ColumnFilter {
    /// The filter `column.include.list` and `column.exclude.list` of `props` describe.
    pub fn from_props(props: &BTreeMap<String, String>) -> Result<Self, FieldError> {
        Ok(ColumnFilter { columns: NameLists::from_props(props, "column")? })
    }

    /// Whether column `column` of `schema.table` is in the rows.
    pub fn includes(&self, schema: &str, table: &str, column: &str) -> bool {
        self.columns.admits(&format!("{schema}.{table}.{column}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(pairs: &[(&str, &str)]) -> Result<ColumnFilter, FieldError> {
        ColumnFilter::from_props(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn every_column_by_default() {
        assert!(filter(&[]).expect("filter").includes("public", "orders", "secret"));
    }

    #[test]
    fn lists_match_whole_qualified_names_ignoring_case() {
        let exclude = filter(&[("column.exclude.list", "public.orders.secret, .*\\.card_.*")]).expect("filter");
        assert!(!exclude.includes("public", "orders", "secret"));
        assert!(!exclude.includes("PUBLIC", "Orders", "SECRET"));
        assert!(exclude.includes("public", "orders", "secret2"), "anchored at the end");
        assert!(exclude.includes("other", "orders", "secret"));
        assert!(!exclude.includes("shop", "payments", "card_number"));

        let include = filter(&[("column.include.list", "public\\.orders\\.(id|name)")]).expect("filter");
        assert!(include.includes("public", "orders", "id") && include.includes("public", "orders", "name"));
        assert!(!include.includes("public", "orders", "qty"));
        assert!(!include.includes("public", "items", "id"), "an include list leaves out other tables' columns");
    }

    #[test]
    fn both_lists_or_a_bad_expression_are_refused() {
        let error = filter(&[("column.include.list", "a.b.c"), ("column.exclude.list", "a.b.d")]).expect_err("both");
        assert_eq!(error.name, "column.exclude.list");
        assert!(error.message.contains("column.include.list") && error.message.contains("column.exclude.list"));
        let error = filter(&[("column.include.list", "public.t.(")]).expect_err("regex");
        assert_eq!(error.name, "column.include.list");
    }
}
