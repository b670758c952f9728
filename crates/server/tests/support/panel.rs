//! The panel tests' browser without a browser: a [`Visitor`] keeps cookies, follows no
//! redirects, and fills forms with the CSRF token (and version) it read from the form page;
//! a [`Reply`] is what the panel answered. With a few readers of the database the panel
//! tests share. Used by `panel_*.rs` through `support::panel`.

use std::collections::BTreeMap;

use domain::ids::UserId;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;

use super::{PASSWORD, TestApp};

/// A page or redirect the panel answered with.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// Where a redirect points.
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `Set-Cookie` line for `name`, if the reply sets it.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|line| line.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value of the first `<input name="{name}" value="...">` in the page.
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(self.body[start..start + end].to_owned())
    }

    /// True if the page holds `text`.
    pub fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// The ids of the rows marked `data-{what}="ID"` in the page, in order.
    pub fn rows(&self, what: &str) -> Vec<i64> {
        let marker = format!("data-{what}=\"");
        self.body
            .split(&marker)
            .skip(1)
            .filter_map(|rest| rest.split('"').next()?.parse().ok())
            .collect()
    }

    /// The text of the element with `id="{id}"`, tags left out.
    pub fn text_of(&self, id: &str) -> Option<String> {
        let start = self.body.find(&format!("id=\"{id}\""))?;
        let open = start + self.body[start..].find('>')? + 1;
        let mut depth = 1;
        let mut text = String::new();
        let mut rest = &self.body[open..];
        while let Some(lt) = rest.find('<') {
            text.push_str(&rest[..lt]);
            let gt = rest[lt..].find('>')? + lt;
            let tag = &rest[lt + 1..gt];
            if tag.starts_with('/') {
                depth -= 1;
            } else if !tag.ends_with('/')
                && !["input", "br", "meta", "link"]
                    .iter()
                    .any(|v| tag.starts_with(v))
            {
                depth += 1;
            }
            if depth == 0 {
                break;
            }
            rest = &rest[gt + 1..];
        }
        Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// The id a form on the page posts to: `action="{prefix}ID"`.
    pub fn action_id(&self, prefix: &str) -> Option<i64> {
        let marker = format!("action=\"{prefix}");
        let rest = &self.body[self.body.find(&marker)? + marker.len()..];
        rest.split(['"', '/']).next()?.parse().ok()
    }

    /// The link marked `rel="next"`, if any.
    pub fn next_link(&self) -> Option<String> {
        self.link_with_rel("next")
    }

    /// The target of the link with `rel="{rel}"`, if the page has one.
    pub fn link_with_rel(&self, rel: &str) -> Option<String> {
        let end = self.body.find(&format!("\" rel=\"{rel}\""))?;
        let start = self.body[..end].rfind("href=\"")? + "href=\"".len();
        Some(
            self.body[start..end]
                .replace("&#38;", "&")
                .replace("&amp;", "&"),
        )
    }

    /// The id at the end of a redirect to `/panel/{what}/{id}`.
    pub fn created_id(&self) -> i64 {
        let location = self.location();
        location
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("a redirect to the new record, got {location:?}"))
    }
}

/// One browser's view of the panel: its cookies and the headers it sends.
pub struct Visitor<'a> {
    pub app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
        }
    }

    /// The session cookie's value.
    pub fn session(&self) -> Option<String> {
        self.cookies.get("lastmile_session").cloned()
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Reply {
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

    pub async fn get(&mut self, path: &str) -> Reply {
        let request = self.app.http.get(format!("{}{path}", self.app.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_with(path, fields, &[]).await
    }

    pub async fn post_with(
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
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
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
    pub async fn signed_in(app: &'a TestApp, email: &str) -> Self {
        let mut visitor = Self::new(app);
        let reply = visitor.sign_in(email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let dashboard = visitor.get("/panel").await;
        assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.location());
        visitor
    }

    /// Opens the form at `page`, then posts `fields` and `file` (field name, file name,
    /// content) to `action` as `multipart/form-data`, with the form's CSRF token.
    pub async fn upload(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, Vec<u8>),
    ) -> Reply {
        let form = self.get(page).await;
        assert_eq!(form.status, StatusCode::OK, "{page}: {}", form.body);
        let csrf = form.input("_csrf").expect("the form has a CSRF token");
        let mut multipart = reqwest::multipart::Form::new().text("_csrf", csrf);
        for (name, value) in fields {
            multipart = multipart.text(name.to_string(), value.to_string());
        }
        let (name, file_name, content) = file;
        let part = reqwest::multipart::Part::bytes(content)
            .file_name(file_name.to_owned())
            .mime_str("text/csv")
            .unwrap();
        multipart = multipart.part(name.to_owned(), part);
        let request = self
            .app
            .http
            .post(format!("{}{action}", self.app.base))
            .multipart(multipart);
        self.send(request).await
    }

    /// Opens the form at `page`, then posts `fields` to `action` with the form's CSRF token
    /// (and its version, for edit forms).
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
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
pub async fn stored_user(app: &TestApp, id: i64) -> store::user::User {
    store::user::find_self(app.state.db.conn(), UserId(id))
        .await
        .unwrap()
        .expect("the user is stored")
}

/// Counts audit entries of `action`.
pub async fn audited(app: &TestApp, action: &str) -> i64 {
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
pub fn staff_of(tenant: i64, email: &str, role: &str) -> serde_json::Value {
    json!({"email": email, "name": email, "role": role, "tenant_id": tenant})
}

/// The tenant form's fields with a CSRF token.
pub fn with_token(token: &str) -> Vec<(&str, &str)> {
    let mut fields = TENANT_FORM.to_vec();
    fields.push(("_csrf", token));
    fields
}

pub const TENANT_FORM: &[(&str, &str)] = &[
    ("name", "Dhaka Net"),
    ("country", "BD"),
    ("currency", "BDT"),
    ("time_zone", "Asia/Dhaka"),
];

/// A tenant and its Admin signed in to the panel, with the Developer's API token for
/// arranging what a test needs.
pub struct Isp<'a> {
    /// The Developer's API token.
    pub dev: String,
    /// The tenant (BD, BDT, Asia/Dhaka).
    pub tenant: i64,
    /// The tenant's Admin in the panel.
    pub admin: Visitor<'a>,
}

/// A tenant with an Admin (`admin@dhaka.example`) signed in to the panel.
pub async fn isp(app: &TestApp) -> Isp<'_> {
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Dhaka Net").await;
    app.user(&dev, staff_of(tenant, "admin@dhaka.example", "admin"))
        .await;
    let admin = Visitor::signed_in(app, "admin@dhaka.example").await;
    Isp { dev, tenant, admin }
}

/// Creates a record through the API; returns its JSON.
pub async fn created(
    app: &TestApp,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, reply) = app.post(path, token, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{path} {body}: {reply}");
    reply
}

/// The stored customer, archived or not, read without any scope.
pub async fn stored_customer(app: &TestApp, id: i64) -> store::customer::Customer {
    use sea_orm::EntityTrait as _;
    store::entity::customer::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .expect("the customer is stored")
}

/// The customer's FreeRADIUS rows.
pub async fn radius_rows(app: &TestApp, id: i64) -> store::radius::Stored {
    store::radius::read(app.state.db.conn(), id).await.unwrap()
}

/// The value of `attribute` among stored rows, if present.
pub fn attribute<'r>(rows: &'r [store::radius::Row], attribute: &str) -> Option<&'r str> {
    rows.iter()
        .find(|(a, _, _)| a == attribute)
        .map(|(_, _, v)| v.as_str())
}

/// The `nas` rows: address and secret.
pub async fn nas_rows(app: &TestApp) -> Vec<(String, String)> {
    use sea_orm::EntityTrait as _;
    store::entity::nas::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.nasname, n.secret))
        .collect()
}

/// What the customer tests stand on.
pub struct Fixture {
    pub static_pool: i64,
    pub router: i64,
    pub north: i64,
    pub south: i64,
    /// PPPoE, 10M down, 2M up, from the pool `pppoe-main`.
    pub home: i64,
    /// PPPoE, 30M down, 5M up.
    pub faster: i64,
    pub hotspot: i64,
    pub static_ip: i64,
    pub other: i64,
    pub op1: i64,
    pub op2: i64,
    /// `Op One Home`, `home` offered to op1.
    pub op1_home: i64,
    /// `Op Two Home`, `home` offered to op2.
    pub op2_home: i64,
}

pub async fn id_of(app: &TestApp, dev: &str, path: &str, body: serde_json::Value) -> i64 {
    created(app, dev, path, body).await["id"].as_i64().unwrap()
}

pub async fn fixture(app: &TestApp, dev: &str, tenant: i64) -> Fixture {
    let pool = |name: &str, ranges: &str| serde_json::json!({"tenant_id": tenant, "name": name, "ranges": ranges});
    let pppoe_pool = id_of(
        app,
        dev,
        "/api/v1/ip-pools",
        pool("pppoe-main", "10.0.0.1-10.0.0.254"),
    )
    .await;
    let static_pool = id_of(app, dev, "/api/v1/ip-pools", pool("static", "10.5.0.0/24")).await;
    let router = id_of(
        app,
        dev,
        "/api/v1/routers",
        serde_json::json!({"tenant_id": tenant, "name": "Core 1", "nas_address": "10.9.0.1"}),
    )
    .await;
    let zone = |name: &str| serde_json::json!({"tenant_id": tenant, "name": name});
    let north = id_of(app, dev, "/api/v1/zones", zone("North")).await;
    let south = id_of(app, dev, "/api/v1/zones", zone("South")).await;
    let master = |name: &str, kind: &str, down: i64, up: i64| {
        serde_json::json!({"tenant_id": tenant, "name": name, "connection_type": kind, "download_kbps": down,
               "upload_kbps": up, "validity_days": 30, "price": 50000})
    };
    let mut home = master("Home 10M", "pppoe", 10_000, 2_000);
    home["ip_pool_id"] = serde_json::json!(pppoe_pool);
    let home = id_of(app, dev, "/api/v1/packages", home).await;
    let faster = id_of(
        app,
        dev,
        "/api/v1/packages",
        master("Home 30M", "pppoe", 30_000, 5_000),
    )
    .await;
    let hotspot = id_of(
        app,
        dev,
        "/api/v1/packages",
        master("Day pass", "hotspot", 5_000, 1_000),
    )
    .await;
    let static_ip = id_of(
        app,
        dev,
        "/api/v1/packages",
        master("Static 20M", "static_ip", 20_000, 20_000),
    )
    .await;
    let other = id_of(
        app,
        dev,
        "/api/v1/packages",
        master("Generator line", "other", 1_000, 1_000),
    )
    .await;
    let op1 = app
        .user(dev, staff_of(tenant, "op1@dhaka.example", "operator"))
        .await;
    let op2 = app
        .user(dev, staff_of(tenant, "op2@dhaka.example", "operator"))
        .await;
    let offer = |owner: i64, name: &str| serde_json::json!({"parent_id": home, "owner_id": owner, "name": name, "price": 60000, "cost_price": 50000});
    let op1_home = id_of(app, dev, "/api/v1/packages", offer(op1, "Op One Home")).await;
    let op2_home = id_of(app, dev, "/api/v1/packages", offer(op2, "Op Two Home")).await;
    Fixture {
        static_pool,
        router,
        north,
        south,
        home,
        faster,
        hotspot,
        static_ip,
        other,
        op1,
        op2,
        op1_home,
        op2_home,
    }
}

/// Creates a customer through the API; returns its JSON.
pub async fn customer(
    app: &TestApp,
    dev: &str,
    tenant: i64,
    fields: serde_json::Value,
) -> serde_json::Value {
    let mut body = serde_json::json!({"tenant_id": tenant});
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    created(app, dev, "/api/v1/customers", body).await
}

/// The new-customer form's fields with `changes` applied.
pub fn customer_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("owner_id", ""),
        ("connection_type", "pppoe"),
        ("package_id", ""),
        ("username", ""),
        ("password", ""),
        ("status", "active"),
        ("name", ""),
        ("mobile", ""),
        ("email", ""),
        ("address", ""),
        ("zone_id", ""),
        ("router_id", ""),
        ("billing_type", ""),
        ("expires_at", ""),
        ("ip_pool_id", ""),
        ("static_ip", ""),
        ("mac", ""),
        ("simultaneous_use", "1"),
        ("comment", ""),
    ];
    for (name, value) in changes {
        fields.retain(|(n, _)| n != name);
        fields.push((name, value));
    }
    fields
}

/// The password a page shows once, if it shows one.
pub fn password_on(page: &Reply) -> Option<String> {
    let start = page.body.find("id=\"customer-password\"")?;
    let rest = &page.body[start..];
    let code = rest.find("<code class=\"big\">")? + "<code class=\"big\">".len();
    let end = rest[code..].find("</code>")? + code;
    Some(rest[code..end].to_owned())
}
