//! A customer's page in the web panel over HTTP, without a browser: the action buttons
//! (suspend, resume, disable, change password, change package, rename, delete) and the edit
//! form change the database and the customer's FreeRADIUS rows, a stale page is told so, and
//! an operator sees and acts on its own customers only. Each test reads the database as well
//! as the pages; `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::panel::{
    Isp, Visitor, attribute, customer, customer_form, fixture, isp, password_on, radius_rows,
    stored_customer,
};
use support::{Backend, spawn};

/// Posts the form of `action` on the customer's page, with the page's token and version.
async fn act(
    visitor: &mut Visitor<'_>,
    id: i64,
    action: &str,
    fields: &[(&str, &str)],
) -> support::panel::Reply {
    let page = format!("/panel/customers/{id}");
    visitor
        .submit(&page, &format!("{page}/{action}"), fields)
        .await
}

async fn the_action_buttons_change_the_customer_and_its_radius_rows(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let f = fixture(&app, &dev, tenant).await;
    let id = customer(
        &app,
        &dev,
        tenant,
        json!({"package_id": f.home, "connection_type": "pppoe",
        "name": "Rahim Uddin", "username": "rahim", "password": "first-pass"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    customer(
        &app,
        &dev,
        tenant,
        json!({"package_id": f.home, "connection_type": "pppoe",
        "name": "Karim Ahmed", "username": "karim", "password": "second-pass"}),
    )
    .await;
    let page = format!("/panel/customers/{id}");

    // Suspended under the tenant's default policy: refused.
    let reply = act(&mut admin, id, "suspend", &[]).await;
    assert_eq!(
        (reply.status, reply.location()),
        (StatusCode::SEE_OTHER, page.as_str())
    );
    let shown = admin.get(&page).await;
    assert!(shown.has("The customer is suspended."), "{}", shown.body);
    assert_eq!(
        shown.text_of("customer-state").as_deref(),
        Some("Suspended")
    );
    assert_eq!(stored_customer(&app, id).await.status.code(), "suspended");
    let rows = radius_rows(&app, id).await;
    assert_eq!(attribute(&rows.check, "Auth-Type"), Some("Reject"));
    assert!(rows.reply.is_empty());

    let reply = act(&mut admin, id, "resume", &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(stored_customer(&app, id).await.status.code(), "active");
    let rows = radius_rows(&app, id).await;
    assert_eq!(attribute(&rows.check, "Auth-Type"), None);
    assert_eq!(
        attribute(&rows.reply, "Mikrotik-Rate-Limit"),
        Some("2M/10M")
    );

    let reply = act(&mut admin, id, "disable", &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(stored_customer(&app, id).await.status.code(), "disabled");
    assert_eq!(
        attribute(&radius_rows(&app, id).await.check, "Auth-Type"),
        Some("Reject")
    );

    // A button on a page read before the last change is told so, and changes nothing.
    let stale = stored_customer(&app, id).await.version - 1;
    let form = admin.get(&page).await;
    let csrf = form.input("_csrf").unwrap();
    let stale = stale.to_string();
    let reply = admin
        .post(
            &format!("{page}/resume"),
            &[("_csrf", csrf.as_str()), ("version", stale.as_str())],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        admin
            .get(&page)
            .await
            .has("Someone changed this record meanwhile.")
    );
    assert_eq!(stored_customer(&app, id).await.status.code(), "disabled");
    act(&mut admin, id, "resume", &[]).await;

    // A new password made up by lastmile is shown once and is what RADIUS checks.
    let reply = act(&mut admin, id, "password", &[("password", "")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let password = password_on(&reply).expect("the new password is shown");
    let rows = radius_rows(&app, id).await;
    assert_eq!(
        attribute(&rows.check, "Cleartext-Password"),
        Some(password.as_str())
    );
    assert!(password_on(&admin.get(&page).await).is_none());
    let reply = act(&mut admin, id, "password", &[("password", "has space")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Only printable characters"), "{}", reply.body);
    let rows = radius_rows(&app, id).await;
    assert_eq!(
        attribute(&rows.check, "Cleartext-Password"),
        Some(password.as_str())
    );

    // Another package: its speed is what RADIUS replies; one of another type is refused.
    let faster = f.faster.to_string();
    let reply = act(&mut admin, id, "package", &[("package_id", &faster)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(stored_customer(&app, id).await.package_id, f.faster);
    let rows = radius_rows(&app, id).await;
    assert_eq!(
        attribute(&rows.reply, "Mikrotik-Rate-Limit"),
        Some("5M/30M")
    );
    let hotspot = f.hotspot.to_string();
    let reply = act(&mut admin, id, "package", &[("package_id", &hotspot)]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("The package is for another connection type."));
    assert_eq!(stored_customer(&app, id).await.package_id, f.faster);

    // Renamed: RADIUS knows it by its new name only; a name held by another is refused.
    let reply = act(&mut admin, id, "rename", &[("username", "rahim-2")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(stored_customer(&app, id).await.username, "rahim-2");
    assert_eq!(radius_rows(&app, id).await.usernames, ["rahim-2"]);
    let reply = act(&mut admin, id, "rename", &[("username", "KARIM")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Already taken."), "{}", reply.body);

    // The edit form sends what changed: a name, a zone and a MAC binding.
    let south = f.south.to_string();
    let reply = admin
        .submit(
            &page,
            &page,
            &[
                ("name", "Rahim U."),
                ("zone_id", south.as_str()),
                ("mac", "aa:bb:cc:dd:ee:09"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let stored = stored_customer(&app, id).await;
    assert_eq!(
        (stored.name.as_str(), stored.zone_id),
        ("Rahim U.", Some(f.south))
    );
    let rows = radius_rows(&app, id).await;
    assert_eq!(
        attribute(&rows.check, "Calling-Station-Id"),
        Some("AA:BB:CC:DD:EE:09")
    );

    // Under an address-list policy a suspended customer is let in and listed.
    let (_, read) = app.get(&format!("/api/v1/tenants/{tenant}"), &dev).await;
    let (status, _) = app
        .patch(
            &format!("/api/v1/tenants/{tenant}"),
            &dev,
            json!({"suspension_policy": "address_list", "suspension_target": "blocked",
                   "version": read["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    act(&mut admin, id, "suspend", &[]).await;
    let rows = radius_rows(&app, id).await;
    assert_eq!(attribute(&rows.check, "Auth-Type"), None);
    assert_eq!(
        attribute(&rows.reply, "Mikrotik-Address-List"),
        Some("blocked")
    );

    // Deleted: archived, gone from RADIUS and from the panel.
    let reply = act(&mut admin, id, "delete", &[]).await;
    assert_eq!(
        (reply.status, reply.location()),
        (StatusCode::SEE_OTHER, "/panel/customers")
    );
    assert!(stored_customer(&app, id).await.archived_at.is_some());
    let rows = radius_rows(&app, id).await;
    assert!(rows.check.is_empty() && rows.reply.is_empty());
    assert_eq!(admin.get(&page).await.status, StatusCode::NOT_FOUND);
}

async fn an_operator_sees_and_acts_on_its_own_customers_only(backend: Backend) {
    let app = spawn(backend).await;
    let Isp { dev, tenant, .. } = isp(&app).await;
    let f = fixture(&app, &dev, tenant).await;
    let own = customer(
        &app,
        &dev,
        tenant,
        json!({"package_id": f.op1_home, "owner_id": f.op1,
        "connection_type": "pppoe", "name": "Own", "username": "own", "password": "own-pass"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let other = customer(&app, &dev, tenant, json!({"package_id": f.op2_home, "owner_id": f.op2,
        "connection_type": "pppoe", "name": "Other", "username": "other", "password": "other-pass"}))
    .await["id"]
        .as_i64()
        .unwrap();
    let mut operator = Visitor::signed_in(&app, "op1@dhaka.example").await;

    let list = operator.get("/panel/customers").await;
    assert_eq!(list.rows("customer"), [own]);
    let list = operator
        .get(&format!("/panel/customers?owner_id={}", f.op2))
        .await;
    assert!(list.rows("customer").is_empty());
    assert_eq!(
        operator
            .get(&format!("/panel/customers/{other}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Its own page's token does not open another's customer either.
    let form = operator.get(&format!("/panel/customers/{own}")).await;
    let csrf = form.input("_csrf").unwrap();
    let reply = operator
        .post(
            &format!("/panel/customers/{other}/suspend"),
            &[("_csrf", csrf.as_str()), ("version", "1")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(stored_customer(&app, other).await.status.code(), "active");

    // Its form offers itself as the owner, not another operator; another's package is refused.
    let new = "/panel/customers/new";
    let form = operator.get(new).await;
    assert!(form.has(&format!("<option value=\"{}\"", f.op1)));
    assert!(!form.has(&format!("<option value=\"{}\"", f.op2)));
    let op1 = f.op1.to_string();
    let op2_home = f.op2_home.to_string();
    let wrong = customer_form(&[
        ("owner_id", op1.as_str()),
        ("username", "mine"),
        ("password", "mine-pass"),
        ("name", "Mine"),
        ("package_id", op2_home.as_str()),
    ]);
    let reply = operator.submit(new, new, &wrong).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.has("The owner may not use this package."),
        "{}",
        reply.body
    );
    let op1_home = f.op1_home.to_string();
    let right = customer_form(&[
        ("owner_id", op1.as_str()),
        ("username", "mine"),
        ("password", "mine-pass"),
        ("name", "Mine"),
        ("package_id", op1_home.as_str()),
    ]);
    let reply = operator.submit(new, new, &right).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let mine = stored_customer(&app, reply.created_id()).await;
    assert_eq!(
        (mine.operator_id, mine.package_id),
        (Some(f.op1), f.op1_home)
    );
    let list = operator.get("/panel/customers").await;
    assert_eq!(list.rows("customer").len(), 2);
}

/// The audit log as an operator reads it: the time in the tenant's zone, who acted and on
/// which record by name with links to their pages, and the field the change made marked.
async fn the_audit_log_names_who_changed_what_and_when_in_the_tenants_time(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let f = fixture(&app, &dev, tenant).await;
    let id = customer(
        &app,
        &dev,
        tenant,
        json!({"package_id": f.home, "connection_type": "pppoe",
        "name": "Rahim Uddin", "username": "rahim", "password": "first-pass"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let reply = act(&mut admin, id, "suspend", &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);

    let audit = admin.get("/panel/audit?action=customer.suspend").await;
    assert_eq!(audit.status, StatusCode::OK);
    let (_, me) = app
        .get(
            "/api/v1/me",
            &app.login("admin@dhaka.example", support::PASSWORD).await,
        )
        .await;
    assert!(
        audit.has(&format!(
            "<a href=\"/panel/users/{}\">admin@dhaka.example</a>",
            me["id"]
        )),
        "the actor by name, linked: {}",
        audit.body
    );
    assert!(
        audit.has(&format!(
            "<a href=\"/panel/customers/{id}\">customer Rahim Uddin</a>"
        )),
        "the record by name, linked: {}",
        audit.body
    );
    assert!(audit.has(" +06</td>"), "Dhaka's time: {}", audit.body);
    assert!(
        audit.has("<tr class=\"changed\"><th>status</th><td>active</td><td><mark>suspended</mark></td></tr>"),
        "the change marked: {}",
        audit.body
    );
    assert!(!audit.has("first-pass"), "no password in the log");
}

both_backends!(
    the_action_buttons_change_the_customer_and_its_radius_rows,
    an_operator_sees_and_acts_on_its_own_customers_only,
    the_audit_log_names_who_changed_what_and_when_in_the_tenants_time,
);
