//! MySQL or MariaDB: they differ in GTID format, resumption and a few events.

/// The server family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Oracle MySQL (GTIDs as `uuid:interval`, COM_BINLOG_DUMP_GTID).
    MySql,
    /// MariaDB (GTIDs as `domain-server-sequence`, its own GTID events).
    MariaDb,
}

impl Flavor {
    /// The flavour of a server from `SELECT VERSION()` (MariaDB's contains `MariaDB`).
    pub fn from_version(version: &str) -> Self {
        if version.to_ascii_lowercase().contains("mariadb") {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        }
    }

    /// The server variable holding the set of executed GTIDs.
    pub fn gtid_variable(self) -> &'static str {
        match self {
            Flavor::MySql => "@@global.gtid_executed",
            Flavor::MariaDb => "@@global.gtid_current_pos",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_flavour_from_the_version() {
        assert_eq!(Flavor::from_version("10.11.14-MariaDB-0+deb12u2-log"), Flavor::MariaDb);
        assert_eq!(Flavor::from_version("8.0.36"), Flavor::MySql);
    }
}
