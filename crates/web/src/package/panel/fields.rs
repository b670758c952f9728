//! The package forms' fields read in people's terms: speeds with units, volumes, validity
//! in days, hours and minutes, prices in the tenant's currency; and whether a
//! master's form asks for a service other than the one it sells.

use crate::page::form::FormData;
use crate::page::input;
use domain::field::{FieldError, FieldErrors};
use domain::fup::Fup;
use domain::money::Money;
use domain::package::{self as rules, BurstInput, ConnectionType, RateLimit};
use store::package::{Package, ServiceRow};

fn optional_rate(form: &FormData, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    form.opt(field)
        .and_then(|t| errors.take(input::rate(field, t)))
}

fn whole(form: &FormData, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    errors
        .take(input::number(field, form.text(field)))
        .flatten()
}

/// The service a master form describes, with every refused field recorded.
pub(super) fn service(form: &FormData, errors: &mut FieldErrors) -> Option<ServiceRow> {
    let connection_type = errors.take(
        ConnectionType::parse(form.text("connection_type"))
            .ok_or_else(|| FieldError::new("connection_type", "unknown_connection_type")),
    );
    let down = errors.take(input::rate("download_kbps", form.text("download_kbps")));
    let up = errors.take(input::rate("upload_kbps", form.text("upload_kbps")));
    let burst = BurstInput {
        down_kbps: optional_rate(form, "burst_download_kbps", errors),
        up_kbps: optional_rate(form, "burst_upload_kbps", errors),
        threshold_down_kbps: optional_rate(form, "burst_threshold_download_kbps", errors),
        threshold_up_kbps: optional_rate(form, "burst_threshold_upload_kbps", errors),
        time_secs: whole(form, "burst_time_secs", errors),
    };
    let rate = match (down, up) {
        (Some(down), Some(up)) => RateLimit::parse(down, up, burst)
            .map_err(|e| errors.0.extend(e.0))
            .ok(),
        _ => None,
    };
    let days = whole(form, "validity_days", errors).unwrap_or(0);
    let hours = whole(form, "validity_hours", errors).unwrap_or(0);
    let minutes = whole(form, "validity_minutes", errors).unwrap_or(0);
    let validity = rules::parse_validity(days, hours, minutes)
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    let volume = errors
        .take(input::volume("volume_bytes", form.text("volume_bytes")))
        .and_then(|v| errors.take(rules::parse_volume(v)));
    let steps = errors.take(input::fup_steps("fup", form.text("fup")));
    let fup = match (&rate, &volume, steps) {
        (Some(rate), Some(volume), Some(steps)) => Fup::parse(&steps, rate, *volume)
            .map_err(|e| errors.0.extend(e.0))
            .ok(),
        _ => None,
    };
    Some(ServiceRow {
        connection_type: connection_type?,
        rate: rate?,
        volume_bytes: volume?,
        fup: fup?,
        validity_minutes: validity?,
        ip_pool_id: input::id(form.opt("ip_pool_id")),
    })
}

/// An amount field in the currency of a tenant with `digits` decimals.
pub(super) fn money(
    form: &FormData,
    field: &str,
    digits: u16,
    errors: &mut FieldErrors,
) -> Option<Money> {
    errors.take(input::amount(field, form.text(field), digits))
}

/// True when `service` is what `package` already sells (then it is not sent: a service
/// change rewrites the RADIUS rows of every customer of the master and its derived packages).
pub(super) fn same_service(package: &Package, service: &ServiceRow) -> bool {
    store::package::rate(package).is_ok_and(|r| r == service.rate)
        && package.connection_type == service.connection_type
        && package.volume_bytes == service.volume_bytes
        && store::package::fup(package).is_ok_and(|f| f == service.fup)
        && package.validity_minutes == service.validity_minutes
        && package.ip_pool_id == service.ip_pool_id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_master_form_reads_speeds_volumes_and_validity_in_their_units() {
        let mut errors = FieldErrors::new();
        let read = service(
            &form(&[
                ("connection_type", "pppoe"),
                ("download_kbps", "20M"),
                ("upload_kbps", "5M"),
                ("volume_bytes", "100GB"),
                ("fup", "60GB 4M/2M"),
                ("validity_days", "30"),
                ("validity_hours", "0"),
                ("validity_minutes", ""),
            ]),
            &mut errors,
        )
        .unwrap();
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(read.rate.mikrotik(), "5M/20M");
        assert_eq!(read.volume_bytes, Some(100_000_000_000));
        assert_eq!(read.fup.steps()[0].after_bytes, 60_000_000_000);
        assert_eq!(read.validity_minutes, 30 * 1440);

        let mut errors = FieldErrors::new();
        let refused = service(
            &form(&[
                ("connection_type", "fibre"),
                ("download_kbps", "fast"),
                ("upload_kbps", "5M"),
                ("burst_download_kbps", "30M"),
                ("fup", "60GB"),
            ]),
            &mut errors,
        );
        assert!(refused.is_none());
        let codes: Vec<_> = errors
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect();
        assert!(
            codes.contains(&("connection_type", "unknown_connection_type")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("download_kbps", "invalid_rate")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("validity_days", "validity_zero")),
            "{codes:?}"
        );
        assert!(codes.contains(&("fup", "invalid_fup")), "{codes:?}");
    }
}
