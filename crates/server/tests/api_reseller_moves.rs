//! Customers follow their reseller: a sub-operator moved to another operator takes its
//! customers with it, and an operator or sub-operator archived hands its customers to where
//! its children go (the `reassign_to` named, else its own parent, else the tenant). The old
//! owner no longer sees them, the new one manages them, and each move is in the audit log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, PASSWORD, TestApp, spawn};

/// A tenant with operators A and B, sub-operator S under A, and a customer of each of A
/// and S.
struct Resellers {
    dev: String,
    a: i64,
    b: i64,
    s: i64,
    of_a: i64,
    of_s: i64,
}

async fn resellers(app: &TestApp) -> Resellers {
    let dev = app.developer().await;
    let (_, tenant) = app
        .post(
            "/api/v1/tenants",
            &dev,
            json!({"name": "Moves ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka"}),
        )
        .await;
    let tenant = tenant["id"].as_i64().unwrap();
    let (_, master) = app
        .post(
            "/api/v1/packages",
            &dev,
            json!({"tenant_id": tenant, "name": "Home", "connection_type": "pppoe", "download_kbps": 20000,
                   "upload_kbps": 5000, "validity_days": 30, "price": 50000}),
        )
        .await;
    let user = |email: &str, role: &str, parent: Option<i64>| json!({"email": email, "name": email, "role": role, "tenant_id": tenant, "parent_id": parent});
    let a = app
        .user(&dev, user("a@moves.example", "operator", None))
        .await;
    let b = app
        .user(&dev, user("b@moves.example", "operator", None))
        .await;
    let s = app
        .user(&dev, user("s@moves.example", "sub_operator", Some(a)))
        .await;
    let derive = |parent: i64, owner: i64, name: &str| json!({"parent_id": parent, "owner_id": owner, "name": name, "price": 55000, "cost_price": 50000});
    let (_, of_a_pkg) = app
        .post(
            "/api/v1/packages",
            &dev,
            derive(master["id"].as_i64().unwrap(), a, "A home"),
        )
        .await;
    let (_, of_s_pkg) = app
        .post(
            "/api/v1/packages",
            &dev,
            derive(of_a_pkg["id"].as_i64().unwrap(), s, "S home"),
        )
        .await;
    let customer = |owner: i64, package: &Value, name: &str| {
        json!({"tenant_id": tenant, "owner_id": owner, "package_id": package["id"], "name": name,
               "username": name, "password": "s3cret!x"})
    };
    let create = |body: Value| async {
        let (status, created) = app.post("/api/v1/customers", &dev, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_i64().unwrap()
    };
    let of_a = create(customer(a, &of_a_pkg, "of-a")).await;
    let of_s = create(customer(s, &of_s_pkg, "of-s")).await;
    Resellers {
        dev,
        a,
        b,
        s,
        of_a,
        of_s,
    }
}

async fn sees(app: &TestApp, email: &str, customer: i64) -> bool {
    let token = app.login(email, PASSWORD).await;
    let (status, _) = app
        .get(&format!("/api/v1/customers/{customer}"), &token)
        .await;
    status == StatusCode::OK
}

async fn owner(app: &TestApp, dev: &str, customer: i64) -> (Value, Value) {
    let (_, c) = app.get(&format!("/api/v1/customers/{customer}"), dev).await;
    (c["operator_id"].clone(), c["sub_operator_id"].clone())
}

async fn reassigned(app: &TestApp, dev: &str, customer: i64) -> usize {
    let (_, audit) = app
        .get(
            &format!("/api/v1/audit?entity=customer&entity_id={customer}&action=customer.reassign"),
            dev,
        )
        .await;
    audit["items"].as_array().unwrap().len()
}

async fn a_sub_operator_moved_to_another_operator_takes_its_customers(backend: Backend) {
    let app = spawn(backend).await;
    let r = resellers(&app).await;
    assert!(sees(&app, "a@moves.example", r.of_s).await);
    let (_, s) = app.get(&format!("/api/v1/users/{}", r.s), &r.dev).await;
    let (status, moved) = app
        .patch(
            &format!("/api/v1/users/{}", r.s),
            &r.dev,
            json!({"parent_id": r.b, "version": s["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(owner(&app, &r.dev, r.of_s).await, (json!(r.b), json!(r.s)));
    assert!(
        !sees(&app, "a@moves.example", r.of_s).await,
        "the old operator lets go"
    );
    assert!(
        sees(&app, "b@moves.example", r.of_s).await,
        "the new operator has it"
    );
    assert!(
        sees(&app, "s@moves.example", r.of_s).await,
        "the sub-operator keeps it"
    );
    // The new operator manages it.
    let b = app.login("b@moves.example", PASSWORD).await;
    let (_, c) = app.get(&format!("/api/v1/customers/{}", r.of_s), &b).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/customers/{}/suspend", r.of_s),
            &b,
            json!({"version": c["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reassigned(&app, &r.dev, r.of_s).await, 1);
    // The operator's own customer stays where it was.
    assert_eq!(owner(&app, &r.dev, r.of_a).await, (json!(r.a), Value::Null));
}

async fn an_archived_operator_hands_its_customers_to_the_one_named(backend: Backend) {
    let app = spawn(backend).await;
    let r = resellers(&app).await;
    let (status, body) = app
        .delete(
            &format!("/api/v1/users/{}?reassign_to={}", r.a, r.b),
            &r.dev,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(owner(&app, &r.dev, r.of_a).await, (json!(r.b), Value::Null));
    assert_eq!(owner(&app, &r.dev, r.of_s).await, (json!(r.b), json!(r.s)));
    assert!(sees(&app, "b@moves.example", r.of_a).await);
    assert!(sees(&app, "b@moves.example", r.of_s).await);
    assert_eq!(reassigned(&app, &r.dev, r.of_a).await, 1);
    assert_eq!(reassigned(&app, &r.dev, r.of_s).await, 1);
}

async fn an_archived_sub_operator_hands_its_customers_to_its_operator(backend: Backend) {
    let app = spawn(backend).await;
    let r = resellers(&app).await;
    let (status, body) = app.delete(&format!("/api/v1/users/{}", r.s), &r.dev).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(owner(&app, &r.dev, r.of_s).await, (json!(r.a), Value::Null));
    assert!(sees(&app, "a@moves.example", r.of_s).await);
    // An operator with nobody above it leaves its customers to the tenant.
    let (status, body) = app.delete(&format!("/api/v1/users/{}", r.a), &r.dev).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        owner(&app, &r.dev, r.of_a).await,
        (Value::Null, Value::Null)
    );
    assert_eq!(
        owner(&app, &r.dev, r.of_s).await,
        (Value::Null, Value::Null)
    );
}

both_backends!(
    a_sub_operator_moved_to_another_operator_takes_its_customers,
    an_archived_operator_hands_its_customers_to_the_one_named,
    an_archived_sub_operator_hands_its_customers_to_its_operator,
);
