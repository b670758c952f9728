//! The web panel's sessions over HTTP, without a browser: sign-in and its session cookie,
//! rotation and idle expiry, the CSRF defence, TOTP at sign-in, the language switch, the
//! setup link, the secure cookie behind HTTPS, the sign-in throttle and sign-out. Each test
//! reads the database as well as the pages; `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use support::panel::{TENANT_FORM, Visitor, audited, with_token};
use support::{Backend, PASSWORD, spawn};

async fn the_sign_in_form_sets_an_http_only_same_site_session_cookie(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let mut browser = Visitor::new(&app);

    let wrong = browser.sign_in("dev@example.com", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.has("Wrong e-mail or password."), "{}", wrong.body);
    assert!(wrong.set_cookie("lastmile_session").is_none());
    assert_eq!(app.count("session").await, 0);

    let reply = browser.sign_in("dev@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/panel");
    let cookie = reply
        .set_cookie("lastmile_session")
        .expect("a session cookie");
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).skip(1).collect();
    assert!(attributes.contains(&"HttpOnly"), "{cookie}");
    assert!(attributes.contains(&"SameSite=Lax"), "{cookie}");
    assert!(attributes.contains(&"Path=/"), "{cookie}");
    // Plain HTTP: a Secure cookie would never come back.
    assert!(!attributes.contains(&"Secure"), "{cookie}");
    // The cookie is a browser-session cookie, and the database keeps only its hash.
    assert!(
        !attributes.iter().any(|a| a.starts_with("Max-Age")),
        "{cookie}"
    );
    assert_eq!(app.count("session").await, 1);
    let token = browser.session().unwrap();
    let id = ops::auth::token::hash(&token);
    let (stored, holder) = store::auth::find_session(&app.state.db, &id, app.clock().now())
        .await
        .unwrap()
        .expect("the session is stored under the token's hash");
    assert_eq!(stored.stage.code(), "full");
    assert_eq!(holder.user.email, "dev@example.com");
    assert_eq!(audited(&app, "auth.sign_in").await, 2, "API and panel");

    let dashboard = browser.get("/panel").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.has("<h1>Dashboard</h1>"), "{}", dashboard.body);
    let csp = dashboard.headers["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(dashboard.headers["x-frame-options"], "DENY");
    assert_eq!(dashboard.headers["cache-control"], "no-store");

    // Without a session the panel sends the visitor to sign in, and back afterwards.
    let mut stranger = Visitor::new(&app);
    let reply = stranger.get("/panel/tenants").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/login?next=%2Fpanel%2Ftenants");
    let reply = stranger
        .post(
            "/login",
            &[
                ("email", "dev@example.com"),
                ("password", PASSWORD),
                ("next", "/panel/tenants"),
            ],
        )
        .await;
    assert_eq!(reply.location(), "/panel/tenants");
    // ...but never to another site.
    let mut stranger = Visitor::new(&app);
    let reply = stranger
        .post(
            "/login",
            &[
                ("email", "dev@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(reply.location(), "/panel");
}

async fn signing_in_again_rotates_the_session_and_the_old_cookie_stops_working(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;
    let first = browser.session().unwrap();

    let reply = browser.sign_in("dev@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let second = browser.session().unwrap();
    assert_ne!(first, second, "a sign-in issues a new session id");
    assert_eq!(app.count("session").await, 1, "the old session is gone");
    assert_eq!(browser.get("/panel").await.status, StatusCode::OK);

    let mut old = Visitor::new(&app);
    old.cookies.insert("lastmile_session".into(), first);
    let reply = old.get("/panel").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        reply.location().starts_with("/login"),
        "{}",
        reply.location()
    );

    // A sign-in in another browser does not end this one.
    let other = Visitor::signed_in(&app, "dev@example.com").await;
    assert_ne!(other.session(), browser.session());
    assert_eq!(browser.get("/panel").await.status, StatusCode::OK);
    assert_eq!(app.count("session").await, 2);
}

async fn an_idle_session_expires_and_a_used_one_stays(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let idle = i64::from(app.config.security.session_idle_minutes);
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;

    // Used within the idle time, again and again: the session stays.
    for _ in 0..3 {
        app.clock().shift((idle - 2) * 60);
        assert_eq!(browser.get("/panel").await.status, StatusCode::OK);
    }

    app.clock().shift((idle + 1) * 60);
    let reply = browser.get("/panel").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/login?next=%2Fpanel");
    assert_eq!(
        app.count("session").await,
        0,
        "the expired session is deleted"
    );
    assert!(browser.session().is_none(), "the dead cookie is dropped");
    let login = browser.get("/login").await;
    assert_eq!(login.status, StatusCode::OK, "the sign-in page, not a loop");
    assert!(login.has("action=\"/login\""));
    assert!(login.has("Your session ended."), "{}", login.body);
}

async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;
    let form = browser.get("/panel/tenants/new").await;
    let csrf = form.input("_csrf").unwrap();

    let reply = browser.post("/panel/tenants/new", TENANT_FORM).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.has("This form has expired."), "{}", reply.body);
    let reply = browser
        .post("/panel/tenants/new", &with_token("not-the-token"))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("tenant").await, 0);

    // The right token from another site is refused too: by Sec-Fetch-Site, or by Origin for
    // browsers that do not send it.
    for header in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "http://evil.example"),
    ] {
        let reply = browser
            .post_with("/panel/tenants/new", &with_token(&csrf), &[header])
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{header:?}");
        assert!(reply.has("came from another site"), "{}", reply.body);
        assert_eq!(app.count("tenant").await, 0, "{header:?}");
    }
    // Signing out is a state change too.
    let reply = browser.post("/logout", &[]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("session").await, 1);

    // The same form from the panel itself goes through.
    let origin = app.base.clone();
    let reply = browser
        .post_with(
            "/panel/tenants/new",
            &with_token(&csrf),
            &[("sec-fetch-site", "same-origin"), ("origin", &origin)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(app.count("tenant").await, 1);
    // A session's token does not work for another session.
    let mut other = Visitor::signed_in(&app, "dev@example.com").await;
    let reply = other.post("/panel/tenants/new", &with_token(&csrf)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("tenant").await, 1);
}

async fn an_account_with_totp_is_asked_for_its_code_at_panel_sign_in(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;

    // Enrol through the account page.
    let reply = browser
        .submit("/panel/account", "/panel/account/totp/start", &[])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let account = browser.get("/panel/account").await;
    let start = account.body.find("id=\"totp-secret\">").unwrap() + "id=\"totp-secret\">".len();
    let end = account.body[start..].find('<').unwrap();
    let secret = base32(&account.body[start..start + end]);
    assert!(account.has("<svg"), "a QR code to scan");
    let code_now = || {
        let now = app.clock().now().timestamp() as u64;
        ops::auth::totp::code_at(&secret, now).unwrap()
    };
    let reply = browser
        .submit(
            "/panel/account",
            "/panel/account/totp/confirm",
            &[("code", "000000")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Wrong code."), "{}", reply.body);
    let code = code_now();
    let reply = browser
        .submit(
            "/panel/account",
            "/panel/account/totp/confirm",
            &[("code", &code)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let dev = store::user::find_for_sign_in(
        app.state.db.conn(),
        &domain::user::Email::parse("dev@example.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .0;
    assert!(dev.totp_enabled);

    // A new sign-in stops at the code.
    let mut browser = Visitor::new(&app);
    let reply = browser.sign_in("dev@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(
        reply.location().starts_with("/login/totp"),
        "{}",
        reply.location()
    );
    let halfway = browser.session().expect("a session for the second step");
    let reply = browser.get("/panel").await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "the password alone is not enough"
    );
    assert_eq!(reply.location(), "/login/totp?next=%2Fpanel");
    assert_eq!(audited(&app, "auth.password_ok").await, 1);

    let reply = browser
        .submit("/login/totp", "/login/totp", &[("code", "123456")])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.has("That code is not right."), "{}", reply.body);
    assert_eq!(
        browser.get("/panel").await.location(),
        "/login/totp?next=%2Fpanel"
    );

    // The next time step's code lets it in, under a new session id.
    app.clock().shift(30);
    let code = code_now();
    let reply = browser
        .submit("/login/totp", "/login/totp", &[("code", &code)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/panel");
    assert_ne!(browser.session().unwrap(), halfway);
    assert_eq!(browser.get("/panel").await.status, StatusCode::OK);
    assert_eq!(
        app.count("session").await,
        2,
        "the enrolling one and this one"
    );
}

/// Decodes a base32 TOTP secret.
fn base32(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut count, mut out) = (0u64, 0, Vec::new());
    for c in text.trim().bytes().filter(|c| *c != b'=') {
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

async fn the_language_switch_renders_the_panel_in_bangla_and_back(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;

    let reply = browser.get("/lang/bn?next=%2Fpanel%2Ftenants").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/panel/tenants");
    let cookie = reply.set_cookie("lastmile_lang").unwrap();
    assert!(cookie.starts_with("lastmile_lang=bn;"), "{cookie}");
    let page = browser.get("/panel/tenants").await;
    assert!(page.has("<html lang=\"bn\">"));
    assert!(page.has("<h1>টেন্যান্ট</h1>"), "{}", page.body);
    assert!(page.has("নতুন টেন্যান্ট") && page.has("সাইন আউট"));
    assert!(!page.has("New tenant"));
    // Form messages too.
    let reply = browser
        .submit(
            "/panel/tenants/new",
            "/panel/tenants/new",
            &[
                ("name", ""),
                ("country", "BD"),
                ("currency", "BDT"),
                ("time_zone", "x"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("নিচে চিহ্নিত ঘরগুলো ঠিক করুন।"), "{}", reply.body);
    assert!(reply.has("এই ঘরটি পূরণ করতে হবে।"));
    assert!(reply.has("এটি IANA সময় অঞ্চল নয় (যেমন Asia/Dhaka)।"));

    let reply = browser.get("/lang/en?next=%2Fpanel%2Ftenants").await;
    assert_eq!(reply.location(), "/panel/tenants");
    let page = browser.get("/panel/tenants").await;
    assert!(page.has("<html lang=\"en\">"));
    assert!(page.has("<h1>Tenants</h1>"));

    // The switch returns only to the panel itself.
    let reply = browser.get("/lang/bn?next=%2F%2Fevil.example%2F").await;
    assert_eq!(reply.location(), "/panel");
    // Before signing in, the browser's language is used.
    let reply = app
        .http
        .get(format!("{}/login", app.base))
        .header("accept-language", "bn-BD,bn;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(reply.contains("<h1>সাইন ইন</h1>"), "{reply}");
}

async fn signing_out_ends_the_session(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;
    let token = browser.session().unwrap();

    let reply = browser.submit("/panel", "/logout", &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/login");
    let cleared = reply.set_cookie("lastmile_session").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(app.count("session").await, 0);
    assert_eq!(audited(&app, "auth.sign_out").await, 1);
    let login = browser.get("/login").await;
    assert!(login.has("You have signed out."), "{}", login.body);

    let mut old = Visitor::new(&app);
    old.cookies.insert("lastmile_session".into(), token);
    let reply = old.get("/panel").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location().starts_with("/login"));
}

async fn the_setup_link_creates_the_developer_once(backend: Backend) {
    let app = spawn(backend).await;
    let link = app
        .setup_url
        .clone()
        .expect("a fresh installation prints a setup link");
    let path = link.trim_start_matches(&app.base).to_owned();
    let mut browser = Visitor::new(&app);

    let form = browser.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.has(&format!("action=\"{path}\"")));
    let reply = browser
        .post(
            &path,
            &[
                ("email", "root@example.com"),
                ("name", "Root"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("At least 10 characters."), "{}", reply.body);
    assert_eq!(app.count("staff_user").await, 0);

    let reply = browser
        .post(
            &path,
            &[
                ("email", "root@example.com"),
                ("name", "Root"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/panel");
    assert!(browser.session().is_some(), "signed in at once");
    let dashboard = browser.get("/panel").await;
    assert!(dashboard.has("Root · Developer"), "{}", dashboard.body);
    let root = store::user::find_for_sign_in(
        app.state.db.conn(),
        &domain::user::Email::parse("root@example.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .0;
    assert_eq!((root.role, root.tenant_id), (0, None));

    // The link is used up.
    let mut stranger = Visitor::new(&app);
    assert_eq!(stranger.get(&path).await.status, StatusCode::NOT_FOUND);
    let reply = stranger
        .post(
            &path,
            &[
                ("email", "second@example.com"),
                ("name", "Second"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("staff_user").await, 1);
}

async fn behind_https_the_cookie_is_secure_and_the_public_origin_is_trusted(backend: Backend) {
    let app = support::spawn_with(backend, |config| {
        config.public_url = "https://panel.isp.example".into();
    })
    .await;
    app.developer().await;
    let mut browser = Visitor::new(&app);
    let reply = browser.sign_in("dev@example.com", PASSWORD).await;
    let cookie = reply.set_cookie("lastmile_session").unwrap();
    assert!(cookie.split(';').any(|a| a.trim() == "Secure"), "{cookie}");

    // A proxy passes the browser's Origin on while the Host is the panel's own address.
    let form = browser.get("/panel/tenants/new").await;
    let csrf = form.input("_csrf").unwrap();
    let reply = browser
        .post_with(
            "/panel/tenants/new",
            &with_token(&csrf),
            &[("origin", "https://panel.isp.example")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let reply = browser
        .post_with(
            "/panel/tenants/new",
            &with_token(&csrf),
            &[("origin", "https://other.example")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("tenant").await, 1);
}

async fn the_eleventh_wrong_password_in_a_minute_is_turned_away(backend: Backend) {
    let app = spawn(backend).await;
    app.developer().await;
    let mut browser = Visitor::new(&app);
    for attempt in 1..=10 {
        let reply = browser.sign_in("dev@example.com", "not the password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    for password in ["not the password", PASSWORD] {
        let reply = browser.sign_in("dev@example.com", password).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(reply.has("Too many wrong tries."), "{}", reply.body);
        assert!(reply.headers.contains_key("retry-after"));
        assert!(
            reply.has("value=\"dev@example.com\""),
            "the e-mail stays typed in"
        );
    }
    assert_eq!(app.count("session").await, 0);
}

both_backends!(
    the_sign_in_form_sets_an_http_only_same_site_session_cookie,
    signing_in_again_rotates_the_session_and_the_old_cookie_stops_working,
    an_idle_session_expires_and_a_used_one_stays,
    a_post_without_the_csrf_token_is_refused_and_changes_nothing,
    an_account_with_totp_is_asked_for_its_code_at_panel_sign_in,
    the_language_switch_renders_the_panel_in_bangla_and_back,
    signing_out_ends_the_session,
    the_setup_link_creates_the_developer_once,
    behind_https_the_cookie_is_secure_and_the_public_origin_is_trusted,
    the_eleventh_wrong_password_in_a_minute_is_turned_away,
);
