//! `/api/v1/custom-fields`: a tenant's custom field definitions for its customers. Everyone
//! in the tenant reads them; those who may change its settings define them. A definition
//! no customer holds a value for may be deleted; one in use is retired with
//! `active: false` (its values stay, out of sight, until it is active again).

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
use crate::http::path::Id;
use crate::http::query::Query;
use crate::http::version::{IfMatch, with_etag};
use crate::state::AppState;
use domain::custom_field::{DefinitionInput, FieldKind};
use domain::ids::TenantId;
use store::custom_field::Definition;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_fields, create_field))
        .routes(routes!(get_field, update_field, delete_field))
}

/// A custom field definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomFieldOut {
    id: i64,
    tenant_id: TenantId,
    /// `a-z 0-9 _`, unique in the tenant: the name in a customer's `custom_fields`, the
    /// CSV column `field:<key>` and the list filter `field=<key>`.
    key: String,
    label: String,
    kind: FieldKind,
    /// The options of a select field.
    options: Vec<String>,
    required: bool,
    /// Shown as a column of the customer list.
    in_list: bool,
    position: i32,
    active: bool,
    version: i32,
}

impl CustomFieldOut {
    /// The API view of a stored definition.
    pub fn from_model(d: &Definition) -> Self {
        Self {
            id: d.id,
            tenant_id: TenantId(d.tenant_id),
            key: d.key.clone(),
            label: d.label.clone(),
            kind: d.kind.get(),
            options: store::custom_field::options(d),
            required: d.required,
            in_list: d.in_list,
            position: d.position,
            active: d.active,
            version: d.version,
        }
    }
}

/// The definitions of a tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomFieldList {
    items: Vec<CustomFieldOut>,
}

/// Whose definitions.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FieldsQuery {
    /// The tenant (platform roles); others read their own.
    tenant_id: Option<i64>,
}

/// A new definition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFieldBody {
    tenant_id: Option<i64>,
    /// 1 to 40 of `a-z 0-9 _`, starting with a letter; fixed once created.
    key: String,
    /// 1 to 80 characters.
    label: String,
    /// `text`, `number`, `date`, `select` or `checkbox`; fixed once created.
    kind: String,
    /// A select field's options: 1 to 50, each 1 to 80 characters, distinct.
    #[serde(default)]
    options: Option<Vec<String>>,
    /// Every customer must have a value (not for a checkbox).
    #[serde(default)]
    required: bool,
    #[serde(default)]
    in_list: bool,
    /// 0 to 9999 (default: after the others).
    position: Option<i32>,
}

/// Changes to a definition; the key and the kind stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFieldBody {
    label: Option<String>,
    /// A select field's options; an option a customer holds may not be removed.
    options: Option<Vec<String>>,
    required: Option<bool>,
    in_list: Option<bool>,
    position: Option<i32>,
    /// `false` retires the field: its values stay, out of every form, list and export.
    active: Option<bool>,
    version: Option<i32>,
}

/// The version a delete acts on.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    version: Option<i32>,
}

/// The custom field definitions of the caller's tenant (or the one named), in their order.
#[utoipa::path(get, path = "/custom-fields", tag = "customers", security(("bearer" = [])), params(FieldsQuery),
    responses((status = 200, body = CustomFieldList), (status = 422, body = ErrorBody)))]
async fn list_fields(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<FieldsQuery>,
) -> Result<Json<CustomFieldList>, ApiError> {
    let ctx = state.ctx();
    let tenant =
        ops::custom_field::tenant_for(&ctx, &caller.actor, query.tenant_id.map(TenantId)).await?;
    let defs = ops::custom_field::list(&ctx, &caller.actor, TenantId(tenant.id)).await?;
    Ok(Json(CustomFieldList {
        items: defs.iter().map(CustomFieldOut::from_model).collect(),
    }))
}

/// Defines a custom field.
#[utoipa::path(post, path = "/custom-fields", tag = "customers", security(("bearer" = [])), request_body = CreateFieldBody,
    responses((status = 201, body = CustomFieldOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_field(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateFieldBody>,
) -> Result<Response, ApiError> {
    let input = DefinitionInput {
        key: Some(body.key),
        label: Some(body.label),
        kind: Some(body.kind),
        options: body.options,
        required: Some(body.required),
        in_list: Some(body.in_list),
        position: body.position,
        active: None,
    };
    let tenant = body.tenant_id.map(TenantId);
    let saved =
        ops::custom_field::create(&state.ctx(), &caller.actor, caller.author, tenant, &input)
            .await?;
    Ok(with_etag(
        saved.version,
        (
            StatusCode::CREATED,
            Json(CustomFieldOut::from_model(&saved)),
        ),
    ))
}

/// One definition.
#[utoipa::path(get, path = "/custom-fields/{id}", tag = "customers", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CustomFieldOut), (status = 404, body = ErrorBody)))]
async fn get_field(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let found = ops::custom_field::get(&state.ctx(), &caller.actor, id).await?;
    Ok(with_etag(
        found.version,
        Json(CustomFieldOut::from_model(&found)),
    ))
}

/// Changes a definition (label, options, required, list column, position, active).
#[utoipa::path(patch, path = "/custom-fields/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "the version read")),
    request_body = UpdateFieldBody,
    responses((status = 200, body = CustomFieldOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_field(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<UpdateFieldBody>,
) -> Result<Response, ApiError> {
    let version = if_match.resolve(body.version)?;
    let input = DefinitionInput {
        key: None,
        label: body.label,
        kind: None,
        options: body.options,
        required: body.required,
        in_list: body.in_list,
        position: body.position,
        active: body.active,
    };
    let saved = ops::custom_field::update(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        version,
        &input,
    )
    .await?;
    Ok(with_etag(
        saved.version,
        Json(CustomFieldOut::from_model(&saved)),
    ))
}

/// Deletes a definition no customer holds a value for (422 `in_use` otherwise: set
/// `active: false` instead).
#[utoipa::path(delete, path = "/custom-fields/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = i64, Path), DeleteQuery, ("If-Match" = Option<String>, Header, description = "the version read")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn delete_field(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    if_match: IfMatch,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    let version = if_match.resolve(query.version)?;
    ops::custom_field::delete(&state.ctx(), &caller.actor, caller.author, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}
