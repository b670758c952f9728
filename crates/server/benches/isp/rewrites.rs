//! The wide rewrites of the `isp` bench: the changes that rewrite many customers' FreeRADIUS
//! rows, each timed over the API (see `main.rs`). A change reaching more customers than one
//! transaction should rewrite commits at once and queues a job converging the rows in
//! batches: the bench follows that job to its end and times customer writes made meanwhile,
//! which is how long an operator's own change waits behind the convergence.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::api::Api;
use crate::common::Install;

/// One wide rewrite: what changed, the customers whose rows it rewrote, how long the
/// request (and so its write transaction) took, and the convergence after it, if it queued
/// one.
#[derive(Debug)]
pub struct Rewrite {
    pub what: String,
    pub customers: i64,
    pub took: Duration,
    pub converged: Option<Converged>,
}

/// A convergence followed to its end.
#[derive(Debug)]
pub struct Converged {
    /// From the change's request to the job's end.
    pub took: Duration,
    /// The customer writes answered meanwhile: their longest and their count.
    pub longest_write: Duration,
    pub writes: usize,
}

/// The changes that rewrite many customers' FreeRADIUS rows in one transaction, each timed
/// over the API: the rate of the master package most customers use (copied to its derived
/// packages), the name of the pool most customers take addresses from, and the tenant's
/// suspension policy (its suspended customers).
pub async fn measure_rewrites(api: &Api, install: &Install, tenant: i64) -> Vec<Rewrite> {
    let db = install.connect().await;
    let mut out = Vec::new();
    let probe = probe_customer(api, tenant).await;

    let master = crate::db::count(
        &db,
        &format!(
            "SELECT p.master_id FROM customer c JOIN package p ON p.id = c.package_id \
             WHERE c.tenant_id = {tenant} AND c.archived_at IS NULL \
             GROUP BY p.master_id ORDER BY COUNT(*) DESC LIMIT 1"
        ),
    )
    .await;
    let customers = crate::db::count(
        &db,
        &format!(
            "SELECT COUNT(*) FROM customer c JOIN package p ON p.id = c.package_id \
             WHERE p.master_id = {master} AND c.archived_at IS NULL"
        ),
    )
    .await;
    let package = api.get_ok(&format!("packages/{master}")).await;
    let request = api
        .http
        .patch(format!("{}/api/v1/packages/{master}", api.base))
        .header("If-Match", format!("\"{}\"", package["version"]))
        .json(&service_with_faster_download(&package));
    let before = newest_convergence(api).await;
    let started = Instant::now();
    let answer = api.send(request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    out.push(Rewrite {
        what: "master package rate".to_owned(),
        customers,
        took: answer.latency,
        converged: follow_convergence(api, before, started, probe).await,
    });

    let pool = crate::db::count(
        &db,
        &format!(
            "SELECT COALESCE(c.ip_pool_id, p.ip_pool_id) FROM customer c \
             JOIN package p ON p.id = c.package_id \
             WHERE c.tenant_id = {tenant} AND c.archived_at IS NULL AND c.static_ip IS NULL \
             AND COALESCE(c.ip_pool_id, p.ip_pool_id) IS NOT NULL \
             GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1"
        ),
    )
    .await;
    let customers = crate::db::count(
        &db,
        &format!(
            "SELECT COUNT(*) FROM customer c JOIN package p ON p.id = c.package_id \
             WHERE c.archived_at IS NULL AND c.static_ip IS NULL \
             AND COALESCE(c.ip_pool_id, p.ip_pool_id) = {pool}"
        ),
    )
    .await;
    let stored = api.get_ok(&format!("ip-pools/{pool}")).await;
    let request = api
        .http
        .patch(format!("{}/api/v1/ip-pools/{pool}", api.base))
        .header("If-Match", format!("\"{}\"", stored["version"]))
        .json(&json!({ "name": format!("{}-2", stored["name"].as_str().unwrap()) }));
    let before = newest_convergence(api).await;
    let started = Instant::now();
    let answer = api.send(request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    out.push(Rewrite {
        what: "pool name".to_owned(),
        customers,
        took: answer.latency,
        converged: follow_convergence(api, before, started, probe).await,
    });

    let customers = crate::db::count(
        &db,
        &format!(
            "SELECT COUNT(*) FROM customer WHERE tenant_id = {tenant} \
             AND archived_at IS NULL AND status = 'suspended'"
        ),
    )
    .await;
    let stored = api.get_ok(&format!("tenants/{tenant}")).await;
    let request = api
        .http
        .patch(format!("{}/api/v1/tenants/{tenant}", api.base))
        .header("If-Match", format!("\"{}\"", stored["version"]))
        .json(&json!({ "suspension_policy": "address_list", "suspension_target": "unpaid" }));
    let before = newest_convergence(api).await;
    let started = Instant::now();
    let answer = api.send(request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    out.push(Rewrite {
        what: "suspension policy".to_owned(),
        customers,
        took: answer.latency,
        converged: follow_convergence(api, before, started, probe).await,
    });
    out
}

/// A master package's whole service (it changes as one) with the download 1 Mbit/s faster.
fn service_with_faster_download(package: &serde_json::Value) -> serde_json::Value {
    let burst = &package["burst"];
    let validity = package["validity_minutes"].as_i64().unwrap();
    json!({
        "connection_type": package["connection_type"],
        "download_kbps": package["download_kbps"].as_i64().unwrap() + 1000,
        "upload_kbps": package["upload_kbps"],
        "burst_download_kbps": burst["download_kbps"],
        "burst_upload_kbps": burst["upload_kbps"],
        "burst_threshold_download_kbps": burst["threshold_download_kbps"],
        "burst_threshold_upload_kbps": burst["threshold_upload_kbps"],
        "burst_time_secs": burst["time_secs"],
        "volume_bytes": package["volume_bytes"],
        "validity_days": validity / 1440,
        "validity_hours": validity % 1440 / 60,
        "validity_minutes": validity % 60,
        "ip_pool_id": package["ip_pool_id"],
    })
}

/// The id of the newest convergence job, 0 when there is none.
async fn newest_convergence(api: &Api) -> i64 {
    let jobs = api.get_ok("jobs?kind=radius.converge&limit=1").await;
    jobs["items"][0]["id"].as_i64().unwrap_or(0)
}

/// A customer whose password the bench changes while a convergence runs.
async fn probe_customer(api: &Api, tenant: i64) -> i64 {
    let page = api
        .get_ok(&format!("customers?tenant_id={tenant}&limit=1"))
        .await;
    page["items"][0]["id"]
        .as_i64()
        .expect("a customer to write")
}

/// Follows the convergence a change queued (one newer than `before`), if it queued one:
/// changes `probe`'s password over and over until the job is done, timing each change.
async fn follow_convergence(
    api: &Api,
    before: i64,
    started: Instant,
    probe: i64,
) -> Option<Converged> {
    let job = newest_convergence(api).await;
    if job <= before {
        return None;
    }
    let mut longest_write = Duration::ZERO;
    let mut writes = 0;
    loop {
        let state = api.get_ok(&format!("jobs/{job}")).await;
        match state["status"].as_str() {
            Some("done") => break,
            Some("failed") => panic!("the convergence failed: {state}"),
            _ => {}
        }
        let customer = api.get_ok(&format!("customers/{probe}")).await;
        let request = api
            .http
            .patch(format!("{}/api/v1/customers/{probe}", api.base))
            .header("If-Match", format!("\"{}\"", customer["version"]))
            .json(&json!({ "password": format!("probe-{writes}-pass") }));
        let answer = api.send(request).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        longest_write = longest_write.max(answer.latency);
        writes += 1;
    }
    Some(Converged {
        took: started.elapsed(),
        longest_write,
        writes,
    })
}
