//! The dashboard (reference §2.16): what a caller's day looks like over the customers it
//! sees. "Today" is the tenant's local day from [`crate::customer::today`], the same
//! function that decides "expires today" everywhere, so the figures and the lists agree.
//! Beside them, the tenant's SMS of the day (`crate::sms::sent_today`).

use chrono::TimeDelta;

use crate::Ctx;
use crate::error::OpError;
use domain::access::{Actor, customer_scope, tenant_scope};
use domain::ids::UserId;
use store::dashboard::{Figures, Window};

/// Days of collections the dashboard charts (today the last).
pub const DAYS: u32 = 30;

/// A caller's dashboard: its figures, the currency they are in, and who each collector is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    /// The figures.
    pub figures: Figures,
    /// The currency of the amounts (the caller's tenant's; empty across tenants).
    pub currency: String,
    /// The collectors' names, by id.
    pub collectors: Vec<(i64, String)>,
    /// The tenant's SMS of the day, for who may read its messages.
    pub sms: Option<crate::sms::SentToday>,
}

/// The dashboard of `actor`.
pub async fn figures(ctx: &Ctx<'_>, actor: &Actor) -> Result<Dashboard, OpError> {
    let tenant = match actor.tenant_id {
        Some(id) => store::tenant::find(ctx.db.conn(), &tenant_scope(actor), id).await?,
        None => None,
    };
    let zone = tenant
        .as_ref()
        .map_or(chrono_tz::UTC, crate::customer::zone);
    let (start, end) = crate::customer::today(ctx.now, zone);
    let today = ctx.now.with_timezone(&zone).date_naive();
    let window = Window {
        start,
        end,
        first_day: today - TimeDelta::days(i64::from(DAYS - 1)),
        days: DAYS,
        offset_minutes: tenant.as_ref().map_or(0, |t| t.utc_offset_minutes),
    };
    let figures = store::dashboard::figures(ctx.db.conn(), &customer_scope(actor), &window).await?;
    let mut collectors = Vec::new();
    for (id, ..) in &figures.collected_today {
        if let Some(id) = id
            && let Some(user) = store::user::find_self(ctx.db.conn(), UserId(*id)).await?
        {
            collectors.push((*id, user.name));
        }
    }
    // Who may not read the tenant's messages sees no SMS figure.
    let sms = match &tenant {
        Some(t) => crate::sms::sent_today(ctx, actor, domain::ids::TenantId(t.id))
            .await
            .ok(),
        None => None,
    };
    Ok(Dashboard {
        figures,
        currency: tenant.map(|t| t.currency).unwrap_or_default(),
        collectors,
        sms,
    })
}
