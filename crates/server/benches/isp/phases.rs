//! The list under random shapes, run as several roles, in statistics phases (see `main.rs`):
//! the shapes are drawn once (`shapes.rs`); then, per phase, the planner statistics are
//! set up with the server stopped (none, fresh, or stale under changed data), the server is
//! started so its connections open anew, each role signs in, and its shapes are measured
//! round by round.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait as _, DatabaseConnection};
use serde_json::Value;

use crate::api::Api;
use crate::common::{EMAIL, Install, Latencies, PASSWORD, Server, client};
use crate::db::{Account, count};
use crate::shapes::{Pools, Role, Shape};

/// Warm-up rounds of the shapes, not counted.
pub const SHAPE_WARM_UP_ROUNDS: usize = 3;

/// The state of the planner statistics a phase measures under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// No statistics on the customer table and its indexes.
    Absent,
    /// Statistics as lastmile leaves them (`lastmile db analyze`, or `ANALYZE`).
    Fresh,
    /// Fresh statistics, then the data changed under them (status and package skew).
    Stale,
}

impl Phase {
    /// The phase's name, as `LASTMILE_BENCH_PHASES` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Absent => "absent",
            Phase::Fresh => "fresh",
            Phase::Stale => "stale",
        }
    }

    /// Reads a phase's name.
    pub fn parse(text: &str) -> Option<Self> {
        [Phase::Absent, Phase::Fresh, Phase::Stale]
            .into_iter()
            .find(|p| p.name() == text.trim().to_ascii_lowercase())
    }
}

/// What the shape phases need to know.
#[derive(Debug, Clone)]
pub struct ShapeOptions {
    /// Random shapes per role.
    pub count: usize,
    /// Measured requests per shape.
    pub rounds: usize,
    /// The phases, in order (`stale` last).
    pub phases: Vec<Phase>,
}

/// One shape measured.
#[derive(Debug)]
pub struct ShapeResult {
    pub shape: Shape,
    /// The query measured: the shape's, with the cursor of its first page for a next page.
    pub measured: String,
    /// `total` of the answer, `+` when `total_capped`.
    pub total: String,
    pub latencies: Latencies,
    /// Answers other than 200 (a refusal on the first try apart).
    pub failed: usize,
    /// The first answer other than 200: its status and body.
    pub first_failure: Option<(StatusCode, String)>,
    /// Refused on the first try (403 or 422): left out of the latency figures.
    pub refused: bool,
}

impl ShapeResult {
    /// The shape's p95.
    pub fn p95(&self) -> Duration {
        self.latencies.quantile(0.95)
    }
}

/// One role's shapes in one phase.
#[derive(Debug)]
pub struct RoleResult {
    pub role: Role,
    pub shapes: Vec<ShapeResult>,
}

impl RoleResult {
    /// The shapes with latency figures (not refused).
    pub fn measured(&self) -> impl Iterator<Item = &ShapeResult> {
        self.shapes.iter().filter(|s| !s.refused)
    }

    /// The measured shapes, slowest p95 first.
    pub fn worst(&self) -> Vec<&ShapeResult> {
        let mut shapes: Vec<&ShapeResult> = self.measured().collect();
        shapes.sort_by_key(|s| std::cmp::Reverse(s.p95()));
        shapes
    }

    /// The median of the shapes' p95s.
    pub fn median_p95(&self) -> Duration {
        Latencies::new(self.measured().map(ShapeResult::p95).collect()).quantile(0.5)
    }

    /// How many measured shapes have a p95 at or over `target`.
    pub fn over(&self, target: Duration) -> usize {
        self.measured().filter(|s| s.p95() >= target).count()
    }
}

/// One phase: what was done to the statistics, and each role's shapes.
#[derive(Debug)]
pub struct PhaseResult {
    pub phase: Phase,
    /// What the phase did to the statistics and the data.
    pub note: String,
    pub roles: Vec<RoleResult>,
}

impl PhaseResult {
    /// The slowest measured shape of all roles, with its role.
    pub fn worst(&self) -> Option<(Role, &ShapeResult)> {
        self.roles
            .iter()
            .flat_map(|r| r.measured().map(move |s| (r.role, s)))
            .max_by_key(|(_, s)| s.p95())
    }

    /// Measured shapes of all roles, and how many of them are at or over `target`.
    pub fn over(&self, target: Duration) -> (usize, usize) {
        let measured = self.roles.iter().map(|r| r.measured().count()).sum();
        let over = self.roles.iter().map(|r| r.over(target)).sum();
        (measured, over)
    }
}

/// Draws every role's shapes (with a server up, to read what each role sees), then measures
/// them in each phase, handing each phase's result to `on_phase` as it ends. The server
/// must be stopped.
pub async fn measure_phases(
    install: &Install,
    tenant: i64,
    customers: usize,
    accounts: &[Account],
    options: &ShapeOptions,
    on_phase: impl Fn(&PhaseResult),
) -> Vec<PhaseResult> {
    let seed = crate::shapes::seed();
    println!(
        "  list shapes: seed {seed} (LASTMILE_BENCH_SEED={seed} repeats them), {} random and \
         the chosen ones per role, {} rounds each",
        options.count, options.rounds
    );
    let plan = plan(install, tenant, customers, accounts, seed, options.count).await;
    let mut fresh_taken = false;
    let mut results = Vec::new();
    for &phase in &options.phases {
        println!("  phase {}: preparing the statistics...", phase.name());
        let note = prepare(install, phase, tenant, &mut fresh_taken).await;
        println!("    statistics {}: {note}", phase.name());
        let (server, _) = install.serve(&[], &client()).await;
        let mut roles = Vec::new();
        for (role, shapes) in &plan {
            let api = sign_in(&server, *role, accounts).await;
            println!("    {}: {} shapes...", role.name(), shapes.len());
            let shapes = measure_shapes(&api, shapes, options.rounds).await;
            roles.push(RoleResult {
                role: *role,
                shapes,
            });
        }
        server.stop().await;
        let result = PhaseResult { phase, note, roles };
        on_phase(&result);
        results.push(result);
    }
    results
}

/// Every role's shapes, drawn from what each sees on a server started for the purpose.
async fn plan(
    install: &Install,
    tenant: i64,
    customers: usize,
    accounts: &[Account],
    seed: u64,
    count: usize,
) -> Vec<(Role, Vec<Shape>)> {
    let (server, _) = install.serve(&[], &client()).await;
    let developer = sign_in(&server, Role::Developer, accounts).await;
    let tenant_pools = tenant_pools(&developer, tenant, customers, accounts).await;
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let mut plan = Vec::new();
    for role in Role::ALL {
        let api = sign_in(&server, role, accounts).await;
        let pools = role_pools(&api, role, &tenant_pools).await;
        println!(
            "    {}: draws from {} packages, {} routers, {} zones, {} resellers",
            role.name(),
            pools.packages.len(),
            pools.routers.len(),
            pools.zones.len(),
            pools.owners.len()
        );
        plan.push((role, crate::shapes::shapes(role, &pools, seed, count, now)));
    }
    server.stop().await;
    plan
}

/// Signs in as `role`: the install's Developer, or the seeded account.
async fn sign_in(server: &Server, role: Role, accounts: &[Account]) -> Api {
    let (email, password) = match role.local_part() {
        None => (EMAIL, PASSWORD),
        Some(local) => {
            let account = accounts
                .iter()
                .find(|a| a.email.split('@').next() == Some(local))
                .unwrap_or_else(|| panic!("the seed made no account {local}@..."));
            (account.email.as_str(), account.password.as_str())
        }
    };
    Api::sign_in(client(), &server.base, email, password).await
}

/// The ids of a list's items.
fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().filter_map(|i| i["id"].as_i64()).collect()
}

/// What the tenant holds, read as the Developer: routers, zones, packages, resellers, and
/// the seed's stamp (from the accounts' domain, `bench-{stamp}.example`).
async fn tenant_pools(
    developer: &Api,
    tenant: i64,
    customers: usize,
    accounts: &[Account],
) -> Pools {
    let t = format!("tenant_id={tenant}");
    let mut owners = ids(&developer.all("users", &format!("{t}&role=operator")).await);
    owners.extend(ids(&developer
        .all("users", &format!("{t}&role=sub_operator"))
        .await));
    let stamp = accounts
        .iter()
        .find_map(|a| {
            let domain = a.email.split('@').nth(1)?;
            Some(
                domain
                    .strip_prefix("bench-")?
                    .strip_suffix(".example")?
                    .to_owned(),
            )
        })
        .expect("the seeded accounts are @bench-{stamp}.example");
    Pools {
        tenant,
        stamp,
        customers,
        routers: ids(&developer.all("routers", &t).await),
        zones: ids(&developer.all("zones", &t).await),
        packages: ids(&developer.all("packages", &t).await),
        owners,
        sample: None,
    }
}

/// What `role` draws from: the tenant's routers and zones; its own packages (a reseller's
/// from its own list, with no resellers to filter by); a customer it sees.
async fn role_pools(api: &Api, role: Role, tenant: &Pools) -> Pools {
    let mut pools = tenant.clone();
    if !role.sees_tenant() {
        pools.packages = ids(&api.all("packages", "").await);
        pools.owners.clear();
    }
    let first = if role == Role::Developer {
        format!("customers?tenant_id={}&limit=1", tenant.tenant)
    } else {
        "customers?limit=1".to_owned()
    };
    let body = api.get_ok(&first).await;
    let sample = &body["items"][0];
    pools.sample = sample["router_id"]
        .as_i64()
        .zip(sample["package_id"].as_i64());
    pools
}

/// A shape's first try: the status and, for a next page, the query with the first page's
/// cursor (the shape's own query when there is no next page).
async fn first_try(api: &Api, shape: &Shape) -> (StatusCode, String, String) {
    let answer = api.get(&format!("{}?{}", shape.list, shape.query)).await;
    let cursor = answer.body["next_cursor"]
        .as_str()
        .filter(|_| shape.next_page);
    let measured = match cursor {
        Some(cursor) if shape.query.is_empty() => format!("cursor={cursor}"),
        Some(cursor) => format!("{}&cursor={cursor}", shape.query),
        None => shape.query.clone(),
    };
    (answer.status, answer.body.to_string(), measured)
}

/// `total` and `total_capped` of a list answer: `10000+` when capped.
fn total(body: &Value) -> String {
    let capped = body["total_capped"].as_bool().unwrap_or(false);
    format!(
        "{}{}",
        body["total"].as_u64().unwrap_or(0),
        if capped { "+" } else { "" }
    )
}

/// Measures one role's shapes: a first try each (a 403 or 422 there marks the shape
/// refused), warm-up rounds, then `rounds` rounds over all shapes in turn, so drift hits
/// them alike.
pub async fn measure_shapes(api: &Api, shapes: &[Shape], rounds: usize) -> Vec<ShapeResult> {
    let mut results = Vec::with_capacity(shapes.len());
    for shape in shapes {
        let (status, body, measured) = first_try(api, shape).await;
        let refused = matches!(
            status,
            StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
        );
        results.push(ShapeResult {
            shape: shape.clone(),
            measured,
            total: String::new(),
            latencies: Latencies::default(),
            failed: usize::from(status != StatusCode::OK && !refused),
            first_failure: (status != StatusCode::OK).then_some((status, body)),
            refused,
        });
    }
    for _ in 0..SHAPE_WARM_UP_ROUNDS {
        for result in results.iter().filter(|r| !r.refused) {
            api.get(&format!("{}?{}", result.shape.list, result.measured))
                .await;
        }
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); results.len()];
    for _ in 0..rounds {
        for (result, samples) in results.iter_mut().zip(&mut samples) {
            if result.refused {
                continue;
            }
            let answer = api
                .get(&format!("{}?{}", result.shape.list, result.measured))
                .await;
            if answer.status != StatusCode::OK {
                result.failed += 1;
                result
                    .first_failure
                    .get_or_insert_with(|| (answer.status, answer.body.to_string()));
                continue;
            }
            if result.total.is_empty() {
                result.total = total(&answer.body);
            }
            samples.push(answer.latency);
        }
    }
    for (result, samples) in results.iter_mut().zip(samples) {
        result.latencies = Latencies::new(samples);
    }
    results
}

/// Sets up the statistics of `phase` with the server stopped; what was done.
async fn prepare(install: &Install, phase: Phase, tenant: i64, fresh_taken: &mut bool) -> String {
    let db = install.connect().await;
    let note = match phase {
        Phase::Absent => {
            *fresh_taken = false;
            remove_statistics(&db).await
        }
        Phase::Fresh => {
            *fresh_taken = true;
            take_statistics(install, &db).await
        }
        Phase::Stale => {
            let mut note = String::new();
            if !*fresh_taken {
                note = format!("{}; then ", take_statistics(install, &db).await);
            }
            note + &make_stale(&db, tenant).await
        }
    };
    db.close().await.unwrap();
    note
}

/// Removes the planner statistics of the customer table and its indexes: on SQLite, the
/// rows of `sqlite_stat1` (and `sqlite_stat4`); on PostgreSQL, the `pg_statistic` rows of
/// the relations named `customer%` (as the superuser the bench connects as).
async fn remove_statistics(db: &DatabaseConnection) -> String {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let sql = "DELETE FROM pg_statistic WHERE starelid IN \
                       (SELECT oid FROM pg_class WHERE relname LIKE 'customer%')";
            match db.execute_unprepared(sql).await {
                Ok(done) => format!(
                    "{} pg_statistic rows of customer% deleted",
                    done.rows_affected()
                ),
                Err(error) => format!("NOT removed ({sql}: {error})"),
            }
        }
        _ => {
            let mut deleted = Vec::new();
            for table in ["sqlite_stat1", "sqlite_stat4"] {
                let exists = count(
                    db,
                    &format!("SELECT COUNT(*) FROM sqlite_master WHERE name = '{table}'"),
                )
                .await;
                if exists == 0 {
                    continue;
                }
                let done = db
                    .execute_unprepared(&format!("DELETE FROM {table}"))
                    .await
                    .unwrap();
                deleted.push(format!("{} rows of {table}", done.rows_affected()));
            }
            if deleted.is_empty() {
                "none to remove (SQLite never analyzed)".to_owned()
            } else {
                format!("{} deleted", deleted.join(", "))
            }
        }
    }
}

/// Runs `lastmile ARGS` on the installation to its end, off the runtime's threads.
async fn lastmile(install: &Install, args: &[&str]) -> std::process::Output {
    tokio::process::Command::from(install.lastmile(args))
        .kill_on_drop(true)
        .output()
        .await
        .unwrap()
}

/// Takes statistics as lastmile would: `lastmile db analyze` when it has the command
/// (`--help` answers), else `ANALYZE` directly.
async fn take_statistics(install: &Install, db: &DatabaseConnection) -> String {
    let started = Instant::now();
    if lastmile(install, &["db", "analyze", "--help"])
        .await
        .status
        .success()
    {
        let output = lastmile(install, &["db", "analyze"]).await;
        if output.status.success() {
            return format!(
                "taken by lastmile db analyze in {}",
                crate::secs(started.elapsed())
            );
        }
        println!(
            "    lastmile db analyze failed ({}); ANALYZE directly",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    db.execute_unprepared("ANALYZE").await.unwrap();
    format!(
        "taken by ANALYZE directly (lastmile has no `db analyze`) in {}",
        crate::secs(started.elapsed())
    )
}

/// Changes the data under the statistics without analyzing again, behind lastmile's back:
/// 30% of the tenant's active customers suspended, and 30% of its customers moved to its
/// rarest package. On PostgreSQL autovacuum is turned off on the customer table first, so
/// it does not analyze in the middle of the phase, and the table is vacuumed (not analyzed)
/// after, as autovacuum's vacuum would have.
async fn make_stale(db: &DatabaseConnection, tenant: i64) -> String {
    let mut note = String::new();
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared("ALTER TABLE customer SET (autovacuum_enabled = false)")
            .await
            .unwrap();
        note.push_str("autovacuum off on customer; ");
    }
    let rare = count(
        db,
        &format!(
            "SELECT p.id FROM package p LEFT JOIN customer c \
             ON c.package_id = p.id AND c.archived_at IS NULL \
             WHERE p.tenant_id = {tenant} AND p.archived_at IS NULL \
             GROUP BY p.id ORDER BY COUNT(c.id), p.id LIMIT 1"
        ),
    )
    .await;
    let before = count(
        db,
        &format!("SELECT COUNT(*) FROM customer WHERE package_id = {rare} AND archived_at IS NULL"),
    )
    .await;
    let suspended = db
        .execute_unprepared(&format!(
            "UPDATE customer SET status = 'suspended' \
             WHERE tenant_id = {tenant} AND id % 10 < 3 AND status = 'active'"
        ))
        .await
        .unwrap()
        .rows_affected();
    let moved = db
        .execute_unprepared(&format!(
            "UPDATE customer SET package_id = {rare} \
             WHERE tenant_id = {tenant} AND id % 10 IN (3, 4, 5) AND archived_at IS NULL"
        ))
        .await
        .unwrap()
        .rows_affected();
    note.push_str(&format!(
        "{suspended} active customers suspended and {moved} moved to the \
         rarest package {rare} (it had {before}), not analyzed since"
    ));
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // What autovacuum's vacuum would do after such a change (its analyze held off):
        // the rows' old versions removed and the pages marked all-visible again, without
        // which every index-only scan reads the table.
        db.execute_unprepared("VACUUM customer").await.unwrap();
        note.push_str("; vacuumed (no analyze)");
    }
    note
}
