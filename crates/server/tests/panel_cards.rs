//! The panel's Cards pages (`/panel/cards`) over HTTP, without a browser, on both engines:
//!
//! - A tenant's Admin opens them from the navigation; a refused batch form comes back with
//!   what was typed and the reasons beside the fields, writing nothing; a batch that does
//!   not keep its PINs shows them on the answer that made it and never again (not on the
//!   batch's page, not in the list); a batch that keeps them links its printable sheet.
//!   The page reads in Bangla.
//! - The Admin hands a batch's cards to a card distributor by the serials typed (a hand-out
//!   without a holder comes back with the serials still typed); an Accountant reads the
//!   batch but its forged move is refused on the page. The distributor signs in, sees its
//!   stock and its cards, sells one as an e-PIN and reads its PIN (the one printed on the
//!   sheet; the same form sent again shows the same PIN and sells nothing more; another
//!   sale of it is refused), and sells another to a customer by mobile (an e-top-up). It
//!   cannot open or move the tenant's batches.
//! - Another tenant's Admin sees none of it; a Developer picks the tenant and makes a batch
//!   there.
//!
//! Each test reads the database as well as the pages; `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::money::verify_clean;
use support::panel::{Isp, Reply, Visitor, audited, isp, staff_of};
use support::{Backend, PASSWORD, TestApp, spawn};

/// A tenant with what cards need: two master packages, an operator, its derived package,
/// and a card distributor under it, on credit.
struct World<'a> {
    isp: Isp<'a>,
    /// PPPoE, 500.00 BDT.
    home: i64,
    /// Hotspot.
    day_pass: i64,
    op: i64,
    /// `Op Home`, derived from `home` for the operator: 550.00 BDT.
    op_home: i64,
    dist: i64,
}

async fn world(app: &TestApp) -> World<'_> {
    let isp = isp(app).await;
    let (dev, tenant) = (isp.dev.as_str(), isp.tenant);
    let master = |name: &str, kind: &str| {
        json!({"tenant_id": tenant, "name": name, "connection_type": kind, "download_kbps": 20000,
               "upload_kbps": 5000, "validity_days": 30, "price": 50000})
    };
    let home = created_id(app, dev, "/api/v1/packages", master("Home 20M", "pppoe")).await;
    let day_pass = created_id(app, dev, "/api/v1/packages", master("Day pass", "hotspot")).await;
    let mut op_user = staff_of(tenant, "op@dhaka.example", "operator");
    op_user["name"] = json!("Op One");
    let op = app.user(dev, op_user).await;
    let op_home = created_id(
        app,
        dev,
        "/api/v1/packages",
        json!({"parent_id": home, "owner_id": op, "name": "Op Home", "price": 55000, "cost_price": 50000}),
    )
    .await;
    let dist = app
        .user(
            dev,
            json!({"email": "dist@dhaka.example", "name": "Dist Rahman", "role": "card_distributor",
                   "tenant_id": tenant, "parent_id": op}),
        )
        .await;
    // On credit, it owes each card when it is redeemed (`card_accounts.rs`).
    let admin = app.login("admin@dhaka.example", PASSWORD).await;
    let (status, terms) = app
        .patch(
            &format!("/api/v1/users/{dist}"),
            &admin,
            json!({"account_type": "credit", "credit_limit": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{terms}");
    World {
        isp,
        home,
        day_pass,
        op,
        op_home,
        dist,
    }
}

async fn created_id(app: &TestApp, token: &str, path: &str, body: serde_json::Value) -> i64 {
    let (status, reply) = app.post(path, token, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{path} {body}: {reply}");
    reply["id"].as_i64().unwrap()
}

/// A batch made through the API by the tenant's Admin; its id.
async fn api_batch(app: &TestApp, world: &World<'_>, quantity: i64, keep: bool) -> i64 {
    let admin = app.login("admin@dhaka.example", PASSWORD).await;
    let (status, made) = app
        .post(
            "/api/v1/card-batches",
            &admin,
            json!({"package_id": world.home, "quantity": quantity, "keep_pins": keep}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["batch"]["id"].as_i64().unwrap()
}

fn serial(batch: i64, n: u32) -> String {
    format!("B{batch:04}-{n:06}")
}

/// The PINs a page shows in `<code class="big">`, in order.
fn big_codes(page: &Reply) -> Vec<String> {
    page.body
        .split("<code class=\"big\"")
        .skip(1)
        .filter_map(|rest| {
            let from = rest.find('>')? + 1;
            let to = rest.find("</code>")?;
            Some(rest[from..to].to_owned())
        })
        .collect()
}

/// The PIN the printed sheet shows for `serial`.
fn pin_on_sheet(sheet: &Reply, serial: &str) -> String {
    let cell = sheet
        .body
        .find(&format!("data-serial=\"{serial}\""))
        .unwrap_or_else(|| panic!("{serial} is on the sheet"));
    let rest = &sheet.body[cell..];
    let from = rest.find("<div class=\"card-pin\">").unwrap() + "<div class=\"card-pin\">".len();
    let to = from + rest[from..].find("</div>").unwrap();
    rest[from..to].trim().to_owned()
}

/// The batch id a page links to as `/panel/cards/batches/ID`.
fn batch_linked(page: &Reply) -> i64 {
    let marker = "/panel/cards/batches/";
    let at = page.body.find(marker).expect("a link to the batch") + marker.len();
    let digits: String = page.body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// The stored card of `serial`: its state and holder.
async fn stored_card(app: &TestApp, tenant: i64, serial: &str) -> (String, Option<i64>) {
    let card = store::card::by_serial(app.state.db.conn(), domain::ids::TenantId(tenant), serial)
        .await
        .unwrap()
        .expect("the card is stored");
    (card.state.code().to_owned(), card.holder_id)
}

async fn a_tenant_admin_makes_batches_and_sees_a_batchs_pins_only_once(backend: Backend) {
    let app = spawn(backend).await;
    let mut world = world(&app).await;
    let tenant = world.isp.tenant;
    let (home, day_pass) = (world.home.to_string(), world.day_pass.to_string());
    let browser = &mut world.isp.admin;

    // From the navigation: no batch yet, the form with the tenant's packages and holders.
    let dashboard = browser.get("/panel").await;
    assert!(dashboard.has("href=\"/panel/cards\""), "{}", dashboard.body);
    let page = browser.get("/panel/cards").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("href=\"/panel/cards\" aria-current=\"page\""));
    assert_eq!(
        page.text_of("cards-title").as_deref(),
        Some("Cards and vouchers · Dhaka Net")
    );
    assert!(page.has("id=\"cards-no-batches\""));
    assert!(
        !page.has("id=\"cards-tenant\""),
        "its own tenant, none to pick"
    );
    assert!(
        page.has(&format!(
            "<option value=\"{home}\" >Home 20M · PPPoE · 500.00 BDT</option>"
        )),
        "{}",
        page.body
    );
    assert!(page.has(&format!(
        "<option value=\"{day_pass}\" >Day pass · Hotspot · 500.00 BDT</option>"
    )));
    assert!(page.has("Dist Rahman · Card Distributor"), "{}", page.body);
    assert!(page.has("Op One · Operator"));

    // Refused: a voucher of a PPPoE package, no cards; what was typed stays, nothing kept.
    let refused = browser
        .submit(
            "/panel/cards",
            "/panel/cards/batches",
            &[
                ("kind", "access"),
                ("package_id", &home),
                ("quantity", "0"),
                ("price", ""),
                ("valid_until", ""),
                ("holder_id", ""),
                ("note", "Shop A"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.has("Please correct the fields marked below."));
    assert!(
        refused.has("Vouchers are of a hotspot package."),
        "{}",
        refused.body
    );
    assert!(refused.has("Between 1 and 100000."), "{}", refused.body);
    assert!(
        refused.has("<option value=\"access\" selected>"),
        "{}",
        refused.body
    );
    assert!(refused.has(&format!("<option value=\"{home}\" selected>")));
    assert_eq!(refused.input("quantity").as_deref(), Some("0"));
    assert_eq!(refused.input("note").as_deref(), Some("Shop A"));
    assert!(
        refused.has("name=\"keep_pins\" value=\"on\" >"),
        "the unticked box stays unticked: {}",
        refused.body
    );
    // A price that is not an amount is said beside the price, as typed.
    let refused = browser
        .submit(
            "/panel/cards",
            "/panel/cards/batches",
            &[
                ("kind", "access"),
                ("package_id", &day_pass),
                ("quantity", "2"),
                ("price", "12.345"),
                ("keep_pins", "on"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.has("Not an amount (digits, at most 2 after the point)."));
    assert_eq!(refused.input("price").as_deref(), Some("12.345"));
    assert!(refused.has("name=\"keep_pins\" value=\"on\" checked>"));
    assert_eq!(app.count("card_batch").await, 0);
    assert_eq!(app.count("card").await, 0);

    // Not keeping its PINs: they are on this answer, with the warning, and only here.
    let made = browser
        .submit(
            "/panel/cards",
            "/panel/cards/batches",
            &[
                ("kind", "recharge"),
                ("package_id", &home),
                ("quantity", "3"),
                ("price", "450"),
                ("holder_id", ""),
                ("note", "Counter"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(made.has("id=\"card-pins-once\""));
    assert!(made.has("shown now and never again"), "{}", made.body);
    let batch = batch_linked(&made);
    let pins = big_codes(&made);
    assert_eq!(pins.len(), 3, "{}", made.body);
    for (n, pin) in (1..).zip(&pins) {
        assert_eq!(
            pin.chars().filter(char::is_ascii_digit).count(),
            13,
            "{pin}"
        );
        assert!(made.has(&format!("data-serial=\"{}\"", serial(batch, n))));
    }
    let stored = store::card::batch(app.state.db.conn(), None, batch)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.keeps_pins);
    assert_eq!(
        (stored.tenant_id, stored.quantity, stored.price),
        (tenant, 3, 45_000)
    );
    assert_eq!(stored.note, "Counter");
    assert_eq!(app.count("card").await, 3);
    assert_eq!(audited(&app, "card.batch").await, 1);

    // The batch's page and the list: its serials and counts, never a PIN, no sheet.
    let page = browser.get(&format!("/panel/cards/batches/{batch}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.text_of("count-in_stock").as_deref(),
        Some("3 In stock")
    );
    for n in 1..=3 {
        assert!(page.has(&format!("data-card=\"{}\"", serial(batch, n))));
    }
    let list = browser.get("/panel/cards").await;
    assert_eq!(list.rows("batch"), [batch]);
    assert_eq!(
        list.text_of(&format!("batch-{batch}-counts")).as_deref(),
        Some("In stock: 3")
    );
    assert!(list.has("450.00 BDT") && list.has("Counter"));
    for shown in [&page, &list] {
        for pin in &pins {
            assert!(!shown.has(pin), "{pin} is shown again");
            assert!(!shown.has(&pin.replace(' ', "")), "{pin} is shown again");
        }
        assert!(!shown.has("/card-batches/"), "no sheet for PINs not kept");
    }
    assert!(
        page.has("Not kept"),
        "{}",
        page.text_of("batch-pins").unwrap_or_default()
    );

    // Keeping its PINs: to the batch's page, which links the printable sheet.
    let kept = browser
        .submit(
            "/panel/cards",
            "/panel/cards/batches",
            &[
                ("kind", "recharge"),
                ("package_id", &home),
                ("quantity", "4"),
                ("keep_pins", "on"),
            ],
        )
        .await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER, "{}", kept.body);
    let kept_id = kept.created_id();
    let page = browser.get(kept.location()).await;
    assert!(page.has("Created."), "the flash: {}", page.body);
    assert!(big_codes(&page).is_empty(), "no PIN on the batch's page");
    let sheet_link = format!("/card-batches/{kept_id}/print?layout=a4-3x8");
    assert!(page.has(&format!("href=\"{sheet_link}\"")), "{}", page.body);
    let sheet = browser.get(&sheet_link).await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert_eq!(sheet.body.matches("data-serial=").count(), 4);
    assert_eq!(pin_on_sheet(&sheet, &serial(kept_id, 1)).len(), 16);
    assert_eq!(
        browser.get("/panel/cards").await.rows("batch"),
        [kept_id, batch],
        "newest first"
    );

    // In Bangla.
    browser.cookies.insert("lastmile_lang".into(), "bn".into());
    let page = browser.get("/panel/cards").await;
    assert_eq!(
        page.text_of("cards-title").as_deref(),
        Some("কার্ড ও ভাউচার · Dhaka Net")
    );
    assert!(page.has("নতুন ব্যাচ"), "{}", page.body);
    let page = browser.get(&format!("/panel/cards/batches/{batch}")).await;
    assert_eq!(page.text_of("count-in_stock").as_deref(), Some("3 স্টকে"));
}

async fn a_distributor_sells_the_cards_handed_to_it_and_reads_their_pin(backend: Backend) {
    let app = spawn(backend).await;
    let mut world = world(&app).await;
    let tenant = world.isp.tenant;
    let batch = api_batch(&app, &world, 4, true).await;
    let dist = world.dist.to_string();
    let batch_page = format!("/panel/cards/batches/{batch}");
    let typed = format!(
        "{}\n{}\n{}",
        serial(batch, 1),
        serial(batch, 2),
        serial(batch, 3)
    );

    // A hand-out without a holder: the serials stay typed, nothing moves.
    let refused = world
        .isp
        .admin
        .submit(
            &batch_page,
            &format!("{batch_page}/move"),
            &[
                ("selection", "serials"),
                ("serials", &typed),
                ("holder_id", ""),
                ("action", "assign"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.has("This field is required."));
    assert!(
        refused.has(&format!(">{typed}</textarea>")),
        "{}",
        refused.body
    );
    assert_eq!(
        stored_card(&app, tenant, &serial(batch, 1)).await,
        ("in_stock".into(), None)
    );

    // Three of its four cards, by serial, to the distributor.
    let moved = world
        .isp
        .admin
        .submit(
            &batch_page,
            &format!("{batch_page}/move"),
            &[
                ("selection", "serials"),
                ("serials", &typed),
                ("holder_id", &dist),
                ("action", "assign"),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(moved.location(), format!("{batch_page}?moved=3"));
    let page = world.isp.admin.get(moved.location()).await;
    assert_eq!(
        page.text_of("cards-moved").as_deref(),
        Some("3 card(s) moved.")
    );
    assert_eq!(
        page.text_of("count-assigned").as_deref(),
        Some("3 Assigned")
    );
    assert_eq!(
        page.text_of("count-in_stock").as_deref(),
        Some("1 In stock")
    );
    assert!(page.has("<td>Dist Rahman</td>"), "{}", page.body);
    for n in 1..=3 {
        assert_eq!(
            stored_card(&app, tenant, &serial(batch, n)).await,
            ("assigned".into(), Some(world.dist))
        );
    }
    assert_eq!(
        stored_card(&app, tenant, &serial(batch, 4)).await,
        ("in_stock".into(), None)
    );
    let sheet = world
        .isp
        .admin
        .get(&format!("/card-batches/{batch}/print"))
        .await;
    assert_eq!(sheet.status, StatusCode::OK);

    // An Accountant reads the batch; its forged move is refused on the page.
    app.user(
        &world.isp.dev,
        staff_of(tenant, "books@dhaka.example", "accountant"),
    )
    .await;
    let mut books = Visitor::signed_in(&app, "books@dhaka.example").await;
    let page = books.get(&batch_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.has("id=\"card-move-form\"") && !page.has("/card-batches/"));
    let csrf = page.input("_csrf").unwrap();
    let forged = books
        .post(
            &format!("{batch_page}/move"),
            &[("_csrf", &csrf), ("selection", "batch"), ("action", "void")],
        )
        .await;
    assert_eq!(
        forged.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        forged.body
    );
    assert_eq!(
        forged.text_of("move-error").as_deref(),
        Some("You may not do this.")
    );
    assert_eq!(
        stored_card(&app, tenant, &serial(batch, 4)).await.0,
        "in_stock"
    );

    // The distributor: its stock and its cards, no customers, none of the tenant's batches.
    let mut seller = Visitor::signed_in(&app, "dist@dhaka.example").await;
    let dashboard = seller.get("/panel").await;
    assert!(dashboard.has("href=\"/panel/cards\""));
    assert!(!dashboard.has("href=\"/panel/customers\""));
    let page = seller.get("/panel/cards").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.text_of("cards-title").as_deref(),
        Some("My cards · Dist Rahman")
    );
    assert_eq!(
        page.text_of("cards-account").as_deref(),
        Some("Your balance: 0.00 BDT; available to spend: no limit. · On credit, without a limit")
    );
    let stock = |state: &str| format!("stock-{}-{state}", world.home);
    assert!(page.has("<td>Home 20M</td>"), "{}", page.body);
    assert_eq!(page.text_of(&stock("assigned")).as_deref(), Some("3"));
    assert_eq!(page.text_of(&stock("sold")), None);
    for n in 1..=3 {
        assert!(page.has(&format!("data-card=\"{}\"", serial(batch, n))));
    }
    assert!(!page.has(&serial(batch, 4)), "not its card");
    assert!(!page.has("data-batch="));
    for path in [batch_page.clone(), format!("/card-batches/{batch}/print")] {
        let refused = seller.get(&path).await;
        assert!(
            matches!(
                refused.status,
                StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
            ),
            "{path}: {}",
            refused.status
        );
        assert!(!refused.has("card-pin") && !refused.has("data-card="));
    }
    let csrf = page.input("_csrf").unwrap();
    let forged = seller
        .post(
            &format!("{batch_page}/move"),
            &[("_csrf", &csrf), ("selection", "batch"), ("action", "void")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert_eq!(
        stored_card(&app, tenant, &serial(batch, 4)).await.0,
        "in_stock"
    );

    // An e-PIN: the card's PIN, the one printed for it; sent again, the same answer.
    let key = page.input("key").expect("the e-PIN form's key");
    let first = serial(batch, 1);
    let form = [
        ("_csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("serial", first.as_str()),
    ];
    let sold = seller.post("/panel/cards/reveal", &form).await;
    assert_eq!(sold.status, StatusCode::OK, "{}", sold.body);
    let pin = sold.text_of("epin").expect("the PIN is shown");
    assert_eq!(pin, pin_on_sheet(&sheet, &first));
    assert!(
        sold.has("Give this PIN to the customer now"),
        "{}",
        sold.body
    );
    assert_eq!(stored_card(&app, tenant, &first).await.0, "sold");
    let again = seller.post("/panel/cards/reveal", &form).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.text_of("epin"), Some(pin.clone()));
    assert_eq!(audited(&app, "card.reveal").await, 1, "sold once");
    // From a fresh page the card is sold already, said beside the serial as typed.
    let page = seller.get("/panel/cards").await;
    let fresh = page.input("key").unwrap();
    let refused = seller
        .post(
            "/panel/cards/reveal",
            &[("_csrf", &csrf), ("key", &fresh), ("serial", &first)],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.has("This card was sold already"),
        "{}",
        refused.body
    );
    assert_eq!(refused.input("serial").as_deref(), Some(first.as_str()));
    assert!(!refused.has(&pin));
    assert_eq!(refused.text_of(&stock("assigned")).as_deref(), Some("2"));
    assert_eq!(refused.text_of(&stock("sold")).as_deref(), Some("1"));

    // An e-top-up: the second card sold to the operator's customer found by mobile.
    let admin = app.login("admin@dhaka.example", PASSWORD).await;
    let op = app.login("op@dhaka.example", PASSWORD).await;
    let (status, body) = support::money::topup(&app, &admin, world.op, 1_000_000).await;
    assert!(status.is_success(), "{body}");
    let customer = created_id(
        &app,
        &op,
        "/api/v1/customers",
        json!({"name": "Rahim Uddin", "connection_type": "pppoe", "package_id": world.op_home,
               "username": "rahim", "password": "pw-rahim-1", "mobile": "01712345678"}),
    )
    .await;
    let page = seller.get("/panel/cards").await;
    let sale_key = {
        let marker = "id=\"card-sale-form\"";
        let form = &page.body[page.body.find(marker).unwrap()..];
        let at = form.find("name=\"key\" value=\"").unwrap() + "name=\"key\" value=\"".len();
        form[at..at + form[at..].find('"').unwrap()].to_owned()
    };
    let second = serial(batch, 2);
    let sale = seller
        .post(
            "/panel/cards/sales",
            &[
                ("_csrf", csrf.as_str()),
                ("key", sale_key.as_str()),
                ("sale_serial", second.as_str()),
                ("mobile", "01712345678"),
                ("customer_id", ""),
            ],
        )
        .await;
    assert_eq!(sale.status, StatusCode::OK, "{}", sale.body);
    assert_eq!(
        sale.text_of("sold-customer").as_deref(),
        Some("Ra*** Ud***")
    );
    assert_eq!(sale.text_of("sold-amount").as_deref(), Some("550.00 BDT"));
    assert!(!sale.has("id=\"epin\""));
    let (state, _) = stored_card(&app, tenant, &second).await;
    assert_eq!(state, "redeemed");
    let redeemed =
        store::card::by_serial(app.state.db.conn(), domain::ids::TenantId(tenant), &second)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(redeemed.redeemed_by, Some(customer));
    verify_clean(&app).await;
}

async fn another_tenant_sees_nothing_and_a_developer_picks_the_tenant(backend: Backend) {
    let app = spawn(backend).await;
    let world = world(&app).await;
    let tenant = world.isp.tenant;
    let batch = api_batch(&app, &world, 2, true).await;
    let dev = world.isp.dev.clone();

    // Another tenant's Admin: an empty page, the batch not found, nothing moved.
    let other = app.tenant(&dev, "Chittagong Link").await;
    app.user(&dev, staff_of(other, "admin@ctg.example", "admin"))
        .await;
    let mut stranger = Visitor::signed_in(&app, "admin@ctg.example").await;
    let page = stranger.get("/panel/cards").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.rows("batch").is_empty());
    assert!(page.has("id=\"cards-no-batches\""));
    assert!(!page.has(&serial(batch, 1)) && !page.has("Home 20M"));
    for path in [
        format!("/panel/cards/batches/{batch}"),
        format!("/panel/cards?tenant_id={tenant}"),
    ] {
        let refused = stranger.get(&path).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!refused.has(&serial(batch, 1)));
    }
    let csrf = page.input("_csrf").unwrap();
    let forged = stranger
        .post(
            &format!("/panel/cards/batches/{batch}/move"),
            &[("_csrf", &csrf), ("selection", "batch"), ("action", "void")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert_eq!(
        stored_card(&app, tenant, &serial(batch, 1)).await.0,
        "in_stock"
    );

    // The Developer picks the tenant, and the batch form makes the batch there.
    let mut developer = Visitor::signed_in(&app, "dev@example.com").await;
    let path = format!("/panel/cards?tenant_id={tenant}");
    let page = developer.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("id=\"cards-tenant\""));
    assert_eq!(
        page.text_of("cards-title").as_deref(),
        Some("Cards and vouchers · Dhaka Net")
    );
    assert_eq!(page.rows("batch"), [batch]);
    assert_eq!(
        page.input("tenant_id").as_deref(),
        Some(tenant.to_string().as_str())
    );
    let day_pass = world.day_pass.to_string();
    let made = developer
        .submit(
            &path,
            "/panel/cards/batches",
            &[
                ("tenant_id", &tenant.to_string()),
                ("kind", "access"),
                ("package_id", &day_pass),
                ("quantity", "2"),
                ("keep_pins", "on"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let voucher = store::card::batch(app.state.db.conn(), None, made.created_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(voucher.tenant_id, tenant);
    assert_eq!(voucher.kind.code(), "access");
    let page = developer.get(made.location()).await;
    assert_eq!(
        page.text_of("count-in_stock").as_deref(),
        Some("2 In stock")
    );
    assert!(page.has("Dhaka Net"));
    // The other tenant's page still shows none of it.
    let page = stranger.get("/panel/cards").await;
    assert!(page.rows("batch").is_empty());

    // A Manager granted the cards but not the users still hands cards to the tenant's
    // resellers and distributors: the holder list is the cards', not the user list's.
    let mut manager = staff_of(tenant, "cards@dhaka.example", "manager");
    manager["permissions"] = serde_json::json!(["manage_cards"]);
    app.user(&dev, manager).await;
    let mut manager = Visitor::signed_in(&app, "cards@dhaka.example").await;
    let page = manager.get(&format!("/panel/cards/batches/{batch}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.has(&format!("<option value=\"{}\"", world.dist)),
        "{}",
        page.body
    );
    assert!(page.has("Dist Rahman"));
}

both_backends!(
    a_tenant_admin_makes_batches_and_sees_a_batchs_pins_only_once,
    a_distributor_sells_the_cards_handed_to_it_and_reads_their_pin,
    another_tenant_sees_nothing_and_a_developer_picks_the_tenant,
);
