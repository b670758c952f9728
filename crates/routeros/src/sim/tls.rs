//! API-SSL for the simulated router: a fresh self-signed certificate (rcgen) served with
//! rustls, or, to rehearse a router whose API-SSL has no certificate, a listener that answers
//! every ClientHello with a `handshake_failure` alert as such a router does to a client that
//! offers no anonymous Diffie-Hellman suite.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::SimError;
use crate::client::Fingerprint;

/// The server side of API-SSL.
#[derive(Debug, Clone)]
pub(crate) struct SimTls {
    pub config: Arc<rustls::ServerConfig>,
    pub fingerprint: Fingerprint,
}

/// Generates a self-signed certificate for `names` and a server configuration using it.
pub(crate) fn self_signed(names: Vec<String>) -> Result<SimTls, SimError> {
    let certified =
        rcgen::generate_simple_self_signed(names).map_err(|e| SimError::Tls(e.to_string()))?;
    let der = certified.cert.der().clone();
    let fingerprint = Fingerprint::of_certificate(&der);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(crate::client::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| SimError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .map_err(|e| SimError::Tls(e.to_string()))?;
    Ok(SimTls {
        config: Arc::new(config),
        fingerprint,
    })
}

/// Reads the client's first TLS record (bounded) and answers with a fatal
/// `handshake_failure` alert, then closes.
pub(crate) async fn refuse_without_certificate(mut stream: TcpStream) {
    let exchange = async {
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).await?;
        let len = usize::from(u16::from_be_bytes([header[3], header[4]])).min(1 << 14);
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).await?;
        // Alert record: type 21, TLS 1.2, length 2, level fatal (2), handshake_failure (40).
        stream.write_all(&[21, 3, 3, 0, 2, 2, 40]).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), exchange).await;
}
