//! The customer's action buttons: suspend, resume, disable, change the password (shown once,
//! on the page that answers), change the package, rename, delete, disconnect (its live
//! sessions, through the enforcement ladder). Each is a POST with the
//! CSRF token and the version the page was read at; a refusal comes back on the customer's
//! page beside the field it concerns.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::page::{refused, with_password};
use crate::page::fallback::PageId;
use crate::page::form;
use crate::page::form::{FormData, PanelForm};
use crate::page::input;
use crate::page::session::PanelUser;
use crate::page::ui;
use crate::state::AppState;
use domain::customer::{ChangesInput, StatusAction};
use domain::field::{FieldError, FieldErrors};
use ops::OpError;

/// Applies `changes` and answers: back to the customer's page with `flash`, or the page with
/// the refusal.
async fn apply(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    form: &FormData,
    changes: ChangesInput,
    flash: &'static str,
) -> Response {
    let here = format!("/panel/customers/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let author = user.author.clone();
    let result =
        ops::customer::update(&state.ctx(), &user.actor, author, id, version, &changes).await;
    match result {
        Ok(_) => ui::redirect_with(&here, flash),
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(state, user, headers, id, form, &errors).await,
        Err(error) => ui::op_error(user, headers, &error),
    }
}

fn status(action: StatusAction) -> ChangesInput {
    ChangesInput {
        status: Some(action.target().as_str().to_owned()),
        ..Default::default()
    }
}

pub(super) async fn suspend(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let changes = status(StatusAction::Suspend);
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
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let changes = status(StatusAction::Resume);
    apply(&state, &user, &headers, id, &form, changes, "flash.resumed").await
}

pub(super) async fn disable(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let changes = status(StatusAction::Disable);
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
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let Some(package) = input::id(form.opt("package_id")) else {
        let errors = FieldErrors::one(FieldError::new("package_id", "required"));
        return refused(&state, &user, &headers, id, &form, &errors).await;
    };
    let changes = ChangesInput {
        package_id: Some(package),
        ..Default::default()
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
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let changes = ChangesInput {
        username: Some(form.text("username").to_owned()),
        ..Default::default()
    };
    apply(&state, &user, &headers, id, &form, changes, "flash.renamed").await
}

/// Sets the password typed (or a new random one) and shows it on the page that answers.
pub(super) async fn password(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let here = format!("/panel/customers/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let clear = form
        .get("password")
        .filter(|p| !p.is_empty())
        .map_or_else(ops::customer::random_password, str::to_owned);
    let changes = ChangesInput {
        password: Some(clear.clone()),
        ..Default::default()
    };
    let author = user.author.clone();
    let result =
        ops::customer::update(&state.ctx(), &user.actor, author, id, version, &changes).await;
    match result {
        Ok(_) => with_password(&state, &user, &headers, id, clear, "flash.password_set").await,
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

pub(super) async fn delete(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = ops::customer::archive(&state.ctx(), &user.actor, user.author.clone(), id).await;
    form::archived(
        result,
        &user,
        &headers,
        "/panel/customers",
        async |errors| refused(&state, &user, &headers, id, &form, &errors).await,
    )
    .await
}

pub(super) async fn disconnect(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let here = format!("/panel/customers/{id}");
    let author = user.author.clone();
    match ops::enforcement::disconnect(&state.ctx(), &user.actor, author, id).await {
        Ok(_) => {
            state.jobs_wake.notify_one();
            ui::redirect_with(&here, "flash.disconnecting")
        }
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
