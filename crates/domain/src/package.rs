//! Packages in three levels (reference §2.2): master packages the Admin defines with the
//! technical service (connection type, rates, volume, validity, pool), operator packages that
//! offer a master package under an operator's own name and prices, and sub-operator packages
//! derived the same way from an operator package. This module parses and checks them.

use serde::{Deserialize, Serialize};

use crate::field::{FieldError, FieldErrors};
use crate::money::Money;
use crate::text::bounded;

/// How a subscriber connects.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionType {
    /// PPPoE (RADIUS-authenticated PPP sessions), the most common.
    #[default]
    Pppoe,
    /// The MikroTik hotspot (captive portal).
    Hotspot,
    /// A fixed address, policed by the router.
    StaticIp,
    /// Anything else the ISP sells.
    Other,
}

impl ConnectionType {
    /// Every connection type.
    pub const ALL: [ConnectionType; 4] = [
        ConnectionType::Pppoe,
        ConnectionType::Hotspot,
        ConnectionType::StaticIp,
        ConnectionType::Other,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionType::Pppoe => "pppoe",
            ConnectionType::Hotspot => "hotspot",
            ConnectionType::StaticIp => "static_ip",
            ConnectionType::Other => "other",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text.trim())
    }
}

/// Where a package stands in the three levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageLevel {
    /// The Admin's package: holds the service.
    Master,
    /// A master package offered by an operator under its own name and prices.
    Operator,
    /// An operator package offered by a sub-operator.
    SubOperator,
}

impl PackageLevel {
    /// Every level, from the top.
    pub const ALL: [PackageLevel; 3] = [
        PackageLevel::Master,
        PackageLevel::Operator,
        PackageLevel::SubOperator,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageLevel::Master => "master",
            PackageLevel::Operator => "operator",
            PackageLevel::SubOperator => "sub_operator",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

/// A package's stored status. Only `active` so far: a deleted package is archived
/// (`archived_at`), not given a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageStatus {
    /// Offered.
    Active,
}

impl PackageStatus {
    /// Every status.
    pub const ALL: [PackageStatus; 1] = [PackageStatus::Active];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageStatus::Active => "active",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The slowest rate lastmile writes: 1 kbit/s.
pub const RATE_MIN_KBPS: u32 = 1;
/// The fastest rate lastmile writes: 100 Gbit/s.
pub const RATE_MAX_KBPS: u32 = 100_000_000;

/// A subscriber's speed, in kbit/s from the subscriber's point of view, with an optional
/// burst. Rendered for MikroTik in the router's view: upload (the router's rx) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Download, kbit/s.
    pub down_kbps: u32,
    /// Upload, kbit/s.
    pub up_kbps: u32,
    /// The burst, if any.
    pub burst: Option<Burst>,
}

/// A MikroTik burst: the rate allowed while the average stays under the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Burst {
    /// Burst download rate, kbit/s.
    pub down_kbps: u32,
    /// Burst upload rate, kbit/s.
    pub up_kbps: u32,
    /// Average download rate under which bursting is allowed, kbit/s.
    pub threshold_down_kbps: u32,
    /// Average upload rate under which bursting is allowed, kbit/s.
    pub threshold_up_kbps: u32,
    /// The averaging window, seconds.
    pub time_secs: u32,
}

fn rate(field: &str, kbps: i64) -> Result<u32, FieldError> {
    if !(i64::from(RATE_MIN_KBPS)..=i64::from(RATE_MAX_KBPS)).contains(&kbps) {
        return Err(FieldError::new(field, "out_of_range")
            .with("min", RATE_MIN_KBPS)
            .with("max", RATE_MAX_KBPS));
    }
    Ok(kbps as u32)
}

/// A rate in MikroTik notation: `M` when a whole number of Mbit/s, else `k`.
fn mikrotik(kbps: u32) -> String {
    if kbps.is_multiple_of(1000) {
        format!("{}M", kbps / 1000)
    } else {
        format!("{kbps}k")
    }
}

/// The burst fields as given: all four rates and the time, or none.
#[derive(Debug, Clone, Copy, Default)]
pub struct BurstInput {
    /// Burst download, kbit/s.
    pub down_kbps: Option<i64>,
    /// Burst upload, kbit/s.
    pub up_kbps: Option<i64>,
    /// Threshold download, kbit/s.
    pub threshold_down_kbps: Option<i64>,
    /// Threshold upload, kbit/s.
    pub threshold_up_kbps: Option<i64>,
    /// Time, seconds.
    pub time_secs: Option<i64>,
}

impl RateLimit {
    /// Checks the rates: each in range; a burst above the base rate, its threshold at most
    /// the base rate, its time 1 to 3600 s.
    pub fn parse(down_kbps: i64, up_kbps: i64, burst: BurstInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let down = errors.take(rate("download_kbps", down_kbps));
        let up = errors.take(rate("upload_kbps", up_kbps));
        let fields = [
            burst.down_kbps,
            burst.up_kbps,
            burst.threshold_down_kbps,
            burst.threshold_up_kbps,
            burst.time_secs,
        ];
        let burst = match fields {
            [None, None, None, None, None] => None,
            [Some(bd), Some(bu), Some(td), Some(tu), Some(time)] => {
                let bd = errors.take(rate("burst_download_kbps", bd));
                let bu = errors.take(rate("burst_upload_kbps", bu));
                let td = errors.take(rate("burst_threshold_download_kbps", td));
                let tu = errors.take(rate("burst_threshold_upload_kbps", tu));
                if !(1..=3600).contains(&time) {
                    errors.push(
                        FieldError::new("burst_time_secs", "out_of_range")
                            .with("min", 1)
                            .with("max", 3600),
                    );
                }
                // A burst must exceed the rate; its threshold must not.
                let checks = [
                    (
                        "burst_download_kbps",
                        bd,
                        down,
                        "burst_not_above_rate",
                        true,
                    ),
                    ("burst_upload_kbps", bu, up, "burst_not_above_rate", true),
                    (
                        "burst_threshold_download_kbps",
                        td,
                        down,
                        "threshold_above_rate",
                        false,
                    ),
                    (
                        "burst_threshold_upload_kbps",
                        tu,
                        up,
                        "threshold_above_rate",
                        false,
                    ),
                ];
                for (field, value, base, code, must_exceed) in checks {
                    if let (Some(value), Some(base)) = (value, base)
                        && (if must_exceed {
                            value <= base
                        } else {
                            value > base
                        })
                    {
                        errors.push(FieldError::new(field, code));
                    }
                }
                match (bd, bu, td, tu) {
                    (Some(bd), Some(bu), Some(td), Some(tu)) => Some(Burst {
                        down_kbps: bd,
                        up_kbps: bu,
                        threshold_down_kbps: td,
                        threshold_up_kbps: tu,
                        time_secs: time.clamp(1, 3600) as u32,
                    }),
                    _ => None,
                }
            }
            _ => {
                errors.push(FieldError::new("burst", "incomplete_burst"));
                None
            }
        };
        errors.finish(|| {
            Some(RateLimit {
                down_kbps: down?,
                up_kbps: up?,
                burst,
            })
        })
    }

    /// The `Mikrotik-Rate-Limit` value: `up/down [burst-up/burst-down threshold-up/
    /// threshold-down time/time]`. rx is the router's receive side, the subscriber's upload.
    pub fn mikrotik(&self) -> String {
        let mut text = format!("{}/{}", mikrotik(self.up_kbps), mikrotik(self.down_kbps));
        if let Some(b) = self.burst {
            text.push_str(&format!(
                " {}/{} {}/{} {}/{}",
                mikrotik(b.up_kbps),
                mikrotik(b.down_kbps),
                mikrotik(b.threshold_up_kbps),
                mikrotik(b.threshold_down_kbps),
                b.time_secs,
                b.time_secs
            ));
        }
        text
    }
}

/// The longest validity: ten years, in minutes.
pub const VALIDITY_MAX_MINUTES: i64 = 3650 * 24 * 60;

/// How long a recharge lasts, in minutes (days, hours and minutes add up).
pub fn parse_validity(days: i64, hours: i64, minutes: i64) -> Result<i64, FieldErrors> {
    let mut errors = FieldErrors::new();
    if !(0..=3650).contains(&days) {
        errors.push(
            FieldError::new("validity_days", "out_of_range")
                .with("min", 0)
                .with("max", 3650),
        );
    }
    if !(0..=23).contains(&hours) {
        errors.push(
            FieldError::new("validity_hours", "out_of_range")
                .with("min", 0)
                .with("max", 23),
        );
    }
    if !(0..=59).contains(&minutes) {
        errors.push(
            FieldError::new("validity_minutes", "out_of_range")
                .with("min", 0)
                .with("max", 59),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let total = days * 1440 + hours * 60 + minutes;
    if total == 0 {
        return Err(FieldErrors::one(FieldError::new(
            "validity_days",
            "validity_zero",
        )));
    }
    Ok(total.min(VALIDITY_MAX_MINUTES))
}

/// The largest volume limit: 1 PB.
pub const VOLUME_MAX_BYTES: i64 = 1_000_000_000_000_000;

/// A volume limit in bytes, if one is given.
pub fn parse_volume(bytes: Option<i64>) -> Result<Option<i64>, FieldError> {
    match bytes {
        None => Ok(None),
        Some(b) if (1..=VOLUME_MAX_BYTES).contains(&b) => Ok(Some(b)),
        Some(_) => Err(FieldError::new("volume_bytes", "out_of_range")
            .with("min", 1)
            .with("max", VOLUME_MAX_BYTES)),
    }
}

/// The name reserved for the trial package.
pub const TRIAL: &str = "Trial";

/// A package name: 1 to 64 characters; `Trial` (any case) is reserved.
pub fn parse_name(raw: &str) -> Result<String, FieldError> {
    let name = bounded("name", raw, 1, 64)?;
    if name.eq_ignore_ascii_case(TRIAL) {
        return Err(FieldError::new("name", "reserved_name"));
    }
    Ok(name)
}

/// A derived package's prices: what the customer pays and what its owner owes upstream,
/// never more than the customer price.
pub fn check_prices(price: Money, cost_price: Money) -> Result<(), FieldError> {
    if cost_price > price {
        Err(FieldError::new("cost_price", "cost_above_price"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_render_upload_first_as_mikrotik_reads_them() {
        let rate = RateLimit::parse(50_000, 10_000, BurstInput::default()).unwrap();
        assert_eq!(rate.mikrotik(), "10M/50M");
        let odd = RateLimit::parse(1536, 512, BurstInput::default()).unwrap();
        assert_eq!(odd.mikrotik(), "512k/1536k");
        let burst = BurstInput {
            down_kbps: Some(80_000),
            up_kbps: Some(20_000),
            threshold_down_kbps: Some(40_000),
            threshold_up_kbps: Some(8_000),
            time_secs: Some(16),
        };
        assert_eq!(
            RateLimit::parse(50_000, 10_000, burst).unwrap().mikrotik(),
            "10M/50M 20M/80M 8M/40M 16/16"
        );
    }

    #[test]
    fn bad_rates_are_refused_with_their_field() {
        let errors = RateLimit::parse(0, 200_000_000, BurstInput::default()).unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["download_kbps", "upload_kbps"]);
        let half = BurstInput {
            down_kbps: Some(1),
            ..BurstInput::default()
        };
        assert_eq!(
            RateLimit::parse(10, 10, half).unwrap_err().0[0].code,
            "incomplete_burst"
        );
        let low = BurstInput {
            down_kbps: Some(5),
            up_kbps: Some(50),
            threshold_down_kbps: Some(20),
            threshold_up_kbps: Some(5),
            time_secs: Some(0),
        };
        let codes: Vec<_> = RateLimit::parse(10, 10, low)
            .unwrap_err()
            .0
            .iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(
            codes,
            [
                "out_of_range",
                "burst_not_above_rate",
                "threshold_above_rate"
            ]
        );
    }

    #[test]
    fn validity_adds_up_and_trial_is_reserved() {
        assert_eq!(parse_validity(30, 0, 0).unwrap(), 43_200);
        assert_eq!(parse_validity(0, 1, 30).unwrap(), 90);
        assert_eq!(
            parse_validity(0, 0, 0).unwrap_err().0[0].code,
            "validity_zero"
        );
        assert!(parse_validity(1, 24, 0).is_err());
        assert_eq!(parse_name("trial").unwrap_err().code, "reserved_name");
        assert_eq!(parse_name(" Home 10M ").unwrap(), "Home 10M");
        assert!(
            check_prices(
                Money::from_minor("p", 500).unwrap(),
                Money::from_minor("c", 400).unwrap()
            )
            .is_ok()
        );
        assert!(
            check_prices(
                Money::from_minor("p", 400).unwrap(),
                Money::from_minor("c", 500).unwrap()
            )
            .is_err()
        );
    }
}
