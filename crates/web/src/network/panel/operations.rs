//! The router page's operations: check it now, import from it (plan or do), provision it
//! (plan or apply) and roll the last provisioning back, push the packages' pools (plan or
//! apply), migrate its customers to RADIUS and roll that back; each queues its job
//! (`ops::router_health`, `ops::router_import`, `ops::provision`, `ops::pool_push`,
//! `ops::router_migration`) and shows the job's page, where the plan and what was done are
//! read.

use std::net::Ipv4Addr;

use axum::extract::State;
use axum::response::Response;

use crate::page::fallback::PageId;
use crate::page::form::{FormData, PanelForm};
use crate::page::ui;
use crate::state::AppState;
use domain::field::{FieldError, FieldErrors};
use domain::network::import::Choices;
use ops::OpError;
use ops::provision::ProvisionRequest;
use ops::router_import::ImportRequest;

/// The job's page, or the router page with why it was refused.
async fn queued(
    state: &AppState,
    form: PanelForm,
    id: i64,
    job: Result<store::job::Job, OpError>,
) -> Response {
    let PanelForm {
        user,
        headers,
        form,
    } = form;
    match job {
        Ok(job) => {
            state.jobs_wake.notify_one();
            ui::redirect_with(&format!("/panel/jobs/{}", job.id), "flash.job_queued")
        }
        Err(OpError::Invalid(errors)) => {
            super::routers::refused(state, &user, &headers, id, &form, &errors).await
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// Checks the router now.
pub(super) async fn check_health(
    State(state): State<AppState>,
    PageId(id): PageId,
    form: PanelForm,
) -> Response {
    let job =
        ops::router_health::submit(&state.ctx(), &form.user.actor, form.user.author.clone(), id)
            .await;
    queued(&state, form, id, job).await
}

/// Imports from the router, or plans it (`dry_run=yes`); profiles take the packages chosen
/// on the plan's page, or those of their names.
pub(super) async fn import(
    State(state): State<AppState>,
    PageId(id): PageId,
    form: PanelForm,
) -> Response {
    // `package:<profile>` fields (the plan's job page): a chosen package per profile; blank
    // leaves the profile to the package of its name.
    let mut packages = std::collections::BTreeMap::new();
    let mut errors = FieldErrors::new();
    for (field, value) in &form.form.0 {
        let Some(profile) = field.strip_prefix("package:") else {
            continue;
        };
        match value.trim() {
            "" => {}
            text => match text.parse::<i64>() {
                Ok(package) => {
                    packages.insert(profile.to_owned(), package);
                }
                Err(_) => {
                    errors.push(FieldError::new("packages", "not_usable").with("profile", profile))
                }
            },
        }
    }
    let request = ImportRequest {
        router_id: id,
        choices: Choices {
            packages,
            include_disabled: form.form.get("include_disabled").is_some(),
        },
        dry_run: form.form.text("dry_run") != "no",
        first_bill: form.form.get("first_bill").is_some(),
    };
    let job = if errors.is_empty() {
        ops::router_import::submit(
            &state.ctx(),
            &form.user.actor,
            form.user.author.clone(),
            &request,
        )
        .await
    } else {
        Err(OpError::Invalid(errors))
    };
    queued(&state, form, id, job).await
}

fn address(form: &FormData, field: &str, errors: &mut FieldErrors) -> Option<Ipv4Addr> {
    let text = form.text(field);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            errors.push(FieldError::new(field, "invalid_ip"));
            None
        }
    }
}

/// Provisions the router, or plans it (`dry_run=yes`).
pub(super) async fn provision(
    State(state): State<AppState>,
    PageId(id): PageId,
    form: PanelForm,
) -> Response {
    let mut errors = FieldErrors::new();
    let radius = address(&form.form, "radius_address", &mut errors);
    let portal = address(&form.form, "portal_address", &mut errors);
    let identity = Some(form.form.text("identity").trim().to_owned()).filter(|i| !i.is_empty());
    let job = match radius {
        Some(radius_address) if errors.is_empty() => {
            let request = ProvisionRequest {
                router_id: id,
                radius_address,
                auth_port: 1812,
                acct_port: 1813,
                portal_address: portal,
                identity,
                snmp_community: None,
                dry_run: form.form.text("dry_run") != "no",
                portal_url: Some(state.settings.public_url.clone())
                    .filter(|u| !u.trim().is_empty()),
            };
            ops::provision::submit(
                &state.ctx(),
                &form.user.actor,
                form.user.author.clone(),
                &request,
            )
            .await
        }
        _ => {
            if radius.is_none() && errors.is_empty() {
                errors.push(FieldError::new("radius_address", "required"));
            }
            Err(OpError::Invalid(errors))
        }
    };
    queued(&state, form, id, job).await
}

/// Rolls the router's last provisioning back.
pub(super) async fn rollback(
    State(state): State<AppState>,
    PageId(id): PageId,
    form: PanelForm,
) -> Response {
    let job = ops::provision::submit_rollback(
        &state.ctx(),
        &form.user.actor,
        form.user.author.clone(),
        id,
    )
    .await;
    queued(&state, form, id, job).await
}

/// Pushes the packages' pools and their PPP profiles to the router, or plans it
/// (`dry_run=yes`).
pub(super) async fn push_pools(
    State(state): State<AppState>,
    PageId(id): PageId,
    form: PanelForm,
) -> Response {
    let mut errors = FieldErrors::new();
    let gateway = address(&form.form, "gateway", &mut errors);
    let job = if errors.is_empty() {
        let request = ops::pool_push::PushRequest {
            router_id: id,
            pool_ids: None,
            gateway,
            dry_run: form.form.text("dry_run") != "no",
        };
        ops::pool_push::submit(
            &state.ctx(),
            &form.user.actor,
            form.user.author.clone(),
            &request,
        )
        .await
    } else {
        Err(OpError::Invalid(errors))
    };
    queued(&state, form, id, job).await
}

/// A whole number the form sent in `field`, or `default` when it sent none.
fn number(form: &FormData, field: &str, default: u32, errors: &mut FieldErrors) -> u32 {
    let text = form.text(field).trim().to_owned();
    if text.is_empty() {
        return default;
    }
    text.parse().unwrap_or_else(|_| {
        errors.push(FieldError::new(field, "invalid_number"));
        default
    })
}

/// Migrates the router's PPP customers from its local secrets to lastmile's RADIUS.
pub(super) async fn migrate(
    State(state): State<AppState>,
    PageId(id): PageId,
    form: PanelForm,
) -> Response {
    let mut errors = FieldErrors::new();
    let default = domain::network::migration::Pace::default();
    let pace = domain::network::migration::Pace {
        canary: number(&form.form, "canary", default.canary, &mut errors),
        batch_size: number(&form.form, "batch_size", default.batch_size, &mut errors),
        verify_seconds: number(
            &form.form,
            "verify_seconds",
            default.verify_seconds,
            &mut errors,
        ),
        min_reconnected_percent: number(
            &form.form,
            "min_reconnected_percent",
            default.min_reconnected_percent,
            &mut errors,
        ),
    };
    let job = if errors.is_empty() {
        let request = ops::router_migration::MigrationRequest {
            router_id: id,
            pace,
        };
        ops::router_migration::submit(
            &state.ctx(),
            &form.user.actor,
            form.user.author.clone(),
            &request,
        )
        .await
    } else {
        Err(OpError::Invalid(errors))
    };
    queued(&state, form, id, job).await
}

/// Rolls the router's latest migration back: its secrets enabled again.
pub(super) async fn rollback_migration(
    State(state): State<AppState>,
    PageId(id): PageId,
    form: PanelForm,
) -> Response {
    let job = ops::router_migration::submit_rollback(
        &state.ctx(),
        &form.user.actor,
        form.user.author.clone(),
        id,
    )
    .await;
    queued(&state, form, id, job).await
}
