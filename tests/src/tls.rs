//! Test certificates: a certificate authority, a server certificate for `localhost` and 127.0.0.1 signed by it, and
//! a client certificate signed by it, written as PEM files for the broker's `--tls-*` flags and the clients.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// The PEM files [`Certificates::generate`] wrote.
#[derive(Debug, Clone)]
pub struct Certificates {
    /// The certificate authority's certificate (what clients trust, and `--tls-client-ca`).
    pub ca: PathBuf,
    /// The server's certificate (`--tls-cert`): `localhost` and 127.0.0.1, signed by the CA.
    pub server_cert: PathBuf,
    /// The server certificate's private key, PKCS#8 (`--tls-key`).
    pub server_key: PathBuf,
    /// A client certificate signed by the CA (for mutual TLS).
    pub client_cert: PathBuf,
    /// The client certificate's private key, PKCS#8.
    pub client_key: PathBuf,
}

impl Certificates {
    /// Generates a fresh CA (named after `name`), a server certificate and a client certificate whose common name is
    /// `client`, into `dir` as `<name>-ca.pem`, `<name>-server.pem`, `<name>-server.key`, `<name>-client.pem` and
    /// `<name>-client.key`. Two calls with different names give two CAs that do not trust each other.
    pub fn generate(dir: &Path, name: &str, client: &str) -> Result<Self> {
        Self::generate_for(dir, name, client, &["localhost", "127.0.0.1"])
    }

    /// Like [`Certificates::generate`] with a server certificate issued for `server_names` (DNS names or IP
    /// addresses) instead: for tests of host name checks.
    pub fn generate_for(dir: &Path, name: &str, client: &str, server_names: &[&str]) -> Result<Self> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::new())?;
        ca_params.distinguished_name.push(DnType::CommonName, format!("Tidemark test CA {name}"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let signed = |names: Vec<String>, common_name: &str, usage: ExtendedKeyUsagePurpose| -> Result<_> {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::new(names)?;
            params.distinguished_name.push(DnType::CommonName, common_name);
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
            params.extended_key_usages = vec![usage];
            params.use_authority_key_identifier_extension = true;
            Ok((params.signed_by(&key, &issuer)?, key))
        };
        let server_names = server_names.iter().map(|name| (*name).to_owned()).collect();
        let (server_cert, server_key) = signed(server_names, "localhost", ExtendedKeyUsagePurpose::ServerAuth)?;
        let (client_cert, client_key) = signed(Vec::new(), client, ExtendedKeyUsagePurpose::ClientAuth)?;

        let write = |suffix: &str, pem: String| -> Result<PathBuf> {
            let path = dir.join(format!("{name}-{suffix}"));
            std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        };
        Ok(Certificates {
            ca: write("ca.pem", ca_cert.pem())?,
            server_cert: write("server.pem", server_cert.pem())?,
            server_key: write("server.key", server_key.serialize_pem())?,
            client_cert: write("client.pem", client_cert.pem())?,
            client_key: write("client.key", client_key.serialize_pem())?,
        })
    }

    /// The broker flags serving these certificates on its TLS listeners: `--tls-cert` and `--tls-key`.
    pub fn server_flags(&self) -> Vec<String> {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        vec!["--tls-cert".into(), path(&self.server_cert), "--tls-key".into(), path(&self.server_key)]
    }
}
