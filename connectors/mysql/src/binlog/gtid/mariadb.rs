//! MariaDB's GTID position: per replication domain the GTID of the last event group, as `@slave_connect_state`
//! takes it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::binlog::error::GtidError;
use crate::binlog::flavor::Flavor;
use crate::binlog::mariadb::MariaDbGtid;

/// The last GTID of each domain, ordered by domain id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct DomainPositions(BTreeMap<u32, MariaDbGtid>);

impl DomainPositions {
    /// Makes `gtid` its domain's entry.
    pub(super) fn replace(&mut self, gtid: MariaDbGtid) {
        self.0.insert(gtid.domain_id, gtid);
    }

    /// Makes `gtid` its domain's entry unless the entry has a higher sequence number (parsing a list that names a
    /// domain once per server).
    pub(super) fn insert_latest(&mut self, gtid: MariaDbGtid) {
        let entry = self.0.entry(gtid.domain_id).or_insert(gtid);
        if gtid.seq_no >= entry.seq_no {
            *entry = gtid;
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `domain-server` of each entry.
    pub(super) fn source_ids(&self) -> Vec<String> {
        self.0.values().map(source_id).collect()
    }

    /// Keeps the entries whose `domain-server` `keep` accepts.
    pub(super) fn retain_sources(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|_, gtid| keep(&source_id(gtid)));
    }
}

impl fmt::Display for DomainPositions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, gtid) in self.0.values().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{gtid}")?;
        }
        Ok(())
    }
}

/// `domain-server`, the id `gtid.source.includes|excludes` match on MariaDB.
pub(super) fn source_id(gtid: &MariaDbGtid) -> String {
    format!("{}-{}", gtid.domain_id, gtid.server_id)
}

impl FromStr for MariaDbGtid {
    type Err = GtidError;

    /// Parses `domain-server-sequence`, such as `0-1-17`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = |reason| GtidError::Syntax { flavor: Flavor::MariaDb, text: text.to_owned(), reason };
        let mut parts = text.trim().split('-');
        let (Some(domain), Some(server), Some(seq), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(syntax("expected domain-server-sequence"));
        };
        Ok(MariaDbGtid {
            domain_id: domain.parse().map_err(|_| syntax("the domain id is not a 32-bit number"))?,
            server_id: server.parse().map_err(|_| syntax("the server id is not a 32-bit number"))?,
            seq_no: seq.parse().map_err(|_| syntax("the sequence number is not a 64-bit number"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gtid(text: &str) -> MariaDbGtid {
        text.parse().expect("a GTID")
    }

    #[test]
    fn parses_a_gtid_and_refuses_malformed_ones() {
        assert_eq!(gtid("0-1-17"), MariaDbGtid { domain_id: 0, server_id: 1, seq_no: 17 });
        assert_eq!(gtid("4294967295-2-18446744073709551615").seq_no, u64::MAX);
        for (text, reason) in [
            ("0-1", "expected domain-server-sequence"),
            ("0-1-2-3", "expected domain-server-sequence"),
            ("x-1-2", "the domain id is not a 32-bit number"),
            ("0-4294967296-2", "the server id is not a 32-bit number"),
            ("0-1--2", "expected domain-server-sequence"),
            ("0-1-", "the sequence number is not a 64-bit number"),
        ] {
            let error = text.parse::<MariaDbGtid>().expect_err(text);
            assert_eq!(error, GtidError::Syntax { flavor: Flavor::MariaDb, text: text.to_owned(), reason }, "{text}");
        }
    }

    #[test]
    fn keeps_one_gtid_per_domain() {
        let mut positions = DomainPositions::default();
        positions.insert_latest(gtid("0-2-12"));
        positions.insert_latest(gtid("0-1-10"));
        positions.insert_latest(gtid("1-1-3"));
        assert_eq!(positions.to_string(), "0-2-12,1-1-3");
        // A transaction replaces its domain's entry whatever its number (without gtid_strict_mode they may go back).
        positions.replace(gtid("0-3-4"));
        assert_eq!(positions.to_string(), "0-3-4,1-1-3");
        assert_eq!(positions.source_ids(), ["0-3", "1-1"]);
    }
}
