//! What each staff role may do in the web panel, over HTTP: an Accountant creates no tenants
//! and sees only itself, a Super Admin runs the tenants it created and no others, a Manager
//! manages users within its permissions. Each test reads the database as well as the pages;
//! `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::panel::{TENANT_FORM, Visitor, staff_of, stored_user};
use support::{Backend, PASSWORD, spawn};

async fn an_accountant_may_not_create_tenants_and_sees_only_itself(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let tenant = app.tenant(&token, "Dhaka Net").await;
    let in_tenant = |email: &str, role: &str| staff_of(tenant, email, role);
    let operator = app
        .user(&token, in_tenant("op1@dhaka.example", "operator"))
        .await;
    let other = app
        .user(&token, in_tenant("op2@dhaka.example", "operator"))
        .await;
    let mut body = in_tenant("sub@dhaka.example", "sub_operator");
    body["parent_id"] = json!(operator);
    app.user(&token, body).await;
    app.user(&token, in_tenant("books@dhaka.example", "accountant"))
        .await;

    let mut accountant = Visitor::signed_in(&app, "books@dhaka.example").await;
    let dashboard = accountant.get("/panel").await;
    assert!(!dashboard.has("href=\"/panel/users\""), "no users section");
    let reply = accountant.get("/panel/tenants/new").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.has("You may not do this."));
    let csrf = dashboard.input("_csrf").unwrap();
    let mut fields = TENANT_FORM.to_vec();
    fields.push(("_csrf", &csrf));
    let reply = accountant.post("/panel/tenants/new", &fields).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("tenant").await, 1);
    let list = accountant.get("/panel/tenants").await;
    assert!(
        !list.has("href=\"/panel/tenants/new\""),
        "no button it may not use"
    );
    assert_eq!(
        accountant.get("/panel/users/new").await.status,
        StatusCode::FORBIDDEN
    );
    let users = accountant.get("/panel/users").await;
    assert!(users.has("books@dhaka.example"));
    assert!(!users.has("op1@dhaka.example") && !users.has("dev@example.com"));
    let reply = accountant.get(&format!("/panel/users/{operator}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let audit = accountant.get("/panel/audit").await;
    assert!(!audit.has("op1@dhaka.example"), "only its own actions");

    // An operator sees its sub-operator, not the other operator, and may not edit itself
    // into something else.
    let mut op = Visitor::signed_in(&app, "op1@dhaka.example").await;
    let users = op.get("/panel/users").await;
    assert!(users.has("sub@dhaka.example"));
    assert!(!users.has("op2@dhaka.example"));
    assert_eq!(
        op.get(&format!("/panel/users/{other}")).await.status,
        StatusCode::NOT_FOUND
    );
    let form = op.get("/panel/users/new").await;
    assert!(form.has("value=\"sub_operator\"") && form.has("value=\"card_distributor\""));
    assert!(!form.has("value=\"operator\"") && !form.has("value=\"admin\""));
    let csrf = form.input("_csrf").unwrap();
    let staff = app.count("staff_user").await;
    let reply = op
        .post(
            "/panel/users/new",
            &[
                ("_csrf", &csrf),
                ("role", "admin"),
                ("name", "Sneaky"),
                ("email", "sneaky@dhaka.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("staff_user").await, staff);
}

async fn a_super_admin_runs_the_tenants_it_creates_and_no_others(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let foreign = app.tenant(&token, "Chittagong Net").await;
    app.user(
        &token,
        json!({"email": "super@example.com", "name": "Super", "role": "super_admin"}),
    )
    .await;
    let mut browser = Visitor::signed_in(&app, "super@example.com").await;

    let reply = browser
        .submit("/panel/tenants/new", "/panel/tenants/new", TENANT_FORM)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let own = reply.created_id();
    let list = browser.get("/panel/tenants").await;
    assert!(list.has("Dhaka Net") && !list.has("Chittagong Net"));
    let reply = browser.get(&format!("/panel/tenants/{foreign}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Its new-user form offers its own tenant only, and roles from Admin down.
    let form = browser.get("/panel/users/new").await;
    assert!(
        form.has(&format!("<option value=\"{own}\"")),
        "{}",
        form.body
    );
    assert!(!form.has(&format!("<option value=\"{foreign}\"")));
    assert!(form.has("value=\"admin\"") && form.has("value=\"card_distributor\""));
    assert!(!form.has("value=\"super_admin\""));
    let own_text = own.to_string();
    let reply = browser
        .submit(
            "/panel/users/new",
            "/panel/users/new",
            &[
                ("role", "admin"),
                ("tenant_id", &own_text),
                ("name", "Owner"),
                ("email", "owner@dhaka.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        stored_user(&app, reply.created_id()).await.tenant_id,
        Some(own)
    );
    // Naming the other tenant finds nothing there.
    let foreign_text = foreign.to_string();
    let reply = browser
        .submit(
            "/panel/users/new",
            "/panel/users/new",
            &[
                ("role", "admin"),
                ("tenant_id", &foreign_text),
                ("name", "Intruder"),
                ("email", "intruder@ctg.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Not found."), "{}", reply.body);
    assert_eq!(app.count("staff_user").await, 3);
}

async fn a_manager_manages_users_within_its_permissions(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let tenant = app.tenant(&token, "Dhaka Net").await;
    app.user(
        &token,
        json!({"email": "manager@dhaka.example", "name": "Manager", "role": "manager",
               "tenant_id": tenant, "permissions": ["view_users", "manage_users"]}),
    )
    .await;
    app.user(&token, staff_of(tenant, "op1@dhaka.example", "operator"))
        .await;
    let mut manager = Visitor::signed_in(&app, "manager@dhaka.example").await;

    let users = manager.get("/panel/users").await;
    assert!(users.has("op1@dhaka.example"), "it sees its tenant's users");
    let form = manager.get("/panel/users/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.has("value=\"accountant\"") && form.has("value=\"staff\""));
    assert!(!form.has("value=\"operator\"") && !form.has("value=\"manager\""));
    assert!(form.has("value=\"view_users\"") && !form.has("value=\"manage_network\""));

    let staff = [
        ("role", "staff"),
        ("name", "Helper"),
        ("email", "helper@dhaka.example"),
        ("password", PASSWORD),
        ("permissions", "view_users"),
    ];
    let reply = manager
        .submit("/panel/users/new", "/panel/users/new", &staff)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let helper = stored_user(&app, reply.created_id()).await;
    assert_eq!((helper.role, helper.tenant_id), (80, Some(tenant)));

    // It grants nothing it does not hold, and creates nobody at or above its level.
    let count = app.count("staff_user").await;
    let mut granting = staff.to_vec();
    granting[2] = ("email", "helper2@dhaka.example");
    granting[4] = ("permissions", "manage_network");
    let reply = manager
        .submit("/panel/users/new", "/panel/users/new", &granting)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let mut peer = staff.to_vec();
    peer[0] = ("role", "manager");
    peer[2] = ("email", "peer@dhaka.example");
    let reply = manager
        .submit("/panel/users/new", "/panel/users/new", &peer)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("staff_user").await, count);
    // The operator is above it: its page cannot be changed.
    let list = manager.get("/panel/users?role=operator").await;
    let table = list.body.find("id=\"user-list\"").expect("a list");
    let start = table + list.body[table..].find("href=\"").unwrap() + "href=\"".len();
    let end = list.body[start..].find('"').unwrap();
    let page = list.body[start..start + end].to_owned();
    let form = manager.get(&page).await;
    assert!(form.has("<fieldset disabled>"), "{}", form.body);
    let reply = manager
        .submit(
            &page,
            &page,
            &[
                ("role", "operator"),
                ("name", "Renamed"),
                ("email", "op1@dhaka.example"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

both_backends!(
    an_accountant_may_not_create_tenants_and_sees_only_itself,
    a_super_admin_runs_the_tenants_it_creates_and_no_others,
    a_manager_manages_users_within_its_permissions,
);
