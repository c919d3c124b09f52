//! TLS to the destination, from the `connection.url` parameters the JDBC drivers read, with the sources' TLS code
//! (`tidemark_postgres::tls`, `tidemark_mysql::tls`).
//!
//! - `jdbc:postgresql:` (pgjdbc): `sslmode` (libpq's six modes; `prefer` when absent, as pgjdbc), `ssl=true`
//!   without `sslmode` meaning `verify-full` (pgjdbc's rule), `sslrootcert`, `sslcert` and `sslkey` as PEM files.
//!   `sslpassword` and `sslfactory` are refused.
//! - `jdbc:mysql:` and `jdbc:mariadb:`: `sslMode` in MySQL Connector/J's spelling (`DISABLED`, `PREFERRED`,
//!   `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`) or MariaDB Connector/J's (`disable`, `trust`, `verify-ca`,
//!   `verify-full`), `PREFERRED` when absent (MySQL Connector/J's default); `useSSL=false` for `DISABLED` (older
//!   URLs); `serverSslCert`, MariaDB Connector/J's PEM file of the server's CA (or certificate), as the CA.

use std::path::PathBuf;

use tidemark_mysql::tls::{self as mysql_tls, MySqlTls};
use tidemark_postgres::tls::{self as pg_tls, PgTls};

use crate::dialect::Dialect;
use crate::url::ConnectionUrl;

/// The URL parameters read here (the task warns about the others).
const READ: &[&str] = &["sslmode", "ssl", "sslrootcert", "sslcert", "sslkey", "sslMode", "useSSL", "serverSslCert"];
/// pgjdbc's parameters that cannot be honoured and are refused.
const REFUSED: &[&str] = &["sslpassword", "sslfactory"];

/// The destination's TLS settings, the files read.
#[derive(Debug, Clone)]
pub enum SinkTls {
    /// For Postgres.
    Postgres(PgTls),
    /// For MySQL or MariaDB.
    MySql(MySqlTls),
}

impl SinkTls {
    /// The settings of `url`'s parameters; an error names the parameter and why.
    pub fn from_url(url: &ConnectionUrl) -> Result<Self, String> {
        let param = |name: &str| url.params.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.trim());
        let file = |name: &str| param(name).filter(|value| !value.is_empty()).map(PathBuf::from);
        match url.dialect {
            Dialect::Postgres => {
                if let Some(name) = REFUSED.iter().find(|name| param(name).is_some_and(|v| !v.is_empty())) {
                    return Err(format!(
                        "the parameter {name} is not supported: give sslkey as an unencrypted PEM key"
                    ));
                }
                let mode = match (param("sslmode"), param("ssl")) {
                    (Some(mode), _) => pg_tls::SslMode::parse(mode)
                        .ok_or_else(|| format!("sslmode={mode} is not one of {}", pg_tls::SslMode::NAMES.join(", ")))?,
                    (None, Some(ssl)) if ssl.eq_ignore_ascii_case("true") => pg_tls::SslMode::VerifyFull,
                    (None, _) => pg_tls::SslMode::Prefer,
                };
                let files = pg_tls::TlsFiles {
                    root_cert: file("sslrootcert"),
                    client_cert: file("sslcert"),
                    client_key: file("sslkey"),
                };
                PgTls::new(mode, files).map(SinkTls::Postgres).map_err(|error| {
                    let name = match error.setting() {
                        pg_tls::TlsSetting::Mode => "sslmode",
                        pg_tls::TlsSetting::RootCert => "sslrootcert",
                        pg_tls::TlsSetting::ClientCert => "sslcert",
                        pg_tls::TlsSetting::ClientKey => "sslkey",
                    };
                    format!("{name}: {error}")
                })
            }
            Dialect::MySql => {
                let mode = match (param("sslMode"), param("useSSL")) {
                    (Some(mode), _) => mysql_tls::SslMode::parse(mode).ok_or_else(|| {
                        format!("sslMode={mode} is not one of {}", mysql_tls::SslMode::NAMES.join(", "))
                    })?,
                    (None, Some(use_ssl)) if use_ssl.eq_ignore_ascii_case("false") => mysql_tls::SslMode::Disabled,
                    (None, _) => mysql_tls::SslMode::Preferred,
                };
                let files = mysql_tls::TlsFiles { ca: file("serverSslCert"), ..mysql_tls::TlsFiles::default() };
                MySqlTls::new(mode, files).map(SinkTls::MySql).map_err(|error| format!("serverSslCert: {error}"))
            }
        }
    }

    /// Whether the URL parameter `name` is one read here.
    pub fn reads(name: &str) -> bool {
        READ.contains(&name) || REFUSED.contains(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(url: &str) -> Result<SinkTls, String> {
        SinkTls::from_url(&ConnectionUrl::parse(url).map_err(|e| e.to_string())?)
    }

    fn pg_mode(url: &str) -> Option<pg_tls::SslMode> {
        match tls(url) {
            Ok(SinkTls::Postgres(tls)) => Some(tls.mode()),
            _ => None,
        }
    }

    fn mysql_mode(url: &str) -> Option<mysql_tls::SslMode> {
        match tls(url) {
            Ok(SinkTls::MySql(tls)) => Some(tls.mode()),
            _ => None,
        }
    }

    #[test]
    fn postgres_modes_as_pgjdbc_reads_them() {
        assert_eq!(pg_mode("jdbc:postgresql://db/x"), Some(pg_tls::SslMode::Prefer));
        assert_eq!(pg_mode("jdbc:postgresql://db/x?sslmode=require"), Some(pg_tls::SslMode::Require));
        // ssl=true is verify-full, which needs a root certificate.
        let error = tls("jdbc:postgresql://db/x?ssl=true").err().unwrap_or_default();
        assert!(error.starts_with("sslrootcert: ") && error.contains("verify-full"), "{error}");
        assert_eq!(pg_mode("jdbc:postgresql://db/x?ssl=true&sslmode=disable"), Some(pg_tls::SslMode::Disable));
        let error = tls("jdbc:postgresql://db/x?sslmode=verify-ca").err().unwrap_or_default();
        assert!(error.starts_with("sslrootcert: "), "{error}");
        let error = tls("jdbc:postgresql://db/x?sslmode=sometimes").err().unwrap_or_default();
        assert!(error.contains("sslmode=sometimes is not one of"), "{error}");
        let error = tls("jdbc:postgresql://db/x?sslpassword=secret").err().unwrap_or_default();
        assert!(error.contains("sslpassword is not supported") && !error.contains("secret"), "{error}");
    }

    #[test]
    fn mysql_modes_in_both_drivers_spellings() {
        assert_eq!(mysql_mode("jdbc:mysql://db/x"), Some(mysql_tls::SslMode::Preferred));
        assert_eq!(mysql_mode("jdbc:mysql://db/x?sslMode=VERIFY_IDENTITY"), Some(mysql_tls::SslMode::VerifyIdentity));
        assert_eq!(mysql_mode("jdbc:mariadb://db/x?sslMode=trust"), Some(mysql_tls::SslMode::Required));
        assert_eq!(mysql_mode("jdbc:mysql://db/x?useSSL=false"), Some(mysql_tls::SslMode::Disabled));
        let error = tls("jdbc:mariadb://db/x?sslMode=verify-ca&serverSslCert=/nonexistent/ca.pem").err();
        assert!(error.unwrap_or_default().starts_with("serverSslCert: /nonexistent/ca.pem"));
        assert!(SinkTls::reads("sslMode") && SinkTls::reads("sslpassword") && !SinkTls::reads("connectTimeout"));
    }
}
