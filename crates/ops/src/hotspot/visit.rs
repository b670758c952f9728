//! A phone's visit to the captive portal, step by step (hotspot-design §1.5, §2.4, §4.3).
//!
//! 1. [`arrive`]: the router's login page posts its variables; the login address must be the
//!    router's own (`domain::hotspot::LoginUrl`), the CHAP offer is read, and a visit opens
//!    for fifteen minutes under a random cookie (only its hash is kept).
//! 2. [`send_code`]: a code goes to the mobile through the tenant's SMS outbox, in the same
//!    transaction as the code's keyed hash. The answer is the same whether or not the
//!    number has an account. Limits: a minute between codes and five an hour per number
//!    (`domain::otp::may_send`), three per visit, the portal's codes an hour per router,
//!    ten wrong tries an hour per number, and the outbox's own daily caps.
//! 3. [`check_code`]: the code typed is compared by keyed hash in constant time; five wrong
//!    tries kill it; a right one is used once (a conditional `UPDATE`), whatever races it.
//! 4. [`next`]: what the proved mobile gets, from `domain::hotspot::decide`: sign in (binding
//!    this device up to the portal's limit), pick an account, remove a device (its sessions
//!    end with it), pay, sign up (on the trial once per mobile), or "this number belongs to
//!    network X". An account with all its sessions open elsewhere is *in use*: RADIUS would
//!    refuse the hand-off, so the phone is told, and may end those sessions ([`take_over`]).
//! 5. [`hand_off`]: the device is bound and the phone sent to the router's login with the
//!    account's user name and, when the router offered CHAP, `MD5(id ‖ secret ‖ challenge)`
//!    (the secret never reaches the phone).
//!
//! An account that must pay first pays with a recharge card ([`redeem`]) or online
//! (`super::pay`).
//!
//! Instead of a mobile, a phone may type an access voucher's code (`super::voucher`).
//!
//! Every step after the first needs the visit's cookie; every step after the code needs
//! the proof; an account is acted on only if it is one of the proved mobile's (or the
//! voucher's).

use chrono::{DateTime, TimeDelta, Utc};
use rand::RngExt as _;

use crate::Ctx;
use crate::error::OpError;
use domain::access::system_customer_scope;
use domain::customer::{CustomerInput, CustomerState, Msisdn};
use domain::field::{FieldError, FieldErrors};
use domain::hotspot::{Account, Chap, Facts, LoginUrl, Next, Trial, decide};
use domain::ids::TenantId;
use domain::otp::{self, Purpose};
use store::Author;
use store::customer::Customer;
use store::hotspot::{Device, NewDevice, NewOtp, NewVisit, Portal, Visit, VisitChanges};
use store::tenant::Tenant;

/// How long a visit lasts before the hand-off.
pub const VISIT_TTL: TimeDelta = TimeDelta::minutes(15);

/// How long a visit lasts after it (the status page reads it).
pub const SIGNED_IN_TTL: TimeDelta = TimeDelta::days(1);

/// Visits a portal opens in a minute at most: a router's page posting faster is a flood,
/// not phones (every phone of a hotspot comes from the router's one address, so the limit
/// is per portal, not per address).
pub const VISITS_PER_MINUTE: u32 = 600;

/// Codes one visit may send.
pub const VISIT_CODES: i32 = 3;

/// Wrong tries on one number's codes in an hour before it gets no more codes.
pub const NUMBER_FAILURES: i64 = 10;

/// How the audit log names the portal.
pub(super) const AUTHOR: &str = "captive portal";

/// What the router's login page posted.
#[derive(Debug, Clone, Default)]
pub struct Arrival<'a> {
    /// The portal's key, from the address.
    pub key: &'a str,
    /// `$(mac)`.
    pub mac: &'a str,
    /// `$(ip)`.
    pub ip: &'a str,
    /// `$(link-login-only)`.
    pub login_url: &'a str,
    /// `$(link-orig)`.
    pub dst: &'a str,
    /// `$(chap-id)`.
    pub chap_id: &'a str,
    /// `$(chap-challenge)`.
    pub chap_challenge: &'a str,
    /// `$(error-orig)`.
    pub error: &'a str,
    /// `en` or `bn`.
    pub lang: &'a str,
}

/// A visit with its portal and tenant, as every step after the first sees it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The visit.
    pub visit: Visit,
    /// Its portal.
    pub portal: Portal,
    /// The portal's tenant.
    pub tenant: Tenant,
}

/// The active portal with `key`.
async fn portal_of(ctx: &Ctx<'_>, key: &str) -> Result<(Portal, Tenant), OpError> {
    if !domain::hotspot::is_key(key) {
        return Err(OpError::NotFound);
    }
    let conn = ctx.db.conn();
    let portal = store::hotspot::portal_by_key(conn, key)
        .await?
        .filter(|p| p.status == "active")
        .ok_or(OpError::NotFound)?;
    let tenant = store::tenant::find_any(conn, TenantId(portal.tenant_id))
        .await?
        .filter(|t| t.archived_at.is_none())
        .ok_or(OpError::NotFound)?;
    Ok((portal, tenant))
}

/// Opens a visit from the router's variables; returns its cookie and the visit. Refused:
/// an unknown portal (not found), a login address that is not the router's, a forged CHAP
/// offer.
pub async fn arrive(ctx: &Ctx<'_>, arrival: &Arrival<'_>) -> Result<(String, Visit), OpError> {
    let (portal, _) = portal_of(ctx, arrival.key).await?;
    let mut errors = FieldErrors::new();
    let login_url = errors.take(LoginUrl::parse(
        arrival.login_url,
        &super::hosts_of(&portal),
    ));
    let chap = errors.take(Chap::parse(arrival.chap_id, arrival.chap_challenge));
    let (Some(login_url), Some(chap)) = (login_url, chap) else {
        return Err(OpError::Invalid(errors));
    };
    let mac = domain::hotspot::client_mac(arrival.mac).map(|m| m.to_string());
    let ip = arrival
        .ip
        .trim()
        .parse::<std::net::Ipv4Addr>()
        .ok()
        .map(|ip| ip.to_string());
    let lang = if arrival.lang == "bn" { "bn" } else { "en" };
    let visit = NewVisit {
        portal: &portal,
        mac,
        ip,
        login_url: login_url.as_str(),
        dst: domain::hotspot::first_address(arrival.dst),
        chap: chap.map(|c| (i32::from(c.id), c.challenge_hex())),
        router_error: domain::hotspot::router_error(arrival.error),
        lang,
        expires_at: ctx.now + VISIT_TTL,
    };
    Ok(store::hotspot::open_visit(ctx.db.conn(), &visit, ctx.now).await?)
}

/// The live visit whose cookie is `token`, on the portal with `key`.
pub async fn step(ctx: &Ctx<'_>, key: &str, token: &str) -> Result<Step, OpError> {
    let (portal, tenant) = portal_of(ctx, key).await?;
    let visit = store::hotspot::visit(ctx.db.conn(), token, ctx.now)
        .await?
        .filter(|v| v.portal_id == portal.id)
        .ok_or(OpError::Unauthenticated("visit_expired"))?;
    Ok(Step {
        visit,
        portal,
        tenant,
    })
}

/// Remembers the visit's language.
pub async fn set_lang(ctx: &Ctx<'_>, step: &Step, lang: &str) -> Result<(), OpError> {
    let lang = if lang == "bn" { "bn" } else { "en" };
    store::hotspot::change_visit(
        ctx.db.conn(),
        step.visit.id,
        VisitChanges {
            lang: Some(lang.to_owned()),
            ..VisitChanges::default()
        },
    )
    .await?;
    Ok(())
}

/// The code's keyed hash: bound to the tenant, the purpose, the visit and the number.
fn code_mac(key: &[u8], tenant: i64, visit: i64, msisdn: &str, code: &str) -> String {
    store::card::lookup(key, &bound(tenant, visit, msisdn, code))
}

/// What a code sent in `visit` to `msisdn` is bound to.
fn bound(tenant: i64, visit: i64, msisdn: &str, code: &str) -> String {
    format!(
        "otp|{tenant}|{}|{visit}|{msisdn}|{code}",
        Purpose::SignIn.as_str()
    )
}

/// Seconds until `at`, at least one.
fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((at - now).num_seconds().max(1)).unwrap_or(1)
}

/// Sends a code to `mobile` (written nationally or in E.164) for this visit; see the module
/// documentation for the limits. Returns the seconds before another may be asked for.
pub async fn send_code(ctx: &Ctx<'_>, step: &Step, mobile: &str) -> Result<u64, OpError> {
    let country = crate::customer::mobile_country(&step.tenant)
        .ok_or_else(|| OpError::field("mobile", "unknown_country"))?;
    let msisdn = Msisdn::parse(mobile, &country).map_err(|e| FieldError {
        field: "mobile".to_owned(),
        ..e
    })?;
    if step.visit.codes >= VISIT_CODES {
        return Err(OpError::TooMany(seconds_until(
            step.visit.expires_at,
            ctx.now,
        )));
    }
    let tenant = TenantId(step.tenant.id);
    let conn = ctx.db.conn();
    let hour_ago = ctx.now - TimeDelta::hours(1);
    let (sent, failures) = store::hotspot::sent_to(conn, tenant, msisdn.as_str(), hour_ago).await?;
    if failures >= NUMBER_FAILURES {
        return Err(OpError::TooMany(3600));
    }
    if let Err(wait) = otp::may_send(&sent, ctx.now) {
        return Err(OpError::TooMany(u64::try_from(wait.max(1)).unwrap_or(1)));
    }
    let router_hourly = u64::try_from(step.portal.codes_per_hour).unwrap_or(0);
    if store::hotspot::sent_through(conn, step.visit.router_id, hour_ago).await? >= router_hourly {
        return Err(OpError::TooMany(3600));
    }
    let code = {
        let mut rng = rand::rng();
        otp::generate(&mut || rng.random::<u8>())
    };
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let key = store::card::key(&w, tenant).await?;
    let kept = store::hotspot::insert_otp(
        w.tx(),
        &NewOtp {
            tenant,
            visit: Some(&step.visit),
            purpose: Purpose::SignIn.as_str(),
            msisdn: msisdn.as_str(),
            code_mac: &code_mac(&key, tenant.0, step.visit.id, msisdn.as_str(), &code),
            expires_at: ctx.now + otp::TTL,
        },
        ctx.now,
    )
    .await?;
    let lang = domain::sms::Lang::parse(&step.visit.lang).unwrap_or_default();
    let minutes = otp::TTL.num_minutes().to_string();
    let text = crate::sms::template::text_for(
        &w,
        &step.tenant,
        domain::sms::Event::Otp,
        lang,
        &[("code", &code), ("minutes", &minutes)],
    )
    .await?;
    let queued = crate::sms::queue_in(
        &mut w,
        Some(&step.tenant),
        &crate::sms::SmsRequest {
            to: msisdn.as_str(),
            kind: "otp",
            text: &text,
            reference: &format!("otp:{}", kept.id),
            gateway_id: None,
        },
    )
    .await;
    if let Err(error) = queued {
        // The phone is told the code cannot be sent now, never why (a budget, a gateway).
        tracing::warn!(tenant = tenant.0, %error, "a portal code could not be queued");
        return Err(OpError::field("mobile", "sms_unavailable"));
    }
    w.audit(store::AuditEntry {
        tenant_id: Some(tenant),
        action: "hotspot.code_send",
        entity: "portal_session",
        entity_id: Some(step.visit.id),
        before: None,
        after: Some(serde_json::json!({
            "router_id": step.visit.router_id,
            "mac": step.visit.mac,
            "to": msisdn.as_str(),
        })),
    })
    .await?;
    w.commit().await?;
    store::hotspot::change_visit(
        conn,
        step.visit.id,
        VisitChanges {
            mobile: Some(msisdn.as_str().to_owned()),
            code_sent: true,
            ..VisitChanges::default()
        },
    )
    .await?;
    Ok(u64::try_from(otp::COOLDOWN.num_seconds()).unwrap_or(60))
}

/// Checks the code typed for this visit's mobile; a right one proves the mobile for the
/// visit. Refused with `code`: `no_code` (none sent), `wrong_code` (with `tries_left`),
/// `code_expired` (too old, replaced, used or tried too often).
pub async fn check_code(ctx: &Ctx<'_>, step: &Step, typed: &str) -> Result<(), OpError> {
    let conn = ctx.db.conn();
    let (Some(msisdn), Some(kept)) = (
        step.visit.mobile.as_deref(),
        store::hotspot::last_otp(conn, step.visit.id).await?,
    ) else {
        return Err(OpError::field("code", "no_code"));
    };
    let tenant = TenantId(step.tenant.id);
    crate::otp::redeem(ctx, tenant, &kept, typed, |code| {
        bound(tenant.0, step.visit.id, msisdn, code)
    })
    .await?;
    store::hotspot::change_visit(
        conn,
        step.visit.id,
        VisitChanges {
            verified_at: Some(ctx.now),
            ..VisitChanges::default()
        },
    )
    .await?;
    Ok(())
}

/// What proved a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof<'a> {
    /// A mobile, by the code sent to it.
    Mobile(&'a str),
    /// An access voucher: its account.
    Voucher(i64),
}

/// What proved the visit.
fn proved(step: &Step) -> Result<Proof<'_>, OpError> {
    match (
        &step.visit.mobile,
        step.visit.verified_at,
        step.visit.customer_id,
    ) {
        (Some(mobile), Some(_), _) => Ok(Proof::Mobile(mobile)),
        (None, Some(_), Some(account)) => Ok(Proof::Voucher(account)),
        _ => Err(OpError::Unauthenticated("mobile_not_proved")),
    }
}

/// The proved mobile of the visit (a voucher proves none).
fn proved_mobile(step: &Step) -> Result<&str, OpError> {
    match proved(step)? {
        Proof::Mobile(mobile) => Ok(mobile),
        Proof::Voucher(_) => Err(OpError::Forbidden),
    }
}

/// The accounts the visit may act for: the proved mobile's, or the voucher's.
async fn accounts_of(ctx: &Ctx<'_>, step: &Step) -> Result<Vec<Customer>, OpError> {
    let tenant = TenantId(step.tenant.id);
    let conn = ctx.db.conn();
    Ok(match proved(step)? {
        Proof::Mobile(msisdn) => store::hotspot::accounts_on(conn, tenant, msisdn).await?,
        Proof::Voucher(account) => {
            store::customer::find(conn, &system_customer_scope(tenant), account)
                .await?
                .into_iter()
                .collect()
        }
    })
}

/// The proved mobile's accounts, their devices, and what `decide` knows.
#[derive(Debug, Clone)]
pub struct Standing {
    /// The accounts, by id.
    pub accounts: Vec<Customer>,
    /// Their bound devices, oldest first.
    pub devices: Vec<Device>,
    /// Their open sessions.
    pub sessions: Vec<store::online::Session>,
    /// What the portal does next.
    pub next: Next,
    /// When the account is in use: the phone asked to end its sessions, and the routers
    /// have not yet said they ended.
    pub ending: bool,
}

/// What the visit's proved mobile gets, `chosen` being the account picked among several.
pub async fn next(ctx: &Ctx<'_>, step: &Step, chosen: Option<i64>) -> Result<Standing, OpError> {
    let proof = proved(step)?;
    let conn = ctx.db.conn();
    let tenant = TenantId(step.tenant.id);
    let accounts = accounts_of(ctx, step).await?;
    let msisdn = match proof {
        Proof::Mobile(msisdn) => msisdn,
        // A voucher's account that is gone: the voucher proves nothing any more.
        Proof::Voucher(_) if accounts.is_empty() => {
            return Err(OpError::Unauthenticated("mobile_not_proved"));
        }
        Proof::Voucher(_) => "",
    };
    let ids: Vec<i64> = accounts.iter().map(|c| c.id).collect();
    let devices = store::hotspot::devices_of(conn, &ids).await?;
    let sessions = store::online::open_of(conn, &ids).await?;
    let standings = store::quota::find_many(conn, &ids).await?;
    let facts: Vec<Account> = accounts
        .iter()
        .map(|c| {
            let own: Vec<&Device> = devices.iter().filter(|d| d.customer_id == c.id).collect();
            Account {
                id: c.id,
                state: CustomerState::of(
                    c.status.get(),
                    c.billing_type.get(),
                    c.expires_at,
                    ctx.now,
                ),
                used_up: standings.get(&c.id).is_some_and(|s| {
                    domain::fup::Level::from_code(s.level) == Some(domain::fup::Level::Exhausted)
                }),
                devices: own.len(),
                this_device: step
                    .visit
                    .mac
                    .as_deref()
                    .is_some_and(|mac| own.iter().any(|d| d.mac == mac)),
                bound_elsewhere: c.mac.as_deref().is_some_and(|bound| {
                    let bound = domain::network::MacAddr::parse(bound);
                    let here = step
                        .visit
                        .mac
                        .as_deref()
                        .and_then(domain::network::MacAddr::parse);
                    bound.is_some() && bound != here
                }),
                sessions: sessions
                    .iter()
                    .filter(|s| s.customer_id == Some(c.id))
                    .count(),
                simultaneous_use: usize::try_from(c.simultaneous_use).unwrap_or(1),
            }
        })
        .collect();
    let elsewhere = if accounts.is_empty() {
        store::hotspot::network_of(conn, msisdn, tenant).await?
    } else {
        None
    };
    let trial = match step.portal.trial_package_id {
        None => Trial::NotOffered,
        Some(_) if msisdn.is_empty() => Trial::NotOffered,
        Some(_) if store::hotspot::had_trial(conn, tenant, msisdn).await? => Trial::Used,
        Some(_) => Trial::Available,
    };
    let next = decide(&Facts {
        accounts: &facts,
        chosen: chosen.or(step.visit.customer_id),
        max_devices: usize::try_from(step.portal.max_devices).unwrap_or(1),
        elsewhere: elsewhere.as_deref(),
        trial,
    });
    let ending = match next {
        Next::InUse { account } => store::enforcement::for_customer(conn, account, 10)
            .await?
            .iter()
            .any(|(e, _)| e.status.get() == domain::enforcement::EnforcementStatus::Pending),
        _ => false,
    };
    Ok(Standing {
        accounts,
        devices,
        sessions,
        next,
        ending,
    })
}

/// Ends the open sessions of `account`, one of the proved mobile's, so that this phone may
/// sign in: allowed only when `decide` says the account is in use. The routers are asked
/// after commit (the enforcement ladder); the phone signs in once they say the sessions
/// ended. Audited.
pub async fn take_over(ctx: &Ctx<'_>, step: &Step, account: i64) -> Result<usize, OpError> {
    let standing = next(ctx, step, Some(account)).await?;
    if standing.next != (Next::InUse { account }) {
        return Err(OpError::Forbidden);
    }
    let customer = standing
        .accounts
        .iter()
        .find(|c| c.id == account)
        .ok_or(OpError::NotFound)?;
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let made = crate::enforcement::end_sessions(&mut w, customer, "portal_take_over").await?;
    let sessions: Vec<&str> = made.iter().map(|e| e.acct_session_id.as_str()).collect();
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(step.tenant.id)),
        action: "hotspot.take_over",
        entity: "customer",
        entity_id: Some(customer.id),
        before: None,
        after: Some(serde_json::json!({
            "router_id": step.visit.router_id,
            "mac": step.visit.mac,
            "sessions": sessions,
        })),
    })
    .await?;
    w.commit().await?;
    Ok(made.len())
}

/// Remembers the account picked among the proved mobile's.
pub async fn choose(ctx: &Ctx<'_>, step: &Step, account: i64) -> Result<Standing, OpError> {
    let standing = next(ctx, step, Some(account)).await?;
    if !standing.accounts.iter().any(|c| c.id == account) {
        return Err(OpError::NotFound);
    }
    store::hotspot::change_visit(
        ctx.db.conn(),
        step.visit.id,
        VisitChanges {
            customer_id: Some(account),
            ..VisitChanges::default()
        },
    )
    .await?;
    Ok(standing)
}

/// Binds this device to `account` when it is new to it, and gives the address that hands
/// the phone back to the router. Refused unless `decide` says this account signs in.
pub async fn hand_off(
    ctx: &Ctx<'_>,
    step: &Step,
    account: i64,
    user_agent: &str,
) -> Result<String, OpError> {
    let standing = next(ctx, step, Some(account)).await?;
    let bind = match standing.next {
        Next::SignIn { account: a, bind } if a == account => bind,
        _ => return Err(OpError::Forbidden),
    };
    let customer = standing
        .accounts
        .into_iter()
        .find(|c| c.id == account)
        .ok_or(OpError::NotFound)?;
    let tenant = TenantId(step.tenant.id);
    if bind && let Some(mac) = step.visit.mac.as_deref() {
        let randomised = domain::network::MacAddr::parse(mac).is_some_and(|m| m.is_random());
        let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
        store::hotspot::bind(
            &mut w,
            &NewDevice {
                tenant,
                customer_id: customer.id,
                mac,
                randomised,
                label: domain::hotspot::device_label(user_agent),
                router_id: step.visit.router_id,
            },
        )
        .await?;
        w.commit().await?;
    }
    let secret = store::customer::password(ctx.db.keyring(), &customer)?;
    let password = match step
        .visit
        .chap_id
        .zip(step.visit.chap_challenge.as_deref())
        .and_then(|(id, challenge)| Chap::from_kept(id, challenge))
    {
        Some(chap) => chap.response(secret.as_bytes()),
        None => secret.to_string(),
    };
    let login = LoginUrl::parse(&step.visit.login_url, &super::hosts_of(&step.portal))?;
    store::hotspot::change_visit(
        ctx.db.conn(),
        step.visit.id,
        VisitChanges {
            customer_id: Some(customer.id),
            handed_off_at: Some(ctx.now),
            expires_at: Some(ctx.now + SIGNED_IN_TTL),
            ..VisitChanges::default()
        },
    )
    .await?;
    Ok(login.hand_off(&customer.username, &password, step.visit.dst.as_deref()))
}

/// Makes the proved mobile an account: on the trial's package when `trial` (once per
/// mobile), else on the portal's package with no paid time (the phone recharges next).
/// Refused when the mobile has an account here already.
pub async fn sign_up(ctx: &Ctx<'_>, step: &Step, trial: bool) -> Result<Standing, OpError> {
    let msisdn = proved_mobile(step)?.to_owned();
    let standing = next(ctx, step, None).await?;
    let trial_ok = match standing.next {
        _ if !standing.accounts.is_empty() => return Err(OpError::Forbidden),
        Next::SignUp { trial } => trial,
        Next::OtherNetwork(_) => false,
        _ => return Err(OpError::Forbidden),
    };
    let trial = trial && trial_ok;
    let package_id = match (trial, step.portal.trial_package_id) {
        (true, Some(id)) => id,
        _ => step.portal.package_id,
    };
    let tenant = TenantId(step.tenant.id);
    let (new, package) = super::portal_account(
        ctx,
        step,
        package_id,
        CustomerInput {
            name: format!("Wi-Fi {}", Msisdn::stored(&msisdn).national()),
            mobile: Some(msisdn.clone()),
            // A new account without the trial has no paid time until it is recharged.
            expires_at: (!trial).then(|| ctx.now.to_rfc3339()),
            comment: "Signed up at the captive portal".to_owned(),
            ..CustomerInput::default()
        },
    )
    .await?;
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let customer = store::customer::create(&mut w, &new).await?;
    if trial {
        store::hotspot::grant_trial(&mut w, tenant, &msisdn, customer.id).await?;
    }
    // A welcome by SMS, from the notice, after commit.
    store::billing::notify_many(
        &w,
        tenant,
        &[store::billing::NewNotification {
            customer_id: Some(customer.id),
            kind: "welcome",
            dedupe_key: format!("welcome:{}", customer.id),
            params: serde_json::json!({ "package": package.name }),
        }],
    )
    .await?;
    crate::sms::wake_notices(&mut w).await?;
    w.commit().await?;
    store::hotspot::change_visit(
        ctx.db.conn(),
        step.visit.id,
        VisitChanges {
            customer_id: Some(customer.id),
            ..VisitChanges::default()
        },
    )
    .await?;
    let mut fresh = step.clone();
    fresh.visit.customer_id = Some(customer.id);
    next(ctx, &fresh, Some(customer.id)).await
}

/// One of the accounts the visit may act for.
pub(super) async fn account_of(
    ctx: &Ctx<'_>,
    step: &Step,
    account: i64,
) -> Result<Customer, OpError> {
    accounts_of(ctx, step)
        .await?
        .into_iter()
        .find(|c| c.id == account)
        .ok_or(OpError::NotFound)
}

/// The subject a portal's guesses at cards and vouchers are counted under: the router and
/// the device (every phone of a hotspot comes from the router's one address).
pub(super) fn guess_subject(step: &Step) -> String {
    format!(
        "portal:{}:{}",
        step.visit.router_id,
        step.visit.mac.as_deref().unwrap_or("-")
    )
}

/// Redeems a recharge card for one of the proved mobile's accounts; guesses are limited
/// per router and device (`card::redeem`'s subject limits).
pub async fn redeem(
    ctx: &Ctx<'_>,
    step: &Step,
    account: i64,
    pin: &str,
) -> Result<crate::card::Redeemed, OpError> {
    let customer = account_of(ctx, step, account).await?;
    let subject = guess_subject(step);
    crate::card::redeem_for(
        ctx,
        Author::system(AUTHOR),
        &customer,
        pin,
        (&subject, crate::card::SUBJECT_FAILURES),
        &system_customer_scope(TenantId(step.tenant.id)),
    )
    .await
}

/// Removes a device from one of the proved mobile's accounts (making room for this one);
/// its open sessions are ended with it (after commit, by the enforcement ladder).
pub async fn remove_device(
    ctx: &Ctx<'_>,
    step: &Step,
    account: i64,
    device: i64,
) -> Result<(), OpError> {
    let customer = account_of(ctx, step, account).await?;
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let removed = store::hotspot::revoke(&mut w, customer.id, device)
        .await?
        .ok_or(OpError::NotFound)?;
    if let Some(mac) = domain::network::MacAddr::parse(&removed.mac) {
        crate::enforcement::end_device_sessions(&mut w, &customer, mac, "device_removed").await?;
    }
    w.commit().await?;
    Ok(())
}

/// What the status page shows of the account a visit signed in as.
#[derive(Debug, Clone)]
pub struct Status {
    /// The account.
    pub customer: Customer,
    /// Its package's name.
    pub package: String,
    /// What it gets now.
    pub state: CustomerState,
    /// Its devices.
    pub devices: Vec<Device>,
    /// Its volume this period, when its package counts one.
    pub allowance: Option<crate::online::Allowance>,
}

/// The account the visit signed in as, for the welcome and status pages.
pub async fn status(ctx: &Ctx<'_>, step: &Step) -> Result<Status, OpError> {
    let id = step
        .visit
        .customer_id
        .filter(|_| step.visit.handed_off_at.is_some())
        .ok_or(OpError::Unauthenticated("not_signed_in"))?;
    let conn = ctx.db.conn();
    let customer =
        store::customer::find(conn, &system_customer_scope(TenantId(step.tenant.id)), id)
            .await?
            .ok_or(OpError::NotFound)?;
    let package = store::package::find_any(conn, customer.package_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let devices = store::hotspot::devices_of(conn, &[customer.id]).await?;
    let state = CustomerState::of(
        customer.status.get(),
        customer.billing_type.get(),
        customer.expires_at,
        ctx.now,
    );
    let allowance = crate::online::usage_of(ctx, &customer, &step.tenant)
        .await?
        .allowance;
    Ok(Status {
        customer,
        package,
        state,
        devices,
        allowance,
    })
}
