//! What a card holder does with its own stock (hotspot-design §3.4, the distributor API):
//! a card distributor above all, and a reseller holding cards the same way.
//!
//! - [`me`]: who it is, its operator, its cards by package and state;
//! - [`reveal`]: an e-PIN sale, the PIN of one of its assigned cards given once and the
//!   card marked sold (its batch must keep its PINs); audited;
//! - [`sell`]: an e-top-up, one of its own cards redeemed for a customer of its operator
//!   found by id or by mobile (written nationally or in E.164) through the redemption's
//!   own path;
//! - [`mobiles`]: the mobiles of the customers it sells to, E.164 and as dialled at home,
//!   changed since an instant, by id (the reference's mobile list).
//!
//! A distributor sells for the reseller it hangs under: that reseller's customers are
//! whom it reaches (never a sibling's), and a card it sells is paid as that reseller's
//! recharge.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::redeem::{Redeemed, apply};
use crate::Ctx;
use crate::error::OpError;
use domain::access::{Actor, PermissionSet, Role, customer_scope, holds_cards};
use domain::card::State;
use domain::customer::Msisdn;
use domain::ids::{TenantId, UserId};
use store::card::{Card, CardFilter, Move};
use store::customer::Customer;
use store::{AuditEntry, Author};

/// The most mobiles one page gives.
pub const MOBILES_PAGE: u64 = 1_000;

/// Cards of one package in one state.
#[derive(Debug, Clone, Serialize)]
pub struct Stock {
    /// The package.
    pub package_id: i64,
    /// Its name.
    pub package: String,
    /// The state.
    pub state: String,
    /// How many.
    pub cards: i64,
}

/// A holder as its API shows it.
#[derive(Debug, Clone)]
pub struct DistributorView {
    /// The holder.
    pub user_id: i64,
    /// Its name.
    pub name: String,
    /// `card_distributor`, `operator` or `sub_operator`.
    pub role: String,
    /// The reseller it sells for (itself for a reseller).
    pub seller_id: i64,
    /// Its cards.
    pub stock: Vec<Stock>,
    /// Its account: what it holds or owes for its cards, and its terms.
    pub account: crate::ledger::Balance,
}

/// What a sale is.
#[derive(Debug, Clone, Default)]
pub struct SaleInput {
    /// The customer, by id.
    pub customer_id: Option<i64>,
    /// Or by mobile.
    pub mobile: Option<String>,
    /// The card sold, from the holder's stock.
    pub serial: String,
}

/// A sale made.
#[derive(Debug, Clone)]
pub struct Sale {
    /// The customer.
    pub customer_id: i64,
    /// Its name, masked (`Ra*** Ud***`).
    pub customer: String,
    /// The redemption.
    pub redeemed: Redeemed,
}

/// The holder `actor` is, in its tenant, and the reseller it sells for as an actor.
async fn holder(ctx: &Ctx<'_>, actor: &Actor) -> Result<(TenantId, Actor), OpError> {
    let tenant = actor.tenant_id.ok_or(OpError::Forbidden)?;
    if !holds_cards(actor.role) {
        return Err(OpError::Forbidden);
    }
    let seller = if actor.role == Role::CardDistributor {
        let me = store::user::find_self(ctx.db.conn(), actor.user_id)
            .await?
            .ok_or(OpError::NotFound)?;
        let parent = match me.parent_id {
            Some(p) => store::user::find_self(ctx.db.conn(), UserId(p)).await?,
            None => None,
        };
        let Some(parent) = parent else {
            return Err(OpError::Forbidden);
        };
        let role = Role::from_level(parent.role)
            .filter(|r| r.is_reseller())
            .ok_or(OpError::Forbidden)?;
        Actor::new(UserId(parent.id), role, Some(tenant), PermissionSet::EMPTY)
    } else {
        actor.clone()
    };
    Ok((tenant, seller))
}

/// Who `actor` is as a card holder, and its stock.
pub async fn me(ctx: &Ctx<'_>, actor: &Actor) -> Result<DistributorView, OpError> {
    let (tenant, seller) = holder(ctx, actor).await?;
    let user = store::user::find_self(ctx.db.conn(), actor.user_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let mut stock = Vec::new();
    for (package_id, state, cards) in
        store::card::stock_of(ctx.db.conn(), tenant, actor.user_id.0).await?
    {
        let package = store::package::find_any(ctx.db.conn(), package_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        stock.push(Stock {
            package_id,
            package,
            state,
            cards,
        });
    }
    let account = crate::ledger::balance(ctx, actor, actor.user_id).await?;
    Ok(DistributorView {
        user_id: user.id,
        name: user.name,
        role: actor.role.as_str().to_owned(),
        seller_id: seller.user_id.0,
        stock,
        account,
    })
}

/// One of `actor`'s own cards by serial.
async fn own_card(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
    serial: &str,
) -> Result<Card, OpError> {
    let serial = serial.trim().to_ascii_uppercase();
    store::card::by_serial(ctx.db.conn(), tenant, &serial)
        .await?
        .filter(|c| c.holder_id == Some(actor.user_id.0))
        .ok_or(OpError::NotFound)
}

/// Sells card `serial` of `actor`'s stock as an e-PIN: gives its PIN (a voucher's code)
/// once and marks it sold. Its batch must keep its PINs; a card sold already is refused (`already_sold`).
pub async fn reveal(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    serial: &str,
) -> Result<(Card, String), OpError> {
    let (tenant, _) = holder(ctx, actor).await?;
    let card = own_card(ctx, actor, tenant, serial).await?;
    match card.state.get() {
        State::Assigned => {}
        State::Sold => return Err(OpError::field("serial", "already_sold")),
        _ => return Err(OpError::field("pin", "invalid_card")),
    }
    let Some(sealed) = &card.sealed else {
        return Err(OpError::field("batch", "pins_not_kept"));
    };
    let plain = ctx
        .db
        .keyring()
        .open(store::card::PIN_CONTEXT, sealed)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    // A recharge card's PIN, or an access voucher's code: read as its batch's kind.
    let kind = store::card::batch(ctx.db.conn(), None, card.batch_id)
        .await?
        .map(|b| b.kind.get())
        .ok_or(OpError::NotFound)?;
    let secret = super::Secret::read(kind, &String::from_utf8_lossy(&plain)).ok_or_else(|| {
        OpError::Internal(format!("card {}: its kept secret does not read", card.id))
    })?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let filter = CardFilter {
        tenants: Some(vec![tenant.0]),
        holders: Some(vec![actor.user_id.0]),
        serials: Some(vec![card.serial.clone()]),
        states: Some(vec![State::Assigned]),
        ..CardFilter::default()
    };
    let sold = store::card::move_cards(&w, &filter, Move::Sell).await?;
    if sold.len() != 1 {
        // Sold by another request since it was read.
        w.rollback().await?;
        return Err(OpError::field("serial", "already_sold"));
    }
    let tenant_row = store::tenant::find_any(w.tx(), tenant)
        .await?
        .ok_or(OpError::NotFound)?;
    super::account::settle_moved(&mut w, &tenant_row, &sold).await?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "card.reveal",
        entity: "card",
        entity_id: Some(card.id),
        before: Some(serde_json::json!({ "state": card.state.code() })),
        after: Some(serde_json::json!({ "state": State::Sold.as_str() })),
    })
    .await?;
    w.commit().await?;
    Ok((card, secret.printed()))
}

/// Sells card `input.serial` of `actor`'s stock to a customer of the reseller it sells for
/// (see the module documentation).
pub async fn sell(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: &SaleInput,
) -> Result<Sale, OpError> {
    let (tenant, seller) = holder(ctx, actor).await?;
    let scope = customer_scope(&seller);
    let customer = match (input.customer_id, input.mobile.as_deref()) {
        (Some(id), _) => store::customer::find(ctx.db.conn(), &scope, id).await?,
        (None, Some(mobile)) => {
            let t = store::tenant::find_any(ctx.db.conn(), tenant)
                .await?
                .ok_or(OpError::NotFound)?;
            let country = crate::customer::mobile_country(&t)
                .ok_or_else(|| OpError::field("mobile", "unknown_country"))?;
            let mobile = Msisdn::parse(mobile, &country).map_err(OpError::from)?;
            store::customer::by_mobile(ctx.db.conn(), &scope, mobile.as_str()).await?
        }
        (None, None) => return Err(OpError::field("customer_id", "required")),
    };
    let customer = customer.ok_or_else(|| OpError::field("customer_id", "not_found"))?;
    let card = own_card(ctx, actor, tenant, &input.serial).await?;
    let subject = format!("user:{}", actor.user_id.0);
    let redeemed = apply(ctx, author, &customer, card, &subject, &scope).await?;
    Ok(Sale {
        customer_id: customer.id,
        customer: masked(&customer),
        redeemed,
    })
}

/// The customer's name with each word past its first two letters hidden.
fn masked(c: &Customer) -> String {
    c.name
        .split_whitespace()
        .map(|word| {
            let shown: String = word.chars().take(2).collect();
            format!("{shown}***")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One customer's mobile.
#[derive(Debug, Clone, Serialize)]
pub struct MobileRow {
    /// The customer.
    pub customer_id: i64,
    /// E.164 (`+8801712345678`).
    pub mobile: String,
    /// As dialled at home (`01712345678`).
    pub national: String,
    /// When the customer last changed.
    pub updated_at: DateTime<Utc>,
}

/// Up to `limit` (at most [`MOBILES_PAGE`]) mobiles of the customers `actor` sells to,
/// changed at or after `since`, after customer id `after`; and the id to ask after next
/// (none on the last page). Refused (`mobiles_list_off`) unless the tenant lets its
/// distributors read them (`tenant.distributor_mobiles`).
pub async fn mobiles(
    ctx: &Ctx<'_>,
    actor: &Actor,
    since: Option<DateTime<Utc>>,
    after: i64,
    limit: u64,
) -> Result<(Vec<MobileRow>, Option<i64>), OpError> {
    let (tenant, seller) = holder(ctx, actor).await?;
    let shown = store::tenant::find_any(ctx.db.conn(), tenant)
        .await?
        .is_some_and(|t| t.distributor_mobiles);
    if !shown {
        return Err(OpError::field("tenant", "mobiles_list_off"));
    }
    let limit = limit.clamp(1, MOBILES_PAGE);
    let rows =
        store::customer::mobiles(ctx.db.conn(), &customer_scope(&seller), since, after, limit)
            .await?;
    let next = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.0))
        .flatten();
    let rows = rows
        .into_iter()
        .map(|(customer_id, mobile, updated_at)| MobileRow {
            customer_id,
            national: Msisdn::stored(&mobile).national(),
            mobile,
            updated_at,
        })
        .collect();
    Ok((rows, next))
}
