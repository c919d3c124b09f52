//! The HTTP clients of the worker (the Avro converters' registry client, the HTTP sink) and of the CLI's
//! `tidemark connector`: reqwest over rustls with the `ring` provider (the one the broker's TLS uses, so no second
//! crypto library is built), trusting the system's certificate authorities plus, where configured, the CA
//! certificates of a PEM file.

use std::path::Path;

use thiserror::Error;

/// A client could not be made as configured.
#[derive(Debug, Error)]
pub enum HttpClientError {
    /// The CA file is unreadable or holds no PEM certificate.
    #[error("{path}: {why}")]
    Trust {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// reqwest refused the settings.
    #[error("the HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

/// A client builder trusting the system's CAs and those in the PEM file `extra_ca`.
pub fn builder(extra_ca: Option<&Path>) -> Result<reqwest::ClientBuilder, HttpClientError> {
    // reqwest built without its own provider uses the process's default; `ring` unless the process chose another
    // (a second install fails harmlessly).
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let mut builder = reqwest::Client::builder();
    if let Some(path) = extra_ca {
        let trust = |why: String| HttpClientError::Trust { path: path.display().to_string(), why };
        let pem = std::fs::read(path).map_err(|e| trust(e.to_string()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| trust(e.to_string()))?;
        if certificates.is_empty() {
            return Err(trust("no PEM certificate in it (JKS and PKCS12 truststores are not read: give PEM)".into()));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    Ok(builder)
}

/// An error with its causes, `: `-separated: reqwest's own message names only the URL, its causes say what went
/// wrong ("connection refused", "invalid peer certificate").
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_pem_certificates_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("truststore.jks");
        std::fs::write(&file, b"\xfe\xed\xfe\xed not pem").expect("write");
        let error = builder(Some(&file)).expect_err("not PEM").to_string();
        assert!(error.contains("truststore.jks") && error.contains("PEM"), "{error}");
        let missing = builder(Some(&dir.path().join("missing.pem"))).expect_err("missing").to_string();
        assert!(missing.contains("missing.pem"), "{missing}");
        assert!(builder(None).expect("system roots").build().is_ok());
    }
}
