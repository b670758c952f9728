//! The tables printed for each run and the targets.

use testkit::Backend;

use crate::common::{Latencies, ms, ratio};
use crate::phases::{PhaseResult, RoleResult, ShapeResult};
use crate::{IMPORT_TARGET, LIST_TARGET, Run, WALK_LIMIT, Writes, backend_name, per_second, secs};

/// The slowest shapes listed per role.
const WORST_SHOWN: usize = 5;

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
    match &run.writes {
        Some(writes) => print_writes(writes),
        None => println!("  (LASTMILE_BENCH_ONLY=lists: no import, changes, rewrites or verify)"),
    }
    for phase in &run.phases {
        phase_table(phase);
    }
}

/// The import, the changes, the wide rewrites and verify.
fn print_writes(done: &Writes) {
    let i = &done.import;
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
        done.writes.count()
    );
    println!(
        "  {:<34} {:>10} {:>10} {:>10} {:>7} {:>7} {:>6}",
        "request", "p50", "p95", "p99", "p50 x", "p95 x", "failed"
    );
    let (r, w) = (&done.reads, &done.writes);
    row("GET /customers/{id} (baseline)", "", r, r, "");
    let failures = done.write_failures.to_string();
    row("PATCH /customers/{id} password", "", w, r, &failures);
    for rewrite in &done.rewrites {
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
    let (took, summary) = &done.verified;
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

/// Prints one statistics phase as it ends: its table, then per role the slowest shapes and
/// the refused or failing ones.
pub fn print_phase(phase: &PhaseResult, rounds: usize) {
    phase_table(phase);
    println!(
        "  (each shape {rounds} times, a role's shapes interleaved round by round, one client)"
    );
    for role in &phase.roles {
        println!("    {}: the {WORST_SHOWN} slowest", role.role.name());
        for shape in role.worst().into_iter().take(WORST_SHOWN) {
            shape_row(shape);
        }
        for shape in role.shapes.iter().filter(|s| s.refused || s.failed > 0) {
            failure_row(shape);
        }
    }
}

/// A phase's table: per role, the shapes measured, refused and failing, the median and
/// worst of their p95s, and how many reach the list target.
fn phase_table(phase: &PhaseResult) {
    println!();
    println!(
        "  GET /api/v1/customers under random shapes, statistics {}: {}",
        phase.phase.name(),
        phase.note
    );
    println!(
        "  {:<22} {:>6} {:>7} {:>6} {:>12} {:>12} {:>8}",
        "role", "shapes", "refused", "failed", "median p95", "worst p95", ">= 50 ms"
    );
    for role in &phase.roles {
        role_row(role);
    }
}

/// A shape refused on its first try, or with answers other than 200: the first such answer.
fn failure_row(shape: &ShapeResult) {
    let (status, body) = shape.first_failure.clone().unwrap_or_default();
    let what = if shape.refused {
        "refused".to_owned()
    } else {
        format!("{} not 200", shape.failed)
    };
    println!(
        "      {what} ({status}) {} ?{}: {}",
        shape.shape.name,
        shape.measured,
        shorten(&body, 160)
    );
}

/// One role's line of a phase table.
fn role_row(role: &RoleResult) {
    let measured = role.measured().count();
    let refused = role.shapes.len() - measured;
    let failed: usize = role.shapes.iter().map(|s| s.failed).sum();
    let worst = role.worst().first().map_or(Default::default(), |s| s.p95());
    println!(
        "  {:<22} {measured:>6} {refused:>7} {failed:>6} {:>12} {:>12} {:>8}",
        role.role.name(),
        ms(role.median_p95()),
        ms(worst),
        role.over(LIST_TARGET),
    );
}

/// One slow shape: p95, p50, the answer's total, and its query.
fn shape_row(shape: &ShapeResult) {
    let page = if shape.shape.next_page && shape.measured.contains("cursor=") {
        ", next page"
    } else {
        ""
    };
    println!(
        "      p95 {:>10}  p50 {:>10}  total {:>6}  {}{page} ?{}",
        ms(shape.p95()),
        ms(shape.latencies.quantile(0.5)),
        shape.total,
        shape.shape.name,
        shape.shape.query,
    );
}

/// At most `max` characters of `text`.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
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
        let import = run.writes.as_ref().map(|w| &w.import);
        println!(
            "  {name:<10} {:>8} customers: worst list p95 {} ({}){}; {}",
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
            import.map_or("no import".to_owned(), |i| format!(
                "import {} rows {}{}",
                i.rows,
                secs(i.took),
                if i.rows == 100_000 {
                    if i.took < IMPORT_TARGET {
                        " — meets < 60 s"
                    } else {
                        " — MISSES < 60 s"
                    }
                } else {
                    ""
                }
            ))
        );
        for phase in &run.phases {
            shapes_target(phase, applies);
        }
    }
}

/// Whether every shape's p95 was under the list target in one phase, and the slowest one.
/// `applies` marks the size and backend the target is set for.
fn shapes_target(phase: &PhaseResult, applies: bool) {
    let (measured, over) = phase.over(LIST_TARGET);
    let held = if over == 0 {
        "held".to_owned()
    } else {
        format!("did NOT hold ({over} of {measured} shapes at or over)")
    };
    let verdict = match (applies, over) {
        (false, _) => "",
        (true, 0) => " — meets",
        (true, _) => " — MISSES",
    };
    let worst = phase.worst().map_or("-".to_owned(), |(role, s)| {
        format!("{} as {}: ?{}", ms(s.p95()), role.name(), s.shape.query)
    });
    println!(
        "    statistics {:<6}: every shape p95 < 50 ms {held}{verdict}; worst {worst}",
        phase.phase.name()
    );
}
