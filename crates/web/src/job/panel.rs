//! The panel's jobs: the list (newest first, each with its state and progress) and a job's
//! page with its progress while it runs (the page refreshes itself) and, once done, its
//! report: for an import, the rows read, created and refused, each refused row with its
//! line, field and reason.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;

use crate::job::api::with_message;
use crate::page::fallback::PageId;
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::ids::JobId;
use store::job::{Job, JobFilter, LIST};
use store::list::PageRequest;

/// Refused rows shown on a job's page; the rest are counted.
const ROWS_SHOWN: usize = 500;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/jobs", get(list))
        .route("/panel/jobs/{id}", get(show))
}

/// A job as a row of the list.
#[derive(Debug)]
pub struct JobRow {
    id: i64,
    kind: String,
    status: String,
    progress: String,
    created: String,
}

impl JobRow {
    fn of(job: &Job) -> Self {
        Self {
            id: job.id,
            kind: job.kind.clone(),
            status: job.status.code().to_owned(),
            progress: progress_text(job).unwrap_or_default(),
            created: job.created_at.format("%Y-%m-%d %H:%M").to_string(),
        }
    }
}

/// `done of total`, when the job tells its progress.
fn progress_text(job: &Job) -> Option<String> {
    let (done, total) = progress(job)?;
    Some(format!("{done} / {total}"))
}

fn progress(job: &Job) -> Option<(u64, u64)> {
    let value: Value = serde_json::from_str(job.progress.as_deref()?).ok()?;
    Some((value["done"].as_u64()?, value["total"].as_u64()?))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<JobRow>,
    total: String,
    pager: Pager,
}

async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let Ok(page) = PageRequest::parse(&LIST, None, None, query.cursor.as_deref()) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    match ops::job::list(&state.ctx(), &user.actor, &JobFilter::default(), &page).await {
        Ok(found) => render(&ListPage {
            ui: Ui::new(&user, Section::Jobs, &headers, "/panel/jobs"),
            rows: found.items.iter().map(JobRow::of).collect(),
            total: ui::total(found.total, found.total_capped),
            pager: Pager::simple(
                "/panel/jobs".to_owned(),
                found
                    .next_cursor
                    .map(|c| format!("/panel/jobs?cursor={}", ui::encode(&c))),
            ),
        }),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// A refused row of an import's report.
#[derive(Debug)]
pub struct RowError {
    line: u64,
    field: String,
    message: String,
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    ui: Ui,
    row: JobRow,
    running: bool,
    /// Rows done and all rows, while it tells.
    done: u64,
    total: u64,
    /// For an import: rows read, created, refused.
    rows: Option<u64>,
    created: Option<u64>,
    refused: usize,
    dry_run: bool,
    errors: Vec<RowError>,
    /// Refused rows not shown, as text.
    more: Option<String>,
    last_error: String,
    /// For a router's certificate read: the fingerprint, whether the router pins it, and
    /// the router's page.
    fingerprint: Option<String>,
    pinned: bool,
    router: Option<String>,
    /// For a router's import: the plan's totals, by their translation key.
    counts: Vec<(String, u64)>,
    /// For a router's provisioning: each step (menu, action, what it sets, what it replaces).
    steps: Vec<StepRow>,
    /// For a router's import plan: each profile and the package its secrets would join, with
    /// the packages to choose from, so that the import is asked with the choices made here.
    choices: Option<ImportChoices>,
}

/// The choice of a package per profile, after an import's plan.
struct ImportChoices {
    /// Where the form posts.
    action: String,
    /// Each profile: its name, its secrets, the package planned (as the select's value).
    profiles: Vec<(String, u64, String)>,
    /// The packages: id and name.
    packages: Vec<(String, String)>,
}

/// The profile choices of a finished import plan, when the user may import from its router.
async fn import_choices(
    state: &AppState,
    user: &PanelUser,
    job: &Job,
    result: &Value,
) -> Option<ImportChoices> {
    let planned = job.kind == ops::router_import::KIND
        && job.status.finished()
        && result["dry_run"].as_bool() == Some(true);
    let router = result["router_id"].as_i64().filter(|_| planned)?;
    let packages = ops::router_import::packages(&state.ctx(), &user.actor, router)
        .await
        .ok()?;
    let profiles = result["plan"]["profiles"]
        .as_array()?
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_owned(),
                p["secrets"].as_u64().unwrap_or(0),
                p["package_id"]
                    .as_i64()
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    Some(ImportChoices {
        action: format!("/panel/routers/{router}/import"),
        profiles,
        packages: packages
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
    })
}

/// One step of a provisioning plan.
struct StepRow {
    menu: String,
    action: String,
    change: String,
}

/// A plan's steps as rows: `key=value` for what is set, `(was …)` for what it replaces;
/// the RADIUS secret is never shown.
fn step_rows(steps: &Value) -> Vec<StepRow> {
    let shown = |k: &str, v: &Value| {
        if k == "secret" {
            format!("{k}=••••")
        } else {
            format!("{k}={}", v.as_str().unwrap_or(""))
        }
    };
    steps
        .as_array()
        .map(|list| {
            list.iter()
                .map(|step| {
                    let props = step["props"].as_object();
                    let before = step["before"].as_object();
                    let mut change: Vec<String> = props
                        .map(|p| p.iter().map(|(k, v)| shown(k, v)).collect())
                        .unwrap_or_default();
                    if let Some(before) = before.filter(|b| !b.is_empty()) {
                        let was: Vec<String> = before.iter().map(|(k, v)| shown(k, v)).collect();
                        change.push(format!("(was {})", was.join(", ")));
                    }
                    StepRow {
                        menu: step["menu"].as_str().unwrap_or("").to_owned(),
                        action: step["action"].as_str().unwrap_or("").to_owned(),
                        change: change.join(", "),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn show(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
) -> Response {
    let job = match ops::job::get(&state.ctx(), &user.actor, JobId(id)).await {
        Ok(job) => job,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let (done, total) = progress(&job).unwrap_or((0, 0));
    let mut result: Value = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or(Value::Null);
    let mut errors = Vec::new();
    let mut refused = 0;
    if let Some(list) = result.get_mut("errors").and_then(Value::as_array_mut) {
        refused = list.len();
        for error in list.iter_mut().take(ROWS_SHOWN) {
            with_message(error, user.lang);
            errors.push(RowError {
                line: error["line"].as_u64().unwrap_or(0),
                field: error["field"].as_str().unwrap_or("").to_owned(),
                message: error["message"].as_str().unwrap_or("").to_owned(),
            });
        }
    }
    let here = format!("/panel/jobs/{id}");
    let choices = import_choices(&state, &user, &job, &result).await;
    render(&JobPage {
        ui: Ui::new(&user, Section::Jobs, &headers, &here),
        running: !job.status.finished(),
        done,
        total,
        rows: result["rows"].as_u64(),
        created: result["created"].as_u64(),
        refused,
        dry_run: result["dry_run"].as_bool().unwrap_or(false),
        more: (refused > errors.len()).then(|| (refused - errors.len()).to_string()),
        errors,
        last_error: job.last_error.clone().unwrap_or_default(),
        fingerprint: result["fingerprint"].as_str().map(str::to_owned),
        pinned: result["pinned"].as_bool().unwrap_or(false),
        router: result["router_id"]
            .as_i64()
            .map(|id| format!("/panel/routers/{id}")),
        counts: result["plan"]["counts"]
            .as_object()
            .map(|c| {
                c.iter()
                    .map(|(k, v)| (format!("jobs.{k}"), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default(),
        steps: step_rows(&result["steps"]),
        choices,
        row: JobRow::of(&job),
    })
}
