//! `GET /panel`: counts and the latest changes the user may see.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::audit::panel::{AuditRow, Names};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use ops::OpError;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ui: Ui,
    tenant_count: String,
    user_count: String,
    recent: Vec<AuditRow>,
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
        Ok::<_, OpError>((tenants, users, recent))
    };
    match counted.await {
        Ok((tenants, users, recent)) => {
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
