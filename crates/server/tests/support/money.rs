//! The money tests' world: a tenant with an Admin, an operator and its sub-operator, a
//! master package sold down the chain, and the calls the tests make on it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{PASSWORD, TestApp};

pub const TAKA: i64 = 100;

/// A tenant with an Admin, an operator and its sub-operator, a master package sold down
/// the chain (500 taka for 30 days; the operator owes 400, the sub-operator 450), and
/// their tokens.
pub struct Chain {
    pub dev: String,
    pub tenant: i64,
    pub admin: String,
    pub op_id: i64,
    pub op: String,
    pub sub_id: i64,
    pub sub: String,
    pub pool: i64,
    pub master: i64,
    pub op_pkg: i64,
    pub sub_pkg: i64,
}

pub async fn chain(app: &TestApp) -> Chain {
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Money ISP").await;
    app.user(
        &dev,
        json!({"email": "admin@m.example", "name": "Admin", "role": "admin", "tenant_id": tenant}),
    )
    .await;
    let op_id = app
        .user(
            &dev,
            json!({"email": "op@m.example", "name": "Op", "role": "operator", "tenant_id": tenant}),
        )
        .await;
    let sub_id = app
        .user(&dev, json!({"email": "sub@m.example", "name": "Sub", "role": "sub_operator", "tenant_id": tenant, "parent_id": op_id}))
        .await;
    let (_, pool) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": tenant, "name": "home", "ranges": "10.0.0.0/20"}),
        )
        .await;
    let pool = pool["id"].as_i64().unwrap();
    let (master, op_pkg, sub_pkg) = priced(
        app,
        &dev,
        tenant,
        pool,
        "Home",
        [500, 400, 450],
        op_id,
        sub_id,
    )
    .await;
    Chain {
        admin: app.login("admin@m.example", PASSWORD).await,
        op: app.login("op@m.example", PASSWORD).await,
        sub: app.login("sub@m.example", PASSWORD).await,
        dev,
        tenant,
        op_id,
        sub_id,
        pool,
        master,
        op_pkg,
        sub_pkg,
    }
}

/// A master package at `prices[0]` taka for 30 days, offered to the operator at cost
/// `prices[1]` and by it to the sub-operator at cost `prices[2]`.
#[allow(clippy::too_many_arguments)]
pub async fn priced(
    app: &TestApp,
    dev: &str,
    tenant: i64,
    pool: i64,
    name: &str,
    prices: [i64; 3],
    op: i64,
    sub: i64,
) -> (i64, i64, i64) {
    let [price, op_cost, sub_cost] = prices.map(|p| p * TAKA);
    let (status, master) = app
        .post("/api/v1/packages", dev, json!({"tenant_id": tenant, "name": name, "connection_type": "pppoe", "download_kbps": 20000,
               "upload_kbps": 5000, "validity_days": 30, "price": price, "ip_pool_id": pool}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{master}");
    let master = master["id"].as_i64().unwrap();
    let derive = |parent: i64, owner: i64, cost: i64| json!({"parent_id": parent, "owner_id": owner, "name": name, "price": price, "cost_price": cost});
    let (status, op_pkg) = app
        .post("/api/v1/packages", dev, derive(master, op, op_cost))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op_pkg}");
    let op_pkg = op_pkg["id"].as_i64().unwrap();
    let (status, sub_pkg) = app
        .post("/api/v1/packages", dev, derive(op_pkg, sub, sub_cost))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sub_pkg}");
    (master, op_pkg, sub_pkg["id"].as_i64().unwrap())
}

/// A PPPoE customer created by `token` on `package`, its service lapsed (so that a
/// recharge starts now).
pub async fn customer(app: &TestApp, token: &str, package: i64, username: &str) -> i64 {
    let (status, c) = app
        .post(
            "/api/v1/customers",
            token,
            json!({"package_id": package, "connection_type": "pppoe", "name": username, "username": username,
                   "expires_at": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    c["id"].as_i64().unwrap()
}

pub async fn balance(app: &TestApp, token: &str, user: i64) -> Value {
    let (status, b) = app
        .get(&format!("/api/v1/users/{user}/balance"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    b
}

pub async fn topup(app: &TestApp, token: &str, user: i64, amount: i64) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/users/{user}/topup"),
        token,
        json!({"amount": amount}),
    )
    .await
}

pub async fn verify_clean(app: &TestApp) {
    let breaches = store::ledger::verify(app.state.db.conn(), None)
        .await
        .unwrap();
    assert!(breaches.is_empty(), "{breaches:?}");
}

/// A postpaid PPPoE customer created by `token` on `package`.
pub async fn postpaid(app: &TestApp, token: &str, package: i64, username: &str) -> i64 {
    let (status, c) = app
        .post(
            "/api/v1/customers",
            token,
            json!({"package_id": package, "connection_type": "pppoe", "name": username,
                   "username": username, "billing_type": "postpaid"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    c["id"].as_i64().unwrap()
}
