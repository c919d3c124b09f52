//! `connection.url`: the JDBC URLs of the Postgres, MySQL and MariaDB drivers, read into what tokio-postgres and
//! mysql_async connect with.
//!
//! `jdbc:postgresql://host[:port][/database][?k=v&...]`, `jdbc:mysql://...` and `jdbc:mariadb://...`; the host may be
//! an IPv6 address in brackets. Postgres defaults to port 5432 and the database named like the user (as pgjdbc
//! does); MySQL and MariaDB to port 3306, and need a database, the one the tables are written in. Parameters after
//! `?` are kept so the task can name the ones it ignores.

use thiserror::Error;

use crate::dialect::Dialect;

/// A parsed `connection.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionUrl {
    /// Which database the URL is for.
    pub dialect: Dialect,
    /// The host name or address (an IPv6 address without its brackets).
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// The database; `None` when the URL names none.
    pub database: Option<String>,
    /// The parameters after `?`, in order.
    pub params: Vec<(String, String)>,
}

/// Why a `connection.url` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UrlError {
    /// Not `jdbc:postgresql:`, `jdbc:mysql:` or `jdbc:mariadb:`.
    #[error("{0:?} is not a jdbc:postgresql://, jdbc:mysql:// or jdbc:mariadb:// URL")]
    Scheme(String),
    /// No host after `//`.
    #[error("{0:?} names no host")]
    NoHost(String),
    /// More than one host (failover lists are not supported).
    #[error("{0:?} names several hosts; give one")]
    SeveralHosts(String),
    /// The port is not a number from 1 to 65535.
    #[error("{0:?} has an invalid port")]
    Port(String),
    /// A MySQL or MariaDB URL without a database.
    #[error("{0:?} names no database: the tables are written in the database the URL names")]
    NoDatabase(String),
}

impl ConnectionUrl {
    /// Parses a JDBC URL.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let url = url.trim();
        let (dialect, rest) = [
            ("jdbc:postgresql://", Dialect::Postgres),
            ("jdbc:mysql://", Dialect::MySql),
            ("jdbc:mariadb://", Dialect::MySql),
        ]
        .iter()
        .find_map(|(prefix, dialect)| strip_prefix_ignore_case(url, prefix).map(|rest| (*dialect, rest)))
        .ok_or_else(|| UrlError::Scheme(url.to_owned()))?;
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = location.split_once('/').unwrap_or((location, ""));
        if authority.contains(',') {
            return Err(UrlError::SeveralHosts(url.to_owned()));
        }
        // Credentials in the authority (`user:password@host`) are not a JDBC form; the host is what follows `@`.
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let (host, port) = split_host_port(authority).ok_or_else(|| UrlError::Port(url.to_owned()))?;
        if host.is_empty() {
            return Err(UrlError::NoHost(url.to_owned()));
        }
        let port = match port {
            Some(port) => port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| UrlError::Port(url.to_owned()))?,
            None => dialect.default_port(),
        };
        let database = Some(path.trim_end_matches('/')).filter(|d| !d.is_empty()).map(str::to_owned);
        if database.is_none() && dialect == Dialect::MySql {
            return Err(UrlError::NoDatabase(url.to_owned()));
        }
        let params = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key.to_owned(), value.to_owned())
            })
            .collect();
        Ok(ConnectionUrl { dialect, host: host.to_owned(), port, database, params })
    }

    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// The host and the port text of `host`, `host:port`, `[v6]` or `[v6]:port`; `None` when brackets do not close.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    Some(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls() {
        let url = ConnectionUrl::parse("jdbc:postgresql://db.example:6543/inventory?sslmode=disable&x").expect("url");
        assert_eq!(url.dialect, Dialect::Postgres);
        assert_eq!((url.host.as_str(), url.port), ("db.example", 6543));
        assert_eq!(url.database.as_deref(), Some("inventory"));
        assert_eq!(url.params, [("sslmode".to_owned(), "disable".to_owned()), ("x".to_owned(), String::new())]);
        let bare = ConnectionUrl::parse("JDBC:PostgreSQL://localhost").expect("bare");
        assert_eq!((bare.port, bare.database), (5432, None));
        let v6 = ConnectionUrl::parse("jdbc:postgresql://[::1]:5433/db").expect("v6");
        assert_eq!((v6.host.as_str(), v6.port, v6.address()), ("::1", 5433, "[::1]:5433".to_owned()));
    }

    #[test]
    fn mysql_and_mariadb_urls() {
        let url = ConnectionUrl::parse("jdbc:mysql://127.0.0.1/shop").expect("mysql");
        assert_eq!((url.dialect, url.port, url.database.as_deref()), (Dialect::MySql, 3306, Some("shop")));
        let maria = ConnectionUrl::parse("jdbc:mariadb://h:3307/shop/").expect("mariadb");
        assert_eq!((maria.dialect, maria.port, maria.database.as_deref()), (Dialect::MySql, 3307, Some("shop")));
        assert_eq!(
            ConnectionUrl::parse("jdbc:mysql://h:3306"),
            Err(UrlError::NoDatabase("jdbc:mysql://h:3306".into()))
        );
    }

    #[test]
    fn refused_urls() {
        assert!(matches!(ConnectionUrl::parse("postgresql://h/db"), Err(UrlError::Scheme(_))));
        assert!(matches!(ConnectionUrl::parse("jdbc:oracle:thin:@h:1521:x"), Err(UrlError::Scheme(_))));
        assert!(matches!(ConnectionUrl::parse("jdbc:postgresql:///db"), Err(UrlError::NoHost(_))));
        assert!(matches!(ConnectionUrl::parse("jdbc:postgresql://h:0/db"), Err(UrlError::Port(_))));
        assert!(matches!(ConnectionUrl::parse("jdbc:postgresql://h:x/db"), Err(UrlError::Port(_))));
        assert!(matches!(ConnectionUrl::parse("jdbc:postgresql://[::1/db"), Err(UrlError::Port(_))));
        assert!(matches!(ConnectionUrl::parse("jdbc:postgresql://a,b/db"), Err(UrlError::SeveralHosts(_))));
    }
}
