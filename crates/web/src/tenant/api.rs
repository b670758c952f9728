//! `/api/v1/tenants`: list, create, read, change and delete (archive) tenants; their VAT rates
//! (`/api/v1/tenants/{id}/vat-rates`), each from the date it applies; their postpaid terms
//! (`/api/v1/tenants/{id}/billing-terms`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::list::{ListResponse, page_request};
use crate::http::path::Id;
use crate::http::query::Query;
use crate::http::version::{IfMatch, with_etag};
use crate::state::AppState;
use domain::ids::{TenantId, UserId};
use domain::tenant::{NewTenant, Settings, SettingsInput, TenantChanges};
use store::tenant::{LIST, Tenant, TenantFilter};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(get_tenant, update_tenant, delete_tenant))
        .routes(routes!(list_vat_rates, set_vat_rate))
        .routes(routes!(get_billing_terms, set_billing_terms))
        .routes(routes!(get_tax_identity, set_tax_identity))
}

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantOut {
    id: TenantId,
    name: String,
    /// ISO 3166-1 alpha-2.
    country: String,
    /// ISO 4217.
    currency: String,
    /// IANA time zone.
    time_zone: String,
    /// The Super Admin that created it.
    owner_id: Option<UserId>,
    /// True once anything priced exists under it: the currency can no longer change.
    currency_locked: bool,
    /// The tag of user names made up by lastmile (`8801712345678@realm`).
    realm: String,
    /// What suspended customers get: `reject`, `pool` or `address_list`.
    suspension_policy: String,
    /// The router pool or address list of the suspension policy.
    suspension_target: Option<String>,
    /// The billing type new customers get by default.
    default_billing_type: String,
    /// The country mobile numbers are read in (default: the tenant's country).
    mobile_country: String,
    /// Its card distributors may read the mobiles of the customers they sell to
    /// (`/api/v1/distributor/mobiles`); off unless turned on.
    distributor_mobiles: bool,
    /// `active` or `archived`.
    status: String,
    /// Send back in `If-Match` to change it.
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TenantOut {
    /// The API view of a stored tenant.
    pub fn from_model(t: &Tenant) -> Self {
        Self {
            id: TenantId(t.id),
            name: t.name.clone(),
            country: t.country.clone(),
            currency: t.currency.clone(),
            time_zone: t.time_zone.clone(),
            owner_id: t.owner_id.map(UserId),
            currency_locked: t.currency_locked,
            realm: store::tenant::realm(t),
            suspension_policy: t.suspension_policy.clone(),
            suspension_target: t.suspension_target.clone(),
            default_billing_type: t.default_billing_type.code().to_owned(),
            mobile_country: t
                .mobile_country
                .clone()
                .unwrap_or_else(|| t.country.clone()),
            distributor_mobiles: t.distributor_mobiles,
            status: t.status.code().to_owned(),
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A new tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    name: String,
    /// ISO 3166-1 alpha-2, e.g. `BD`.
    country: String,
    /// ISO 4217, e.g. `BDT`.
    currency: String,
    /// IANA time zone, e.g. `Asia/Dhaka`.
    time_zone: String,
    /// A short unique tag, `a-z 0-9 -` (default: made from the name).
    realm: Option<String>,
    /// `reject` (default), `pool` or `address_list`.
    suspension_policy: Option<String>,
    /// The router pool or address list of the suspension policy.
    suspension_target: Option<String>,
    /// `prepaid` (default), `postpaid` or `free`.
    default_billing_type: Option<String>,
    /// ISO 3166 alpha-2 (default: the tenant's country).
    mobile_country: Option<String>,
    /// Card distributors may read their customers' mobiles (default: no).
    distributor_mobiles: Option<bool>,
}

fn settings_input<'a>(
    realm: &'a Option<String>,
    policy: &'a Option<String>,
    target: &'a Option<String>,
    billing: &'a Option<String>,
    mobile_country: &'a Option<String>,
    distributor_mobiles: Option<bool>,
) -> SettingsInput<'a> {
    SettingsInput {
        realm: realm.as_deref(),
        suspension_policy: policy.as_deref(),
        suspension_target: target.as_deref(),
        default_billing_type: billing.as_deref(),
        mobile_country: mobile_country.as_deref(),
        distributor_mobiles,
    }
}

/// Changes to a tenant; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    name: Option<String>,
    country: Option<String>,
    currency: Option<String>,
    time_zone: Option<String>,
    realm: Option<String>,
    suspension_policy: Option<String>,
    suspension_target: Option<String>,
    default_billing_type: Option<String>,
    mobile_country: Option<String>,
    distributor_mobiles: Option<bool>,
    /// The version read (or send `If-Match`).
    version: Option<i32>,
}

/// Filters and paging of the tenant list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// `active` (default), `archived` or `all`.
    status: Option<String>,
    /// Names starting with this.
    q: Option<String>,
    /// ISO country code.
    country: Option<String>,
    /// `id`, `name` (default) or `created_at`; prefix `-` for descending.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Lists the tenants the caller sees.
#[utoipa::path(get, path = "/tenants", tag = "tenants", security(("bearer" = [])), params(TenantQuery),
    responses((status = 200, body = ListResponse<TenantOut>), (status = 422, body = ErrorBody)))]
async fn list_tenants(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<TenantQuery>,
) -> Result<Json<ListResponse<TenantOut>>, ApiError> {
    let page = page_request(
        &LIST,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let filter = TenantFilter {
        status: query.status,
        name_prefix: query.q,
        country: query.country,
    };
    let tenants = ops::tenant::list(&state.ctx(), &caller.actor, &filter, &page).await?;
    Ok(Json(ListResponse::from_page(tenants, |t| {
        TenantOut::from_model(&t)
    })))
}

/// Creates a tenant (Developer and Super Admin).
#[utoipa::path(post, path = "/tenants", tag = "tenants", security(("bearer" = [])), request_body = CreateTenant,
    responses((status = 201, body = TenantOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_tenant(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateTenant>,
) -> Result<Response, ApiError> {
    let parsed = NewTenant::parse(&body.name, &body.country, &body.currency, &body.time_zone);
    let settings = Settings::parse(settings_input(
        &body.realm,
        &body.suspension_policy,
        &body.suspension_target,
        &body.default_billing_type,
        &body.mobile_country,
        body.distributor_mobiles,
    ));
    let new = match (parsed, settings) {
        (Ok(new), Ok(settings)) => NewTenant { settings, ..new },
        (Err(mut a), Err(b)) => {
            a.0.extend(b.0);
            return Err(a.into());
        }
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let tenant = ops::tenant::create(&state.ctx(), &caller.actor, caller.author, &new).await?;
    Ok(with_etag(
        tenant.version,
        (StatusCode::CREATED, Json(TenantOut::from_model(&tenant))),
    ))
}

/// One tenant.
#[utoipa::path(get, path = "/tenants/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = TenantOut), (status = 404, body = ErrorBody)))]
async fn get_tenant(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let tenant = ops::tenant::get(&state.ctx(), &caller.actor, TenantId(id)).await?;
    Ok(with_etag(
        tenant.version,
        Json(TenantOut::from_model(&tenant)),
    ))
}

/// Changes a tenant's settings.
#[utoipa::path(patch, path = "/tenants/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "the version read")),
    request_body = UpdateTenant,
    responses((status = 200, body = TenantOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
async fn update_tenant(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<UpdateTenant>,
) -> Result<Response, ApiError> {
    let changes = TenantChanges::parse(
        body.name.as_deref(),
        body.country.as_deref(),
        body.currency.as_deref(),
        body.time_zone.as_deref(),
    )?
    .with_settings(settings_input(
        &body.realm,
        &body.suspension_policy,
        &body.suspension_target,
        &body.default_billing_type,
        &body.mobile_country,
        body.distributor_mobiles,
    ))?;
    let version = if_match.resolve(body.version)?;
    let tenant = ops::tenant::update(
        &state.ctx(),
        &caller.actor,
        caller.author,
        TenantId(id),
        version,
        &changes,
    )
    .await?;
    Ok(with_etag(
        tenant.version,
        Json(TenantOut::from_model(&tenant)),
    ))
}

/// Deletes (archives) a tenant: its staff can no longer sign in; its records stay.
#[utoipa::path(delete, path = "/tenants/{id}", tag = "tenants", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = TenantOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_tenant(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<TenantOut>, ApiError> {
    let tenant =
        ops::tenant::archive(&state.ctx(), &caller.actor, caller.author, TenantId(id)).await?;
    Ok(Json(TenantOut::from_model(&tenant)))
}

/// A VAT rate of a tenant, from when it applies.
#[derive(Debug, Serialize, ToSchema)]
pub struct VatRateOut {
    id: i64,
    /// Basis points: 500 is 5%.
    rate_bp: i32,
    /// True when package prices include it; false when it is added to them.
    inclusive: bool,
    effective_from: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl From<store::tax::TaxRate> for VatRateOut {
    fn from(r: store::tax::TaxRate) -> Self {
        Self {
            id: r.id,
            rate_bp: r.rate_bp,
            inclusive: r.inclusive,
            effective_from: r.effective_from,
            created_at: r.created_at,
        }
    }
}

/// A new VAT rate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VatRateBody {
    /// Basis points, 0 to 10 000 (500 is 5%).
    rate_bp: i64,
    /// True (the default) when package prices include VAT.
    #[serde(default = "yes")]
    inclusive: bool,
    /// When it applies (default now; not in the past).
    effective_from: Option<DateTime<Utc>>,
}

fn yes() -> bool {
    true
}

/// A tenant's VAT rates, newest first; the one in force is the newest already effective.
#[utoipa::path(get, path = "/tenants/{id}/vat-rates", tag = "tenants", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Vec<VatRateOut>), (status = 404, body = ErrorBody)))]
async fn list_vat_rates(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<Vec<VatRateOut>>, ApiError> {
    let rates = ops::tenant::vat_rates(&state.ctx(), &caller.actor, TenantId(id)).await?;
    Ok(Json(rates.into_iter().map(VatRateOut::from).collect()))
}

/// Sets a tenant's VAT from a date on: sales from then carve it out of (or add it to) the
/// price, and receipts show it; sales before keep the rate they used.
#[utoipa::path(post, path = "/tenants/{id}/vat-rates", tag = "tenants", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = VatRateBody,
    responses((status = 201, body = VatRateOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_vat_rate(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    JsonBody(body): JsonBody<VatRateBody>,
) -> Result<(StatusCode, Json<VatRateOut>), ApiError> {
    let vat = domain::billing::Vat::parse(body.rate_bp, body.inclusive)?;
    let rate = ops::tenant::set_vat(
        &state.ctx(),
        &caller.actor,
        caller.author,
        TenantId(id),
        vat,
        body.effective_from,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(rate.into())))
}

/// A tenant's postpaid terms.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingTermsBody {
    /// The day postpaid periods start and invoices are issued: `1` to `28`, or `last`.
    billing_day: String,
    /// Days from an invoice's issue to its due date (0 to 90).
    due_days: i64,
    /// Days after the due date before an unpaid customer is suspended (0 to 90).
    grace_days: i64,
    /// Days before an expiry or a due date that a reminder is queued (0 to 90; 0: none).
    remind_days: i64,
}

impl BillingTermsBody {
    fn of(t: &Tenant) -> Self {
        let terms = ops::billing_run::terms_of(t);
        Self {
            billing_day: terms.billing_day.text(),
            due_days: i64::from(terms.due_days),
            grace_days: i64::from(terms.grace_days),
            remind_days: i64::from(terms.remind_days),
        }
    }
}

/// A tenant's postpaid terms.
#[utoipa::path(get, path = "/tenants/{id}/billing-terms", tag = "tenants", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = BillingTermsBody), (status = 404, body = ErrorBody)))]
async fn get_billing_terms(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<BillingTermsBody>, ApiError> {
    let tenant = ops::tenant::get(&state.ctx(), &caller.actor, TenantId(id)).await?;
    Ok(Json(BillingTermsBody::of(&tenant)))
}

/// Sets a tenant's postpaid terms; invoices already issued keep their due dates.
#[utoipa::path(put, path = "/tenants/{id}/billing-terms", tag = "tenants", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = BillingTermsBody,
    responses((status = 200, body = BillingTermsBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_billing_terms(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    JsonBody(body): JsonBody<BillingTermsBody>,
) -> Result<Json<BillingTermsBody>, ApiError> {
    let terms = domain::postpaid::Terms::parse(
        &body.billing_day,
        body.due_days,
        body.grace_days,
        body.remind_days,
    )?;
    let tenant = ops::tenant::set_billing_terms(
        &state.ctx(),
        &caller.actor,
        caller.author,
        TenantId(id),
        terms,
    )
    .await?;
    Ok(Json(BillingTermsBody::of(&tenant)))
}

/// A tenant's registration for VAT, printed on its tax invoices (Mushak-6.3 in
/// Bangladesh).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxIdentityBody {
    /// The Business Identification Number: 9 or 13 digits, or 9 and a 4-digit branch after a hyphen
    /// allowed; empty when not registered.
    bin: String,
    /// The address invoices are issued from (up to 300 characters, one line).
    address: String,
}

impl TaxIdentityBody {
    fn of(t: &Tenant) -> Self {
        Self {
            bin: t.bin.clone(),
            address: t.address.clone(),
        }
    }
}

/// A tenant's registration for VAT.
#[utoipa::path(get, path = "/tenants/{id}/tax-identity", tag = "tenants", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = TaxIdentityBody), (status = 404, body = ErrorBody)))]
async fn get_tax_identity(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<TaxIdentityBody>, ApiError> {
    let tenant = ops::tenant::get(&state.ctx(), &caller.actor, TenantId(id)).await?;
    Ok(Json(TaxIdentityBody::of(&tenant)))
}

/// Sets a tenant's registration for VAT.
#[utoipa::path(put, path = "/tenants/{id}/tax-identity", tag = "tenants", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = TaxIdentityBody,
    responses((status = 200, body = TaxIdentityBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_tax_identity(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    JsonBody(body): JsonBody<TaxIdentityBody>,
) -> Result<Json<TaxIdentityBody>, ApiError> {
    let identity = domain::invoice::TaxIdentity::parse(&body.bin, &body.address)?;
    let tenant = ops::tenant::set_tax_identity(
        &state.ctx(),
        &caller.actor,
        caller.author,
        TenantId(id),
        &identity,
    )
    .await?;
    Ok(Json(TaxIdentityBody::of(&tenant)))
}
