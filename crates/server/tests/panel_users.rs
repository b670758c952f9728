//! The web panel's tenant and user forms over HTTP, without a browser: creation at every
//! level, validation with field messages (a refused form keeps what was typed and ticked,
//! never a password), edit, disable and delete with reassignment, and a stored role level
//! outside the role set shown as an error rather than as another role. Each test reads the
//! database as well as the pages; `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::panel::{TENANT_FORM, Visitor, audited, staff_of, stored_user};
use support::{Backend, PASSWORD, spawn};

async fn a_developer_creates_a_tenant_and_staff_at_every_level_through_the_forms(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;

    let reply = browser
        .submit("/panel/tenants/new", "/panel/tenants/new", TENANT_FORM)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let tenant = reply.created_id();
    let page = browser.get(reply.location()).await;
    assert!(page.has("Created."), "the flash message: {}", page.body);
    let list = browser.get("/panel/tenants").await;
    assert!(list.has(&format!("href=\"/panel/tenants/{tenant}\">Dhaka Net</a>")));
    assert!(list.has("Asia/Dhaka") && list.has("BDT"));
    assert_eq!(app.count("tenant").await, 1);
    assert_eq!(audited(&app, "tenant.create").await, 1);

    let tenant_text = tenant.to_string();
    let t = tenant_text.as_str();
    let mut create = async |fields: &[(&str, &str)]| {
        let reply = browser
            .submit("/panel/users/new", "/panel/users/new", fields)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{fields:?}: {}",
            reply.body
        );
        reply.created_id()
    };
    let super_admin = create(&[
        ("role", "super_admin"),
        ("name", "Super"),
        ("email", "super@example.com"),
        ("password", PASSWORD),
    ])
    .await;
    let admin = create(&[
        ("role", "admin"),
        ("tenant_id", t),
        ("name", "Owner"),
        ("email", "owner@dhaka.example"),
        ("password", PASSWORD),
    ])
    .await;
    let operator = create(&[
        ("role", "operator"),
        ("tenant_id", t),
        ("name", "Op One"),
        ("email", "op1@dhaka.example"),
        ("password", PASSWORD),
    ])
    .await;
    let operator_text = operator.to_string();
    let sub_operator = create(&[
        ("role", "sub_operator"),
        ("tenant_id", t),
        ("parent_id", &operator_text),
        ("name", "Sub One"),
        ("email", "sub1@dhaka.example"),
        ("password", PASSWORD),
    ])
    .await;
    let sub_operator_text = sub_operator.to_string();
    let manager = create(&[
        ("role", "manager"),
        ("tenant_id", t),
        ("name", "Manager"),
        ("email", "manager@dhaka.example"),
        ("password", PASSWORD),
        ("permissions", "view_users"),
        ("permissions", "manage_users"),
        ("permissions", "view_audit"),
    ])
    .await;
    let mut others = Vec::new();
    for (role, extra) in [
        ("accountant", None),
        ("sales_manager", None),
        ("staff", Some(("permissions", "view_customers"))),
        (
            "card_distributor",
            Some(("parent_id", sub_operator_text.as_str())),
        ),
    ] {
        let email = format!("{role}@dhaka.example");
        let mut fields = vec![
            ("role", role),
            ("tenant_id", t),
            ("name", role),
            ("email", email.as_str()),
            ("password", PASSWORD),
        ];
        fields.extend(extra);
        others.push((role, create(&fields).await));
    }

    let platform = stored_user(&app, super_admin).await;
    assert_eq!((platform.role, platform.tenant_id), (10, None));
    let owner = stored_user(&app, admin).await;
    assert_eq!((owner.role, owner.tenant_id), (20, Some(tenant)));
    let op = stored_user(&app, operator).await;
    assert_eq!((op.role, op.parent_id), (30, None));
    let sub = stored_user(&app, sub_operator).await;
    assert_eq!((sub.role, sub.tenant_id), (40, Some(tenant)));
    assert_eq!(
        sub.parent_id,
        Some(operator),
        "the sub-operator hangs under its operator"
    );
    let manager = stored_user(&app, manager).await;
    assert_eq!(manager.role, 50);
    let granted: Vec<&str> = store::user::permissions(&manager)
        .iter()
        .map(domain::access::Permission::as_str)
        .collect();
    assert_eq!(granted, ["view_users", "manage_users", "view_audit"]);
    for (role, id) in &others {
        let user = stored_user(&app, *id).await;
        assert_eq!(
            domain::access::Role::from_level(user.role)
                .unwrap()
                .as_str(),
            *role
        );
        assert_eq!(user.tenant_id, Some(tenant));
        assert_eq!(user.status.code(), "active");
    }
    let distributor = stored_user(&app, others[3].1).await;
    assert_eq!(distributor.parent_id, Some(sub_operator));
    // The Developer plus nine.
    assert_eq!(app.count("staff_user").await, 10);
    assert_eq!(
        audited(&app, "user.create").await,
        10,
        "the Developer's own included"
    );

    let list = browser.get("/panel/users").await;
    for email in [
        "super@example.com",
        "owner@dhaka.example",
        "op1@dhaka.example",
        "sub1@dhaka.example",
        "manager@dhaka.example",
        "card_distributor@dhaka.example",
    ] {
        assert!(list.has(email), "{email} is listed");
    }
    assert!(list.has("Sub-Operator") && list.has("Card Distributor"));
    // Each user's tenant is named, not numbered.
    assert!(list.has("<td>Dhaka Net</td>"), "{}", list.body);

    // The audit log shows what the panel did.
    let audit = browser.get("/panel/audit?action=user.create").await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(audit.has("10 in all"), "{}", audit.body);
}

async fn invalid_forms_come_back_with_field_messages_and_write_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let tenant = app.tenant(&token, "Dhaka Net").await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;

    let reply = browser
        .submit(
            "/panel/tenants/new",
            "/panel/tenants/new",
            &[
                ("name", ""),
                ("country", "XX"),
                ("currency", "ZZZ"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "Please correct the fields marked below.",
        "This field is required.",
        "Not an ISO 3166 country code.",
        "Not an ISO 4217 currency code with minor units.",
        "Not an IANA time zone (e.g. Asia/Dhaka).",
    ] {
        assert!(reply.has(message), "{message}: {}", reply.body);
    }
    assert!(reply.has("value=\"Mars/Olympus\""), "what was typed stays");
    assert_eq!(app.count("tenant").await, 1);

    let users = app.count("staff_user").await;
    let created = audited(&app, "user.create").await;
    let reply = browser
        .submit(
            "/panel/users/new",
            "/panel/users/new",
            &[
                ("role", "operator"),
                ("tenant_id", &tenant.to_string()),
                ("name", "Op"),
                ("email", "not an address"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Not a valid e-mail address."), "{}", reply.body);
    assert!(reply.has("At least 10 characters."), "{}", reply.body);
    assert!(reply.has("value=\"not an address\""));
    // A sub-operator needs its operator.
    let reply = browser
        .submit(
            "/panel/users/new",
            "/panel/users/new",
            &[
                ("role", "sub_operator"),
                ("tenant_id", &tenant.to_string()),
                ("name", "Sub"),
                ("email", "sub@dhaka.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("This field is required."), "{}", reply.body);
    // An e-mail in use is named as such.
    let reply = browser
        .submit(
            "/panel/users/new",
            "/panel/users/new",
            &[
                ("role", "admin"),
                ("tenant_id", &tenant.to_string()),
                ("name", "Dev again"),
                ("email", "dev@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Already taken."), "{}", reply.body);
    assert_eq!(app.count("staff_user").await, users);
    assert_eq!(audited(&app, "user.create").await, created);
}

async fn users_are_edited_disabled_and_deleted_through_the_forms(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let tenant = app.tenant(&token, "Dhaka Net").await;
    let in_tenant = |email: &str, role: &str| staff_of(tenant, email, role);
    let first = app
        .user(&token, in_tenant("op1@dhaka.example", "operator"))
        .await;
    let second = app
        .user(&token, in_tenant("op2@dhaka.example", "operator"))
        .await;
    let mut body = in_tenant("sub@dhaka.example", "sub_operator");
    body["parent_id"] = json!(first);
    let sub = app.user(&token, body).await;
    let manager = app
        .user(&token, in_tenant("manager@dhaka.example", "manager"))
        .await;
    let mut operator_session = Visitor::signed_in(&app, "op1@dhaka.example").await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;

    // The sub-operator's form offers the operators of its tenant as its parent.
    let page = format!("/panel/users/{sub}");
    let form = browser.get(&page).await;
    assert!(
        form.has(&format!("<option value=\"{first}\" selected>")),
        "{}",
        form.body
    );
    assert!(form.has(&format!("<option value=\"{second}\">")));
    assert!(!form.has(&format!("<option value=\"{sub}\"")), "not itself");

    // A mistake comes back with its message and changes nothing.
    let first_text = first.to_string();
    let reply = browser
        .submit(
            &page,
            &page,
            &[
                ("role", "sub_operator"),
                ("name", "Sub Renamed"),
                ("email", "no-at-sign"),
                ("parent_id", &first_text),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Not a valid e-mail address."), "{}", reply.body);
    assert_eq!(stored_user(&app, sub).await.version, 1);

    // Rename the sub-operator, keeping its parent.
    let reply = browser
        .submit(
            &page,
            &page,
            &[
                ("role", "sub_operator"),
                ("name", "Sub Renamed"),
                ("email", "sub@dhaka.example"),
                ("parent_id", &first_text),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), page);
    let stored = stored_user(&app, sub).await;
    assert_eq!(stored.name, "Sub Renamed");
    assert_eq!(stored.parent_id, Some(first));
    assert_eq!(stored.version, 2);

    // Grant the manager permissions through its form.
    let page = format!("/panel/users/{manager}");
    let reply = browser
        .submit(
            &page,
            &page,
            &[
                ("role", "manager"),
                ("name", "Manager"),
                ("email", "manager@dhaka.example"),
                ("status", "active"),
                ("permissions", "view_users"),
                ("permissions", "view_audit"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let granted: Vec<&str> = store::user::permissions(&stored_user(&app, manager).await)
        .iter()
        .map(domain::access::Permission::as_str)
        .collect();
    assert_eq!(granted, ["view_users", "view_audit"]);

    // A stale version is not written over.
    let page = format!("/panel/users/{second}");
    let form = browser.get(&page).await;
    let csrf = form.input("_csrf").unwrap();
    let reply = browser
        .post(
            &page,
            &[
                ("_csrf", &csrf),
                ("version", "99"),
                ("role", "operator"),
                ("name", "Lost update"),
                ("email", "op2@dhaka.example"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_ne!(stored_user(&app, second).await.name, "Lost update");

    // Disable the first operator: it can no longer sign in.
    let page = format!("/panel/users/{first}");
    let reply = browser
        .submit(
            &page,
            &page,
            &[
                ("role", "operator"),
                ("name", "op1@dhaka.example"),
                ("email", "op1@dhaka.example"),
                ("status", "disabled"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(stored_user(&app, first).await.status.code(), "disabled");
    assert_eq!(audited(&app, "user.disable").await, 1);
    let mut disabled = Visitor::new(&app);
    let reply = disabled.sign_in("op1@dhaka.example", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.has("This account is disabled."), "{}", reply.body);
    // ...and the session it had ends at its next request.
    let reply = operator_session.get("/panel").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().starts_with("/login"));
    assert!(operator_session.session().is_none());

    // Deleting it without a new operator for its sub-operator is refused...
    let delete = format!("/panel/users/{first}/delete");
    let reply = browser.submit(&page, &delete, &[("reassign_to", "")]).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.has("This field is required."), "{}", reply.body);
    assert_eq!(stored_user(&app, first).await.status.code(), "disabled");
    // ...and with one, the sub-operator moves under it.
    let second_text = second.to_string();
    let reply = browser
        .submit(&page, &delete, &[("reassign_to", &second_text)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/panel/users");
    let deleted = stored_user(&app, first).await;
    assert_eq!(deleted.status.code(), "archived");
    assert!(deleted.archived_at.is_some());
    assert_eq!(stored_user(&app, sub).await.parent_id, Some(second));
    assert_eq!(audited(&app, "user.reassign").await, 1);
    assert_eq!(audited(&app, "user.archive").await, 1);
    let list = browser.get("/panel/users").await;
    assert!(
        !list.has("op1@dhaka.example"),
        "deleted users leave the list"
    );
    let list = browser.get("/panel/users?status=archived").await;
    assert!(list.has("op1@dhaka.example"), "...but can be found");
}

/// The tenants, users and audit lists page as the newer lists do: which rows a page shows of
/// how many, the next page and back.
async fn the_tenant_user_and_audit_lists_go_forward_and_back_a_page(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    for n in 0..55 {
        app.tenant(&token, &format!("Net {n:02}")).await;
    }
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;
    for list in [
        "/panel/tenants?sort=name",
        "/panel/users?sort=email",
        "/panel/audit",
    ] {
        let first = browser.get(list).await;
        assert_eq!(first.status, StatusCode::OK, "{list}");
        if list.contains("users") {
            // One user: a single page, no links.
            assert_eq!(first.next_link(), None, "{list}");
            continue;
        }
        let range = first.text_of("list-range").unwrap_or_default();
        assert!(range.starts_with("1–50 of "), "{list}: {range}");
        assert_eq!(first.link_with_rel("prev"), None, "{list}");
        let next = first.next_link().expect("a next page");
        let second = browser.get(&next).await;
        let range = second.text_of("list-range").unwrap_or_default();
        assert!(range.starts_with("51–"), "{list}: {range}");
        let back = second.link_with_rel("prev").expect("a previous page");
        let again = browser.get(&back).await;
        assert_eq!(
            again.text_of("list-range"),
            first.text_of("list-range"),
            "{list}"
        );
        assert_eq!(again.rows("tenant"), first.rows("tenant"), "{list}");
    }
}

/// The permission boxes of a user form: `(value, ticked)`.
fn permission_boxes(page: &support::panel::Reply) -> Vec<(String, bool)> {
    page.body
        .split("name=\"permissions\" value=\"")
        .skip(1)
        .map(|rest| {
            let (value, after) = rest.split_once('"').unwrap();
            let tag_end = after.find('>').unwrap();
            (value.to_owned(), after[..tag_end].contains("checked"))
        })
        .collect()
}

fn ticked(page: &support::panel::Reply) -> Vec<String> {
    permission_boxes(page)
        .into_iter()
        .filter_map(|(value, ticked)| ticked.then_some(value))
        .collect()
}

async fn a_refused_user_form_keeps_the_ticked_permissions_and_not_the_password(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let tenant = app.tenant(&token, "Dhaka Net").await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;
    let typed_password = "a fresh password 2024";

    let users = app.count("staff_user").await;
    let tenant_text = tenant.to_string();
    let reply = browser
        .submit(
            "/panel/users/new",
            "/panel/users/new",
            &[
                ("role", "manager"),
                ("tenant_id", &tenant_text),
                ("name", "Manager"),
                ("email", "not an address"),
                ("password", typed_password),
                ("permissions", "view_users"),
                ("permissions", "view_audit"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Not a valid e-mail address."), "{}", reply.body);
    assert!(permission_boxes(&reply).len() > 2, "{}", reply.body);
    assert_eq!(ticked(&reply), ["view_users", "view_audit"]);
    assert!(
        reply.has("<option value=\"manager\" selected>"),
        "{}",
        reply.body
    );
    assert!(reply.has(&format!("<option value=\"{tenant}\" selected>")));
    assert!(!reply.has(typed_password), "the password is not sent back");
    assert_eq!(app.count("staff_user").await, users);

    let mut body = staff_of(tenant, "manager@dhaka.example", "manager");
    body["permissions"] = json!(["view_users"]);
    let manager = app.user(&token, body).await;
    let page = format!("/panel/users/{manager}");
    assert_eq!(ticked(&browser.get(&page).await), ["view_users"]);
    let reply = browser
        .submit(
            &page,
            &page,
            &[
                ("role", "manager"),
                ("name", "Manager"),
                ("email", "no-at-sign"),
                ("password", typed_password),
                ("status", "disabled"),
                ("permissions", "manage_users"),
                ("permissions", "view_audit"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Not a valid e-mail address."), "{}", reply.body);
    assert_eq!(ticked(&reply), ["manage_users", "view_audit"]);
    assert!(reply.has("value=\"no-at-sign\""));
    assert!(
        reply.has("<option value=\"disabled\" selected>"),
        "{}",
        reply.body
    );
    assert!(!reply.has(typed_password), "the password is not sent back");
    let stored = stored_user(&app, manager).await;
    assert_eq!(stored.version, 1);
    let granted: Vec<&str> = store::user::permissions(&stored)
        .iter()
        .map(domain::access::Permission::as_str)
        .collect();
    assert_eq!(granted, ["view_users"]);
}

async fn a_user_whose_stored_role_level_is_no_role_is_an_error_page_not_another_role(
    backend: Backend,
) {
    use sea_orm::ConnectionTrait as _;
    let app = spawn(backend).await;
    let token = app.developer().await;
    let tenant = app.tenant(&token, "Dhaka Net").await;
    let odd = app
        .user(&token, staff_of(tenant, "odd@dhaka.example", "operator"))
        .await;
    let sql = format!("UPDATE staff_user SET role = 95 WHERE id = {odd}");
    app.state.db.conn().execute_unprepared(&sql).await.unwrap();
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;

    for page in ["/panel/users".to_owned(), format!("/panel/users/{odd}")] {
        let reply = browser.get(&page).await;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{page}: {}",
            reply.body
        );
        assert!(!reply.has("Card Distributor"), "{page}: {}", reply.body);
    }
}

both_backends!(
    a_developer_creates_a_tenant_and_staff_at_every_level_through_the_forms,
    invalid_forms_come_back_with_field_messages_and_write_nothing,
    users_are_edited_disabled_and_deleted_through_the_forms,
    the_tenant_user_and_audit_lists_go_forward_and_back_a_page,
    a_refused_user_form_keeps_the_ticked_permissions_and_not_the_password,
    a_user_whose_stored_role_level_is_no_role_is_an_error_page_not_another_role,
);
