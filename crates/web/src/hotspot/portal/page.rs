//! The captive portal's one page and what fills it: [`PortalPage`] (the `portal.html`
//! template, whose `screen` says which step it shows) with its rows, the page for what a
//! proved mobile gets ([`standing_page`]), what a refusal says and answers, and the
//! portal's dates and time left in the visit's language. It reads nothing and decides
//! nothing: the handlers in `super` and `super::steps` build pages from what `ops` said.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::i18n::{Lang, Tr};
use domain::customer::{CustomerState, Msisdn};
use domain::hotspot::{Blocked, Next};
use ops::OpError;
use ops::hotspot::visit::{Standing, Step};
use store::hotspot::Device;

/// One account as the page lists it.
struct AccountRow {
    id: i64,
    username: String,
    state: &'static str,
    expires: String,
}

/// One device as the page lists it.
pub(super) struct DeviceRow {
    pub(super) id: i64,
    pub(super) account: i64,
    pub(super) label: String,
    pub(super) mac: String,
    pub(super) randomised: bool,
}

/// One open session of an account in use, as the page lists it.
struct SessionRow {
    /// The bound device's label, or the MAC when no device has it.
    device: String,
    mac: String,
    since: String,
}

/// The portal's one page; `screen` says which step it shows.
#[derive(Template)]
#[template(path = "portal.html")]
pub(super) struct PortalPage {
    pub(super) t: Tr,
    key: String,
    csrf: String,
    tenant: String,
    screen: &'static str,
    /// A message (already in the page's language) about what was refused.
    pub(super) error: String,
    pub(super) mobile: String,
    masked: String,
    pub(super) account: i64,
    why: &'static str,
    network: String,
    trial: bool,
    accounts: Vec<AccountRow>,
    pub(super) devices: Vec<DeviceRow>,
    pub(super) package: String,
    pub(super) expires: String,
    pub(super) state: &'static str,
    pub(super) logout_url: String,
    randomised: bool,
    sessions: Vec<SessionRow>,
    /// The page looks again in a moment (the routers are ending sessions).
    pub(super) refresh: bool,
    /// A voucher's code to fill in.
    pub(super) voucher: String,
    /// Paid time left, in the page's language (empty when none counts).
    pub(super) time_left: String,
    /// Volume left of the period's, in the page's language (empty without a volume).
    pub(super) data_left: String,
    /// The tenant takes online payments at the portal (the recharge screen offers one).
    pub(super) pays_online: bool,
}

impl PortalPage {
    /// A page at `screen` with nothing of a visit on it.
    pub(super) fn new(lang: Lang, key: &str, screen: &'static str) -> Self {
        PortalPage {
            t: Tr { lang },
            key: key.to_owned(),
            csrf: String::new(),
            tenant: String::new(),
            screen,
            error: String::new(),
            mobile: String::new(),
            masked: String::new(),
            account: 0,
            why: "",
            network: String::new(),
            trial: false,
            accounts: Vec::new(),
            devices: Vec::new(),
            package: String::new(),
            expires: String::new(),
            state: "",
            logout_url: String::new(),
            randomised: false,
            sessions: Vec::new(),
            refresh: false,
            voucher: String::new(),
            time_left: String::new(),
            data_left: String::new(),
            pays_online: false,
        }
    }

    /// A page at `screen` for the visit `step`, with its CSRF token and mobile.
    pub(super) fn of(step: &Step, token: &str, screen: &'static str) -> Self {
        let mut page = PortalPage::new(lang_of(step), &step.portal.portal_key, screen);
        page.csrf = csrf(token);
        page.tenant = step.tenant.name.clone();
        page.mobile = step
            .visit
            .mobile
            .as_deref()
            .map(|m| Msisdn::stored(m).national())
            .unwrap_or_default();
        page.masked = crate::page::ui::masked(&page.mobile);
        page.randomised = step
            .visit
            .mac
            .as_deref()
            .and_then(domain::network::MacAddr::parse)
            .is_some_and(|m| m.is_random());
        page
    }

    /// What an account's state is called.
    fn state_text(&self, state: &str) -> &'static str {
        self.t.t(&format!("portal.state.{state}"))
    }

    /// Why the account cannot sign in.
    fn why_text(&self) -> &'static str {
        self.t.t(&format!("portal.why.{}", self.why))
    }

    /// This page, offering online payment on the recharge screen when `step`'s tenant
    /// takes it.
    pub(super) async fn with_payment(mut self, ctx: &ops::Ctx<'_>, step: &Step) -> Self {
        if self.screen == "recharge" {
            self.pays_online = ops::hotspot::pay::pays_online(ctx, step)
                .await
                .unwrap_or(false);
        }
        self
    }

    /// The page saying why `error` refused the step.
    pub(super) fn with_error(mut self, error: &OpError) -> Self {
        self.error = message(self.t, error);
        self
    }
}

/// A page with no-store caching (every portal page is about one phone's visit).
pub(super) fn page(status: StatusCode, template: &PortalPage) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            tracing::error!(%error, "portal page rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response()
        }
    }
}

/// The visit's language.
pub(super) fn lang_of(step: &Step) -> Lang {
    Lang::parse(&step.visit.lang).unwrap_or_default()
}

/// The visit's CSRF token: a hash of its cookie under a label of its own.
pub(super) fn csrf(token: &str) -> String {
    store::hotspot::token_hash(&format!("csrf|{token}"))
}

/// What the phone is told about a refusal, in its language.
pub(super) fn message(t: Tr, error: &OpError) -> String {
    match error {
        OpError::Invalid(errors) => crate::page::ui::field_messages(t, errors)
            .into_iter()
            .map(|(_, message)| message)
            .collect::<Vec<_>>()
            .join(" "),
        OpError::TooMany(seconds) => t.t1("portal.wait", "n", &seconds.to_string()),
        OpError::NotFound | OpError::Forbidden => t.t("portal.not_allowed").to_owned(),
        _ => t.t("portal.try_later").to_owned(),
    }
}

/// The status a page refused with `error` answers.
pub(super) fn status_of(error: &OpError) -> StatusCode {
    match error {
        OpError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        OpError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
        OpError::NotFound => StatusCode::NOT_FOUND,
        OpError::Forbidden => StatusCode::FORBIDDEN,
        OpError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `at` in the tenant's zone, to the minute (empty without one).
pub(super) fn date_of(step: &Step, at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    let zone = ops::customer::zone(&step.tenant);
    at.map(|at| at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The page for what a proved mobile gets.
pub(super) fn standing_page(
    step: &Step,
    token: &str,
    standing: &Standing,
    now: chrono::DateTime<chrono::Utc>,
) -> PortalPage {
    let accounts: Vec<AccountRow> = standing
        .accounts
        .iter()
        .map(|c| AccountRow {
            id: c.id,
            username: c.username.clone(),
            state: CustomerState::of(c.status.get(), c.billing_type.get(), c.expires_at, now)
                .as_str(),
            expires: date_of(step, c.expires_at),
        })
        .collect();
    let devices = |account: i64| -> Vec<DeviceRow> {
        standing
            .devices
            .iter()
            .filter(|d| d.customer_id == account)
            .map(|d: &Device| DeviceRow {
                id: d.id,
                account,
                label: d.label.clone(),
                mac: d.mac.clone(),
                randomised: d.randomised,
            })
            .collect()
    };
    let mut p;
    match &standing.next {
        Next::SignIn { account, .. } => {
            p = PortalPage::of(step, token, "signin");
            p.account = *account;
            if p.masked.is_empty() {
                // A voucher's account: named by its code.
                p.masked = standing
                    .accounts
                    .iter()
                    .find(|c| c.id == *account)
                    .map(|c| c.username.split('@').next().unwrap_or("").to_uppercase())
                    .unwrap_or_default();
            }
        }
        Next::DeviceLimit { account } => {
            p = PortalPage::of(step, token, "devices");
            p.account = *account;
            p.devices = devices(*account);
        }
        Next::Choose(_) => {
            p = PortalPage::of(step, token, "choose");
        }
        Next::InUse { account } => {
            p = PortalPage::of(step, token, "in_use");
            p.account = *account;
            p.refresh = standing.ending;
            p.sessions = standing
                .sessions
                .iter()
                .filter(|s| s.customer_id == Some(*account))
                .map(|s| SessionRow {
                    device: standing
                        .devices
                        .iter()
                        .find(|d| {
                            d.customer_id == *account
                                && domain::network::MacAddr::parse(&d.mac)
                                    == domain::network::MacAddr::parse(&s.mac)
                        })
                        .map(|d| d.label.clone())
                        .unwrap_or_default(),
                    mac: s.mac.clone(),
                    since: date_of(step, s.started_at),
                })
                .collect();
        }
        Next::BoundElsewhere { account } => {
            p = PortalPage::of(step, token, "bound");
            p.account = *account;
        }
        Next::Recharge { account, why } => {
            p = PortalPage::of(step, token, "recharge");
            p.account = *account;
            p.why = match why {
                Blocked::Expired => "expired",
                Blocked::Suspended => "suspended",
                Blocked::UsedUp => "used_up",
            };
        }
        Next::OtherNetwork(network) => {
            p = PortalPage::of(step, token, "other");
            p.network = network.clone();
        }
        Next::SignUp { trial } => {
            p = PortalPage::of(step, token, "signup");
            p.trial = *trial;
        }
    }
    p.accounts = accounts;
    p
}

/// `left` as days and hours, or hours and minutes under a day.
pub(super) fn time_left(t: Tr, left: chrono::TimeDelta) -> String {
    let minutes = left.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if days > 0 {
        crate::i18n::format(
            t.lang,
            "portal.left_days",
            &[("d", days.to_string()), ("h", hours.to_string())],
        )
    } else {
        crate::i18n::format(
            t.lang,
            "portal.left_hours",
            &[("h", hours.to_string()), ("m", mins.to_string())],
        )
    }
}
