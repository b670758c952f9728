//! Corrections by reversal, on both engines: the tenant's Admin books a mistaken top-up back
//! with its mirror image, once however often it asks; funds already spent are not taken
//! below the reseller's floor; other journals, other callers, unknown journals and reasons
//! out of bounds are refused with nothing written; the audit log keeps the reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::money::{TAKA, balance, chain, customer, topup, verify_clean};
use support::{Backend, TestApp, spawn};

async fn reverse(app: &TestApp, token: &str, journal: &Value, reason: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/ledger/journals/{}/reverse", journal["journal_id"]),
        token,
        json!({ "reason": reason }),
    )
    .await
}

async fn amount(app: &TestApp, token: &str, user: i64) -> i64 {
    balance(app, token, user).await["balance"].as_i64().unwrap()
}

async fn a_mistaken_top_up_is_booked_back_once(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;

    // A top-up to the wrong reseller, booked back.
    let (status, wrong) = topup(&app, &c.admin, c.op_id, 700 * TAKA).await;
    assert_eq!(status, StatusCode::CREATED, "{wrong}");
    let journals = app.count("ledger_journal").await;
    let (status, back) = reverse(&app, &c.admin, &wrong, "meant for another operator").await;
    assert_eq!(status, StatusCode::CREATED, "{back}");
    assert_eq!(back["reverses"], wrong["journal_id"]);
    assert_eq!(amount(&app, &c.admin, c.op_id).await, 0);
    let (_, original) = app
        .get(
            &format!("/api/v1/ledger/journals/{}", wrong["journal_id"]),
            &c.admin,
        )
        .await;
    let (_, mirror) = app
        .get(
            &format!("/api/v1/ledger/journals/{}", back["journal_id"]),
            &c.admin,
        )
        .await;
    assert_eq!(mirror["kind"], "reversal");
    let legs = |j: &Value| {
        let mut legs: Vec<(String, String, i64)> = j["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["account"].as_str().unwrap().to_owned(),
                    e["side"].as_str().unwrap().to_owned(),
                    e["amount"].as_i64().unwrap(),
                )
            })
            .collect();
        legs.sort();
        legs
    };
    let flipped: Vec<(String, String, i64)> = legs(&original)
        .into_iter()
        .map(|(a, side, n)| {
            (
                a,
                if side == "debit" { "credit" } else { "debit" }.to_owned(),
                n,
            )
        })
        .collect();
    let mut flipped = flipped;
    flipped.sort();
    assert_eq!(legs(&mirror), flipped);
    // Asked again: the same reversal, nothing moved.
    let (status, again) = reverse(&app, &c.admin, &wrong, "once more").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["journal_id"], back["journal_id"]);
    assert_eq!(app.count("ledger_journal").await, journals + 1);
    assert_eq!(amount(&app, &c.admin, c.op_id).await, 0);
    let (_, audit) = app
        .get("/api/v1/audit?action=ledger.reverse", &c.admin)
        .await;
    assert!(
        audit.to_string().contains("meant for another operator"),
        "{audit}"
    );

    // Funds already spent down the tree stay where they went.
    let (_, funds) = topup(&app, &c.admin, c.op_id, 1_000 * TAKA).await;
    let (status, passed) = topup(&app, &c.op, c.sub_id, 600 * TAKA).await;
    assert_eq!(status, StatusCode::CREATED, "{passed}");
    let journals = app.count("ledger_journal").await;
    let (status, refused) = reverse(&app, &c.admin, &funds, "typo").await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("insufficient_balance")
        ),
        "{refused}"
    );
    assert_eq!(app.count("ledger_journal").await, journals);
    assert_eq!(amount(&app, &c.admin, c.op_id).await, 400 * TAKA);
    // The operator's own transfer down is the Admin's to book back; not the operator's.
    let (status, _) = reverse(&app, &c.op, &passed, "mine").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, back) = reverse(&app, &c.admin, &passed, "sub-operator closed").await;
    assert_eq!(status, StatusCode::CREATED, "{back}");
    assert_eq!(
        (
            amount(&app, &c.admin, c.op_id).await,
            amount(&app, &c.admin, c.sub_id).await
        ),
        (1_000 * TAKA, 0)
    );

    // Other journals, unknown ones, a reversal of a reversal and bad reasons: refused,
    // nothing written.
    let alice = customer(&app, &c.op, c.op_pkg, "alice").await;
    let (status, sale) = app
        .post(
            &format!("/api/v1/customers/{alice}/recharge"),
            &c.op,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sale}");
    let journals = app.count("ledger_journal").await;
    for (journal, reason, status, code) in [
        (
            &sale,
            "refund",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            &back,
            "undo",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            &json!({"journal_id": 999_999}),
            "x",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &funds,
            "",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            &funds,
            &"x".repeat(201),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            &funds,
            "refund\u{1b}[2J",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ] {
        let (got, answer) = reverse(&app, &c.admin, journal, reason).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
    }
    let (status, answer) = reverse(&app, &c.admin, &sale, "refund").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer["error"]["fields"][0]["code"], "not_reversible",
        "{answer}"
    );
    assert_eq!(app.count("ledger_journal").await, journals);
    verify_clean(&app).await;
}

both_backends!(a_mistaken_top_up_is_booked_back_once);
