//! The tables printed for each run and the targets.

use testkit::Backend;

use crate::common::{Latencies, ms, ratio};
use crate::{IMPORT_TARGET, LIST_TARGET, Run, WALK_LIMIT, backend_name, per_second, secs};

/// Prints the tables of one run.
pub fn print(run: &Run) {
    let name = backend_name(run.backend);
    println!();
    println!(
        "{name}, {} customers (load average {} before, {} after)",
        run.customers, run.load_before, run.load_after
    );
    println!(
        "  seeding (lastmile bench seed --customers {}): {} ({:.0} customers/s)",
        run.customers,
        secs(run.seeded),
        per_second(run.customers, run.seeded)
    );
    println!(
        "  GET /api/v1/customers, {} sequential requests per case (interleaved), one client",
        run.requests
    );
    println!(
        "  {:<34} {:>7} {:>10} {:>10} {:>10} {:>7} {:>7} {:>6}",
        "case", "total", "p50", "p95", "p99", "p50 x", "p95 x", "failed"
    );
    let base = &run.lists[0].latencies;
    for case in &run.lists {
        let total = format!(" {:>7}", case.total);
        row(
            &case.name,
            &total,
            &case.latencies,
            base,
            &case.failed.to_string(),
        );
    }
    for case in &run.lists {
        println!("    {}: ?{}", case.name, case.query);
    }
    for (order, (pages, walked)) in [("id", run.walk), ("name", run.name_walk)] {
        println!(
            "  walk to the middle by {order}: {pages} pages of {WALK_LIMIT} in {} ({} per page)",
            secs(walked),
            ms(walked / u32::try_from(pages.max(1)).unwrap())
        );
    }
    let i = &run.import;
    let added = |a: i64, b: i64| a - b;
    println!(
        "  import of {} rows (lastmile import customers FILE --tenant ID): {} ({:.0} rows/s), \
         target < {}",
        i.rows,
        secs(i.took),
        per_second(i.rows, i.took),
        secs(IMPORT_TARGET)
    );
    println!("    {}", i.summary);
    println!(
        "    customers {} -> {} (+{}), radcheck {} -> {} (+{}), radreply {} -> {} (+{})",
        i.before.0,
        i.after.0,
        added(i.after.0, i.before.0),
        i.before.1,
        i.after.1,
        added(i.after.1, i.before.1),
        i.before.2,
        i.after.2,
        added(i.after.2, i.before.2),
    );
    println!(
        "  one customer change with its projection ({} different customers, sequential)",
        run.writes.count()
    );
    println!(
        "  {:<34} {:>10} {:>10} {:>10} {:>7} {:>7} {:>6}",
        "request", "p50", "p95", "p99", "p50 x", "p95 x", "failed"
    );
    let (r, w) = (&run.reads, &run.writes);
    row("GET /customers/{id} (baseline)", "", r, r, "");
    let failures = run.write_failures.to_string();
    row("PATCH /customers/{id} password", "", w, r, &failures);
    for rewrite in &run.rewrites {
        match &rewrite.converged {
            None => println!(
                "  rewrite, {}: {} customers in {} (one transaction)",
                rewrite.what,
                rewrite.customers,
                secs(rewrite.took),
            ),
            Some(c) => println!(
                "  rewrite, {}: {} customers; the change answered in {}, the rows converged in {} \
                 ({:.0} customers/s); {} customer writes meanwhile, the longest {}",
                rewrite.what,
                rewrite.customers,
                ms(rewrite.took),
                secs(c.took),
                crate::per_second(usize::try_from(rewrite.customers).unwrap_or(0), c.took),
                c.writes,
                ms(c.longest_write),
            ),
        }
    }
    let (took, summary) = &run.verified;
    println!("  lastmile radius verify: {} ({summary})", secs(*took));
}

/// One line of a latency table: name, `extra` columns, p50/p95/p99 and the p50 and p95
/// ratios to `base`.
fn row(name: &str, extra: &str, l: &Latencies, base: &Latencies, failed: &str) {
    println!(
        "  {name:<34}{extra} {:>10} {:>10} {:>10} {:>7} {:>7} {failed:>6}",
        ms(l.quantile(0.5)),
        ms(l.quantile(0.95)),
        ms(l.quantile(0.99)),
        ratio(l.quantile(0.5), base.quantile(0.5)),
        ratio(l.quantile(0.95), base.quantile(0.95)),
    );
}

/// Prints each run against the targets of the issue.
pub fn targets(runs: &[Run]) {
    println!();
    println!("Targets");
    for run in runs {
        let name = backend_name(run.backend);
        let worst = run
            .lists
            .iter()
            .max_by_key(|c| c.latencies.quantile(0.95))
            .unwrap();
        let p95 = worst.latencies.quantile(0.95);
        let applies = run.backend == Backend::Postgres && run.customers >= 1_000_000;
        println!(
            "  {name:<10} {:>8} customers: worst list p95 {} ({}){}; import {} rows {}{}",
            run.customers,
            ms(p95),
            worst.name,
            if applies {
                if p95 < LIST_TARGET {
                    " — meets < 50 ms"
                } else {
                    " — MISSES < 50 ms"
                }
            } else {
                ""
            },
            run.import.rows,
            secs(run.import.took),
            if run.import.rows == 100_000 {
                if run.import.took < IMPORT_TARGET {
                    " — meets < 60 s"
                } else {
                    " — MISSES < 60 s"
                }
            } else {
                ""
            }
        );
    }
}
