//! The access matrix of design.md §3 for the ISP's records, on the API, against one seeded
//! server per backend: every role × every action on customers, packages, routers, zones, IP
//! pools, imports and jobs × own and other operator × own and other sub-operator (siblings
//! under one operator included) × own and other tenant. What a caller may not see answers
//! 404, what it sees but may not do 403, and a refused change leaves the record as it was.
//!
//! The expectations are restated here from the role table and the rules ARCHITECTURE.md
//! states ("Actions × roles"), independently of `domain::access`, so the test checks the
//! rules rather than echoing them.
//!
//! One file past the usual length, on purpose: the seeded world (two tenants, every role,
//! records of every owner) and the restated rules are one model that every section reads;
//! split by record kind, each part would seed the world again (the longest step of the
//! test) or hide the rules it checks in the shared support module.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, PASSWORD, TestApp, spawn};

const TENANTS: [char; 2] = ['a', 'b'];

/// The permissions a Manager needs for the ISP's records.
const ISP: &[&str] = &[
    "view_customers",
    "manage_customers",
    "manage_packages",
    "manage_network",
];

/// The staff of each tenant: name, role, parent, granted permissions.
const STAFF: &[(&str, &str, Option<&str>, &[&str])] = &[
    ("admin", "admin", None, &[]),
    ("op1", "operator", None, &[]),
    ("op2", "operator", None, &[]),
    ("sub1a", "sub_operator", Some("op1"), &[]),
    ("sub1b", "sub_operator", Some("op1"), &[]),
    ("sub2", "sub_operator", Some("op2"), &[]),
    ("mgr", "manager", None, ISP),
    ("mgr0", "manager", None, &[]),
    ("staff", "staff", None, &["view_customers"]),
    ("acct", "accountant", None, &[]),
    ("sales", "sales_manager", None, &[]),
    ("cd", "card_distributor", None, &[]),
];

/// The actors: the Developer, both Super Admins and every role of tenant A.
const ACTORS: &[&str] = &[
    "dev", "sa_a", "sa_b", "admin_a", "op1_a", "op2_a", "sub1a_a", "sub1b_a", "sub2_a", "mgr_a",
    "mgr0_a", "staff_a", "acct_a", "sales_a", "cd_a",
];

/// The owners of customers: the tenant (`None`), each operator and each sub-operator.
const OWNERS: [Option<&str>; 6] = [
    None,
    Some("op1"),
    Some("op2"),
    Some("sub1a"),
    Some("sub1b"),
    Some("sub2"),
];

#[derive(Debug, Clone)]
struct Account {
    id: i64,
    role: &'static str,
    tenant: Option<char>,
    parent: Option<String>,
    permissions: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Customer,
    Package,
    Router,
    Zone,
    Pool,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Customer,
        Kind::Package,
        Kind::Router,
        Kind::Zone,
        Kind::Pool,
    ];

    fn path(self) -> &'static str {
        match self {
            Kind::Customer => "/api/v1/customers",
            Kind::Package => "/api/v1/packages",
            Kind::Router => "/api/v1/routers",
            Kind::Zone => "/api/v1/zones",
            Kind::Pool => "/api/v1/ip-pools",
        }
    }
}

/// A record: its tenant and, for customers and packages, its owner (`None`: the tenant).
#[derive(Debug, Clone)]
struct Record {
    kind: Kind,
    id: i64,
    tenant: char,
    owner: Option<String>,
    label: String,
}

fn record(kind: Kind, id: i64, tenant: char, owner: Option<String>, label: String) -> Record {
    Record {
        kind,
        id,
        tenant,
        owner,
        label,
    }
}

/// An import job and who sent it.
#[derive(Debug, Clone)]
struct Job {
    id: i64,
    tenant: char,
    by: String,
}

#[derive(Default)]
struct World {
    accounts: BTreeMap<String, Account>,
    tokens: BTreeMap<String, String>,
    tenants: BTreeMap<char, i64>,
    /// The package each owner sells in each tenant (the tenant's: a master).
    packages: BTreeMap<(char, Option<String>), i64>,
    /// The seeded records every actor reads and changes.
    records: Vec<Record>,
    /// Customers the imports created (listed, not changed).
    imported: Vec<Record>,
    jobs: Vec<Job>,
}

impl World {
    fn add(
        &mut self,
        name: &str,
        id: i64,
        role: &'static str,
        tenant: Option<char>,
    ) -> &mut Account {
        let account = Account {
            id,
            role,
            tenant,
            parent: None,
            permissions: &[],
        };
        self.accounts.entry(name.to_owned()).or_insert(account)
    }

    // The rules, restated from the role table.

    fn account(&self, name: &str) -> &Account {
        &self.accounts[name]
    }

    fn has(&self, actor: &str, permission: &str) -> bool {
        self.account(actor).permissions.contains(&permission)
    }

    fn parent_of(&self, name: &str) -> Option<&str> {
        self.account(name).parent.as_deref()
    }

    fn is_reseller(&self, name: &str) -> bool {
        matches!(self.account(name).role, "operator" | "sub_operator")
    }

    /// `name` is `root` or one of its children.
    fn under(&self, name: &str, root: &str) -> bool {
        name == root || self.parent_of(name) == Some(root)
    }

    /// `name` is `root`, one of its children or one of theirs.
    fn in_subtree(&self, name: &str, root: &str) -> bool {
        self.under(name, root) || self.parent_of(name).is_some_and(|p| self.under(p, root))
    }

    fn sees_tenant(&self, actor: &str, t: char) -> bool {
        match self.account(actor).role {
            "developer" => true,
            "super_admin" => actor == format!("sa_{t}"),
            _ => self.account(actor).tenant == Some(t),
        }
    }

    /// Runs the tenant for `permission`: the Developer, the owning Super Admin, the Admin,
    /// and Managers and Staff granted it.
    fn runs(&self, actor: &str, t: char, permission: &str) -> bool {
        self.sees_tenant(actor, t)
            && match self.account(actor).role {
                "developer" | "super_admin" | "admin" => true,
                "manager" | "staff" => self.has(actor, permission),
                _ => false,
            }
    }

    /// Customers: the tenant's for those who run it and for Managers and Staff with
    /// `view_customers` or `manage_customers`; Accountants and Sales Managers read them;
    /// an operator its own and its sub-operators', a sub-operator its own.
    fn sees_customers_of(&self, actor: &str, t: char, owner: Option<&str>) -> bool {
        let a = self.account(actor);
        let own = a.tenant == Some(t);
        match a.role {
            "operator" | "sub_operator" => own && owner.is_some_and(|o| self.under(o, actor)),
            "manager" | "staff" => {
                own && (self.has(actor, "view_customers") || self.has(actor, "manage_customers"))
            }
            "accountant" | "sales_manager" => own,
            "card_distributor" => false,
            _ => self.sees_tenant(actor, t),
        }
    }

    /// Creates, changes, suspends, deletes customers of `owner` and reads their passwords.
    fn acts_for_customers_of(&self, actor: &str, t: char, owner: Option<&str>) -> bool {
        if self.is_reseller(actor) {
            self.account(actor).tenant == Some(t) && owner.is_some_and(|o| self.under(o, actor))
        } else {
            self.runs(actor, t, "manage_customers")
        }
    }

    /// Packages: the tenant's for those who run it with `manage_packages`; a reseller those
    /// offered to it and to its sub-operators.
    fn sees_packages_of(&self, actor: &str, t: char, owner: Option<&str>) -> bool {
        if self.is_reseller(actor) {
            self.account(actor).tenant == Some(t) && owner.is_some_and(|o| self.under(o, actor))
        } else {
            self.runs(actor, t, "manage_packages")
        }
    }

    /// Changes or deletes a package of `owner`, or offers one to it: masters and operator
    /// packages by those who run the tenant's packages, a sub-operator's also by its operator.
    fn offers_packages_to(&self, actor: &str, t: char, owner: Option<&str>) -> bool {
        self.runs(actor, t, "manage_packages")
            || owner.is_some_and(|o| {
                self.account(o).role == "sub_operator" && self.parent_of(o) == Some(actor)
            })
    }

    fn sees(&self, actor: &str, r: &Record) -> bool {
        let owner = r.owner.as_deref();
        match r.kind {
            Kind::Customer => self.sees_customers_of(actor, r.tenant, owner),
            Kind::Package => self.sees_packages_of(actor, r.tenant, owner),
            // Routers, zones and pools: everyone in the tenant reads them.
            Kind::Router | Kind::Zone | Kind::Pool => self.sees_tenant(actor, r.tenant),
        }
    }

    fn changes(&self, actor: &str, r: &Record) -> bool {
        let owner = r.owner.as_deref();
        self.sees(actor, r)
            && match r.kind {
                Kind::Customer => self.acts_for_customers_of(actor, r.tenant, owner),
                Kind::Package => self.offers_packages_to(actor, r.tenant, owner),
                Kind::Router | Kind::Zone | Kind::Pool => {
                    self.runs(actor, r.tenant, "manage_network")
                }
            }
    }

    /// The answer to creating a customer in `t` for `named` (or, unnamed, for the caller
    /// if it is a reseller, else for the tenant). A tenant or an owner the caller cannot
    /// see is not found (422); an owner it may not act for is forbidden.
    fn creates_customer(&self, actor: &str, t: char, named: Option<&str>) -> StatusCode {
        let owner = self.owner_of_new(actor, named);
        if !self.sees_tenant(actor, t)
            || named.is_some_and(|o| !self.sees_customers_of(actor, t, Some(o)))
        {
            StatusCode::UNPROCESSABLE_ENTITY
        } else if !self.acts_for_customers_of(actor, t, owner.as_deref()) {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::CREATED
        }
    }

    fn owner_of_new(&self, actor: &str, named: Option<&str>) -> Option<String> {
        named
            .map(str::to_owned)
            .or_else(|| self.is_reseller(actor).then(|| actor.to_owned()))
    }

    /// Import: those who may manage customers (every reseller among them), into a tenant
    /// they see.
    fn imports(&self, actor: &str, t: char) -> StatusCode {
        let a = self.account(actor);
        let may = matches!(
            a.role,
            "developer" | "super_admin" | "admin" | "operator" | "sub_operator"
        ) || self.has(actor, "manage_customers");
        if !may {
            StatusCode::FORBIDDEN
        } else if !self.sees_tenant(actor, t) {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::ACCEPTED
        }
    }

    /// Jobs: the tenant's for those who run it (Managers and Staff who manage customers or
    /// the network, or read the audit log), a reseller's subtree's, else one's own.
    fn sees_job(&self, actor: &str, job: &Job) -> bool {
        let a = self.account(actor);
        let own = a.tenant == Some(job.tenant);
        match a.role {
            "developer" | "super_admin" | "admin" => self.sees_tenant(actor, job.tenant),
            "manager" | "staff"
                if ["manage_customers", "manage_network", "view_audit"]
                    .iter()
                    .any(|p| self.has(actor, p)) =>
            {
                own
            }
            "operator" | "sub_operator" => own && self.in_subtree(&job.by, actor),
            _ => job.by == actor,
        }
    }

    /// The `operator_id` and `sub_operator_id` of a customer of `owner`.
    fn owner_columns(&self, owner: Option<&str>) -> (Value, Value) {
        let id = |name: &str| json!(self.account(name).id);
        match owner {
            None => (Value::Null, Value::Null),
            Some(o) if self.account(o).role == "operator" => (id(o), Value::Null),
            Some(o) => (id(self.parent_of(o).unwrap()), id(o)),
        }
    }

    /// The package a customer of `owner` in `t` takes.
    fn package_for(&self, t: char, owner: Option<&str>) -> i64 {
        let owner = owner.filter(|o| self.account(o).tenant == Some(t));
        self.packages[&(t, owner.map(str::to_owned))]
    }
}

/// The answer to an action on a record: 404 unseen, 403 seen but refused, else `done`.
fn expected(visible: bool, allowed: bool, done: StatusCode) -> StatusCode {
    match (visible, allowed) {
        (false, _) => StatusCode::NOT_FOUND,
        (true, false) => StatusCode::FORBIDDEN,
        (true, true) => done,
    }
}

/// Checked cases and the failures among them.
#[derive(Default)]
struct Checks {
    cases: usize,
    failures: Vec<String>,
}

impl Checks {
    fn status(&mut self, what: &str, got: StatusCode, want: StatusCode, body: &Value) {
        self.cases += 1;
        if got != want {
            self.failures
                .push(format!("{what}: {got}, expected {want} {body}"));
        }
    }

    fn holds(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(what());
        }
    }

    fn merge(&mut self, other: Checks) {
        self.cases += other.cases;
        self.failures.extend(other.failures);
    }
}

/// The ids of a list's items.
fn ids(list: &Value) -> BTreeSet<i64> {
    let items = list["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    items.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// Runs independent cases a few at a time and gathers what they found.
async fn gather(cases: impl Iterator<Item = impl Future<Output = Checks>>) -> Checks {
    let mut checks = Checks::default();
    for c in stream::iter(cases)
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await
    {
        checks.merge(c);
    }
    checks
}

/// A user name without the underscores of account names.
fn slug(name: &str) -> String {
    name.replace('_', "-")
}

/// Creates a record as `token`, asserting it is created; returns its id.
async fn made(app: &TestApp, token: &str, path: &str, body: Value) -> i64 {
    let (status, created) = app.post(path, token, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{path} {body}: {created}");
    created["id"].as_i64().unwrap()
}

fn master(tenant: i64, name: &str, pool: Option<i64>) -> Value {
    json!({"tenant_id": tenant, "name": name, "connection_type": "pppoe", "download_kbps": 20000,
           "upload_kbps": 5000, "validity_days": 30, "price": 50000, "ip_pool_id": pool})
}

fn derived(parent: i64, owner: i64, name: &str) -> Value {
    json!({"parent_id": parent, "owner_id": owner, "name": name, "price": 60000,
           "cost_price": 50000})
}

fn customer(world: &World, t: char, owner: Option<&str>, username: &str) -> Value {
    let mut body = json!({"tenant_id": world.tenants[&t], "package_id": world.package_for(t, owner),
        "name": format!("Customer {username}"), "username": username, "password": "pass-word-1"});
    if let Some(o) = owner {
        body["owner_id"] = json!(world.account(o).id);
    }
    body
}

async fn seed(app: &TestApp) -> World {
    let dev = app.developer().await;
    let mut world = World::default();
    let me = app.get("/api/v1/me", &dev).await.1["id"].as_i64().unwrap();
    world.add("dev", me, "developer", None);
    for t in TENANTS {
        let sa = format!("sa_{t}");
        let body = json!({"email": format!("{sa}@x.example"), "name": sa, "role": "super_admin"});
        world.add(&sa, app.user(&dev, body).await, "super_admin", None);
        let token = app.login(&format!("{sa}@x.example"), PASSWORD).await;
        let tenant = app.tenant(&token, &format!("Tenant {t}")).await;
        world.tenants.insert(t, tenant);
        for (name, role, parent, permissions) in STAFF {
            let name = format!("{name}_{t}");
            let parent = parent.map(|p| format!("{p}_{t}"));
            let mut body = json!({"email": format!("{name}@x.example"), "name": name, "role": role,
                                  "tenant_id": tenant, "permissions": permissions});
            if let Some(p) = &parent {
                body["parent_id"] = json!(world.account(p).id);
            }
            let account = world.add(&name, app.user(&dev, body).await, role, Some(t));
            account.parent = parent;
            account.permissions = *permissions;
        }
    }
    for name in world.accounts.keys() {
        let token = match name.as_str() {
            "dev" => dev.clone(),
            _ => app.login(&format!("{name}@x.example"), PASSWORD).await,
        };
        world.tokens.insert(name.clone(), token);
    }

    // The records of each tenant, made by the Developer.
    for (n, t) in TENANTS.into_iter().enumerate() {
        let tenant = world.tenants[&t];
        let mut network = async |kind: Kind, name: String, mut body: Value| {
            body["tenant_id"] = json!(tenant);
            body["name"] = json!(name);
            let id = made(app, &dev, kind.path(), body).await;
            world.records.push(record(kind, id, t, None, name));
            id
        };
        let ranges = json!({"ranges": format!("10.{n}.0.0/24")});
        let pool = network(Kind::Pool, format!("pool-{t}"), ranges).await;
        let north = network(Kind::Zone, format!("north {t}"), json!({})).await;
        let parent = json!({"parent_id": north});
        let zone = network(Kind::Zone, format!("north-1 {t}"), parent).await;
        let address = json!({"nas_address": format!("10.250.{n}.1")});
        let router = network(Kind::Router, format!("core {t}"), address).await;
        for (name, pool) in [("Home", Some(pool)), ("Fibre", None)] {
            let name = format!("{name} {t}");
            let body = master(tenant, &name, pool);
            let id = made(app, &dev, Kind::Package.path(), body).await;
            world
                .records
                .push(record(Kind::Package, id, t, None, format!("master {name}")));
            world.packages.entry((t, None)).or_insert(id);
        }
        for (owner, parent) in [
            ("op1", None),
            ("op2", None),
            ("sub1a", Some("op1")),
            ("sub1b", Some("op1")),
            ("sub2", Some("op2")),
        ] {
            let owner = format!("{owner}_{t}");
            let parent = world.package_for(t, parent.map(|p| format!("{p}_{t}")).as_deref());
            let label = format!("package of {owner}");
            let body = derived(parent, world.account(&owner).id, &label);
            let id = made(app, &dev, Kind::Package.path(), body).await;
            world
                .records
                .push(record(Kind::Package, id, t, Some(owner.clone()), label));
            world.packages.insert((t, Some(owner)), id);
        }
        for owner in OWNERS {
            let owner = owner.map(|o| format!("{o}_{t}"));
            let username = format!("of-{}-{t}", slug(owner.as_deref().unwrap_or("tenant")));
            let mut body = customer(&world, t, owner.as_deref(), &username);
            body["zone_id"] = json!(zone);
            body["router_id"] = json!(router);
            let id = made(app, &dev, Kind::Customer.path(), body).await;
            let label = format!("customer {username}");
            world
                .records
                .push(record(Kind::Customer, id, t, owner, label));
        }
    }
    world
}

/// Sends a CSV import into tenant `tenant` as `token`.
async fn import(app: &TestApp, token: &str, tenant: i64, csv: String) -> (StatusCode, Value) {
    let response = app
        .http
        .post(format!(
            "{}/api/v1/customers/import?tenant_id={tenant}",
            app.base
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// Every account sends an import into both tenants: a row for the sender (or the tenant) and
/// a row for the tenant's other operator. The jobs queued are run to the end; the customers
/// they create are the sender's, the tenant's or the other operator's as the rules allow.
async fn imports(app: &TestApp, world: &mut World) -> Checks {
    let mut checks = Checks::default();
    let dev = world.tokens["dev"].clone();
    let mut expected_rows = Vec::new();
    let mut queued = Vec::new();
    for sender in world.accounts.keys() {
        for t in TENANTS {
            let other = format!("op2_{t}");
            let own = world.owner_of_new(sender, None);
            let first = format!("imp-{}-{t}-1", slug(sender));
            let second = format!("imp-{}-{t}-2", slug(sender));
            let csv = format!(
                "username,password,name,connection_type,package,owner\n\
                 {first},pass-word-1,Imported,pppoe,{},\n\
                 {second},pass-word-2,Imported,pppoe,{},{other}@x.example\n",
                world.package_for(t, own.as_deref()),
                world.package_for(t, Some(&other)),
            );
            let (status, job) = import(app, &world.tokens[sender], world.tenants[&t], csv).await;
            let want = world.imports(sender, t);
            checks.status(&format!("{sender} imports into {t}"), status, want, &job);
            if status != StatusCode::ACCEPTED {
                continue;
            }
            let mut rows = vec![(first, own)];
            if world.acts_for_customers_of(sender, t, Some(&other))
                && world.sees_customers_of(sender, t, Some(&other))
            {
                rows.push((second, Some(other)));
            }
            queued.push((job["id"].as_i64().unwrap(), t, sender.clone(), rows.len()));
            expected_rows.extend(rows.into_iter().map(|(u, o)| (u, t, o)));
        }
    }
    for (id, t, by, created) in queued {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let job = loop {
            let (_, job) = app.get(&format!("/api/v1/jobs/{id}"), &dev).await;
            if job["status"] == "done" || job["status"] == "failed" {
                break job;
            }
            assert!(std::time::Instant::now() < deadline, "job {id}: {job}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        checks.holds(
            job["status"] == "done" && job["result"]["created"] == json!(created),
            || format!("the import of {by} into {t} creates {created}: {job}"),
        );
        world.jobs.push(Job { id, tenant: t, by });
    }
    let (_, all) = app.get("/api/v1/customers?limit=500", &dev).await;
    let by_name: BTreeMap<&str, &Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["username"].as_str().unwrap(), c))
        .collect();
    let expected_names: BTreeSet<&str> = expected_rows.iter().map(|(u, ..)| u.as_str()).collect();
    for name in by_name.keys().filter(|n| n.starts_with("imp-")) {
        checks.holds(expected_names.contains(name), || {
            format!("an import created {name}, which it should have refused")
        });
    }
    for (username, t, owner) in expected_rows {
        let Some(c) = by_name.get(username.as_str()) else {
            continue; // reported with the job's count
        };
        let columns = (c["operator_id"].clone(), c["sub_operator_id"].clone());
        checks.holds(columns == world.owner_columns(owner.as_deref()), || {
            format!("imported {username} is owned by {columns:?}, expected {owner:?}")
        });
        let id = c["id"].as_i64().unwrap();
        let label = format!("customer {username}");
        world
            .imported
            .push(record(Kind::Customer, id, t, owner, label));
    }
    checks
}

/// Every list holds exactly what the actor sees.
async fn lists(app: &TestApp, world: &World) -> Checks {
    let each = ACTORS.iter().map(|actor| async move {
        let mut checks = Checks::default();
        let token = &world.tokens[*actor];
        for kind in Kind::ALL {
            let (status, list) = app.get(&format!("{}?limit=500", kind.path()), token).await;
            checks.status(
                &format!("{actor} lists {kind:?}"),
                status,
                StatusCode::OK,
                &list,
            );
            let got = ids(&list);
            let want: BTreeSet<i64> = world
                .records
                .iter()
                .chain(&world.imported)
                .filter(|r| r.kind == kind && world.sees(actor, r))
                .map(|r| r.id)
                .collect();
            checks.holds(got == want, || {
                format!("{actor} lists {kind:?} {got:?}, expected {want:?}")
            });
        }
        let (_, list) = app
            .get("/api/v1/jobs?kind=customer.import&limit=500", token)
            .await;
        let got = ids(&list);
        let want: BTreeSet<i64> = world
            .jobs
            .iter()
            .filter(|j| world.sees_job(actor, j))
            .map(|j| j.id)
            .collect();
        checks.holds(got == want, || {
            format!("{actor} lists jobs {got:?}, expected {want:?}")
        });
        for job in &world.jobs {
            let (status, body) = app.get(&format!("/api/v1/jobs/{}", job.id), token).await;
            let want = expected(world.sees_job(actor, job), true, StatusCode::OK);
            let what = format!("{actor} GET the job of {} in {}", job.by, job.tenant);
            checks.status(&what, status, want, &body);
        }
        checks
    });
    gather(each).await
}

/// Every actor reads and changes every seeded record (a customer is also suspended and its
/// password read); a refused change leaves it as it was.
async fn reads_and_changes(app: &TestApp, world: &World) -> Checks {
    let dev = &world.tokens["dev"];
    let each = world.records.iter().map(|r| async move {
        let mut checks = Checks::default();
        let path = format!("{}/{}", r.kind.path(), r.id);
        let mut version = app.get(&path, dev).await.1["version"].clone();
        for actor in ACTORS {
            let token = &world.tokens[*actor];
            let (visible, allowed) = (world.sees(actor, r), world.changes(actor, r));
            let (status, body) = app.get(&path, token).await;
            let want = expected(visible, true, StatusCode::OK);
            checks.status(&format!("{actor} GET {}", r.label), status, want, &body);

            let name = match r.kind {
                Kind::Pool => format!("{}-by-{actor}", slug(&r.label)),
                _ => format!("{} by {actor}", r.label),
            };
            let (status, body) = app
                .patch(&path, token, json!({"name": name, "version": version}))
                .await;
            let want = expected(visible, allowed, StatusCode::OK);
            checks.status(&format!("{actor} PATCH {}", r.label), status, want, &body);
            let stored = app.get(&path, dev).await.1;
            checks.holds(
                (stored["name"] == json!(name)) == (want == StatusCode::OK),
                || format!("{actor} PATCH {}: stored name {}", r.label, stored["name"]),
            );
            version = stored["version"].clone();
            if r.kind != Kind::Customer {
                continue;
            }

            let suspend = format!("{path}/suspend");
            let (status, body) = app.post(&suspend, token, json!({"version": version})).await;
            checks.status(
                &format!("{actor} suspends {}", r.label),
                status,
                want,
                &body,
            );
            let stored = app.get(&path, dev).await.1;
            let suspended = stored["status"] == "suspended";
            checks.holds(suspended == (want == StatusCode::OK), || {
                format!("{actor} suspends {}: stored {}", r.label, stored["status"])
            });
            version = stored["version"].clone();
            if suspended {
                let resume = format!("{path}/resume");
                let (_, resumed) = app.post(&resume, dev, json!({"version": version})).await;
                version = resumed["version"].clone();
            }
            let (status, body) = app.get(&format!("{path}/password"), token).await;
            checks.status(
                &format!("{actor} reads the password of {}", r.label),
                status,
                want,
                &body,
            );
            checks.holds(
                status != StatusCode::OK || body["password"] == "pass-word-1",
                || format!("{actor} reads the password of {}: {body}", r.label),
            );
        }
        checks
    });
    gather(each).await
}

/// One actor's creations and deletions in one tenant, on fresh records so that no deletion
/// disturbs another case.
struct Case<'a> {
    app: &'a TestApp,
    world: &'a World,
    actor: &'a str,
    t: char,
    /// The actor's and the tenant's positions, for addresses no other case takes.
    n: usize,
    m: usize,
    checks: Checks,
}

impl Case<'_> {
    fn tag(&self) -> String {
        format!("{}-{}", self.actor, self.t)
    }

    fn dev(&self) -> &str {
        &self.world.tokens["dev"]
    }

    fn record(&self, kind: Kind, id: i64, owner: Option<String>, label: &str) -> Record {
        let label = format!("{label} ({})", self.tag());
        record(kind, id, self.t, owner, label)
    }

    /// Creates `body` as the actor, expecting `want`; returns the record's id, or the id of
    /// `spare` created by the Developer when the actor could not.
    async fn post(&mut self, what: &str, path: &str, bodies: [Value; 2], want: StatusCode) -> i64 {
        let [body, spare] = bodies;
        let token = &self.world.tokens[self.actor];
        let (status, created) = self.app.post(path, token, body).await;
        let what = format!("{} creates {what} in {}", self.actor, self.t);
        self.checks.status(&what, status, want, &created);
        if status == StatusCode::CREATED {
            created["id"].as_i64().unwrap()
        } else {
            made(self.app, self.dev(), path, spare).await
        }
    }

    /// Deletes `r` as the actor; checks the answer and that the record is gone exactly when
    /// the answer says so. Returns whether it is gone.
    async fn delete(&mut self, r: &Record) -> bool {
        let (world, actor) = (self.world, self.actor);
        let path = format!("{}/{}", r.kind.path(), r.id);
        let (status, body) = self.app.delete(&path, &world.tokens[actor]).await;
        let done = StatusCode::NO_CONTENT;
        let want = expected(world.sees(actor, r), world.changes(actor, r), done);
        let what = format!("{actor} DELETE {}", r.label);
        self.checks.status(&what, status, want, &body);
        let (stored, _) = self.app.get(&path, self.dev()).await;
        let gone = stored == StatusCode::NOT_FOUND;
        self.checks.holds(gone == (want == done), || {
            format!("{what}: afterwards {stored}")
        });
        gone
    }

    /// A router, a zone and a pool: created, then deleted.
    async fn network(&mut self) {
        let (world, actor, t) = (self.world, self.actor, self.t);
        let tenant = world.tenants[&t];
        let want = if !world.sees_tenant(actor, t) {
            StatusCode::UNPROCESSABLE_ENTITY
        } else if !world.runs(actor, t, "manage_network") {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::CREATED
        };
        let (tag, n, m) = (self.tag(), self.n, self.m);
        let kinds = [
            (Kind::Router, "a router"),
            (Kind::Zone, "a zone"),
            (Kind::Pool, "a pool"),
        ];
        for (kind, what) in kinds {
            let body = |k: usize| match kind {
                Kind::Router => json!({"tenant_id": tenant, "name": format!("r{k} {tag}"),
                                       "nas_address": format!("10.{}.{n}.{k}", 200 + m)}),
                Kind::Zone => json!({"tenant_id": tenant, "name": format!("z{k} {tag}")}),
                _ => json!({"tenant_id": tenant, "name": format!("p{k}-{}", slug(&tag)),
                            "ranges": format!("172.{}.{n}.{}/28", 16 + m, 16 * k)}),
            };
            let id = self.post(what, kind.path(), [body(1), body(2)], want).await;
            let r = self.record(kind, id, None, what);
            self.delete(&r).await;
        }
    }

    /// A master, a package derived from it for op1 and one derived from that for sub1a:
    /// created, then deleted leaf first (the Developer deletes what the actor could not).
    async fn packages(&mut self) {
        let (world, actor, t) = (self.world, self.actor, self.t);
        let tag = self.tag();
        let want = if !world.sees_tenant(actor, t) {
            StatusCode::UNPROCESSABLE_ENTITY
        } else if !world.runs(actor, t, "manage_packages") {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::CREATED
        };
        let body = |k: usize| master(world.tenants[&t], &format!("m{k} {tag}"), None);
        let path = Kind::Package.path();
        let id = self.post("a master", path, [body(1), body(2)], want).await;
        let mut chain = vec![self.record(Kind::Package, id, None, "a master")];
        for (owner, what) in [
            ("op1", "an operator package"),
            ("sub1a", "a sub-operator package"),
        ] {
            let owner = format!("{owner}_{t}");
            let parent = chain.last().unwrap().clone();
            // A parent the caller cannot see is not found; whoever sees it may offer it on.
            let want = if world.sees(actor, &parent) {
                StatusCode::CREATED
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let owner_id = world.account(&owner).id;
            let body = |k: usize| derived(parent.id, owner_id, &format!("d{k} {tag}"));
            let id = self.post(what, path, [body(1), body(2)], want).await;
            chain.push(self.record(Kind::Package, id, Some(owner), what));
        }
        for r in chain.iter().rev() {
            if !self.delete(r).await {
                let gone = self
                    .app
                    .delete(&format!("{path}/{}", r.id), self.dev())
                    .await;
                assert_eq!(gone.0, StatusCode::NO_CONTENT, "{}", gone.1);
            }
        }
    }

    /// A customer of every owner: created (owned as the rules say), then deleted.
    async fn customers(&mut self) {
        let (world, actor, t) = (self.world, self.actor, self.t);
        let (tag, path) = (slug(&self.tag()), Kind::Customer.path());
        for (k, owner) in OWNERS.into_iter().enumerate() {
            let owner = owner.map(|o| format!("{o}_{t}"));
            let named = owner.as_deref();
            // Unnamed, a reseller's customer is its own.
            let own = world.owner_of_new(actor, named);
            let mut body = customer(world, t, named, &format!("new{k}-{tag}"));
            body["package_id"] = json!(world.package_for(t, own.as_deref()));
            let spare = |name: &str| customer(world, t, named, &format!("{name}{k}-{tag}"));
            let want = world.creates_customer(actor, t, named);
            let of = format!("a customer of {}", named.unwrap_or("the tenant"));
            let mut id = self.post(&of, path, [body, spare("spare")], want).await;
            let stored = self.app.get(&format!("{path}/{id}"), self.dev()).await.1;
            let columns = (
                stored["operator_id"].clone(),
                stored["sub_operator_id"].clone(),
            );
            let owned = if want == StatusCode::CREATED {
                &own
            } else {
                &owner
            };
            self.checks
                .holds(columns == world.owner_columns(owned.as_deref()), || {
                    format!("{actor} creates {of}: owned by {columns:?}")
                });
            if owned != &owner {
                id = made(self.app, self.dev(), path, spare("other")).await;
            }
            let r = self.record(Kind::Customer, id, owner.clone(), &of);
            self.delete(&r).await;
        }
    }
}

/// Every actor creates a router, a zone, a pool, a master, a package derived for an operator
/// and one for a sub-operator, and a customer of every owner, in both tenants, and deletes
/// fresh ones of each (made by the Developer where the actor could not make them).
async fn creates_and_deletes(app: &TestApp, world: &World) -> Checks {
    let cases = ACTORS.iter().enumerate().flat_map(|(n, actor)| {
        TENANTS.into_iter().enumerate().map(move |(m, t)| Case {
            app,
            world,
            actor,
            t,
            n,
            m,
            checks: Checks::default(),
        })
    });
    let each = cases.map(|mut case| async move {
        case.network().await;
        case.packages().await;
        case.customers().await;
        case.checks
    });
    gather(each).await
}

async fn every_role_reaches_exactly_the_isp_records_the_role_table_gives_it(backend: Backend) {
    let app = spawn(backend).await;
    let mut world = seed(&app).await;
    let mut checks = imports(&app, &mut world).await;
    checks.merge(lists(&app, &world).await);
    checks.merge(reads_and_changes(&app, &world).await);
    checks.merge(creates_and_deletes(&app, &world).await);

    // Every password read is in the audit log, and only those.
    let reads = ACTORS
        .iter()
        .flat_map(|actor| world.records.iter().map(move |r| (actor, r)))
        .filter(|(actor, r)| r.kind == Kind::Customer && world.changes(actor, r))
        .count();
    let logged = app
        .count("audit_log WHERE action = 'customer.read_password'")
        .await;
    checks.holds(logged == i64::try_from(reads).unwrap(), || {
        format!("{logged} password reads audited, expected {reads}")
    });

    assert!(
        checks.failures.is_empty(),
        "{} of {} cases failed:\n{}",
        checks.failures.len(),
        checks.cases,
        checks.failures.join("\n")
    );
}

both_backends!(every_role_reaches_exactly_the_isp_records_the_role_table_gives_it);
