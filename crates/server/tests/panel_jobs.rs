//! Long work in the panel: a CSV import uploaded through the form becomes a job, whose page
//! shows its progress and then its report (rows created, every refused row with its line and
//! reason); the jobs list shows it to the tenant's staff and to nobody of another tenant; the
//! same file sent again is refused beside the file field.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use support::panel::{Isp, Reply, Visitor, isp, staff_of};
use support::{Backend, TestApp, spawn};

/// Reloads a job's page until it no longer runs; returns it.
async fn finished(visitor: &mut Visitor<'_>, page: &str) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = visitor.get(page).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        if !reply.has("http-equiv=\"refresh\"") {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "{page} never finished: {}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_package(app: &TestApp, dev: &str, tenant: i64) -> i64 {
    let (status, package) = app
        .post(
            "/api/v1/packages",
            dev,
            json!({"tenant_id": tenant, "name": "Home", "connection_type": "pppoe",
                   "download_kbps": 20000, "upload_kbps": 5000, "validity_days": 30, "price": 50000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{package}");
    package["id"].as_i64().unwrap()
}

async fn an_uploaded_import_runs_as_a_job_whose_page_shows_progress_and_report(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let package = a_package(&app, &dev, tenant).await;
    let csv = format!(
        "username,password,name,connection_type,package\n\
         up1,pass-one,Uploaded One,pppoe,{package}\n\
         up 2,pass-two,Bad Name,pppoe,{package}\n\
         up3,pass-three,Uploaded Three,pppoe,Home\n"
    );
    let list = admin.get("/panel/customers").await;
    assert!(
        list.has("href=\"/panel/customers/import\""),
        "{}",
        list.body
    );
    let reply = admin
        .upload(
            "/panel/customers/import",
            "/panel/customers/import",
            &[],
            ("file", "customers.csv", csv.clone().into_bytes()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = reply.location().to_owned();
    assert!(page.starts_with("/panel/jobs/"), "{page}");
    let done = finished(&mut admin, &page).await;
    assert!(done.has("id=\"job-created\">2"), "{}", done.body);
    assert!(done.has("id=\"job-refused\">1"), "{}", done.body);
    assert!(
        done.has("<td class=\"num\">3</td><td>username</td>"),
        "{}",
        done.body
    );
    assert_eq!(app.count("customer").await, 2);

    // Listed for the tenant's staff.
    let jobs = admin.get("/panel/jobs").await;
    let id = page.trim_start_matches("/panel/jobs/");
    assert!(jobs.has(&format!("data-job=\"{id}\"")), "{}", jobs.body);

    // The same file again is refused beside the file field.
    let again = admin
        .upload(
            "/panel/customers/import",
            "/panel/customers/import",
            &[],
            ("file", "customers.csv", csv.into_bytes()),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(again.has(&format!("(job {id})")), "{}", again.body);

    // Nobody of another tenant sees it.
    let other = app.tenant(&dev, "Other Net").await;
    app.user(&dev, staff_of(other, "admin@other.example", "admin"))
        .await;
    let mut stranger = Visitor::signed_in(&app, "admin@other.example").await;
    assert!(
        !stranger
            .get("/panel/jobs")
            .await
            .has(&format!("data-job=\"{id}\""))
    );
    assert_eq!(stranger.get(&page).await.status, StatusCode::NOT_FOUND);
}

both_backends!(an_uploaded_import_runs_as_a_job_whose_page_shows_progress_and_report,);
