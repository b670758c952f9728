//! What messages say (`domain::sms::Event`): the tenant's own text of an event in a
//! language, or the event's default; the events a tenant sends no message for (any but
//! the sign-in code); the language a tenant writes to its customers in; a preview of any
//! text with its parts and encoding before it is saved; and the delivery of the notices
//! the money runs queue (`notification`: invoices, reminders, suspensions, expiries) into
//! the outbox, written in the tenant's language.
//!
//! Who sets texts, switches and the language: those who manage the tenant's gateways (its
//! settings).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor};
use domain::ids::TenantId;
use domain::sms::{Encoding, Event, Lang};
use store::tenant::Tenant;
use store::{AuditEntry, Author};

/// Notices one delivery pass turns into messages at most.
pub const DELIVERY_BATCH: u64 = 100;

/// A text as it will go out, shown before it is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    /// The text with each placeholder filled with an example.
    pub sample: String,
    /// GSM 7-bit, or UCS-2 (Bangla, most emoji).
    pub encoding: Encoding,
    /// Its length in that encoding's units.
    pub units: usize,
    /// The parts it is sent (and billed) in.
    pub parts: usize,
}

/// One event's text in one language, as the tenant sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateView {
    /// The event.
    pub event: Event,
    /// The language.
    pub lang: Lang,
    /// The text.
    pub text: String,
    /// The tenant's own (else the default).
    pub custom: bool,
    /// Whether the tenant sends messages for the event (switched off: none).
    pub on: bool,
    /// The placeholders it may use.
    pub placeholders: Vec<String>,
    /// How it goes out.
    pub preview: Preview,
}

/// `text` as a template of `event`: refused with `template` errors (a placeholder the
/// event does not have, an unclosed one, empty, more than six parts); else how it goes out,
/// with examples filled in.
pub fn preview(event: Event, text: &str) -> Result<Preview, OpError> {
    preview_of(event, text, Event::sample("network"))
}

/// [`preview`] for the tenant named `network`: its own name in the example, so the parts
/// counted are those its customers get.
fn preview_of(event: Event, text: &str, network: &str) -> Result<Preview, OpError> {
    domain::sms::check_template(text, event.placeholders())?;
    let values: Vec<(&str, &str)> = event
        .placeholders()
        .iter()
        .map(|n| {
            (
                *n,
                if *n == "network" {
                    network
                } else {
                    Event::sample(n)
                },
            )
        })
        .collect();
    let sample = domain::sms::render(text, &values);
    let segments = domain::sms::segments(&sample);
    Ok(Preview {
        sample,
        encoding: segments.encoding,
        units: segments.units,
        parts: segments.parts,
    })
}

/// The language `tenant` writes to its customers in.
pub fn language_of(tenant: &Tenant) -> Lang {
    Lang::parse(&tenant.sms_lang).unwrap_or_default()
}

/// What `tenant` says for `event` in `lang`, with `values` filled in, read in `w`.
pub async fn text_for(
    w: &store::Write,
    tenant: &Tenant,
    event: Event,
    lang: Lang,
    values: &[(&str, &str)],
) -> Result<String, OpError> {
    let own =
        store::sms_template::template(w.tx(), TenantId(tenant.id), event.as_str(), lang.as_str())
            .await?;
    let text = own.as_deref().unwrap_or(event.default_text(lang));
    let mut all: Vec<(&str, &str)> = vec![("network", tenant.name.as_str())];
    all.extend_from_slice(values);
    Ok(domain::sms::render(text, &all))
}

/// The tenant `actor` manages the messages of.
async fn managed(ctx: &Ctx<'_>, actor: &Actor, tenant: i64) -> Result<Tenant, OpError> {
    let tenant = crate::tenant::get(ctx, actor, TenantId(tenant)).await?;
    access::update_tenant(actor, &store::tenant::facts(&tenant))?;
    Ok(tenant)
}

/// Every event's text in every language, as tenant `tenant` sends it, and its language.
pub async fn templates(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: i64,
) -> Result<(Lang, Vec<TemplateView>), OpError> {
    let tenant = managed(ctx, actor, tenant).await?;
    let conn = ctx.db.conn();
    let own = store::sms_template::templates_of(conn, TenantId(tenant.id)).await?;
    let off = store::sms_template::events_off(conn, TenantId(tenant.id)).await?;
    let mut views = Vec::new();
    for event in Event::ALL {
        for lang in Lang::ALL {
            let mine = own
                .iter()
                .find(|t| t.event == event.as_str() && t.lang == lang.as_str());
            let text = mine.map_or(event.default_text(lang), |t| t.text.as_str());
            let mut shown = view(&tenant, (event, lang), text, mine.is_some());
            shown.on = !off.iter().any(|e| e == event.as_str());
            views.push(shown);
        }
    }
    Ok((language_of(&tenant), views))
}

/// A view of `text` as `tenant`'s of `event` in `lang`, switched on.
fn view(tenant: &Tenant, (event, lang): (Event, Lang), text: &str, custom: bool) -> TemplateView {
    let shown = preview_of(event, text, &tenant.name).unwrap_or_else(|_| {
        let segments = domain::sms::segments(text);
        Preview {
            sample: text.to_owned(),
            encoding: segments.encoding,
            units: segments.units,
            parts: segments.parts,
        }
    });
    TemplateView {
        event,
        lang,
        text: text.to_owned(),
        custom,
        on: true,
        placeholders: event
            .placeholders()
            .iter()
            .map(|p| (*p).to_owned())
            .collect(),
        preview: shown,
    }
}

/// Sets tenant `tenant`'s text of `event` in `lang` (`None`: back to the default), checked
/// as [`preview`] checks it; audited.
pub async fn set_template(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    tenant: i64,
    (event, lang): (Event, Lang),
    text: Option<&str>,
) -> Result<TemplateView, OpError> {
    let tenant = managed(ctx, actor, tenant).await?;
    let text = text.map(str::trim);
    if let Some(text) = text {
        preview_of(event, text, &tenant.name)?;
    }
    let mut w = ctx.db.write(author, ctx.now).await?;
    store::sms_template::set_template(
        &mut w,
        TenantId(tenant.id),
        event.as_str(),
        lang.as_str(),
        text,
    )
    .await?;
    let on = !store::sms_template::is_off(w.tx(), TenantId(tenant.id), event.as_str()).await?;
    w.commit().await?;
    let mut shown = view(
        &tenant,
        (event, lang),
        text.unwrap_or(event.default_text(lang)),
        text.is_some(),
    );
    shown.on = on;
    Ok(shown)
}

/// Switches tenant `tenant`'s messages for `event` on or off (switched off, its notices are
/// skipped); audited. The sign-in code cannot be switched off (`event_required`).
pub async fn set_event(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    tenant: i64,
    event: Event,
    on: bool,
) -> Result<(), OpError> {
    let tenant = managed(ctx, actor, tenant).await?;
    if !on && event.required() {
        return Err(OpError::field("event", "event_required"));
    }
    let mut w = ctx.db.write(author, ctx.now).await?;
    store::sms_template::set_event(&mut w, TenantId(tenant.id), event.as_str(), on).await?;
    w.commit().await?;
    Ok(())
}

/// Sets the language tenant `tenant` writes to its customers in; audited.
pub async fn set_language(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    tenant: i64,
    lang: Lang,
) -> Result<(), OpError> {
    let tenant = managed(ctx, actor, tenant).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    store::sms_template::set_language(&mut w, &tenant, lang.as_str()).await?;
    w.commit().await?;
    Ok(())
}

/// The message kind (`super::KINDS`) a notice of `event` is sent as.
fn kind_of(event: Event) -> &'static str {
    match event {
        Event::Otp => "otp",
        Event::Welcome => "welcome",
        Event::Recharge => "recharge",
        Event::Payment => "payment",
        Event::ExpiryReminder | Event::Expired => "expiry",
        Event::InvoiceIssued | Event::DueReminder => "due",
        Event::SuspendedUnpaid => "suspension",
    }
}

/// `minor` units of `currency` as a message writes them: `BDT 1050.00`.
fn amount_text(minor: i64, currency: &str) -> String {
    let digits =
        domain::locale::CurrencyCode::parse("currency", currency).map_or(2, |c| c.minor_digits());
    let scale = 10i64.pow(u32::from(digits));
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.saturating_abs();
    if digits == 0 {
        format!("{currency} {sign}{minor}")
    } else {
        format!(
            "{currency} {sign}{}.{:0width$}",
            minor / scale,
            minor % scale,
            width = usize::from(digits)
        )
    }
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    /// Notices the pass read (a full batch: there may be more).
    pub read: u64,
    /// Notices whose message is in the outbox.
    pub queued: u64,
    /// Notices with nobody to send to (no customer, no mobile, another tenant's), of an
    /// event the tenant switched off, or whose message the outbox refused (budget, limits,
    /// no gateway): not tried again.
    pub skipped: u64,
}

/// Turns up to [`DELIVERY_BATCH`] queued notices into messages in their tenant's language,
/// each notice and its message in one transaction (the message's reference is the
/// notice's, so a notice is written once, whatever races it).
pub async fn deliver_notifications(ctx: &Ctx<'_>) -> Result<Delivered, OpError> {
    let conn = ctx.db.conn();
    let mut done = Delivered::default();
    // Each tenant, when it lives, with the events it sends nothing for.
    let mut tenants: std::collections::HashMap<i64, Option<(Tenant, Vec<String>)>> =
        std::collections::HashMap::new();
    let notices = store::billing::queued_notifications(conn, DELIVERY_BATCH).await?;
    done.read = notices.len() as u64;
    for notice in notices {
        let known = match tenants.get(&notice.tenant_id) {
            Some(known) => known.clone(),
            None => {
                let id = TenantId(notice.tenant_id);
                let found = match store::tenant::find_any(conn, id)
                    .await?
                    .filter(|t| t.archived_at.is_none())
                {
                    Some(t) => Some((t, store::sms_template::events_off(conn, id).await?)),
                    None => None,
                };
                tenants.insert(notice.tenant_id, found.clone());
                found
            }
        };
        // A switched-off event's notice is skipped as one with nobody to send to.
        let tenant = known
            .filter(|(_, off)| !off.contains(&notice.kind))
            .map(|(t, _)| t);
        let customer = match (notice.customer_id, &tenant) {
            (Some(id), Some(t)) => {
                store::customer::find(conn, &access::system_customer_scope(TenantId(t.id)), id)
                    .await?
            }
            _ => None,
        };
        let event = Event::parse(&notice.kind);
        let mut w = ctx.db.write(Author::system(super::AUTHOR), ctx.now).await?;
        let status = match (tenant, customer, event) {
            (Some(tenant), Some(customer), Some(event)) if customer.mobile.is_some() => {
                let params: serde_json::Value =
                    serde_json::from_str(&notice.params).unwrap_or_default();
                let zone = crate::customer::zone(&tenant);
                let date = |key: &str| {
                    params[key]
                        .as_str()
                        .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                        .or(if key == "expires_at" {
                            customer.expires_at
                        } else {
                            None
                        })
                        .map(|at| at.with_timezone(&zone).date_naive().to_string())
                        .unwrap_or_default()
                };
                let amount = params["amount"]
                    .as_i64()
                    .map(|a| amount_text(a, &tenant.currency))
                    .unwrap_or_default();
                let (due, expires) = (date("due_at"), date("expires_at"));
                let package = params["package"].as_str().unwrap_or_default();
                let values = [
                    ("name", customer.name.as_str()),
                    ("amount", amount.as_str()),
                    ("due", due.as_str()),
                    ("expires", expires.as_str()),
                    ("package", package),
                ];
                let text = text_for(&w, &tenant, event, language_of(&tenant), &values).await?;
                let queued = super::queue_in(
                    &mut w,
                    Some(&tenant),
                    &super::SmsRequest {
                        to: customer.mobile.as_deref().unwrap_or_default(),
                        kind: kind_of(event),
                        text: &text,
                        reference: &format!("notification:{}", notice.id),
                        gateway_id: None,
                    },
                )
                .await;
                match queued {
                    Ok(_) => "sent",
                    // A tenant that sends no SMS: nothing to say about each notice.
                    Err(OpError::Invalid(errors))
                        if errors.0.iter().any(|e| e.code == "no_sms_gateway") =>
                    {
                        w.rollback().await?;
                        w = ctx.db.write(Author::system(super::AUTHOR), ctx.now).await?;
                        "skipped"
                    }
                    Err(OpError::Invalid(errors)) => {
                        // The outbox refused it (budget, limits, no gateway): said once, in
                        // the audit log, and not tried again.
                        w.rollback().await?;
                        w = ctx.db.write(Author::system(super::AUTHOR), ctx.now).await?;
                        w.audit(AuditEntry {
                            tenant_id: Some(TenantId(tenant.id)),
                            action: "sms.notification_refused",
                            entity: "customer",
                            entity_id: Some(customer.id),
                            before: None,
                            after: Some(serde_json::json!({
                                "notification": notice.id, "kind": notice.kind,
                                "errors": errors.0.iter().map(|e| e.code).collect::<Vec<_>>(),
                            })),
                        })
                        .await?;
                        "skipped"
                    }
                    Err(error) => return Err(error),
                }
            }
            _ => "skipped",
        };
        w.audit(AuditEntry {
            tenant_id: Some(TenantId(notice.tenant_id)),
            action: "sms.notification",
            entity: "customer",
            entity_id: notice.customer_id,
            before: None,
            after: Some(serde_json::json!({
                "notification": notice.id, "kind": notice.kind, "status": status,
            })),
        })
        .await?;
        if store::billing::finish_notification(&w, notice.id, status).await? {
            w.commit().await?;
            match status {
                "sent" => done.queued += 1,
                _ => done.skipped += 1,
            }
        } else {
            w.rollback().await?;
        }
    }
    Ok(done)
}
