//! The access matrix of design.md §3, on the API, against one seeded server per backend:
//! every role × every user and tenant action × own and other operator × own and other
//! tenant. What a caller may not see answers 404, what it sees but may not do 403.
//!
//! The expectations are restated here from the design's role table, independently of
//! `domain::access`, so the test checks the rules rather than echoing them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, PASSWORD, TestApp, spawn};

/// A seeded account.
#[derive(Debug, Clone)]
struct Account {
    id: i64,
    role: &'static str,
    tenant: Option<char>,
    parent: Option<i64>,
    permissions: &'static [&'static str],
}

fn level(role: &str) -> u8 {
    match role {
        "developer" => 0,
        "super_admin" => 10,
        "admin" => 20,
        "operator" => 30,
        "sub_operator" => 40,
        "manager" => 50,
        "accountant" => 60,
        "sales_manager" => 70,
        "staff" => 80,
        "card_distributor" => 90,
        other => panic!("unknown role {other}"),
    }
}

/// The seeded world.
struct World {
    accounts: BTreeMap<String, Account>,
    tenants: BTreeMap<char, i64>,
    /// The Super Admin owning each tenant.
    owner: BTreeMap<char, String>,
    tokens: BTreeMap<String, String>,
}

impl World {
    fn account(&self, name: &str) -> &Account {
        &self.accounts[name]
    }

    fn name_of(&self, id: i64) -> Option<&str> {
        self.accounts
            .iter()
            .find(|(_, a)| a.id == id)
            .map(|(n, _)| n.as_str())
    }

    /// Does `actor` see the user `target`? (The role table: the Developer sees all; a Super
    /// Admin its tenants; the Admin its tenant; Managers and Staff their tenant when granted
    /// view or manage users; resellers their subtree; everyone else only itself.)
    fn sees_user(&self, actor: &str, target: &Account) -> bool {
        let a = self.account(actor);
        if a.id == target.id {
            return true;
        }
        match a.role {
            "developer" => true,
            "super_admin" => target.tenant.is_some_and(|t| self.owner[&t] == actor),
            "admin" => target.tenant == a.tenant,
            "manager" | "staff" => {
                target.tenant == a.tenant
                    && (a.permissions.contains(&"view_users")
                        || a.permissions.contains(&"manage_users"))
            }
            "operator" | "sub_operator" => {
                target.tenant == a.tenant
                    && (target.parent == Some(a.id)
                        || target
                            .parent
                            .and_then(|p| self.accounts.values().find(|x| x.id == p))
                            .and_then(|p| p.parent)
                            == Some(a.id))
            }
            _ => false,
        }
    }

    /// May `actor` change or delete `target`?
    fn manages_user(&self, actor: &str, target: &Account) -> bool {
        let a = self.account(actor);
        if !self.sees_user(actor, target)
            || a.id == target.id
            || level(a.role) >= level(target.role)
        {
            return false;
        }
        match a.role {
            "developer" | "super_admin" | "admin" | "operator" | "sub_operator" => true,
            "manager" | "staff" => a.permissions.contains(&"manage_users"),
            _ => false,
        }
    }

    fn sees_tenant(&self, actor: &str, tenant: char) -> bool {
        let a = self.account(actor);
        match a.role {
            "developer" => true,
            "super_admin" => self.owner[&tenant] == actor,
            _ => a.tenant == Some(tenant),
        }
    }

    fn changes_tenant(&self, actor: &str, tenant: char) -> bool {
        let a = self.account(actor);
        self.sees_tenant(actor, tenant)
            && match a.role {
                "developer" | "super_admin" | "admin" => true,
                "manager" | "staff" => a.permissions.contains(&"manage_tenant_settings"),
                _ => false,
            }
    }

    /// May `actor` create a user of `role` at all (the creation table)?
    fn creates_role(&self, actor: &str, role: &str) -> bool {
        let a = self.account(actor);
        if level(a.role) >= level(role) {
            return false;
        }
        match a.role {
            "developer" => true,
            "super_admin" => level(role) >= level("admin"),
            "admin" => level(role) >= level("operator"),
            "operator" => matches!(role, "sub_operator" | "card_distributor"),
            "manager" | "staff" => a.permissions.contains(&"manage_users"),
            _ => false,
        }
    }
}

fn expected(visible: bool, allowed: bool) -> StatusCode {
    match (visible, allowed) {
        (false, _) => StatusCode::NOT_FOUND,
        (true, false) => StatusCode::FORBIDDEN,
        (true, true) => StatusCode::OK,
    }
}

/// The actors: one of every role in tenant A, plus the Developer and A's Super Admin.
const ACTORS: &[&str] = &[
    "dev", "sa_a", "admin_a", "op1_a", "sub1_a", "mgr_a", "mgr0_a", "acct_a", "sales_a", "staff_a",
    "cd_a",
];

async fn seed(app: &TestApp) -> World {
    let dev = app.developer().await;
    let mut world = World {
        accounts: BTreeMap::new(),
        tenants: BTreeMap::new(),
        owner: BTreeMap::new(),
        tokens: BTreeMap::new(),
    };
    let me: Value = app.get("/api/v1/me", &dev).await.1;
    world.accounts.insert(
        "dev".into(),
        Account {
            id: me["id"].as_i64().unwrap(),
            role: "developer",
            tenant: None,
            parent: None,
            permissions: &[],
        },
    );
    world.tokens.insert("dev".into(), dev.clone());
    for t in ['a', 'b'] {
        let sa = format!("sa_{t}");
        let sa_id = app
            .user(
                &dev,
                json!({"email": format!("{sa}@x.example"), "name": sa, "role": "super_admin"}),
            )
            .await;
        world.accounts.insert(
            sa.clone(),
            Account {
                id: sa_id,
                role: "super_admin",
                tenant: None,
                parent: None,
                permissions: &[],
            },
        );
        let sa_token = app.login(&format!("{sa}@x.example"), PASSWORD).await;
        let tenant = app.tenant(&sa_token, &format!("Tenant {t}")).await;
        world.tenants.insert(t, tenant);
        world.owner.insert(t, sa.clone());
        world.tokens.insert(sa, sa_token);

        let mut add = async |name: &str,
                             role: &'static str,
                             parent: Option<&str>,
                             permissions: &'static [&'static str]| {
            let name = format!("{name}_{t}");
            let parent_id = parent.map(|p| world.accounts[&format!("{p}_{t}")].id);
            let mut body = json!({"email": format!("{name}@x.example"), "name": name, "role": role, "tenant_id": tenant, "permissions": permissions});
            if let Some(p) = parent_id {
                body["parent_id"] = json!(p);
            }
            let id = app.user(&dev, body).await;
            world.accounts.insert(
                name,
                Account {
                    id,
                    role,
                    tenant: Some(t),
                    parent: parent_id,
                    permissions,
                },
            );
        };
        add("admin", "admin", None, &[]).await;
        add("op1", "operator", None, &[]).await;
        add("op2", "operator", None, &[]).await;
        add("sub1", "sub_operator", Some("op1"), &[]).await;
        add("sub2", "sub_operator", Some("op2"), &[]).await;
        add("cd1", "card_distributor", Some("op1"), &[]).await;
        add("cdsub", "card_distributor", Some("sub1"), &[]).await;
        add(
            "mgr",
            "manager",
            None,
            &[
                "view_users",
                "manage_users",
                "view_audit",
                "manage_tenant_settings",
            ],
        )
        .await;
        add("mgr0", "manager", None, &[]).await;
        add("acct", "accountant", None, &[]).await;
        add("sales", "sales_manager", None, &[]).await;
        add("staff", "staff", None, &["view_users"]).await;
        add("cd", "card_distributor", None, &[]).await;
    }
    for actor in ACTORS {
        if !world.tokens.contains_key(*actor) {
            let token = app.login(&format!("{actor}@x.example"), PASSWORD).await;
            world.tokens.insert((*actor).to_owned(), token);
        }
    }
    world
}

async fn every_role_sees_and_changes_exactly_what_the_role_table_allows(backend: Backend) {
    let app = spawn(backend).await;
    let world = seed(&app).await;
    let dev = world.tokens["dev"].clone();
    let mut failures = Vec::new();

    // Listing users returns exactly the visible set.
    for actor in ACTORS {
        let token = &world.tokens[*actor];
        let (status, list) = app.get("/api/v1/users?limit=500", token).await;
        assert_eq!(status, StatusCode::OK);
        let got: BTreeSet<i64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_i64().unwrap())
            .collect();
        let want: BTreeSet<i64> = world
            .accounts
            .values()
            .filter(|t| world.sees_user(actor, t))
            .map(|t| t.id)
            .collect();
        if got != want {
            failures.push(format!("{actor} lists {got:?}, expected {want:?}"));
        }
    }

    // Reading and changing each user.
    for actor in ACTORS {
        let token = &world.tokens[*actor];
        for (name, target) in &world.accounts {
            let path = format!("/api/v1/users/{}", target.id);
            let visible = world.sees_user(actor, target);
            let (status, _) = app.get(&path, token).await;
            let want = expected(visible, true);
            if status != want {
                failures.push(format!(
                    "{actor} GET user {name}: {status}, expected {want}"
                ));
            }
            let version = app.get(&path, &dev).await.1["version"].clone();
            let new_name = format!("{name} renamed by {actor}");
            let (status, _) = app
                .patch(&path, token, json!({"name": new_name, "version": version}))
                .await;
            let allowed = world.manages_user(actor, target);
            let want = expected(visible, allowed);
            if status != want {
                failures.push(format!(
                    "{actor} PATCH user {name}: {status}, expected {want}"
                ));
            }
            let stored = app.get(&path, &dev).await.1;
            if (stored["name"] == json!(new_name)) != (want == StatusCode::OK) {
                failures.push(format!(
                    "{actor} PATCH user {name}: stored name {}",
                    stored["name"]
                ));
            }
        }
    }

    // Tenants: list, read, change, create.
    for actor in ACTORS {
        let token = &world.tokens[*actor];
        let (_, list) = app.get("/api/v1/tenants", token).await;
        let got: BTreeSet<i64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        let want: BTreeSet<i64> = world
            .tenants
            .iter()
            .filter(|(t, _)| world.sees_tenant(actor, **t))
            .map(|(_, id)| *id)
            .collect();
        if got != want {
            failures.push(format!("{actor} lists tenants {got:?}, expected {want:?}"));
        }
        for (t, id) in &world.tenants {
            let path = format!("/api/v1/tenants/{id}");
            let visible = world.sees_tenant(actor, *t);
            let (status, _) = app.get(&path, token).await;
            if status != expected(visible, true) {
                failures.push(format!("{actor} GET tenant {t}: {status}"));
            }
            let version = app.get(&path, &dev).await.1["version"].clone();
            let (status, _) = app
                .patch(
                    &path,
                    token,
                    json!({"name": format!("Tenant {t} by {actor}"), "version": version}),
                )
                .await;
            let want = expected(visible, world.changes_tenant(actor, *t));
            if status != want {
                failures.push(format!(
                    "{actor} PATCH tenant {t}: {status}, expected {want}"
                ));
            }
            // Deleting a live tenant: only its Developer and owner may, and they are tested on
            // disposable tenants below; the rest are refused here and nothing changes.
            if !matches!(world.account(actor).role, "developer" | "super_admin") {
                let (status, _) = app.delete(&path, token).await;
                let want = expected(visible, false);
                if status != want {
                    failures.push(format!(
                        "{actor} DELETE tenant {t}: {status}, expected {want}"
                    ));
                }
            }
        }
        let body = json!({"name": format!("New by {actor}"), "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka"});
        let (status, _) = app.post("/api/v1/tenants", token, body).await;
        let may = matches!(world.account(actor).role, "developer" | "super_admin");
        let want = if may {
            StatusCode::CREATED
        } else {
            StatusCode::FORBIDDEN
        };
        if status != want {
            failures.push(format!("{actor} POST tenant: {status}, expected {want}"));
        }
    }
    for (t, id) in &world.tenants {
        let (_, tenant) = app.get(&format!("/api/v1/tenants/{id}"), &dev).await;
        assert_eq!(
            tenant["status"], "active",
            "tenant {t} survived the refused deletions"
        );
    }

    // Creating a user of every staff role in the own and the other tenant.
    let roles = [
        "developer",
        "super_admin",
        "admin",
        "operator",
        "sub_operator",
        "manager",
        "accountant",
        "sales_manager",
        "staff",
        "card_distributor",
    ];
    let mut n = 0;
    for actor in ACTORS {
        let token = &world.tokens[*actor];
        for role in roles {
            for t in ['a', 'b'] {
                if level(role) <= level("super_admin") && t == 'b' {
                    continue; // platform roles have no tenant: one case is enough
                }
                n += 1;
                let mut body = json!({"email": format!("new{n}@x.example"), "password": PASSWORD, "name": format!("New {n}"), "role": role});
                if level(role) >= level("admin") {
                    body["tenant_id"] = json!(world.tenants[&t]);
                }
                let parent = format!("op1_{t}");
                if role == "sub_operator" {
                    body["parent_id"] = json!(world.accounts[&parent].id);
                }
                let (status, answer) = app.post("/api/v1/users", token, body).await;
                let want = if !world.creates_role(actor, role) {
                    StatusCode::FORBIDDEN
                } else if (level(role) >= level("admin") && !world.sees_tenant(actor, t))
                    || (role == "sub_operator" && !world.sees_user(actor, world.account(&parent)))
                {
                    // A tenant or parent the caller cannot see is reported as not found.
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::CREATED
                };
                if status != want {
                    failures.push(format!(
                        "{actor} creates {role} in {t}: {status} {answer}, expected {want}"
                    ));
                }
            }
        }
    }

    // Deleting: every actor tries fresh users of three kinds in both tenants.
    for actor in ACTORS {
        let token = &world.tokens[*actor];
        for t in ['a', 'b'] {
            for (kind, role, parent) in [
                ("staff", "staff", None),
                ("card", "card_distributor", Some("op1")),
                ("operator", "operator", None),
            ] {
                n += 1;
                let parent_id = parent.map(|p| world.accounts[&format!("{p}_{t}")].id);
                let mut body = json!({"email": format!("gone{n}@x.example"), "name": format!("Gone {n}"), "role": role, "tenant_id": world.tenants[&t]});
                if let Some(p) = parent_id {
                    body["parent_id"] = json!(p);
                }
                let id = app.user(&dev, body).await;
                let target = Account {
                    id,
                    role,
                    tenant: Some(t),
                    parent: parent_id,
                    permissions: &[],
                };
                let (status, _) = app.delete(&format!("/api/v1/users/{id}"), token).await;
                let want = expected(
                    world.sees_user(actor, &target),
                    world.manages_user(actor, &target),
                );
                if status != want {
                    failures.push(format!(
                        "{actor} DELETE {kind} in {t}: {status}, expected {want}"
                    ));
                }
                let stored = app.get(&format!("/api/v1/users/{id}"), &dev).await.1;
                if (stored["status"] == "archived") != (want == StatusCode::OK) {
                    failures.push(format!(
                        "{actor} DELETE {kind} in {t}: stored status {}",
                        stored["status"]
                    ));
                }
            }
        }
    }

    // Deleting tenants, by those who may: the Developer and the owning Super Admin.
    for (actor, owner) in [("dev", "sa_a"), ("sa_a", "sa_a"), ("sa_a", "sa_b")] {
        let owner_token = &world.tokens[owner];
        let id = app
            .tenant(owner_token, &format!("Disposable of {owner}"))
            .await;
        let (status, _) = app
            .delete(&format!("/api/v1/tenants/{id}"), &world.tokens[actor])
            .await;
        let want = if actor == "dev" || actor == owner {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        if status != want {
            failures.push(format!(
                "{actor} DELETE a tenant of {owner}: {status}, expected {want}"
            ));
        }
    }

    // The audit log: every entry an actor reads is in its scope.
    let (_, all_tenants) = app.get("/api/v1/tenants?status=all&limit=500", &dev).await;
    let owned_by = |owner: i64| -> BTreeSet<i64> {
        all_tenants["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["owner_id"].as_i64() == Some(owner))
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    for actor in ACTORS {
        let a = world.account(actor).clone();
        let (_, entries) = app
            .get("/api/v1/audit?limit=500", &world.tokens[*actor])
            .await;
        let items = entries["items"].as_array().unwrap();
        for entry in items {
            let tenant = entry["tenant_id"].as_i64();
            let by = entry["actor_id"].as_i64();
            let tenant_of = |t: char| Some(world.tenants[&t]);
            let ok = match a.role {
                "developer" => true,
                "super_admin" => {
                    by == Some(a.id) || tenant.is_some_and(|t| owned_by(a.id).contains(&t))
                }
                "admin" => tenant == tenant_of(a.tenant.unwrap()),
                "manager" | "staff" if a.permissions.contains(&"view_audit") => {
                    tenant == tenant_of(a.tenant.unwrap())
                }
                "operator" | "sub_operator" => {
                    tenant == tenant_of(a.tenant.unwrap())
                        && by
                            .and_then(|id| world.name_of(id))
                            .is_some_and(|n| world.sees_user(actor, world.account(n)))
                }
                _ => by == Some(a.id),
            };
            if !ok {
                failures.push(format!(
                    "{actor} reads an audit entry out of scope: {entry}"
                ));
            }
        }
        let reads_tenant_wide = matches!(a.role, "developer" | "super_admin" | "admin")
            || a.permissions.contains(&"view_audit");
        if reads_tenant_wide && items.is_empty() {
            failures.push(format!("{actor} reads no audit entries"));
        }
    }

    assert!(
        failures.is_empty(),
        "{} access failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

both_backends!(every_role_sees_and_changes_exactly_what_the_role_table_allows);
