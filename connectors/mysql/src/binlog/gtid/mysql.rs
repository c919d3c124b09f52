//! MySQL's GTIDs, `uuid:gno`, and its GTID sets: per server uuid the transaction numbers as inclusive intervals.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use mysql_async::{GnoInterval, Sid};

use crate::binlog::error::GtidError;
use crate::binlog::flavor::Flavor;

/// A MySQL server's uuid (`server_uuid`), the source part of its GTIDs; printed lowercase with hyphens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerUuid(pub [u8; 16]);

impl fmt::Display for ServerUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, byte) in self.0.iter().enumerate() {
            if matches!(index, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for ServerUuid {
    type Err = GtidError;

    /// Parses 32 hexadecimal digits in either case, hyphens anywhere ignored (MySQL writes 8-4-4-4-12).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || GtidError::Syntax { flavor: Flavor::MySql, text: text.to_owned(), reason: "not a uuid" };
        let mut digits = text.chars().filter(|c| *c != '-').map(|c| c.to_digit(16).ok_or_else(syntax));
        let mut bytes = [0; 16];
        for byte in &mut bytes {
            let (Some(high), Some(low)) = (digits.next(), digits.next()) else { return Err(syntax()) };
            // Two hexadecimal digits fit a byte.
            *byte = u8::try_from((high? << 4) | low?).map_err(|_| syntax())?;
        }
        match digits.next() {
            None => Ok(ServerUuid(bytes)),
            Some(_) => Err(syntax()),
        }
    }
}

/// One transaction's MySQL GTID: the uuid of the server that ran it and its number there. Printed `uuid:gno`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MySqlGtid {
    /// The originating server.
    pub uuid: ServerUuid,
    /// The transaction's number on it, from 1.
    pub gno: u64,
}

impl fmt::Display for MySqlGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.uuid, self.gno)
    }
}

/// Per server uuid (ordered) the transaction numbers as sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct UuidIntervals(BTreeMap<ServerUuid, Vec<(u64, u64)>>);

impl UuidIntervals {
    /// Adds the numbers of one `uuid:start[-end][:start[-end]...]` entry.
    pub(super) fn insert_entry(&mut self, entry: &str) -> Result<(), GtidError> {
        let syntax = |reason| GtidError::Syntax { flavor: Flavor::MySql, text: entry.to_owned(), reason };
        let mut parts = entry.split(':');
        let uuid: ServerUuid = parts.next().unwrap_or_default().trim().parse()?;
        let mut ranges = Vec::new();
        for part in parts.map(str::trim) {
            if part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                return Err(syntax("tagged GTIDs (MySQL 8.4) are not supported"));
            }
            let (start, end) = part.split_once('-').unwrap_or((part, part));
            let number = |text: &str| text.parse::<u64>().map_err(|_| syntax("an interval bound is not a number"));
            let (start, end) = (number(start)?, number(end)?);
            if start == 0 || start > end {
                return Err(syntax("an interval is empty or starts at 0"));
            }
            ranges.push((start, end));
        }
        if ranges.is_empty() {
            return Err(syntax("a uuid without intervals"));
        }
        let intervals = self.0.entry(uuid).or_default();
        for (start, end) in ranges {
            insert(intervals, start, end);
        }
        Ok(())
    }

    /// Adds one transaction.
    pub(super) fn add(&mut self, gtid: MySqlGtid) {
        insert(self.0.entry(gtid.uuid).or_default(), gtid.gno, gtid.gno);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The uuids, as text.
    pub(super) fn source_ids(&self) -> Vec<String> {
        self.0.keys().map(ToString::to_string).collect()
    }

    /// Keeps the uuids `keep` accepts.
    pub(super) fn retain_sources(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|uuid, _| keep(&uuid.to_string()));
    }

    /// The set as mysql_common's SID blocks, whose interval ends are exclusive.
    pub(super) fn to_sids(&self) -> Vec<Sid<'static>> {
        self.0
            .iter()
            .map(|(uuid, intervals)| {
                let intervals = intervals.iter().map(|&(start, end)| GnoInterval::new(start, end.saturating_add(1)));
                Sid::new(uuid.0).with_intervals(intervals.collect())
            })
            .collect()
    }
}

/// Adds `start..=end` to sorted, disjoint, non-adjacent inclusive intervals, merging what it overlaps or touches.
fn insert(intervals: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    // The first interval that does not end before `start - 1`.
    let first = intervals.partition_point(|&(_, last)| last.saturating_add(1) < start);
    let (mut merged_start, mut merged_end) = (start, end);
    let mut after = first;
    while let Some(&(next_start, next_end)) = intervals.get(after) {
        if next_start > end.saturating_add(1) {
            break;
        }
        merged_start = merged_start.min(next_start);
        merged_end = merged_end.max(next_end);
        after += 1;
    }
    intervals.splice(first..after, [(merged_start, merged_end)]);
}

impl fmt::Display for UuidIntervals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (uuid, intervals)) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{uuid}")?;
            for &(start, end) in intervals {
                if start == end {
                    write!(f, ":{start}")?;
                } else {
                    write!(f, ":{start}-{end}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    fn set(text: &str) -> UuidIntervals {
        let mut set = UuidIntervals::default();
        for entry in text.split(',') {
            set.insert_entry(entry).expect(entry);
        }
        set
    }

    #[test]
    fn parses_and_prints_uuids() {
        let uuid: ServerUuid = "3E11FA47-71CA-11E1-9E33-C80AA9429562".parse().expect("parses");
        assert_eq!(uuid.to_string(), UUID);
        assert_eq!("3e11fa4771ca11e19e33c80aa9429562".parse::<ServerUuid>(), Ok(uuid));
        for text in
            ["3e11fa47-71ca-11e1-9e33-c80aa942956", "3e11fa47-71ca-11e1-9e33-c80aa94295620", "g".repeat(32).as_str()]
        {
            assert!(text.parse::<ServerUuid>().is_err(), "{text}");
        }
    }

    #[test]
    fn merges_overlapping_and_adjacent_intervals() {
        assert_eq!(set(&format!("{UUID}:20-30:1-5:6-10:25-40:42")).to_string(), format!("{UUID}:1-10:20-40:42"));
        assert_eq!(set(&format!("{UUID}:1-5,{UUID}:3-9")).to_string(), format!("{UUID}:1-9"));
    }

    #[test]
    fn adds_transactions_joining_neighbours() {
        let uuid: ServerUuid = UUID.parse().expect("parses");
        let mut set = set(&format!("{UUID}:1-3:5-7:10"));
        set.add(MySqlGtid { uuid, gno: 4 });
        assert_eq!(set.to_string(), format!("{UUID}:1-7:10"));
        set.add(MySqlGtid { uuid, gno: 9 });
        set.add(MySqlGtid { uuid, gno: 6 });
        set.add(MySqlGtid { uuid, gno: 12 });
        assert_eq!(set.to_string(), format!("{UUID}:1-7:9-10:12"));
        set.add(MySqlGtid { uuid, gno: 8 });
        set.add(MySqlGtid { uuid, gno: 11 });
        assert_eq!(set.to_string(), format!("{UUID}:1-12"));

        let other: ServerUuid = "0a11fa47-71ca-11e1-9e33-c80aa9429562".parse().expect("parses");
        set.add(MySqlGtid { uuid: other, gno: 1 });
        assert_eq!(set.to_string(), format!("{other}:1,{UUID}:1-12"));
    }

    #[test]
    fn refuses_malformed_entries() {
        for (entry, reason) in [
            (UUID.to_owned(), "a uuid without intervals"),
            (format!("{UUID}:"), "an interval bound is not a number"),
            (format!("{UUID}:0-3"), "an interval is empty or starts at 0"),
            (format!("{UUID}:5-3"), "an interval is empty or starts at 0"),
            (format!("{UUID}:1-x"), "an interval bound is not a number"),
            (format!("{UUID}:1-2-3"), "an interval bound is not a number"),
            (format!("{UUID}:1-5:domain_1:1-3"), "tagged GTIDs (MySQL 8.4) are not supported"),
            ("nonsense:1-5".to_owned(), "not a uuid"),
        ] {
            let error = UuidIntervals::default().insert_entry(&entry).expect_err(&entry);
            let GtidError::Syntax { flavor: Flavor::MySql, reason: actual, .. } = error else {
                panic!("{entry}: {error:?}")
            };
            assert_eq!(actual, reason, "{entry}");
        }
    }
}
