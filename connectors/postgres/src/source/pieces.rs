//! How the snapshot cuts the captured tables into pieces, each read by one `COPY ... TO STDOUT (FORMAT binary)`: a
//! table whole, or in ranges of [`RANGE_PAGES`] pages when several readers share the snapshot, the table is larger
//! than one range and the server scans ranges of pages directly (TID Range Scan, PostgreSQL 14 and later), so that
//! several connections can read one large table at once. The ranges cover every page: the first starts at page 0
//! and the last has no end, so no row is left out, and none is read twice (a row version sits on exactly one page).

use crate::replication::quote_identifier;

use super::schema::TableSchema;

/// The pages of one range: 16 MiB with the default 8 KiB block size.
pub const RANGE_PAGES: u32 = 2048;

/// The first server version (`server_version_num`) whose planner reads a `ctid` range without a full scan.
pub const TID_RANGE_SCAN_VERSION: i32 = 140_000;

/// What one COPY of the snapshot reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// The table's index in the snapshot's list.
    pub table: usize,
    /// Which of its pages.
    pub pages: Pages,
}

/// The pages a piece covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pages {
    /// The whole table.
    All,
    /// Pages `from` up to (not including) `to`; `None`: to the end of the table.
    Range {
        /// The first page.
        from: u32,
        /// The page after the last, `None` for no end.
        to: Option<u32>,
    },
}

/// The pieces of table `table`, which has `pages` pages; `ranges` says whether the server can read ranges.
pub fn cut(table: usize, pages: u64, ranges: bool) -> Vec<Piece> {
    let size = u64::from(RANGE_PAGES);
    if !ranges || pages <= size {
        return vec![Piece { table, pages: Pages::All }];
    }
    let count = pages.div_ceil(size);
    (0..count)
        .map(|index| {
            // Page numbers are 32-bit (a BlockNumber); `pages` came from the server, so they fit.
            let from = u32::try_from(index * size).unwrap_or(u32::MAX);
            let to = (index + 1 < count).then(|| from.saturating_add(RANGE_PAGES));
            Piece { table, pages: Pages::Range { from, to } }
        })
        .collect()
}

/// The COPY of `pages` of `table`'s carried columns (the columns left out of both the row and the key are not
/// read): `COPY "schema"."table" ("a", "b") TO STDOUT (FORMAT binary)` for a whole table whose columns all have a
/// binary decoding, else a `COPY (SELECT ...)` that selects a column without one (captured under
/// `include.unknown.datatypes`) as text and keeps to the range of pages; a table with no carried column is read as
/// `SELECT FROM` (a row of no values per row).
pub fn copy_statement(table: &TableSchema, pages: Pages) -> String {
    let name = format!("{}.{}", quote_identifier(&table.schema), quote_identifier(&table.table));
    let columns: Vec<String> = table.columns.iter().map(|c| quote_identifier(&c.name)).collect();
    let all_binary = table.columns.iter().all(|c| c.converter.has_binary_form());
    if pages == Pages::All && !columns.is_empty() && all_binary {
        return format!("COPY {name} ({}) TO STDOUT (FORMAT binary)", columns.join(", "));
    }
    let selected: Vec<String> = table
        .columns
        .iter()
        .zip(columns)
        .map(|(c, quoted)| if c.converter.has_binary_form() { quoted } else { format!("{quoted}::text") })
        .collect();
    let range = match pages {
        Pages::All => String::new(),
        Pages::Range { from, to } => {
            let mut bounds = Vec::new();
            if from > 0 {
                bounds.push(format!("ctid >= '({from},0)'::tid"));
            }
            if let Some(to) = to {
                bounds.push(format!("ctid < '({to},0)'::tid"));
            }
            match bounds.is_empty() {
                true => String::new(),
                false => format!(" WHERE {}", bounds.join(" AND ")),
            }
        }
    };
    format!("COPY (SELECT {} FROM {name}{range}) TO STDOUT (FORMAT binary)", selected.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from: u32, to: Option<u32>) -> Piece {
        Piece { table: 3, pages: Pages::Range { from, to } }
    }

    #[test]
    fn small_tables_and_old_servers_are_read_whole() {
        let whole = vec![Piece { table: 3, pages: Pages::All }];
        assert_eq!(cut(3, 0, true), whole);
        assert_eq!(cut(3, u64::from(RANGE_PAGES), true), whole);
        assert_eq!(cut(3, 1_000_000, false), whole);
    }

    #[test]
    fn large_tables_are_cut_into_ranges_that_cover_every_page() {
        let r = RANGE_PAGES;
        assert_eq!(cut(3, u64::from(r) + 1, true), vec![range(0, Some(r)), range(r, None)]);
        assert_eq!(cut(3, 3 * u64::from(r), true), vec![range(0, Some(r)), range(r, Some(2 * r)), range(2 * r, None)]);
    }
}
