//! TLS to MySQL and MariaDB with Debezium's `database.ssl.mode`, on mysql_async's rustls (the `ring` provider), for
//! every connection: the SQL ones and the binlog stream's.
//!
//! | `database.ssl.mode` | TLS                                 | the server's certificate                           |
//! |---------------------|-------------------------------------|----------------------------------------------------|
//! | `disabled`          | never                               | -                                                  |
//! | `preferred`         | when the server offers it           | not checked                                        |
//! | `required`          | always                              | not checked                                        |
//! | `verify_ca`         | always                              | signed by a CA of `database.ssl.ca` (or a public one) |
//! | `verify_identity`   | always                              | as `verify_ca`, and issued for the host            |
//!
//! mysql_async has no fallback of its own: with TLS options it fails against a server that does not offer TLS.
//! `preferred` (Debezium's default) is [`ConnectOpts::connect`] trying TLS and, only when the server's greeting
//! lacks the TLS capability, connecting again without. A TLS handshake that fails is never retried in plain.
//!
//! Debezium reads its CA and client certificate from Java keystores (`database.ssl.truststore`,
//! `database.ssl.keystore`), which this connector cannot read; it takes PEM files instead (`database.ssl.ca`,
//! `database.ssl.cert`, `database.ssl.key`: Tidemark's settings). Without `database.ssl.ca` the verifying modes
//! trust the public CAs of the Mozilla list (webpki-roots), as Java trusts its default `cacerts`.
//!
//! **`verify_ca` checks the host name too for now**: mysql_async 0.37.1 recognises a name mismatch by text that
//! rustls 0.23 no longer writes (blackbeam/mysql_async#404, fixed upstream by #408 but not released), so its
//! `with_danger_skip_domain_validation` has no effect. `verify_ca` asks for it all the same and behaves as
//! documented once mysql_async is upgraded; until then a certificate not issued for `database.hostname` is refused
//! in `verify_ca` as in `verify_identity`.

use std::path::{Path, PathBuf};
use std::{fmt, io};

use mysql_async::{ClientIdentity, Conn, DriverError, IoError, Opts, OptsBuilder, SslOpts};
use tidemark_broker::security::tls::{load_certificates, load_private_key, TlsError as PemError};

/// Debezium's `database.ssl.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disabled,
    /// TLS when the server offers it, else plain; the certificate is not checked.
    Preferred,
    /// TLS or no connection; the certificate is not checked.
    Required,
    /// TLS with the server's certificate chain checked against the CA.
    VerifyCa,
    /// As [`SslMode::VerifyCa`], and the certificate must be issued for the host connected to.
    VerifyIdentity,
}

impl SslMode {
    /// The modes' names: Debezium's MySQL connector's (MySQL Connector/J's, in any case), then MariaDB
    /// Connector/J's for the same modes (`disable`, `trust` for `required`, `verify-ca`, `verify-full`).
    pub const NAMES: &'static [&'static str] = &[
        "disabled",
        "preferred",
        "required",
        "verify_ca",
        "verify_identity",
        "disable",
        "trust",
        "verify-ca",
        "verify-full",
    ];

    /// The mode named `name` (any case, surrounding blanks ignored).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "disabled" | "disable" => SslMode::Disabled,
            "preferred" => SslMode::Preferred,
            "required" | "trust" => SslMode::Required,
            "verify_ca" | "verify-ca" => SslMode::VerifyCa,
            "verify_identity" | "verify-full" => SslMode::VerifyIdentity,
            _ => return None,
        })
    }

    /// Whether the mode checks the server's certificate.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyIdentity)
    }
}

/// The PEM files of the TLS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificates the server's certificate must chain to (the verifying modes).
    pub ca: Option<PathBuf>,
    /// The client certificate (chain) presented to a server that asks for one.
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PKCS#8, PKCS#1 or SEC1), not encrypted.
    pub key: Option<PathBuf>,
}

/// Why TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    /// The CA file is missing, unreadable or holds no certificate.
    #[error("{0}")]
    Ca(PemError),
    /// The client certificate file is missing, unreadable or holds no certificate.
    #[error("{0}")]
    Cert(PemError),
    /// The client key file is missing, unreadable or holds no private key.
    #[error("{0}")]
    Key(PemError),
    /// A client certificate without its key.
    #[error("a client certificate needs its private key")]
    NoKey,
    /// A client key without its certificate.
    #[error("a client key needs its certificate")]
    NoCert,
}

/// Which TLS setting a [`TlsConfigError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsSetting {
    /// The CA file.
    Ca,
    /// The client certificate file.
    Cert,
    /// The client key file.
    Key,
}

impl TlsConfigError {
    /// The setting to fix.
    pub fn setting(&self) -> TlsSetting {
        match self {
            TlsConfigError::Ca(_) => TlsSetting::Ca,
            TlsConfigError::Cert(_) | TlsConfigError::NoCert => TlsSetting::Cert,
            TlsConfigError::Key(_) | TlsConfigError::NoKey => TlsSetting::Key,
        }
    }
}

/// The TLS mode and the options mysql_async connects with under it, the files already read. Cheap to clone.
#[derive(Clone)]
pub struct MySqlTls {
    mode: SslMode,
    files: TlsFiles,
    ssl_opts: Option<SslOpts>,
}

impl MySqlTls {
    /// The settings of `mode` with `files`, read and checked now (none under `disabled`). A CA is used by the
    /// verifying modes only; a client certificate by every mode with TLS.
    pub fn new(mode: SslMode, files: TlsFiles) -> Result<Self, TlsConfigError> {
        if mode == SslMode::Disabled {
            return Ok(MySqlTls { mode, files, ssl_opts: None });
        }
        let verifying = mode.verifies();
        let mut ssl_opts = SslOpts::default()
            .with_danger_accept_invalid_certs(!verifying)
            .with_danger_skip_domain_validation(mode == SslMode::VerifyCa);
        if let (true, Some(ca)) = (verifying, &files.ca) {
            let roots = load_certificates(ca).map_err(TlsConfigError::Ca)?;
            // DER, one certificate each: mysql_async reads them so.
            let roots = roots.into_iter().map(|root| root.to_vec().into()).collect();
            ssl_opts = ssl_opts.with_root_certs(roots).with_disable_built_in_roots(true);
        }
        let identity = match (&files.cert, &files.key) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(client_identity(cert, key)?),
            (Some(_), None) => return Err(TlsConfigError::NoKey),
            (None, Some(_)) => return Err(TlsConfigError::NoCert),
        };
        let ssl_opts = ssl_opts.with_client_identity(identity);
        Ok(MySqlTls { mode, files, ssl_opts: Some(ssl_opts) })
    }

    /// The mode.
    pub fn mode(&self) -> SslMode {
        self.mode
    }

    /// The options of `builder` with this TLS mode.
    pub fn connect_opts(&self, builder: OptsBuilder) -> ConnectOpts {
        let opts = Opts::from(builder.ssl_opts(self.ssl_opts.clone()));
        let plain_fallback = (self.mode == SslMode::Preferred)
            .then(|| Opts::from(OptsBuilder::from_opts(opts.clone()).ssl_opts(None::<SslOpts>)));
        ConnectOpts { opts, plain_fallback }
    }
}

impl fmt::Debug for MySqlTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MySqlTls").field("mode", &self.mode).field("files", &self.files).finish_non_exhaustive()
    }
}

/// The client certificate and key, read and checked now (mysql_async parses the PEM again when it connects).
fn client_identity(cert: &Path, key: &Path) -> Result<ClientIdentity, TlsConfigError> {
    load_certificates(cert).map_err(TlsConfigError::Cert)?;
    load_private_key(key).map_err(TlsConfigError::Key)?;
    let read =
        |path: &Path| std::fs::read(path).map_err(|e| PemError::Pem { path: path.to_owned(), reason: e.to_string() });
    let cert_pem = read(cert).map_err(TlsConfigError::Cert)?;
    let key_pem = read(key).map_err(TlsConfigError::Key)?;
    Ok(ClientIdentity::new(cert_pem.into(), key_pem.into()))
}

/// The options every connection of a connector opens with, and under `preferred` the same without TLS for a
/// server that does not offer it.
#[derive(Clone)]
pub struct ConnectOpts {
    opts: Opts,
    plain_fallback: Option<Opts>,
}

impl ConnectOpts {
    /// Opens a connection; under `preferred`, again without TLS when the server does not offer it.
    pub async fn connect(&self) -> Result<Conn, mysql_async::Error> {
        let attempt = Conn::new(self.opts.clone()).await;
        match (&attempt, &self.plain_fallback) {
            (Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer)), Some(plain)) => {
                tracing::debug!("the server does not offer TLS; connecting without (database.ssl.mode=preferred)");
                Conn::new(plain.clone()).await
            }
            _ => attempt,
        }
    }
}

/// Options with TLS exactly as they say, without a fallback.
impl From<Opts> for ConnectOpts {
    fn from(opts: Opts) -> Self {
        ConnectOpts { opts, plain_fallback: None }
    }
}

impl fmt::Debug for ConnectOpts {
    /// Never the password or the client key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOpts")
            .field("host", &self.opts.ip_or_hostname())
            .field("port", &self.opts.tcp_port())
            .field("user", &self.opts.user())
            .field("tls", &self.opts.ssl_opts().is_some())
            .field("plain_fallback", &self.plain_fallback.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether `error` is a TLS failure that connecting again cannot mend: the server does not do TLS while the mode
/// requires it, or the handshake failed by the protocol's rules (a certificate refused, say).
pub fn is_definite_tls_failure(error: &mysql_async::Error) -> bool {
    match error {
        mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer) => true,
        mysql_async::Error::Io(IoError::Tls(_)) => true,
        mysql_async::Error::Io(IoError::Io(error)) => {
            error.kind() == io::ErrorKind::InvalidData
                && error.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_as_debezium_and_connector_j_spell_them() {
        for name in SslMode::NAMES {
            assert!(SslMode::parse(name).is_some(), "{name}");
        }
        assert_eq!(SslMode::parse(" VERIFY_IDENTITY "), Some(SslMode::VerifyIdentity));
        assert_eq!(SslMode::parse("trust"), Some(SslMode::Required));
        assert_eq!(SslMode::parse("verify-full"), Some(SslMode::VerifyIdentity));
        assert_eq!(SslMode::parse("verify_full"), None);
    }

    #[test]
    fn files_are_read_at_once_and_half_identities_refused() {
        let missing = TlsFiles { ca: Some("/nonexistent/ca.pem".into()), ..TlsFiles::default() };
        let error = MySqlTls::new(SslMode::VerifyCa, missing.clone()).err();
        assert_eq!(error.as_ref().map(TlsConfigError::setting), Some(TlsSetting::Ca), "{error:?}");
        // Only the verifying modes use the CA.
        assert!(MySqlTls::new(SslMode::Required, missing.clone()).is_ok());
        assert!(MySqlTls::new(SslMode::Disabled, missing).is_ok());
        let half = TlsFiles { cert: Some("/nonexistent/client.pem".into()), ..TlsFiles::default() };
        assert!(matches!(MySqlTls::new(SslMode::Required, half).err(), Some(TlsConfigError::NoKey)));
        let half = TlsFiles { key: Some("/nonexistent/client.key".into()), ..TlsFiles::default() };
        assert!(matches!(MySqlTls::new(SslMode::Required, half).err(), Some(TlsConfigError::NoCert)));
    }

    #[test]
    fn only_preferred_falls_back_to_plain() {
        let opts = |mode| {
            let tls = MySqlTls::new(mode, TlsFiles::default()).expect("settings");
            tls.connect_opts(OptsBuilder::default().ip_or_hostname("db").user(Some("cdc")).pass(Some("secret")))
        };
        let preferred = opts(SslMode::Preferred);
        assert!(preferred.opts.ssl_opts().is_some_and(SslOpts::accept_invalid_certs));
        assert!(preferred.plain_fallback.as_ref().is_some_and(|plain| plain.ssl_opts().is_none()));
        let required = opts(SslMode::Required);
        assert!(required.opts.ssl_opts().is_some() && required.plain_fallback.is_none());
        let verify = opts(SslMode::VerifyIdentity);
        assert!(verify.opts.ssl_opts().is_some_and(|ssl| !ssl.accept_invalid_certs() && !ssl.skip_domain_validation()));
        assert!(opts(SslMode::Disabled).opts.ssl_opts().is_none());
        let shown = format!("{preferred:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
