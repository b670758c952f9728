//! Prometheus metrics, served as text at `/metrics`: requests by route and status, request
//! latency by route, sign-in outcomes, job outcomes, and the built-in RADIUS server's
//! packets by server and outcome (received, replied, duplicates answered, and each reason
//! a packet is dropped for), with the accounting records it has acknowledged that the
//! database does not hold yet (its journal's backlog).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RadiusLabels {
    server: String,
    outcome: String,
}

/// The metrics of one process.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    sign_ins: Family<ResultLabels, Counter>,
    jobs: Family<JobLabels, Counter>,
    radius: Family<RadiusLabels, Counter>,
    accounting_behind: Gauge,
    payment_notices: Family<ResultLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with lastmile's metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("lastmile");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let sign_ins = Family::<ResultLabels, Counter>::default();
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register("sign_ins", "Sign-in attempts by outcome", sign_ins.clone());
        registry.register("jobs", "Jobs run by kind and outcome", jobs.clone());
        let radius = Family::<RadiusLabels, Counter>::default();
        registry.register(
            "radius_packets",
            "RADIUS packets of the built-in server by server (auth, acct) and outcome",
            radius.clone(),
        );
        let accounting_behind = Gauge::default();
        registry.register(
            "accounting_unapplied_records",
            "Accounting records acknowledged to routers and kept in this node's journal that the database does not hold yet",
            accounting_behind.clone(),
        );
        let payment_notices = Family::<ResultLabels, Counter>::default();
        registry.register(
            "payment_notices",
            "Payment providers' notices by outcome (kept, duplicate, refused)",
            payment_notices.clone(),
        );
        Self {
            payment_notices,
            registry: Arc::new(registry),
            requests,
            latency,
            sign_ins,
            jobs,
            radius,
            accounting_behind,
        }
    }

    /// Counts `by` more RADIUS packets of `server` (`auth`, `acct`) with `outcome`
    /// (`received`, `replied`, `dropped_unknown_client`, ...).
    pub fn radius_packets(&self, server: &str, outcome: &str, by: u64) {
        if by == 0 {
            return;
        }
        self.radius
            .get_or_create(&RadiusLabels {
                server: server.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc_by(by);
    }

    /// Sets how many acknowledged accounting records the database does not hold yet.
    pub fn accounting_behind(&self, records: u64) {
        self.accounting_behind
            .set(i64::try_from(records).unwrap_or(i64::MAX));
    }

    /// Counts a sign-in outcome (`ok`, `wrong`, `wrong_totp`, `throttled`, `busy`).
    pub fn sign_in(&self, result: &str) {
        self.sign_ins
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// Counts a payment provider's notice by outcome (`kept`, `duplicate`, `refused`).
    pub fn payment_notice(&self, result: &str) {
        self.payment_notices
            .get_or_create(&ResultLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// Counts a job outcome (`done`, `retry`, `failed`).
    pub fn job(&self, kind: &str, result: &str) {
        self.jobs
            .get_or_create(&JobLabels {
                kind: kind.to_owned(),
                result: result.to_owned(),
            })
            .inc();
    }

    fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Middleware recording every request's route, status and latency.
pub async fn record(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route: route.clone(),
            status,
        })
        .inc();
    metrics
        .latency
        .get_or_create(&RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub async fn serve(State(metrics): State<Metrics>) -> Response {
    match metrics.encode() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
