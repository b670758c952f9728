//! `/api/v1/packages`: master packages, and operator and sub-operator packages derived from
//! them (a POST with `parent_id` and `owner_id` derives one).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
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
use domain::field::{FieldError, FieldErrors};
use domain::fup::{Fup, FupStep, FupStepInput};
use domain::ids::{TenantId, UserId};
use domain::money::Money;
use domain::package::{self as rules, BurstInput, ConnectionType, RateLimit};
use store::package::{LIST, Package, PackageChanges, PackageFilter, ServiceRow};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_packages, create_package))
        .routes(routes!(get_package, update_package, delete_package))
}

/// A burst, as MikroTik applies it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BurstOut {
    download_kbps: i64,
    upload_kbps: i64,
    threshold_download_kbps: i64,
    threshold_upload_kbps: i64,
    time_secs: i32,
}

/// A package.
#[derive(Debug, Serialize, ToSchema)]
pub struct PackageOut {
    id: i64,
    tenant_id: TenantId,
    /// `master`, `operator` or `sub_operator`.
    level: String,
    /// The package it is derived from.
    parent_id: Option<i64>,
    /// The master whose service it sells.
    master_id: Option<i64>,
    /// The operator or sub-operator it is offered to.
    owner_id: Option<UserId>,
    name: String,
    connection_type: String,
    download_kbps: i64,
    upload_kbps: i64,
    burst: Option<BurstOut>,
    /// The `Mikrotik-Rate-Limit` value (upload/download, the router's view).
    rate_limit: String,
    volume_bytes: Option<i64>,
    /// FUP steps: from `after_bytes` used in the period on, the step's rate.
    fup: Vec<FupStepBody>,
    validity_minutes: i64,
    /// What a customer pays, minor units of the tenant's currency.
    price: i64,
    /// What the owner owes upstream, minor units.
    cost_price: i64,
    ip_pool_id: Option<i64>,
    version: i32,
}

impl PackageOut {
    /// The API view of a stored package.
    pub fn from_model(p: &Package) -> Self {
        let burst = match (
            p.burst_download_kbps,
            p.burst_upload_kbps,
            p.burst_threshold_download_kbps,
            p.burst_threshold_upload_kbps,
            p.burst_time_secs,
        ) {
            (Some(d), Some(u), Some(td), Some(tu), Some(t)) => Some(BurstOut {
                download_kbps: d,
                upload_kbps: u,
                threshold_download_kbps: td,
                threshold_upload_kbps: tu,
                time_secs: t,
            }),
            _ => None,
        };
        Self {
            id: p.id,
            tenant_id: TenantId(p.tenant_id),
            level: p.level.code().to_owned(),
            parent_id: p.parent_id,
            master_id: p.master_id,
            owner_id: p.owner_id.map(UserId),
            name: p.name.clone(),
            connection_type: p.connection_type.code().to_owned(),
            download_kbps: p.download_kbps,
            upload_kbps: p.upload_kbps,
            burst,
            rate_limit: store::package::rate(p)
                .map(|r| r.mikrotik())
                .unwrap_or_default(),
            volume_bytes: p.volume_bytes,
            fup: store::package::fup(p)
                .map(|f| f.steps().iter().map(FupStepBody::from).collect())
                .unwrap_or_default(),
            validity_minutes: p.validity_minutes,
            price: p.price,
            cost_price: p.cost_price,
            ip_pool_id: p.ip_pool_id,
            version: p.version,
        }
    }
}

/// A FUP step: from `after_bytes` used in the period (up and down together) on, this rate.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FupStepBody {
    after_bytes: i64,
    download_kbps: i64,
    upload_kbps: i64,
}

impl From<&FupStep> for FupStepBody {
    fn from(s: &FupStep) -> Self {
        FupStepBody {
            after_bytes: s.after_bytes,
            download_kbps: i64::from(s.download_kbps),
            upload_kbps: i64::from(s.upload_kbps),
        }
    }
}

/// A new package: a master (service fields), or, with `parent_id` and `owner_id`, a
/// package derived from `parent_id` for an operator or sub-operator.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageBody {
    tenant_id: Option<i64>,
    parent_id: Option<i64>,
    owner_id: Option<i64>,
    name: Option<String>,
    /// `pppoe`, `hotspot`, `static_ip` or `other`.
    connection_type: Option<String>,
    download_kbps: Option<i64>,
    upload_kbps: Option<i64>,
    burst_download_kbps: Option<i64>,
    burst_upload_kbps: Option<i64>,
    burst_threshold_download_kbps: Option<i64>,
    burst_threshold_upload_kbps: Option<i64>,
    burst_time_secs: Option<i64>,
    volume_bytes: Option<i64>,
    /// FUP steps, by rising mark (at most 8); each no faster than the one before.
    fup: Option<Vec<FupStepBody>>,
    validity_days: Option<i64>,
    validity_hours: Option<i64>,
    validity_minutes: Option<i64>,
    /// Minor units of the tenant's currency.
    price: Option<i64>,
    /// Minor units; at most the price (derived packages).
    cost_price: Option<i64>,
    ip_pool_id: Option<i64>,
    version: Option<i32>,
}

impl PackageBody {
    fn has_service(&self) -> bool {
        self.connection_type.is_some()
            || self.download_kbps.is_some()
            || self.upload_kbps.is_some()
            || self.volume_bytes.is_some()
            || self.fup.is_some()
            || self.validity_days.is_some()
            || self.validity_hours.is_some()
            || self.validity_minutes.is_some()
            || self.ip_pool_id.is_some()
            || self.burst_download_kbps.is_some()
    }

    fn service(&self, errors: &mut FieldErrors) -> Option<ServiceRow> {
        let connection_type = match self.connection_type.as_deref() {
            Some(ct) => errors.take(
                ConnectionType::parse(ct)
                    .ok_or_else(|| FieldError::new("connection_type", "unknown_connection_type")),
            ),
            None => errors.take(Err(FieldError::new("connection_type", "required"))),
        };
        let down = self
            .download_kbps
            .or_else(|| errors.take(Err(FieldError::new("download_kbps", "required"))));
        let up = self
            .upload_kbps
            .or_else(|| errors.take(Err(FieldError::new("upload_kbps", "required"))));
        let burst = BurstInput {
            down_kbps: self.burst_download_kbps,
            up_kbps: self.burst_upload_kbps,
            threshold_down_kbps: self.burst_threshold_download_kbps,
            threshold_up_kbps: self.burst_threshold_upload_kbps,
            time_secs: self.burst_time_secs,
        };
        let rate = match (down, up) {
            (Some(down), Some(up)) => match RateLimit::parse(down, up, burst) {
                Ok(rate) => Some(rate),
                Err(e) => {
                    errors.0.extend(e.0);
                    None
                }
            },
            _ => None,
        };
        let validity = match rules::parse_validity(
            self.validity_days.unwrap_or(0),
            self.validity_hours.unwrap_or(0),
            self.validity_minutes.unwrap_or(0),
        ) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };
        let volume = errors.take(rules::parse_volume(self.volume_bytes));
        let steps: Vec<FupStepInput> = self
            .fup
            .iter()
            .flatten()
            .map(|s| FupStepInput {
                after_bytes: s.after_bytes,
                download_kbps: s.download_kbps,
                upload_kbps: s.upload_kbps,
            })
            .collect();
        let fup = match (&rate, &volume) {
            (Some(rate), Some(volume)) => match Fup::parse(&steps, rate, *volume) {
                Ok(fup) => Some(fup),
                Err(e) => {
                    errors.0.extend(e.0);
                    None
                }
            },
            _ => None,
        };
        Some(ServiceRow {
            connection_type: connection_type?,
            rate: rate?,
            volume_bytes: volume?,
            fup: fup?,
            validity_minutes: validity?,
            ip_pool_id: self.ip_pool_id,
        })
    }
}

fn money(field: &str, value: Option<i64>, errors: &mut FieldErrors) -> Option<Money> {
    match value {
        Some(v) => errors.take(Money::from_minor(field, v)),
        None => errors.take(Err(FieldError::new(field, "required"))),
    }
}

/// Filters and paging of the package list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PackageQuery {
    tenant_id: Option<i64>,
    /// `master`, `operator` or `sub_operator`.
    level: Option<String>,
    owner_id: Option<i64>,
    parent_id: Option<i64>,
    connection_type: Option<String>,
    /// Names starting with this.
    q: Option<String>,
    /// `name` (default), `id` or `price`; `-` for descending.
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// Lists the packages the caller sees.
#[utoipa::path(get, path = "/packages", tag = "packages", security(("bearer" = [])), params(PackageQuery),
    responses((status = 200, body = ListResponse<PackageOut>), (status = 422, body = ErrorBody)))]
async fn list_packages(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<PackageQuery>,
) -> Result<Json<ListResponse<PackageOut>>, ApiError> {
    let page = page_request(
        &LIST,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let connection_type = match query.connection_type.as_deref() {
        Some(ct) => Some(
            ConnectionType::parse(ct)
                .ok_or_else(|| FieldError::new("connection_type", "unknown_connection_type"))?,
        ),
        None => None,
    };
    let filter = PackageFilter {
        tenant_id: query.tenant_id.map(TenantId),
        level: query.level,
        owner_id: query.owner_id.map(UserId),
        connection_type,
        parent_id: query.parent_id,
        name_prefix: query.q,
    };
    let packages = ops::package::list(&state.ctx(), &caller.actor, &filter, &page).await?;
    Ok(Json(ListResponse::from_page(packages, |p| {
        PackageOut::from_model(&p)
    })))
}

/// Creates a master package, or derives one for an operator or sub-operator.
#[utoipa::path(post, path = "/packages", tag = "packages", security(("bearer" = [])), request_body = PackageBody,
    responses((status = 201, body = PackageOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_package(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<PackageBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::new();
    let name = match body.name.as_deref() {
        Some(n) => errors.take(rules::parse_name(n)),
        None => errors.take(Err(FieldError::new("name", "required"))),
    };
    let price = money("price", body.price, &mut errors);
    let package = match body.parent_id {
        Some(parent_id) => {
            if body.has_service() {
                errors.push(FieldError::new("parent_id", "service_of_master"));
            }
            let owner_id = body
                .owner_id
                .map(UserId)
                .or_else(|| errors.take(Err(FieldError::new("owner_id", "required"))));
            let cost_price = money("cost_price", body.cost_price, &mut errors);
            let (Some(name), Some(price), Some(owner_id), Some(cost_price)) =
                (name, price, owner_id, cost_price)
            else {
                return Err(ApiError::invalid(&errors));
            };
            if !errors.is_empty() {
                return Err(ApiError::invalid(&errors));
            }
            let input = ops::package::DeriveInput {
                parent_id,
                owner_id,
                name,
                price,
                cost_price,
            };
            ops::package::create_derived(&state.ctx(), &caller.actor, caller.author, input).await?
        }
        None => {
            if body.owner_id.is_some() {
                errors.push(FieldError::new("owner_id", "must_be_absent"));
            }
            if body.cost_price.is_some() {
                errors.push(FieldError::new("cost_price", "must_be_absent"));
            }
            let service = body.service(&mut errors);
            let (Some(name), Some(price), Some(service)) = (name, price, service) else {
                return Err(ApiError::invalid(&errors));
            };
            if !errors.is_empty() {
                return Err(ApiError::invalid(&errors));
            }
            ops::package::create_master(
                &state.ctx(),
                &caller.actor,
                caller.author,
                ops::package::MasterInput {
                    tenant: body.tenant_id.map(TenantId),
                    name,
                    service,
                    price,
                },
            )
            .await?
        }
    };
    Ok(with_etag(
        package.version,
        (StatusCode::CREATED, Json(PackageOut::from_model(&package))),
    ))
}

/// One package.
#[utoipa::path(get, path = "/packages/{id}", tag = "packages", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = PackageOut), (status = 404, body = ErrorBody)))]
async fn get_package(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let package = ops::package::get(&state.ctx(), &caller.actor, id).await?;
    Ok(with_etag(
        package.version,
        Json(PackageOut::from_model(&package)),
    ))
}

/// Changes a package: name, prices; the service of a master (copied to the
/// packages derived from it and to their customers' RADIUS rows).
#[utoipa::path(patch, path = "/packages/{id}", tag = "packages", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "the version read")),
    request_body = PackageBody,
    responses((status = 200, body = PackageOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_package(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<PackageBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::new();
    for (given, field) in [
        (body.tenant_id.is_some(), "tenant_id"),
        (body.parent_id.is_some(), "parent_id"),
        (body.owner_id.is_some(), "owner_id"),
    ] {
        if given {
            errors.push(FieldError::new(field, "immutable"));
        }
    }
    let changes = PackageChanges {
        name: body
            .name
            .as_deref()
            .and_then(|n| errors.take(rules::parse_name(n))),
        service: if body.has_service() {
            body.service(&mut errors)
        } else {
            None
        },
        price: body
            .price
            .and_then(|p| errors.take(Money::from_minor("price", p))),
        cost_price: body
            .cost_price
            .and_then(|p| errors.take(Money::from_minor("cost_price", p))),
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(&errors));
    }
    let version = if_match.resolve(body.version)?;
    let package = ops::package::update(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        version,
        &changes,
    )
    .await?;
    Ok(with_etag(
        package.version,
        Json(PackageOut::from_model(&package)),
    ))
}

/// Deletes (archives) a package no customer and no derived package uses.
#[utoipa::path(delete, path = "/packages/{id}", tag = "packages", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn delete_package(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    ops::package::archive(&state.ctx(), &caller.actor, caller.author, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
