//! The customer's action buttons: suspend, resume, disable, change the password (shown once,
//! on the page that answers), change the package, rename, delete. Each is a POST with the
//! CSRF token and the version the page was read at; a refusal comes back on the customer's
//! page beside the field it concerns.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::page::{refused, with_password};
use crate::page::form::FormData;
use crate::page::input;
use crate::page::session::PanelUser;
use crate::page::ui;
use crate::state::AppState;
use domain::customer::{CustomerStatus, PppPassword, Username};
use domain::field::{FieldError, FieldErrors};
use ops::OpError;
use ops::customer::CustomerUpdate;
use store::customer::CustomerChanges;

/// Applies `changes` and answers: back to the customer's page with `flash`, or the page with
/// the refusal.
async fn apply(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    form: &FormData,
    changes: Result<CustomerChanges, FieldErrors>,
    flash: &'static str,
) -> Response {
    if !form.csrf_ok(user) {
        return ui::error_page(user, headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    let here = format!("/panel/customers/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let result = match changes {
        Ok(changes) => {
            let update = CustomerUpdate {
                changes,
                mobile: None,
            };
            ops::customer::update(
                &state.ctx(),
                &user.actor,
                user.author.clone(),
                id,
                version,
                update,
            )
            .await
        }
        Err(errors) => Err(OpError::Invalid(errors)),
    };
    match result {
        Ok(_) => ui::redirect_with(&here, flash),
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(state, user, headers, id, form, &errors).await,
        Err(error) => ui::op_error(user, headers, &error),
    }
}

fn status(status: CustomerStatus) -> Result<CustomerChanges, FieldErrors> {
    Ok(CustomerChanges {
        status: Some(status),
        ..Default::default()
    })
}

pub(super) async fn suspend(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    let changes = status(CustomerStatus::Suspended);
    apply(
        &state,
        &user,
        &headers,
        id,
        &form,
        changes,
        "flash.suspended",
    )
    .await
}

pub(super) async fn resume(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    let changes = status(CustomerStatus::Active);
    apply(&state, &user, &headers, id, &form, changes, "flash.resumed").await
}

pub(super) async fn disable(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    let changes = status(CustomerStatus::Disabled);
    apply(
        &state,
        &user,
        &headers,
        id,
        &form,
        changes,
        "flash.disabled",
    )
    .await
}

pub(super) async fn change_package(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    let changes = match input::id(form.opt("package_id")) {
        Some(package) => Ok(CustomerChanges {
            package_id: Some(package),
            ..Default::default()
        }),
        None => Err(FieldErrors::one(FieldError::new("package_id", "required"))),
    };
    apply(
        &state,
        &user,
        &headers,
        id,
        &form,
        changes,
        "flash.package_changed",
    )
    .await
}

pub(super) async fn rename(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    let changes = Username::parse(form.text("username"))
        .map(|username| CustomerChanges {
            username: Some(username),
            ..Default::default()
        })
        .map_err(FieldErrors::one);
    apply(&state, &user, &headers, id, &form, changes, "flash.renamed").await
}

/// Sets the password typed (or a new random one) and shows it on the page that answers.
pub(super) async fn password(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    if !form.csrf_ok(&user) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    let here = format!("/panel/customers/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let clear = form
        .get("password")
        .filter(|p| !p.is_empty())
        .map_or_else(ops::customer::random_password, str::to_owned);
    let result = match PppPassword::parse("password", &clear) {
        Ok(password) => {
            let update = CustomerUpdate {
                changes: CustomerChanges {
                    password: Some(password),
                    ..Default::default()
                },
                mobile: None,
            };
            ops::customer::update(
                &state.ctx(),
                &user.actor,
                user.author.clone(),
                id,
                version,
                update,
            )
            .await
        }
        Err(error) => Err(OpError::from(error)),
    };
    match result {
        Ok(_) => with_password(&state, &user, &headers, id, clear, "flash.password_set").await,
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

pub(super) async fn delete(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    if !form.csrf_ok(&user) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    match ops::customer::archive(&state.ctx(), &user.actor, user.author.clone(), id).await {
        Ok(_) => ui::redirect_with("/panel/customers", "flash.deleted"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
