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
