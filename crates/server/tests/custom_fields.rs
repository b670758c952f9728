//! Custom fields on customers: a tenant's definitions (created, changed, retired, deleted;
//! who may, and that another tenant's are out of sight), values typed at every edge (the
//! API, the panel, the CSV import) with wrong types, oversized text, unknown and missing
//! required fields refused beside the field and nothing written, markup kept as text and
//! escaped on the page, the list's columns and filter, and the CSV export carrying the
//! values with formula cells neutralised.
//!
//! One file past the usual length: the six scenarios share one tenant's definitions
//! (`usual_fields`) and the helpers that define, submit and read refusals beside their
//! field; each edge (API, panel, import, export) is one test of them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::customers::{Isp, create, import, isp};
use support::panel::Visitor;
use support::{Backend, TestApp, spawn};

const SCRIPT: &str = "<script>alert('x')</script>";

/// Defines a field; returns it.
async fn define(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, field) = app.post("/api/v1/custom-fields", token, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body} → {field}");
    field
}

/// The tenant's usual fields: a required text, a number, a date, a choice and a checkbox,
/// the text and the choice shown in the list.
async fn usual_fields(app: &TestApp, isp: &Isp) {
    let t = isp.tenant;
    for body in [
        json!({"tenant_id": t, "key": "landmark", "label": "Landmark", "kind": "text", "required": true, "in_list": true}),
        json!({"tenant_id": t, "key": "deposit", "label": "Deposit", "kind": "number"}),
        json!({"tenant_id": t, "key": "installed_on", "label": "Installed on", "kind": "date"}),
        json!({"tenant_id": t, "key": "link", "label": "Link", "kind": "select", "options": ["Fiber", "Wireless"], "in_list": true}),
        json!({"tenant_id": t, "key": "has_router", "label": "Has our router", "kind": "checkbox"}),
    ] {
        define(app, &isp.dev, body).await;
    }
}

/// Audit entries whose action starts with `prefix`.
async fn audited(app: &TestApp, prefix: &str) -> usize {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    use store::entity::audit_log::{Column, Entity};
    Entity::find()
        .filter(Column::Action.starts_with(prefix))
        .all(app.state.db.conn())
        .await
        .unwrap()
        .len()
}

/// A tenant Admin of the customer ISP, signed in to the panel.
async fn admin_panel<'a>(app: &'a TestApp, isp: &Isp) -> Visitor<'a> {
    app.user(
        &isp.dev,
        json!({"email": "admin@c.example", "name": "Admin", "role": "admin", "tenant_id": isp.tenant}),
    )
    .await;
    Visitor::signed_in(app, "admin@c.example").await
}

fn customer(isp: &Isp, username: &str, fields: Value) -> Value {
    json!({"tenant_id": isp.tenant, "package_id": isp.pppoe, "name": format!("Customer {username}"),
           "username": username, "password": "s3cret!x", "custom_fields": fields})
}

/// The `(field, code)` pairs of an error answer.
fn refused(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_owned(),
                        f["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn definitions_are_the_tenants_and_only_its_settings_holders_define_them(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let field = define(
        &app,
        &isp.dev,
        json!({"tenant_id": isp.tenant, "key": "link", "label": "Link", "kind": "select", "options": ["Fiber", "Wireless"]}),
    )
    .await;
    let id = field["id"].as_i64().unwrap();
    assert_eq!(field["options"], json!(["Fiber", "Wireless"]));
    assert_eq!(app.count("custom_field").await, 1);
    // The key is the tenant's once.
    let (status, again) = app
        .post(
            "/api/v1/custom-fields",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "key": "link", "label": "Again", "kind": "text"}),
        )
        .await;
    assert_eq!(
        (status, refused(&again)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![("key".to_owned(), "taken".to_owned())]
        )
    );
    // An operator reads the definitions (they shape its forms) but may not define them.
    let op = app.login("op@c.example", support::PASSWORD).await;
    let (status, list) = app.get("/api/v1/custom-fields", &op).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"][0]["key"], "link");
    let (status, _) = app
        .post(
            "/api/v1/custom-fields",
            &op,
            json!({"key": "note", "label": "Note", "kind": "text"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .patch(
            &format!("/api/v1/custom-fields/{id}"),
            &op,
            json!({"label": "Mine", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A Manager granted the tenant's settings defines them; one without, not.
    let t = isp.tenant;
    app.user(&isp.dev, json!({"email": "set@c.example", "name": "Settings", "role": "manager", "tenant_id": t, "permissions": ["manage_tenant_settings"]}))
        .await;
    app.user(&isp.dev, json!({"email": "view@c.example", "name": "Viewer", "role": "manager", "tenant_id": t, "permissions": ["view_customers"]}))
        .await;
    let settings = app.login("set@c.example", support::PASSWORD).await;
    let viewer = app.login("view@c.example", support::PASSWORD).await;
    let (status, _) = app
        .post(
            "/api/v1/custom-fields",
            &viewer,
            json!({"key": "note", "label": "Note", "kind": "text"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let note = define(
        &app,
        &settings,
        json!({"key": "note", "label": "Note", "kind": "text"}),
    )
    .await;
    // Another tenant's admin sees none of them: its list is its own, an id is not found.
    let other = app.tenant(&isp.dev, "Other ISP").await;
    app.user(
        &isp.dev,
        json!({"email": "adm@o.example", "name": "Other admin", "role": "admin", "tenant_id": other}),
    )
    .await;
    let stranger = app.login("adm@o.example", support::PASSWORD).await;
    let (_, theirs) = app.get("/api/v1/custom-fields", &stranger).await;
    assert_eq!(theirs["items"], json!([]));
    let (status, _) = app
        .get(&format!("/api/v1/custom-fields/{id}"), &stranger)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .patch(
            &format!("/api/v1/custom-fields/{id}"),
            &stranger,
            json!({"label": "Theirs", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Changed under its version; the key and the kind stay.
    let path = format!("/api/v1/custom-fields/{id}");
    let (status, changed) = app
        .patch(
            &path,
            &isp.dev,
            json!({"label": "Link type", "options": ["Fiber", "Wireless", "Copper"], "in_list": true, "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["version"].as_i64(), changed["in_list"].as_bool()),
        (Some(2), Some(true))
    );
    let (status, _) = app
        .patch(&path, &isp.dev, json!({"label": "Stale", "version": 1}))
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&isp.dev),
            Some(json!({"key": "other", "version": 2})),
        )
        .await;
    assert!(
        status.is_client_error(),
        "the key is not a field of a change: {body}"
    );
    let (_, same) = app.get(&path, &isp.dev).await;
    assert_eq!(same["key"], "link");
    // A field held by a customer is not deleted, nor its options removed: it retires.
    let held = create(
        &app,
        &isp.dev,
        customer(&isp, "held1", json!({"link": "Copper"})),
    )
    .await;
    assert_eq!(held["custom_fields"], json!({"link": "Copper"}));
    let (status, body) = app
        .patch(&path, &isp.dev, json!({"options": ["Fiber"], "version": 2}))
        .await;
    assert_eq!(
        (status, refused(&body)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![("options".to_owned(), "option_in_use".to_owned())]
        )
    );
    let (status, body) = app.delete(&format!("{path}?version=2"), &isp.dev).await;
    assert_eq!(
        (status, refused(&body)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![("id".to_owned(), "in_use".to_owned())]
        )
    );
    let (status, retired) = app
        .patch(&path, &isp.dev, json!({"active": false, "version": 2}))
        .await;
    assert_eq!(
        (status, retired["active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let (_, c) = app
        .get(&format!("/api/v1/customers/{}", held["id"]), &isp.dev)
        .await;
    assert_eq!(
        c["custom_fields"],
        json!({}),
        "a retired field is out of sight"
    );
    assert_eq!(
        app.count("customer_field_value").await,
        1,
        "its value is kept"
    );
    // A field no one holds is deleted, under its version.
    let note_path = format!("/api/v1/custom-fields/{}", note["id"]);
    let (status, _) = app.delete(&format!("{note_path}?version=1"), &viewer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .delete(&format!("{note_path}?version=1"), &settings)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.count("custom_field").await, 1);
    let audited = audited(&app, "custom_field.").await;
    assert!(
        audited >= 5,
        "every definition change is audited: {audited}"
    );
}

async fn values_of_the_wrong_type_oversized_unknown_or_missing_are_refused_and_nothing_is_written(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    usual_fields(&app, &isp).await;
    let customers = app.count("customer").await;
    let audits = app.count("audit_log").await;
    let (status, body) = app
        .post(
            "/api/v1/customers",
            &isp.dev,
            customer(
                &isp,
                "bad1",
                json!({"deposit": "twelve", "installed_on": "31/12/2026", "link": "Copper",
                       "has_router": "maybe", "colour": "red", "landmark": "x".repeat(501)}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut found = refused(&body);
    found.sort();
    assert_eq!(
        found,
        [
            ("custom_fields.colour", "unknown_field"),
            ("custom_fields.deposit", "invalid_decimal"),
            ("custom_fields.has_router", "invalid_boolean"),
            ("custom_fields.installed_on", "invalid_date"),
            ("custom_fields.landmark", "too_long"),
            ("custom_fields.link", "unknown_option"),
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    // JSON of another type is refused too, and a required field must be there.
    let (status, body) = app
        .post(
            "/api/v1/customers",
            &isp.dev,
            customer(
                &isp,
                "bad2",
                json!({"deposit": true, "installed_on": 20261231, "link": ["Fiber"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut found = refused(&body);
    found.sort();
    assert_eq!(
        found,
        [
            ("custom_fields.deposit", "wrong_type"),
            ("custom_fields.installed_on", "wrong_type"),
            ("custom_fields.landmark", "required"),
            ("custom_fields.link", "wrong_type"),
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    assert!(
        body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["message"].as_str().is_some_and(|m| !m.is_empty())),
        "{body}"
    );
    assert_eq!(
        app.count("customer").await,
        customers,
        "nothing was written"
    );
    assert_eq!(app.count("customer_field_value").await, 0);
    assert_eq!(app.count("audit_log").await, audits);
    // Good values are typed on the way out.
    let c = create(
        &app,
        &isp.dev,
        customer(
            &isp,
            "good1",
            json!({"landmark": "Near the mosque", "deposit": "0500.50", "installed_on": "2026-12-31",
                   "link": "wireless", "has_router": true}),
        ),
    )
    .await;
    assert_eq!(
        c["custom_fields"],
        json!({"landmark": "Near the mosque", "deposit": 500.5, "installed_on": "2026-12-31",
               "link": "Wireless", "has_router": true})
    );
    // A change may not clear a required field nor set a wrong value; nothing moves then.
    let id = c["id"].as_i64().unwrap();
    let path = format!("/api/v1/customers/{id}");
    let (status, body) = app
        .patch(
            &path,
            &isp.dev,
            json!({"name": "Renamed", "custom_fields": {"landmark": null, "deposit": 1234567890123456i64}, "version": c["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut found = refused(&body);
    found.sort();
    assert_eq!(
        found,
        [
            ("custom_fields.deposit", "too_many_digits"),
            ("custom_fields.landmark", "required"),
        ]
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
    );
    let (_, unchanged) = app.get(&path, &isp.dev).await;
    assert_eq!(
        (unchanged["name"].as_str(), unchanged["version"].as_i64()),
        (Some("Customer good1"), c["version"].as_i64())
    );
    assert_eq!(unchanged["custom_fields"]["landmark"], "Near the mosque");
    // A change of the custom fields alone is versioned and audited.
    let (status, changed) = app
        .patch(
            &path,
            &isp.dev,
            json!({"custom_fields": {"deposit": null, "has_router": false}, "version": c["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["custom_fields"],
        json!({"landmark": "Near the mosque", "installed_on": "2026-12-31", "link": "Wireless"})
    );
    assert_eq!(
        changed["version"].as_i64(),
        c["version"].as_i64().map(|v| v + 1)
    );
    assert_eq!(audited(&app, "customer.custom_fields").await, 2);
    // Another tenant's customer is not found, its fields neither.
    let other = app.tenant(&isp.dev, "Other ISP").await;
    app.user(
        &isp.dev,
        json!({"email": "adm@o.example", "name": "Other admin", "role": "admin", "tenant_id": other}),
    )
    .await;
    let stranger = app.login("adm@o.example", support::PASSWORD).await;
    let (status, _) = app.get(&path, &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(
            "/api/v1/customers?field=landmark&field_value=near",
            &stranger,
        )
        .await;
    assert_eq!(
        (status, refused(&body)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![("field".to_owned(), "unknown_field".to_owned())]
        )
    );
}

async fn script_in_a_text_field_is_kept_as_text_and_escaped_on_the_panel(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    usual_fields(&app, &isp).await;
    let c = create(
        &app,
        &isp.dev,
        customer(&isp, "xss1", json!({"landmark": SCRIPT, "link": "Fiber"})),
    )
    .await;
    assert_eq!(c["custom_fields"]["landmark"], SCRIPT, "stored as typed");
    let id = c["id"].as_i64().unwrap();
    let mut panel = admin_panel(&app, &isp).await;
    let page = panel.get(&format!("/panel/customers/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.has(SCRIPT), "never raw on the page");
    assert!(page.has("&#60;script&#62;"), "{}", page.body);
    let list = panel
        .get(&format!("/panel/customers?tenant_id={}", isp.tenant))
        .await;
    assert!(
        !list.has(SCRIPT) && list.has("&#60;script&#62;"),
        "{}",
        list.body
    );
    // The panel's edit form checks values as the API does, beside the field.
    let refused_edit = panel
        .submit(
            &format!("/panel/customers/{id}"),
            &format!("/panel/customers/{id}"),
            &[
                ("custom_fields.landmark", ""),
                ("custom_fields.deposit", "12,5"),
            ],
        )
        .await;
    assert_eq!(refused_edit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused_edit.has("YYYY-MM-DD") || refused_edit.has("Not a number"),
        "{}",
        refused_edit.body
    );
    let saved = panel
        .submit(
            &format!("/panel/customers/{id}"),
            &format!("/panel/customers/{id}"),
            &[
                ("custom_fields.deposit", "12.5"),
                ("custom_fields.has_router", "false"),
                ("custom_fields.has_router", "true"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, now) = app.get(&format!("/api/v1/customers/{id}"), &isp.dev).await;
    assert_eq!(
        (
            now["custom_fields"]["deposit"].as_f64(),
            now["custom_fields"]["has_router"].as_bool()
        ),
        (Some(12.5), Some(true))
    );
    // The new-customer form asks for the fields and refuses a required one left empty.
    let form = panel.get("/panel/customers/new").await;
    assert!(form.has("name=\"custom_fields.landmark\""), "{}", form.body);
    let tenant = isp.tenant.to_string();
    let package = isp.pppoe.to_string();
    let fields = support::panel::customer_form(&[
        ("tenant_id", tenant.as_str()),
        ("package_id", package.as_str()),
        ("username", "panel1"),
        ("name", "From the panel"),
        ("custom_fields.link", "Fiber"),
    ]);
    let refused_new = panel
        .submit("/panel/customers/new", "/panel/customers/new", &fields)
        .await;
    assert_eq!(
        refused_new.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused_new.body
    );
    let mut fields = fields;
    fields.push(("custom_fields.landmark", "Blue gate"));
    let made = panel
        .submit("/panel/customers/new", "/panel/customers/new", &fields)
        .await;
    assert!(
        made.status.is_success() || made.status == StatusCode::SEE_OTHER,
        "{}",
        made.body
    );
    let (_, list) = app
        .get(
            &format!(
                "/api/v1/customers?tenant_id={}&field=landmark&field_value=blue",
                isp.tenant
            ),
            &isp.dev,
        )
        .await;
    assert_eq!(list["items"][0]["custom_fields"]["link"], "Fiber", "{list}");
    // The fields' own page, reached from the list.
    let fields_page = panel
        .get(&format!("/panel/customers/fields?tenant_id={}", isp.tenant))
        .await;
    assert_eq!(fields_page.status, StatusCode::OK);
    assert!(
        fields_page.has("data-field=\"landmark\""),
        "{}",
        fields_page.body
    );
}

async fn the_list_shows_and_filters_by_custom_fields_within_its_scope(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    usual_fields(&app, &isp).await;
    for (name, landmark, link, deposit, router) in [
        ("l1", "Near Mosque", "Fiber", "100", true),
        ("l2", "near market", "Wireless", "100.0", false),
        ("l3", "Behind school", "Fiber", "250", false),
    ] {
        create(
            &app,
            &isp.dev,
            customer(
                &isp,
                name,
                json!({"landmark": landmark, "link": link, "deposit": deposit, "has_router": router}),
            ),
        )
        .await;
    }
    let names = |list: &Value| -> Vec<String> {
        let mut names: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["username"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    for (query, expected) in [
        ("field=landmark&field_value=NEAR", vec!["l1", "l2"]),
        ("field=landmark&field_value=near%20mo", vec!["l1"]),
        ("field=link&field_value=fiber", vec!["l1", "l3"]),
        ("field=deposit&field_value=100", vec!["l1", "l2"]),
        ("field=has_router&field_value=true", vec!["l1"]),
        ("field=has_router&field_value=false", vec!["l2", "l3"]),
        ("field=link&field_value=fiber&q=l3", vec!["l3"]),
        ("field=link&field_value=fiber&status=suspended", vec![]),
    ] {
        let (status, list) = app
            .get(
                &format!("/api/v1/customers?tenant_id={}&{query}", isp.tenant),
                &isp.dev,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(names(&list), expected, "{query}");
        assert_eq!(
            list["total"].as_u64(),
            Some(expected.len() as u64),
            "{query}"
        );
    }
    for (query, field, code) in [
        (
            "field=deposit&field_value=abc",
            "field_value",
            "invalid_decimal",
        ),
        (
            "field=link&field_value=Copper",
            "field_value",
            "unknown_option",
        ),
        ("field=nope&field_value=1", "field", "unknown_field"),
    ] {
        let (status, body) = app
            .get(
                &format!("/api/v1/customers?tenant_id={}&{query}", isp.tenant),
                &isp.dev,
            )
            .await;
        assert_eq!(
            (status, refused(&body)),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![(field.to_owned(), code.to_owned())]
            ),
            "{query}"
        );
    }
    // An operator's filter stays inside its own customers.
    let op = app.login("op@c.example", support::PASSWORD).await;
    let (_, mine) = app
        .get("/api/v1/customers?field=link&field_value=fiber", &op)
        .await;
    assert_eq!(mine["items"], json!([]));
    // The panel list: the fields shown in the list are columns, and its filter works.
    let mut panel = Visitor::signed_in(&app, "dev@example.com").await;
    let page = panel
        .get(&format!(
            "/panel/customers?tenant_id={}&field=link&field_value=Fiber",
            isp.tenant
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.has("<th class=\"col-aux custom-field\">Landmark</th>"),
        "{}",
        page.body
    );
    assert!(page.has("Behind school") && page.has("Near Mosque"));
    assert!(!page.has("near market"), "filtered out");
    assert!(
        page.has("/panel/customers/export.csv?"),
        "the export link keeps the filters"
    );
}

async fn the_csv_import_reads_field_columns_row_by_row(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    usual_fields(&app, &isp).await;
    let tenant = format!("tenant_id={}", isp.tenant);
    let csv = format!(
        "username,name,connection_type,package,field:landmark,field:deposit,field:installed_on,field:link,field:has_router\n\
         csv1,One,pppoe,{p},By the river,1500,2026-01-15,Fiber,yes\n\
         csv2,Two,pppoe,{p},,12,2026-01-15,Fiber,no\n\
         csv3,Three,pppoe,{p},Blue gate,1e3,15/01/2026,Copper,maybe\n\
         csv4,Four,pppoe,{p},\"{long}\",,,,\n",
        p = isp.pppoe,
        long = "y".repeat(501)
    );
    let (status, report) = import(&app, &isp.dev, &tenant, csv.into()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(report["created"], 1, "{report}");
    let mut errors: Vec<(i64, String, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    let expected: Vec<(i64, String, String)> = [
        (3, "field:landmark", "required"),
        (4, "field:deposit", "invalid_decimal"),
        (4, "field:has_router", "invalid_boolean"),
        (4, "field:installed_on", "invalid_date"),
        (4, "field:link", "unknown_option"),
        (5, "field:landmark", "too_long"),
    ]
    .into_iter()
    .map(|(l, f, c)| (l, f.to_owned(), c.to_owned()))
    .collect();
    assert_eq!(errors, expected);
    let (_, list) = app.get("/api/v1/customers?q=csv", &isp.dev).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["items"][0]["custom_fields"],
        json!({"landmark": "By the river", "deposit": 1500, "installed_on": "2026-01-15",
               "link": "Fiber", "has_router": true})
    );
    assert_eq!(app.count("customer_field_value").await, 5);
    assert_eq!(audited(&app, "customer.custom_fields").await, 1);
    // A column naming no field of the tenant refuses the file.
    let unknown = format!(
        "username,name,connection_type,package,field:colour\ncsv9,Nine,pppoe,{},red\n",
        isp.pppoe
    );
    let (_, report) = import(&app, &isp.dev, &tenant, unknown.into()).await;
    assert_eq!(report["created"], 0, "{report}");
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["field"] == "field:colour" && e["code"] == "unknown_field"),
        "{report}"
    );
}

async fn the_csv_export_carries_the_values_with_formulas_neutralised(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    usual_fields(&app, &isp).await;
    create(
        &app,
        &isp.dev,
        customer(
            &isp,
            "exp1",
            json!({"landmark": "=HYPERLINK(\"http://evil\",\"x\")", "deposit": "-12.5", "link": "Fiber"}),
        ),
    )
    .await;
    create(
        &app,
        &isp.dev,
        customer(
            &isp,
            "exp2",
            json!({"landmark": "@SUM(A1)", "link": "Wireless"}),
        ),
    )
    .await;
    let response = app
        .http
        .get(format!(
            "{}/api/v1/customers/export.csv?tenant_id={}&field=link&field_value=fiber",
            app.base, isp.tenant
        ))
        .bearer_auth(&isp.dev)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    for column in [
        "username",
        "field:landmark",
        "field:deposit",
        "field:link",
        "field:has_router",
    ] {
        assert!(header.iter().any(|h| h == column), "{column} in {header:?}");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "the list's filter holds: {body}");
    let cell = |name: &str| {
        let at = header.iter().position(|h| h == name).unwrap();
        rows[0][at].to_owned()
    };
    assert_eq!(cell("username"), "exp1");
    assert_eq!(cell("field:landmark"), "'=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(cell("field:deposit"), "-12.5", "a number is no formula");
    assert_eq!(cell("field:link"), "Fiber");
    // Unfiltered, every customer; the panel's link answers the same, scoped the same.
    let mut panel = Visitor::signed_in(&app, "dev@example.com").await;
    let export = panel
        .get(&format!(
            "/panel/customers/export.csv?tenant_id={}",
            isp.tenant
        ))
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.has("'@SUM(A1)") && export.has("exp1"),
        "{}",
        export.body
    );
    let op = app.login("op@c.example", support::PASSWORD).await;
    let theirs = app
        .http
        .get(format!("{}/api/v1/customers/export.csv", app.base))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !theirs.contains("exp1"),
        "an operator exports only its own: {theirs}"
    );
}

both_backends!(
    definitions_are_the_tenants_and_only_its_settings_holders_define_them,
    values_of_the_wrong_type_oversized_unknown_or_missing_are_refused_and_nothing_is_written,
    script_in_a_text_field_is_kept_as_text_and_escaped_on_the_panel,
    the_list_shows_and_filters_by_custom_fields_within_its_scope,
    the_csv_import_reads_field_columns_row_by_row,
    the_csv_export_carries_the_values_with_formulas_neutralised,
);
