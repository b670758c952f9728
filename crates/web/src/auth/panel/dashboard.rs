//! `GET /panel`: counts, the day's money and customers over what the user sees (the
//! dashboard figures, with a bar chart of the last 30 days' collections drawn as SVG on the
//! server), and the latest changes the user may see.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::audit::panel::{AuditRow, Names};
use crate::ledger::panel::{digits_of, money_text};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use ops::OpError;

/// One bar of the collections chart: its place, its height and what it says.
struct Bar {
    x: u32,
    y: u32,
    height: u32,
    label: String,
}

/// The day's figures as the page shows them.
struct Day {
    expiring: String,
    to_collect: String,
    collected: String,
    collected_by: Vec<(String, String)>,
    new: String,
    renewed: String,
    online: String,
    bars: Vec<Bar>,
    first_day: String,
    last_day: String,
    /// SMS today: sent or delivered, failed, waiting, and the day's budget (empty: none).
    sms: Option<(u64, u64, u64, String)>,
}

/// The chart's drawing area, in SVG units.
const CHART_HEIGHT: u32 = 120;
const BAR_STEP: u32 = 16;

impl Day {
    fn new(d: &ops::dashboard::Dashboard) -> Self {
        let f = &d.figures;
        let digits = digits_of(&d.currency);
        let money = |minor: i64| money_text(minor, digits, &d.currency);
        let most = f
            .collections
            .iter()
            .map(|(_, a)| *a)
            .max()
            .unwrap_or(0)
            .max(1);
        let bars = f
            .collections
            .iter()
            .enumerate()
            .map(|(i, (day, amount))| {
                let height = u32::try_from(
                    i128::from(*amount) * i128::from(CHART_HEIGHT) / i128::from(most),
                )
                .unwrap_or(0);
                Bar {
                    x: u32::try_from(i).unwrap_or(0) * BAR_STEP,
                    y: CHART_HEIGHT - height,
                    height,
                    label: format!("{day}: {}", money(*amount)),
                }
            })
            .collect();
        let name = |id: &Option<i64>| {
            id.and_then(|id| d.collectors.iter().find(|(c, _)| *c == id))
                .map_or_else(|| "—".to_owned(), |(_, n)| n.clone())
        };
        Self {
            expiring: f.expiring_today.to_string(),
            to_collect: money(f.to_collect_today),
            collected: money(f.collected_today.iter().map(|(_, a, _)| a).sum()),
            collected_by: f
                .collected_today
                .iter()
                .map(|(id, amount, _)| (name(id), money(*amount)))
                .collect(),
            new: f.new_today.to_string(),
            renewed: f.renewed_today.to_string(),
            online: f.online_now.to_string(),
            bars,
            first_day: f
                .collections
                .first()
                .map(|(d, _)| d.to_string())
                .unwrap_or_default(),
            last_day: f
                .collections
                .last()
                .map(|(d, _)| d.to_string())
                .unwrap_or_default(),
            sms: d.sms.as_ref().map(|s| {
                (
                    s.sent + s.delivered,
                    s.failed,
                    s.queued,
                    s.budget.map(|b| b.to_string()).unwrap_or_default(),
                )
            }),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ui: Ui,
    tenant_count: String,
    user_count: String,
    recent: Vec<AuditRow>,
    /// The day's figures, for who sees customers.
    day: Option<Day>,
    chart_width: u32,
    chart_height: u32,
    /// The network's traffic, for who runs or staffs the tenant.
    traffic: Option<NetworkTraffic>,
}

/// The graphs of the tenant's traffic: the whole network's and its first routers'.
struct NetworkTraffic {
    tenant_id: i64,
    /// `(id, name)` of the routers drawn.
    routers: Vec<(i64, String)>,
}

/// Routers the dashboard draws at most (the rest are on their own pages).
const ROUTER_GRAPHS: u64 = 8;

/// The network's traffic graphs `user` may see, if any.
async fn network_traffic(
    state: &AppState,
    user: &PanelUser,
) -> Result<Option<NetworkTraffic>, OpError> {
    let Some(tenant) = user.actor.tenant_id else {
        return Ok(None);
    };
    let ctx = state.ctx();
    match ops::traffic::may_view(&ctx, &user.actor, tenant).await {
        Ok(_) => {}
        Err(OpError::Forbidden | OpError::NotFound) => return Ok(None),
        Err(error) => return Err(error),
    }
    let page = store::list::PageRequest::first(&store::network::ROUTERS, ROUTER_GRAPHS)
        .map_err(OpError::Invalid)?;
    let routers = ops::network::list_routers(&ctx, &user.actor, &Default::default(), &page).await?;
    Ok(Some(NetworkTraffic {
        tenant_id: tenant.0,
        routers: routers.items.into_iter().map(|r| (r.id, r.name)).collect(),
    }))
}

/// `GET /panel`: counts and the latest changes the user may see.
pub async fn dashboard(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
) -> Response {
    let counted = async {
        let tenant_page =
            store::list::PageRequest::first(&store::tenant::LIST, 1).map_err(OpError::Invalid)?;
        let tenants =
            ops::tenant::list(&state.ctx(), &user.actor, &Default::default(), &tenant_page).await?;
        let user_page =
            store::list::PageRequest::first(&store::user::LIST, 1).map_err(OpError::Invalid)?;
        let users =
            ops::user::list(&state.ctx(), &user.actor, &Default::default(), &user_page).await?;
        let recent = ops::audit::list(
            &state.ctx(),
            &user.actor,
            &Default::default(),
            &store::list::PageRequest::first(&store::audit::LIST, 8).map_err(OpError::Invalid)?,
        )
        .await?;
        let day = if user.actor.can(domain::access::Permission::ViewCustomers) {
            Some(state.dashboard(&user.actor, false).await?)
        } else {
            None
        };
        let traffic = network_traffic(&state, &user).await?;
        Ok::<_, OpError>((tenants, users, recent, day, traffic))
    };
    match counted.await {
        Ok((tenants, users, recent, day, traffic)) => {
            let count = |total: u64, capped: bool| {
                if capped {
                    format!("{total}+")
                } else {
                    total.to_string()
                }
            };
            render(&DashboardPage {
                ui: Ui::new(&user, Section::Dashboard, &headers, "/panel"),
                tenant_count: count(tenants.total, tenants.total_capped),
                user_count: count(users.total, users.total_capped),
                day: day.as_ref().map(Day::new),
                chart_width: ops::dashboard::DAYS * BAR_STEP,
                chart_height: CHART_HEIGHT,
                traffic,
                recent: {
                    let names = Names::of(&state, &user, &recent.items).await;
                    recent
                        .items
                        .iter()
                        .map(|e| AuditRow::new(e, &names))
                        .collect()
                },
            })
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
