//! A router's last health check as the router page shows it.

use store::network::Health;

/// A router's last health check, as the router page shows it.
#[derive(Debug, Clone)]
pub(super) struct HealthView {
    pub checked: String,
    pub seen: String,
    pub version: String,
    pub identity: String,
    pub uptime: String,
    pub cpu: String,
    /// `ok`, `wrong`, or empty when the router was never provisioned.
    pub radius: &'static str,
    /// What drifted from the kept provisioning: `menu: action` per step.
    pub drift: Vec<String>,
    pub error: String,
}

impl HealthView {
    pub(super) fn of(h: &Health) -> Self {
        let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        let drift: Vec<serde_json::Value> = h
            .drift
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        Self {
            checked: at(h.checked_at),
            seen: h.seen_at.map(at).unwrap_or_default(),
            version: h.version.clone().unwrap_or_default(),
            identity: h.identity.clone().unwrap_or_default(),
            uptime: h.uptime.clone().unwrap_or_default(),
            cpu: h.cpu_load.map(|c| format!("{c} %")).unwrap_or_default(),
            radius: match h.radius_ok {
                Some(true) => "ok",
                Some(false) => "wrong",
                None => "",
            },
            drift: drift
                .iter()
                .map(|s| {
                    format!(
                        "{}: {}",
                        s["menu"].as_str().unwrap_or(""),
                        s["action"].as_str().unwrap_or("")
                    )
                })
                .collect(),
            error: h.error.clone().unwrap_or_default(),
        }
    }
}
