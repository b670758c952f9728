//! API-SSL (port 8729): the ways a client may trust a router's certificate (the host's
//! trust store, a CA the ISP gives, a pinned fingerprint, or, when asked, anything), the
//! certificate verifiers behind them, what certificate a router presents (to pin it on first
//! contact), and the mapping of handshake failures to typed errors.
//!
//! RouterOS API-SSL with no certificate only offers anonymous Diffie-Hellman; rustls has no
//! such suite, so the router answers our ClientHello with a `handshake_failure` alert, which
//! we turn into [`Error::TlsNoCertificate`] with instructions for the operator.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::Error;

/// A SHA-256 certificate fingerprint, as RouterOS shows it in `/certificate print`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// Parses 64 hexadecimal digits, in either case, with or without `:` separators.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let digits: Vec<u8> = text.bytes().filter(|&b| b != b':').collect();
        let invalid = || Error::InvalidFingerprint(text.to_owned());
        if digits.len() != 64 {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(Self(bytes))
    }

    /// The fingerprint of a DER-encoded certificate.
    pub fn of_certificate(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    /// Lowercase hexadecimal without separators, as RouterOS prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// How a TLS client decides to trust the router's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// A certificate chaining to a root of the host's trust store (the web's roots built in
    /// when the host has none), valid for the host name.
    SystemRoots,
    /// A certificate chaining to one of these CA certificates (DER), valid for the host name:
    /// the ISP's own CA that signed its routers' certificates.
    Ca(Vec<Vec<u8>>),
    /// Exactly the certificate with this SHA-256 fingerprint (typical for self-signed router
    /// certificates). Handshake signatures are still verified.
    Fingerprint(Fingerprint),
    /// Any certificate. Encrypts but does not authenticate the router: only when an operator
    /// explicitly asked for it.
    AcceptAny,
}

impl Trust {
    /// Trust in the CA certificates of `pem` (one or more `CERTIFICATE` blocks).
    pub fn ca_pem(pem: &str) -> Result<Trust, Error> {
        use rustls::pki_types::pem::PemObject as _;
        let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
            .map(|c| c.map(|c| c.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Tls(std::io::Error::other(format!("CA certificate: {e}"))))?;
        if certificates.is_empty() {
            return Err(Error::Tls(std::io::Error::other(
                "CA certificate: no CERTIFICATE block in the PEM text",
            )));
        }
        Ok(Trust::Ca(certificates))
    }
}

/// The host's trust store; the web's roots built into lastmile when it has none (a bare
/// container).
fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

/// The fingerprint of the certificate a TLS stream's peer presented.
pub(crate) fn peer_fingerprint(stream: &TlsStream<TcpStream>) -> Option<Fingerprint> {
    let (_, connection) = stream.get_ref();
    connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|certificate| Fingerprint::of_certificate(certificate))
}

/// The certificate fingerprint the router at `host:port` presents, read with a handshake
/// that trusts anything and goes no further (no login): what an operator pins on first
/// contact, after checking it on the router (`/certificate print`).
pub async fn presented_fingerprint(
    host: &str,
    port: u16,
    timeout: std::time::Duration,
) -> Result<Fingerprint, Error> {
    let attempt = async {
        let tcp = TcpStream::connect((host, port))
            .await
            .map_err(|source| Error::Connect {
                address: format!("{host}:{port}"),
                source,
            })?;
        let options = TlsOptions {
            trust: Trust::AcceptAny,
            server_name: None,
        };
        let stream = handshake(tcp, host, &options).await?;
        peer_fingerprint(&stream).ok_or(Error::TlsNoCertificate)
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| Error::ConnectTimeout {
            address: format!("{host}:{port}"),
            after: timeout,
        })?
}

/// TLS settings of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// How the certificate is trusted.
    pub trust: Trust,
    /// The name to send as SNI and to verify against; defaults to the address's host.
    pub server_name: Option<String>,
}

/// The error our verifiers report on a pin mismatch, recovered after the handshake.
#[derive(Debug)]
struct PinMismatch {
    expected: Fingerprint,
    actual: Fingerprint,
}

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate fingerprint {} is not the pinned {}",
            self.actual, self.expected
        )
    }
}

impl std::error::Error for PinMismatch {}

/// Verifies a pinned fingerprint, or nothing at all for [`Trust::AcceptAny`]; in both cases
/// the handshake signatures are checked against the presented certificate.
#[derive(Debug)]
struct PinnedVerifier {
    pin: Option<Fingerprint>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(expected) = self.pin else {
            return Ok(ServerCertVerified::assertion());
        };
        let actual = Fingerprint::of_certificate(end_entity);
        if actual == expected {
            Ok(ServerCertVerified::assertion())
        } else {
            let other = rustls::OtherError(Arc::new(PinMismatch { expected, actual }));
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                other,
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn client_config(trust: &Trust) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(std::io::Error::other(e)))?;
    let config = match trust {
        Trust::SystemRoots => builder
            .with_root_certificates(system_roots())
            .with_no_client_auth(),
        Trust::Ca(certificates) => {
            let mut roots = rustls::RootCertStore::empty();
            for der in certificates {
                roots
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|e| Error::Tls(std::io::Error::other(e)))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Fingerprint(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                pin: Some(*pin),
                algorithms,
            }))
            .with_no_client_auth(),
        Trust::AcceptAny => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                pin: None,
                algorithms,
            }))
            .with_no_client_auth(),
    };
    Ok(config)
}

/// Runs the TLS handshake over an open TCP connection.
pub(crate) async fn handshake(
    tcp: TcpStream,
    host: &str,
    options: &TlsOptions,
) -> Result<TlsStream<TcpStream>, Error> {
    let config = client_config(&options.trust)?;
    let name = options.server_name.as_deref().unwrap_or(host);
    let server_name = ServerName::try_from(name.to_owned())
        .map_err(|_| Error::InvalidAddress(name.to_owned()))?;
    TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
        .map_err(classify)
}

/// Maps a failed handshake to the most useful error.
fn classify(error: std::io::Error) -> Error {
    let Some(tls) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    else {
        return Error::Tls(error);
    };
    match tls {
        rustls::Error::AlertReceived(
            AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity,
        ) => Error::TlsNoCertificate,
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            match other.0.downcast_ref::<PinMismatch>() {
                Some(pin) => Error::FingerprintMismatch {
                    expected: pin.expected.to_string(),
                    actual: pin.actual.to_string(),
                },
                None => Error::Tls(error),
            }
        }
        _ => Error::Tls(error),
    }
}

/// Helps tests and the simulated router share the provider choice.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_with_or_without_colons_in_any_case() {
        let plain = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(
            Fingerprint::parse(&plain).unwrap(),
            Fingerprint::parse(&colons).unwrap()
        );
        assert_eq!(
            Fingerprint::parse(&plain).unwrap().to_string(),
            "ab".repeat(32)
        );
        assert!(Fingerprint::parse("abcd").is_err());
        assert!(Fingerprint::parse(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn a_ca_in_pem_becomes_the_trusted_roots() {
        let made = rcgen::generate_simple_self_signed(vec!["ca.isp.example".to_owned()]).unwrap();
        let pem = made.cert.pem();
        match Trust::ca_pem(&pem) {
            Ok(Trust::Ca(roots)) => assert_eq!(roots.len(), 1),
            other => panic!("{other:?}"),
        }
        assert!(client_config(&Trust::ca_pem(&pem).unwrap()).is_ok());
        assert!(Trust::ca_pem("no certificate here").is_err());
    }
}
