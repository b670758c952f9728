//! Money through the API, on both engines: a recharge previewed, then paid along the
//! reseller chain (the collector pays its cost, its operator takes its margin, the owner
//! its revenue); a collector that cannot afford it refused with nothing written; top-ups
//! down the tree; credit lines, the tenant's and an operator's (held from its own spending);
//! the reference's package change (17/13); VAT included or added; idempotent
//! retries; the dashboard's day per caller; exactly floor(B/c) of many concurrent recharges passing a balance B; and the
//! ledger's append-only tables and invariants.

//!
//! One file over 800 lines on purpose: every scenario plays in the same chain (an Admin, an
//! operator, its sub-operator, their packages) built by the helpers at the top, and each
//! ends with `ledger verify`; split, each part would carry its own copy of that world.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::money::{TAKA, balance, chain, customer, priced, topup, verify_clean};
use support::{Backend, TestApp, spawn};

async fn recharge(app: &TestApp, token: &str, customer: i64, body: Value) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/customers/{customer}/recharge"),
        token,
        body,
    )
    .await
}

async fn a_recharge_is_previewed_then_paid_along_the_chain(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let alice = customer(&app, &c.sub, c.sub_pkg, "alice").await;

    // The preview prices it and writes nothing.
    let (status, preview) = recharge(&app, &c.sub, alice, json!({"preview": true})).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        (
            preview["amount"].as_i64(),
            preview["cost"].as_i64(),
            preview["credit"].as_i64(),
            preview["currency"].as_str(),
            preview["journal_id"].as_i64()
        ),
        (
            Some(500 * TAKA),
            Some(450 * TAKA),
            Some(0),
            Some("BDT"),
            None
        )
    );
    assert_eq!(app.count("ledger_journal").await, 0);

    // A prepaid sub-operator with nothing cannot pay; nothing changes.
    let (_, before) = app.get(&format!("/api/v1/customers/{alice}"), &c.sub).await;
    let (status, refused) = recharge(&app, &c.sub, alice, json!({})).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("insufficient_balance")
        ),
        "{refused}"
    );
    let (_, after) = app.get(&format!("/api/v1/customers/{alice}"), &c.sub).await;
    assert_eq!(before["expires_at"], after["expires_at"]);
    assert_eq!(before["version"], after["version"]);
    assert_eq!(app.count("ledger_journal").await, 0);
    assert_eq!(app.count("service_grant").await, 0);

    // Funds flow down: the tenant books 1 000 taka from the operator, which passes 450 on.
    let (status, done) = topup(&app, &c.admin, c.op_id, 1_000 * TAKA).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["balance"]["balance"].as_i64(), Some(1_000 * TAKA));
    let (status, done) = topup(&app, &c.op, c.sub_id, 450 * TAKA).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(
        balance(&app, &c.op, c.op_id).await["balance"].as_i64(),
        Some(550 * TAKA)
    );

    // The recharge: the sub-operator pays 450, its operator earns 50, the owner 400.
    let (status, paid) = recharge(&app, &c.sub, alice, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(
        (paid["amount"].as_i64(), paid["cost"].as_i64()),
        (Some(500 * TAKA), Some(450 * TAKA))
    );
    let journal = paid["journal_id"].as_i64().unwrap();
    // Its receipt: the money taken, line by line, numbered in the tenant's series.
    let receipt = paid["receipt_id"].as_i64().unwrap();
    let (status, r) = app
        .get(&format!("/api/v1/invoices/{receipt}"), &c.sub)
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["total"].as_i64(),
            r["journal_id"].as_i64(),
            r["collector_id"].as_i64(),
            r["lines"][0]["kind"].as_str(),
            r["lines"][0]["amount"].as_i64()
        ),
        (
            Some(500 * TAKA),
            Some(journal),
            Some(c.sub_id),
            Some("service"),
            Some(500 * TAKA)
        )
    );
    assert!(r["number"].as_str().unwrap().starts_with("RC-"), "{r}");
    // The operator above does not read its sub-operator's receipt unless it sees the
    // customer (it does: its sub-operator's customers are its own to see).
    let (status, _) = app.get(&format!("/api/v1/invoices/{receipt}"), &c.op).await;
    assert_eq!(status, StatusCode::OK);
    let (status, listed) = app
        .get(&format!("/api/v1/invoices?customer_id={alice}"), &c.sub)
        .await;
    assert_eq!(
        (status, listed["total"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    let sub_balance = balance(&app, &c.sub, c.sub_id).await;
    assert_eq!(
        (
            sub_balance["balance"].as_i64(),
            sub_balance["available"].as_i64(),
            sub_balance["account_type"].as_str()
        ),
        (Some(0), Some(0), Some("prepaid"))
    );
    assert_eq!(
        balance(&app, &c.op, c.op_id).await["balance"].as_i64(),
        Some(600 * TAKA)
    );
    let (_, alice_now) = app.get(&format!("/api/v1/customers/{alice}"), &c.sub).await;
    assert_eq!(alice_now["expires_at"], paid["expires_at"], "{alice_now}");

    // The journal balances and names every account it moved.
    let (status, j) = app
        .get(&format!("/api/v1/ledger/journals/{journal}"), &c.admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{j}");
    let entries = j["entries"].as_array().unwrap();
    let total = |side: &str| -> i64 {
        entries
            .iter()
            .filter(|e| e["side"] == side)
            .map(|e| e["amount"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(total("debit"), total("credit"));
    let revenue: i64 = entries
        .iter()
        .filter(|e| e["account"] == "revenue")
        .map(|e| e["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(revenue, 400 * TAKA);
    // The sub-operator reads its journal; an operator of another chain would not.
    let (status, _) = app
        .get(&format!("/api/v1/ledger/journals/{journal}"), &c.sub)
        .await;
    assert_eq!(status, StatusCode::OK);

    // Its statement: its own account, newest first, with running balances.
    let (status, statement) = app
        .get(
            &format!("/api/v1/ledger/entries?user_id={}", c.sub_id),
            &c.sub,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{statement}");
    let items = statement["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|e| e["account"] == format!("reseller:{}", c.sub_id))
    );
    assert_eq!(items[0]["balance_after"].as_i64(), Some(0));
    assert_eq!(statement["total"].as_u64(), Some(3), "{statement}");
    // The same statement as CSV, oldest first.
    let (status, _, csv) = app
        .call_full(
            Method::GET,
            &format!("/api/v1/ledger/entries.csv?user_id={}", c.sub_id),
            Some(&c.sub),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = csv.as_str().unwrap().to_owned();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "at,journal_id,account,side,amount,balance_after,currency"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].contains(&format!("reseller:{},credit,45000,45000,BDT", c.sub_id)),
        "{csv}"
    );
    assert!(lines[3].ends_with(",0,BDT"), "{csv}");
    // A sub-operator does not read its operator's statement nor the whole books.
    let (status, _) = app
        .get(
            &format!("/api/v1/ledger/entries?user_id={}", c.op_id),
            &c.sub,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, own) = app.get("/api/v1/ledger/entries", &c.sub).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(own["total"], statement["total"]);

    // Nothing left: refused again, with what is available.
    let (status, refused) = recharge(&app, &c.sub, alice, json!({"days": 1})).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("insufficient_balance")
        )
    );
    verify_clean(&app).await;
}

async fn credit_lines_are_the_owners_and_stop_at_their_limit(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let bob = customer(&app, &c.sub, c.sub_pkg, "bob").await;
    let path = format!("/api/v1/users/{}", c.sub_id);
    let terms = |body: Value| app.patch(&path, &c.admin, body);
    // A credit line below the cost does not cover it.
    let (status, answer) =
        terms(json!({"account_type": "credit", "credit_limit": 200 * TAKA})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = recharge(&app, &c.sub, bob, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // One that does lets the balance go below zero, down to the limit.
    terms(json!({"credit_limit": 500 * TAKA})).await;
    let (status, paid) = recharge(&app, &c.sub, bob, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let b = balance(&app, &c.sub, c.sub_id).await;
    assert_eq!(
        (
            b["balance"].as_i64(),
            b["available"].as_i64(),
            b["account_type"].as_str(),
            b["credit_limit"].as_i64()
        ),
        (
            Some(-450 * TAKA),
            Some(50 * TAKA),
            Some("credit"),
            Some(500 * TAKA)
        )
    );
    // Unlimited credit has no available figure.
    terms(json!({"account_type": "credit", "credit_limit": null})).await;
    let b = balance(&app, &c.sub, c.sub_id).await;
    assert_eq!(
        (b["available"].clone(), b["credit_limit"].clone()),
        (Value::Null, Value::Null)
    );

    // An operator taking over its sub-operator's credit must cover what it owes now.
    let (status, answer) = app
        .patch(
            &format!("/api/v1/users/{}", c.sub_id),
            &c.op,
            json!({"account_type": "credit", "credit_limit": 500 * TAKA}),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("insufficient_balance")
        )
    );
    // The tenant's Admin sets an operator's terms, not the operator itself nor its
    // sub-operator; terms change alone; bad terms are refused.
    for token in [&c.op, &c.sub] {
        let (status, _) = app
            .patch(
                &format!("/api/v1/users/{}", c.op_id),
                token,
                json!({"account_type": "prepaid"}),
            )
            .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status}"
        );
    }
    for (body, field, code) in [
        (
            json!({"account_type": "gold"}),
            "account_type",
            "invalid_choice",
        ),
        (
            json!({"account_type": "credit", "credit_limit": -1}),
            "credit_limit",
            "negative",
        ),
        (
            json!({"account_type": "prepaid", "name": "X"}),
            "account_type",
            "must_be_alone",
        ),
    ] {
        let (status, answer) = terms(body).await;
        assert_eq!(
            (
                status,
                answer["error"]["fields"][0]["field"].as_str(),
                answer["error"]["fields"][0]["code"].as_str()
            ),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field), Some(code)),
            "{answer}"
        );
    }
    verify_clean(&app).await;
}

/// The reference's worked example, through the API: Basic 300/240 for 30 days, 20 days
/// used, changed to Pro 500/400 for 7 days by the operator: it collects 17 taka and pays
/// 13 to the owner.
async fn a_package_change_credits_what_was_paid(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let (_, basic, _) = priced(
        &app,
        &c.dev,
        c.tenant,
        c.pool,
        "Basic",
        [300, 240, 240],
        c.op_id,
        c.sub_id,
    )
    .await;
    let (_, pro, _) = priced(
        &app,
        &c.dev,
        c.tenant,
        c.pool,
        "Pro",
        [500, 400, 400],
        c.op_id,
        c.sub_id,
    )
    .await;
    topup(&app, &c.admin, c.op_id, 1_000 * TAKA).await;
    let carol = customer(&app, &c.op, basic, "carol").await;
    let (status, first) = recharge(&app, &c.op, carol, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["cost"].as_i64(), Some(240 * TAKA));
    app.clock().shift(20 * 86_400);
    let before = balance(&app, &c.op, c.op_id).await["balance"]
        .as_i64()
        .unwrap();
    let (status, change) =
        recharge(&app, &c.op, carol, json!({"package_id": pro, "days": 7})).await;
    assert_eq!(status, StatusCode::CREATED, "{change}");
    assert_eq!(
        (
            change["price"].as_i64(),
            change["credit"].as_i64(),
            change["amount"].as_i64(),
            change["cost"].as_i64()
        ),
        (
            Some(117 * TAKA),
            Some(100 * TAKA),
            Some(17 * TAKA),
            Some(13 * TAKA)
        )
    );
    let after = balance(&app, &c.op, c.op_id).await["balance"]
        .as_i64()
        .unwrap();
    assert_eq!(before - after, 13 * TAKA);
    let (_, carol_now) = app.get(&format!("/api/v1/customers/{carol}"), &c.op).await;
    assert_eq!(carol_now["package_id"].as_i64(), Some(pro));
    // Recharging the same package again stacks on the live expiry, with no credit.
    let (status, stacked) = recharge(&app, &c.op, carol, json!({"days": 1, "preview": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stacked["starts_at"], change["expires_at"]);
    assert_eq!(stacked["credit"].as_i64(), Some(0));
    verify_clean(&app).await;
}

async fn a_retry_with_the_same_key_pays_once(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    topup(&app, &c.admin, c.op_id, 2_000 * TAKA).await;
    let dave = customer(&app, &c.op, c.op_pkg, "dave").await;
    let path = format!("/api/v1/customers/{dave}/recharge");
    let send = |body: Value, key: &'static str| {
        let app = &app;
        let path = path.clone();
        let token = c.op.clone();
        async move {
            app.call_full(
                Method::POST,
                &path,
                Some(&token),
                Some(body),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let (status, _, first) = send(json!({"days": 3}), "k-1").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, _, again) = send(json!({"days": 3}), "k-1").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["journal_id"], first["journal_id"]);
    let (status, _, other) = send(json!({"days": 4}), "k-1").await;
    assert_eq!(
        (status, other["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("idempotency_key_reused"))
    );
    assert_eq!(
        app.count("ledger_journal").await,
        2,
        "the top-up and one recharge"
    );

    // The ledger's own key holds when the API's record of the key is gone.
    use sea_orm::ConnectionTrait as _;
    app.state
        .db
        .conn()
        .execute_unprepared("DELETE FROM idempotency_key")
        .await
        .unwrap();
    let (status, _, replay) = send(json!({"days": 3}), "k-1").await;
    assert_eq!(status, StatusCode::OK, "{replay}");
    assert_eq!(replay["journal_id"], first["journal_id"]);
    assert_eq!(replay["expires_at"], first["expires_at"]);
    assert_eq!(app.count("ledger_journal").await, 2);
    assert_eq!(app.count("service_grant").await, 1);
    verify_clean(&app).await;
}

/// Many recharges at once against one balance: exactly floor(B / c) pass, the rest are
/// refused, the balance ends at B mod c, and nothing else fails.
async fn concurrent_recharges_never_overspend(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let cost = 450 * TAKA;
    let b = 7 * cost + 100 * TAKA;
    topup(&app, &c.admin, c.op_id, b).await;
    topup(&app, &c.op, c.sub_id, b).await;
    let mut customers = Vec::new();
    for i in 0..50 {
        customers.push(customer(&app, &c.sub, c.sub_pkg, &format!("user{i:02}")).await);
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(customers.len()));
    let tasks: Vec<_> = customers
        .into_iter()
        .map(|id| {
            let http = support::http_client().build().unwrap();
            let url = format!("{}/api/v1/customers/{id}/recharge", app.base);
            let token = c.sub.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let response = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                (status, body["error"]["code"].as_str().map(str::to_owned))
            })
        })
        .collect();
    let mut paid = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            (StatusCode::CREATED, _) => paid += 1,
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)) if code == "insufficient_balance" => {
                refused += 1
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((paid, refused), (7, 43));
    assert_eq!(
        balance(&app, &c.sub, c.sub_id).await["balance"].as_i64(),
        Some(100 * TAKA)
    );
    assert_eq!(app.count("service_grant").await, 7);
    // Seven receipts, numbered 1 to 7 whatever order the recharges committed in (43
    // rolled back, giving back every number they took).
    let (status, receipts) = app.get("/api/v1/invoices?limit=100", &c.admin).await;
    assert_eq!(status, StatusCode::OK, "{receipts}");
    let mut numbers: Vec<String> = receipts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["number"]
                .as_str()
                .unwrap()
                .rsplit('-')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=7).map(|n| format!("{n:06}")).collect();
    assert_eq!(numbers, expected);
    verify_clean(&app).await;
}

async fn bad_requests_are_refused_and_write_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    topup(&app, &c.admin, c.op_id, 1_000 * TAKA).await;
    let erin = customer(&app, &c.sub, c.sub_pkg, "erin").await;
    let tenant_customer = customer(&app, &c.admin, c.master, "frank").await;
    let journals = app.count("ledger_journal").await;
    for (body, field, code) in [
        (json!({"days": -1}), "days", "out_of_range"),
        (json!({"hours": 100_000_000}), "hours", "out_of_range"),
        (json!({"days": 0, "hours": 0}), "days", "required"),
        (json!({"package_id": 999_999}), "package_id", "not_usable"),
        (json!({"package_id": c.op_pkg}), "package_id", "not_usable"),
    ] {
        let (status, answer) = recharge(&app, &c.sub, erin, body.clone()).await;
        assert_eq!(
            (
                status,
                answer["error"]["fields"][0]["field"].as_str(),
                answer["error"]["fields"][0]["code"].as_str()
            ),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field), Some(code)),
            "{body}: {answer}"
        );
    }
    let (status, answer) = recharge(&app, &c.sub, erin, json!({"days": "x"})).await;
    assert!(status.is_client_error(), "{answer}");
    let (status, _) = recharge(&app, &c.sub, erin, json!({"amount": 1})).await;
    assert!(status.is_client_error());
    // Who may not: a sub-operator for the tenant's customer (not seen), the platform.
    let (status, _) = recharge(&app, &c.sub, tenant_customer, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = recharge(&app, &c.dev, erin, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A disabled customer is enabled first.
    let (_, e) = app
        .get(&format!("/api/v1/customers/{erin}"), &c.admin)
        .await;
    let (status, _) = app
        .patch(
            &format!("/api/v1/customers/{erin}"),
            &c.admin,
            json!({"status": "disabled", "version": e["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = recharge(&app, &c.admin, erin, json!({})).await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("customer_disabled"))
    );
    // A free customer (the tenant's to give) has no time to buy.
    let (status, free) = app
        .post(
            "/api/v1/customers",
            &c.admin,
            json!({"owner_id": c.sub_id, "package_id": c.sub_pkg, "connection_type": "pppoe", "name": "Free", "username": "free", "billing_type": "free"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{free}");
    let (status, answer) = recharge(&app, &c.sub, free["id"].as_i64().unwrap(), json!({})).await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("customer_free"))
    );
    // Top-ups: an amount above zero, only down the tree.
    for amount in [0, -5, i64::MAX] {
        let (status, _) = topup(&app, &c.op, c.sub_id, amount).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
    }
    let (status, _) = topup(&app, &c.sub, c.op_id, 1).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a sub-operator does not see its operator"
    );
    let (status, _) = topup(&app, &c.op, c.op_id, 1).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, answer) = topup(&app, &c.op, c.sub_id, 5_000 * TAKA).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("insufficient_balance")
        )
    );
    let (status, _) = app
        .get("/api/v1/ledger/entries?account=gold", &c.admin)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("ledger_journal").await, journals);
    verify_clean(&app).await;
}

async fn the_ledger_is_append_only(backend: Backend) {
    use sea_orm::ConnectionTrait as _;
    let app = spawn(backend).await;
    let c = chain(&app).await;
    topup(&app, &c.admin, c.op_id, 10 * TAKA).await;
    let conn = app.state.db.conn();
    for sql in [
        "UPDATE ledger_entry SET amount = amount + 1",
        "DELETE FROM ledger_entry",
        "UPDATE ledger_journal SET memo = 'x'",
        "DELETE FROM ledger_journal",
    ] {
        let error = conn.execute_unprepared(sql).await.unwrap_err();
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(app.count("ledger_entry").await, 2);
    // A cached balance edited behind the ledger's back is caught.
    conn.execute_unprepared(
        "UPDATE ledger_account SET credits_posted = credits_posted + 1 WHERE key LIKE 'reseller:%'",
    )
    .await
    .unwrap();
    let breaches = store::ledger::verify(conn, None).await.unwrap();
    let found: Vec<&str> = breaches.iter().map(|b| b.invariant).collect();
    assert!(
        found.contains(&"I2") && found.contains(&"I4"),
        "{breaches:?}"
    );
}

/// Credit an operator grants its sub-operator is held from the operator's own spending:
/// the sub-operator goes below zero only as far as the operator can cover, and settling
/// the debt costs the operator nothing it could still spend.
async fn an_operator_covers_the_credit_it_grants(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    let bob = customer(&app, &c.sub, c.sub_pkg, "bob").await;
    topup(&app, &c.admin, c.op_id, 1_000 * TAKA).await;
    let path = format!("/api/v1/users/{}", c.sub_id);
    let op_view = || balance(&app, &c.op, c.op_id);
    let held_available = |b: Value| {
        (
            b["balance"].as_i64(),
            b["held"].as_i64(),
            b["available"].as_i64(),
        )
    };

    let (status, answer) = app
        .patch(
            &path,
            &c.op,
            json!({"account_type": "credit", "credit_limit": 500 * TAKA}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, paid) = recharge(&app, &c.sub, bob, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(
        balance(&app, &c.sub, c.sub_id).await["balance"].as_i64(),
        Some(-450 * TAKA)
    );
    // The operator earned its margin and holds what its sub-operator owes.
    assert_eq!(
        held_available(op_view().await),
        (Some(1_050 * TAKA), Some(450 * TAKA), Some(600 * TAKA))
    );
    // Past the limit: refused.
    let (status, _) = recharge(&app, &c.sub, bob, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // A higher limit: the hold grows with the debt, until the operator cannot cover it.
    app.patch(&path, &c.op, json!({"credit_limit": 2_000 * TAKA}))
        .await;
    let (status, _) = recharge(&app, &c.sub, bob, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        held_available(op_view().await),
        (Some(1_100 * TAKA), Some(900 * TAKA), Some(200 * TAKA))
    );
    let (status, refused) = recharge(&app, &c.sub, bob, json!({})).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("insufficient_balance")
        ),
        "the operator cannot cover another 450"
    );
    // The operator cannot spend what it holds: its own customer at a cost of 400 is refused.
    let own = customer(&app, &c.op, c.op_pkg, "own").await;
    let (status, refused) = recharge(&app, &c.op, own, json!({})).await;
    assert_eq!(
        (
            status,
            refused["error"]["code"].as_str(),
            refused["error"]["message"].as_str()
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("insufficient_balance"),
            Some("The collector's balance cannot pay for this: 20000 available.")
        )
    );

    // Settling part of the debt, even more than it may spend, leaves what the operator may
    // spend as it was.
    let (status, answer) = topup(&app, &c.op, c.sub_id, 300 * TAKA).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        held_available(op_view().await),
        (Some(800 * TAKA), Some(600 * TAKA), Some(200 * TAKA))
    );
    verify_clean(&app).await;

    // The tenant takes the credit over: the operator's hold is released.
    let (status, _) = app
        .patch(
            &path,
            &c.admin,
            json!({"account_type": "credit", "credit_limit": 2_000 * TAKA}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        held_available(op_view().await),
        (Some(800 * TAKA), Some(0), Some(800 * TAKA))
    );
    verify_clean(&app).await;
}

/// The dashboard: the day's money and customers over what each caller sees, kept briefly
/// unless asked to refresh.
async fn the_dashboard_counts_the_day_for_each_caller(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    topup(&app, &c.admin, c.op_id, 2_000 * TAKA).await;
    topup(&app, &c.op, c.sub_id, 1_000 * TAKA).await;
    let alice = customer(&app, &c.sub, c.sub_pkg, "alice").await;
    let bob = customer(&app, &c.op, c.op_pkg, "bob").await;
    // One customer expires now: today, whatever the hour.
    let now = app.clock().now().to_rfc3339();
    let (status, _) = app
        .post(
            "/api/v1/customers",
            &c.op,
            json!({"package_id": c.op_pkg, "connection_type": "pppoe", "name": "Carol", "username": "carol", "expires_at": now}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, before) = app.get("/api/v1/dashboard", &c.admin).await;
    recharge(&app, &c.sub, alice, json!({})).await;
    recharge(&app, &c.op, bob, json!({"days": 3})).await;

    // Kept: the same figures until refreshed.
    let (_, kept) = app.get("/api/v1/dashboard", &c.admin).await;
    assert_eq!(kept, before);
    let (status, day) = app.get("/api/v1/dashboard?refresh=1", &c.admin).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    let three_days = 5_000; // 500 taka × 3/30, rounded to the taka
    assert_eq!(
        (
            day["collected_today"].as_i64(),
            day["renewed_today"].as_i64(),
            day["new_today"].as_i64(),
            day["expiring_today"].as_i64(),
            day["to_collect_today"].as_i64(),
            day["currency"].as_str()
        ),
        (
            Some(500 * TAKA + three_days),
            Some(2),
            Some(3),
            Some(1),
            Some(500 * TAKA),
            Some("BDT")
        ),
        "{day}"
    );
    let by: Vec<(i64, i64)> = day["collected_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["user_id"].as_i64().unwrap(),
                c["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        by.contains(&(c.sub_id, 500 * TAKA)) && by.contains(&(c.op_id, three_days)),
        "{day}"
    );
    let days = day["collections"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["amount"].as_i64(), Some(500 * TAKA + three_days));
    assert_eq!(days[0]["amount"].as_i64(), Some(0));

    // A sub-operator's day: its own customer only.
    let (_, own) = app.get("/api/v1/dashboard?refresh=1", &c.sub).await;
    assert_eq!(
        (
            own["collected_today"].as_i64(),
            own["renewed_today"].as_i64(),
            own["new_today"].as_i64(),
            own["expiring_today"].as_i64()
        ),
        (Some(500 * TAKA), Some(1), Some(1), Some(0)),
        "{own}"
    );
}

/// VAT: carved out of the price when prices include it (the margins are net of it), added
/// to the price when they do not; a rate applies from its date and shows on the receipt.
async fn vat_is_carved_out_or_added_and_shows_on_the_receipt(backend: Backend) {
    let app = spawn(backend).await;
    let c = chain(&app).await;
    topup(&app, &c.admin, c.op_id, 2_000 * TAKA).await;
    topup(&app, &c.op, c.sub_id, 1_000 * TAKA).await;
    let alice = customer(&app, &c.sub, c.sub_pkg, "alice").await;
    let rates = format!("/api/v1/tenants/{}/vat-rates", c.tenant);

    // Who may, and what is refused.
    let (status, _) = app.post(&rates, &c.op, json!({"rate_bp": 500})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (body, code) in [
        (json!({"rate_bp": 10_001}), "out_of_range"),
        (
            json!({"rate_bp": 500, "effective_from": "2020-01-01T00:00:00Z"}),
            "in_the_past",
        ),
    ] {
        let (status, answer) = app.post(&rates, &c.admin, body).await;
        assert_eq!(
            (status, answer["error"]["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{answer}"
        );
    }

    // 5% included: 500 taka holds 23.81 of VAT; the sub-operator's margin is net of it.
    let (status, _) = app.post(&rates, &c.admin, json!({"rate_bp": 500})).await;
    assert_eq!(status, StatusCode::CREATED);
    // A rate set for next year does not apply yet.
    let (status, _) = app
        .post(
            &rates,
            &c.admin,
            json!({"rate_bp": 1_500, "effective_from": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, paid) = recharge(&app, &c.sub, alice, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let vat = 50_000 - 47_619;
    let sub_margin = 47_619 - 45_000;
    assert_eq!(
        (paid["amount"].as_i64(), paid["cost"].as_i64()),
        (Some(50_000), Some(50_000 - sub_margin))
    );
    let (_, receipt) = app
        .get(&format!("/api/v1/invoices/{}", paid["receipt_id"]), &c.sub)
        .await;
    assert_eq!(
        (
            receipt["subtotal"].as_i64(),
            receipt["vat"].as_i64(),
            receipt["total"].as_i64()
        ),
        (Some(50_000 - vat), Some(vat), Some(50_000)),
        "{receipt}"
    );
    let (_, j) = app
        .get(
            &format!("/api/v1/ledger/journals/{}", paid["journal_id"]),
            &c.admin,
        )
        .await;
    let vat_leg: i64 = j["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["account"] == "vat_payable")
        .map(|e| e["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(vat_leg, vat);

    // 5% added: the customer pays 525 taka, the chain's shares are as without VAT.
    let (status, _) = app
        .post(
            &rates,
            &c.admin,
            json!({"rate_bp": 500, "inclusive": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, paid) = recharge(&app, &c.sub, alice, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(
        (paid["amount"].as_i64(), paid["cost"].as_i64()),
        (Some(52_500), Some(52_500 - 5_000))
    );
    let (_, listed) = app.get(&rates, &c.admin).await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");

    // The accountant's report of the day: what each reseller collected and earned.
    let from = (app.clock().now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    let to = (app.clock().now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    let period = format!(
        "from={}&to={}",
        from.replace('+', "%2B"),
        to.replace('+', "%2B")
    );
    let (status, report) = app
        .get(&format!("/api/v1/reports/resellers?{period}"), &c.admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let line = |id: i64| {
        report["resellers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["user_id"].as_i64() == Some(id))
            .cloned()
            .unwrap()
    };
    let sub = line(c.sub_id);
    assert_eq!(
        (
            sub["collected"].as_i64(),
            sub["margins"].as_i64(),
            sub["topped_up"].as_i64()
        ),
        (
            Some(50_000 + 52_500),
            Some(sub_margin + 5_000),
            Some(1_000 * TAKA)
        ),
        "{report}"
    );
    let op = line(c.op_id);
    assert_eq!(
        (
            op["collected"].as_i64(),
            op["passed_down"].as_i64(),
            op["margins"].as_i64()
        ),
        (Some(0), Some(1_000 * TAKA), Some(2 * 5_000)),
        "{report}"
    );
    let (status, _) = app
        .get(&format!("/api/v1/reports/resellers?{period}"), &c.op)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, csv) = app
        .call_full(
            Method::GET,
            &format!("/api/v1/reports/resellers.csv?{period}"),
            Some(&c.admin),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.as_str()
            .unwrap()
            .starts_with("user_id,name,role,collected,margins,owed_upward"),
        "{csv}"
    );
    verify_clean(&app).await;
}

both_backends!(
    a_recharge_is_previewed_then_paid_along_the_chain,
    credit_lines_are_the_owners_and_stop_at_their_limit,
    an_operator_covers_the_credit_it_grants,
    a_package_change_credits_what_was_paid,
    a_retry_with_the_same_key_pays_once,
    concurrent_recharges_never_overspend,
    bad_requests_are_refused_and_write_nothing,
    the_ledger_is_append_only,
    the_dashboard_counts_the_day_for_each_caller,
    vat_is_carved_out_or_added_and_shows_on_the_receipt,
);
