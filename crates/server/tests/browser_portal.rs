//! The captive portal in a real headless Chromium the size of a phone (Debian's `chromium`
//! and `chromium-driver`; 360 × 740 CSS pixels, an Android user agent), driven through
//! WebDriver from the hotspot's door to the portal's goodbye, with nothing of lastmile
//! mocked: the simulated router's hotspot servlet (`simnas::hotspot`) serves the login page
//! lastmile made, whose script posts the router's variables to the portal; the codes go out
//! through the SMS outbox to the simulated gateway and are read there; each hand-off lands
//! on the servlet's `/login`, which asks lastmile's built-in RADIUS server by CHAP and opens
//! the session only if it accepts; and the servlet's `alogin.html` and `logout.html` bring
//! the browser back to the portal's status and goodbye screens.
//!
//! One phone (one browser, its cookies kept throughout), in turn:
//!
//! 1. A new mobile, in Bangla, proves itself, takes the trial and is online on MAC A; the
//!    status screen shows the trial's package and the device.
//! 2. The same phone with a rotated (private) MAC B proves the mobile again and is connected
//!    at once as the account's second device, in English.
//! 3. It logs out; a second person proves another mobile on the same device, takes its own
//!    trial and is online as a second account on MAC B (the reference product crashed on a
//!    device two accounts share).
//! 4. The first account is suspended; on a third MAC the first mobile is asked to recharge,
//!    a card of the day package lifts the suspension (a recharge resumes a suspended
//!    account, `ops::billing`), the account's two devices are its limit, one is removed, and
//!    the phone is online.
//! 5. It logs out: the goodbye screen, and the router's session is gone.
//! 6. On a fourth MAC, an access voucher typed as people type it (lower case) instead of a
//!    mobile is a walk-up account of its own, online at once; it logs out.
//!
//! Every screen fits 360 pixels, shows no raw markup, and never shows a code sent.
//! chromedriver runs as a child process on a free port and is stopped, with its browser,
//! even when the test fails; without Chromium or chromedriver the test fails, never skips.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_browser;
mod support_builtin;
mod support_freeradius;
mod support_hotspot;

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, until};
use support_browser::{
    Chromedriver, PHONE_WIDTH, click, phone_browser, text_of, type_into, wait_for, wait_for_text,
};
use support_freeradius::api::act;
use support_hotspot::{Site, site};

/// The first person's mobile, as typed (nationally) and as kept.
const MOBILE_1: &str = "01712345678";
const E164_1: &str = "+8801712345678";
/// The second person's.
const MOBILE_2: &str = "01812345678";
const E164_2: &str = "+8801812345678";

/// The phone's factory MAC.
const MAC_A: &str = "3C:5A:B4:11:22:0A";
/// A private (locally administered) MAC the phone rotates to.
const MAC_B: &str = "DA:11:22:33:44:0B";
/// Another factory MAC, for the recharge.
const MAC_C: &str = "3C:5A:B4:11:22:0C";
/// A fourth, for the voucher.
const MAC_D: &str = "3C:5A:B4:11:22:0D";

/// What the page shows, read in the page: its visible text, the values of its fields (but
/// the CSRF token, random hex that may hold any six digits), and its widths.
const LOOK: &str = "return {
    text: document.body ? document.body.innerText : '',
    values: Array.from(document.querySelectorAll('input:not([name=_csrf])'), i => i.value),
    width: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
};";

/// The phone in the browser, and every code sent to it so far.
struct Phone<'a> {
    site: &'a Site,
    browser: Client,
    codes: Vec<String>,
}

/// `01712345678` as the portal masks it: `017•••••678`.
fn masked(national: &str) -> String {
    let n = national.len();
    format!(
        "{}{}{}",
        &national[..3],
        "•".repeat(n - 6),
        &national[n - 3..]
    )
}

impl Phone<'_> {
    /// Waits for the portal's screen `name`, then checks it: at phone width nothing
    /// overflows, no markup shows as text, and no code sent shows anywhere.
    async fn screen(&self, name: &str) {
        wait_for(&self.browser, &format!("main[data-screen=\"{name}\"]")).await;
        let seen = self.browser.execute(LOOK, vec![]).await.unwrap();
        assert_eq!(
            seen["viewport"].as_u64(),
            Some(u64::from(PHONE_WIDTH)),
            "the page is laid out at phone width"
        );
        assert!(
            seen["width"].as_u64().unwrap() <= u64::from(PHONE_WIDTH),
            "screen {name} is wider than the phone: {seen}"
        );
        let text = seen["text"].as_str().unwrap();
        for raw in ["<", ">", "&lt;", "&gt;", "&amp;", "&#", "{{", "{%", "$("] {
            assert!(!text.contains(raw), "screen {name} shows {raw:?}: {text}");
        }
        let values = seen["values"].as_array().unwrap();
        for code in &self.codes {
            assert!(!text.contains(code.as_str()), "screen {name} shows a code");
            assert!(
                !values
                    .iter()
                    .any(|v| v.as_str().unwrap().contains(code.as_str())),
                "screen {name} holds a code in a field: {values:?}"
            );
        }
    }

    /// Joins the hotspot as `mac`: the router's login page goes on to the portal's first
    /// screen by itself.
    async fn join(&self, mac: &str) {
        self.browser.goto(&self.site.join_url(mac)).await.unwrap();
        self.screen("mobile").await;
    }

    /// Types `mobile`, asks for a code, reads it at the gateway and types it.
    async fn prove(&mut self, mobile: &str) {
        let e164 = format!("+88{mobile}");
        let before = self.site.codes_to(&e164).len();
        type_into(&self.browser, "#mobile", mobile).await;
        click(&self.browser, "#send-code").await;
        self.screen("code").await;
        let told = text_of(&self.browser, "main section p").await;
        assert!(told.contains(&masked(mobile)), "{told}");
        let code = self.site.code_for(&e164, before).await;
        self.codes.push(code.clone());
        type_into(&self.browser, "#code", &code).await;
        click(&self.browser, "#check-code").await;
    }

    /// Checks the status screen: on `package`, in `state`, with the devices `listed` (each
    /// called by the phone's kind, from its user agent) and not those of `not`.
    async fn status(&self, package: &str, state: &str, listed: &[&str], not: &[&str]) {
        self.screen("status").await;
        assert_eq!(text_of(&self.browser, "#package").await, package);
        assert_eq!(text_of(&self.browser, "#state").await, state);
        let devices = text_of(&self.browser, "main section:nth-of-type(2) ul.rows").await;
        for mac in listed {
            assert!(
                devices.contains(&format!("Android {mac}")),
                "{mac} is listed: {devices}"
            );
        }
        for mac in not {
            assert!(!devices.contains(mac), "{mac} is not listed: {devices}");
        }
    }

    /// Logs out from the status screen: the goodbye screen, and no session for `mac`.
    async fn log_out(&self, mac: &str, bye: &str) {
        click(&self.browser, "#logout").await;
        self.screen("bye").await;
        assert_eq!(text_of(&self.browser, "#bye").await, bye);
        assert!(
            self.site.hotspot.active().iter().all(|h| h.mac != mac),
            "the router ended the session of {mac}: {:?}",
            self.site.hotspot.active()
        );
    }

    /// The session the router has open for `mac`: its user.
    fn online_as(&self, mac: &str) -> String {
        let active = self.site.hotspot.active();
        let host = active
            .iter()
            .find(|h| h.mac == mac)
            .unwrap_or_else(|| panic!("the router has no session for {mac}: {active:?}"));
        assert_eq!(host.login_by, "http-chap", "{host:?}");
        host.user.clone()
    }
}

/// An access voucher of `package` made through the API: its code as printed.
async fn a_voucher_of(site: &Site, tenant: &Value, package: i64) -> String {
    let (status, made) = site
        .app
        .post(
            "/api/v1/card-batches",
            &site.dev,
            json!({"tenant_id": tenant, "kind": "access", "package_id": package,
                   "quantity": 1, "keep_pins": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["pins"][0]["pin"].as_str().unwrap().to_owned()
}

/// A batch of one card of `package` made through the API: the batch and the card's PIN.
async fn a_card_of(site: &Site, tenant: &Value, package: i64) -> (i64, String) {
    let (status, made) = site
        .app
        .post(
            "/api/v1/card-batches",
            &site.dev,
            json!({"tenant_id": tenant, "package_id": package, "quantity": 1, "keep_pins": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    (
        made["batch"]["id"].as_i64().unwrap(),
        made["pins"][0]["pin"].as_str().unwrap().to_owned(),
    )
}

async fn a_phone_goes_through_the_captive_portal_in_headless_chromium(backend: Backend) {
    let site = site(backend).await;
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let driver = Chromedriver::start(&scratch.path().join("chromedriver.log"));
    let mut phone = Phone {
        site: &site,
        browser: phone_browser(&driver, &scratch.path().join("profile")).await,
        codes: Vec::new(),
    };

    // 1. A new mobile in Bangla, on the trial, on the phone's factory MAC.
    phone.join(MAC_A).await;
    assert!(
        phone
            .browser
            .find(Locator::Id("private-mac"))
            .await
            .is_err(),
        "a factory MAC is not called private"
    );
    wait_for_text(&phone.browser, "main h2", "Sign in with your mobile").await;
    click(&phone.browser, "#lang-bn").await;
    wait_for(&phone.browser, "html[lang=bn]").await;
    phone.screen("mobile").await;
    assert_eq!(
        text_of(&phone.browser, "main h2").await,
        "মোবাইল নম্বর দিয়ে সাইন ইন করুন"
    );
    assert_eq!(text_of(&phone.browser, "#send-code").await, "কোড পাঠান");
    phone.prove(MOBILE_1).await;
    phone.screen("signup").await;
    assert_eq!(
        text_of(&phone.browser, "main h2").await,
        "স্বাগতম! আপনার এখনও কোনো অ্যাকাউন্ট নেই"
    );
    click(&phone.browser, "#trial").await;
    phone.status("Hotspot Try", "সক্রিয়", &[MAC_A], &[]).await;
    assert_eq!(text_of(&phone.browser, "#connected").await, "আপনি সংযুক্ত");
    let first = site.customer_with_mobile(E164_1).await;
    assert_eq!(phone.online_as(MAC_A), first["username"].as_str().unwrap());

    // 2. A rotated, private MAC: the same mobile proved again is connected at once as the
    //    account's second device (a code a minute per number), in English.
    site.app.clock().shift(61);
    phone.join(MAC_B).await;
    wait_for(&phone.browser, "#private-mac").await;
    assert_eq!(
        text_of(&phone.browser, "main h2").await,
        "Sign in with your mobile"
    );
    phone.prove(MOBILE_1).await;
    phone
        .status("Hotspot Try", "Active", &[MAC_A, MAC_B], &[])
        .await;
    assert_eq!(
        text_of(&phone.browser, "#connected").await,
        "You are connected"
    );
    assert_eq!(phone.online_as(MAC_B), first["username"].as_str().unwrap());
    assert_eq!(phone.online_as(MAC_A), first["username"].as_str().unwrap());

    // 3. The phone logs out; a second person proves another mobile on the same device,
    //    takes its own trial and is online as a second account on that MAC.
    phone.log_out(MAC_B, "You are logged out").await;
    site.app.clock().shift(61);
    phone.join(MAC_B).await;
    phone.prove(MOBILE_2).await;
    phone.screen("signup").await;
    click(&phone.browser, "#trial").await;
    phone
        .status("Hotspot Try", "Active", &[MAC_B], &[MAC_A])
        .await;
    let second = site.customer_with_mobile(E164_2).await;
    assert_ne!(second["id"], first["id"], "a second account");
    let second_user = second["username"].as_str().unwrap();
    assert_eq!(phone.online_as(MAC_B), second_user);
    let accepted_on_b: Vec<String> = site
        .hotspot
        .access_requests()
        .into_iter()
        .filter(|r| r.accepted && r.mac == MAC_B)
        .map(|r| r.user)
        .collect();
    assert_eq!(
        accepted_on_b,
        [first["username"].as_str().unwrap(), second_user],
        "both accounts were let in on MAC B, the first then the second"
    );

    // 4. The first account suspended: on a third MAC its mobile is asked to recharge, and a
    //    card of the day package brings it back; its two devices are its limit, so one goes.
    let suspended = act(&site.app, &site.dev, &first, "suspend").await;
    assert_eq!(suspended["status"], "suspended", "{suspended}");
    // Its session on MAC A is ended at the router (the server's Disconnect-Request).
    until(
        "the suspended account's session on MAC A ends",
        async || site.hotspot.active(),
        |active| active.iter().all(|h| h.mac != MAC_A),
    )
    .await;
    let (_, packages) = site.app.get("/api/v1/packages?limit=100", &site.dev).await;
    let day = packages["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Hotspot Day")
        .unwrap_or_else(|| panic!("the day package: {packages}"))["id"]
        .as_i64()
        .unwrap();
    let (batch, pin) = a_card_of(&site, &first["tenant_id"], day).await;
    site.app.clock().shift(61);
    phone.join(MAC_C).await;
    phone.prove(MOBILE_1).await;
    phone.screen("recharge").await;
    assert_eq!(
        text_of(&phone.browser, "main h2").await,
        "Your account is suspended"
    );
    type_into(&phone.browser, "#pin", &pin).await;
    click(&phone.browser, "#redeem").await;
    phone.screen("devices").await;
    let listed = text_of(&phone.browser, "main ul.rows").await;
    assert!(
        listed.contains(MAC_A) && listed.contains(MAC_B) && !listed.contains(MAC_C),
        "{listed}"
    );
    phone
        .browser
        .find(Locator::XPath(&format!(
            "//li[contains(., '{MAC_A}')]//button[@data-device]"
        )))
        .await
        .unwrap_or_else(|e| panic!("MAC A's remove button: {e}"))
        .click()
        .await
        .unwrap();
    phone
        .status("Hotspot Day", "Active", &[MAC_B, MAC_C], &[MAC_A])
        .await;
    assert_eq!(phone.online_as(MAC_C), first["username"].as_str().unwrap());
    let (_, recharged) = site
        .app
        .get(&format!("/api/v1/customers/{}", first["id"]), &site.dev)
        .await;
    assert_eq!(
        (&recharged["status"], &recharged["package_id"]),
        (&json!("active"), &json!(day)),
        "{recharged}"
    );
    let (status, cards) = site
        .app
        .get(
            &format!(
                "/api/v1/cards?tenant_id={}&batch_id={batch}&state=redeemed",
                first["tenant_id"]
            ),
            &site.dev,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cards}");
    assert_eq!(cards["items"][0]["redeemed_by"], first["id"], "{cards}");

    // 5. Logged out for good.
    phone.log_out(MAC_C, "You are logged out").await;

    // 6. A walk-up voucher.
    let code = a_voucher_of(&site, &first["tenant_id"], day).await;
    phone.join(MAC_D).await;
    type_into(&phone.browser, "#voucher", &code.to_lowercase()).await;
    click(&phone.browser, "#use-voucher").await;
    phone
        .status("Hotspot Day", "Active", &[MAC_D], &[MAC_A, MAC_B, MAC_C])
        .await;
    let user = phone.online_as(MAC_D);
    assert!(
        user.starts_with(&code.replace('-', "").to_lowercase()),
        "{user} is the voucher's account"
    );
    phone.log_out(MAC_D, "You are logged out").await;

    let _ = phone.browser.close().await;
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_phone_goes_through_the_captive_portal_in_headless_chromium() {
    a_phone_goes_through_the_captive_portal_in_headless_chromium(Backend::Postgres).await;
}
