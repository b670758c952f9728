//! Redemption and its guessing limits (see the card module's documentation for the
//! transaction): a PIN read as typed, its typo told apart by the check digit, the card
//! found by the PIN's keyed hash, then applied to the customer.
//!
//! **Guessing** is limited per subject (who tries): failures in the last
//! [`FAILURE_WINDOW`] past [`SUBJECT_FAILURES`] (a customer or a device) or
//! [`STAFF_FAILURES`] (a staff user) refuse further attempts until the oldest leaves the
//! window; a typo the check digit catches is counted apart ([`TYPOS`]) and costs no card
//! lookup. Every attempt is recorded with a keyed hash of the input. A tenant past
//! [`TENANT_ALARM`] failures in an hour gets an audit entry (`card.guessing`). A card that
//! is unknown, used, suspended, void, expired or out of the customer's reach answers the
//! same `invalid_card`; only a card this customer already redeemed says so.

use chrono::{DateTime, TimeDelta, Utc};

use crate::Ctx;
use crate::billing::{RechargeInput, RechargeOutcome, Written};
use crate::error::OpError;
use domain::access::{self, Actor, PermissionSet, Role, customer_scope};
use domain::billing::Collector;
use domain::card::{Pin, State};
use domain::field::{FieldError, FieldErrors};
use domain::ids::{TenantId, UserId};
use store::card::{Card, NewAttempt};
use store::customer::Customer;
use store::{AuditEntry, Author};

/// How far back failed attempts count.
pub const FAILURE_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failures a customer or a device may make in the window.
pub const SUBJECT_FAILURES: u64 = 5;
/// Failures a staff user may make in the window.
pub const STAFF_FAILURES: u64 = 20;
/// Typos (inputs the check digit refuses) a subject may make in the window.
pub const TYPOS: u64 = 20;
/// Failures in an hour in one tenant that raise the alarm.
pub const TENANT_ALARM: u64 = 200;

/// What a redemption did.
#[derive(Debug, Clone)]
pub struct Redeemed {
    /// The card's serial.
    pub serial: String,
    /// The recharge it made.
    pub recharge: RechargeOutcome,
}

/// Redeems the card whose PIN is `pin` for customer `customer_id`, as `actor` (who must
/// be one who may recharge the customer); see the module documentation.
pub async fn redeem(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    customer_id: i64,
    pin: &str,
) -> Result<Redeemed, OpError> {
    let customer = crate::customer::get(ctx, actor, customer_id).await?;
    // Who may recharge the customer may redeem a card for it (the card's holder pays).
    access::recharge_customers_of(actor, store::customer::owner(&customer))?;
    let subject = format!("user:{}", actor.user_id.0);
    let scope = customer_scope(actor);
    redeem_for(
        ctx,
        author,
        &customer,
        pin,
        (&subject, STAFF_FAILURES),
        &scope,
    )
    .await
}

/// Redeems `pin` for `customer`, tried by `subject` (who may fail `limit` times in the
/// window); `scope` is whom the customer's change is written as seen by.
pub(crate) async fn redeem_for(
    ctx: &Ctx<'_>,
    author: Author,
    customer: &Customer,
    pin: &str,
    (subject, limit): (&str, u64),
    scope: &domain::access::CustomerScope,
) -> Result<Redeemed, OpError> {
    let tenant = TenantId(customer.tenant_id);
    let conn = ctx.db.conn();
    let since = ctx.now - FAILURE_WINDOW;
    let limited = |oldest: Option<DateTime<Utc>>| {
        let wait = oldest.map_or(FAILURE_WINDOW, |at| at + FAILURE_WINDOW - ctx.now);
        OpError::TooMany(u64::try_from(wait.num_seconds().max(1)).unwrap_or(1))
    };
    let (failures, oldest) =
        store::card::attempts_since(conn, tenant, Some(subject), &["unknown", "refused"], since)
            .await?;
    if failures >= limit {
        return Err(limited(oldest));
    }
    let key = store::card::key_of(conn, ctx.db.keyring(), tenant).await?;
    let attempt = |outcome, input_hash: String, card_id| async move {
        store::card::record_attempt(
            conn,
            &NewAttempt {
                tenant,
                subject,
                outcome,
                input_hash: &input_hash,
                card_id,
                customer_id: Some(customer.id),
            },
            ctx.now,
        )
        .await
    };
    let pin = match Pin::parse(pin) {
        Ok(pin) => pin,
        Err(_) => {
            let (typos, oldest) =
                store::card::attempts_since(conn, tenant, Some(subject), &["typo"], since).await?;
            if typos >= TYPOS {
                return Err(limited(oldest));
            }
            let normal: String = pin.chars().filter(char::is_ascii_digit).collect();
            let hash = key
                .as_ref()
                .map(|k| store::card::lookup(k, &normal))
                .unwrap_or_default();
            attempt("typo", hash, None).await?;
            return Err(OpError::field("pin", "invalid_pin"));
        }
    };
    let invalid = || OpError::field("pin", "invalid_card");
    let Some(key) = key else {
        attempt("unknown", String::new(), None).await?;
        failed(ctx, tenant).await?;
        return Err(invalid());
    };
    let hash = store::card::lookup(&key, pin.as_str());
    let Some(card) = store::card::by_lookup(conn, tenant, &hash).await? else {
        attempt("unknown", hash, None).await?;
        failed(ctx, tenant).await?;
        return Err(invalid());
    };
    apply(ctx, author, customer, card, subject, scope).await
}

/// Redeems `card` (found by its PIN, or a distributor's own by its serial) for `customer`,
/// tried by `subject`; see the module documentation. A card that cannot be redeemed is
/// recorded as a refused attempt and answered `invalid_card`.
pub(crate) async fn apply(
    ctx: &Ctx<'_>,
    author: Author,
    customer: &Customer,
    card: Card,
    subject: &str,
    scope: &domain::access::CustomerScope,
) -> Result<Redeemed, OpError> {
    let tenant = TenantId(customer.tenant_id);
    let conn = ctx.db.conn();
    let hash = card.lookup.clone();
    let invalid = || OpError::field("pin", "invalid_card");
    let attempt = |outcome, card_id| {
        let hash = hash.clone();
        async move {
            store::card::record_attempt(
                conn,
                &NewAttempt {
                    tenant,
                    subject,
                    outcome,
                    input_hash: &hash,
                    card_id,
                    customer_id: Some(customer.id),
                },
                ctx.now,
            )
            .await
        }
    };
    if card.state.get() == State::Redeemed && card.redeemed_by == Some(customer.id) {
        attempt("used", Some(card.id)).await?;
        let at = card.redeemed_at.map(|t| t.to_rfc3339()).unwrap_or_default();
        return Err(OpError::Invalid(FieldErrors::one(
            FieldError::new("pin", "already_redeemed").with("at", at),
        )));
    }
    let batch = store::card::batch(conn, None, card.batch_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let expired = card.valid_until.is_some_and(|at| at <= ctx.now);
    // A voucher is a walk-up account of its own, made at the portal: it recharges nobody.
    let recharges = batch.kind.get() == domain::card::Kind::Recharge;
    let usable = if card.state.get().redeemable() && !expired && recharges {
        collector_for(ctx, &card, &batch, customer).await?
    } else {
        None
    };
    let Some((collector, collector_user)) = usable else {
        attempt("refused", Some(card.id)).await?;
        failed(ctx, tenant).await?;
        return Err(invalid());
    };
    let tenant_row = store::tenant::find_any(conn, tenant)
        .await?
        .ok_or(OpError::NotFound)?;
    let input = RechargeInput {
        package_id: Some(package_for(ctx, batch.package_id, customer).await?),
        ..RechargeInput::default()
    };
    let plan =
        crate::billing::plan_for(ctx, customer.clone(), &tenant_row, collector, &input).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let Some(recharge) = settle(
        ctx,
        &mut w,
        (&card, &batch, &tenant_row),
        customer,
        &plan,
        collector_user,
        subject,
        scope,
    )
    .await?
    else {
        w.rollback().await?;
        attempt("refused", Some(card.id)).await?;
        return Err(invalid());
    };
    w.commit().await?;
    Ok(Redeemed {
        serial: card.serial,
        recharge,
    })
}

/// In `w`: claims `card` (of `batch`, in tenant `tenant_row`) for `customer`, settles its
/// distributor, and writes the recharge `plan` under the card's journal key, its audit
/// entry and the attempt by `subject`. `None` when the card was
/// taken meanwhile or the key was used (the caller rolls back).
#[allow(clippy::too_many_arguments)] // the redemption's parts, each used once
async fn settle(
    ctx: &Ctx<'_>,
    w: &mut store::Write,
    (card, batch, tenant_row): (&Card, &store::card::Batch, &store::tenant::Tenant),
    customer: &Customer,
    plan: &crate::billing::Plan,
    collector_user: Option<i64>,
    subject: &str,
    scope: &domain::access::CustomerScope,
) -> Result<Option<RechargeOutcome>, OpError> {
    let tenant = TenantId(customer.tenant_id);
    if !store::card::claim(w, card, customer.id).await? {
        return Ok(None);
    }
    // The distributor holding it pays its parent now, unless it paid ahead; then the
    // parent's balance pays the chain.
    super::account::settle_redeemed(w, tenant_row, card, batch).await?;
    let key = format!("card:{}:redeem", card.id);
    let recharge = match crate::billing::write(ctx, w, plan, key, collector_user, scope).await? {
        Written::New(outcome) => outcome,
        Written::Replay(_) => return Ok(None),
    };
    store::card::set_journal(w, card.id, recharge.journal_id).await?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "card.redeem",
        entity: "card",
        entity_id: Some(card.id),
        before: Some(
            serde_json::json!({ "state": card.state.code(), "holder_id": card.holder_id }),
        ),
        after: Some(serde_json::json!({
            "state": State::Redeemed.as_str(), "customer_id": customer.id,
            "journal_id": recharge.journal_id, "amount": recharge.amount,
            "expires_at": recharge.expires_at,
        })),
    })
    .await?;
    store::card::record_attempt(
        w.tx(),
        &NewAttempt {
            tenant,
            subject,
            outcome: "redeemed",
            input_hash: &card.lookup,
            card_id: Some(card.id),
            customer_id: Some(customer.id),
        },
        ctx.now,
    )
    .await?;
    Ok(Some(recharge))
}

/// Opens access voucher `card` (of `batch`, found by its code, redeemable, not expired):
/// in one transaction, the walk-up account `new` is made and the card redeemed for it, the
/// voucher's package paid by the card's holder as a recharge card is. `None` when the card
/// cannot open here (taken meanwhile, or its holder does not reach the account's owner):
/// nothing is kept.
pub(crate) async fn open_voucher(
    ctx: &Ctx<'_>,
    author: Author,
    (card, batch): (&Card, &store::card::Batch),
    new: &domain::customer::NewCustomer,
    subject: &str,
) -> Result<Option<Customer>, OpError> {
    let tenant = TenantId(card.tenant_id);
    let tenant_row = store::tenant::find_any(ctx.db.conn(), tenant)
        .await?
        .ok_or(OpError::NotFound)?;
    let scope = access::system_customer_scope(tenant);
    let mut w = ctx.db.write(author, ctx.now).await?;
    let customer = store::customer::create(&mut w, new).await?;
    let Some((collector, collector_user)) = collector_for(ctx, card, batch, &customer).await?
    else {
        w.rollback().await?;
        return Ok(None);
    };
    let input = RechargeInput {
        package_id: Some(batch.package_id),
        ..RechargeInput::default()
    };
    let plan =
        crate::billing::plan_for(ctx, customer.clone(), &tenant_row, collector, &input).await?;
    match settle(
        ctx,
        &mut w,
        (card, batch, &tenant_row),
        &customer,
        &plan,
        collector_user,
        subject,
        &scope,
    )
    .await?
    {
        Some(_) => {
            w.commit().await?;
            Ok(Some(customer))
        }
        None => {
            w.rollback().await?;
            Ok(None)
        }
    }
}

/// Raises the tenant's alarm when its failures in the last hour reach [`TENANT_ALARM`]
/// (recharge cards' and access vouchers' alike).
pub(crate) async fn failed(ctx: &Ctx<'_>, tenant: TenantId) -> Result<(), OpError> {
    let (count, _) = store::card::attempts_since(
        ctx.db.conn(),
        tenant,
        None,
        &["unknown", "refused"],
        ctx.now - TimeDelta::hours(1),
    )
    .await?;
    if count == TENANT_ALARM {
        let mut w = ctx.db.write(Author::system("cards"), ctx.now).await?;
        w.audit(AuditEntry {
            tenant_id: Some(tenant),
            action: "card.guessing",
            entity: "tenant",
            entity_id: Some(tenant.0),
            before: None,
            after: Some(serde_json::json!({ "failures_in_an_hour": count })),
        })
        .await?;
        w.commit().await?;
    }
    Ok(())
}

/// Who pays for `card` redeemed for `customer`, and the user who collected: its holder as
/// if it recharged the customer (a distributor's operator for a distributor); for the
/// tenant's stock, its batch's (`batch`) maker in cash. `None` when the holder may not
/// recharge the customer (the card is out of the customer's reach).
async fn collector_for(
    ctx: &Ctx<'_>,
    card: &Card,
    batch: &store::card::Batch,
    customer: &Customer,
) -> Result<Option<(Collector, Option<i64>)>, OpError> {
    let owner = store::customer::owner(customer);
    let Some(holder) = card.holder_id else {
        let maker = batch.created_by.unwrap_or(0);
        return Ok(Some((Collector::Cash(UserId(maker)), Some(maker))));
    };
    let Some(user) = store::user::find_self(ctx.db.conn(), UserId(holder)).await? else {
        return Ok(None);
    };
    let (id, role) = match Role::from_level(user.role) {
        Some(Role::CardDistributor) => match user.parent_id {
            Some(parent) => (parent, Role::Operator),
            None => return Ok(None),
        },
        Some(role) => (user.id, role),
        None => return Ok(None),
    };
    let as_holder = Actor::new(
        UserId(id),
        role,
        Some(TenantId(customer.tenant_id)),
        PermissionSet::EMPTY,
    );
    Ok(access::recharge_customers_of(&as_holder, owner)
        .ok()
        .map(|collector| (collector, Some(id))))
}

/// The package a card of `package` gives `customer`: its own when it is that package or
/// a reseller's package made from it, else the card's.
async fn package_for(ctx: &Ctx<'_>, package: i64, customer: &Customer) -> Result<i64, OpError> {
    if customer.package_id == package {
        return Ok(package);
    }
    let own = store::package::find_any(ctx.db.conn(), customer.package_id).await?;
    Ok(match own {
        Some(p) if p.master_id == Some(package) => p.id,
        _ => package,
    })
}
