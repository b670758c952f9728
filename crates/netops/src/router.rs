//! A RouterOS API connection to a router as lastmile stores it: its API address and port,
//! the user and the sealed password, and the way its certificate is trusted.

use std::time::Duration;

use routeros::{Client, ClientConfig, Fingerprint, Trust};
use store::Db;
use store::entity::router::Model as Router;

/// Why the router's API could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// lastmile has no API access to the router.
    #[error("no API access configured for the router")]
    NotConfigured,
    /// What lastmile stores of the router cannot be used.
    #[error("{0}")]
    Stored(String),
    /// The router refused or did not answer.
    #[error("{0}")]
    Router(#[from] routeros::Error),
}

/// Connects to `router`'s API, each step bounded by `timeout`.
pub async fn connect(db: &Db, router: &Router, timeout: Duration) -> Result<Client, ApiError> {
    let (Some(address), Some(user), Some(sealed)) = (
        router.api_address.as_deref(),
        router.api_user.as_deref(),
        router.api_password.as_deref(),
    ) else {
        return Err(ApiError::NotConfigured);
    };
    let password = db
        .keyring()
        .open_string(store::network::API_PASSWORD_CONTEXT, sealed)
        .map_err(|e| ApiError::Stored(e.to_string()))?;
    let default_port = u16::try_from(router.api_port).unwrap_or(routeros::client::API_PORT);
    let (host, port) = routeros::client::parse_address(address, default_port)?;
    let mut config = ClientConfig::new(format!("{host}:{port}"), user, password.as_str())
        .with_command_timeout(timeout);
    config.connect_timeout = timeout;
    if router.api_tls {
        config = config.with_tls(trust(router)?);
    }
    Ok(Client::connect(&config).await?)
}

/// How `router`'s certificate is trusted, as stored (`domain::network::router::TlsTrust`).
fn trust(router: &Router) -> Result<Trust, ApiError> {
    match router.api_tls_trust.as_str() {
        "pinned" => {
            let pin = router.api_tls_fingerprint.as_deref().unwrap_or_default();
            Fingerprint::parse(pin)
                .map(Trust::Fingerprint)
                .map_err(|e| ApiError::Stored(e.to_string()))
        }
        "ca" => Trust::ca_pem(router.api_tls_ca.as_deref().unwrap_or_default())
            .map_err(|e| ApiError::Stored(e.to_string())),
        _ => Ok(Trust::SystemRoots),
    }
}
