//! What panel pages look up around their rows and for their selects: the tenants rows belong
//! to (their currency and time zone), the tenants a platform user may pick, the routers, and the
//! resellers (operators and sub-operators) a user may name as owner. Every read goes through the caller's
//! scope; a page loads each of these once, never once per row.

use chrono_tz::Tz;

use crate::i18n::Tr;
use crate::state::AppState;
use domain::access::{Actor, Role, tenant_scope};
use domain::ids::TenantId;
use domain::locale::CurrencyCode;
use ops::OpError;
use ops::user::OwnersOf;
use store::list::PageRequest;
use store::tenant::Tenant;
use store::user::User;

/// A choice in a select: `(value, label)`.
pub type Choice = (String, String);

/// The most rows a select offers.
pub const SELECT_LIMIT: u64 = 500;

/// Tenants by id, each read once.
#[derive(Debug, Default)]
pub struct Tenants(Vec<Tenant>);

impl Tenants {
    /// The tenants of `ids` the caller sees.
    pub async fn load(
        state: &AppState,
        actor: &Actor,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<Self, OpError> {
        let mut ids: Vec<i64> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(tenant) =
                store::tenant::find(state.db.conn(), &tenant_scope(actor), TenantId(id)).await?
            {
                found.push(tenant);
            }
        }
        Ok(Self(found))
    }

    /// One tenant.
    pub fn get(&self, id: i64) -> Option<&Tenant> {
        self.0.iter().find(|t| t.id == id)
    }

    /// The tenant's name, or its id.
    pub fn name(&self, id: i64) -> String {
        self.get(id)
            .map_or_else(|| format!("#{id}"), |t| t.name.clone())
    }

    /// The tenant's time zone (UTC when unknown).
    pub fn zone(&self, id: i64) -> Tz {
        self.get(id)
            .map_or(chrono_tz::UTC, |t| super::input::zone_of(&t.time_zone))
    }

    /// The decimals of the tenant's currency.
    pub fn digits(&self, id: i64) -> u16 {
        self.get(id).map_or(2, digits)
    }

    /// An amount of minor units in the tenant's currency: `500.00 BDT`.
    pub fn money(&self, id: i64, minor: i64) -> String {
        let amount = super::input::amount_text(minor, self.digits(id));
        match self.get(id) {
            Some(t) => format!("{amount} {}", t.currency),
            None => amount,
        }
    }
}

/// The decimals of a tenant's currency (2 if its code no longer parses).
pub fn digits(tenant: &Tenant) -> u16 {
    CurrencyCode::parse("currency", &tenant.currency).map_or(2, |c| c.minor_digits())
}

/// The active tenants a platform user may pick from (none for everyone else, who works in
/// its own).
pub async fn tenant_choices(state: &AppState, actor: &Actor) -> Result<Vec<Choice>, OpError> {
    if !actor.role.is_platform() {
        return Ok(Vec::new());
    }
    let page = PageRequest::first(&store::tenant::LIST, SELECT_LIMIT).map_err(OpError::Invalid)?;
    Ok(
        ops::tenant::list(&state.ctx(), actor, &Default::default(), &page)
            .await?
            .items
            .into_iter()
            .map(|t| (t.id.to_string(), t.name))
            .collect(),
    )
}

/// The routers the caller sees, as select choices.
pub async fn router_choices(state: &AppState, actor: &Actor) -> Result<Vec<Choice>, OpError> {
    let page =
        PageRequest::first(&store::network::ROUTERS, SELECT_LIMIT).map_err(OpError::Invalid)?;
    Ok(
        ops::network::list_routers(&state.ctx(), actor, &Default::default(), &page)
            .await?
            .items
            .into_iter()
            .map(|r| (r.id.to_string(), r.name))
            .collect(),
    )
}

/// The other pools of `tenant` the caller sees (all but `except`), as select choices.
pub async fn pool_choices(
    state: &AppState,
    actor: &Actor,
    tenant: i64,
    except: i64,
) -> Result<Vec<Choice>, OpError> {
    let page =
        PageRequest::first(&store::network::POOLS, SELECT_LIMIT).map_err(OpError::Invalid)?;
    let filter = store::network::NetworkFilter {
        tenant_id: Some(domain::ids::TenantId(tenant)),
        ..Default::default()
    };
    Ok(
        ops::network::list_pools(&state.ctx(), actor, &filter, &page)
            .await?
            .0
            .items
            .into_iter()
            .filter(|p| p.id != except)
            .map(|p| (p.id.to_string(), p.name))
            .collect(),
    )
}

/// The active operators and sub-operators the caller may name as owner of `of`.
pub async fn resellers(
    state: &AppState,
    actor: &Actor,
    of: OwnersOf,
) -> Result<Vec<User>, OpError> {
    ops::user::resellers(&state.ctx(), actor, of, SELECT_LIMIT).await
}

/// Resellers as select choices: `Name · Role`.
pub fn reseller_choices(t: Tr, users: &[User]) -> Vec<Choice> {
    users
        .iter()
        .map(|u| (u.id.to_string(), reseller_label(t, u)))
        .collect()
}

/// A reseller as people know it: `Name · Role`.
pub fn reseller_label(t: Tr, user: &User) -> String {
    let role = Role::from_level(user.role).map_or("", |r| t.role(r));
    format!("{} · {role}", user.name)
}

/// The name of user `id` among `users`, or its id.
pub fn user_name(users: &[User], id: Option<i64>) -> String {
    match id {
        None => String::new(),
        Some(id) => users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("#{id}"), |u| u.name.clone()),
    }
}
