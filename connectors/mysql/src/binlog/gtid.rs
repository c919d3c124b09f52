//! GTIDs and GTID sets of both flavours, as a source keeps them to resume: MariaDB's `domain-server-sequence` list
//! (one GTID per replication domain, the latest) and MySQL's `uuid:interval[:interval...]` sets.

mod mariadb;
mod mysql;

use std::fmt;

use mysql_async::Sid;

pub use self::mysql::{MySqlGtid, ServerUuid};

use self::mariadb::DomainPositions;
use self::mysql::UuidIntervals;
use super::error::GtidError;
use super::flavor::Flavor;
use super::mariadb::MariaDbGtid;

/// One transaction's GTID, of either flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gtid {
    /// MariaDB's `domain-server-sequence`.
    MariaDb(MariaDbGtid),
    /// MySQL's `uuid:gno`.
    MySql(MySqlGtid),
}

impl Gtid {
    /// The flavour the GTID belongs to.
    pub fn flavor(&self) -> Flavor {
        match self {
            Gtid::MariaDb(_) => Flavor::MariaDb,
            Gtid::MySql(_) => Flavor::MySql,
        }
    }

    /// The id of the GTID's source, which `gtid.source.includes|excludes` match: MariaDB `domain-server`, MySQL the
    /// server's uuid.
    pub fn source_id(&self) -> String {
        match self {
            Gtid::MariaDb(gtid) => mariadb::source_id(gtid),
            Gtid::MySql(gtid) => gtid.uuid.to_string(),
        }
    }
}

impl From<MariaDbGtid> for Gtid {
    fn from(gtid: MariaDbGtid) -> Self {
        Gtid::MariaDb(gtid)
    }
}

impl From<MySqlGtid> for Gtid {
    fn from(gtid: MySqlGtid) -> Self {
        Gtid::MySql(gtid)
    }
}

impl fmt::Display for Gtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gtid::MariaDb(gtid) => gtid.fmt(f),
            Gtid::MySql(gtid) => gtid.fmt(f),
        }
    }
}

/// The GTIDs a source has seen, in the form the server resumes from. `Display` gives the server's text form: MariaDB
/// `0-1-17,1-2-5` (for `@slave_connect_state`), MySQL `uuid:1-17:20-30,uuid2:1-5` (as `@@gtid_executed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidSet(Sources);

/// The flavour-specific content of a [`GtidSet`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sources {
    MariaDb(DomainPositions),
    MySql(UuidIntervals),
}

impl GtidSet {
    /// An empty set: resuming from it asks for every transaction the server ever logged, which MariaDB refuses
    /// ([`super::BinlogError::Purged`]) once a binlog file was purged.
    pub fn new(flavor: Flavor) -> Self {
        match flavor {
            Flavor::MariaDb => GtidSet(Sources::MariaDb(DomainPositions::default())),
            Flavor::MySql => GtidSet(Sources::MySql(UuidIntervals::default())),
        }
    }

    /// Parses the flavour's text form; whitespace around entries is ignored and an empty text is the empty set.
    /// MariaDB: comma-separated `domain-server-sequence`, keeping per domain the GTID with the highest sequence
    /// number (as in `@@gtid_binlog_state`, which lists one per domain and server). MySQL: comma-separated
    /// `uuid:start[-end][:start[-end]...]`, intervals merged; tagged GTIDs (MySQL 8.4) are refused.
    pub fn parse(flavor: Flavor, text: &str) -> Result<Self, GtidError> {
        let mut set = GtidSet::new(flavor);
        for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            match &mut set.0 {
                Sources::MariaDb(domains) => domains.insert_latest(entry.parse()?),
                Sources::MySql(uuids) => uuids.insert_entry(entry)?,
            }
        }
        Ok(set)
    }

    /// The flavour of the set.
    pub fn flavor(&self) -> Flavor {
        match self.0 {
            Sources::MariaDb(_) => Flavor::MariaDb,
            Sources::MySql(_) => Flavor::MySql,
        }
    }

    /// Whether the set holds no GTID.
    pub fn is_empty(&self) -> bool {
        match &self.0 {
            Sources::MariaDb(domains) => domains.is_empty(),
            Sources::MySql(uuids) => uuids.is_empty(),
        }
    }

    /// Records a transaction's GTID: on MariaDB it replaces its domain's entry, on MySQL its number joins its uuid's
    /// intervals. A GTID of the other flavour is [`GtidError::FlavorMismatch`].
    pub fn add(&mut self, gtid: impl Into<Gtid>) -> Result<(), GtidError> {
        match (&mut self.0, gtid.into()) {
            (Sources::MariaDb(domains), Gtid::MariaDb(gtid)) => domains.replace(gtid),
            (Sources::MySql(uuids), Gtid::MySql(gtid)) => uuids.add(gtid),
            (_, gtid) => {
                return Err(GtidError::FlavorMismatch {
                    expected: self.flavor(),
                    actual: gtid.flavor(),
                    text: gtid.to_string(),
                })
            }
        }
        Ok(())
    }

    /// The ids of the sources in the set, in its order: MariaDB `domain-server` per domain, MySQL the uuids.
    pub fn source_ids(&self) -> Vec<String> {
        match &self.0 {
            Sources::MariaDb(domains) => domains.source_ids(),
            Sources::MySql(uuids) => uuids.source_ids(),
        }
    }

    /// Keeps only the sources whose id (see [`GtidSet::source_ids`]) `keep` accepts, as `gtid.source.includes` and
    /// `gtid.source.excludes` filter them.
    pub fn retain_sources(&mut self, keep: impl FnMut(&str) -> bool) {
        match &mut self.0 {
            Sources::MariaDb(domains) => domains.retain_sources(keep),
            Sources::MySql(uuids) => uuids.retain_sources(keep),
        }
    }

    /// The set as the SID block of MySQL's COM_BINLOG_DUMP_GTID; `None` for a MariaDB set.
    pub(crate) fn to_sids(&self) -> Option<Vec<Sid<'static>>> {
        match &self.0 {
            Sources::MariaDb(_) => None,
            Sources::MySql(uuids) => Some(uuids.to_sids()),
        }
    }
}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Sources::MariaDb(domains) => domains.fmt(f),
            Sources::MySql(uuids) => uuids.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_both_flavours() {
        let set = GtidSet::parse(Flavor::MariaDb, " 1-2-5,0-1-17 ").expect("parses");
        assert_eq!(set.to_string(), "0-1-17,1-2-5");
        assert_eq!(set.flavor(), Flavor::MariaDb);
        assert_eq!(set.source_ids(), ["0-1", "1-2"]);

        let text = "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-17:20-30,\n0a11fa47-71ca-11e1-9e33-c80aa9429562:1-5";
        let set = GtidSet::parse(Flavor::MySql, text).expect("parses");
        assert_eq!(
            set.to_string(),
            "0a11fa47-71ca-11e1-9e33-c80aa9429562:1-5,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-17:20-30"
        );
        assert_eq!(set.source_ids(), ["0a11fa47-71ca-11e1-9e33-c80aa9429562", "3e11fa47-71ca-11e1-9e33-c80aa9429562"]);

        for flavor in [Flavor::MariaDb, Flavor::MySql] {
            let empty = GtidSet::parse(flavor, "").expect("parses");
            assert!(empty.is_empty());
            assert_eq!(empty, GtidSet::new(flavor));
            assert_eq!(empty.to_string(), "");
        }
    }

    #[test]
    fn adds_gtids_of_its_flavour_only() {
        let mut set = GtidSet::new(Flavor::MariaDb);
        set.add(MariaDbGtid { domain_id: 0, server_id: 1, seq_no: 7 }).expect("adds");
        set.add(Gtid::MariaDb(MariaDbGtid { domain_id: 0, server_id: 2, seq_no: 8 })).expect("adds");
        assert_eq!(set.to_string(), "0-2-8");

        let uuid: ServerUuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562".parse().expect("parses");
        let error = set.add(MySqlGtid { uuid, gno: 1 }).expect_err("a MySQL GTID in a MariaDB set");
        assert_eq!(
            error,
            GtidError::FlavorMismatch {
                expected: Flavor::MariaDb,
                actual: Flavor::MySql,
                text: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1".to_owned(),
            }
        );

        let mut set = GtidSet::new(Flavor::MySql);
        set.add(MySqlGtid { uuid, gno: 1 }).expect("adds");
        set.add(MySqlGtid { uuid, gno: 2 }).expect("adds");
        assert_eq!(set.to_string(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-2");
        assert!(set.add(MariaDbGtid { domain_id: 0, server_id: 1, seq_no: 7 }).is_err());
    }

    #[test]
    fn filters_by_source_id() {
        let mut set = GtidSet::parse(Flavor::MariaDb, "0-1-17,1-2-5,2-1-9").expect("parses");
        set.retain_sources(|source| source.ends_with("-1"));
        assert_eq!(set.to_string(), "0-1-17,2-1-9");

        let text = "0a11fa47-71ca-11e1-9e33-c80aa9429562:1-5,3e11fa47-71ca-11e1-9e33-c80aa9429562:1-17";
        let mut set = GtidSet::parse(Flavor::MySql, text).expect("parses");
        set.retain_sources(|source| source.starts_with("3e"));
        assert_eq!(set.to_string(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-17");
    }

    #[test]
    fn gives_source_ids_of_single_gtids() {
        let gtid = Gtid::from(MariaDbGtid { domain_id: 3, server_id: 7, seq_no: 1 });
        assert_eq!((gtid.source_id(), gtid.to_string()), ("3-7".to_owned(), "3-7-1".to_owned()));
        let uuid: ServerUuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562".parse().expect("parses");
        let gtid = Gtid::from(MySqlGtid { uuid, gno: 4 });
        assert_eq!(gtid.source_id(), "3e11fa47-71ca-11e1-9e33-c80aa9429562");
        assert_eq!(gtid.flavor(), Flavor::MySql);
    }

    #[test]
    fn converts_a_mysql_set_to_sids_with_exclusive_ends() {
        let text = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-17:20,0a11fa47-71ca-11e1-9e33-c80aa9429562:5-6";
        let sids = GtidSet::parse(Flavor::MySql, text).expect("parses").to_sids().expect("a MySQL set");
        let texts: Vec<String> = sids.iter().map(ToString::to_string).collect();
        // mysql_common prints a Sid in MySQL's own form: its inclusive interval ends.
        assert_eq!(texts, ["0a11fa47-71ca-11e1-9e33-c80aa9429562:5-6", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-17:20"]);
        let intervals: Vec<(u64, u64)> = sids[1].intervals().iter().map(|i| (i.start(), i.end())).collect();
        assert_eq!(intervals, [(1, 18), (20, 21)]);
        assert_eq!(sids[1].uuid()[..4], [0x3e, 0x11, 0xfa, 0x47]);
        assert!(GtidSet::new(Flavor::MariaDb).to_sids().is_none());
    }
}
