//! How the server's certificate is checked under each `sslmode`.
//!
//! rustls's own verifier always checks a certificate's chain and host name; libpq's `allow`, `prefer` and `require`
//! (without a root certificate) check neither, and `verify-ca` checks only the chain. [`Verifier`] checks what the
//! mode asks of the certificate, and whatever the mode still verifies the handshake's signatures against the
//! certificate's key (`rustls::crypto::verify_tls12_signature` / `verify_tls13_signature`). That makes the server
//! prove it holds the private key of the certificate it presented and binds the key exchange to that certificate.
//! It does not stop an active attacker who presents a certificate of their own (which an unchecked mode accepts, in
//! libpq too), but skipping it as well would accept a handshake from a peer holding no key at all, and the session
//! would not even be tied to the certificate the server showed.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// What is checked of the server's certificate.
#[derive(Debug)]
pub(super) enum CertificateCheck {
    /// Nothing (`allow`, `prefer`, `require` without a root certificate).
    Nothing,
    /// That it chains to one of these roots (`verify-ca`, `require` with a root certificate).
    Chain(Arc<RootCertStore>),
    /// That it chains to one of these roots and is issued for the host (`verify-full`), as rustls's
    /// `WebPkiServerVerifier` checks it (without revocation lists, which libpq reads only when given).
    ChainAndName(Arc<RootCertStore>),
}

/// A [`ServerCertVerifier`] for one [`CertificateCheck`].
#[derive(Debug)]
pub(super) struct Verifier {
    check: CertificateCheck,
    algorithms: WebPkiSupportedAlgorithms,
}

impl Verifier {
    /// Checks `check` with the provider's signature `algorithms`.
    pub(super) fn new(check: CertificateCheck, algorithms: WebPkiSupportedAlgorithms) -> Self {
        Verifier { check, algorithms }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let roots = match &self.check {
            CertificateCheck::Nothing => return Ok(ServerCertVerified::assertion()),
            CertificateCheck::Chain(roots) | CertificateCheck::ChainAndName(roots) => roots,
        };
        let certificate = ParsedCertificate::try_from(end_entity)?;
        verify_server_cert_signed_by_trust_anchor(&certificate, roots, intermediates, now, self.algorithms.all)?;
        if matches!(self.check, CertificateCheck::ChainAndName(_)) {
            verify_server_name(&certificate, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
