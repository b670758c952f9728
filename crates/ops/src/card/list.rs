//! The card lists, for those who reach them (`super::card_reach`'s stock or holdings): a
//! tenant's batches and their counts by state (a page's counts read in one query), one
//! batch, the cards a query names, and the users one may hand cards to.

use super::{holders, within};
use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, CardReach, Role, card_reach, holds_cards};
use domain::card::State;
use domain::ids::TenantId;
use serde::Serialize;
use store::card::{Batch, Card, CardFilter};
use store::list::{Page, PageRequest};

/// A batch with how many of its cards are in each state.
#[derive(Debug, Clone, Serialize)]
pub struct BatchView {
    /// The batch.
    #[serde(skip)]
    pub batch: Batch,
    /// State → cards.
    pub counts: Vec<(String, i64)>,
}

/// The batches of the tenant (`tenant_id` for platform roles), of `package` when given,
/// for those who reach its stock.
pub async fn batches(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant_id: Option<i64>,
    package: Option<i64>,
    page: &PageRequest,
) -> Result<Page<Batch>, OpError> {
    let within = within(ctx, actor, tenant_id).await?;
    if !matches!(within.reach, CardReach::Stock { .. }) {
        return Err(OpError::Forbidden);
    }
    let tenants = [within.tenant.id];
    Ok(store::card::batches(ctx.db.conn(), Some(&tenants), package, page).await?)
}

/// Batch `id` with its counts, for those who reach its tenant's stock.
pub async fn batch(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<BatchView, OpError> {
    let batch = store::card::batch(ctx.db.conn(), None, id)
        .await?
        .ok_or(OpError::NotFound)?;
    let within = within(ctx, actor, Some(batch.tenant_id)).await?;
    if !matches!(within.reach, CardReach::Stock { .. }) {
        return Err(OpError::NotFound);
    }
    let counts = store::card::batch_counts(ctx.db.conn(), id).await?;
    Ok(BatchView { batch, counts })
}

/// The active users of tenant `tenant` of `role` the caller may hand cards to (up to
/// `page`): the tenant's, for who runs its stock, `view_users` granted or not; an
/// operator's own subtree.
pub async fn holders_to_name(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
    role: Role,
    page: &PageRequest,
) -> Result<Page<store::user::User>, OpError> {
    if !holds_cards(role) || card_reach(actor).is_none() {
        return Err(OpError::Forbidden);
    }
    let filter = store::user::UserFilter {
        role: Some(role),
        tenant_id: Some(tenant),
        status: Some(domain::user::UserStatus::Active),
        ..store::user::UserFilter::default()
    };
    Ok(store::user::list(
        ctx.db.conn(),
        &access::card_holder_scope(actor),
        &filter,
        page,
    )
    .await?)
}

/// The counts by state of each of `batches` (a page of [`batches`]' answer), read at once:
/// batch id → (state, cards).
pub async fn counts(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant_id: Option<i64>,
    batches: &[Batch],
) -> Result<std::collections::HashMap<i64, Vec<(String, i64)>>, OpError> {
    let within = within(ctx, actor, tenant_id).await?;
    if !matches!(within.reach, CardReach::Stock { .. }) {
        return Err(OpError::Forbidden);
    }
    let ids: Vec<i64> = batches
        .iter()
        .filter(|b| b.tenant_id == within.tenant.id)
        .map(|b| b.id)
        .collect();
    let mut out: std::collections::HashMap<i64, Vec<(String, i64)>> = Default::default();
    for (batch, state, n) in store::card::counts_of_batches(ctx.db.conn(), &ids).await? {
        out.entry(batch).or_default().push((state, n));
    }
    Ok(out)
}

/// What a card list shows.
#[derive(Debug, Clone, Default)]
pub struct CardQuery {
    /// The tenant (platform roles).
    pub tenant_id: Option<i64>,
    /// One batch's.
    pub batch_id: Option<i64>,
    /// In this state.
    pub state: Option<State>,
    /// Held by this user (within what the actor reaches).
    pub holder_id: Option<i64>,
}

/// The cards the actor reaches, narrowed by `query`. Never their PINs.
pub async fn cards(
    ctx: &Ctx<'_>,
    actor: &Actor,
    query: &CardQuery,
    page: &PageRequest,
) -> Result<Page<Card>, OpError> {
    let within = within(ctx, actor, query.tenant_id).await?;
    let mut holders = holders(ctx, &within).await?;
    if let Some(asked) = query.holder_id {
        holders = match holders {
            Some(reach) if !reach.contains(&asked) => Some(Vec::new()),
            _ => Some(vec![asked]),
        };
    }
    let filter = CardFilter {
        tenants: Some(vec![within.tenant.id]),
        holders,
        batch_id: query.batch_id,
        serials: None,
        states: query.state.map(|s| vec![s]),
    };
    Ok(store::card::cards(ctx.db.conn(), &filter, page).await?)
}
