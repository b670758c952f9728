//! Tenants and users through the API: creation, reading, changes guarded by versions,
//! idempotent POSTs, bad input answered with clear errors and no partial write, and a
//! stored row the API cannot describe (a role level outside the role set) answered as an
//! internal error rather than as something else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Backend, spawn};

fn tenant_body() -> Value {
    json!({"name": "Dhaka Net", "country": "bd", "currency": "bdt", "time_zone": "Asia/Dhaka"})
}

async fn a_tenant_is_created_read_changed_and_archived(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let (status, headers, created) = app
        .call_full(
            Method::POST,
            "/api/v1/tenants",
            Some(&dev),
            Some(tenant_body()),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (created["country"].as_str(), created["currency"].as_str()),
        (Some("BD"), Some("BDT"))
    );
    assert_eq!(headers["etag"], "\"1\"");
    let id = created["id"].as_i64().unwrap();

    let (status, read) = app.get(&format!("/api/v1/tenants/{id}"), &dev).await;
    assert_eq!((status, &read), (StatusCode::OK, &created));

    let (status, changed) = app
        .call_full(
            Method::PATCH,
            &format!("/api/v1/tenants/{id}"),
            Some(&dev),
            Some(json!({"name": "Dhaka Net Ltd"})),
            &[("if-match", "\"1\"")],
        )
        .await
        .into_tuple();
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["name"].as_str(), changed["version"].as_i64()),
        (Some("Dhaka Net Ltd"), Some(2))
    );

    let (status, archived) = app.delete(&format!("/api/v1/tenants/{id}"), &dev).await;
    assert_eq!(
        (status, archived["status"].as_str()),
        (StatusCode::OK, Some("archived"))
    );
    // Archived, not gone: still readable, no longer listed by default.
    let (status, _) = app.get(&format!("/api/v1/tenants/{id}"), &dev).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.get("/api/v1/tenants", &dev).await;
    assert_eq!(list["total"], 0);
    let (_, list) = app.get("/api/v1/tenants?status=archived", &dev).await;
    assert_eq!(list["total"], 1);
    // The audit log holds every step with the state before and after.
    let (_, audit) = app
        .get(
            &format!("/api/v1/audit?entity=tenant&entity_id={id}&sort=id"),
            &dev,
        )
        .await;
    let actions: Vec<_> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["tenant.create", "tenant.update", "tenant.archive"]
    );
    let update = &audit["items"][1];
    assert_eq!(
        (
            update["before"]["name"].as_str(),
            update["after"]["name"].as_str()
        ),
        (Some("Dhaka Net"), Some("Dhaka Net Ltd"))
    );
    assert_eq!(update["actor_label"], "dev@example.com");
}

trait IntoTuple {
    fn into_tuple(self) -> (StatusCode, Value);
}

impl IntoTuple for (StatusCode, reqwest::header::HeaderMap, Value) {
    fn into_tuple(self) -> (StatusCode, Value) {
        (self.0, self.2)
    }
}

async fn a_stale_version_gets_412_and_a_missing_one_428(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let id = app.tenant(&dev, "Chittagong Fiber").await;
    let path = format!("/api/v1/tenants/{id}");
    let (status, _) = app
        .patch(&path, &dev, json!({"name": "A", "version": 1}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .patch(&path, &dev, json!({"name": "B", "version": 1}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::PRECONDITION_FAILED, Some("version_mismatch"))
    );
    let (status, body) = app.patch(&path, &dev, json!({"name": "B"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::PRECONDITION_REQUIRED, Some("version_required"))
    );
    let (_, read) = app.get(&path, &dev).await;
    assert_eq!(read["name"], "A", "refused changes wrote nothing");
}

async fn an_idempotency_key_replays_the_first_answer(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let key = [("idempotency-key", "create-dhaka-1")];
    let (first_status, _, first) = app
        .call_full(
            Method::POST,
            "/api/v1/tenants",
            Some(&dev),
            Some(tenant_body()),
            &key,
        )
        .await;
    assert_eq!(first_status, StatusCode::CREATED);
    let (again_status, headers, again) = app
        .call_full(
            Method::POST,
            "/api/v1/tenants",
            Some(&dev),
            Some(tenant_body()),
            &key,
        )
        .await;
    assert_eq!((again_status, &again), (StatusCode::CREATED, &first));
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(app.count("tenant").await, 1, "the handler ran once");
    let mut other = tenant_body();
    other["name"] = json!("Another ISP");
    let (status, _, body) = app
        .call_full(
            Method::POST,
            "/api/v1/tenants",
            Some(&dev),
            Some(other),
            &key,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("idempotency_key_reused"))
    );
    assert_eq!(app.count("tenant").await, 1);
}

async fn bad_input_gets_field_errors_and_writes_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let audit_before = app.count("audit_log").await;
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"name": "X", "country": "XX", "currency": "BDT", "time_zone": "Asia/Dhaka"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "country",
        ),
        (
            json!({"name": "X", "country": "BD", "currency": "XYZ", "time_zone": "Asia/Dhaka"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "currency",
        ),
        (
            json!({"name": "X", "country": "BD", "currency": "BDT", "time_zone": "Asia/Nowhere"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "time_zone",
        ),
        (
            json!({"name": "x".repeat(121), "country": "BD", "currency": "BDT", "time_zone": "UTC"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            json!({"name": "", "country": "BD", "currency": "BDT", "time_zone": "UTC"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            json!({"name": "X", "country": "BD", "currency": "BDT", "time_zone": "UTC", "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "extra",
        ),
        (
            json!({"name": 7, "country": "BD", "currency": "BDT", "time_zone": "UTC"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            json!({"country": "BD", "currency": "BDT", "time_zone": "UTC"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
    ];
    for (body, status, field) in cases {
        let (got, answer) = app.post("/api/v1/tenants", &dev, body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        let fields: Vec<_> = answer["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body} → {answer}");
        assert!(
            answer["error"]["fields"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // Every field of a wholly wrong tenant is reported at once.
    let (_, answer) = app
        .post(
            "/api/v1/tenants",
            &dev,
            json!({"name": "", "country": "?", "currency": "?", "time_zone": "?"}),
        )
        .await;
    assert_eq!(answer["error"]["fields"].as_array().unwrap().len(), 4);

    let malformed = app
        .http
        .post(format!("{}/api/v1/tenants", app.base))
        .bearer_auth(&dev)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");
    let not_json = app
        .http
        .post(format!("{}/api/v1/tenants", app.base))
        .bearer_auth(&dev)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let huge = app
        .http
        .post(format!("{}/api/v1/tenants", app.base))
        .bearer_auth(&dev)
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert!(huge.status().is_client_error(), "{}", huge.status());

    assert_eq!(app.count("tenant").await, 0);
    assert_eq!(
        app.count("audit_log").await,
        audit_before,
        "no change, no audit entry"
    );
}

async fn a_taken_email_is_a_field_error_whatever_its_case(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Sylhet Online").await;
    app.user(
        &dev,
        json!({"email": "ops@sylhet.example", "name": "Ops", "role": "admin", "tenant_id": tenant}),
    )
    .await;
    let (status, body) = app
        .post(
            "/api/v1/users",
            &dev,
            json!({"email": "OPS@Sylhet.Example", "password": support::PASSWORD, "name": "Other", "role": "operator", "tenant_id": tenant}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        (
            body["error"]["fields"][0]["field"].as_str(),
            body["error"]["fields"][0]["code"].as_str()
        ),
        (Some("email"), Some("taken"))
    );
    let (_, users) = app.get("/api/v1/users?role=operator", &dev).await;
    assert_eq!(users["total"], 0);
}

async fn users_need_a_tenant_below_super_admin_and_none_above(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Khulna Link").await;
    let base = |role: &str| json!({"email": format!("{role}@khulna.example"), "password": support::PASSWORD, "name": role, "role": role});
    let (status, body) = app.post("/api/v1/users", &dev, base("admin")).await;
    assert_eq!(
        (status, body["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("required"))
    );
    let mut with_tenant = base("super_admin");
    with_tenant["tenant_id"] = json!(tenant);
    let (status, body) = app.post("/api/v1/users", &dev, with_tenant).await;
    assert_eq!(
        (status, body["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("must_be_absent"))
    );
    let (status, body) = app.post("/api/v1/users", &dev, base("super_admin")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["tenant_id"], Value::Null);
    let (status, body) = app.post("/api/v1/users", &dev, base("customer")).await;
    assert_eq!(
        (status, body["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_staff_role"))
    );
    let (status, _) = app.post("/api/v1/users", &dev, base("developer")).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "developers come from the command line"
    );
}

async fn deleting_an_operator_moves_its_children_and_ends_its_sign_ins(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Rajshahi Net").await;
    let op1 = app.user(&dev, json!({"email": "op1@r.example", "name": "Op 1", "role": "operator", "tenant_id": tenant})).await;
    let op2 = app.user(&dev, json!({"email": "op2@r.example", "name": "Op 2", "role": "operator", "tenant_id": tenant})).await;
    let sub = app.user(&dev, json!({"email": "sub@r.example", "name": "Sub", "role": "sub_operator", "tenant_id": tenant, "parent_id": op1})).await;
    let op1_token = app.login("op1@r.example", support::PASSWORD).await;

    // Without a new parent the sub-operator would be orphaned: refused.
    let (status, body) = app.delete(&format!("/api/v1/users/{op1}"), &dev).await;
    assert_eq!(
        (status, body["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reassign_to"))
    );
    let (status, body) = app
        .delete(&format!("/api/v1/users/{op1}?reassign_to={op2}"), &dev)
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("archived"))
    );
    let (_, moved) = app.get(&format!("/api/v1/users/{sub}"), &dev).await;
    assert_eq!(moved["parent_id"], op2);
    let (status, _) = app.get("/api/v1/me", &op1_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "op1@r.example", "password": support::PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The freed e-mail can be used again.
    app.user(&dev, json!({"email": "op1@r.example", "name": "New Op 1", "role": "operator", "tenant_id": tenant})).await;
}

async fn lists_page_by_cursor_and_sort_on_declared_columns(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Barisal Air").await;
    for n in 0..7 {
        app.user(&dev, json!({"email": format!("u{n}@b.example"), "name": format!("User {}", 7 - n), "role": "staff", "tenant_id": tenant})).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?role=staff&sort=-name&limit=3".to_owned();
    loop {
        let (status, page) = app.get(&path, &dev).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"], 7);
        assert_eq!(page["total_capped"], false);
        for item in page["items"].as_array().unwrap() {
            seen.push(item["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/users?role=staff&sort=-name&limit=3&cursor={cursor}")
            }
            None => break,
        }
    }
    let expected: Vec<_> = (1..=7).rev().map(|n| format!("User {n}")).collect();
    assert_eq!(seen, expected);

    let (status, body) = app.get("/api/v1/users?sort=password_hash", &dev).await;
    assert_eq!(
        (status, body["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("sort"))
    );
    let (status, _) = app.get("/api/v1/users?limit=501", &dev).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.get("/api/v1/users?cursor=garbage", &dev).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = app.get("/api/v1/users?colour=blue", &dev).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app.get("/api/v1/users/not-a-number", &dev).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_openapi_document_and_its_offline_ui_are_served(backend: Backend) {
    let app = spawn(backend).await;
    let doc: Value = app
        .http
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/tenants",
        "/api/v1/tenants/{id}",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/audit",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let ui = app
        .http
        .get(format!("{}/api/v1/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), StatusCode::OK);
    let html = ui.text().await.unwrap();
    assert!(
        !html.contains("cdn") && !html.contains("unpkg"),
        "the UI's assets are served by lastmile itself"
    );
    let health = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("lastmile_http_requests_total"),
        "{metrics}"
    );
}

async fn a_user_whose_stored_role_level_is_no_role_is_an_internal_error_not_another_role(
    backend: Backend,
) {
    use sea_orm::ConnectionTrait as _;
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Khulna Fiber").await;
    let odd = app
        .user(&dev, json!({"email": "odd@k.example", "name": "Odd", "role": "operator", "tenant_id": tenant}))
        .await;
    // 95 lies between the Card Distributor (90) and the Customer (100).
    let sql = format!("UPDATE staff_user SET role = 95 WHERE id = {odd}");
    app.state.db.conn().execute_unprepared(&sql).await.unwrap();

    let (status, body) = app.get(&format!("/api/v1/users/{odd}"), &dev).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"]["code"], "internal");
    assert!(!body.to_string().contains("card_distributor"), "{body}");
    let (status, body) = app.get("/api/v1/users", &dev).await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "a list holding the row is refused whole, not shown without it: {body}"
    );
    assert_eq!(body["error"]["code"], "internal");
    // Users whose level is a role are still described.
    let (status, body) = app.get("/api/v1/users?role=developer", &dev).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["role"], "developer");
    let (status, body) = app.get("/api/v1/me", &dev).await;
    assert_eq!(
        (status, body["role"].as_str()),
        (StatusCode::OK, Some("developer"))
    );
}

both_backends!(
    a_tenant_is_created_read_changed_and_archived,
    a_stale_version_gets_412_and_a_missing_one_428,
    an_idempotency_key_replays_the_first_answer,
    bad_input_gets_field_errors_and_writes_nothing,
    a_taken_email_is_a_field_error_whatever_its_case,
    users_need_a_tenant_below_super_admin_and_none_above,
    deleting_an_operator_moves_its_children_and_ends_its_sign_ins,
    lists_page_by_cursor_and_sort_on_declared_columns,
    the_openapi_document_and_its_offline_ui_are_served,
    a_user_whose_stored_role_level_is_no_role_is_an_internal_error_not_another_role,
);
