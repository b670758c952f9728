//! The write path and the jobs behind it: no change commits without its audit entry, jobs
//! queued by the scheduler run once per period, leases of dead workers expire, the express
//! lane takes only its kinds, finished work
//! is purged, list totals stop counting at the cap, and PostgreSQL connections plan each
//! statement for its values.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use chrono::TimeDelta;
use domain::customer::BillingType;
use domain::tenant::TenantStatus;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait as _, ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait as _};
use serde_json::json;
use store::entity::code::Stored;
use store::job::Lane;
use support::{Backend, spawn, spawn_with};

async fn a_change_without_its_audit_entry_is_refused_and_rolled_back(backend: Backend) {
    let app = spawn(backend).await;
    let db = &app.state.db;
    let now = app.clock().now();
    let w = db.write(store::Author::system("test"), now).await.unwrap();
    store::entity::tenant::ActiveModel {
        id: NotSet,
        name: Set("Sneaky".into()),
        country: Set("BD".into()),
        currency: Set("BDT".into()),
        time_zone: Set("UTC".into()),
        owner_id: Set(None),
        currency_locked: Set(false),
        status: Set(Stored(TenantStatus::Active)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        realm: Set(Some("sneaky".into())),
        suspension_policy: Set("reject".into()),
        suspension_target: Set(None),
        default_billing_type: Set(Stored(BillingType::Prepaid)),
        mobile_country: Set(None),
        utc_offset_minutes: Set(0),
        billing_day: Set(1),
        due_days: Set(7),
        grace_days: Set(3),
        remind_days: Set(3),
        bin: Set(String::new()),
        address: Set(String::new()),
        sms_lang: Set("en".to_owned()),
        distributor_mobiles: Set(false),
    }
    .insert(w.tx())
    .await
    .unwrap();
    let error = w.commit().await.unwrap_err();
    assert!(matches!(error, store::StoreError::Unaudited), "{error}");
    assert_eq!(app.count("tenant").await, 0);
}

async fn wait_for_job(app: &support::TestApp, kind: &str, status: &str) -> store::job::Job {
    for _ in 0..200 {
        let jobs = store::job::recent(&app.state.db, kind, 10).await.unwrap();
        if let Some(job) = jobs.into_iter().find(|j| j.status.code() == status) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {kind} job reached {status}");
}

async fn the_scheduler_queues_each_period_once_and_a_worker_runs_it(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let done = wait_for_job(&app, "housekeeping.purge", "done").await;
    assert!(
        done.result
            .as_deref()
            .is_some_and(|r| r.contains("sessions")),
        "{:?}",
        done.result
    );
    // Ticking again in the same hour queues nothing new.
    lastmile::jobs::tick(&app.state, false).await;
    lastmile::jobs::tick(&app.state, false).await;
    assert_eq!(
        store::job::recent(&app.state.db, "housekeeping.purge", 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Two months later the next period's purge removes the long-expired token.
    app.clock().shift(61 * 24 * 3600);
    lastmile::jobs::tick(&app.state, false).await;
    // The purge's steps commit one by one: wait for the new period's job to finish.
    let mut jobs = Vec::new();
    for _ in 0..200 {
        jobs = store::job::recent(&app.state.db, "housekeeping.purge", 10)
            .await
            .unwrap();
        if jobs
            .iter()
            .any(|j| j.id != done.id && j.status.code() == "done")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(jobs[0].status.code(), "done", "{jobs:#?}");
    assert_eq!(app.count("api_token").await, 0, "{jobs:#?}");
    // The new period's purge also removed the first purge, finished two months ago.
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    assert_ne!(jobs[0].id, done.id);
    assert_ne!(jobs[0].dedupe_key, done.dedupe_key);
    let (status, _) = app.get("/api/v1/me", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// lastmile keeps the planner's statistics itself: the scheduler queues `db.statistics` for
/// the current six-hour period at start-up, after which the engine holds statistics (SQLite's
/// `sqlite_stat1`, filled for tables with rows; PostgreSQL's record of the customer table's
/// last `ANALYZE`).
async fn the_scheduler_refreshes_the_planners_statistics(backend: Backend) {
    let app = spawn(backend).await;
    let done = wait_for_job(&app, "db.statistics", "done").await;
    assert!(
        done.result.as_deref().is_some_and(|r| r.contains("ms")),
        "{:?}",
        done.result
    );
    let sql = match backend {
        Backend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_stat1",
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM pg_stat_user_tables \
             WHERE relname = 'customer' AND last_analyze IS NOT NULL"
        }
    };
    let row = app
        .state
        .db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            app.state.db.conn().get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    assert!(n > 0, "no planner statistics");
}

async fn a_job_without_a_handler_fails_for_good_with_its_reason(backend: Backend) {
    let app = spawn(backend).await;
    let now = app.clock().now();
    let job = store::NewJob {
        kind: "no.such.kind",
        payload: json!({}),
        run_at: now,
        dedupe_key: None,
        max_attempts: 5,
        tenant_id: None,
        created_by: None,
    };
    store::job::schedule(&app.state.db, job, now).await.unwrap();
    app.state.jobs_wake.notify_one();
    let failed = wait_for_job(&app, "no.such.kind", "failed").await;
    assert_eq!(failed.attempts, 1, "a permanent error is not retried");
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no handler"))
    );
}

/// The usage watcher's next pass is queued only once the last has ended: a pass longer
/// than the interval delays the next, and passes never pile up.
async fn no_usage_watch_is_queued_while_one_is_queued_or_running(backend: Backend) {
    let app = spawn_with(backend, |c| c.jobs.workers = 0).await;
    let db = &app.state.db;
    let kind = "usage.watch";
    let now = app.clock().now();
    let due = now + TimeDelta::minutes(5);
    let earlier = store::NewJob {
        kind,
        payload: json!({}),
        run_at: due,
        dedupe_key: Some("usage.watch@earlier".into()),
        max_attempts: 3,
        tenant_id: None,
        created_by: None,
    };
    store::job::schedule(db, earlier, now)
        .await
        .unwrap()
        .unwrap();
    let count = || async { store::job::recent(db, kind, 10).await.unwrap().len() };

    lastmile::jobs::watch_usage(&app.state, 60).await;
    assert_eq!(count().await, 1, "a pass queued: none added");
    let running = store::job::claim(db, "worker-a", Lane::Any, due, due + TimeDelta::hours(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(running.kind, kind);
    lastmile::jobs::watch_usage(&app.state, 60).await;
    assert_eq!(count().await, 1, "a pass running: none added");

    store::job::complete(db, domain::ids::JobId(running.id), json!({}), due)
        .await
        .unwrap();
    lastmile::jobs::watch_usage(&app.state, 60).await;
    let jobs = store::job::recent(db, kind, 10).await.unwrap();
    let period = now.timestamp().div_euclid(60);
    assert_eq!(
        jobs.iter()
            .map(|j| j.dedupe_key.clone())
            .collect::<Vec<_>>(),
        vec![
            Some(format!("usage.watch@60@{period}")),
            Some("usage.watch@earlier".to_owned())
        ],
        "the pass ended: the period's queued"
    );
}

async fn a_claim_whose_worker_died_is_taken_over_when_its_lease_runs_out(backend: Backend) {
    let app = spawn_with(backend, |c| c.jobs.workers = 0).await;
    let db = &app.state.db;
    let now = app.clock().now();
    let job = store::NewJob {
        kind: "test.lease",
        payload: json!({}),
        run_at: now,
        dedupe_key: Some("lease-1".into()),
        max_attempts: 3,
        tenant_id: None,
        created_by: None,
    };
    store::job::schedule(db, job, now).await.unwrap();
    let first = store::job::claim(db, "worker-a", Lane::Any, now, now + TimeDelta::minutes(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.attempts, first.locked_by.as_deref()),
        (1, Some("worker-a"))
    );
    assert!(
        store::job::claim(db, "worker-b", Lane::Any, now, now + TimeDelta::minutes(10))
            .await
            .unwrap()
            .is_none()
    );
    let later = now + TimeDelta::minutes(11);
    let taken = store::job::claim(
        db,
        "worker-b",
        Lane::Any,
        later,
        later + TimeDelta::minutes(10),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        (taken.id, taken.attempts, taken.locked_by.as_deref()),
        (first.id, 2, Some("worker-b"))
    );
}

async fn an_express_worker_takes_only_its_kinds_whatever_waits_before_them(backend: Backend) {
    let app = spawn_with(backend, |c| c.jobs.workers = 0).await;
    let db = &app.state.db;
    let now = app.clock().now();
    let job = |kind: &'static str, key: &str, run_at| store::NewJob {
        kind,
        payload: json!({}),
        run_at,
        dedupe_key: Some(key.into()),
        max_attempts: 3,
        tenant_id: None,
        created_by: None,
    };
    const EXPRESS: Lane = Lane::Only(&["test.code", "test.other-code"]);
    let lease = now + TimeDelta::minutes(10);
    store::job::schedule(
        db,
        job("test.router", "router-1", now - TimeDelta::minutes(5)),
        now,
    )
    .await
    .unwrap();
    assert!(
        store::job::claim(db, "express", EXPRESS, now, lease)
            .await
            .unwrap()
            .is_none(),
        "a router's job is not the express lane's"
    );
    store::job::schedule(db, job("test.code", "code-1", now), now)
        .await
        .unwrap();
    store::job::schedule(
        db,
        job("test.other-code", "code-2", now + TimeDelta::minutes(1)),
        now,
    )
    .await
    .unwrap();
    let taken = store::job::claim(db, "express", EXPRESS, now, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.kind, "test.code", "behind the older router job");
    assert!(
        store::job::claim(db, "express", EXPRESS, now, lease)
            .await
            .unwrap()
            .is_none(),
        "the other code is not due yet"
    );
    let common = store::job::claim(db, "common", Lane::Any, now, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(common.kind, "test.router");
    let later = now + TimeDelta::minutes(2);
    let next = store::job::claim(
        db,
        "common",
        Lane::Any,
        later,
        later + TimeDelta::minutes(10),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        next.kind, "test.other-code",
        "the common lane takes any kind"
    );
}

async fn list_totals_stop_counting_at_ten_thousand(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let conn = app.state.db.conn();
    let backend_kind = conn.get_database_backend();
    let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10050) \
               INSERT INTO audit_log (at, tenant_id, actor_id, actor_label, action, entity) \
               SELECT CURRENT_TIMESTAMP, NULL, NULL, 'bulk', 'test.bulk', 'test' FROM n";
    conn.execute_raw(sea_orm::Statement::from_string(backend_kind, sql))
        .await
        .unwrap();
    let (status, page) = app
        .get("/api/v1/audit?action=test.bulk&limit=5", &token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (page["total"].as_i64(), page["total_capped"].as_bool()),
        (Some(10_000), Some(true))
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert!(page["next_cursor"].is_string());
}

/// Every pooled PostgreSQL connection plans each statement for its values (a generic plan
/// of a prepared list query cannot use the pattern index of a `LIKE $1` prefix), without
/// JIT and without parallel workers.
#[tokio::test]
async fn postgres_connections_plan_each_statement_for_its_values() {
    let app = spawn(Backend::Postgres).await;
    let conn = app.state.db.conn();
    // More connections than one: run the check on several at once.
    let checks = (0..4).map(|_| async {
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT current_setting('plan_cache_mode') || ' ' || current_setting('jit') \
                 || ' ' || current_setting('max_parallel_workers_per_gather') AS mode, \
                 pg_backend_pid() AS pid, pg_sleep(0.05)::text AS slept",
            ))
            .await
            .unwrap()
            .unwrap();
        (
            row.try_get::<String>("", "mode").unwrap(),
            row.try_get::<i32>("", "pid").unwrap(),
        )
    });
    let answers = futures::future::join_all(checks).await;
    let pids: std::collections::HashSet<i32> = answers.iter().map(|(_, pid)| *pid).collect();
    assert!(
        pids.len() > 1,
        "the checks ran on one connection: {answers:?}"
    );
    for (mode, pid) in &answers {
        assert_eq!(mode, "force_custom_plan off 0", "connection {pid}");
    }
}

async fn a_tenants_currency_is_fixed_once_anything_priced_exists(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let id = app.tenant(&token, "Comilla Net").await;
    let path = format!("/api/v1/tenants/{id}");
    let (status, body) = app
        .patch(&path, &token, json!({"currency": "USD", "version": 1}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The first priced record's transaction fixes the currency.
    let mut w = app
        .state
        .db
        .write(store::Author::system("test"), app.clock().now())
        .await
        .unwrap();
    store::tenant::lock_currency(&mut w, domain::ids::TenantId(id))
        .await
        .unwrap();
    w.audit(store::AuditEntry {
        tenant_id: Some(domain::ids::TenantId(id)),
        action: "test.priced",
        entity: "tenant",
        entity_id: Some(id),
        before: None,
        after: None,
    })
    .await
    .unwrap();
    w.commit().await.unwrap();
    let (status, body) = app
        .patch(&path, &token, json!({"currency": "BDT", "version": 2}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["code"], "currency_locked");
    let (_, tenant) = app.get(&path, &token).await;
    assert_eq!(
        (
            tenant["currency"].as_str(),
            tenant["currency_locked"].as_bool()
        ),
        (Some("USD"), Some(true))
    );
    // Other settings still change.
    let (status, _) = app
        .patch(
            &path,
            &token,
            json!({"name": "Comilla Net Ltd", "version": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// Customers without planner statistics (a restored database, statistics dropped) get
/// them at the scheduler's next tick, out of the six-hour turn, and a tick with
/// statistics in place queues nothing more.
async fn missing_planner_statistics_are_taken_at_the_next_tick(backend: Backend) {
    let app = spawn(backend).await;
    wait_for_job(&app, "db.statistics", "done").await;
    let db = &app.state.db;
    lastmile::seed::bench(
        db,
        &app.state.hasher,
        app.clock().now(),
        lastmile::seed::BenchShape {
            batch: 100,
            ..lastmile::seed::BenchShape::of(200)
        },
        |_| {},
    )
    .await
    .unwrap();
    db.refresh_statistics().await.unwrap();
    assert!(!db.statistics_missing().await.unwrap());
    let drop = match backend {
        Backend::Sqlite => "DELETE FROM sqlite_stat1",
        Backend::Postgres => "DELETE FROM pg_statistic WHERE starelid = 'customer'::regclass",
    };
    db.conn().execute_unprepared(drop).await.unwrap();
    assert!(db.statistics_missing().await.unwrap());

    lastmile::jobs::tick(&app.state, false).await;
    let mut jobs = Vec::new();
    for _ in 0..200 {
        jobs = store::job::recent(db, "db.statistics", 10).await.unwrap();
        let missing = |j: &store::job::Job| {
            j.dedupe_key
                .as_deref()
                .is_some_and(|k| k.contains("@missing@"))
        };
        if jobs.iter().any(|j| missing(j) && j.status.code() == "done") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!db.statistics_missing().await.unwrap(), "{jobs:#?}");
    let queued = jobs.len();
    lastmile::jobs::tick(&app.state, false).await;
    let after = store::job::recent(db, "db.statistics", 10).await.unwrap();
    assert_eq!(after.len(), queued, "{after:#?}");
}

both_backends!(
    missing_planner_statistics_are_taken_at_the_next_tick,
    a_tenants_currency_is_fixed_once_anything_priced_exists,
    a_change_without_its_audit_entry_is_refused_and_rolled_back,
    the_scheduler_queues_each_period_once_and_a_worker_runs_it,
    the_scheduler_refreshes_the_planners_statistics,
    a_job_without_a_handler_fails_for_good_with_its_reason,
    a_claim_whose_worker_died_is_taken_over_when_its_lease_runs_out,
    no_usage_watch_is_queued_while_one_is_queued_or_running,
    an_express_worker_takes_only_its_kinds_whatever_waits_before_them,
    list_totals_stop_counting_at_ten_thousand,
);
