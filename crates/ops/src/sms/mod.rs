//! The SMS outbox (hotspot-design.md §4.2), the database side: gateways (a tenant's, or the
//! platform's default that a tenant without an active one of its own inherits), the
//! messages other operations queue ([`queue`], [`queue_in`]: a number read into E.164, the
//! parts counted, the tenant's daily budget and the per-number limits applied, idempotent
//! on the caller's reference), the list and the day's counts, and what the sending job and
//! the delivery-report hook record. The provider calls are the `gateways` crate's, made by
//! the job (`sms.send`) outside any transaction; a gateway's settings are the driver's
//! configuration, checked against the drivers at the edge and sealed whole here.
//!
//! Who manages gateways: those who change the tenant's settings (its Admin, a Manager or
//! Staff granted `manage_tenant_settings`, the platform's roles over their tenants); the
//! platform's default: the Developer and Super Admins. Messages are read by those, and by
//! staff granted `send_sms`.

mod gateway;
pub mod template;

use gateway::managed_gateway;
pub use gateway::{
    GatewayInput, GatewayUpdate, GatewayView, create_gateway, gateway_for, gateway_settings,
    get_gateway, list_gateways, update_gateway,
};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, Permission, Role};
use domain::customer::Msisdn;
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use domain::locale::CountryCode;
use store::job::JobStatus;
use store::list::{Page, PageRequest};
use store::sms::{CountFilter, Message, MessageFilter, Outcome};
use store::tenant::Tenant;
use store::{AuditEntry, Author, NewJob, Write};

/// The sending job's kind.
pub const SEND_KIND: &str = "sms.send";

/// The kind of the job that writes queued notices as messages
/// ([`template::deliver_notifications`]).
pub const NOTICES_KIND: &str = "sms.notices";

/// The author of what the sender and the delivery reports change.
pub const AUTHOR: &str = "sms";

/// Kinds of messages.
pub const KINDS: [&str; 9] = [
    "otp",
    "welcome",
    "recharge",
    "payment",
    "expiry",
    "due",
    "suspension",
    "manual",
    "test",
];

/// Drivers a gateway may name (`generic` is read as `http_template`).
pub const DRIVERS: [&str; 6] = [
    "http_template",
    "bulksmsbd",
    "sslwireless",
    "twilio",
    "africastalking",
    "log",
];

/// Statuses of a message.
pub const STATUSES: [&str; 5] = ["queued", "sending", "sent", "delivered", "failed"];

/// Attempts at sending one message before it fails.
pub const MAX_ATTEMPTS: i32 = 5;

/// Messages one number may be sent in a tenant's day (SMS pumping).
pub const PER_NUMBER_DAILY: u64 = 10;

/// OTPs one number may be sent in a tenant's day.
pub const OTP_PER_NUMBER_DAILY: u64 = 5;

/// A new gateway's daily budget when none is given.
pub const DEFAULT_DAILY_BUDGET: i32 = 1000;

/// The largest daily budget.
pub(crate) const MAX_DAILY_BUDGET: i64 = 1_000_000;

/// The largest settings document.
pub(crate) const MAX_SETTINGS: usize = 8 * 1024;

/// The country numbers are read in when the tenant names none.
const DEFAULT_COUNTRY: &str = "BD";

/// A message to queue.
#[derive(Debug, Clone)]
pub struct SmsRequest<'a> {
    /// The number as written (`01712345678`, `+880 1712-345678`).
    pub to: &'a str,
    /// One of [`KINDS`].
    pub kind: &'a str,
    /// The text, exactly as it is to arrive.
    pub text: &'a str,
    /// The caller's idempotency key (`otp:<id>`): a second request with it gives back the
    /// first message and sends nothing.
    pub reference: &'a str,
    /// The gateway it must go through (a test); `None`: the tenant's when it is sent.
    pub gateway_id: Option<i64>,
}

/// What a tenant's day of SMS came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SentToday {
    /// Messages queued today.
    pub total: u64,
    /// Of which waiting or being sent.
    pub queued: u64,
    /// Taken by the provider, not yet reported.
    pub sent: u64,
    /// Reported delivered.
    pub delivered: u64,
    /// Failed.
    pub failed: u64,
    /// The day's budget of the gateway in use, if there is one.
    pub budget: Option<i32>,
}

/// The start and end of `tenant`'s day at `now` (UTC's for the platform).
fn day_of(tenant: Option<&Tenant>, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let zone = tenant.map_or(chrono_tz::UTC, crate::customer::zone);
    crate::customer::today(now, zone)
}

/// The checks that need no database: the number in E.164, the kind, the reference, the
/// text and its parts. Returns the number and the parts.
fn parse_request(
    tenant: Option<&Tenant>,
    request: &SmsRequest<'_>,
) -> Result<(Msisdn, domain::sms::Segments), FieldErrors> {
    let mut errors = FieldErrors::new();
    let country = tenant
        .and_then(|t| t.mobile_country.as_deref())
        .unwrap_or(DEFAULT_COUNTRY);
    let to = CountryCode::parse("to", country)
        .and_then(|c| Msisdn::parse(request.to, &c))
        .map_err(|e| FieldError {
            field: "to".to_owned(),
            ..e
        });
    let to = errors.take(to);
    if !KINDS.contains(&request.kind) {
        errors.push(FieldError::new("kind", "invalid_choice").with("allowed", KINDS.join(", ")));
    }
    let reference = request.reference;
    if reference.is_empty() {
        errors.push(FieldError::new("reference", "required"));
    } else if reference.chars().count() > 100 {
        errors.push(FieldError::new("reference", "too_long").with("max", 100));
    } else if reference.chars().any(char::is_control) {
        errors.push(FieldError::new("reference", "control_characters"));
    }
    let segments = domain::sms::segments(request.text);
    if request.text.trim().is_empty() {
        errors.push(FieldError::new("text", "required"));
    } else if request
        .text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        errors.push(FieldError::new("text", "control_characters"));
    } else if segments.parts > domain::sms::MAX_PARTS {
        errors.push(
            FieldError::new("text", "too_many_parts")
                .with("max", domain::sms::MAX_PARTS)
                .with("parts", segments.parts),
        );
    }
    match to {
        Some(to) if errors.is_empty() => Ok((to, segments)),
        _ => Err(errors),
    }
}

/// Queues a message of `tenant` (`None`: the platform's own) in `w`, the caller's
/// transaction, so that it is sent only if the caller's change commits; the sending job is
/// queued with it. A reference already used gives back its message, checks nothing more
/// and queues nothing. Refused (field errors): a number that is no mobile of the tenant's
/// country, a text past [`domain::sms::MAX_PARTS`] parts, no gateway to send through
/// (`no_sms_gateway`), the tenant's daily budget spent (`sms_budget_exhausted`), or the
/// number's day full (`number_daily_limit`, `otp_daily_limit`). The flag says whether the
/// message is new (else `w` holds nothing of this call).
pub async fn queue_in(
    w: &mut Write,
    tenant: Option<&Tenant>,
    request: &SmsRequest<'_>,
) -> Result<(Message, bool), OpError> {
    let (to, segments) = parse_request(tenant, request)?;
    let tenant_id = tenant.map(|t| t.id);
    let reference = match tenant_id {
        Some(t) => format!("t{t}:{}", request.reference),
        None => format!("platform:{}", request.reference),
    };
    if let Some(existing) = store::sms::by_reference(w.tx(), &reference).await? {
        return Ok((existing, false));
    }
    let gateway = match request.gateway_id {
        Some(id) => store::sms::gateway(w.tx(), id).await?,
        None => store::sms::effective_gateway(w.tx(), tenant_id).await?,
    };
    let Some(gateway) = gateway else {
        return Err(OpError::field("gateway", "no_sms_gateway"));
    };
    let (start, end) = day_of(tenant, w.now());
    if tenant_id.is_some() {
        let today =
            store::sms::count_between(w.tx(), tenant_id, start, end, &CountFilter::default())
                .await?;
        if today >= u64::try_from(gateway.daily_budget).unwrap_or(0) {
            return Err(FieldError::new("daily_budget", "sms_budget_exhausted")
                .with("max", gateway.daily_budget)
                .into());
        }
    }
    let to_number = CountFilter {
        to: Some(to.as_str()),
        kind: None,
    };
    if store::sms::count_between(w.tx(), tenant_id, start, end, &to_number).await?
        >= PER_NUMBER_DAILY
    {
        return Err(FieldError::new("to", "number_daily_limit")
            .with("max", PER_NUMBER_DAILY)
            .into());
    }
    if request.kind == "otp" {
        let otps = CountFilter {
            to: Some(to.as_str()),
            kind: Some("otp"),
        };
        if store::sms::count_between(w.tx(), tenant_id, start, end, &otps).await?
            >= OTP_PER_NUMBER_DAILY
        {
            return Err(FieldError::new("to", "otp_daily_limit")
                .with("max", OTP_PER_NUMBER_DAILY)
                .into());
        }
    }
    let parts = i32::try_from(segments.parts).unwrap_or(i32::MAX);
    let encoding = match segments.encoding {
        domain::sms::Encoding::Gsm7 => "gsm7",
        domain::sms::Encoding::Ucs2 => "ucs2",
    };
    let (message, created) = store::sms::enqueue(
        w,
        &store::sms::NewMessage {
            tenant: tenant_id.map(TenantId),
            gateway_id: request.gateway_id,
            to: to.as_str(),
            text: request.text,
            kind: request.kind,
            reference: &reference,
            parts,
            encoding,
        },
    )
    .await?;
    if created {
        wake_sender(w).await?;
    }
    Ok((message, created))
}

/// Queues the sending job in `w` (see [`wake`]).
pub(crate) async fn wake_sender(w: &mut Write) -> Result<(), OpError> {
    wake(w, SEND_KIND).await
}

/// Queues the job that writes notices as messages in `w` (see [`wake`]): a change that
/// leaves a notice someone waits for (a welcome) has it written at once, not at the next
/// scheduled run.
pub(crate) async fn wake_notices(w: &mut Write) -> Result<(), OpError> {
    wake(w, NOTICES_KIND).await
}

/// Queues the `kind` job in `w` unless one is queued already: a running one may have read
/// its last batch before this change commits, so its key is let go and a new one queued.
async fn wake(w: &mut Write, kind: &'static str) -> Result<(), OpError> {
    if let Some(job) = store::job::by_dedupe_key(w.tx(), kind).await? {
        if job.status == JobStatus::Queued {
            return Ok(());
        }
        store::job::release_dedupe_key(w.tx(), kind).await?;
    }
    let now = w.now();
    w.enqueue(NewJob {
        kind,
        payload: serde_json::json!({}),
        run_at: now,
        dedupe_key: Some(kind.to_owned()),
        max_attempts: 3,
        tenant_id: None,
        created_by: None,
    })
    .await?;
    Ok(())
}

/// [`queue_in`] in a transaction of its own, by `author`, for tenant `tenant`.
pub async fn queue(
    ctx: &Ctx<'_>,
    author: Author,
    tenant: Option<TenantId>,
    request: &SmsRequest<'_>,
) -> Result<Message, OpError> {
    let tenant = match tenant {
        Some(t) => Some(
            store::tenant::find_any(ctx.db.conn(), t)
                .await?
                .ok_or(OpError::NotFound)?,
        ),
        None => None,
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let (message, created) = queue_in(&mut w, tenant.as_ref(), request).await?;
    if created {
        w.commit().await?;
    } else {
        // An earlier request's message: nothing was written.
        w.rollback().await?;
    }
    Ok(message)
}

/// Queues a `test` message through gateway `id` to `to`, for those who manage it.
pub async fn send_test(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    to: &str,
    text: Option<&str>,
) -> Result<Message, OpError> {
    let gateway = managed_gateway(ctx, actor, id).await?;
    let reference = format!(
        "test:{}:{}",
        gateway.id,
        store::crypto::random_text(b"0123456789abcdefghijklmnopqrstuvwxyz", 16)
    );
    let request = SmsRequest {
        to,
        kind: "test",
        text: text.unwrap_or("lastmile: a test message from your SMS gateway."),
        reference: &reference,
        gateway_id: Some(gateway.id),
    };
    queue(ctx, author, gateway.tenant_id.map(TenantId), &request).await
}

/// The tenants whose messages `actor` reads (`None`: every one's, the platform's too).
async fn message_tenants(ctx: &Ctx<'_>, actor: &Actor) -> Result<Option<Vec<i64>>, OpError> {
    match (actor.role, actor.tenant_id) {
        (Role::Developer, _) => Ok(None),
        (Role::SuperAdmin, _) => Ok(Some(
            store::sms::tenant_ids(ctx.db.conn(), &access::tenant_scope(actor)).await?,
        )),
        (Role::Admin, Some(t)) => Ok(Some(vec![t.0])),
        (Role::Manager | Role::Staff, Some(t))
            if actor.can(Permission::ManageTenantSettings) || actor.can(Permission::SendSms) =>
        {
            Ok(Some(vec![t.0]))
        }
        _ => Err(OpError::Forbidden),
    }
}

/// A page of the messages `actor` reads, newest first.
pub async fn messages(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &MessageFilter,
    page: &PageRequest,
) -> Result<Page<Message>, OpError> {
    let mut errors = FieldErrors::new();
    if filter
        .status
        .as_deref()
        .is_some_and(|s| !STATUSES.contains(&s))
    {
        errors.push(FieldError::new("status", "unknown_status"));
    }
    if filter.kind.as_deref().is_some_and(|k| !KINDS.contains(&k)) {
        errors.push(FieldError::new("kind", "invalid_choice").with("allowed", KINDS.join(", ")));
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let tenants = message_tenants(ctx, actor).await?;
    Ok(store::sms::list(ctx.db.conn(), tenants.as_deref(), filter, page).await?)
}

/// What `tenant`'s messages came to today (its local day), for the dashboard.
pub async fn sent_today(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
) -> Result<SentToday, OpError> {
    let found = crate::tenant::get(ctx, actor, tenant).await?;
    match message_tenants(ctx, actor).await? {
        Some(t) if !t.contains(&found.id) => return Err(OpError::NotFound),
        _ => {}
    }
    let (start, end) = day_of(Some(&found), ctx.now);
    let conn = ctx.db.conn();
    let mut out = SentToday {
        budget: store::sms::effective_gateway(conn, Some(found.id))
            .await?
            .map(|g| g.daily_budget),
        ..SentToday::default()
    };
    for (status, n) in store::sms::status_counts(conn, found.id, start, end).await? {
        let n = u64::try_from(n).unwrap_or(0);
        out.total += n;
        match status.as_str() {
            "queued" | "sending" => out.queued += n,
            "sent" => out.sent += n,
            "delivered" => out.delivered += n,
            _ => out.failed += n,
        }
    }
    Ok(out)
}

/// How long a claimed message is held before another sender may take it over.
pub const LEASE: TimeDelta = TimeDelta::minutes(2);

/// Claims up to `limit` due messages for the sender (audited when there are any).
pub async fn claim(ctx: &Ctx<'_>, limit: u64) -> Result<Vec<Message>, OpError> {
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let claimed = store::sms::claim(&w, ctx.now + LEASE, limit).await?;
    if claimed.is_empty() {
        w.rollback().await?;
        return Ok(claimed);
    }
    let ids: Vec<i64> = claimed.iter().map(|m| m.id).collect();
    w.audit(AuditEntry {
        tenant_id: None,
        action: "sms.claim",
        entity: "sms_message",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({ "ids": ids })),
    })
    .await?;
    w.commit().await?;
    Ok(claimed)
}

/// When a message that failed its `attempts`-th try for a reason that may pass is tried
/// again: 10 s, doubling, at most an hour; `None` once [`MAX_ATTEMPTS`] are spent.
pub fn retry_at(now: DateTime<Utc>, attempts: i32) -> Option<DateTime<Utc>> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let exponent = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    Some(now + TimeDelta::seconds((10_i64 << exponent).min(3600)))
}

/// Records what sending the claimed messages came to, in one transaction with one audit
/// entry naming them by outcome.
pub async fn record(ctx: &Ctx<'_>, outcomes: &[(i64, Outcome)]) -> Result<(), OpError> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let gateways: Vec<i64> = outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Sent { gateway_id, .. } => Some(*gateway_id),
            _ => None,
        })
        .collect();
    store::sms::lock_gateways(&w, &gateways).await?;
    let (mut sent, mut retry, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for (id, outcome) in outcomes {
        if !store::sms::record(&w, *id, outcome).await? {
            continue;
        }
        match outcome {
            Outcome::Sent { .. } => sent.push(*id),
            Outcome::Retry { .. } => retry.push(*id),
            Outcome::Failed { .. } => failed.push(*id),
        }
    }
    w.audit(AuditEntry {
        tenant_id: None,
        action: "sms.send",
        entity: "sms_message",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({ "sent": sent, "retry": retry, "failed": failed })),
    })
    .await?;
    w.commit().await?;
    Ok(())
}

/// Applies a delivery report for gateway `gateway_id`'s message `provider_id`. `None` when
/// it changed nothing (an unknown message, a repeated or late report); a report that comes
/// while its message is still being sent is held and applied when the sender records it.
pub async fn delivery_report(
    ctx: &Ctx<'_>,
    gateway_id: i64,
    provider_id: &str,
    delivered: bool,
    error: Option<&str>,
) -> Result<Option<Message>, OpError> {
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    store::sms::lock_gateways(&w, &[gateway_id]).await?;
    if let Some(message) =
        store::sms::apply_report(&mut w, gateway_id, provider_id, delivered, error).await?
    {
        w.commit().await?;
        return Ok(Some(message));
    }
    if store::sms::hold_report(&mut w, gateway_id, provider_id, delivered, error).await? {
        w.commit().await?;
    } else {
        w.rollback().await?;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_and_stop_after_the_last_attempt() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(retry_at(now, 1), Some(now + TimeDelta::seconds(10)));
        assert_eq!(retry_at(now, 3), Some(now + TimeDelta::seconds(40)));
        assert_eq!(retry_at(now, MAX_ATTEMPTS), None);
    }
}
