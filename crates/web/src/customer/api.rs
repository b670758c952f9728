//! `/api/v1/customers`: the customer list (filters, search, paging), creation, reading,
//! changes (with shortcuts to suspend, resume, disable and set the password), deletion, the
//! CSV import and the CSV export. A customer's custom fields travel as `custom_fields`, an
//! object by field key, read and written with the customer.

use std::net::Ipv4Addr;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
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
use domain::customer::{
    ChangesInput, CustomerInput, CustomerState, StatusAction, mobile_search_prefix, read_billing,
    read_connection,
};
use domain::field::{FieldError, FieldErrors};
use domain::ids::{TenantId, UserId};
use domain::network::MacAddr;
use store::customer::{Customer, CustomerFilter, LIST, Search, StatusFilter};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers, create_customer))
        .routes(routes!(get_customer, update_customer, delete_customer))
        .routes(routes!(suspend_customer))
        .routes(routes!(resume_customer))
        .routes(routes!(disable_customer))
        .routes(routes!(get_password, set_password))
        .routes(routes!(super::import::import_customers))
}

fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    id: i64,
    tenant_id: TenantId,
    /// The owning operator (also set when a sub-operator owns it).
    operator_id: Option<UserId>,
    /// The owning sub-operator.
    sub_operator_id: Option<UserId>,
    package_id: i64,
    connection_type: String,
    billing_type: String,
    name: String,
    /// E.164.
    mobile: Option<String>,
    email: Option<String>,
    address: String,
    zone_id: Option<i64>,
    router_id: Option<i64>,
    /// The RADIUS user name.
    username: String,
    /// The stored status: `active`, `suspended` or `disabled`.
    status: String,
    /// What the customer gets now: the status, or `expired` past the expiry of a prepaid one.
    state: String,
    expires_at: Option<DateTime<Utc>>,
    static_ip: Option<String>,
    ip_pool_id: Option<i64>,
    /// The MAC it is bound to.
    mac: Option<String>,
    simultaneous_use: i32,
    /// A monthly PPPoE customer's own price, in minor units (absent: its package's).
    custom_price: Option<i64>,
    /// A session of it is open (live, as the router's accounting says).
    online: bool,
    comment: String,
    /// Its custom fields' values by key (active fields only): text, dates and options as
    /// strings, numbers as numbers, checkboxes as booleans.
    #[schema(value_type = Object)]
    custom_fields: serde_json::Value,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CustomerOut {
    /// The same customer with its custom fields' values (`held`, by field id) as the
    /// active definitions among `defs` name them.
    pub fn with_fields(
        mut self,
        defs: &[store::custom_field::Definition],
        held: &std::collections::HashMap<i64, String>,
    ) -> Self {
        let active: Vec<_> = defs.iter().filter(|d| d.active).cloned().collect();
        self.custom_fields = store::custom_field::as_json(&active, held);
        self
    }

    /// The API view of a stored customer at `now`, online or not.
    pub fn from_model(c: &Customer, now: DateTime<Utc>, online: bool) -> Self {
        let state = CustomerState::of(c.status.get(), c.billing_type.get(), c.expires_at, now);
        Self {
            id: c.id,
            tenant_id: TenantId(c.tenant_id),
            operator_id: c.operator_id.map(UserId),
            sub_operator_id: c.sub_operator_id.map(UserId),
            package_id: c.package_id,
            connection_type: c.connection_type.code().to_owned(),
            billing_type: c.billing_type.code().to_owned(),
            name: c.name.clone(),
            mobile: c.mobile.clone(),
            email: c.email.clone(),
            address: c.address.clone(),
            zone_id: c.zone_id,
            router_id: c.router_id,
            username: c.username.clone(),
            status: c.status.code().to_owned(),
            state: state.as_str().to_owned(),
            expires_at: c.expires_at,
            static_ip: store::customer::static_ip(c).map(|ip| ip.to_string()),
            ip_pool_id: c.ip_pool_id,
            mac: c.mac.clone(),
            simultaneous_use: c.simultaneous_use,
            custom_price: c.custom_price,
            online,
            comment: c.comment.clone(),
            custom_fields: serde_json::Value::Object(serde_json::Map::new()),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A customer just created, with its password when lastmile made one up.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCustomer {
    #[serde(flatten)]
    customer: CustomerOut,
    /// The password made up for it (shown this once), when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

/// A new customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerBody {
    tenant_id: Option<i64>,
    /// The owning operator or sub-operator (default: the caller if it is one, else the
    /// tenant).
    owner_id: Option<i64>,
    /// A package of the owner (a master package for the tenant), of the connection type.
    package_id: i64,
    /// `pppoe`, `hotspot`, `static_ip` or `other` (default: the package's); the package
    /// must be of this type.
    connection_type: Option<String>,
    /// `prepaid`, `postpaid` or `free` (default: the tenant's default).
    billing_type: Option<String>,
    name: String,
    /// Written nationally or in E.164; required for hotspot customers.
    mobile: Option<String>,
    email: Option<String>,
    #[serde(default)]
    address: String,
    zone_id: Option<i64>,
    router_id: Option<i64>,
    /// Required except for hotspot customers (whose user name is `<mobile>@<realm>`).
    username: Option<String>,
    /// Default: a random one, returned once.
    password: Option<String>,
    /// `active` (default), `suspended` or `disabled`.
    status: Option<String>,
    /// Default for prepaid: now plus the package's validity, or, for a customer created by a
    /// reseller, no time until its first recharge (a reseller may not give time by hand:
    /// 422 `recharge_required`, and free billing: 422 `owner_only`).
    expires_at: Option<DateTime<Utc>>,
    /// A static address from `ip_pool_id`.
    static_ip: Option<String>,
    /// The pool of the static address, or the customer's own address pool.
    ip_pool_id: Option<i64>,
    /// Allocate the first free address of `ip_pool_id` as a static address.
    #[serde(default)]
    allocate_static_ip: bool,
    mac: Option<String>,
    simultaneous_use: Option<i32>,
    #[serde(default)]
    comment: String,
    /// Custom field values by key (see `/custom-fields`); every required field must be
    /// given.
    #[serde(default)]
    #[schema(value_type = Object)]
    custom_fields: serde_json::Map<String, serde_json::Value>,
}

/// Custom field values as sent, by key.
fn field_inputs(
    map: serde_json::Map<String, serde_json::Value>,
) -> Vec<(String, domain::custom_field::FieldInput)> {
    map.iter()
        .map(|(k, v)| (k.clone(), domain::custom_field::FieldInput::from_json(v)))
        .collect()
}

impl CreateCustomerBody {
    /// The input of the create operation, as sent.
    pub fn input(self) -> CustomerInput {
        CustomerInput {
            tenant_id: self.tenant_id.map(TenantId),
            owner_id: self.owner_id.map(UserId),
            package_id: Some(self.package_id),
            connection_type: self.connection_type,
            billing_type: self.billing_type,
            name: self.name,
            mobile: self.mobile,
            email: self.email,
            address: self.address,
            zone_id: self.zone_id,
            router_id: self.router_id,
            username: self.username,
            password: self.password,
            status: self.status,
            expires_at: self.expires_at.map(|t| t.to_rfc3339()),
            static_ip: self.static_ip,
            ip_pool_id: self.ip_pool_id,
            allocate_static: self.allocate_static_ip,
            mac: self.mac,
            simultaneous_use: self.simultaneous_use.map(|n| n.to_string()),
            comment: self.comment,
            custom_fields: field_inputs(self.custom_fields),
        }
    }
}

/// Changes to a customer; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomerBody {
    name: Option<String>,
    /// `""` or `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    mobile: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    address: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    zone_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    router_id: Option<Option<i64>>,
    /// A rename: the old name rests 90 days before anyone else may take it.
    username: Option<String>,
    password: Option<String>,
    /// `active`, `suspended` or `disabled`.
    status: Option<String>,
    /// A package of the owner, of the customer's connection type.
    package_id: Option<i64>,
    billing_type: Option<String>,
    /// A reseller may only shorten paid prepaid time, and changes a package with live time
    /// by a recharge (422 `recharge_required`).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    expires_at: Option<Option<DateTime<Utc>>>,
    /// A static address (from `ip_pool_id`); `null` releases it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    static_ip: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    ip_pool_id: Option<Option<i64>>,
    /// `null` removes the MAC binding.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    mac: Option<Option<String>>,
    simultaneous_use: Option<i32>,
    comment: Option<String>,
    /// Custom field values to change, by key; `null` (or `""`) removes one. A required
    /// field may not be removed, and must be filled when any custom field is sent.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    custom_fields: serde_json::Map<String, serde_json::Value>,
    version: Option<i32>,
}

impl UpdateCustomerBody {
    /// The changes asked for; `null` clears an optional field (an empty text to the
    /// operation).
    fn changes(self) -> ChangesInput {
        let cleared = |v: Option<Option<String>>| v.map(Option::unwrap_or_default);
        ChangesInput {
            name: self.name,
            mobile: cleared(self.mobile),
            email: cleared(self.email),
            address: self.address,
            zone_id: self.zone_id,
            router_id: self.router_id,
            username: self.username,
            password: self.password,
            status: self.status,
            package_id: self.package_id,
            billing_type: self.billing_type,
            expires_at: self
                .expires_at
                .map(|t| t.map(|t| t.to_rfc3339()).unwrap_or_default()),
            static_ip: cleared(self.static_ip),
            ip_pool_id: self.ip_pool_id,
            mac: cleared(self.mac),
            simultaneous_use: self.simultaneous_use.map(|n| n.to_string()),
            comment: self.comment,
            custom_fields: field_inputs(self.custom_fields),
        }
    }
}

/// Filters, search and paging of the customer list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    tenant_id: Option<i64>,
    /// `active`, `expired`, `expires_today`, `suspended` or `disabled`.
    status: Option<String>,
    connection_type: Option<String>,
    billing_type: Option<String>,
    package_id: Option<i64>,
    router_id: Option<i64>,
    zone_id: Option<i64>,
    /// Customers of this operator or sub-operator.
    owner_id: Option<i64>,
    expires_before: Option<DateTime<Utc>>,
    expires_after: Option<DateTime<Utc>>,
    /// A static address.
    ip: Option<String>,
    mac: Option<String>,
    /// `true`: customers with a live session; `false`: those without.
    online: Option<bool>,
    /// Search: user name prefix, part of the name (3 characters or more), mobile, IP, MAC.
    q: Option<String>,
    /// A custom field's key (of the tenant listed): only customers whose value matches
    /// `field_value`.
    field: Option<String>,
    /// The value for `field`: a prefix of a text field (ignoring case), a number or a
    /// `YYYY-MM-DD` day as such, one of a select field's options, `true` or `false`.
    field_value: Option<String>,
    /// `-id` (default), `id`, `name`, `username`, `created_at`, `expires_at` (customers with
    /// an expiry only); `-` for descending.
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

impl CustomerQuery {
    /// The tenant filtered on.
    pub fn tenant_id(&self) -> Option<i64> {
        self.tenant_id
    }

    /// The store filter at `now`, with "today" and mobile numbers read in `tenant`'s terms.
    pub fn filter(
        &self,
        now: DateTime<Utc>,
        tenant: Option<&store::tenant::Tenant>,
    ) -> Result<CustomerFilter, FieldErrors> {
        let mut errors = FieldErrors::new();
        let zone = tenant.map_or(chrono_tz::UTC, |t| {
            domain::locale::TimeZoneName::parse("time_zone", &t.time_zone)
                .map_or(chrono_tz::UTC, |z| z.zone())
        });
        let search = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| Search {
                text: q.chars().take(64).collect(),
                ip_range: domain::network::ipv4_prefix(q),
                mac_prefix: domain::network::mac_prefix(q),
                mobile_prefix: tenant
                    .and_then(ops::customer::mobile_country)
                    .and_then(|c| mobile_search_prefix(q, &c)),
            });
        let filter = CustomerFilter {
            tenant_id: self.tenant_id.map(TenantId),
            status: self.status.as_deref().and_then(|s| {
                errors.take(
                    StatusFilter::parse(s)
                        .ok_or_else(|| FieldError::new("status", "unknown_status")),
                )
            }),
            connection_type: self
                .connection_type
                .as_deref()
                .and_then(|c| errors.take(read_connection(c))),
            billing_type: self
                .billing_type
                .as_deref()
                .and_then(|b| errors.take(read_billing(b))),
            package_id: self.package_id,
            router_id: self.router_id,
            zone_id: self.zone_id,
            zone_ids: Vec::new(),
            owner_id: self.owner_id.map(UserId),
            expires_before: self.expires_before,
            expires_after: self.expires_after,
            ip: self
                .ip
                .as_deref()
                .and_then(|ip| {
                    errors.take(
                        ip.trim()
                            .parse::<Ipv4Addr>()
                            .map_err(|_| FieldError::new("ip", "invalid_ip")),
                    )
                })
                .map(u32::from),
            mac: self
                .mac
                .as_deref()
                .and_then(|m| {
                    errors.take(
                        MacAddr::parse(m).ok_or_else(|| FieldError::new("mac", "invalid_mac")),
                    )
                })
                .map(|m| m.to_string()),
            online: self.online,
            search,
            custom_field: None,
            now,
            today: ops::customer::today(now, zone),
        };
        errors.finish(|| Some(filter))
    }

    /// The filter at `now` with its custom field condition, read in `tenant`'s terms (a
    /// field is a tenant's: without a tenant it is refused).
    pub async fn full_filter(
        &self,
        ctx: &ops::Ctx<'_>,
        now: DateTime<Utc>,
        tenant: Option<&store::tenant::Tenant>,
    ) -> Result<CustomerFilter, ops::OpError> {
        let mut filter = self.filter(now, tenant)?;
        let key = self
            .field
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if let Some(key) = key {
            let value = self.field_value.as_deref().unwrap_or("");
            let tenant = tenant.map(|t| TenantId(t.id));
            filter.custom_field =
                Some(ops::custom_field::list_filter(ctx, tenant, key, value).await?);
        }
        Ok(filter)
    }
}

/// The customers of a page with their custom fields, as the API shows them.
pub async fn with_fields(
    state: &AppState,
    tenant: Option<&store::tenant::Tenant>,
    customers: Vec<(Customer, CustomerOut)>,
) -> Result<Vec<CustomerOut>, ApiError> {
    let ctx = state.ctx();
    let ids: Vec<i64> = customers.iter().map(|(c, _)| c.id).collect();
    let mut values = ops::custom_field::values_among(&ctx, &ids).await?;
    let mut defs: std::collections::HashMap<i64, Vec<store::custom_field::Definition>> =
        std::collections::HashMap::new();
    if let Some(t) = tenant {
        defs.insert(
            t.id,
            ops::custom_field::of_tenant(&ctx, TenantId(t.id)).await?,
        );
    }
    let mut out = Vec::with_capacity(customers.len());
    for (c, view) in customers {
        if let std::collections::hash_map::Entry::Vacant(e) = defs.entry(c.tenant_id) {
            e.insert(ops::custom_field::of_tenant(&ctx, TenantId(c.tenant_id)).await?);
        }
        let held = values.remove(&c.id).unwrap_or_default();
        let tenant_defs = defs.get(&c.tenant_id).map_or(&[][..], Vec::as_slice);
        out.push(view.with_fields(tenant_defs, &held));
    }
    Ok(out)
}

/// The tenant whose terms a list is read in: the one filtered on, else the caller's.
async fn list_tenant(
    state: &AppState,
    caller: &ApiCaller,
    query_tenant: Option<i64>,
) -> Result<Option<store::tenant::Tenant>, ApiError> {
    Ok(list_tenant_of(state, &caller.actor, query_tenant).await?)
}

/// The tenant whose terms `actor`'s list is read in: the one filtered on, else its own.
pub(crate) async fn list_tenant_of(
    state: &AppState,
    actor: &domain::access::Actor,
    query_tenant: Option<i64>,
) -> Result<Option<store::tenant::Tenant>, ops::OpError> {
    let id = query_tenant.map(TenantId).or(actor.tenant_id);
    match id {
        Some(id) => {
            Ok(
                store::tenant::find(state.db.conn(), &domain::access::tenant_scope(actor), id)
                    .await?,
            )
        }
        None => Ok(None),
    }
}

/// Lists the customers the caller sees.
#[utoipa::path(get, path = "/customers", tag = "customers", security(("bearer" = [])), params(CustomerQuery),
    responses((status = 200, body = ListResponse<CustomerOut>), (status = 422, body = ErrorBody)))]
async fn list_customers(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<CustomerQuery>,
) -> Result<Json<ListResponse<CustomerOut>>, ApiError> {
    let page = page_request(
        &LIST,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let now = state.clock.now();
    let tenant = list_tenant(&state, &caller, query.tenant_id).await?;
    let filter = query
        .full_filter(&state.ctx(), now, tenant.as_ref())
        .await?;
    let by_expiry = query
        .sort
        .as_deref()
        .is_some_and(|s| s.trim_start_matches('-') == "expires_at");
    let customers =
        ops::customer::list(&state.ctx(), &caller.actor, &filter, &page, by_expiry).await?;
    let online = ops::online::online_among(&state.ctx(), &customers.items).await?;
    let views = customers
        .items
        .iter()
        .map(|c| {
            (
                c.clone(),
                CustomerOut::from_model(c, now, online.contains(&c.id)),
            )
        })
        .collect();
    let views = with_fields(&state, tenant.as_ref(), views).await?;
    Ok(Json(ListResponse {
        items: views,
        next_cursor: customers.next_cursor,
        total: customers.total,
        total_capped: customers.total_capped,
    }))
}

/// One customer as the API shows it, custom fields included.
async fn shown(
    state: &AppState,
    customer: &Customer,
    online: bool,
) -> Result<CustomerOut, ApiError> {
    let view = CustomerOut::from_model(customer, state.clock.now(), online);
    let mut views = with_fields(state, None, vec![(customer.clone(), view)]).await?;
    views.pop().ok_or_else(|| ops::OpError::NotFound.into())
}

/// Creates a customer and its FreeRADIUS rows.
#[utoipa::path(post, path = "/customers", tag = "customers", security(("bearer" = [])), request_body = CreateCustomerBody,
    responses((status = 201, body = CreatedCustomer), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateCustomerBody>,
) -> Result<Response, ApiError> {
    let input = body.input();
    let (customer, password) =
        ops::customer::create(&state.ctx(), &caller.actor, caller.author, &input).await?;
    let out = CreatedCustomer {
        customer: shown(&state, &customer, false).await?,
        password,
    };
    Ok(with_etag(
        customer.version,
        (StatusCode::CREATED, Json(out)),
    ))
}

/// One customer.
#[utoipa::path(get, path = "/customers/{id}", tag = "customers", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CustomerOut), (status = 404, body = ErrorBody)))]
async fn get_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let customer = ops::customer::get(&state.ctx(), &caller.actor, id).await?;
    let online = ops::online::is_online(&state.ctx(), &customer).await?;
    Ok(with_etag(
        customer.version,
        Json(shown(&state, &customer, online).await?),
    ))
}

async fn apply(
    state: &AppState,
    caller: ApiCaller,
    id: i64,
    version: i32,
    changes: ChangesInput,
) -> Result<Response, ApiError> {
    let customer = ops::customer::update(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        version,
        &changes,
    )
    .await?;
    let online = ops::online::is_online(&state.ctx(), &customer).await?;
    Ok(with_etag(
        customer.version,
        Json(shown(state, &customer, online).await?),
    ))
}

/// Changes a customer; its FreeRADIUS rows follow in the same transaction.
#[utoipa::path(patch, path = "/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "the version read")),
    request_body = UpdateCustomerBody,
    responses((status = 200, body = CustomerOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<UpdateCustomerBody>,
) -> Result<Response, ApiError> {
    let version = if_match.resolve(body.version)?;
    apply(&state, caller, id, version, body.changes()).await
}

/// The version a shortcut acts on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    version: Option<i32>,
}

async fn set_status(
    state: AppState,
    caller: ApiCaller,
    id: i64,
    if_match: IfMatch,
    body: VersionBody,
    action: StatusAction,
) -> Result<Response, ApiError> {
    let version = if_match.resolve(body.version)?;
    let changes = ChangesInput {
        status: Some(action.target().as_str().to_owned()),
        ..Default::default()
    };
    apply(&state, caller, id, version, changes).await
}

/// Suspends a customer: it gets what the tenant's suspension policy says.
#[utoipa::path(post, path = "/customers/{id}/suspend", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = CustomerOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
async fn suspend_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<VersionBody>,
) -> Result<Response, ApiError> {
    set_status(state, caller, id, if_match, body, StatusAction::Suspend).await
}

/// Resumes a suspended or disabled customer.
#[utoipa::path(post, path = "/customers/{id}/resume", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = CustomerOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
async fn resume_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<VersionBody>,
) -> Result<Response, ApiError> {
    set_status(state, caller, id, if_match, body, StatusAction::Resume).await
}

/// Disables a customer: RADIUS refuses it (whatever its expiry or the suspension policy)
/// until it is resumed.
#[utoipa::path(post, path = "/customers/{id}/disable", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = CustomerOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
async fn disable_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<VersionBody>,
) -> Result<Response, ApiError> {
    set_status(state, caller, id, if_match, body, StatusAction::Disable).await
}

/// A customer's password.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordOut {
    password: String,
}

/// A new password (default: a random one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: Option<String>,
    version: Option<i32>,
}

/// The customer's PPP or hotspot password (for those who may manage it).
#[utoipa::path(get, path = "/customers/{id}/password", tag = "customers", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = PasswordOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_password(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<PasswordOut>, ApiError> {
    Ok(Json(PasswordOut {
        password: ops::customer::password(&state.ctx(), &caller.actor, caller.author, id).await?,
    }))
}

/// Sets the customer's password (the given one, or a random one); returns it.
#[utoipa::path(post, path = "/customers/{id}/password", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PasswordBody,
    responses((status = 200, body = PasswordOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_password(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<Json<PasswordOut>, ApiError> {
    let version = if_match.resolve(body.version)?;
    let clear = body.password.unwrap_or_else(ops::customer::random_password);
    let changes = ChangesInput {
        password: Some(clear.clone()),
        ..Default::default()
    };
    ops::customer::update(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        version,
        &changes,
    )
    .await?;
    Ok(Json(PasswordOut { password: clear }))
}

/// Deletes (archives) a customer: RADIUS forgets it; its user name rests 90 days.
#[utoipa::path(delete, path = "/customers/{id}", tag = "customers", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    ops::customer::archive(&state.ctx(), &caller.actor, caller.author, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
