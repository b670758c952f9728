//! Recharge cards through the API: a batch made with its PINs shown once or kept sealed
//! for an audited export, handed to an operator, listed in each one's reach, redeemed for
//! a customer as the operator's recharge (typed with spaces and Bengali digits), refused
//! when used, mistyped, unknown or out of reach, and guessing stopped past its limit; and
//! a race of redemptions of one card that exactly one wins; and a card distributor's API:
//! its stock, an e-top-up by mobile retried once, an e-PIN given once (its retried answer
//! kept sealed), its sales and the
//! mobiles of its operator's customers (once the tenant lets it read them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::customers::{Isp, create, isp};
use support::money::{topup, verify_clean};
use support::{Backend, PASSWORD, TestApp, error_code, spawn};

/// The tenant's Admin, signed in.
async fn admin(app: &TestApp, isp: &Isp) -> String {
    app.user(
        &isp.dev,
        json!({"email": "admin@c.example", "name": "Admin", "role": "admin", "tenant_id": isp.tenant}),
    )
    .await;
    app.login("admin@c.example", PASSWORD).await
}

/// A PIN no card has: 12 digits and their Damm check digit.
fn unknown_pin(seed: u64) -> String {
    let digits: Vec<u8> = format!("{:012}", 987_654_321_000 + seed)
        .bytes()
        .map(|b| b - b'0')
        .collect();
    let check = domain::card::damm(&digits);
    digits
        .iter()
        .chain(std::iter::once(&check))
        .map(|d| char::from(b'0' + d))
        .collect()
}

/// `pin` with its digits written in Bengali.
fn in_bengali(pin: &str) -> String {
    pin.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x09E6 + d).unwrap(),
            None => c,
        })
        .collect()
}

async fn redeem(app: &TestApp, token: &str, customer: i64, pin: &str) -> (StatusCode, Value) {
    app.post(
        "/api/v1/cards/redeem",
        token,
        json!({"customer_id": customer, "pin": pin}),
    )
    .await
}

async fn a_batch_is_made_handed_down_and_redeemed_once(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let admin = admin(&app, &isp).await;
    let op = app.login("op@c.example", PASSWORD).await;
    let (status, body) = topup(&app, &admin, isp.op, 1_000_000).await;
    assert!(status.is_success(), "{body}");

    // Refused at once: a quantity out of range, another tenant's package, a reseller.
    for (body, code) in [
        (
            json!({"package_id": isp.pppoe, "quantity": 0}),
            "out_of_range",
        ),
        (
            json!({"package_id": isp.pppoe, "quantity": 100_001}),
            "out_of_range",
        ),
        (
            json!({"package_id": isp.op_pppoe, "quantity": 5}),
            "not_found",
        ),
        (
            json!({"package_id": isp.pppoe, "quantity": 5, "holder_id": isp.op + 1000}),
            "not_a_holder",
        ),
    ] {
        let (status, answer) = app.post("/api/v1/card-batches", &admin, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(error_code(&answer), code, "{answer}");
    }
    let (status, _) = app
        .post(
            "/api/v1/card-batches",
            &op,
            json!({"package_id": isp.pppoe, "quantity": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("card").await, 0);

    // PINs shown once: in this answer only.
    let (status, made) = app
        .post(
            "/api/v1/card-batches",
            &admin,
            json!({"package_id": isp.pppoe, "quantity": 5, "keep_pins": false, "note": "Dhaka shop"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let batch = made["batch"]["id"].as_i64().unwrap();
    assert_eq!(made["batch"]["price"], 50000);
    let pins: Vec<String> = made["pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pin"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(pins.len(), 5);
    assert!(
        pins.iter()
            .all(|p| p.len() == 16 && p.chars().filter(char::is_ascii_digit).count() == 13)
    );
    assert_eq!(made["pins"][0]["serial"], format!("B{batch:04}-000001"));
    let (status, answer) = app
        .get(&format!("/api/v1/card-batches/{batch}/export"), &admin)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(error_code(&answer), "pins_not_kept");
    // Nothing stored holds a PIN.
    let dump = {
        use sea_orm::ConnectionTrait as _;
        let conn = app.state.db.conn();
        let rows = conn
            .query_all_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                "SELECT serial, lookup, tail FROM card".to_owned(),
            ))
            .await
            .unwrap();
        format!("{rows:?}")
    };
    for pin in &pins {
        assert!(!dump.contains(&pin.replace(' ', "")), "{dump}");
    }

    // PINs kept sealed: exported as CSV, each export counted.
    let (_, kept) = app
        .post(
            "/api/v1/card-batches",
            &admin,
            json!({"package_id": isp.pppoe, "quantity": 3}),
        )
        .await;
    let kept = kept["batch"]["id"].as_i64().unwrap();
    let (status, _, csv) = app
        .call_full(
            Method::GET,
            &format!("/api/v1/card-batches/{kept}/export"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = csv.as_str().unwrap().to_owned();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("B{kept:04}-000001,")),
        "{csv}"
    );
    // The printed sheet: every card that can be sold, its PIN, in the chosen grid.
    let mut panel = support::panel::Visitor::signed_in(&app, "admin@c.example").await;
    let sheet = panel
        .get(&format!("/card-batches/{kept}/print?layout=a4-2x5"))
        .await;
    assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.body);
    assert_eq!(sheet.body.matches("data-serial=").count(), 3);
    let first_pin = csv.lines().nth(1).unwrap().split(',').nth(1).unwrap();
    assert!(sheet.body.contains(first_pin), "{}", sheet.body);
    assert!(sheet.body.contains("repeat(2, 1fr)"));
    let mut reseller = support::panel::Visitor::signed_in(&app, "op@c.example").await;
    let refused = reseller.get(&format!("/card-batches/{kept}/print")).await;
    assert_ne!(refused.status, StatusCode::OK);
    assert!(!refused.body.contains(first_pin));
    let (_, detail) = app
        .get(&format!("/api/v1/card-batches/{kept}"), &admin)
        .await;
    assert_eq!(detail["batch"]["exported"], 2, "{detail}");
    assert_eq!(detail["counts"]["in_stock"], 3, "{detail}");

    // Handed to the operator, who reaches those only.
    let (status, moved) = app
        .post(
            "/api/v1/cards/move",
            &admin,
            json!({"batch_id": batch, "action": "assign", "holder_id": isp.op}),
        )
        .await;
    assert_eq!(
        (status, moved["moved"].as_i64()),
        (StatusCode::OK, Some(5)),
        "{moved}"
    );
    let (_, mine) = app.get("/api/v1/cards", &op).await;
    assert_eq!(mine["total"], 5, "{mine}");
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["state"] == "assigned" && c.get("pin").is_none())
    );
    let (_, all) = app.get("/api/v1/cards", &admin).await;
    assert_eq!(all["total"], 8);
    let (status, _) = app
        .post(
            "/api/v1/cards/move",
            &op,
            json!({"batch_id": kept, "action": "void"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The operator redeems one for its customer: the operator's package and price.
    let customer = create(
        &app,
        &op,
        json!({"name": "Card buyer", "connection_type": "pppoe", "package_id": isp.op_pppoe,
               "username": "cardbuyer", "password": "pw-cardbuyer"}),
    )
    .await;
    let customer = customer["id"].as_i64().unwrap();
    let typed = format!(" {} ", in_bengali(&pins[0]).replace(' ', "-"));
    let (status, done) = redeem(&app, &op, customer, &typed).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["serial"], format!("B{batch:04}-000001"));
    assert_eq!(done["recharge"]["package_id"], isp.op_pppoe);
    assert_eq!(done["recharge"]["amount"], 55000);
    let (_, card) = app
        .get(
            &format!("/api/v1/cards?batch_id={batch}&state=redeemed"),
            &admin,
        )
        .await;
    assert_eq!(card["items"][0]["redeemed_by"], customer, "{card}");
    assert_eq!(
        card["items"][0]["journal_id"],
        done["recharge"]["journal_id"]
    );

    // Used, mistyped, unknown: refused, and nothing more is written.
    let journals = app.count("ledger_journal").await;
    let (status, again) = redeem(&app, &op, customer, &pins[0]).await;
    assert_eq!(
        (status, error_code(&again)),
        (StatusCode::UNPROCESSABLE_ENTITY, "already_redeemed".into())
    );
    let mut typo = pins[1].clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'9' {
        b'0'
    } else {
        typo[last] + 1
    };
    let (_, mistyped) = redeem(&app, &op, customer, &String::from_utf8(typo).unwrap()).await;
    assert_eq!(error_code(&mistyped), "invalid_pin", "{mistyped}");
    let (_, unknown) = redeem(&app, &op, customer, &unknown_pin(1)).await;
    assert_eq!(error_code(&unknown), "invalid_card", "{unknown}");
    // A card of the tenant's stock voided, then tried: the same answer as unknown.
    let (_, void) = app
        .post(
            "/api/v1/cards/move",
            &admin,
            json!({"batch_id": kept, "action": "void"}),
        )
        .await;
    assert_eq!(void["moved"], 3);
    let kept_pin = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .to_owned();
    let (_, voided) = redeem(&app, &admin, customer, &kept_pin).await;
    assert_eq!(error_code(&voided), "invalid_card", "{voided}");
    assert_eq!(app.count("ledger_journal").await, journals);

    // Guessing stops at the limit, with how long to wait.
    let mut limited = None;
    for seed in 2..40 {
        let (status, headers, body) = app
            .call_full(
                Method::POST,
                "/api/v1/cards/redeem",
                Some(&op),
                Some(json!({"customer_id": customer, "pin": unknown_pin(seed)})),
                &[],
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(headers.contains_key("retry-after"), "{body}");
            limited = Some(seed);
            break;
        }
    }
    // The unknown PIN above was the first failure, so 19 more reach the limit of 20.
    assert_eq!(limited, Some(21));
    let (status, _) = redeem(&app, &op, customer, &pins[1]).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "a right PIN waits too"
    );
    assert!(app.count("card_attempt").await >= 23);
    verify_clean(&app).await;
}

async fn of_many_redemptions_of_one_card_exactly_one_wins(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let admin = admin(&app, &isp).await;
    let (_, made) = app
        .post(
            "/api/v1/card-batches",
            &admin,
            json!({"package_id": isp.pppoe, "quantity": 1, "keep_pins": false}),
        )
        .await;
    let pin = made["pins"][0]["pin"].as_str().unwrap().to_owned();
    let mut customers = Vec::new();
    for i in 0..8 {
        let c = create(
            &app,
            &isp.dev,
            json!({"tenant_id": isp.tenant, "name": format!("Racer {i}"), "connection_type": "pppoe",
                   "package_id": isp.pppoe, "username": format!("racer{i}"), "password": "pw-racer-1"}),
        )
        .await;
        customers.push(c["id"].as_i64().unwrap());
    }
    let tries = customers.iter().map(|&c| {
        let (app, admin, pin) = (&app, &admin, &pin);
        async move { (c, redeem(app, admin, c, pin).await) }
    });
    let results = futures::future::join_all(tries).await;
    let winners: Vec<i64> = results
        .iter()
        .filter(|(_, (status, _))| *status == StatusCode::CREATED)
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, (status, body)) in &results {
        if *status != StatusCode::CREATED {
            assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(error_code(body), "invalid_card", "{body}");
        }
    }
    let (_, cards) = app.get("/api/v1/cards", &admin).await;
    assert_eq!(cards["items"][0]["state"], "redeemed");
    assert_eq!(cards["items"][0]["redeemed_by"], winners[0]);
    // A batch past its date: redemption refuses it, and housekeeping marks it expired.
    let soon = app.clock().now() + chrono::TimeDelta::hours(1);
    let (_, dated) = app
        .post(
            "/api/v1/card-batches",
            &admin,
            json!({"package_id": isp.pppoe, "quantity": 2, "valid_until": soon}),
        )
        .await;
    let dated = dated["batch"]["id"].as_i64().unwrap();
    let later = ops::Ctx::new(
        &app.state.db,
        &app.state.hasher,
        soon + chrono::TimeDelta::minutes(1),
    );
    assert_eq!(ops::card::expire_due(&later).await.unwrap(), 2);
    assert_eq!(ops::card::expire_due(&later).await.unwrap(), 0);
    let (_, expired) = app
        .get(
            &format!("/api/v1/cards?batch_id={dated}&state=expired"),
            &admin,
        )
        .await;
    assert_eq!(expired["total"], 2, "{expired}");
    let (_, receipts) = app.get("/api/v1/invoices?series=receipt", &admin).await;
    assert_eq!(receipts["total"], 1, "{receipts}");
    verify_clean(&app).await;
}

async fn a_distributor_sells_from_its_own_stock_to_its_operators_customers(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let admin = admin(&app, &isp).await;
    let op = app.login("op@c.example", PASSWORD).await;
    topup(&app, &admin, isp.op, 1_000_000).await;
    let dist = app
        .user(
            &admin,
            json!({"email": "dist@c.example", "name": "Dist", "role": "card_distributor",
                   "tenant_id": isp.tenant, "parent_id": isp.op}),
        )
        .await;
    let dist_token = app.login("dist@c.example", PASSWORD).await;
    // On credit without a limit, it owes each card when the card is redeemed
    // (`card_accounts.rs` shows the terms at work).
    let (status, terms) = app
        .patch(
            &format!("/api/v1/users/{dist}"),
            &op,
            json!({"account_type": "credit", "credit_limit": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{terms}");
    let other_op = app
        .user(
            &admin,
            json!({"email": "op2@c.example", "name": "Op 2", "role": "operator", "tenant_id": isp.tenant}),
        )
        .await;
    let other_token = app.login("op2@c.example", PASSWORD).await;
    let (_, other_pkg) = app
        .post(
            "/api/v1/packages",
            &admin,
            json!({"parent_id": isp.pppoe, "owner_id": other_op, "name": "Op2 home", "price": 56000, "cost_price": 50000}),
        )
        .await;
    let theirs = create(
        &app,
        &other_token,
        json!({"name": "Not yours", "connection_type": "pppoe", "package_id": other_pkg["id"],
               "username": "notyours", "password": "pw-notyours", "mobile": "01812345678"}),
    )
    .await;
    let ours = create(
        &app,
        &op,
        json!({"name": "Rahim Uddin", "connection_type": "pppoe", "package_id": isp.op_pppoe,
               "username": "rahim", "password": "pw-rahim-1", "mobile": "01712345678"}),
    )
    .await;

    // The Admin hands a batch to the operator, who hands two cards to its distributor.
    let (_, made) = app
        .post(
            "/api/v1/card-batches",
            &admin,
            json!({"package_id": isp.pppoe, "quantity": 4, "holder_id": isp.op}),
        )
        .await;
    let batch = made["batch"]["id"].as_i64().unwrap();
    let serial = |n: u32| format!("B{batch:04}-{n:06}");
    let (_, moved) = app
        .post(
            "/api/v1/cards/move",
            &op,
            json!({"serials": [serial(1), serial(2), serial(3)], "action": "assign", "holder_id": dist}),
        )
        .await;
    assert_eq!(moved["moved"], 3, "{moved}");
    let (status, _) = app
        .post(
            "/api/v1/cards/move",
            &op,
            json!({"serials": [serial(4)], "action": "assign", "holder_id": other_op}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a sibling is not the operator's to give to"
    );

    let (_, me) = app.get("/api/v1/distributor/me", &dist_token).await;
    assert_eq!(me["seller_id"], isp.op, "{me}");
    assert_eq!(me["stock"][0]["cards"], 3, "{me}");
    assert_eq!(me["stock"][0]["state"], "assigned", "{me}");
    let (_, cards) = app.get("/api/v1/distributor/cards", &dist_token).await;
    assert_eq!(cards["total"], 3);
    let (status, _) = app.get("/api/v1/card-batches", &dist_token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An e-top-up by mobile, written in E.164 with spaces; retried with its key, once.
    let sale = json!({"mobile": "+880 1712-345678", "serial": serial(1)});
    let headers = [("idempotency-key", "sale-1")];
    let (status, _, sold) = app
        .call_full(
            Method::POST,
            "/api/v1/distributor/sales",
            Some(&dist_token),
            Some(sale.clone()),
            &headers,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sold}");
    assert_eq!(sold["customer_id"], ours["id"]);
    assert_eq!(sold["customer"], "Ra*** Ud***");
    assert_eq!(sold["amount"], 55000);
    let journals = app.count("ledger_journal").await;
    let (_, _, again) = app
        .call_full(
            Method::POST,
            "/api/v1/distributor/sales",
            Some(&dist_token),
            Some(sale),
            &headers,
        )
        .await;
    assert_eq!(again["journal_id"], sold["journal_id"], "{again}");
    assert_eq!(app.count("ledger_journal").await, journals);
    let (_, me) = app.get("/api/v1/distributor/me", &dist_token).await;
    assert_eq!(
        (me["account_type"].as_str(), me["balance"].as_i64()),
        (
            Some("credit"),
            Some(-made["batch"]["price"].as_i64().unwrap())
        ),
        "the card sold is owed: {me}"
    );
    // Another operator's customer is not found; a card not its own is not found.
    let (status, body) = app
        .post(
            "/api/v1/distributor/sales",
            &dist_token,
            json!({"customer_id": theirs["id"], "serial": serial(2)}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "not_found".into()),
        "{body}"
    );
    let (status, _) = app
        .post(
            "/api/v1/distributor/sales",
            &dist_token,
            json!({"customer_id": ours["id"], "serial": serial(4)}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An e-PIN: given once, then the card is sold and redeemable by its PIN. Sent with an
    // Idempotency-Key, its retry shows the same PIN, which is kept sealed, never as typed.
    let reveal_key = [("idempotency-key", "reveal-1")];
    let (status, _, revealed) = app
        .call_full(
            Method::POST,
            &format!("/api/v1/distributor/cards/{}/reveal", serial(2)),
            Some(&dist_token),
            Some(json!({})),
            &reveal_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revealed}");
    let pin = revealed["pin"].as_str().unwrap().to_owned();
    let (status, replayed, again) = app
        .call_full(
            Method::POST,
            &format!("/api/v1/distributor/cards/{}/reveal", serial(2)),
            Some(&dist_token),
            Some(json!({})),
            &reveal_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["pin"], pin.as_str());
    assert_eq!(replayed["idempotent-replayed"], "true");
    {
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
        use store::entity::idempotency_key::{Column, Entity};
        let kept = Entity::find()
            .filter(Column::Key.eq("reveal-1"))
            .one(app.state.db.conn())
            .await
            .unwrap()
            .unwrap();
        let body = kept.response_body.unwrap();
        let digits: String = pin.chars().filter(char::is_ascii_digit).collect();
        assert!(
            !body.contains(&pin) && !body.contains(&digits),
            "the kept answer holds the PIN: {body}"
        );
    }
    let (_, twice) = app
        .post(
            &format!("/api/v1/distributor/cards/{}/reveal", serial(2)),
            &dist_token,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&twice), "already_sold", "{twice}");
    let (status, done) = redeem(&app, &op, ours["id"].as_i64().unwrap(), &pin).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    let (_, sales) = app.get("/api/v1/distributor/sales", &dist_token).await;
    assert_eq!(sales["total"], 2, "{sales}");

    // The mobiles of the operator's customers only, E.164 and as dialled at home, once the
    // tenant lets its distributors read them (it does not by default).
    let (status, off) = app.get("/api/v1/distributor/mobiles", &dist_token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{off}");
    assert_eq!(error_code(&off), "mobiles_list_off", "{off}");
    let (_, tenant) = app
        .get(&format!("/api/v1/tenants/{}", isp.tenant), &admin)
        .await;
    assert_eq!(tenant["distributor_mobiles"], false, "{tenant}");
    let (status, on) = app
        .patch(
            &format!("/api/v1/tenants/{}", isp.tenant),
            &admin,
            json!({"distributor_mobiles": true, "version": tenant["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{on}");
    assert_eq!(on["distributor_mobiles"], true, "{on}");
    let (_, mobiles) = app.get("/api/v1/distributor/mobiles", &dist_token).await;
    let items = mobiles["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{mobiles}");
    assert_eq!(items[0]["mobile"], "+8801712345678");
    assert_eq!(items[0]["national"], "01712345678");
    verify_clean(&app).await;
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Backend::Sqlite).await }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Backend::Postgres).await }
            )*
        }
    };
}

both_backends!(
    a_batch_is_made_handed_down_and_redeemed_once,
    of_many_redemptions_of_one_card_exactly_one_wins,
    a_distributor_sells_from_its_own_stock_to_its_operators_customers,
);
