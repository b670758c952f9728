//! Customers in the web panel over HTTP, without a browser: creation of each connection type
//! through the form (a made-up password shown once), the list's filters, search box, sort and
//! paging (asserted on the set of rows found), the action buttons (suspend, resume, disable,
//! change password, change package, rename, delete) changing the database and the
//! customer's FreeRADIUS rows, and an operator kept to its own customers. Each test reads the
//! database as well as the pages; `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Timelike as _, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::panel::{
    Isp, Reply, attribute, customer, customer_form, fixture, isp, password_on, radius_rows,
    stored_customer,
};
use support::{Backend, spawn};

async fn customers_of_each_connection_type_are_created_through_the_form(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let f = fixture(&app, &dev, tenant).await;
    let new = "/panel/customers/new";
    let (home, zone, router) = (
        f.home.to_string(),
        f.north.to_string(),
        f.router.to_string(),
    );

    let reply = admin
        .submit(
            new,
            new,
            &customer_form(&[
                ("package_id", &home),
                ("username", "rahim"),
                ("password", "first-pass"),
                ("name", "Rahim Uddin"),
                ("mobile", "01712345678"),
                ("zone_id", &zone),
                ("router_id", &router),
                ("mac", "aa-bb-cc-dd-ee-01"),
            ]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let pppoe = stored_customer(&app, reply.created_id()).await;
    assert_eq!(
        (pppoe.username.as_str(), pppoe.connection_type.as_str()),
        ("rahim", "pppoe")
    );
    assert_eq!(pppoe.mobile.as_deref(), Some("+8801712345678"));
    assert_eq!(
        (pppoe.zone_id, pppoe.router_id),
        (Some(f.north), Some(f.router))
    );
    let rows = radius_rows(&app, pppoe.id).await;
    assert_eq!(rows.usernames, ["rahim"]);
    assert_eq!(
        attribute(&rows.check, "Cleartext-Password"),
        Some("first-pass")
    );
    assert_eq!(
        attribute(&rows.check, "Calling-Station-Id"),
        Some("AA:BB:CC:DD:EE:01")
    );
    assert_eq!(
        attribute(&rows.reply, "Mikrotik-Rate-Limit"),
        Some("2M/10M")
    );
    assert_eq!(attribute(&rows.reply, "Framed-Pool"), Some("pppoe-main"));

    // A hotspot customer, its connection type left to its package, is known by its mobile
    // number with the realm; its password, made up by lastmile, is shown once.
    let hotspot = f.hotspot.to_string();
    let reply = admin
        .submit(
            new,
            new,
            &customer_form(&[
                ("connection_type", ""),
                ("package_id", &hotspot),
                ("name", "Salma Begum"),
                ("mobile", "01812345678"),
            ]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let password = password_on(&reply).expect("the made-up password is shown");
    let id = reply.action_id("/panel/customers/").unwrap();
    let stored = stored_customer(&app, id).await;
    assert_eq!(
        (stored.username.as_str(), stored.connection_type.as_str()),
        ("8801812345678@dhaka-net", "hotspot")
    );
    let rows = radius_rows(&app, id).await;
    assert_eq!(
        attribute(&rows.check, "Cleartext-Password"),
        Some(password.as_str())
    );
    assert!(password_on(&admin.get(&format!("/panel/customers/{id}")).await).is_none());

    // A static-IP customer takes the first free address of the pool chosen.
    let (static_package, static_pool) = (f.static_ip.to_string(), f.static_pool.to_string());
    let reply = admin
        .submit(
            new,
            new,
            &customer_form(&[
                ("connection_type", "static_ip"),
                ("package_id", &static_package),
                ("username", "static-corp"),
                ("password", "static-pass"),
                ("name", "Static Corp"),
                ("billing_type", "postpaid"),
                ("ip_pool_id", &static_pool),
                ("allocate_static", "on"),
            ]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let stored = stored_customer(&app, reply.created_id()).await;
    let address = store::customer::static_ip(&stored)
        .expect("a static address")
        .to_string();
    assert!(address.starts_with("10.5.0."), "{address}");
    let rows = radius_rows(&app, stored.id).await;
    assert_eq!(
        attribute(&rows.reply, "Framed-IP-Address"),
        Some(address.as_str())
    );
    assert_eq!(
        attribute(&rows.check, "Expiration"),
        None,
        "postpaid: no expiry"
    );
    let pool_page = admin
        .get(&format!("/panel/ip-pools/{}", f.static_pool))
        .await;
    assert_eq!(pool_page.text_of("pool-used").as_deref(), Some("1"));
    // Its page moves it to another address of the pool; one outside the pool is refused.
    let page = format!("/panel/customers/{}", stored.id);
    let moved = [
        ("static_ip", "10.5.0.50"),
        ("ip_pool_id", static_pool.as_str()),
    ];
    let reply = admin.submit(&page, &page, &moved).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let rows = radius_rows(&app, stored.id).await;
    assert_eq!(
        attribute(&rows.reply, "Framed-IP-Address"),
        Some("10.5.0.50")
    );
    let outside = [
        ("static_ip", "10.6.0.1"),
        ("ip_pool_id", static_pool.as_str()),
    ];
    let reply = admin.submit(&page, &page, &outside).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.has("The address is not in the pool."),
        "{}",
        reply.body
    );
    let stored = stored_customer(&app, stored.id).await;
    assert_eq!(
        store::customer::static_ip(&stored)
            .map(|ip| ip.to_string())
            .as_deref(),
        Some("10.5.0.50")
    );

    // Anything else.
    let other = f.other.to_string();
    let reply = admin
        .submit(
            new,
            new,
            &customer_form(&[
                ("connection_type", "other"),
                ("package_id", &other),
                ("username", "genset-1"),
                ("password", "genset-pass"),
                ("name", "Genset"),
                ("billing_type", "free"),
            ]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        stored_customer(&app, reply.created_id())
            .await
            .billing_type
            .code(),
        "free"
    );

    // A package of another connection type, or of another owner, is refused beside the field.
    let before = app.count("customer").await;
    let reply = admin
        .submit(
            new,
            new,
            &customer_form(&[
                ("package_id", &hotspot),
                ("username", "wrong"),
                ("name", "Wrong Package"),
            ]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.has("The package is for another connection type."),
        "{}",
        reply.body
    );
    assert!(reply.has("value=\"Wrong Package\""), "what was typed stays");
    let op1_home = f.op1_home.to_string();
    let reply = admin
        .submit(
            new,
            new,
            &customer_form(&[
                ("package_id", &op1_home),
                ("username", "wrong"),
                ("name", "Wrong Owner"),
            ]),
        )
        .await;
    assert!(
        reply.has("The owner may not use this package."),
        "{}",
        reply.body
    );
    assert_eq!(app.count("customer").await, before);
}

/// The HTML of a customer's row in a list page.
fn row_of(page: &Reply, id: i64) -> &str {
    let start = page
        .body
        .find(&format!("data-customer=\"{id}\""))
        .unwrap_or_else(|| panic!("customer {id} is listed"));
    let end = page.body[start..].find("</tr>").unwrap() + start;
    &page.body[start..end]
}

fn set(ids: &[i64]) -> BTreeSet<i64> {
    ids.iter().copied().collect()
}

/// A date of the tenant's calendar (Asia/Dhaka) `days` from `now`.
fn dhaka_day(now: DateTime<Utc>, days: i64) -> String {
    (now + TimeDelta::days(days))
        .with_timezone(&chrono_tz::Asia::Dhaka)
        .format("%Y-%m-%d")
        .to_string()
}

async fn the_customer_list_finds_rows_by_every_filter_and_the_search_box(backend: Backend) {
    let app = spawn(backend).await;
    // "Expires today" needs some of today left in Dhaka; the clock moves before anyone
    // signs in, so no session idles out across the jump.
    let local = app.clock().now().with_timezone(&chrono_tz::Asia::Dhaka);
    if local.hour() == 23 && local.minute() >= 30 {
        app.clock().shift(3600);
    }
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let f = fixture(&app, &dev, tenant).await;
    let now = app.clock().now();
    let at = |delta: TimeDelta| (now + delta).to_rfc3339();
    let c1 = customer(
        &app,
        &dev,
        tenant,
        json!({"package_id": f.home, "connection_type": "pppoe",
        "name": "Rahim Uddin", "username": "rahim", "password": "pass-1", "mobile": "01712000001",
        "zone_id": f.north, "router_id": f.router, "mac": "AA:BB:CC:00:00:01",
        "expires_at": at(TimeDelta::days(10))}),
    )
    .await;
    let c2 = customer(&app, &dev, tenant, json!({"package_id": f.op1_home, "owner_id": f.op1,
        "connection_type": "pppoe", "name": "Karim Ahmed", "username": "karim", "password": "pass-2",
        "mobile": "01712000002", "zone_id": f.south, "expires_at": at(-TimeDelta::days(1))})).await;
    let c3 = customer(
        &app,
        &dev,
        tenant,
        json!({"package_id": f.hotspot, "connection_type": "hotspot",
        "name": "Salma Begum", "mobile": "01812000003", "password": "pass-3",
        "expires_at": at(TimeDelta::minutes(10))}),
    )
    .await;
    let c4 = customer(&app, &dev, tenant, json!({"package_id": f.static_ip, "connection_type": "static_ip",
        "name": "Static Corp", "username": "static-corp", "password": "pass-4", "billing_type": "postpaid",
        "router_id": f.router, "ip_pool_id": f.static_pool, "allocate_static_ip": true})).await;
    let c5 = customer(
        &app,
        &dev,
        tenant,
        json!({"package_id": f.other, "connection_type": "other",
        "name": "Genset", "username": "genset", "password": "pass-5", "billing_type": "free",
        "status": "suspended"}),
    )
    .await;
    let c6 = customer(
        &app,
        &dev,
        tenant,
        json!({"package_id": f.home, "connection_type": "pppoe",
        "name": "Disabled Dan", "username": "dan", "password": "pass-6", "status": "disabled",
        "expires_at": at(TimeDelta::days(60))}),
    )
    .await;
    let c7 = customer(&app, &dev, tenant, json!({"package_id": f.op2_home, "owner_id": f.op2,
        "connection_type": "pppoe", "name": "Op Two Customer", "username": "optwo", "password": "pass-7",
        "expires_at": at(TimeDelta::days(40))})).await;
    let id = |c: &Value| c["id"].as_i64().unwrap();
    let [c1, c2, c3, c4, c5, c6, c7] = [&c1, &c2, &c3, &c4, &c5, &c6, &c7].map(id);
    let ip = stored_customer(&app, c4).await;
    let ip = store::customer::static_ip(&ip).unwrap().to_string();

    let mut found = async |query: &str| -> BTreeSet<i64> {
        let page = admin.get(&format!("/panel/customers?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
        set(&page.rows("customer"))
    };
    let cases: Vec<(String, Vec<i64>)> = vec![
        (String::new(), vec![c1, c2, c3, c4, c5, c6, c7]),
        ("status=active".into(), vec![c1, c3, c4, c7]),
        ("status=expired".into(), vec![c2]),
        ("status=expires_today".into(), vec![c3]),
        ("status=suspended".into(), vec![c5]),
        ("status=disabled".into(), vec![c6]),
        ("connection_type=pppoe".into(), vec![c1, c2, c6, c7]),
        ("connection_type=hotspot".into(), vec![c3]),
        ("connection_type=static_ip".into(), vec![c4]),
        ("billing_type=postpaid".into(), vec![c4]),
        ("billing_type=free".into(), vec![c5]),
        (format!("package_id={}", f.home), vec![c1, c6]),
        (format!("package_id={}", f.op1_home), vec![c2]),
        (format!("router_id={}", f.router), vec![c1, c4]),
        (format!("zone_id={}", f.north), vec![c1]),
        (format!("owner_id={}", f.op2), vec![c7]),
        (
            format!(
                "expires_from={}&expires_to={}",
                dhaka_day(now, 5),
                dhaka_day(now, 20)
            ),
            vec![c1],
        ),
        (
            format!("expires_from={}", dhaka_day(now, 5)),
            vec![c1, c6, c7],
        ),
        (format!("ip={ip}"), vec![c4]),
        ("mac=aa-bb-cc-00-00-01".into(), vec![c1]),
        ("q=Begum".into(), vec![c3]),
        ("q=rahi".into(), vec![c1]),
        ("q=01712000002".into(), vec![c2]),
        (format!("q={ip}"), vec![c4]),
        ("q=AA%3ABB%3ACC%3A00%3A00%3A01".into(), vec![c1]),
        ("connection_type=pppoe&status=expired".into(), vec![c2]),
        (format!("zone_id={}&status=active", f.south), vec![]),
    ];
    for (query, expected) in cases {
        assert_eq!(found(&query).await, set(&expected), "{query}");
    }

    // A bad filter value is said beside the filters, not ignored.
    let page = admin.get("/panel/customers?ip=not-an-ip").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.has("Not an IP address."), "{}", page.body);

    // The columns: the package and owner by name (the ISP for its own customers), the state
    // (expired as such), the expiry in the tenant's time zone.
    let page = admin.get("/panel/customers").await;
    let karim = row_of(&page, c2);
    assert!(
        karim.contains("Op One Home") && karim.contains("op1@dhaka.example"),
        "{karim}"
    );
    assert!(
        karim.contains("class=\"state state-expired\">Expired<"),
        "{karim}"
    );
    let expiry = stored_customer(&app, c1).await.expires_at.unwrap();
    let local = expiry
        .with_timezone(&chrono_tz::Asia::Dhaka)
        .format("%Y-%m-%d %H:%M");
    assert!(
        row_of(&page, c1).contains(&local.to_string()),
        "{}",
        row_of(&page, c1)
    );
    // The ISP's own customer names the ISP as its owner.
    assert!(
        row_of(&page, c1).contains(">Dhaka Net</td>"),
        "{}",
        row_of(&page, c1)
    );
    assert!(page.has("7 in all"));

    // Two rows a page, by name: the pages follow one another to the end.
    let mut names = Vec::new();
    let mut next = Some("/panel/customers?sort=name&limit=2".to_owned());
    let mut pages = 0;
    while let Some(link) = next {
        let page = admin.get(&link).await;
        assert!(page.rows("customer").len() <= 2, "{link}: {}", page.body);
        names.extend(page.rows("customer"));
        next = page.next_link();
        pages += 1;
    }
    assert_eq!(names, [c6, c5, c2, c7, c1, c3, c4]);
    assert_eq!(pages, 4);
    // Each page says which rows it shows, and goes back a page as well as forward.
    let second = admin.get("/panel/customers?sort=name&limit=2").await;
    let second = admin.get(&second.next_link().unwrap()).await;
    assert!(second.has("3–4 of 7"), "{}", second.body);
    let third = admin.get(&second.next_link().unwrap()).await;
    assert!(third.has("5–6 of 7"), "{}", third.body);
    let back = third.link_with_rel("prev").expect("a previous page");
    let back = admin.get(&back).await;
    assert_eq!(back.rows("customer"), [c2, c7], "{}", back.body);
    assert!(back.has("3–4 of 7"));

    // The same list in Bangla.
    admin.cookies.insert("lastmile_lang".into(), "bn".into());
    let page = admin.get("/panel/customers?status=expired").await;
    assert!(page.has("<h1>গ্রাহক</h1>"), "{}", page.body);
    assert!(row_of(&page, c2).contains("মেয়াদোত্তীর্ণ"));
}

/// A Manager granted `manage_customers` but not `view_users` is offered the tenant's
/// resellers as owners of a new customer (it may act for them), and its list filters on them.
async fn a_customer_manager_is_offered_the_resellers_as_owners(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let op = app
        .user(
            &isp.dev,
            support::panel::staff_of(isp.tenant, "op@dhaka.example", "operator"),
        )
        .await;
    let mut manager = support::panel::staff_of(isp.tenant, "cm@dhaka.example", "manager");
    manager["permissions"] = json!(["manage_customers"]);
    app.user(&isp.dev, manager).await;
    let mut manager = support::panel::Visitor::signed_in(&app, "cm@dhaka.example").await;
    let form = manager.get("/panel/customers/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.has(&format!("<option value=\"{op}\"")),
        "{}",
        form.body
    );
    let (status, _) = app
        .get(
            &format!("/api/v1/users/{op}"),
            &app.login("cm@dhaka.example", support::PASSWORD).await,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "it still does not see users");
}

both_backends!(
    customers_of_each_connection_type_are_created_through_the_form,
    the_customer_list_finds_rows_by_every_filter_and_the_search_box,
    a_customer_manager_is_offered_the_resellers_as_owners,
);
