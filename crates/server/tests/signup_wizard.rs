//! The sign-up wizard in the web panel over HTTP, without a browser: each step refuses bad
//! input beside its fields and keeps the draft as it was; a draft is listed, resumed after
//! signing out and in again, out of reach of another tenant's staff and of another
//! operator, and expires (not found at once, deleted by the hourly housekeeping);
//! activation creates exactly one customer with its FreeRADIUS rows, custom fields and
//! first recharge (journal, grant, receipt) or first bill (an invoice), and a second submit
//! creates nothing more; a role that may not create customers is refused. Each test reads
//! the database as well as the pages; `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::TimeDelta;
use reqwest::StatusCode;
use sea_orm::EntityTrait as _;
use serde_json::json;
use support::panel::{
    Fixture, Isp, Visitor, attribute, audited, customer, fixture, isp, password_on, radius_rows,
    staff_of, stored_customer,
};
use support::{Backend, PASSWORD, TestApp, spawn};

/// The stored draft, read without any scope.
async fn stored_draft(app: &TestApp, id: i64) -> Option<store::signup::Draft> {
    store::entity::signup_draft::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
}

/// The draft id in a redirect to `/panel/signups/{id}/{step}`.
fn draft_of(location: &str) -> i64 {
    location
        .trim_start_matches("/panel/signups/")
        .split('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a redirect to a draft's step, got {location:?}"))
}

/// Posts a step's form, opened first for its token.
async fn step(
    v: &mut Visitor<'_>,
    id: i64,
    step: &str,
    fields: &[(&str, &str)],
) -> support::panel::Reply {
    let at = format!("/panel/signups/{id}/{step}");
    v.submit(&at, &at, fields).await
}

/// The first step, accepted: returns the new draft.
async fn started(v: &mut Visitor<'_>, fields: &[(&str, &str)]) -> i64 {
    let reply = v
        .submit("/panel/signups/new", "/panel/signups/new", fields)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(
        reply.location().ends_with("/package"),
        "{}",
        reply.location()
    );
    draft_of(reply.location())
}

const RAHIM: &[(&str, &str)] = &[
    ("name", "Rahim Uddin"),
    ("mobile", "01712345678"),
    ("email", "rahim@example.com"),
    ("connection_type", "pppoe"),
    ("owner_id", ""),
    ("username", "rahim"),
    ("password", "rahim-pw-1"),
];

/// A custom field every customer of `tenant` must have, and a number field.
async fn custom_fields(app: &TestApp, dev: &str, tenant: i64) {
    for body in [
        json!({"tenant_id": tenant, "key": "landmark", "label": "Landmark", "kind": "text", "required": true}),
        json!({"tenant_id": tenant, "key": "deposit", "label": "Deposit", "kind": "number"}),
    ] {
        let (status, reply) = app.post("/api/v1/custom-fields", dev, body).await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
    }
}

/// Takes a started draft through the package, address and payment steps.
async fn through_to_review(v: &mut Visitor<'_>, f: &Fixture, id: i64, payment: &str) {
    let home = f.home.to_string();
    let reply = step(v, id, "package", &[("package_id", &home)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let (zone, router) = (f.north.to_string(), f.router.to_string());
    let reply = step(
        v,
        id,
        "address",
        &[
            ("address", "House 4, Road 2, Mirpur"),
            ("zone_id", &zone),
            ("router_id", &router),
            ("ip_pool_id", ""),
            ("static_ip", ""),
            ("mac", ""),
            ("simultaneous_use", "1"),
            ("comment", ""),
            ("custom_fields.landmark", "Near the mosque"),
            ("custom_fields.deposit", "500"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let reply = step(
        v,
        id,
        "payment",
        &[("billing_type", "prepaid"), ("payment", payment)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), format!("/panel/signups/{id}/review"));
}

async fn each_step_refuses_bad_input_and_keeps_the_draft(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let f = fixture(&app, &dev, tenant).await;
    customer(
        &app,
        &dev,
        tenant,
        json!({"package_id": f.home, "name": "Karim", "username": "karim", "mobile": "01811111111"}),
    )
    .await;
    custom_fields(&app, &dev, tenant).await;

    // Step 1: a missing name, a bad mobile, no connection type; nothing is kept.
    let reply = admin
        .submit(
            "/panel/signups/new",
            "/panel/signups/new",
            &[
                ("name", ""),
                ("mobile", "12"),
                ("connection_type", ""),
                ("username", "x y"),
            ],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.has("This field is required."), "{}", reply.body);
    assert_eq!(app.count("signup_draft").await, 0);
    // A user name and a mobile another customer holds.
    let reply = admin
        .submit(
            "/panel/signups/new",
            "/panel/signups/new",
            &[
                ("name", "Someone"),
                ("connection_type", "pppoe"),
                ("username", "Karim"),
            ],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.has("Already taken."), "{}", reply.body);
    assert_eq!(app.count("signup_draft").await, 0);
    let id = started(&mut admin, RAHIM).await;
    let draft = stored_draft(&app, id).await.unwrap();
    assert_eq!(draft.step, "package");
    let sealed = draft.secret.clone().expect("the password is kept");
    assert!(!sealed.contains("rahim-pw-1"), "sealed, never in clear");
    assert!(!draft.values.contains("rahim-pw-1"));

    // Step 2: a hotspot package for a PPPoE customer, then an operator's package the
    // tenant's own customer may not take.
    let hotspot = f.hotspot.to_string();
    let reply = step(&mut admin, id, "package", &[("package_id", &hotspot)]).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.has("The package is for another connection type."),
        "{}",
        reply.body
    );
    let op1_home = f.op1_home.to_string();
    let reply = step(&mut admin, id, "package", &[("package_id", &op1_home)]).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(
        stored_draft(&app, id).await.unwrap(),
        draft,
        "kept as it was"
    );
    // The step offers only the packages the customer may take.
    let page = admin.get(&format!("/panel/signups/{id}/package")).await;
    assert!(
        page.has("Home 10M") && page.has("Home 30M"),
        "{}",
        page.body
    );
    assert!(
        !page.has("Day pass") && !page.has("Op One Home"),
        "{}",
        page.body
    );
    let home = f.home.to_string();
    let reply = step(&mut admin, id, "package", &[("package_id", &home)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), format!("/panel/signups/{id}/address"));

    // Step 3: the required custom field missing, a number that is not one, a bad MAC.
    let before = stored_draft(&app, id).await.unwrap();
    let reply = step(
        &mut admin,
        id,
        "address",
        &[
            ("address", "Mirpur"),
            ("mac", "not a mac"),
            ("simultaneous_use", "1"),
            ("custom_fields.landmark", ""),
            ("custom_fields.deposit", "12abc"),
        ],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.has("This field is required."), "{}", reply.body);
    assert!(
        reply.has("value=\"12abc\""),
        "what was typed is shown again"
    );
    assert_eq!(stored_draft(&app, id).await.unwrap(), before);

    // Step 4: a payment that is not offered.
    let reply = step(
        &mut admin,
        id,
        "address",
        &[
            ("address", "Mirpur"),
            ("simultaneous_use", "1"),
            ("custom_fields.landmark", "Mosque"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let before = stored_draft(&app, id).await.unwrap();
    assert_eq!(before.step, "payment");
    let reply = step(
        &mut admin,
        id,
        "payment",
        &[("billing_type", "prepaid"), ("payment", "gift")],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let reply = step(
        &mut admin,
        id,
        "payment",
        &[("billing_type", "weekly"), ("payment", "recharge")],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.has("No such billing type."), "{}", reply.body);
    assert_eq!(stored_draft(&app, id).await.unwrap(), before);
    let reply = step(
        &mut admin,
        id,
        "payment",
        &[("billing_type", "prepaid"), ("payment", "recharge")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    // The review shows every answer; the steps link back with theirs.
    let review = admin.get(&format!("/panel/signups/{id}/review")).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    assert!(review.has("Rahim Uddin") && review.has("Home 10M") && review.has("Mosque"));
    let basic = admin.get(&format!("/panel/signups/{id}/basic")).await;
    assert_eq!(basic.input("name").as_deref(), Some("Rahim Uddin"));
    assert_eq!(
        basic.input("password").as_deref(),
        Some(""),
        "never shown again"
    );
    assert_eq!(
        app.count("customer").await,
        1,
        "nothing created before activation"
    );
    assert_eq!(audited(&app, "signup.save").await, 3);
}

async fn a_draft_is_listed_resumed_and_kept_from_others_until_it_expires(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let f = fixture(&app, &dev, tenant).await;
    let id = started(&mut admin, RAHIM).await;

    // Listed, with its step.
    let list = admin.get("/panel/signups").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.rows("draft"), vec![id]);
    assert!(list.has("2/5"), "{}", list.body);
    // The customer list links to the sign-ups.
    assert!(
        admin
            .get("/panel/customers")
            .await
            .has("href=\"/panel/signups\"")
    );

    // Signed out and in again, the draft resumes at the step it reached.
    let out = admin.submit("/panel", "/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let mut admin = Visitor::signed_in(&app, "admin@dhaka.example").await;
    let resume = admin.get(&format!("/panel/signups/{id}")).await;
    assert_eq!(resume.status, StatusCode::SEE_OTHER);
    assert_eq!(resume.location(), format!("/panel/signups/{id}/package"));
    // A step not reached yet sends to the one to fill.
    let ahead = admin.get(&format!("/panel/signups/{id}/review")).await;
    assert_eq!(ahead.location(), format!("/panel/signups/{id}/package"));
    let page = admin.get(&format!("/panel/signups/{id}/package")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has(&format!("href=\"/panel/signups/{id}/basic\"")));

    // Another operator of the tenant, and another tenant's Admin: not found.
    app.user(&dev, staff_of(tenant, "op3@dhaka.example", "operator"))
        .await;
    let other = app.tenant(&dev, "Chittagong Net").await;
    app.user(&dev, staff_of(other, "admin@ctg.example", "admin"))
        .await;
    for email in ["op3@dhaka.example", "admin@ctg.example"] {
        let mut stranger = Visitor::signed_in(&app, email).await;
        let reply = stranger.get(&format!("/panel/signups/{id}/basic")).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{email}");
        let reply = stranger
            .submit(
                "/panel/signups",
                &format!("/panel/signups/{id}/discard"),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{email}");
        let list = stranger.get("/panel/signups").await;
        assert!(list.rows("draft").is_empty(), "{email}");
    }
    // The operator's own draft is its own; the tenant's Admin sees it too.
    let mut op = Visitor::signed_in(&app, "op1@dhaka.example").await;
    let op_draft = started(
        &mut op,
        &[
            ("name", "Op's customer"),
            ("connection_type", "pppoe"),
            ("username", "opc1"),
        ],
    )
    .await;
    let op_package = f.op1_home.to_string();
    let reply = step(&mut op, op_draft, "package", &[("package_id", &op_package)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(op.get("/panel/signups").await.rows("draft"), vec![op_draft]);
    let mut seen = admin.get("/panel/signups").await.rows("draft");
    seen.sort_unstable();
    assert_eq!(seen, vec![id, op_draft]);
    assert_eq!(stored_draft(&app, id).await.unwrap().step, "package");

    // Eight days on: expired, so not found at once; the hourly purge deletes both.
    app.clock().shift(8 * 24 * 3600);
    let mut admin = Visitor::signed_in(&app, "admin@dhaka.example").await;
    let reply = admin.get(&format!("/panel/signups/{id}/package")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(admin.get("/panel/signups").await.rows("draft").is_empty());
    assert_eq!(app.count("signup_draft").await, 2, "until the purge");
    lastmile::jobs::tick(&app.state, false).await;
    support::until(
        "the purge of expired drafts",
        async || app.count("signup_draft").await,
        |n| *n == 0,
    )
    .await;
    assert_eq!(audited(&app, "signup.expire").await, 1);
}

async fn activation_creates_one_customer_with_its_radius_rows_and_first_payment(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let f = fixture(&app, &dev, tenant).await;
    custom_fields(&app, &dev, tenant).await;
    let id = started(&mut admin, RAHIM).await;
    through_to_review(&mut admin, &f, id, "recharge").await;

    let review = format!("/panel/signups/{id}/review");
    let page = admin.get(&review).await;
    let csrf = page.input("_csrf").unwrap();
    let done = admin.post(&review, &[("_csrf", csrf.as_str())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let customer_id = done.created_id();
    assert!(done.location().starts_with("/panel/customers/"));

    // One customer, its FreeRADIUS rows with the password typed at the first step.
    assert_eq!(app.count("customer").await, 1);
    let c = stored_customer(&app, customer_id).await;
    assert_eq!(c.username, "rahim");
    assert_eq!(c.package_id, f.home);
    assert_eq!(c.zone_id, Some(f.north));
    let now = app.clock().now();
    let expires = c.expires_at.expect("a period was bought");
    assert!(
        (expires - (now + TimeDelta::days(30))).num_minutes().abs() < 5,
        "{expires}"
    );
    let rows = radius_rows(&app, customer_id).await;
    assert_eq!(
        attribute(&rows.check, "Cleartext-Password"),
        Some("rahim-pw-1")
    );
    assert_eq!(rows.usernames, vec!["rahim".to_owned()]);
    // Its custom fields, its recharge: a journal, a grant, a receipt for 500 taka.
    assert_eq!(app.count("customer_field_value").await, 2);
    assert_eq!(app.count("ledger_journal").await, 1);
    assert_eq!(app.count("service_grant").await, 1);
    let receipts = store::entity::invoice::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].customer_id, customer_id);
    assert_eq!(receipts[0].total, 50_000);
    assert_eq!(app.count("signup_draft").await, 0);
    assert_eq!(audited(&app, "signup.activate").await, 1);
    assert_eq!(audited(&app, "customer.recharge").await, 1);

    // The same submit again: nothing more is created; the list says why.
    let again = admin.post(&review, &[("_csrf", csrf.as_str())]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(again.location(), "/panel/signups?gone=1");
    assert!(admin.get(again.location()).await.has("id=\"signup-gone\""));
    assert_eq!(app.count("customer").await, 1);
    assert_eq!(app.count("ledger_journal").await, 1);
    assert_eq!(audited(&app, "signup.activate").await, 1);

    // A second sign-up, billed instead, with a password lastmile makes up: an invoice for
    // the first period, the password shown once.
    let id = started(
        &mut admin,
        &[
            ("name", "Selina"),
            ("mobile", "01912345678"),
            ("connection_type", "pppoe"),
            ("username", "selina"),
            ("password", ""),
        ],
    )
    .await;
    assert!(stored_draft(&app, id).await.unwrap().secret.is_none());
    through_to_review(&mut admin, &f, id, "invoice").await;
    let review = format!("/panel/signups/{id}/review");
    let done = admin.submit(&review, &review, &[]).await;
    assert!(done.status.is_success(), "{}: {}", done.status, done.body);
    let password = password_on(&done).expect("the made-up password, once");
    let selina = store::entity::customer::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.username == "selina")
        .unwrap();
    let rows = radius_rows(&app, selina.id).await;
    assert_eq!(
        attribute(&rows.check, "Cleartext-Password"),
        Some(password.as_str())
    );
    let invoices: Vec<_> = store::entity::invoice::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.customer_id == selina.id)
        .collect();
    assert_eq!(invoices.len(), 1, "one first bill");
    assert_eq!(invoices[0].total, 50_000);
    assert_eq!(invoices[0].amount_paid, 0, "owed, not paid");
    assert_eq!(app.count("customer").await, 2);
    assert_eq!(app.count("signup_draft").await, 0);
}

async fn a_role_that_may_not_create_customers_is_refused(backend: Backend) {
    let app = spawn(backend).await;
    let Isp { dev, tenant, .. } = isp(&app).await;
    app.user(&dev, staff_of(tenant, "books@dhaka.example", "accountant"))
        .await;
    let mut books = Visitor::new(&app);
    let reply = books.sign_in("books@dhaka.example", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        books.get("/panel/signups").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        books.get("/panel/signups/new").await.status,
        StatusCode::FORBIDDEN
    );
    let dashboard = books.get("/panel").await;
    let csrf = dashboard.input("_csrf").unwrap_or_default();
    let reply = books
        .post(
            "/panel/signups/new",
            &[
                ("_csrf", csrf.as_str()),
                ("name", "Nobody"),
                ("connection_type", "pppoe"),
                ("username", "nobody"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(app.count("signup_draft").await, 0);
    assert!(
        !books
            .get("/panel/customers")
            .await
            .has("id=\"signups-link\"")
    );
}

both_backends!(
    each_step_refuses_bad_input_and_keeps_the_draft,
    a_draft_is_listed_resumed_and_kept_from_others_until_it_expires,
    activation_creates_one_customer_with_its_radius_rows_and_first_payment,
    a_role_that_may_not_create_customers_is_refused,
);
