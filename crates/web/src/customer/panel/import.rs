//! The panel's customer import: a form that takes a CSV file (the columns listed beside
//! it), a tenant for the platform roles, and the check-only and all-or-nothing switches;
//! the file is queued as a job and the answer goes to the job's page, which shows its
//! progress and then its report.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::page::form::Filled;
use crate::page::lookup::{self, Choice};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, field_messages, render};
use crate::state::AppState;
use domain::field::{FieldError, FieldErrors};
use ops::OpError;
use ops::auth::token;
use ops::customer::import::{ImportOptions, MAX_BYTES};

/// The largest form this page takes: the file and a few fields.
pub(super) fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)
}

#[derive(Template)]
#[template(path = "customer_import.html")]
struct ImportPage {
    ui: Ui,
    f: Filled,
    tenants: Vec<Choice>,
}

async fn page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
) -> Result<ImportPage, OpError> {
    Ok(ImportPage {
        ui: Ui::new(user, Section::Customers, headers, "/panel/customers/import"),
        f: Filled::new(),
        tenants: lookup::tenant_choices(state, &user.actor).await?,
    })
}

pub(super) async fn form(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
) -> Response {
    match page(&state, &user, &headers).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// What the form sent.
#[derive(Debug, Default)]
struct Sent {
    csrf: String,
    tenant_id: Option<i64>,
    dry_run: bool,
    all_or_nothing: bool,
    first_bill: bool,
    file: Vec<u8>,
}

async fn read(mut multipart: Multipart) -> Result<Sent, FieldError> {
    let mut sent = Sent::default();
    let unreadable = || FieldError::new("csv", "unreadable_csv");
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field.bytes().await.map_err(|_| unreadable())?;
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "_csrf" => sent.csrf = text(),
            "tenant_id" => sent.tenant_id = text().parse().ok(),
            "dry_run" => sent.dry_run = true,
            "all_or_nothing" => sent.all_or_nothing = true,
            "first_bill" => sent.first_bill = true,
            "file" => sent.file = bytes.to_vec(),
            _ => {}
        }
    }
    if sent.file.is_empty() {
        return Err(FieldError::new("file", "required"));
    }
    Ok(sent)
}

pub(super) async fn submit(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let sent = read(multipart).await;
    if let Ok(sent) = &sent
        && !token::same(&sent.csrf, &user.csrf)
    {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    let result = match &sent {
        Ok(sent) => {
            let options = ImportOptions {
                tenant_id: sent.tenant_id,
                dry_run: sent.dry_run,
                all_or_nothing: sent.all_or_nothing,
                first_bill: sent.first_bill,
            };
            let author = user.author.clone();
            ops::customer::import_job::submit(
                &state.ctx(),
                &user.actor,
                author,
                &sent.file,
                &options,
            )
            .await
        }
        Err(error) => Err(OpError::Invalid(FieldErrors::one(error.clone()))),
    };
    match result {
        Ok(job) => {
            state.jobs_wake.notify_one();
            Redirect::to(&format!("/panel/jobs/{}", job.id)).into_response()
        }
        Err(OpError::Invalid(errors)) => match page(&state, &user, &headers).await {
            Ok(mut page) => {
                let messages = field_messages(page.ui.t, &errors);
                if let Ok(sent) = &sent {
                    page.f.set(
                        "tenant_id",
                        sent.tenant_id.map(|t| t.to_string()).unwrap_or_default(),
                    );
                }
                page.f = page.f.with_errors(messages);
                (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
            }
            Err(error) => ui::op_error(&user, &headers, &error),
        },
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
