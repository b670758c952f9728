//! The ISP figures at scale, measured on the release `lastmile` binary run as a separate
//! process, for each backend (a fresh SQLite file; a fresh PostgreSQL database, dropped at
//! the end) and each size N:
//!
//! - seeding N customers with `lastmile bench seed --customers N --with-staff` (the time it
//!   takes): a skewed synthetic ISP (master and per-reseller packages with Zipf popularity,
//!   16 leaf zones in 4 areas with correlated routers, every status and billing type,
//!   shared user-name prefixes, mobiles and MACs), and its staff: an Admin, 10 operators
//!   and 10 sub-operators, whose made-up password the seed prints (`account ROLE EMAIL
//!   PASSWORD`);
//! - `GET /api/v1/customers` of the seeded tenant as the Developer, p50/p95/p99 over
//!   sequential requests from one client, the cases interleaved round by round so the
//!   machine's drift hits them alike: the first page with no filter (the baseline), one
//!   filter (`status=active`), three filters (`status`, `router_id`, `package_id`), a search
//!   on a part of the name and one on a user-name prefix, a page past the middle of the
//!   list (its cursor found by walking `next_cursor` with `limit=500`), and the first page
//!   and a page past the middle sorted by name; each as a ratio to the baseline;
//! - `lastmile import customers FILE --tenant ID` of a generated CSV (fresh user names) into
//!   the seeded tenant: total time, rows per second, and the `radcheck`/`radreply` rows it
//!   added (the FreeRADIUS projection is written in the import's transactions);
//! - one customer change with its projection, `PATCH /api/v1/customers/{id}` of the password
//!   with `If-Match`, on different customers, interleaved with `GET /api/v1/customers/{id}`
//!   of the same customers as its baseline.
//! - the wide rewrites: a master package's rate (every customer on it and on the packages
//!   derived from it), a pool's name (every customer taking addresses from it) and the
//!   tenant's suspension policy (its suspended customers), with the customers each reached,
//!   the change's own request and, when it queued one, the convergence job to its end with
//!   the longest customer write answered meanwhile;
//! - `lastmile radius verify` over the whole installation (the seed, the import and the
//!   rewrites): the time to compare every customer's rows with its projection;
//! - last, the list under random shapes (`shapes.rs`, `phases.rs`), so a slow combination
//!   cannot hide behind the chosen cases: per role (the Developer, with and without
//!   `tenant_id=`; the tenant's Admin; the biggest operator op0; a small one op9; the
//!   sub-operator sub0-0), K shapes drawn by a seeded RNG, each filter taken on its own
//!   chance (`status`, `connection_type`, `billing_type`, `package_id` uniform over the
//!   role's own packages, `router_id`, `zone_id` leaf or area, `owner_id` for the Admin and
//!   the Developer, an expiry window, `q` as a part of a name or a user-name, mobile, MAC
//!   or IPv4 prefix, `sort`, and the page after the first), plus the chosen cases. Each
//!   shape is asked R times, a role's shapes interleaved round by round after warm-up
//!   rounds; per role the table gives the shapes measured, the median of their p95s, the
//!   worst p95, how many reach 50 ms, and the five slowest shapes with their query and
//!   total. A shape answering 403 or 422 on its first try is reported as refused and left
//!   out of the figures; any other answer than 200 is counted and reported. The same shapes
//!   are measured in statistics phases, each after a restart of the server so its
//!   connections open anew:
//!   - `absent`: no planner statistics (SQLite: `sqlite_stat1` and `sqlite_stat4` emptied;
//!     PostgreSQL: the `pg_statistic` rows of the `customer%` relations deleted);
//!   - `fresh`: statistics as lastmile takes them (`lastmile db analyze` when the binary
//!     has it, else `ANALYZE` directly; the table says which);
//!   - `stale`: fresh statistics, then the data changed under them by direct SQL without
//!     analyzing again: 30% of the tenant's active customers suspended, 30% of its
//!     customers moved to its rarest package (on PostgreSQL with autovacuum turned off on
//!     `customer`, so it does not analyze midway, and a `VACUUM` without `ANALYZE` after
//!     the writes, as autovacuum's vacuum would: without it every page stays not
//!     all-visible and index-only scans read the table, which is not a statistics
//!     question). It writes behind lastmile's back (the RADIUS projection no longer
//!     matches), so it runs after everything else.
//!
//! Targets (the issue): list p95 under 50 ms at 10^6 customers on PostgreSQL, for the chosen
//! cases and for every random shape of every role in every phase; import of 10^5 rows under
//! 60 s.
//!
//! Run with `cargo bench -p lastmile --bench isp`. Sizes and backends come from the
//! arguments or the environment:
//!
//! ```text
//! cargo bench -p lastmile --bench isp                       # 10^5, SQLite and PostgreSQL
//! cargo bench -p lastmile --bench isp -- 1000000 postgres   # 10^6, PostgreSQL only
//! LASTMILE_BENCH_CUSTOMERS=100000,1000000 LASTMILE_BENCH_BACKENDS=postgres cargo bench ...
//! ```
//!
//! Other knobs, all optional:
//!
//! - `LASTMILE_BENCH_REQUESTS`: requests per list case (default 250);
//! - `LASTMILE_BENCH_CHANGES`: customer changes (default 250);
//! - `LASTMILE_BENCH_IMPORT`: rows of the imported CSV (default 100000);
//! - `LASTMILE_BENCH_ONLY=lists`: only the lists (the chosen cases and the shape phases):
//!   no import, customer changes, wide rewrites or verify, to run the shapes alone on a
//!   big seed;
//! - `LASTMILE_BENCH_SHAPES`: random shapes per role (default 30; 0 for the chosen ones only);
//! - `LASTMILE_BENCH_SHAPE_ROUNDS`: requests per shape (default 60);
//! - `LASTMILE_BENCH_SEED`: the seed of the shapes (default random; each run prints its
//!   seed, to draw the same shapes again);
//! - `LASTMILE_BENCH_PHASES`: the statistics phases, of `absent`, `fresh` and `stale`
//!   (default all three; `none` for none); they run in that order whatever the order given;
//! - `LASTMILE_BENCH_SQL_LOG=1`: PostgreSQL logs every statement of the bench database with
//!   its duration and parameters in its server log (lastmile's own connections do not log
//!   statements);
//! - `LASTMILE_BENCH_PG_SET="name = value; ..."`: settings of the bench database on
//!   PostgreSQL, to try planner settings without a code change;
//! - `LASTMILE_BENCH_SQLITE_ANALYZE=1`: run `ANALYZE` on SQLite where PostgreSQL gets its
//!   `VACUUM ANALYZE`, to see what statistics would change;
//! - `LASTMILE_BENCH_KEEP=1`: keep the databases and data directories and print where they
//!   are, to look at query plans afterwards (as the last phase left them: after `stale`,
//!   with its changed rows and, on PostgreSQL, autovacuum off on `customer`).
//!
//! PostgreSQL is the tests' server (`PG_TEST_URL`, by default the local trust-auth one; the
//! `absent` phase needs the bench's role to be a superuser to delete from `pg_statistic`,
//! and says so when it could not); after seeding and after the import the bench runs
//! `VACUUM ANALYZE` there, as autovacuum does shortly after such a bulk load. On SQLite it
//! runs nothing by default: lastmile itself never runs `ANALYZE` there. The statistics
//! phases then set the statistics up themselves.
//!
//! The load generator runs in this process on the same machine, so it competes with the
//! server and the database for CPU: compare ratios rather than absolute numbers across
//! machines. The load average is printed with each run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark harness: it fails loudly and prints its table"
)]

#[path = "../common/mod.rs"]
mod common;

mod api;
mod db;
mod phases;
mod report;
mod rewrites;
mod shapes;

use std::time::{Duration, Instant};

use testkit::Backend;

use api::{Api, Case, CaseResult, measure_changes, measure_lists, walk_to_middle};
use common::{Install, Latencies, client, ms};
use db::{ImportResult, import, maintain, seed, set_database, verify};
use phases::{Phase, PhaseResult, ShapeOptions, measure_phases};
use report::{print, targets};
use rewrites::measure_rewrites;

/// Warm-up rounds of the list cases, not counted.
pub const WARM_UP_ROUNDS: usize = 5;
/// Page size of the walk to the middle of the list.
pub const WALK_LIMIT: usize = 500;
/// The list target: p95 at 10^6 customers on PostgreSQL.
pub const LIST_TARGET: Duration = Duration::from_millis(50);
/// The import target for 10^5 rows.
pub const IMPORT_TARGET: Duration = Duration::from_secs(60);

/// What to run.
#[derive(Debug, Clone)]
struct Options {
    sizes: Vec<usize>,
    backends: Vec<Backend>,
    requests: usize,
    changes: usize,
    import_rows: usize,
    pg_settings: Vec<String>,
    sqlite_analyze: bool,
    keep: bool,
    /// `LASTMILE_BENCH_ONLY=lists`: no import, changes, rewrites or verify.
    only_lists: bool,
    /// The list under random shapes, per role and statistics phase.
    shapes: ShapeOptions,
}

fn number(text: &str) -> Option<usize> {
    let text = text.trim().replace('_', "");
    text.parse::<usize>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().map(|f| f as usize))
        .filter(|n| *n > 0)
}

fn backend(text: &str) -> Option<Backend> {
    match text.trim().to_ascii_lowercase().as_str() {
        "sqlite" => Some(Backend::Sqlite),
        "postgres" | "postgresql" | "pg" => Some(Backend::Postgres),
        _ => None,
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| number(&v))
        .unwrap_or(default)
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `LASTMILE_BENCH_PG_SET` (settings separated by `;`), and statement logging for
/// `LASTMILE_BENCH_SQL_LOG`.
fn pg_settings() -> Vec<String> {
    let mut settings: Vec<String> = std::env::var("LASTMILE_BENCH_PG_SET")
        .unwrap_or_default()
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if env_flag("LASTMILE_BENCH_SQL_LOG") {
        settings.push("log_min_duration_statement = 0".to_owned());
    }
    settings
}

/// `LASTMILE_BENCH_PHASES` (default `absent,fresh,stale`; `none` for no phase), in the
/// order absent, fresh, stale whatever the order given: `stale` writes rows behind
/// lastmile's back, so it comes last.
fn phases() -> Vec<Phase> {
    let text =
        std::env::var("LASTMILE_BENCH_PHASES").unwrap_or_else(|_| "absent,fresh,stale".into());
    let mut phases: Vec<Phase> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && *p != "none")
        .map(|p| {
            Phase::parse(p)
                .unwrap_or_else(|| panic!("unknown phase {p:?} in LASTMILE_BENCH_PHASES"))
        })
        .collect();
    phases.sort_unstable();
    phases.dedup();
    phases
}

/// `LASTMILE_BENCH_ONLY`: `lists` skips the import, the changes, the rewrites and verify.
fn only_lists() -> bool {
    match std::env::var("LASTMILE_BENCH_ONLY")
        .as_deref()
        .map(str::trim)
    {
        Err(_) | Ok("") => false,
        Ok("lists") => true,
        Ok(other) => panic!("LASTMILE_BENCH_ONLY={other:?}: only `lists` is known"),
    }
}

impl Options {
    fn read() -> Self {
        let mut sizes: Vec<usize> = std::env::var("LASTMILE_BENCH_CUSTOMERS")
            .map(|v| v.split(',').filter_map(number).collect())
            .unwrap_or_default();
        let mut backends: Vec<Backend> = std::env::var("LASTMILE_BENCH_BACKENDS")
            .map(|v| v.split(',').filter_map(backend).collect())
            .unwrap_or_default();
        // `cargo bench` passes `--bench` (and the filter, if any) to the binary.
        let (mut arg_sizes, mut arg_backends) = (Vec::new(), Vec::new());
        for arg in std::env::args().skip(1).filter(|a| !a.starts_with('-')) {
            for part in arg.split(',') {
                if let Some(n) = number(part) {
                    arg_sizes.push(n);
                } else if let Some(b) = backend(part) {
                    arg_backends.push(b);
                } else {
                    panic!("unknown argument {part:?}: give sizes (1000000) and backends");
                }
            }
        }
        if !arg_sizes.is_empty() {
            sizes = arg_sizes;
        }
        if !arg_backends.is_empty() {
            backends = arg_backends;
        }
        if sizes.is_empty() {
            sizes = vec![100_000];
        }
        if backends.is_empty() {
            backends = vec![Backend::Sqlite, Backend::Postgres];
        }
        Self {
            sizes,
            backends,
            requests: env_number("LASTMILE_BENCH_REQUESTS", 250),
            changes: env_number("LASTMILE_BENCH_CHANGES", 250),
            import_rows: env_number("LASTMILE_BENCH_IMPORT", 100_000),
            pg_settings: pg_settings(),
            sqlite_analyze: env_flag("LASTMILE_BENCH_SQLITE_ANALYZE"),
            keep: env_flag("LASTMILE_BENCH_KEEP"),
            only_lists: only_lists(),
            shapes: ShapeOptions {
                // 0 is allowed: the chosen shapes alone.
                count: std::env::var("LASTMILE_BENCH_SHAPES")
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(30),
                rounds: env_number("LASTMILE_BENCH_SHAPE_ROUNDS", 60),
                phases: phases(),
            },
        }
    }
}

/// The engine's name in the tables.
pub fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

/// The 1, 5 and 15 minute load averages: how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

/// Seconds, one decimal.
pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A rate.
pub fn per_second(count: usize, d: Duration) -> f64 {
    count as f64 / d.as_secs_f64().max(1e-9)
}

/// Everything measured for one backend and size.
#[derive(Debug)]
pub struct Run {
    pub backend: Backend,
    pub customers: usize,
    pub seeded: Duration,
    pub load_before: String,
    pub load_after: String,
    pub walk: (usize, Duration),
    pub name_walk: (usize, Duration),
    pub lists: Vec<CaseResult>,
    pub requests: usize,
    /// The import, the changes, the rewrites and verify; none with
    /// `LASTMILE_BENCH_ONLY=lists`.
    pub writes: Option<Writes>,
    /// The list under random shapes, one result per statistics phase.
    pub phases: Vec<PhaseResult>,
}

/// What the bench writes, and its check: the import, the customer changes, the wide
/// rewrites and `lastmile radius verify`.
#[derive(Debug)]
pub struct Writes {
    pub import: ImportResult,
    pub reads: Latencies,
    pub writes: Latencies,
    pub write_failures: usize,
    /// `lastmile radius verify` over the whole installation: its time and summary line.
    pub verified: (Duration, String),
    /// The changes that rewrite many customers' rows.
    pub rewrites: Vec<rewrites::Rewrite>,
}

/// The chosen list cases and the walks to the middle they need; the cursor in the middle
/// by id, where the customer changes start.
struct Lists {
    cases: Vec<CaseResult>,
    walk: (usize, Duration),
    name_walk: (usize, Duration),
    cursor: String,
}

/// A user-name prefix few names share: a PPPoE customer's name (`b{stamp}{area}{n}`)
/// without its number, then `customers / 23`.
fn few_names_prefix(username: &str, customers: usize) -> String {
    let stem = username.trim_end_matches(|c: char| c.is_ascii_digit());
    format!("{stem}{}", (customers / 23).max(1))
}

/// The chosen list cases of the seeded tenant, as the Developer, round by round.
async fn measure_chosen_lists(api: &Api, tenant: i64, customers: usize, requests: usize) -> Lists {
    // A PPPoE customer of the seed: its router and package for the three filters, its user
    // name for the prefix search.
    let first = api
        .get_ok(&format!(
            "customers?tenant_id={tenant}&connection_type=pppoe&limit=1"
        ))
        .await;
    let sample = &first["items"][0];
    let router = sample["router_id"].as_i64().unwrap();
    let package = sample["package_id"].as_i64().unwrap();
    let prefix = few_names_prefix(sample["username"].as_str().unwrap(), customers);

    let (cursor, pages, walked) = walk_to_middle(api, tenant, "", customers).await;
    println!(
        "  walked {pages} pages of {WALK_LIMIT} to the middle in {} ({} per page)",
        secs(walked),
        ms(walked / u32::try_from(pages.max(1)).unwrap())
    );
    let (name_cursor, name_pages, name_walked) =
        walk_to_middle(api, tenant, "&sort=name", customers).await;
    println!(
        "  walked {name_pages} pages of {WALK_LIMIT} sorted by name to the middle in {} ({} per \
         page)",
        secs(name_walked),
        ms(name_walked / u32::try_from(name_pages.max(1)).unwrap())
    );

    let t = format!("tenant_id={tenant}");
    let cases = [
        ("first page, no filter (baseline)", t.clone()),
        ("status=active", format!("{t}&status=active")),
        (
            "status + router_id + package_id",
            format!("{t}&status=active&router_id={router}&package_id={package}"),
        ),
        ("q= part of a name (rahi)", format!("{t}&q=rahi")),
        ("q= user-name prefix", format!("{t}&q={prefix}")),
        (
            "page past the middle (cursor)",
            format!("{t}&cursor={cursor}"),
        ),
        ("sort=name, first page", format!("{t}&sort=name")),
        (
            "sort=name, page past the middle",
            format!("{t}&sort=name&cursor={name_cursor}"),
        ),
    ]
    .map(|(name, query)| Case {
        name: name.to_owned(),
        query,
    });
    Lists {
        cases: measure_lists(api, &cases, requests).await,
        walk: (pages, walked),
        name_walk: (name_pages, name_walked),
        cursor,
    }
}

/// The import, the customer changes from `cursor` on and the wide rewrites, on the running
/// server; `verified` is left for after the server stops.
async fn measure_writes(
    api: &Api,
    install: &Install,
    tenant: i64,
    cursor: &str,
    options: &Options,
) -> Writes {
    println!("  importing {} rows...", options.import_rows);
    let import = import(api, install, tenant, options.import_rows).await;
    if let Some((statement, took)) = maintain(install, options.sqlite_analyze).await {
        println!("  {statement} after the import: {}", secs(took));
    }
    let (reads, writes, write_failures) =
        measure_changes(api, install, tenant, cursor, options.changes).await;
    println!("  wide rewrites...");
    let rewrites = measure_rewrites(api, install, tenant).await;
    Writes {
        import,
        reads,
        writes,
        write_failures,
        verified: (Duration::ZERO, String::new()),
        rewrites,
    }
}

async fn run(backend: Backend, customers: usize, options: &Options) -> Run {
    let load_before = load_average();
    println!(
        "== {} with {customers} customers (load average {load_before})",
        backend_name(backend)
    );
    let install = Install::new(backend).await;
    println!("  data directory {}", install.dir().display());
    let (tenant, seeded, accounts) = seed(&install, customers).await;
    println!(
        "  seeded tenant {tenant}: {customers} customers in {} ({:.0}/s)",
        secs(seeded),
        per_second(customers, seeded)
    );
    if let Some((statement, took)) = maintain(&install, options.sqlite_analyze).await {
        println!("  {statement} after seeding: {}", secs(took));
    }
    set_database(&install, &options.pg_settings).await;
    let (server, _) = install.serve(&[], &client()).await;
    let http = client();
    let (token, _) = server.sign_in(&http).await;
    let api = Api {
        http,
        base: server.base.clone(),
        token,
    };

    let lists = measure_chosen_lists(&api, tenant, customers, options.requests).await;
    let mut writes = if options.only_lists {
        None
    } else {
        Some(measure_writes(&api, &install, tenant, &lists.cursor, options).await)
    };
    server.stop().await;
    if let Some(writes) = writes.as_mut() {
        println!("  lastmile radius verify...");
        writes.verified = verify(&install).await;
    }
    // Last: the stale phase writes rows behind lastmile's back.
    let rounds = options.shapes.rounds;
    let phases = measure_phases(
        &install,
        tenant,
        customers,
        &accounts,
        &options.shapes,
        |phase| report::print_phase(phase, rounds),
    )
    .await;
    let load_after = load_average();

    if options.keep {
        println!(
            "  kept: data directory {}, database {}",
            install.dir().display(),
            install.database_url()
        );
        std::mem::forget(install);
    }
    Run {
        backend,
        customers,
        seeded,
        load_before,
        load_after,
        walk: lists.walk,
        name_walk: lists.name_walk,
        lists: lists.cases,
        requests: options.requests,
        writes,
        phases,
    }
}

async fn bench(options: Options) {
    let begun = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "lastmile ISP benchmark ({cores} cores; the load runs on the same machine): sizes {:?}, \
         backends {:?}",
        options.sizes,
        options
            .backends
            .iter()
            .map(|b| backend_name(*b))
            .collect::<Vec<_>>()
    );
    let mut runs = Vec::new();
    for &customers in &options.sizes {
        for &backend in &options.backends {
            let run = run(backend, customers, &options).await;
            print(&run);
            println!();
            runs.push(run);
        }
    }
    targets(&runs);
    println!();
    println!("total {}", secs(begun.elapsed()));
}

fn main() {
    let options = Options::read();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // On Ctrl-C the bench is dropped: servers are killed, databases and files removed.
        tokio::select! {
            () = bench(options) => {}
            _ = tokio::signal::ctrl_c() => println!("interrupted; cleaning up"),
        }
    });
}
