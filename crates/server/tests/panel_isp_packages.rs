//! Packages in three levels in the web panel over HTTP, without a browser: a master package
//! with its service, offered to an operator and by the operator to its sub-operator, prices
//! typed and shown in the tenant's currency and stored in minor units, the cost price capped
//! by the price, the list's filters, a master's new speed reaching what is offered from it,
//! and deletion refused while in use. Each test reads the database as well as the pages;
//! `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::panel::{Visitor, created, isp, staff_of};
use support::{Backend, TestApp, spawn};

async fn stored_package(app: &TestApp, id: i64) -> store::package::Package {
    store::package::find_any(app.state.db.conn(), id)
        .await
        .unwrap()
        .expect("the package is stored")
}

async fn packages_are_made_in_three_levels_with_prices_in_the_tenant_currency(backend: Backend) {
    let app = spawn(backend).await;
    let mut isp = isp(&app).await;
    let op = app
        .user(
            &isp.dev,
            staff_of(isp.tenant, "op1@dhaka.example", "operator"),
        )
        .await;
    let mut sub = staff_of(isp.tenant, "sub1@dhaka.example", "sub_operator");
    sub["parent_id"] = json!(op);
    let sub = app.user(&isp.dev, sub).await;
    let pool = created(
        &app,
        &isp.dev,
        "/api/v1/ip-pools",
        json!({"tenant_id": isp.tenant, "name": "pppoe-main", "ranges": "10.0.0.0/24"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let admin = &mut isp.admin;

    let pool_id = pool.to_string();
    let master_form = [
        ("name", "Home 20M"),
        ("connection_type", "pppoe"),
        ("download_kbps", "20M"),
        ("upload_kbps", "5M"),
        ("volume_bytes", ""),
        ("validity_days", "30"),
        ("validity_hours", "0"),
        ("validity_minutes", "0"),
        ("ip_pool_id", pool_id.as_str()),
        ("price", "500"),
    ];
    let new = "/panel/packages/new";
    let reply = admin.submit(new, new, &master_form).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let master = reply.created_id();
    let stored = stored_package(&app, master).await;
    assert_eq!(
        (stored.price, stored.download_kbps, stored.upload_kbps),
        (50_000, 20_000, 5_000)
    );
    assert_eq!(
        (stored.validity_minutes, stored.ip_pool_id),
        (30 * 1440, Some(pool))
    );
    let list = admin.get("/panel/packages").await;
    assert!(list.has("500.00 BDT"), "{}", list.body);
    assert!(list.has("↓ 20M ↑ 5M") && list.has("30 d 0 h 0 min"));

    // The reserved name, a speed that is not one and no validity at all: every mistake shown.
    let mut bad = master_form.to_vec();
    bad.retain(|(n, _)| !["name", "download_kbps", "validity_days"].contains(n));
    bad.extend([
        ("name", "trial"),
        ("download_kbps", "fast"),
        ("validity_days", "0"),
    ]);
    let reply = admin.submit(new, new, &bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "This name is reserved.",
        "Not a speed",
        "The validity must be at least one minute.",
    ] {
        assert!(reply.has(message), "{message}: {}", reply.body);
    }
    assert_eq!(app.count("package").await, 1);

    // Offered to the operator: a cost price above the price is refused.
    let derive = format!("/panel/packages/{master}/derive");
    let op_id = op.to_string();
    let mut offer = vec![
        ("owner_id", op_id.as_str()),
        ("name", "Op Home"),
        ("price", "600"),
        ("cost_price", "650.50"),
    ];
    let reply = admin.submit(&derive, &derive, &offer).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.has("The cost price may not be above the price."),
        "{}",
        reply.body
    );
    assert_eq!(app.count("package").await, 1);
    offer.retain(|(n, _)| *n != "cost_price");
    offer.push(("cost_price", "450.50"));
    let reply = admin.submit(&derive, &derive, &offer).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let operator_package = reply.created_id();
    let stored = stored_package(&app, operator_package).await;
    assert_eq!(stored.level.code(), "operator");
    assert_eq!(
        (stored.owner_id, stored.parent_id),
        (Some(op), Some(master))
    );
    assert_eq!((stored.price, stored.cost_price), (60_000, 45_050));

    // The operator sees its own package, not the master, and offers it to its sub-operator.
    let mut operator = Visitor::signed_in(&app, "op1@dhaka.example").await;
    let list = operator.get("/panel/packages").await;
    assert_eq!(list.rows("package"), [operator_package]);
    let derive = format!("/panel/packages/{operator_package}/derive");
    let sub_id = sub.to_string();
    let offer = [
        ("owner_id", sub_id.as_str()),
        ("name", "Sub Home"),
        ("price", "700"),
        ("cost_price", "600"),
    ];
    let reply = operator.submit(&derive, &derive, &offer).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let stored = stored_package(&app, reply.created_id()).await;
    assert_eq!(stored.level.code(), "sub_operator");
    assert_eq!(
        (stored.owner_id, stored.parent_id),
        (Some(sub), Some(operator_package))
    );

    // The list filters by level and owner.
    let list = admin.get("/panel/packages?level=operator").await;
    assert_eq!(list.rows("package"), [operator_package]);
    let list = admin.get(&format!("/panel/packages?owner_id={sub}")).await;
    assert_eq!(list.rows("package").len(), 1);
    let list = admin.get("/panel/packages?connection_type=hotspot").await;
    assert!(list.rows("package").is_empty());

    // A master's new speed reaches the packages offered from it.
    let page = format!("/panel/packages/{master}");
    let mut faster = master_form.to_vec();
    faster.retain(|(n, _)| *n != "download_kbps");
    faster.push(("download_kbps", "30M"));
    let reply = admin.submit(&page, &page, &faster).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        stored_package(&app, operator_package).await.download_kbps,
        30_000
    );

    // Deleting a master that packages are offered from is refused on its page.
    let reply = admin
        .submit(&page, &format!("/panel/packages/{master}/delete"), &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("It is in use"), "{}", reply.body);
    assert!(stored_package(&app, master).await.archived_at.is_none());
}

both_backends!(packages_are_made_in_three_levels_with_prices_in_the_tenant_currency);
