//! A reseller sells time; it does not give it (`domain::customer::sold`), on both engines:
//! its new prepaid customer has no time (and RADIUS refuses it) until its first recharge,
//! which the reseller's balance pays; an expiry it sets may only shorten what was paid; a
//! package change while time is live, free billing and imported time are refused with
//! nothing written; the tenant's Admin may still give time by hand, in the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::customers::import;
use support::money::{TAKA, chain, priced, topup, verify_clean};
use support::{Backend, TestApp, spawn};

async fn expiry(app: &TestApp, token: &str, id: i64) -> (Option<DateTime<Utc>>, String, i64) {
    let (status, c) = app.get(&format!("/api/v1/customers/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    (
        serde_json::from_value(c["expires_at"].clone()).unwrap(),
        c["state"].as_str().unwrap().to_owned(),
        c["version"].as_i64().unwrap(),
    )
}

fn refused(status: StatusCode, answer: &Value, field: &str, code: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let fields = answer["error"]["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["field"] == field && f["code"] == code),
        "{field} {code} in {answer}"
    );
}

async fn a_reseller_sells_time_and_does_not_give_it(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let (_, _, other) = priced(
        &app,
        &c.dev,
        c.tenant,
        c.pool,
        "Fast",
        [800, 600, 700],
        c.op_id,
        c.sub_id,
    )
    .await;
    let now = app.clock().now();

    // Time, or free service, with a new customer: refused, nothing written.
    let customers = app.count("customer").await;
    for (body, field, code) in [
        (
            json!({"expires_at": now + TimeDelta::days(30)}),
            "expires_at",
            "recharge_required",
        ),
        (
            json!({"billing_type": "free"}),
            "billing_type",
            "owner_only",
        ),
    ] {
        let mut body = body;
        body["package_id"] = json!(c.sub_pkg);
        body["connection_type"] = json!("pppoe");
        body["name"] = json!("Gift");
        body["username"] = json!("gift");
        let (status, answer) = app.post("/api/v1/customers", &c.sub, body).await;
        refused(status, &answer, field, code);
    }
    assert_eq!(app.count("customer").await, customers);

    // Without an expiry: no time, and RADIUS refuses it until it is recharged.
    let (status, bob) = app
        .post(
            "/api/v1/customers",
            &c.sub,
            json!({"package_id": c.sub_pkg, "connection_type": "pppoe", "name": "Bob", "username": "bob"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bob}");
    let bob = bob["id"].as_i64().unwrap();
    let (expires, state, _) = expiry(&app, &c.sub, bob).await;
    assert_eq!((expires, state.as_str()), (None, "expired"));
    let (status, answer) = app
        .post(
            &format!("/api/v1/customers/{bob}/recharge"),
            &c.sub,
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("insufficient_balance")
        ),
        "{answer}"
    );
    topup(&app, &c.admin, c.op_id, 1_000 * TAKA).await;
    topup(&app, &c.op, c.sub_id, 450 * TAKA).await;
    let (status, sale) = app
        .post(
            &format!("/api/v1/customers/{bob}/recharge"),
            &c.sub,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sale}");
    let paid: DateTime<Utc> = serde_json::from_value(sale["expires_at"].clone()).unwrap();
    let (expires, state, version) = expiry(&app, &c.sub, bob).await;
    assert_eq!((expires, state.as_str()), (Some(paid), "active"));

    // Longer than paid, no expiry at all, another package while time is live: refused.
    let path = format!("/api/v1/customers/{bob}");
    for (body, field) in [
        (
            json!({"expires_at": paid + TimeDelta::days(1)}),
            "expires_at",
        ),
        (json!({"expires_at": null}), "expires_at"),
        (json!({"package_id": other}), "package_id"),
    ] {
        let mut body = body;
        body["version"] = json!(version);
        let (status, answer) = app.patch(&path, &c.sub, body).await;
        refused(status, &answer, field, "recharge_required");
    }
    assert_eq!(expiry(&app, &c.sub, bob).await.0, Some(paid));
    // Shorter is the reseller's call.
    let shorter = paid - TimeDelta::days(5);
    let (status, answer) = app
        .patch(
            &path,
            &c.sub,
            json!({"version": version, "expires_at": shorter}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The tenant's Admin may give time by hand; the audit log says who did.
    let version = expiry(&app, &c.sub, bob).await.2;
    let longer = paid + TimeDelta::days(7);
    let (status, answer) = app
        .patch(
            &path,
            &c.admin,
            json!({"version": version, "expires_at": longer}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(expiry(&app, &c.sub, bob).await.0, Some(longer));

    // An import by a reseller gives no time either: a row with time is refused, one
    // without starts with none.
    let csv = "username,password,name,connection_type,package,expires_at\n\
               imp1,pass-one,Imported One,pppoe,Home,2099-01-31\n\
               imp2,pass-two,Imported Two,pppoe,Home,\n";
    let (status, report) = import(&app, &c.op, "", csv.as_bytes().to_vec()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{report}");
    assert_eq!(report["created"], 1, "{report}");
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["line"] == 2 && e["field"] == "expires_at"),
        "{report}"
    );
    verify_clean(&app).await;
}

both_backends!(a_reseller_sells_time_and_does_not_give_it);
