//! `GET /api/v1/customers/export.csv`: the customer list as CSV, with the list's filters
//! and the caller's scope (`ops::customer::export`), streamed a page at a time. The panel's
//! list links to the same address through `/panel/customers/export.csv`.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::customer::api::{CustomerQuery, list_tenant_of};
use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::Query;
use crate::state::AppState;
use domain::access::Actor;
use domain::ids::TenantId;
use ops::OpError;
use ops::customer::export::{ExportPage, export_page};
use store::custom_field::Definition;
use store::customer::CustomerFilter;

/// The routes of this module.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(export_customers))
}

/// What the stream needs between pages.
struct Export {
    state: AppState,
    actor: Actor,
    filter: CustomerFilter,
    defs: Vec<Definition>,
    next: Option<String>,
}

/// The export of the customers `query` lists for `actor`: its first page read now (so a
/// refused filter is an error answer), the rest as the client reads.
pub(crate) async fn export(
    state: AppState,
    actor: Actor,
    query: &CustomerQuery,
    tenant_id: Option<i64>,
) -> Result<Response, OpError> {
    let now = state.clock.now();
    let tenant = list_tenant_of(&state, &actor, tenant_id).await?;
    let filter = query
        .full_filter(&state.ctx(), now, tenant.as_ref())
        .await?;
    let defs = match &tenant {
        Some(t) => ops::custom_field::of_tenant(&state.ctx(), TenantId(t.id)).await?,
        None => Vec::new(),
    };
    let ExportPage { csv, next } = export_page(&state.ctx(), &actor, &filter, &defs, None).await?;
    let rest = next.map(|cursor| Export {
        state,
        actor,
        filter,
        defs,
        next: Some(cursor),
    });
    let first = futures::stream::once(async move { Ok::<_, std::io::Error>(csv) });
    let chunks = futures::StreamExt::chain(first, futures::stream::unfold(rest, next_chunk));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"customers.csv\"",
            ),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

/// One step of the streamed CSV: the next page's rows, or an error that ends the answer.
async fn next_chunk(
    step: Option<Export>,
) -> Option<(Result<Vec<u8>, std::io::Error>, Option<Export>)> {
    let mut export = step?;
    let cursor = export.next.take()?;
    let page = export_page(
        &export.state.ctx(),
        &export.actor,
        &export.filter,
        &export.defs,
        Some(&cursor),
    )
    .await;
    match page {
        Ok(ExportPage { csv, next }) => {
            export.next = next;
            let more = export.next.is_some().then_some(export);
            Some((Ok(csv), more))
        }
        Err(error) => {
            tracing::error!(%error, "the customer export stopped");
            Some((Err(std::io::Error::other("export failed")), None))
        }
    }
}

/// The customers the caller sees as CSV, with the list's filters (`field`/`field_value`
/// included): the built-in columns, then `field:<key>` for each active custom field of the
/// tenant listed. Cells people typed are neutralised against spreadsheet formulas.
#[utoipa::path(get, path = "/customers/export.csv", tag = "customers", security(("bearer" = [])), params(CustomerQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = ErrorBody)))]
pub(crate) async fn export_customers(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<CustomerQuery>,
) -> Result<Response, ApiError> {
    let tenant = query.tenant_id();
    Ok(export(state, caller.actor, &query, tenant).await?)
}
