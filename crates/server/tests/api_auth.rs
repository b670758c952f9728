//! Signing in and out through the API: tokens, wrong credentials, the throttle, TOTP,
//! disabled accounts and tenants, and the API's refusal of cookies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Backend, PASSWORD, spawn};

async fn a_developer_signs_in_and_out_with_a_bearer_token(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let (status, me) = app.get("/api/v1/me", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "developer");
    assert_eq!(me["tenant_id"], serde_json::Value::Null);

    let (status, _) = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get("/api/v1/me", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    // Sign-in and sign-out are in the audit log.
    let admin = app.login("dev@example.com", PASSWORD).await;
    let (_, audit) = app
        .get("/api/v1/audit?entity=user&action=auth.sign_out", &admin)
        .await;
    assert_eq!(audit["total"], 1, "{audit}");
}

async fn wrong_credentials_get_401_in_the_error_format(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    for (email, password) in [
        ("dev@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
    ] {
        let (status, body) = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "invalid_credentials");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

async fn the_eleventh_wrong_sign_in_in_a_minute_is_refused(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let wrong = json!({"email": "dev@example.com", "password": "not the password"});
    for attempt in 1..=10 {
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(wrong.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let (status, headers, body) = app
        .call_full(Method::POST, "/api/v1/auth/login", None, Some(wrong), &[])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "too_many_attempts");
    assert!(headers.contains_key("retry-after"));
    // Even the right password is refused until the minute has passed.
    let right = json!({"email": "dev@example.com", "password": PASSWORD});
    let (status, _) = app
        .call(Method::POST, "/api/v1/auth/login", None, Some(right))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

async fn an_account_with_totp_needs_its_code_to_sign_in(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let (status, enrolment) = app
        .call(Method::POST, "/api/v1/me/totp", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let secret = totp_secret(enrolment["secret"].as_str().unwrap());
    let now = app.clock().now().timestamp() as u64;

    let (status, body) = app
        .post("/api/v1/me/totp/confirm", &token, json!({"code": "000000"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let code = ops::auth::totp::code_at(&secret, now).unwrap();
    let (status, body) = app
        .post("/api/v1/me/totp/confirm", &token, json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let login = |totp: Option<String>| {
        let mut body = json!({"email": "dev@example.com", "password": PASSWORD});
        if let Some(code) = totp {
            body["totp"] = json!(code);
        }
        app.call(Method::POST, "/api/v1/auth/login", None, Some(body))
    };
    let (status, body) = login(None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_required"))
    );
    let (status, body) = login(Some("123456".into())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_totp"))
    );
    let (status, body) = login(Some(ops::auth::totp::code_at(&secret, now).unwrap())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["totp_enabled"], true);

    // The secret is sealed at rest.
    let stored = store::user::find_self(
        app.state.db.conn(),
        domain::ids::UserId(body["user"]["id"].as_i64().unwrap()),
    )
    .await
    .unwrap()
    .unwrap();
    let sealed = stored.totp_secret.unwrap();
    assert!(sealed.starts_with("enc:v1:"));
    assert!(!sealed.contains(enrolment["secret"].as_str().unwrap()));
}

/// Decodes a base32 TOTP secret.
fn totp_secret(base32: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in base32.bytes().filter(|c| *c != b'=') {
        let value = alphabet.iter().position(|a| *a == c).unwrap() as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

async fn disabled_users_and_users_of_archived_tenants_cannot_sign_in(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Dhaka Net").await;
    let admin = app
        .user(&dev, json!({"email": "admin@dhaka.example", "name": "Admin", "role": "admin", "tenant_id": tenant}))
        .await;
    let operator_token = {
        app.user(&dev, json!({"email": "op@dhaka.example", "name": "Op", "role": "operator", "tenant_id": tenant})).await;
        app.login("op@dhaka.example", PASSWORD).await
    };
    let (_, user) = app.get(&format!("/api/v1/users/{admin}"), &dev).await;
    let (status, body) = app
        .patch(
            &format!("/api/v1/users/{admin}"),
            &dev,
            json!({"status": "disabled", "version": user["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "admin@dhaka.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("account_disabled"))
    );

    let (status, _) = app.delete(&format!("/api/v1/tenants/{tenant}"), &dev).await;
    assert_eq!(status, StatusCode::OK);
    // A token issued before the tenant was archived stops working.
    let (status, _) = app.get("/api/v1/me", &operator_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn the_api_ignores_cookies_and_wants_a_bearer_token(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let (status, _, _) = app
        .call_full(
            Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("cookie", &format!("lastmile_session={token}"))],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = app
        .call_full(
            Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", &format!("Basic {token}"))],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_totp_code_is_accepted_once(backend: Backend) {
    let app = spawn(backend).await;
    let token = app.developer().await;
    let (_, enrolment) = app
        .call(Method::POST, "/api/v1/me/totp", Some(&token), None)
        .await;
    let secret = totp_secret(enrolment["secret"].as_str().unwrap());
    let now = app.clock().now().timestamp() as u64;
    let code = ops::auth::totp::code_at(&secret, now).unwrap();
    let (status, _) = app
        .post("/api/v1/me/totp/confirm", &token, json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The next step's code signs in once; the same code again is refused.
    app.clock().shift(30);
    let code = ops::auth::totp::code_at(&secret, now + 30).unwrap();
    let body = json!({"email": "dev@example.com", "password": PASSWORD, "totp": code});
    let (status, _) = app
        .call(Method::POST, "/api/v1/auth/login", None, Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = app
        .call(Method::POST, "/api/v1/auth/login", None, Some(body))
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_totp"))
    );
}

async fn a_new_password_ends_the_other_sign_ins(backend: Backend) {
    let app = spawn(backend).await;
    let first = app.developer().await;
    let second = app.login("dev@example.com", PASSWORD).await;
    let body = json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"});
    let (status, _) = app.post("/api/v1/me/password", &first, body).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &first).await.0,
        StatusCode::OK,
        "the token that changed it stays"
    );
    assert_eq!(
        app.get("/api/v1/me", &second).await.0,
        StatusCode::UNAUTHORIZED
    );
    // An admin's reset ends every sign-in of the user.
    let tenant = app.tenant(&first, "Bogura Net").await;
    let admin = app
        .user(
            &first,
            json!({"email": "a@bogura.example", "name": "A", "role": "admin", "tenant_id": tenant}),
        )
        .await;
    let admin_token = app.login("a@bogura.example", PASSWORD).await;
    let (_, user) = app.get(&format!("/api/v1/users/{admin}"), &first).await;
    let (status, _) = app
        .patch(
            &format!("/api/v1/users/{admin}"),
            &first,
            json!({"password": "reset by the developer", "version": user["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &admin_token).await.0,
        StatusCode::UNAUTHORIZED
    );
}

both_backends!(
    a_totp_code_is_accepted_once,
    a_new_password_ends_the_other_sign_ins,
    a_developer_signs_in_and_out_with_a_bearer_token,
    wrong_credentials_get_401_in_the_error_format,
    the_eleventh_wrong_sign_in_in_a_minute_is_refused,
    an_account_with_totp_needs_its_code_to_sign_in,
    disabled_users_and_users_of_archived_tenants_cannot_sign_in,
    the_api_ignores_cookies_and_wants_a_bearer_token,
);
