//! The web panel over HTTP, without a browser: sign-in and its session cookie, session
//! rotation and idle expiry, the CSRF defence, the tenant and user forms (create, validate,
//! edit, disable, delete with reassignment), TOTP at sign-in, the language switch, what a
//! role may not do, and sign-out. Each test reads the database as well as the pages.
//!
//! A [`Visitor`] plays the browser: it keeps cookies, follows no redirects, and fills forms
//! with the CSRF token it read from the form page. The scenarios share it and one test
//! binary, which is why they live in one long file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use domain::ids::UserId;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;
use support::{Backend, PASSWORD, TestApp, spawn};

/// A page or redirect the panel answered with.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    /// Where a redirect points.
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `Set-Cookie` line for `name`, if the reply sets it.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|line| line.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value of the first `<input name="{name}" value="...">` in the page.
    fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(self.body[start..start + end].to_owned())
    }

    /// True if the page holds `text`.
    fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// The id at the end of a redirect to `/panel/{what}/{id}`.
    fn created_id(&self) -> i64 {
        let location = self.location();
        location
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("a redirect to the new record, got {location:?}"))
    }
}

/// One browser's view of the panel: its cookies and the headers it sends.
struct Visitor<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
        }
    }

    /// The session cookie's value.
    fn session(&self) -> Option<String> {
        self.cookies.get("lastmile_session").cloned()
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Reply {
        let mut request = request;
        if !self.cookies.is_empty() {
            let line = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header("cookie", line);
        }
        let response = request.send().await.expect("the request reaches lastmile");
        let status = response.status();
        let headers = response.headers().clone();
        for line in headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let (pair, attributes) = line.split_once(';').unwrap_or((line, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Reply {
        let request = self.app.http.get(format!("{}{path}", self.app.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_with(path, fields, &[]).await
    }

    async fn post_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .app
            .http
            .post(format!("{}{path}", self.app.base))
            .form(fields);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// Submits the sign-in form (opening it first, unless signed in: then the sign-in page
    /// sends the visitor on to the panel).
    async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        let page = self.get("/login").await;
        if self.session().is_some() {
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            assert_eq!(page.location(), "/panel");
        } else {
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.has("action=\"/login\""), "{}", page.body);
        }
        self.post("/login", &[("email", email), ("password", password)])
            .await
    }

    /// Signs in and checks that the dashboard opens.
    async fn signed_in(app: &'a TestApp, email: &str) -> Self {
        let mut visitor = Self::new(app);
        let reply = visitor.sign_in(email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let dashboard = visitor.get("/panel").await;
        assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.location());
        visitor
    }

    /// Opens the form at `page`, then posts `fields` to `action` with the form's CSRF token
    /// (and its version, for edit forms).
    async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
        let form = self.get(page).await;
        assert_eq!(form.status, StatusCode::OK, "{page}: {}", form.body);
        let csrf = form.input("_csrf").expect("the form has a CSRF token");
        let version = form.input("version").unwrap_or_default();
        let mut all = vec![("_csrf", csrf.as_str()), ("version", version.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }
}

/// The stored user, read from the database without any scope.
async fn stored_user(app: &TestApp, id: i64) -> store::user::User {
    store::user::find_self(app.state.db.conn(), UserId(id))
        .await
        .unwrap()
        .expect("the user is stored")
}

/// Counts audit entries of `action`.
async fn audited(app: &TestApp, action: &str) -> i64 {
    use sea_orm::ConnectionTrait as _;
    let conn = app.state.db.conn();
    let sql = match conn.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = $1"
        }
        _ => "SELECT COUNT(*) AS n FROM audit_log WHERE action = ?",
    };
    let row = conn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            [action.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// A user of `tenant` as the API takes it, named after its e-mail.
fn staff_of(tenant: i64, email: &str, role: &str) -> serde_json::Value {
    json!({"email": email, "name": email, "role": role, "tenant_id": tenant})
}

/// The tenant form's fields with a CSRF token.
fn with_token(token: &str) -> Vec<(&str, &str)> {
    let mut fields = TENANT_FORM.to_vec();
    fields.push(("_csrf", token));
    fields
}

const TENANT_FORM: &[(&str, &str)] = &[
    ("name", "Dhaka Net"),
    ("country", "BD"),
    ("currency", "BDT"),
    ("time_zone", "Asia/Dhaka"),
];

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
    let id = lastmile::auth::token::hash(&token);
    let (stored, holder) = store::auth::find_session(&app.state.db, &id, app.clock().now())
        .await
        .unwrap()
        .expect("the session is stored under the token's hash");
    assert_eq!(stored.stage, "full");
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
    let idle = i64::from(app.state.config.security.session_idle_minutes);
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
        assert_eq!(user.status, "active");
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
    assert_eq!(stored_user(&app, first).await.status, "disabled");
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
    assert_eq!(stored_user(&app, first).await.status, "disabled");
    // ...and with one, the sub-operator moves under it.
    let second_text = second.to_string();
    let reply = browser
        .submit(&page, &delete, &[("reassign_to", &second_text)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/panel/users");
    let deleted = stored_user(&app, first).await;
    assert_eq!(deleted.status, "archived");
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
        lastmile::auth::totp::code_at(&secret, now).unwrap()
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
    a_developer_creates_a_tenant_and_staff_at_every_level_through_the_forms,
    invalid_forms_come_back_with_field_messages_and_write_nothing,
    users_are_edited_disabled_and_deleted_through_the_forms,
    an_account_with_totp_is_asked_for_its_code_at_panel_sign_in,
    the_language_switch_renders_the_panel_in_bangla_and_back,
    an_accountant_may_not_create_tenants_and_sees_only_itself,
    signing_out_ends_the_session,
    the_setup_link_creates_the_developer_once,
    a_super_admin_runs_the_tenants_it_creates_and_no_others,
    a_manager_manages_users_within_its_permissions,
    behind_https_the_cookie_is_secure_and_the_public_origin_is_trusted,
    the_eleventh_wrong_password_in_a_minute_is_turned_away,
);
