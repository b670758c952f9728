//! Online payments, the database side (billing-design.md §4.1). The provider calls (the
//! checkout, the server-to-server confirmation) are the `gateways` crate's, made by the web
//! edge and the jobs between these steps, never inside a transaction:
//!
//! 1. [`begin`]: staff who may take a customer's money ask for a payment through one of the
//!    tenant's merchant accounts: the intent records our own reference and the amount our
//!    math sets (what the postpaid customer owes, or one validity of the prepaid customer's
//!    package), never an amount from the browser; [`checkout_created`] then records the
//!    provider's checkout (or [`checkout_failed`] closes the intent).
//! 2. [`receive`]: a notice whose signature the edge verified goes to the inbox, once per
//!    merchant account and event (a duplicate delivery inserts nothing), with the job that
//!    settles it, in one transaction. Nothing is credited on a notice.
//! 3. [`settle`]: what the provider's own API confirmed, checked against the intent (our
//!    reference, the amount, the currency), moves the intent from `pending` by a conditional
//!    `UPDATE` (a second delivery finds it settled and stops) and, when paid, in the same
//!    transaction: the payment, its journal keyed by the provider's transaction (a payment
//!    is never credited twice, whatever path brings it), the invoices paid or the recharge
//!    bought, the receipt. A confirmed amount that differs from the intent is not credited:
//!    the intent fails with `amount_mismatch` and the audit log says so.
//!
//! Reconciliation ([`pending`]) hands the jobs the intents still pending after a while, to
//! ask the provider; an intent past its expiry that is not paid is closed as expired.

use chrono::{DateTime, TimeDelta, Utc};
use zeroize::Zeroizing;

use crate::Ctx;
use crate::error::OpError;
use crate::payment::{Applied, Taking};
use domain::access::{self, Actor, system_customer_scope};
use domain::billing::Collector;
use domain::customer::BillingType;
use domain::ids::TenantId;
use store::gateway::{GatewayAccount, Intent, NewAccount, NewEvent, NewIntent};
use store::{AuditEntry, Author};

/// The author of what settling changes.
pub const AUTHOR: &str = "gateway";

/// How long an intent waits to be paid.
pub const INTENT_LIFETIME: TimeDelta = TimeDelta::hours(1);

/// The providers lastmile speaks.
pub const PROVIDERS: [&str; 4] = ["stripe", "generic", "bkash", "sslcommerz"];

/// A merchant account to add.
#[derive(Clone)]
pub struct AccountInput {
    /// The tenant (a tenant's own staff leave it out).
    pub tenant_id: Option<i64>,
    /// `stripe` or `generic`.
    pub provider: String,
    /// What staff call it.
    pub name: String,
    /// The provider's API base (`https://`, or `http://` on a loopback address).
    pub base_url: String,
    /// The API key.
    pub secret_key: Zeroizing<String>,
    /// The webhook signing secret (bKash: the password; unused by SSLCommerz, whose
    /// notices are checked with the store password, `secret_key`).
    pub webhook_secret: Zeroizing<String>,
    /// The public half of the credentials: bKash's app key, SSLCommerz's store id (empty
    /// for the others).
    pub key_id: String,
    /// bKash's user name (empty for the others).
    pub username: String,
}

impl std::fmt::Debug for AccountInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountInput")
            .field("tenant_id", &self.tenant_id)
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// A merchant account's settings with its secrets opened, for a provider call.
#[derive(Clone)]
pub struct Credentials {
    /// The merchant account.
    pub account_id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// `stripe` or `generic`.
    pub provider: String,
    /// The provider's API base.
    pub base_url: String,
    /// The API key.
    pub secret_key: Zeroizing<String>,
    /// The webhook signing secret.
    pub webhook_secret: Zeroizing<String>,
    /// The public half of the credentials (bKash's app key, SSLCommerz's store id).
    pub key_id: String,
    /// bKash's user name.
    pub username: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("account_id", &self.account_id)
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Checks `input` field by field.
fn check(input: &AccountInput) -> Result<(), OpError> {
    use domain::field::{FieldError, FieldErrors};
    let mut errors = FieldErrors::new();
    if !PROVIDERS.contains(&input.provider.as_str()) {
        errors.push(FieldError::new("provider", "invalid_choice"));
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        errors.push(FieldError::new("name", "too_long").with("max", 64));
    }
    let url = input.base_url.as_str();
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
        .iter()
        .any(|p| url.starts_with(p));
    if url.len() > 200
        || !(url.starts_with("https://") || loopback)
        || url.contains(char::is_whitespace)
    {
        errors.push(FieldError::new("base_url", "invalid_url"));
    }
    for (field, secret) in [
        ("secret_key", &input.secret_key),
        ("webhook_secret", &input.webhook_secret),
    ] {
        if !(8..=256).contains(&secret.len()) {
            errors.push(
                FieldError::new(field, "length")
                    .with("min", 8)
                    .with("max", 256),
            );
        }
    }
    // bKash names the merchant by app key and user name, SSLCommerz by store id: both
    // required there, and nothing else may carry them.
    let needs = match input.provider.as_str() {
        "bkash" => (true, true),
        "sslcommerz" => (true, false),
        _ => (false, false),
    };
    for (field, value, needed) in [
        ("key_id", input.key_id.trim(), needs.0),
        ("username", input.username.trim(), needs.1),
    ] {
        if needed && value.is_empty() {
            errors.push(FieldError::new(field, "required"));
        } else if !needed && !value.is_empty() {
            errors.push(FieldError::new(field, "not_allowed"));
        } else if value.chars().count() > 128 || value.chars().any(char::is_control) {
            errors.push(FieldError::new(field, "too_long").with("max", 128));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.into())
    }
}

/// Adds a merchant account to a tenant, for those who change its settings.
pub async fn add_account(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: &AccountInput,
) -> Result<GatewayAccount, OpError> {
    check(input)?;
    let tenant_id = input
        .tenant_id
        .or(actor.tenant_id.map(|t| t.0))
        .ok_or_else(|| OpError::field("tenant_id", "required"))?;
    let tenant = crate::tenant::get(ctx, actor, TenantId(tenant_id)).await?;
    access::update_tenant(actor, &store::tenant::facts(&tenant))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let account = store::gateway::create_account(
        &mut w,
        &NewAccount {
            tenant: TenantId(tenant.id),
            provider: &input.provider,
            name: input.name.trim(),
            base_url: input.base_url.trim_end_matches('/'),
            secret_key: &input.secret_key,
            webhook_secret: &input.webhook_secret,
            key_id: input.key_id.trim(),
            username: input.username.trim(),
        },
    )
    .await?;
    w.commit().await?;
    Ok(account)
}

/// The merchant accounts of the tenants the caller may configure.
pub async fn accounts(ctx: &Ctx<'_>, actor: &Actor) -> Result<Vec<GatewayAccount>, OpError> {
    let tenants = crate::ledger::book_tenants(actor)?;
    if !crate::ledger::reads_books(actor) {
        return Err(OpError::Forbidden);
    }
    Ok(store::gateway::accounts(ctx.db.conn(), tenants.as_deref()).await?)
}

/// Merchant account `id`'s settings, secrets opened: for the edge and the jobs that call the
/// provider or check its signatures, never for a caller's eyes.
pub async fn credentials(ctx: &Ctx<'_>, id: i64) -> Result<Credentials, OpError> {
    let account = store::gateway::account(ctx.db.conn(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    let (secret_key, webhook_secret) = store::gateway::secrets(ctx.db.keyring(), &account)?;
    Ok(Credentials {
        account_id: account.id,
        tenant_id: account.tenant_id,
        provider: account.provider,
        base_url: account.base_url,
        secret_key,
        webhook_secret,
        key_id: account.key_id,
        username: account.username,
    })
}

/// What a payment through a merchant account asks for.
#[derive(Debug, Clone, Copy)]
pub struct IntentInput {
    /// Who pays.
    pub customer_id: i64,
    /// Through which merchant account.
    pub gateway_account_id: i64,
}

/// Records a pending intent for `input` (see the module documentation): what the customer
/// owes (postpaid) or one validity of its package (prepaid). Returns it with the merchant
/// account's credentials for the checkout.
pub async fn begin(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: IntentInput,
) -> Result<(Intent, Credentials), OpError> {
    let customer = crate::customer::get(ctx, actor, input.customer_id).await?;
    access::recharge_customers_of(actor, store::customer::owner(&customer))?;
    open(
        ctx,
        author,
        &customer,
        input.gateway_account_id,
        Some(actor.user_id.0),
    )
    .await
}

/// The merchant account a phone at the captive portal pays `tenant` through: its first
/// active one, if it has any.
pub async fn portal_account(
    ctx: &Ctx<'_>,
    tenant: TenantId,
) -> Result<Option<GatewayAccount>, OpError> {
    Ok(store::gateway::accounts(ctx.db.conn(), Some(&[tenant.0]))
        .await?
        .into_iter()
        .find(|a| a.status == "active"))
}

/// Records a pending intent of `customer` (already found and allowed) through merchant
/// account `account_id`, asked for by user `created_by` (none: the customer itself, at the
/// captive portal); see [`begin`].
pub(crate) async fn open(
    ctx: &Ctx<'_>,
    author: Author,
    customer: &store::customer::Customer,
    account_id: i64,
    created_by: Option<i64>,
) -> Result<(Intent, Credentials), OpError> {
    let input = IntentInput {
        customer_id: customer.id,
        gateway_account_id: account_id,
    };
    let credentials = credentials(ctx, input.gateway_account_id).await?;
    let account = store::gateway::account(ctx.db.conn(), input.gateway_account_id)
        .await?
        .ok_or(OpError::NotFound)?;
    if account.tenant_id != customer.tenant_id {
        return Err(OpError::field("gateway_account_id", "not_found"));
    }
    if account.status != "active" {
        return Err(OpError::field("gateway_account_id", "disabled"));
    }
    let tenant = store::tenant::find_any(ctx.db.conn(), TenantId(customer.tenant_id))
        .await?
        .ok_or(OpError::NotFound)?;
    let (purpose, package_id, amount) = match customer.billing_type.get() {
        BillingType::Postpaid => {
            let due: i64 = store::invoice::open_of(ctx.db.conn(), customer.id)
                .await?
                .iter()
                .map(store::invoice::due)
                .sum();
            ("invoices", None, due)
        }
        _ => {
            let package_id = customer.package_id;
            let plan = crate::billing::plan_for(
                ctx,
                customer.clone(),
                &tenant,
                Collector::Gateway(account.id),
                &crate::billing::RechargeInput::default(),
            )
            .await?;
            ("recharge", Some(package_id), plan.amount())
        }
    };
    if amount <= 0 {
        return Err(OpError::field("customer_id", "nothing_due"));
    }
    let merchant_ref = format!(
        "lm{}",
        store::crypto::random_text(b"0123456789abcdefghijklmnopqrstuvwxyz", 24)
    );
    let mut w = ctx.db.write(author, ctx.now).await?;
    let intent = store::gateway::create_intent(
        &mut w,
        &NewIntent {
            tenant: TenantId(tenant.id),
            customer_id: customer.id,
            gateway_account_id: account.id,
            merchant_ref: &merchant_ref,
            purpose,
            package_id,
            amount,
            currency: &tenant.currency,
            created_by,
            expires_at: ctx.now + INTENT_LIFETIME,
        },
    )
    .await?;
    w.commit().await?;
    Ok((intent, credentials))
}

/// Records the provider's checkout of intent `id`.
pub async fn checkout_created(
    ctx: &Ctx<'_>,
    id: i64,
    provider_payment_id: &str,
    redirect_url: &str,
) -> Result<Intent, OpError> {
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    store::gateway::set_checkout(&w, id, provider_payment_id, redirect_url).await?;
    let intent = store::gateway::intent(w.tx(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(intent.tenant_id)),
        action: "payment_intent.checkout",
        entity: "customer",
        entity_id: Some(intent.customer_id),
        before: None,
        after: Some(serde_json::json!({
            "intent_id": id, "provider_payment_id": provider_payment_id,
        })),
    })
    .await?;
    w.commit().await?;
    Ok(intent)
}

/// Closes intent `id`: the provider refused its checkout (`reason`, never a secret).
pub async fn checkout_failed(ctx: &Ctx<'_>, id: i64, reason: &str) -> Result<(), OpError> {
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let intent = store::gateway::intent(w.tx(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    store::gateway::settle(&w, id, "failed", "checkout_failed", None).await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(intent.tenant_id)),
        action: "payment_intent.fail",
        entity: "customer",
        entity_id: Some(intent.customer_id),
        before: None,
        after: Some(serde_json::json!({ "intent_id": id, "reason": reason })),
    })
    .await?;
    w.commit().await?;
    Ok(())
}

/// A verified notice from a provider: only identifiers (amounts in a notice are never
/// trusted).
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    /// The provider's event id.
    pub event_id: &'a str,
    /// The payment it is about.
    pub provider_payment_id: &'a str,
    /// Its type.
    pub kind: &'a str,
    /// The body as received.
    pub raw_body: &'a str,
}

/// The job kind that settles a received notice.
pub const EVENT_JOB: &str = "gateway.event";

/// Keeps a verified notice of merchant account `account` and queues the job that settles
/// it, in one transaction; `None` for a duplicate delivery (nothing written).
pub async fn receive(
    ctx: &Ctx<'_>,
    account: &Credentials,
    notice: &Notice<'_>,
) -> Result<Option<i64>, OpError> {
    if notice.event_id.len() > 255 || notice.provider_payment_id.len() > 255 {
        return Err(OpError::field("event", "too_long"));
    }
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let tenant = TenantId(account.tenant_id);
    let kind: String = notice.kind.chars().take(64).collect();
    let Some(id) = store::gateway::receive(
        &w,
        &NewEvent {
            tenant,
            gateway_account_id: account.account_id,
            provider_event_id: notice.event_id,
            kind: &kind,
            provider_payment_id: notice.provider_payment_id,
            raw_body: notice.raw_body,
        },
    )
    .await?
    else {
        w.rollback().await?;
        return Ok(None);
    };
    w.enqueue(store::NewJob {
        kind: EVENT_JOB,
        payload: serde_json::json!({ "event_id": id }),
        run_at: ctx.now,
        dedupe_key: Some(format!("gwevt:{id}")),
        max_attempts: 8,
        tenant_id: Some(tenant),
        created_by: None,
    })
    .await?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "gateway.notice",
        entity: "gateway_account",
        entity_id: Some(account.account_id),
        before: None,
        after: Some(serde_json::json!({
            "event": id, "provider_event_id": notice.event_id, "kind": kind,
            "provider_payment_id": notice.provider_payment_id,
        })),
    })
    .await?;
    w.commit().await?;
    Ok(Some(id))
}

/// What the provider's API says of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    /// Paid, still pending, or failed.
    pub status: ConfirmedStatus,
    /// The amount paid, minor units.
    pub amount: i64,
    /// Its currency.
    pub currency: String,
    /// Our reference, as the provider holds it.
    pub merchant_ref: String,
    /// The provider's transaction id.
    pub txn_id: String,
}

/// A payment's status at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmedStatus {
    /// Paid.
    Succeeded,
    /// Not yet.
    Pending,
    /// Declined, cancelled or expired.
    Failed,
}

/// What settling an intent did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Paid now: the payment.
    Paid(i64),
    /// Settled before (another delivery, or reconciliation, got there first).
    Already,
    /// Not paid yet.
    Pending,
    /// Closed unpaid (declined, or expired).
    Closed,
    /// Refused: what the provider confirmed does not match the intent.
    Mismatch,
}

/// Settles intent `id` with what the provider confirmed (see the module documentation).
pub async fn settle(ctx: &Ctx<'_>, id: i64, confirmed: &Confirmed) -> Result<Settled, OpError> {
    let conn = ctx.db.conn();
    let intent = store::gateway::intent(conn, id)
        .await?
        .ok_or(OpError::NotFound)?;
    // An intent that expired here may still have been paid at the provider (its page
    // stayed open): the money was taken, so it is credited, late.
    let late = intent.status == "expired" && confirmed.status == ConfirmedStatus::Succeeded;
    if intent.status != "pending" && !late {
        return Ok(Settled::Already);
    }
    match confirmed.status {
        ConfirmedStatus::Pending if intent.expires_at > ctx.now => return Ok(Settled::Pending),
        ConfirmedStatus::Pending => return close(ctx, &intent, "expired", "expired").await,
        ConfirmedStatus::Failed => return close(ctx, &intent, "failed", "declined").await,
        ConfirmedStatus::Succeeded => {}
    }
    let matches = confirmed.merchant_ref == intent.merchant_ref
        && confirmed.amount == intent.amount
        && confirmed.currency.eq_ignore_ascii_case(&intent.currency);
    if !matches || confirmed.txn_id.is_empty() || confirmed.txn_id.len() > 255 {
        let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
        let from = intent.status.as_str();
        if !store::gateway::settle_from(&w, id, from, "failed", "amount_mismatch", None).await? {
            w.rollback().await?;
            return Ok(Settled::Already);
        }
        w.audit(AuditEntry {
            tenant_id: Some(TenantId(intent.tenant_id)),
            action: "payment_intent.mismatch",
            entity: "customer",
            entity_id: Some(intent.customer_id),
            before: Some(serde_json::json!({
                "intent_id": id, "merchant_ref": intent.merchant_ref,
                "amount": intent.amount, "currency": intent.currency,
            })),
            after: Some(serde_json::json!({
                "merchant_ref": confirmed.merchant_ref, "amount": confirmed.amount,
                "currency": confirmed.currency, "txn_id": confirmed.txn_id,
            })),
        })
        .await?;
        w.commit().await?;
        return Ok(Settled::Mismatch);
    }
    pay(ctx, &intent, &confirmed.txn_id).await
}

/// Closes `intent` unpaid as `status` with `outcome`.
async fn close(
    ctx: &Ctx<'_>,
    intent: &Intent,
    status: &str,
    outcome: &str,
) -> Result<Settled, OpError> {
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    if !store::gateway::settle(&w, intent.id, status, outcome, None).await? {
        w.rollback().await?;
        return Ok(Settled::Already);
    }
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(intent.tenant_id)),
        action: "payment_intent.close",
        entity: "customer",
        entity_id: Some(intent.customer_id),
        before: None,
        after: Some(
            serde_json::json!({ "intent_id": intent.id, "status": status, "outcome": outcome }),
        ),
    })
    .await?;
    w.commit().await?;
    Ok(Settled::Closed)
}

/// Credits paid `intent` (transaction `txn_id` at the provider) in one transaction.
async fn pay(ctx: &Ctx<'_>, intent: &Intent, txn_id: &str) -> Result<Settled, OpError> {
    let conn = ctx.db.conn();
    let tenant_id = TenantId(intent.tenant_id);
    let scope = system_customer_scope(tenant_id);
    let customer = store::customer::find(conn, &scope, intent.customer_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let tenant = store::tenant::find_any(conn, tenant_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let account = intent.gateway_account_id;
    let collector = Collector::Gateway(account);
    let journal_key = format!("pay:{account}:{txn_id}");
    // A recharge bought with it, when it still costs what was paid; otherwise the money
    // pays the open invoices, and what is left stays on the customer's account.
    let recharge = match intent.purpose.as_str() {
        "recharge" => {
            let input = crate::billing::RechargeInput {
                package_id: intent.package_id,
                ..crate::billing::RechargeInput::default()
            };
            crate::billing::plan_for(ctx, customer.clone(), &tenant, collector, &input)
                .await
                .ok()
                .filter(|plan| plan.amount() == intent.amount)
        }
        _ => None,
    };
    let open = if recharge.is_none() {
        store::invoice::open_of(conn, customer.id).await?
    } else {
        Vec::new()
    };
    let outcome = match (&recharge, intent.purpose.as_str()) {
        (Some(_), _) => "recharged",
        (None, "recharge") => "on_account",
        (None, _) => "paid",
    };
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let from = intent.status.as_str();
    if !store::gateway::settle_from(&w, intent.id, from, "succeeded", outcome, None).await? {
        w.rollback().await?;
        return Ok(Settled::Already);
    }
    let payment_id = match recharge {
        Some(plan) => {
            let written =
                crate::billing::write(ctx, &mut w, &plan, journal_key, None, &scope).await?;
            let crate::billing::Written::New(done) = written else {
                w.rollback().await?;
                return Ok(Settled::Already);
            };
            let journal_id = done
                .journal_id
                .ok_or(OpError::Internal("no journal".into()))?;
            store::payment::insert(
                &w,
                &store::payment::NewPayment {
                    tenant: tenant_id,
                    customer_id: customer.id,
                    method: "online",
                    amount: intent.amount,
                    currency: &intent.currency,
                    collector_id: None,
                    journal_id,
                    receipt_id: done.receipt_id,
                    online: Some((account, txn_id, intent.id)),
                },
            )
            .await?
            .id
        }
        None => {
            let taking = Taking {
                tenant: &tenant,
                customer: &customer,
                collector,
                collector_user: None,
                amount: intent.amount,
                open: &open,
                journal_key,
                request_hash: format!("pay|{}", intent.id),
                online: Some((account, txn_id, intent.id)),
                scope,
            };
            match crate::payment::apply(ctx, &mut w, &taking).await? {
                Applied::New(done) => done.payment_id,
                Applied::Replay(_) => {
                    w.rollback().await?;
                    return Ok(Settled::Already);
                }
            }
        }
    };
    store::gateway::attach_payment(&w, intent.id, payment_id).await?;
    w.commit().await?;
    Ok(Settled::Paid(payment_id))
}

/// Up to `limit` intents still pending that were made before `before`, oldest first.
pub async fn pending(
    ctx: &Ctx<'_>,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Intent>, OpError> {
    Ok(store::gateway::pending(ctx.db.conn(), before, limit).await?)
}

/// Closes intent `id` as expired when it never reached the provider (no checkout) and its
/// time is up.
pub async fn expire_unsent(ctx: &Ctx<'_>, intent: &Intent) -> Result<Settled, OpError> {
    if intent.provider_payment_id.is_some() || intent.expires_at > ctx.now {
        return Ok(Settled::Pending);
    }
    close(ctx, intent, "expired", "expired").await
}

/// Intent `id`, if the caller sees its customer.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Intent, OpError> {
    let intent = store::gateway::intent(ctx.db.conn(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    crate::customer::get(ctx, actor, intent.customer_id).await?;
    Ok(intent)
}

/// The intent with our reference `merchant_ref` (the customer's return page: the reference
/// is the capability).
pub async fn by_ref(ctx: &Ctx<'_>, merchant_ref: &str) -> Result<Intent, OpError> {
    if merchant_ref.len() > 40 {
        return Err(OpError::NotFound);
    }
    store::gateway::intent_by_ref(ctx.db.conn(), merchant_ref)
        .await?
        .ok_or(OpError::NotFound)
}

/// The intent of merchant account `account` the provider calls `provider_payment_id`: an
/// unsigned notice (a provider that sends the customer's browser back instead of signing)
/// is kept only when it names one of ours.
pub async fn by_provider(
    ctx: &Ctx<'_>,
    account: i64,
    provider_payment_id: &str,
) -> Result<Intent, OpError> {
    if provider_payment_id.is_empty() || provider_payment_id.len() > 255 {
        return Err(OpError::NotFound);
    }
    store::gateway::intent_by_provider(ctx.db.conn(), account, provider_payment_id)
        .await?
        .ok_or(OpError::NotFound)
}

/// Event `id` of the inbox, with the intent it concerns (if the provider's payment id is
/// one of ours).
pub async fn event(
    ctx: &Ctx<'_>,
    id: i64,
) -> Result<(store::gateway::Event, Option<Intent>), OpError> {
    let event = store::gateway::event(ctx.db.conn(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    let intent = store::gateway::intent_by_provider(
        ctx.db.conn(),
        event.gateway_account_id,
        &event.provider_payment_id,
    )
    .await?;
    Ok((event, intent))
}

/// Marks event `id` processed with `outcome`.
pub async fn processed(ctx: &Ctx<'_>, id: i64, outcome: &str) -> Result<(), OpError> {
    Ok(store::gateway::processed(ctx.db.conn(), id, ctx.now, outcome).await?)
}
