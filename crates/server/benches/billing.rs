//! Billing runs as an operator meets them: `lastmile billing run`, on the benchmark ISP.
//!
//! ```text
//! cargo bench -p lastmile --bench billing [-- CUSTOMERS]
//! ```
//!
//! For each backend, an installation seeded with CUSTOMERS (default 100 000; `lastmile
//! bench seed --with-staff`: every status and billing type in realistic shares, one in
//! seven postpaid, skewed packages under ten operators and their sub-operators). Then, each
//! a separate `lastmile billing run` process (its wall time printed, with the rows it
//! wrote):
//!
//! 1. `--dry-run` on the first day of the month after next (what the month's run would do);
//! 2. that day's run: every postpaid customer's invoice, journal and notice, in batches;
//! 3. the same run again (done before: writes nothing);
//! 4. the next day's run (the selection finds nothing to invoice: writes only its run rows);
//! 5. the day after the due date and the grace: the overdue run suspends the unpaid.
//!
//! Then a per-row baseline in the same installation: `BASELINE` (default 1 000) invoices of
//! another period posted one at a time, each in its own transaction, through the ledger's
//! single-journal posting (`store::ledger::post`) and numbering (`store::invoice::issue`),
//! as a loop over customers would; printed per invoice against the run's per invoice. Last,
//! `lastmile ledger verify` (it must be clean).
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both).
//! - `LASTMILE_BENCH_BASELINE`: invoices in the per-row baseline.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::time::{Duration, Instant};

use chrono::{Datelike as _, Months, NaiveDate, TimeDelta, Utc};
use common::Install;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};
use testkit::Backend;

/// The tables a run writes.
const TABLES: [&str; 6] = [
    "invoice",
    "ledger_journal",
    "ledger_entry",
    "notification",
    "billing_run",
    "audit_log",
];

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let customers = common::customers_arg(100_000);
    let baseline: usize = std::env::var("LASTMILE_BENCH_BASELINE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    println!("billing runs, {customers} customers, per-row baseline of {baseline}");
    for backend in common::backends() {
        run(backend, customers, baseline).await;
    }
}

async fn count(conn: &DatabaseConnection, table: &str) -> i64 {
    let backend = conn.get_database_backend();
    conn.query_one_raw(Statement::from_string(
        backend,
        format!("SELECT COUNT(*) AS n FROM {table}"),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap()
}

async fn counts(conn: &DatabaseConnection) -> Vec<i64> {
    let mut out = Vec::new();
    for table in TABLES {
        out.push(count(conn, table).await);
    }
    out
}

/// What changed between two [`counts`].
fn written(before: &[i64], after: &[i64]) -> String {
    let parts: Vec<String> = TABLES
        .iter()
        .zip(before.iter().zip(after))
        .filter(|(_, (b, a))| a != b)
        .map(|(t, (b, a))| format!("{t} +{}", a - b))
        .collect();
    if parts.is_empty() {
        "0 rows written".to_owned()
    } else {
        parts.join(", ")
    }
}

/// `lastmile billing run ARGS`: its wall time and its report lines about work done.
fn billing(install: &Install, args: &[&str]) -> (Duration, Vec<String>) {
    let mut all = vec!["billing", "run"];
    all.extend_from_slice(args);
    let started = Instant::now();
    let out = install.run(&all);
    let took = started.elapsed();
    let lines = out
        .lines()
        .filter(|l| !l.contains("reach 0 customer") && !l.contains("done before"))
        .map(str::to_owned)
        .collect();
    (took, lines)
}

async fn run(backend: Backend, customers: usize, baseline: usize) {
    println!("\n{backend:?}");
    let install = Install::new(backend).await;
    install.run(&[
        "bench",
        "seed",
        "--customers",
        &customers.to_string(),
        "--with-staff",
    ]);
    let conn = install.connect().await;
    let postpaid: i64 = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM customer WHERE billing_type = 'postpaid' \
               AND status IN ('active', 'suspended') AND archived_at IS NULL"
                .to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    println!("  postpaid customers to invoice: {postpaid}");

    // Noon UTC of the first day of the month after next: that day in every zone near it.
    #[allow(clippy::disallowed_methods)] // the benchmark picks its day from the wall clock
    let today = Utc::now().date_naive();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
        .unwrap()
        .checked_add_months(Months::new(2))
        .unwrap();
    let at = |day: NaiveDate| format!("{day}T12:00:00Z");

    let before = counts(&conn).await;
    let (took, lines) = billing(&install, &["--dry-run", "--at", &at(first)]);
    let after = counts(&conn).await;
    println!(
        "  dry run           {:>8.2} s  {}",
        took.as_secs_f64(),
        written(&before, &after)
    );
    for line in &lines {
        println!("    {line}");
    }

    let (took, lines) = billing(&install, &["--at", &at(first)]);
    let run_took = took;
    let after_run = counts(&conn).await;
    println!(
        "  month's run       {:>8.2} s  {}",
        took.as_secs_f64(),
        written(&after, &after_run)
    );
    for line in &lines {
        println!("    {line}");
    }
    let invoiced = after_run[0] - after[0];

    let (took, _) = billing(&install, &["--at", &at(first)]);
    let again = counts(&conn).await;
    println!(
        "  same day again    {:>8.2} s  {}",
        took.as_secs_f64(),
        written(&after_run, &again)
    );

    let (took, _) = billing(&install, &["--at", &at(first + TimeDelta::days(1))]);
    let next = counts(&conn).await;
    println!(
        "  next day          {:>8.2} s  {}",
        took.as_secs_f64(),
        written(&again, &next)
    );

    // Due a week after the issue, suspended after three days' grace.
    let (took, lines) = billing(&install, &["--at", &at(first + TimeDelta::days(11))]);
    let overdue = counts(&conn).await;
    println!(
        "  overdue run       {:>8.2} s  {}",
        took.as_secs_f64(),
        written(&next, &overdue)
    );
    for line in lines.iter().filter(|l| l.contains("overdue")) {
        println!("    {line}");
    }

    let per_row = per_row_baseline(&install, baseline, first).await;
    if invoiced > 0 {
        let set_based = run_took.as_secs_f64() / invoiced as f64;
        println!(
            "  per invoice: run {:.3} ms, per-row baseline {:.3} ms ({:.1}x); per-row at {invoiced} invoices would take {:.1} s",
            set_based * 1e3,
            per_row.as_secs_f64() * 1e3,
            per_row.as_secs_f64() / set_based,
            per_row.as_secs_f64() * invoiced as f64
        );
    }
    let verify = install.run(&["ledger", "verify"]);
    println!("  {}", verify.trim());
}

/// The mean time of one invoice posted and numbered on its own, in its own transaction,
/// over `n` postpaid customers of the seeded tenant (a period no run uses).
async fn per_row_baseline(install: &Install, n: usize, first: NaiveDate) -> Duration {
    use domain::billing::{Level, Split};
    use domain::ids::{TenantId, UserId};
    use domain::ledger::{Journal, JournalKind};

    let keyring =
        store::crypto::Keyring::parse(&store::crypto::Keyring::generate_line("b")).unwrap();
    let db = store::Db::connect(&install.database_url(), 2, keyring)
        .await
        .unwrap();
    let rows = db
        .conn()
        .query_all_raw(Statement::from_string(
            db.conn().get_database_backend(),
            format!(
                "SELECT id, tenant_id, sub_operator_id, operator_id FROM customer \
                  WHERE billing_type = 'postpaid' AND archived_at IS NULL ORDER BY id LIMIT {n}"
            ),
        ))
        .await
        .unwrap();
    let period = first.checked_add_months(Months::new(1)).unwrap();
    #[allow(clippy::disallowed_methods)] // the benchmark's own writes, timed
    let now = Utc::now();
    let started = Instant::now();
    for row in &rows {
        let id: i64 = row.try_get("", "id").unwrap();
        let tenant: i64 = row.try_get("", "tenant_id").unwrap();
        let sub: Option<i64> = row.try_get("", "sub_operator_id").unwrap();
        let op: Option<i64> = row.try_get("", "operator_id").unwrap();
        let levels = [sub, op]
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, u)| Level {
                reseller: UserId(u),
                cost: 45_000 - 5_000 * i as i64,
            })
            .collect();
        let split = Split {
            price: 50_000,
            vat: 0,
            levels,
        };
        let mut w = db
            .write(store::Author::system("baseline"), now)
            .await
            .unwrap();
        let journal = Journal::new(
            JournalKind::Invoice,
            format!("baseline:{id}:{period}"),
            domain::postpaid::issue_legs(&split, id),
            "baseline",
        )
        .unwrap();
        let meta = store::ledger::PostMeta {
            tenant: TenantId(tenant),
            currency: "BDT",
            request_hash: "baseline",
            customer_id: Some(id),
            reverses: None,
        };
        let posted = store::ledger::post(&mut w, &meta, &journal).await.unwrap();
        store::invoice::issue(
            &mut w,
            &store::invoice::NewDocument {
                tenant: TenantId(tenant),
                country: "BD",
                series: domain::invoice::Series::Invoice,
                customer_id: id,
                journal_id: Some(posted.id()),
                collector_id: None,
                currency: "BDT",
                subtotal: split.net(),
                vat: 0,
                total: split.price,
                fiscal_year: domain::invoice::fiscal_year(period, "BD"),
                buyer: serde_json::json!({}),
                lines: &[],
            },
        )
        .await
        .unwrap();
        w.audit(store::AuditEntry {
            tenant_id: Some(TenantId(tenant)),
            action: "baseline.invoice",
            entity: "customer",
            entity_id: Some(id),
            before: None,
            after: None,
        })
        .await
        .unwrap();
        w.commit().await.unwrap();
    }
    let took = started.elapsed();
    db.close().await.unwrap();
    took / u32::try_from(rows.len().max(1)).unwrap_or(1)
}
