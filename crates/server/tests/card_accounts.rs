//! What card distributors pay for their cards, over the API on both engines: a prepaid
//! distributor pays its operator when it is handed cards (refused when it cannot), is paid
//! back for a card taken back or voided unredeemed, and is not charged again when a card
//! it paid for is redeemed; on credit it owes each card when the card is redeemed, and past
//! its limit its cards stop redeeming. The books stay balanced throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::customers::{Isp, create, isp};
use support::money::{balance, topup, verify_clean};
use support::{Backend, PASSWORD, TestApp, error_code, spawn};

/// The commission of the batch the tests make, in minor units.
const COMMISSION: i64 = 2_000;

async fn move_cards(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/v1/cards/move", token, body).await
}

async fn sell(app: &TestApp, token: &str, customer: i64, serial: &str) -> (StatusCode, Value) {
    app.post(
        "/api/v1/distributor/sales",
        token,
        json!({"customer_id": customer, "serial": serial}),
    )
    .await
}

/// The balance of user `id` as `token` reads it.
async fn held(app: &TestApp, token: &str, id: i64) -> i64 {
    balance(app, token, id).await["balance"].as_i64().unwrap()
}

/// A tenant with its Admin, its operator (funded) and a card distributor under it,
/// prepaid with nothing.
struct Seller {
    isp: Isp,
    /// The Admin's token.
    admin: String,
    /// The operator's token.
    op: String,
    /// The distributor's id.
    dist: i64,
}

async fn seller(app: &TestApp) -> Seller {
    let isp = isp(app).await;
    app.user(
        &isp.dev,
        json!({"email": "admin@c.example", "name": "Admin", "role": "admin", "tenant_id": isp.tenant}),
    )
    .await;
    let admin = app.login("admin@c.example", PASSWORD).await;
    let op = app.login("op@c.example", PASSWORD).await;
    topup(app, &admin, isp.op, 1_000_000).await;
    let dist = app
        .user(
            &admin,
            json!({"email": "dist@c.example", "name": "Dist", "role": "card_distributor",
                   "tenant_id": isp.tenant, "parent_id": isp.op}),
        )
        .await;
    Seller {
        isp,
        admin,
        op,
        dist,
    }
}

async fn distributors_pay_for_their_cards_ahead_or_on_credit(backend: Backend) {
    let app = spawn(backend).await;
    let Seller {
        isp,
        admin,
        op,
        dist,
    } = seller(&app).await;
    let dist_token = app.login("dist@c.example", PASSWORD).await;
    let customer = create(
        &app,
        &op,
        json!({"name": "Rahim Uddin", "connection_type": "pppoe", "package_id": isp.op_pppoe,
               "username": "rahim", "password": "pw-rahim-1", "mobile": "01712345678"}),
    )
    .await;
    let customer = customer["id"].as_i64().unwrap();

    // A batch with a commission above its price is refused; one within it is made.
    let batch_body = |commission: i64| json!({"package_id": isp.pppoe, "quantity": 5, "holder_id": isp.op, "commission": commission});
    let (status, refused) = app
        .post("/api/v1/card-batches", &admin, batch_body(i64::MAX))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(error_code(&refused), "above_price", "{refused}");
    let (status, made) = app
        .post("/api/v1/card-batches", &admin, batch_body(COMMISSION))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["batch"]["commission"], COMMISSION);
    let batch = made["batch"]["id"].as_i64().unwrap();
    let cost = made["batch"]["price"].as_i64().unwrap() - COMMISSION;
    assert!(cost > 0, "{made}");
    let serial = |n: u32| format!("B{batch:04}-{n:06}");
    let op_start = held(&app, &op, isp.op).await;

    // Prepaid with nothing, the distributor cannot be handed cards; nothing moves.
    let hand =
        |serials: Vec<String>| json!({"serials": serials, "action": "assign", "holder_id": dist});
    let (status, short) = move_cards(&app, &op, hand(vec![serial(1), serial(2)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{short}");
    assert_eq!(error_code(&short), "distributor_balance_short", "{short}");
    let (_, me) = app.get("/api/v1/distributor/me", &dist_token).await;
    assert_eq!(me["stock"].as_array().map(Vec::len), Some(0), "{me}");
    assert_eq!(me["account_type"], "prepaid", "{me}");

    // Funded by its operator, it pays for two cards as it is handed them.
    let (status, funded) = topup(&app, &op, dist, 2 * cost).await;
    assert_eq!(status, StatusCode::CREATED, "{funded}");
    let (status, moved) = move_cards(&app, &op, hand(vec![serial(1), serial(2)])).await;
    assert_eq!(
        (status, &moved["moved"]),
        (StatusCode::OK, &json!(2)),
        "{moved}"
    );
    assert_eq!(held(&app, &dist_token, dist).await, 0);
    // The operator's balance: the top-up out, the two cards' cost back in.
    assert_eq!(held(&app, &op, isp.op).await, op_start);

    // A card it paid for is redeemed without a second charge; the operator pays the chain.
    let journals = app.count("ledger_journal").await;
    let (status, sold) = sell(&app, &dist_token, customer, &serial(1)).await;
    assert_eq!(status, StatusCode::CREATED, "{sold}");
    assert_eq!(
        app.count("ledger_journal").await,
        journals + 1,
        "only the recharge"
    );
    assert_eq!(held(&app, &dist_token, dist).await, 0);
    let op_after_sale = held(&app, &op, isp.op).await;
    assert!(op_after_sale < op_start, "the operator pays the chain");

    // Taken back unredeemed, a card is paid back to the distributor by its operator.
    let (status, back) = move_cards(
        &app,
        &op,
        json!({"serials": [serial(2)], "action": "unassign"}),
    )
    .await;
    assert_eq!(
        (status, &back["moved"]),
        (StatusCode::OK, &json!(1)),
        "{back}"
    );
    assert_eq!(held(&app, &dist_token, dist).await, cost);
    assert_eq!(held(&app, &op, isp.op).await, op_after_sale - cost);

    // On credit up to one card's cost, it takes cards without paying, and owes each
    // card as it is redeemed, until the limit.
    let (status, terms) = app
        .patch(
            &format!("/api/v1/users/{dist}"),
            &op,
            json!({"account_type": "credit", "credit_limit": cost}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{terms}");
    let (status, moved) = move_cards(
        &app,
        &op,
        hand(vec![serial(2), serial(3), serial(4), serial(5)]),
    )
    .await;
    assert_eq!(
        (status, &moved["moved"]),
        (StatusCode::OK, &json!(4)),
        "{moved}"
    );
    assert_eq!(
        held(&app, &dist_token, dist).await,
        cost,
        "nothing charged yet"
    );
    for (n, owes) in [(2, 0), (3, -cost)] {
        let (status, sold) = sell(&app, &dist_token, customer, &serial(n)).await;
        assert_eq!(status, StatusCode::CREATED, "{sold}");
        assert_eq!(held(&app, &dist_token, dist).await, owes);
    }
    let journals = app.count("ledger_journal").await;
    let (status, over) = sell(&app, &dist_token, customer, &serial(4)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{over}");
    assert_eq!(error_code(&over), "seller_over_limit", "{over}");
    assert_eq!(
        app.count("ledger_journal").await,
        journals,
        "nothing written"
    );
    let (_, left) = app
        .get(
            &format!("/api/v1/cards?batch_id={batch}&state=assigned"),
            &admin,
        )
        .await;
    let left: Vec<&str> = left["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["serial"].as_str())
        .collect();
    assert_eq!(
        left,
        [serial(4), serial(5)],
        "the refused card is still held"
    );

    // Paying its operator (the operator books the cash it took from it) frees the limit.
    let (status, _) = topup(&app, &op, dist, cost).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, sold) = sell(&app, &dist_token, customer, &serial(4)).await;
    assert_eq!(status, StatusCode::CREATED, "{sold}");
    assert_eq!(held(&app, &dist_token, dist).await, -cost);

    // Voided, a card it holds on credit is not paid back: it was never paid for.
    let (status, voided) = move_cards(
        &app,
        &admin,
        json!({"serials": [serial(5)], "action": "void"}),
    )
    .await;
    assert_eq!(
        (status, &voided["moved"]),
        (StatusCode::OK, &json!(1)),
        "{voided}"
    );
    assert_eq!(held(&app, &dist_token, dist).await, -cost);

    verify_clean(&app).await;
}

async fn a_batch_made_for_a_prepaid_distributor_is_paid_for_as_it_is_made(backend: Backend) {
    let app = spawn(backend).await;
    let Seller {
        isp,
        admin,
        op,
        dist,
    } = seller(&app).await;
    let body = json!({"package_id": isp.pppoe, "quantity": 3, "holder_id": dist,
                      "price": 10_000, "commission": 1_000, "keep_pins": true});
    let (status, short) = app.post("/api/v1/card-batches", &admin, body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{short}");
    assert_eq!(error_code(&short), "distributor_balance_short", "{short}");
    assert_eq!(
        app.count("card").await,
        0,
        "no card is kept of a refused batch"
    );
    topup(&app, &op, dist, 27_000).await;
    let (status, made) = app.post("/api/v1/card-batches", &admin, body).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(held(&app, &op, dist).await, 0);

    // Voided unredeemed by the tenant, each card is paid back.
    let batch = made["batch"]["id"].as_i64().unwrap();
    let (status, voided) = app
        .post(
            "/api/v1/cards/move",
            &admin,
            json!({"batch_id": batch, "action": "void"}),
        )
        .await;
    assert_eq!(
        (status, &voided["moved"]),
        (StatusCode::OK, &json!(3)),
        "{voided}"
    );
    assert_eq!(held(&app, &op, dist).await, 27_000);
    verify_clean(&app).await;
}

both_backends!(
    distributors_pay_for_their_cards_ahead_or_on_credit,
    a_batch_made_for_a_prepaid_distributor_is_paid_for_as_it_is_made,
);
