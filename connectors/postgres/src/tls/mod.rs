//! TLS to the Postgres server with libpq's `sslmode` rules, for the ordinary connections (tokio-postgres:
//! [`PgTls::connect_sql`]) and the replication connection (an SSLRequest, then the handshake on the same socket,
//! `replication/transport.rs`) alike.
//!
//! | `sslmode`     | TLS                                           | the server's certificate                       |
//! |---------------|-----------------------------------------------|------------------------------------------------|
//! | `disable`     | never                                         | -                                              |
//! | `allow`       | only when the server refuses a plain login    | not checked                                    |
//! | `prefer`      | when the server offers it (`ssl=on`)          | not checked                                    |
//! | `require`     | always                                        | not checked, or as `verify-ca` with a root CA  |
//! | `verify-ca`   | always                                        | signed by a CA of `sslrootcert`                |
//! | `verify-full` | always                                        | signed by a CA of `sslrootcert`, for the host  |
//!
//! `allow` and `prefer` never check the certificate, as libpq: they connect without TLS whenever the server (or
//! anyone in between) says so, so a check would stop nobody. `require` with a root certificate checks the chain,
//! libpq's rule kept for compatibility. `verify-ca` and `verify-full` need `sslrootcert` (libpq would read
//! `~/.postgresql/root.crt`; a worker's home directory is no place for it). A client certificate and key, when
//! given, are presented to servers that ask (`clientcert` in `pg_hba.conf`). rustls with the `ring` provider,
//! TLS 1.2 and 1.3; no SCRAM channel binding.

mod sql;
mod verifier;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::{fmt, io};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};
use tidemark_broker::security::tls::{load_certificates, load_private_key, TlsError as PemError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

pub use sql::{RustlsConnect, RustlsStream};
use verifier::{CertificateCheck, Verifier};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// A plain connection; TLS only when the server refuses the plain login.
    Allow,
    /// TLS when the server offers it, else plain.
    Prefer,
    /// TLS or no connection.
    Require,
    /// TLS with the server's certificate chain checked against the root certificates.
    VerifyCa,
    /// As [`SslMode::VerifyCa`], and the certificate must be issued for the host connected to.
    VerifyFull,
}

impl SslMode {
    /// The modes' names, as libpq spells them.
    pub const NAMES: &'static [&'static str] = &["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

    /// The mode named `name` (any case, surrounding blanks ignored).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// The PEM files of the TLS settings (`sslrootcert`, `sslcert`, `sslkey`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificates the server's certificate must chain to.
    pub root_cert: Option<PathBuf>,
    /// The client certificate (chain) presented to a server that asks for one.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub client_key: Option<PathBuf>,
}

/// Why TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    /// The root certificate file is missing, unreadable or holds no certificate.
    #[error("{0}")]
    RootCert(PemError),
    /// The root certificate file holds a certificate rustls cannot use as a trust anchor.
    #[error("{0}")]
    InvalidRootCert(rustls::Error),
    /// `verify-ca` or `verify-full` without a root certificate file.
    #[error("sslmode {0} checks the server's certificate against the root certificates, and none are set")]
    NoRootCert(&'static str),
    /// The client certificate file is missing, unreadable or holds no certificate.
    #[error("{0}")]
    ClientCert(PemError),
    /// The client key file is missing, unreadable or holds no private key.
    #[error("{0}")]
    ClientKey(PemError),
    /// A client certificate without its key.
    #[error("a client certificate needs its private key")]
    NoClientKey,
    /// A client key without its certificate.
    #[error("a client key needs its certificate")]
    NoClientCert,
    /// rustls refused the client certificate and key (a key that does not belong to the certificate, say).
    #[error("the client certificate and key cannot be used: {0}")]
    Identity(rustls::Error),
    /// rustls refused the `ring` provider's protocol versions (not expected to happen).
    #[error("TLS cannot be set up: {0}")]
    Provider(rustls::Error),
}

/// Which TLS setting a [`TlsConfigError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsSetting {
    /// `sslmode`.
    Mode,
    /// `sslrootcert`.
    RootCert,
    /// `sslcert`.
    ClientCert,
    /// `sslkey`.
    ClientKey,
}

impl TlsConfigError {
    /// The setting to fix.
    pub fn setting(&self) -> TlsSetting {
        match self {
            TlsConfigError::RootCert(_) | TlsConfigError::InvalidRootCert(_) | TlsConfigError::NoRootCert(_) => {
                TlsSetting::RootCert
            }
            TlsConfigError::ClientCert(_) | TlsConfigError::NoClientCert => TlsSetting::ClientCert,
            TlsConfigError::ClientKey(_) | TlsConfigError::NoClientKey | TlsConfigError::Identity(_) => {
                TlsSetting::ClientKey
            }
            TlsConfigError::Provider(_) => TlsSetting::Mode,
        }
    }
}

/// The TLS mode and, unless it is `disable`, the rustls client configuration to connect with. Cheap to clone.
#[derive(Clone)]
pub struct PgTls {
    mode: SslMode,
    files: TlsFiles,
    connector: Option<TlsConnector>,
}

/// What one connection attempt does about TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negotiation {
    /// No SSLRequest.
    Plain,
    /// SSLRequest; a plain connection when the server declines.
    Prefer,
    /// SSLRequest; fail when the server declines.
    Require,
}

impl PgTls {
    /// The settings of `mode` with `files`, the files read and checked now (none under `disable`).
    pub fn new(mode: SslMode, files: TlsFiles) -> Result<Self, TlsConfigError> {
        if mode == SslMode::Disable {
            return Ok(PgTls { mode, files, connector: None });
        }
        let roots = match &files.root_cert {
            Some(path) => {
                let mut roots = RootCertStore::empty();
                for certificate in load_certificates(path).map_err(TlsConfigError::RootCert)? {
                    roots.add(certificate).map_err(TlsConfigError::InvalidRootCert)?;
                }
                Some(Arc::new(roots))
            }
            None => None,
        };
        let check = match (mode, roots) {
            (SslMode::VerifyCa, None) => return Err(TlsConfigError::NoRootCert("verify-ca")),
            (SslMode::VerifyFull, None) => return Err(TlsConfigError::NoRootCert("verify-full")),
            (SslMode::VerifyFull, Some(roots)) => CertificateCheck::ChainAndName(roots),
            (SslMode::Require | SslMode::VerifyCa, Some(roots)) => CertificateCheck::Chain(roots),
            _ => CertificateCheck::Nothing,
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Verifier::new(check, provider.signature_verification_algorithms);
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsConfigError::Provider)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier));
        let config = match (&files.client_cert, &files.client_key) {
            (None, None) => builder.with_no_client_auth(),
            (Some(cert), Some(key)) => {
                let chain = load_certificates(cert).map_err(TlsConfigError::ClientCert)?;
                let key = load_private_key(key).map_err(TlsConfigError::ClientKey)?;
                builder.with_client_auth_cert(chain, key).map_err(TlsConfigError::Identity)?
            }
            (Some(_), None) => return Err(TlsConfigError::NoClientKey),
            (None, Some(_)) => return Err(TlsConfigError::NoClientCert),
        };
        Ok(PgTls { mode, files, connector: Some(TlsConnector::from(Arc::new(config))) })
    }

    /// No TLS (`sslmode=disable`).
    pub fn disabled() -> Self {
        PgTls { mode: SslMode::Disable, files: TlsFiles::default(), connector: None }
    }

    /// The mode.
    pub fn mode(&self) -> SslMode {
        self.mode
    }

    /// What the first connection attempt does: `allow` starts plain.
    pub(crate) fn first_negotiation(&self) -> Negotiation {
        match self.mode {
            SslMode::Disable | SslMode::Allow => Negotiation::Plain,
            SslMode::Prefer => Negotiation::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Negotiation::Require,
        }
    }

    /// Runs `attempt` with the mode's first negotiation; under `allow`, runs it again with TLS required when the
    /// server refused the plain login (SQLSTATE class 28, which is what a `pg_hba.conf` with only `hostssl` lines
    /// for the user answers). `sqlstate` reads an error's SQLSTATE.
    pub(crate) async fn connect_with<T, E, F, Fut>(
        &self,
        attempt: F,
        sqlstate: impl Fn(&E) -> Option<&str>,
    ) -> Result<T, E>
    where
        F: Fn(Negotiation) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let first = self.first_negotiation();
        match attempt(first).await {
            Err(error) if self.mode == SslMode::Allow && sqlstate(&error).is_some_and(|c| c.starts_with("28")) => {
                tracing::debug!("the server refused a plain login; trying again with TLS (sslmode=allow)");
                attempt(Negotiation::Require).await
            }
            other => other,
        }
    }

    /// The TLS handshake over `stream` (after the server accepted an SSLRequest), for `host`: the name the
    /// certificate must be issued for under `verify-full`, and the SNI sent when it is a DNS name.
    pub(crate) async fn handshake<S>(&self, host: &str, stream: S) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let connector = self
            .connector
            .as_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, "sslmode=disable has no TLS configuration"))?;
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{host:?} is no host name for TLS")))?;
        connector.connect(name, stream).await
    }
}

impl fmt::Debug for PgTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTls").field("mode", &self.mode).field("files", &self.files).finish_non_exhaustive()
    }
}

/// Whether `error` is a TLS failure that connecting again cannot mend: the server's certificate was refused, the
/// handshake failed by the protocol's rules, or the server does not do TLS at all while the mode requires it.
pub fn is_definite_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<rustls::Error>() || error.to_string() == sql::NO_TLS_SERVER {
            return true;
        }
        let inner = error.downcast_ref::<io::Error>().and_then(|io| io.get_ref());
        if inner.is_some_and(|inner| inner.is::<rustls::Error>()) {
            return true;
        }
        next = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_as_libpq_spells_them() {
        for name in SslMode::NAMES {
            assert!(SslMode::parse(name).is_some(), "{name}");
        }
        assert_eq!(SslMode::parse(" Verify-Full "), Some(SslMode::VerifyFull));
        assert_eq!(SslMode::parse("verify_full"), None);
    }

    #[test]
    fn verify_modes_need_a_root_certificate() {
        let error = PgTls::new(SslMode::VerifyCa, TlsFiles::default()).err();
        assert!(matches!(error, Some(TlsConfigError::NoRootCert("verify-ca"))), "{error:?}");
        let error = PgTls::new(SslMode::VerifyFull, TlsFiles::default()).err();
        assert!(matches!(error, Some(TlsConfigError::NoRootCert("verify-full"))), "{error:?}");
        assert!(PgTls::new(SslMode::Require, TlsFiles::default()).is_ok());
    }

    #[test]
    fn missing_files_and_half_identities_are_refused() {
        let missing = TlsFiles { root_cert: Some("/nonexistent/root.pem".into()), ..TlsFiles::default() };
        let error = PgTls::new(SslMode::VerifyFull, missing).err();
        assert!(matches!(error, Some(TlsConfigError::RootCert(_))), "{error:?}");
        assert_eq!(error.map(|e| e.setting()), Some(TlsSetting::RootCert));
        let half = TlsFiles { client_cert: Some("/nonexistent/client.pem".into()), ..TlsFiles::default() };
        let error = PgTls::new(SslMode::Require, half).err();
        assert!(matches!(error, Some(TlsConfigError::NoClientKey)), "{error:?}");
        assert_eq!(error.map(|e| e.setting()), Some(TlsSetting::ClientKey));
        // disable reads nothing.
        let ignored = TlsFiles { root_cert: Some("/nonexistent/root.pem".into()), ..TlsFiles::default() };
        assert!(PgTls::new(SslMode::Disable, ignored).is_ok());
    }

    #[test]
    fn allow_starts_plain_and_prefer_asks() {
        let negotiation = |mode| PgTls::new(mode, TlsFiles::default()).map(|tls| tls.first_negotiation()).ok();
        assert_eq!(negotiation(SslMode::Disable), Some(Negotiation::Plain));
        assert_eq!(negotiation(SslMode::Allow), Some(Negotiation::Plain));
        assert_eq!(negotiation(SslMode::Prefer), Some(Negotiation::Prefer));
        assert_eq!(negotiation(SslMode::Require), Some(Negotiation::Require));
    }

    #[tokio::test]
    async fn allow_retries_with_tls_only_after_a_refused_login() {
        let tls = PgTls::new(SslMode::Allow, TlsFiles::default()).expect("allow");
        let attempts = std::sync::Mutex::new(Vec::new());
        let refused = tls
            .connect_with(
                |negotiation| {
                    attempts.lock().expect("lock").push(negotiation);
                    async move {
                        if negotiation == Negotiation::Plain {
                            Err("28000")
                        } else {
                            Ok(())
                        }
                    }
                },
                |code: &&str| Some(*code),
            )
            .await;
        assert_eq!(refused, Ok(()));
        assert_eq!(*attempts.lock().expect("lock"), [Negotiation::Plain, Negotiation::Require]);
        let unreachable: Result<(), &str> = tls.connect_with(|_| async { Err("08001") }, |code| Some(*code)).await;
        assert_eq!(unreachable, Err("08001"));
    }
}
