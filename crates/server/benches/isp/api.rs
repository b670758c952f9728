//! The API as the benchmark's client sees it: a signed-in client, the list cases measured
//! round by round, the walk to the middle of the list, and the customer changes.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::{Value, json};

use crate::common::{Install, Latencies};
use crate::{WALK_LIMIT, WARM_UP_ROUNDS};

/// A signed-in client of one server.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

/// One answer: status, body, latency.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub latency: Duration,
}

impl Api {
    /// Signs in to the server at `base` (`POST /api/v1/auth/login`) as `email`; a client
    /// with its token.
    pub async fn sign_in(http: reqwest::Client, base: &str, email: &str, password: &str) -> Self {
        let response = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::OK, "sign-in of {email}: {body}");
        Self {
            http,
            base: base.to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Sends `request` with the bearer token; the answer and its latency.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let started = Instant::now();
        let response = request.bearer_auth(&self.token).send().await;
        let (status, bytes) = match response {
            Ok(response) => {
                let status = response.status();
                (status, response.bytes().await.unwrap_or_default())
            }
            Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Default::default()),
        };
        let latency = started.elapsed();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            latency,
        }
    }

    /// `GET /api/v1/{path_and_query}`.
    pub async fn get(&self, path_and_query: &str) -> Answer {
        let url = format!("{}/api/v1/{path_and_query}", self.base);
        self.send(self.http.get(url)).await
    }

    /// A GET that must answer 200; its body.
    pub async fn get_ok(&self, path_and_query: &str) -> Value {
        let answer = self.get(path_and_query).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "GET {path_and_query}: {}",
            answer.body
        );
        answer.body
    }

    /// Every item of a list (a tenant's operators, routers, zones, packages); `query` may
    /// be empty.
    pub async fn all(&self, path: &str, query: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor = String::new();
        let filters = if query.is_empty() {
            String::new()
        } else {
            format!("{query}&")
        };
        loop {
            let body = self
                .get_ok(&format!("{path}?{filters}limit=500{cursor}"))
                .await;
            items.extend(body["items"].as_array().cloned().unwrap_or_default());
            match body["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return items,
            }
        }
    }
}

/// One list case: its name and query string.
pub struct Case {
    pub name: String,
    pub query: String,
}

/// A list case's measurement.
#[derive(Debug)]
pub struct CaseResult {
    pub name: String,
    pub query: String,
    pub total: String,
    pub latencies: Latencies,
    pub failed: usize,
}

/// Walks `next_cursor` with `limit=500` in the order `sort` (the query part, empty for the
/// default) until half the rows lie behind; the cursor there, the pages walked and the time.
pub async fn walk_to_middle(
    api: &Api,
    tenant: i64,
    sort: &str,
    customers: usize,
) -> (String, usize, Duration) {
    let started = Instant::now();
    let (mut seen, mut pages) = (0, 0);
    let mut cursor = String::new();
    while seen < customers / 2 {
        let after = if cursor.is_empty() {
            String::new()
        } else {
            format!("&cursor={cursor}")
        };
        let body = api
            .get_ok(&format!(
                "customers?tenant_id={tenant}{sort}&limit={WALK_LIMIT}{after}"
            ))
            .await;
        seen += body["items"].as_array().map_or(0, Vec::len);
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    (cursor, pages, started.elapsed())
}

/// The list cases, sequential from one client, round by round; warm-up rounds first.
pub async fn measure_lists(api: &Api, cases: &[Case], requests: usize) -> Vec<CaseResult> {
    for _ in 0..WARM_UP_ROUNDS {
        for case in cases {
            api.get(&format!("customers?{}", case.query)).await;
        }
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(requests); cases.len()];
    let mut failed = vec![0; cases.len()];
    let mut totals = vec![String::new(); cases.len()];
    for _ in 0..requests {
        for (i, case) in cases.iter().enumerate() {
            let answer = api.get(&format!("customers?{}", case.query)).await;
            if answer.status != StatusCode::OK {
                failed[i] += 1;
                continue;
            }
            if totals[i].is_empty() {
                let capped = answer.body["total_capped"].as_bool().unwrap_or(false);
                totals[i] = format!(
                    "{}{}",
                    answer.body["total"].as_u64().unwrap_or(0),
                    if capped { "+" } else { "" }
                );
            }
            samples[i].push(answer.latency);
        }
    }
    cases
        .iter()
        .zip(samples)
        .zip(failed)
        .zip(totals)
        .map(|(((case, samples), failed), total)| CaseResult {
            name: case.name.clone(),
            query: case.query.clone(),
            total,
            latencies: Latencies::new(samples),
            failed,
        })
        .collect()
}

/// Password changes with `If-Match` on `changes` different customers, each after a read of
/// the same customer (the baseline); checks the last one reached `radcheck`.
pub async fn measure_changes(
    api: &Api,
    install: &Install,
    tenant: i64,
    cursor: &str,
    changes: usize,
) -> (Latencies, Latencies, usize) {
    let mut targets = Vec::new();
    let mut after = format!("&cursor={cursor}");
    while targets.len() < changes {
        let body = api
            .get_ok(&format!("customers?tenant_id={tenant}&limit=500{after}"))
            .await;
        for item in body["items"].as_array().cloned().unwrap_or_default() {
            targets.push((
                item["id"].as_i64().unwrap(),
                item["version"].as_i64().unwrap(),
                item["username"].as_str().unwrap().to_owned(),
            ));
        }
        match body["next_cursor"].as_str() {
            Some(next) => after = format!("&cursor={next}"),
            None => break,
        }
    }
    targets.truncate(changes);
    let (mut reads, mut writes, mut failed) = (Vec::new(), Vec::new(), 0);
    let mut last = None;
    for (i, (id, version, username)) in targets.iter().enumerate() {
        let read = api.get(&format!("customers/{id}")).await;
        if read.status == StatusCode::OK {
            reads.push(read.latency);
        }
        let password = format!("chg-{i}-{version}-pass");
        let request = api
            .http
            .patch(format!("{}/api/v1/customers/{id}", api.base))
            .header("If-Match", format!("\"{version}\""))
            .json(&json!({ "password": password }));
        let answer = api.send(request).await;
        if answer.status == StatusCode::OK {
            writes.push(answer.latency);
            last = Some((username.clone(), password));
        } else {
            failed += 1;
            if failed == 1 {
                println!(
                    "    PATCH customers/{id}: {} {}",
                    answer.status, answer.body
                );
            }
        }
    }
    if let Some((username, password)) = last {
        let db = install.connect().await;
        let value = db
            .query_one_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                match db.get_database_backend() {
                    sea_orm::DatabaseBackend::Postgres => {
                        "SELECT value FROM radcheck WHERE username = $1 AND attribute = $2"
                    }
                    _ => "SELECT value FROM radcheck WHERE username = ? AND attribute = ?",
                },
                [username.into(), "Cleartext-Password".into()],
            ))
            .await
            .unwrap()
            .and_then(|row| row.try_get_by_index::<String>(0).ok());
        assert_eq!(
            value.as_deref(),
            Some(password.as_str()),
            "the changed password is in radcheck"
        );
        db.close().await.unwrap();
    }
    (Latencies::new(reads), Latencies::new(writes), failed)
}
