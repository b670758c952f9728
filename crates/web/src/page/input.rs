//! Form fields the panel reads in people's terms and the operations take in the system's:
//! amounts in the tenant's currency (`500.50`) to minor units, speeds (`10M`, `512k`) to
//! kbit/s, volumes (`50GB`) to bytes, local dates and times in the tenant's zone to UTC. And
//! the way back, for showing stored values in the same terms. Each parser names the field it
//! reads, so a refusal lands beside the right input.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use domain::field::FieldError;
use domain::fup::{Fup, FupStepInput};
use domain::money::Money;

/// A record id from a select or hidden field; blank or not a number reads as none.
pub fn id(text: Option<&str>) -> Option<i64> {
    text.and_then(|t| t.trim().parse().ok())
}

/// A whole number typed into `field`; blank is `None`.
pub fn number(field: &str, text: &str) -> Result<Option<i64>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| FieldError::new(field, "invalid_number"))
}

/// `text`, a decimal number without sign (`1.5`, `.5`, `12`), times 10^`power`, if that is
/// a whole number that fits.
fn scaled(text: &str, power: u32) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let places = usize::try_from(power).ok()?;
    if (whole.is_empty() && fraction.is_empty())
        || !all_digits(whole)
        || !all_digits(fraction)
        || fraction.len() > places
        || whole.len() > 18
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let padded = format!("{fraction:0<places$}");
    let fraction: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().ok()?
    };
    whole
        .checked_mul(10i64.checked_pow(power)?)?
        .checked_add(fraction)
}

/// An amount typed in the currency's units (`500`, `500.5`, `500.50`) as minor units of a
/// currency with `digits` decimals; more decimals than the currency has are refused.
pub fn amount(field: &str, text: &str, digits: u16) -> Result<Money, FieldError> {
    let text = text.trim().replace([',', ' '], "");
    if text.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if text.starts_with('-') {
        return Err(FieldError::new(field, "negative"));
    }
    let minor = scaled(&text, u32::from(digits))
        .ok_or_else(|| FieldError::new(field, "invalid_amount").with("digits", digits))?;
    Money::from_minor(field, minor)
}

/// Minor units written in the currency's units, for a form field (`50050` → `500.50`).
pub fn amount_text(minor: i64, digits: u16) -> String {
    Money::from_minor("", minor)
        .map(|m| m.display(digits))
        .unwrap_or_else(|_| minor.to_string())
}

/// A speed: `10M`, `1.5M`, `512k`, `1G`, or a plain number of kbit/s (the domain checks
/// its range).
pub fn rate(field: &str, text: &str) -> Result<i64, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    let (number, power) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 0),
        Some((i, 'm' | 'M')) => (&text[..i], 3),
        Some((i, 'g' | 'G')) => (&text[..i], 6),
        _ => (text, 0),
    };
    scaled(number.trim(), power).ok_or_else(|| FieldError::new(field, "invalid_rate"))
}

/// A speed in kbit/s as the rate fields read it back (`10M`, `512k`).
pub fn rate_text(kbps: i64) -> String {
    if kbps != 0 && kbps % 1_000_000 == 0 {
        format!("{}G", kbps / 1_000_000)
    } else if kbps != 0 && kbps % 1_000 == 0 {
        format!("{}M", kbps / 1_000)
    } else {
        format!("{kbps}k")
    }
}

/// A volume: `500MB`, `50GB`, `1.5TB` (powers of ten, as ISPs sell them), or a plain number
/// of bytes; blank is no limit.
pub fn volume(field: &str, text: &str) -> Result<Option<i64>, FieldError> {
    let text = text.trim().to_ascii_uppercase().replace(' ', "");
    if text.is_empty() {
        return Ok(None);
    }
    let text = text.strip_suffix('B').unwrap_or(&text);
    let (number, power) = match text.char_indices().last() {
        Some((i, 'K')) => (&text[..i], 3),
        Some((i, 'M')) => (&text[..i], 6),
        Some((i, 'G')) => (&text[..i], 9),
        Some((i, 'T')) => (&text[..i], 12),
        _ => (text, 0),
    };
    scaled(number, power)
        .map(Some)
        .ok_or_else(|| FieldError::new(field, "invalid_volume"))
}

/// A volume in bytes in the largest whole unit (`50GB`, `1500MB`).
pub fn volume_text(bytes: Option<i64>) -> String {
    let Some(bytes) = bytes else {
        return String::new();
    };
    for (unit, size) in [
        ("TB", 1_000_000_000_000),
        ("GB", 1_000_000_000),
        ("MB", 1_000_000),
    ] {
        if bytes % size == 0 {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// FUP steps, one per line: the volume from which the step applies and its speed, download
/// then upload (`50GB 5M/2M`; one speed for both: `50GB 5M`); blank lines are skipped.
pub fn fup_steps(field: &str, text: &str) -> Result<Vec<FupStepInput>, FieldError> {
    let bad = |line: usize| FieldError::new(field, "invalid_fup").with("step", line);
    let mut steps = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let n = steps.len() + 1;
        if n > domain::fup::MOST_STEPS {
            return Err(
                FieldError::new(field, "too_many_steps").with("max", domain::fup::MOST_STEPS)
            );
        }
        let mut parts = line.split_whitespace();
        let (Some(volume_text), Some(rates), None) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(n));
        };
        let after = volume(field, volume_text)
            .ok()
            .flatten()
            .ok_or_else(|| bad(n))?;
        let (down, up) = rates.split_once('/').unwrap_or((rates, rates));
        let (Ok(down), Ok(up)) = (rate(field, down), rate(field, up)) else {
            return Err(bad(n));
        };
        steps.push(FupStepInput {
            after_bytes: after,
            download_kbps: down,
            upload_kbps: up,
        });
    }
    Ok(steps)
}

/// FUP steps as the field reads them back, one per line.
pub fn fup_text(fup: &Fup) -> String {
    fup.steps()
        .iter()
        .map(|s| {
            format!(
                "{} {}/{}",
                volume_text(Some(s.after_bytes)),
                rate_text(i64::from(s.download_kbps)),
                rate_text(i64::from(s.upload_kbps))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A validity in minutes as days, hours and minutes.
pub fn validity_parts(minutes: i64) -> (i64, i64, i64) {
    (minutes / 1440, minutes % 1440 / 60, minutes % 60)
}

/// A `datetime-local` value (`2026-05-01T18:30`) read in `zone`; blank is `None`.
pub fn local_time(field: &str, text: &str, zone: Tz) -> Result<Option<DateTime<Utc>>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || FieldError::new(field, "invalid_time");
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .map_err(|_| bad())?;
    // A time skipped by a daylight-saving change reads as the earliest that exists.
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(bad)
}

/// A time as a `datetime-local` value in `zone`.
pub fn local_time_value(at: Option<DateTime<Utc>>, zone: Tz) -> String {
    at.map(|t| t.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// A time as people read it in `zone` (`2026-05-01 18:30`).
pub fn local_time_text(at: Option<DateTime<Utc>>, zone: Tz) -> String {
    at.map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The start of the day `text` (`2026-05-01`) in `zone`, as UTC; `next` gives the start of
/// the following day (for an inclusive "up to" date).
pub fn day_start(text: &str, zone: Tz, next: bool) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    let day = if next { day.succ_opt()? } else { day };
    let start = zone
        .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .earliest()
        // A midnight skipped by a daylight-saving change: the day starts an hour later.
        .or_else(|| {
            zone.from_local_datetime(&(day.and_hms_opt(0, 0, 0)? + TimeDelta::hours(1)))
                .earliest()
        })?;
    Some(start.with_timezone(&Utc))
}

/// The time zone named by a stored tenant, UTC if the name no longer parses.
pub fn zone_of(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_in_the_currency_units_and_kept_whole() {
        assert_eq!(amount("price", "500", 2).unwrap().minor(), 50_000);
        assert_eq!(amount("price", "500.5", 2).unwrap().minor(), 50_050);
        assert_eq!(amount("price", "1,000.05", 2).unwrap().minor(), 100_005);
        assert_eq!(amount("price", ".5", 2).unwrap().minor(), 50);
        assert_eq!(amount("price", "300", 0).unwrap().minor(), 300);
        for (text, code) in [
            ("", "required"),
            ("-1", "negative"),
            ("1.234", "invalid_amount"),
            ("ten", "invalid_amount"),
            ("1.5", "invalid_amount"),
        ] {
            let digits = if text == "1.5" { 0 } else { 2 };
            assert_eq!(
                amount("price", text, digits).unwrap_err().code,
                code,
                "{text}"
            );
        }
        assert_eq!(amount_text(50_050, 2), "500.50");
    }

    #[test]
    fn speeds_and_volumes_take_their_units() {
        assert_eq!(rate("download", "10M").unwrap(), 10_000);
        assert_eq!(rate("download", "1.5m").unwrap(), 1_500);
        assert_eq!(rate("download", "512k").unwrap(), 512);
        assert_eq!(rate("download", "2048").unwrap(), 2048);
        assert_eq!(rate("download", "fast").unwrap_err().code, "invalid_rate");
        assert_eq!(rate_text(10_000), "10M");
        assert_eq!(rate_text(1_536), "1536k");
        assert_eq!(volume("volume", "50GB").unwrap(), Some(50_000_000_000));
        assert_eq!(volume("volume", "500 mb").unwrap(), Some(500_000_000));
        assert_eq!(volume("volume", "").unwrap(), None);
        assert_eq!(volume("volume", "lots").unwrap_err().code, "invalid_volume");
        assert_eq!(volume_text(Some(50_000_000_000)), "50GB");
        assert_eq!(validity_parts(30 * 1440 + 90), (30, 1, 30));
    }

    #[test]
    fn fup_steps_are_read_one_per_line_and_written_back_alike() {
        let steps = fup_steps("fup", "50GB 5M/2M\n\n 80GB 1M \n").unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!(
            (
                steps[0].after_bytes,
                steps[0].download_kbps,
                steps[0].upload_kbps
            ),
            (50_000_000_000, 5_000, 2_000)
        );
        assert_eq!(
            (steps[1].download_kbps, steps[1].upload_kbps),
            (1_000, 1_000)
        );
        let base = domain::package::RateLimit {
            down_kbps: 20_000,
            up_kbps: 10_000,
            burst: None,
        };
        let fup = Fup::parse(&steps, &base, None).unwrap();
        assert_eq!(fup_text(&fup), "50GB 5M/2M\n80GB 1M/1M");
        assert!(fup_steps("fup", "").unwrap().is_empty());
        for bad in ["50GB", "50GB fast", "lots 5M", "50GB 5M/2M extra"] {
            let error = fup_steps("fup", bad).unwrap_err();
            assert_eq!(
                (error.code, error.field.as_str()),
                ("invalid_fup", "fup"),
                "{bad}"
            );
        }
        let many = "1GB 1M\n".repeat(domain::fup::MOST_STEPS + 1);
        assert_eq!(fup_steps("fup", &many).unwrap_err().code, "too_many_steps");
    }

    #[test]
    fn local_times_are_read_and_written_in_the_tenant_zone() {
        let dhaka = zone_of("Asia/Dhaka");
        let at = local_time("expires_at", "2026-05-01T18:30", dhaka)
            .unwrap()
            .unwrap();
        assert_eq!(at.to_rfc3339(), "2026-05-01T12:30:00+00:00");
        assert_eq!(local_time_value(Some(at), dhaka), "2026-05-01T18:30");
        assert_eq!(local_time_text(Some(at), dhaka), "2026-05-01 18:30");
        assert_eq!(local_time("expires_at", " ", dhaka).unwrap(), None);
        assert!(local_time("expires_at", "tomorrow", dhaka).is_err());
        let start = day_start("2026-05-01", dhaka, false).unwrap();
        assert_eq!(start.to_rfc3339(), "2026-04-30T18:00:00+00:00");
        let end = day_start("2026-05-01", dhaka, true).unwrap();
        assert_eq!(end.to_rfc3339(), "2026-05-01T18:00:00+00:00");
    }
}
