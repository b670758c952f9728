//! `/api/v1/users`: list, create, read, change and delete (archive) staff users, and the
//! API view of a stored user ([`UserOut`]).

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
use domain::access::{Permission, Role};
use domain::field::FieldErrors;
use domain::ids::{TenantId, UserId};
use domain::user::{self as rules, Email, NewUser, Password, UserStatus};
use ops::OpError;
use store::user::{LIST, User, UserFilter};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
}

/// A staff user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    id: UserId,
    email: String,
    name: String,
    role: Role,
    /// Absent for Developer and Super Admin.
    tenant_id: Option<TenantId>,
    /// The operator above a sub-operator or card distributor.
    parent_id: Option<UserId>,
    /// Granted permissions (Manager and Staff).
    permissions: Vec<Permission>,
    status: UserStatus,
    totp_enabled: bool,
    /// Send back in `If-Match` to change it.
    version: i32,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<&User> for UserOut {
    type Error = OpError;

    /// The API view of a stored user; refused when its role level is no role.
    fn try_from(u: &User) -> Result<Self, OpError> {
        Ok(Self {
            id: UserId(u.id),
            email: u.email.clone(),
            name: u.name.clone(),
            role: store::user::role(u)?,
            tenant_id: u.tenant_id.map(TenantId),
            parent_id: u.parent_id.map(UserId),
            permissions: store::user::permissions(u).iter().collect(),
            status: u.status.get(),
            totp_enabled: u.totp_enabled,
            version: u.version,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
        })
    }
}

/// A new staff user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    email: String,
    /// 10 characters or more.
    password: String,
    name: String,
    /// `developer` … `card_distributor`.
    role: String,
    /// Required for roles from `admin` down; absent for `developer` and `super_admin`.
    tenant_id: Option<i64>,
    /// The operator (for a sub-operator or card distributor).
    parent_id: Option<i64>,
    /// For `manager` and `staff`: permissions to grant.
    #[serde(default)]
    permissions: Vec<String>,
}

/// Changes to a staff user; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    name: Option<String>,
    email: Option<String>,
    password: Option<String>,
    /// `active` or `disabled`.
    status: Option<String>,
    permissions: Option<Vec<String>>,
    /// A new parent; `null` detaches.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    parent_id: Option<Option<i64>>,
    /// The version read (or send `If-Match`).
    version: Option<i32>,
    /// An operator's or sub-operator's account: `prepaid` (spends what it holds) or
    /// `credit`. Changed alone, by the tenant's Admin (the tenant covers the credit) or by a
    /// sub-operator's operator (which covers it from its own balance); no version needed.
    account_type: Option<String>,
    /// The credit line of a `credit` account, in minor units; `null` for unlimited.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    credit_limit: Option<Option<i64>>,
}

impl UpdateUserBody {
    /// True if a field other than the account terms is set.
    fn changes_the_user(&self) -> bool {
        self.name.is_some()
            || self.email.is_some()
            || self.password.is_some()
            || self.status.is_some()
            || self.permissions.is_some()
            || self.parent_id.is_some()
    }
}

fn double_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// Filters and paging of the user list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Only this role.
    role: Option<String>,
    /// Only this tenant.
    tenant_id: Option<i64>,
    /// Only children of this user.
    parent_id: Option<i64>,
    /// `active`, `disabled` or `archived` (default: all but archived).
    status: Option<String>,
    /// E-mail prefix or part of the name.
    q: Option<String>,
    /// `id` (default), `email`, `name`, `role`, `created_at`; `-` for descending.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Where a deleted user's children go.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The new parent of the deleted user's children (default: the deleted user's parent).
    reassign_to: Option<i64>,
}

/// Lists the users the caller sees.
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])), params(UserQuery),
    responses((status = 200, body = ListResponse<UserOut>), (status = 422, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<UserQuery>,
) -> Result<Json<ListResponse<UserOut>>, ApiError> {
    let page = page_request(
        &LIST,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let mut errors = FieldErrors::new();
    let role = query
        .role
        .as_deref()
        .and_then(|r| errors.take(rules::parse_role(r)));
    let status = query.status.as_deref().and_then(|s| {
        errors.take(
            UserStatus::parse(s)
                .ok_or_else(|| domain::field::FieldError::new("status", "unknown_status")),
        )
    });
    if !errors.is_empty() {
        return Err(ApiError::invalid(&errors));
    }
    let filter = UserFilter {
        role,
        tenant_id: query.tenant_id.map(TenantId),
        parent_id: query.parent_id.map(UserId),
        status,
        search: query.q,
    };
    let users = ops::user::list(&state.ctx(), &caller.actor, &filter, &page).await?;
    let users = ListResponse::try_from_page(users, |u| UserOut::try_from(&u))?;
    Ok(Json(users))
}

/// Creates a staff user, as far as the caller's role allows.
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])), request_body = CreateUserBody,
    responses((status = 201, body = UserOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateUserBody>,
) -> Result<Response, ApiError> {
    let user = NewUser::parse(
        &body.email,
        &body.password,
        &body.name,
        &body.role,
        &body.permissions,
    )?;
    let input = ops::user::CreateUser {
        user,
        tenant_id: body.tenant_id.map(TenantId),
        parent_id: body.parent_id.map(UserId),
    };
    let user = ops::user::create(&state.ctx(), &caller.actor, caller.author, input).await?;
    let out = UserOut::try_from(&user)?;
    Ok(with_etag(user.version, (StatusCode::CREATED, Json(out))))
}

/// One user.
#[utoipa::path(get, path = "/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = UserOut), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let user = ops::user::get(&state.ctx(), &caller.actor, UserId(id)).await?;
    Ok(with_etag(user.version, Json(UserOut::try_from(&user)?)))
}

/// Changes a user the caller manages: name, e-mail, password, status, permissions, parent;
/// or, alone, a reseller's account terms (`account_type`, `credit_limit`).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "the version read")),
    request_body = UpdateUserBody,
    responses((status = 200, body = UserOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody), (status = 428, body = ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<UpdateUserBody>,
) -> Result<Response, ApiError> {
    if body.account_type.is_some() || body.credit_limit.is_some() {
        if body.changes_the_user() {
            return Err(domain::field::FieldError::new("account_type", "must_be_alone").into());
        }
        let kind = body.account_type.as_deref().unwrap_or("credit");
        let terms = domain::ledger::AccountTerms::parse(kind, body.credit_limit.flatten())?;
        let ctx = state.ctx();
        ops::ledger::set_terms(&ctx, &caller.actor, caller.author, UserId(id), terms).await?;
        let user = ops::user::get(&ctx, &caller.actor, UserId(id)).await?;
        return Ok(with_etag(user.version, Json(UserOut::try_from(&user)?)));
    }
    let mut errors = FieldErrors::new();
    let input = ops::user::UpdateUser {
        name: body
            .name
            .as_deref()
            .and_then(|n| errors.take(rules::parse_name(n))),
        email: body
            .email
            .as_deref()
            .and_then(|e| errors.take(Email::parse(e))),
        password: body
            .password
            .as_deref()
            .and_then(|p| errors.take(Password::parse("password", p))),
        status: body.status.as_deref().and_then(|s| {
            errors.take(match UserStatus::parse(s) {
                Some(UserStatus::Archived) | None => {
                    Err(domain::field::FieldError::new("status", "unknown_status"))
                }
                Some(status) => Ok(status),
            })
        }),
        permissions: body
            .permissions
            .as_deref()
            .and_then(|p| errors.take(rules::parse_permissions(p))),
        parent_id: body.parent_id.map(|p| p.map(UserId)),
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(&errors));
    }
    let version = if_match.resolve(body.version)?;
    let user = ops::user::update(
        &state.ctx(),
        &caller.actor,
        caller.author,
        UserId(id),
        version,
        input,
    )
    .await?;
    Ok(with_etag(user.version, Json(UserOut::try_from(&user)?)))
}

/// Deletes (archives) a user the caller manages; its children are reassigned first.
#[utoipa::path(delete, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path), DeleteQuery),
    responses((status = 200, body = UserOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn delete_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    Query(query): Query<DeleteQuery>,
) -> Result<Json<UserOut>, ApiError> {
    let user = ops::user::archive(
        &state.ctx(),
        &caller.actor,
        caller.author,
        UserId(id),
        query.reassign_to.map(UserId),
    )
    .await?;
    Ok(Json(UserOut::try_from(&user)?))
}
