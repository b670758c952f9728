//! The customer tests' world and helpers: a tenant with its pools, packages, operator and
//! router; a customer's FreeRADIUS rows; creating customers; sending a CSV import and
//! waiting for its job.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::TestApp;

/// A tenant with pools, packages of every connection type, an operator with its own
/// package, and a router: what the customer tests create customers against.
pub struct Isp {
    pub dev: String,
    pub tenant: i64,
    pub home: i64,
    pub fixed: i64,
    pub op: i64,
    pub pppoe: i64,
    pub hotspot: i64,
    pub static_pkg: i64,
    pub op_pppoe: i64,
    pub router: i64,
}

pub async fn isp(app: &TestApp) -> Isp {
    let dev = app.developer().await;
    let (_, tenant) = app
        .post(
            "/api/v1/tenants",
            &dev,
            json!({"name": "Customer ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka", "realm": "cisp",
                   "suspension_policy": "pool", "suspension_target": "suspended"}),
        )
        .await;
    let tenant = tenant["id"].as_i64().unwrap();
    let pool =
        |name: &str, ranges: &str| json!({"tenant_id": tenant, "name": name, "ranges": ranges});
    let home = app
        .post("/api/v1/ip-pools", &dev, pool("home", "10.0.0.0/22"))
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let fixed = app
        .post("/api/v1/ip-pools", &dev, pool("fixed", "203.0.113.0/30"))
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let package = |name: &str, ct: &str, pool: Option<i64>, volume: Option<i64>| {
        json!({"tenant_id": tenant, "name": name, "connection_type": ct, "download_kbps": 20000, "upload_kbps": 5000,
               "validity_days": 30, "price": 50000, "ip_pool_id": pool, "volume_bytes": volume})
    };
    let pppoe = app
        .post(
            "/api/v1/packages",
            &dev,
            package("Home", "pppoe", Some(home), None),
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let hotspot = app
        .post(
            "/api/v1/packages",
            &dev,
            package("Day pass", "hotspot", Some(home), Some(5 * (1i64 << 32))),
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let static_pkg = app
        .post(
            "/api/v1/packages",
            &dev,
            package("Static", "static_ip", None, None),
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let op = app
        .user(
            &dev,
            json!({"email": "op@c.example", "name": "Op", "role": "operator", "tenant_id": tenant}),
        )
        .await;
    let op_pppoe = app
        .post("/api/v1/packages", &dev, json!({"parent_id": pppoe, "owner_id": op, "name": "Op home", "price": 55000, "cost_price": 50000}))
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let router = app
        .post(
            "/api/v1/routers",
            &dev,
            json!({"tenant_id": tenant, "name": "core", "nas_address": "10.255.0.1"}),
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    Isp {
        dev,
        tenant,
        home,
        fixed,
        op,
        pppoe,
        hotspot,
        static_pkg,
        op_pppoe,
        router,
    }
}

/// The customer's FreeRADIUS rows as `attribute op value` strings.
pub async fn rows(app: &TestApp, customer: i64) -> (Vec<String>, Vec<String>, Vec<String>) {
    let stored = store::radius::read(app.state.db.conn(), customer)
        .await
        .unwrap();
    let text = |rows: &[(String, String, String)]| {
        rows.iter()
            .map(|(a, o, v)| format!("{a} {o} {v}"))
            .collect()
    };
    (stored.usernames, text(&stored.check), text(&stored.reply))
}

pub fn has(items: &[String], item: &str) -> bool {
    items.iter().any(|i| i == item)
}

pub async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/customers", token, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body} → {created}");
    created
}

/// Sends a CSV import and, once queued (202), waits for its job to finish; returns the
/// status of the POST and the job's report (or the POST's body when it was refused).
pub async fn import(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = app
        .http
        .post(format!("{}/api/v1/customers/import?{query}", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let queued: Value = response.json().await.unwrap();
    if status != StatusCode::ACCEPTED {
        return (status, queued);
    }
    assert_eq!(
        location,
        Some(format!("/api/v1/jobs/{}", queued["id"])),
        "{queued}"
    );
    assert_eq!(queued["kind"], "customer.import");
    let job = wait_for_job(app, token, queued["id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
    (status, job["result"].clone())
}

/// Polls a job until it is done or failed; returns it.
pub async fn wait_for_job(app: &TestApp, token: &str, id: i64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, job) = app.get(&format!("/api/v1/jobs/{id}"), token).await;
        assert_eq!(status, StatusCode::OK, "{job}");
        if job["status"] == "done" || job["status"] == "failed" {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {id} never finished: {job}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Gives router `isp.router` RouterOS API access to the simulated router at `port` as
/// `lastmile` / `api-pass-1`.
pub async fn reach_router(app: &TestApp, isp: &Isp, port: u16) {
    let path = format!("/api/v1/routers/{}", isp.router);
    let (_, router) = app.get(&path, &isp.dev).await;
    let (status, body) = app
        .patch(
            &path,
            &isp.dev,
            json!({"api_address": "127.0.0.1", "api_port": port, "api_user": "lastmile",
                   "api_password": "api-pass-1", "version": router["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
