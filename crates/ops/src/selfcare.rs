//! The customer's own pages (role Customer, level 100), at `/my/{isp}`: a subscriber signs
//! in with its user name and password, or with its mobile and a code sent to it, and then
//! acts for itself only. Everything here starts from the [`Me`] its session found; nothing
//! takes an id from the browser but what is checked against it (an account on the same
//! mobile, a document or payment of its own), and anything else is not found.
//!
//! - Sign-in: wrong passwords count towards the same per-account and per-address throttle
//!   as staff's (in `web`); a code follows `domain::otp` (five minutes, five tries, one a
//!   minute and five an hour to a number) and is bound to the session that asked for it.
//!   Whether a number holds an account is never told: the page says a code was sent if the
//!   number is the ISP's.
//! - What it shows: the package, expiry and time left, the period's usage and what is left
//!   of a volume, the live sessions, the traffic graphs, invoices and receipts, payments.
//! - What it does: recharges with a card (guesses limited per customer, as at the captive
//!   portal) or online through the tenant's merchant account (the payment pipeline of
//!   `crate::gateway`), and changes the PPPoE password: written to AAA in the transaction,
//!   the customer's other signed-in browsers signed out.
//!
//! Every sign-in, sign-out and change is audited with the customer as its author.

use std::net::IpAddr;
use std::time::Instant;

use chrono::TimeDelta;
use rand::RngExt as _;

use crate::Ctx;
use crate::auth::throttle::Throttle;
use crate::error::OpError;
use domain::access::system_customer_scope;
use domain::customer::{ChangesInput, CustomerChanges, Msisdn};
use domain::field::FieldError;
use domain::ids::TenantId;
use domain::otp::{self, Purpose};

use domain::traffic::Period;
use store::customer::Customer;
use store::hotspot::NewOtp;
use store::selfcare::{CustomerSession, NewSession, STAGE_FULL};
use store::tenant::Tenant;
use store::{AuditEntry, Author};

/// How long a session lives at most.
pub const SESSION_HOURS: i64 = 12;

/// How long a session may sit unused.
pub const IDLE_MINUTES: i64 = 60;

/// Online payments one customer may start in an hour.
pub const PAYMENTS_PER_HOUR: usize = 5;

/// The signed-in customer, with its tenant and session.
#[derive(Debug, Clone)]
pub struct Me {
    /// The session.
    pub session: CustomerSession,
    /// The customer.
    pub customer: Customer,
    /// Its tenant.
    pub tenant: Tenant,
}

impl Me {
    /// The author of what the customer does.
    pub fn author(&self) -> Author {
        Author::system(format!("customer:{}", self.customer.id))
    }
}

/// A new session and the token of its cookie.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The cookie's token (only its hash is kept).
    pub token: String,
    /// The session.
    pub session: CustomerSession,
}

/// The ISP at `isp` (its realm): an archived or unknown one is not found.
pub async fn tenant_at(ctx: &Ctx<'_>, isp: &str) -> Result<Tenant, OpError> {
    if isp.is_empty() || isp.len() > 64 {
        return Err(OpError::NotFound);
    }
    store::selfcare::tenant_at(ctx.db.conn(), isp)
        .await?
        .ok_or(OpError::NotFound)
}

/// Opens a session for `tenant`: signed in as `customer`, or waiting for a code to
/// `mobile`.
async fn open(
    ctx: &Ctx<'_>,
    tenant: &Tenant,
    customer: Option<i64>,
    mobile: Option<&str>,
    lang: &str,
    ip: Option<String>,
) -> Result<Opened, OpError> {
    let token = crate::auth::token::new_token("lmc_");
    let csrf = crate::auth::token::new_token("");
    let session = store::selfcare::open(
        ctx.db.conn(),
        &NewSession {
            id: &crate::auth::token::hash(&token),
            tenant_id: tenant.id,
            customer_id: customer,
            mobile,
            csrf: &csrf,
            lang: if lang == "bn" { "bn" } else { "en" },
            expires_at: ctx.now + TimeDelta::hours(SESSION_HOURS),
            ip,
        },
        ctx.now,
    )
    .await?;
    Ok(Opened { token, session })
}

/// Signs in with a user name and its PPPoE or hotspot password, from `ip`. Refused before
/// anything is read when the account or the address has had too many wrong tries in the
/// last minute (the staff sign-in's throttle); any mistake is the same
/// `invalid_credentials`, so the answer tells nothing of which names exist.
pub async fn sign_in(
    ctx: &Ctx<'_>,
    throttle: &Throttle,
    tenant: &Tenant,
    username: &str,
    password: &str,
    lang: &str,
    ip: IpAddr,
) -> Result<(Opened, Customer), OpError> {
    let key = username.trim().to_ascii_lowercase();
    let keys = [format!("customer:{}:{key}", tenant.id), format!("ip:{ip}")];
    let started = Instant::now();
    if let Err(wait) = throttle.attempt(&keys, started) {
        return Err(OpError::TooMany(wait.as_secs().max(1)));
    }
    let refused = || OpError::Unauthenticated("invalid_credentials");
    if key.len() > 128 || password.len() > 128 {
        return Err(refused());
    }
    let found = match store::selfcare::named(ctx.db.conn(), tenant.id, &key).await {
        Ok(found) => found,
        Err(error) => {
            throttle.forgive(&keys, started, None);
            return Err(error.into());
        }
    };
    // A wrong password stays counted against the account and the address.
    let customer = found.ok_or_else(refused)?;
    let kept = store::customer::password(ctx.db.keyring(), &customer)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    if !crate::auth::token::same(kept.as_str(), password) {
        return Err(refused());
    }
    throttle.forgive(&keys, started, Some(&keys[0]));
    let ip = Some(ip.to_string());
    let opened = open(ctx, tenant, Some(customer.id), None, lang, ip.clone()).await?;
    audit(
        ctx,
        &customer,
        "customer.sign_in",
        serde_json::json!({ "by": "password", "ip": ip }),
    )
    .await?;
    Ok((opened, customer))
}

/// Asks for a code to `mobile` (written nationally or in E.164): a session waiting for
/// it, and the seconds before another may be asked for. A code is sent only when the number
/// is one of the tenant's customers' and its limits allow; the answer is the same either
/// way, but for a number that cannot be read.
pub async fn ask_code(
    ctx: &Ctx<'_>,
    throttle: &Throttle,
    tenant: &Tenant,
    mobile: &str,
    lang: &str,
    ip: IpAddr,
) -> Result<(Opened, u64), OpError> {
    // Every ask counts against the address, as a wrong sign-in does.
    if let Err(wait) = throttle.attempt(&[format!("code-ip:{ip}")], Instant::now()) {
        return Err(OpError::TooMany(wait.as_secs().max(1)));
    }
    let ip = Some(ip.to_string());
    let country = crate::customer::mobile_country(tenant)
        .ok_or_else(|| OpError::field("mobile", "unknown_country"))?;
    let msisdn = Msisdn::parse(mobile, &country).map_err(|e| FieldError {
        field: "mobile".to_owned(),
        ..e
    })?;
    let opened = open(ctx, tenant, None, Some(msisdn.as_str()), lang, ip).await?;
    let cooldown = u64::try_from(otp::COOLDOWN.num_seconds()).unwrap_or(60);
    let accounts = store::selfcare::with_mobile(ctx.db.conn(), tenant.id, msisdn.as_str()).await?;
    if accounts.is_empty() {
        return Ok((opened, cooldown));
    }
    let tenant_id = TenantId(tenant.id);
    let (sent, _) = store::hotspot::sent_to(
        ctx.db.conn(),
        tenant_id,
        msisdn.as_str(),
        ctx.now - TimeDelta::hours(1),
    )
    .await?;
    if let Err(wait) = otp::may_send(&sent, ctx.now) {
        return Err(OpError::TooMany(u64::try_from(wait.max(1)).unwrap_or(1)));
    }
    let code = {
        let mut rng = rand::rng();
        otp::generate(&mut || rng.random::<u8>())
    };
    let mut w = ctx.db.write(Author::system("selfcare"), ctx.now).await?;
    let key = store::card::key(&w, tenant_id).await?;
    let kept = store::hotspot::insert_otp(
        w.tx(),
        &NewOtp {
            tenant: tenant_id,
            visit: None,
            purpose: Purpose::SignIn.as_str(),
            msisdn: msisdn.as_str(),
            code_mac: &store::card::lookup(
                &key,
                &bound(tenant.id, &opened.session.id, msisdn.as_str(), &code),
            ),
            expires_at: ctx.now + otp::TTL,
        },
        ctx.now,
    )
    .await?;
    store::selfcare::code_sent(w.tx(), &opened.session.id, kept.id).await?;
    let sms_lang = domain::sms::Lang::parse(&opened.session.lang).unwrap_or_default();
    let minutes = otp::TTL.num_minutes().to_string();
    let text = crate::sms::template::text_for(
        &w,
        tenant,
        domain::sms::Event::Otp,
        sms_lang,
        &[("code", &code), ("minutes", &minutes)],
    )
    .await?;
    let queued = crate::sms::queue_in(
        &mut w,
        Some(tenant),
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
        tracing::warn!(tenant = tenant.id, %error, "a sign-in code could not be queued");
        return Err(OpError::field("mobile", "sms_unavailable"));
    }
    w.commit().await?;
    Ok((opened, cooldown))
}

/// What a code sent to `msisdn` for session `session` of `tenant` is bound to.
fn bound(tenant: i64, session: &str, msisdn: &str, code: &str) -> String {
    format!(
        "otp|{tenant}|{}|my:{session}|{msisdn}|{code}",
        Purpose::SignIn.as_str()
    )
}

/// Checks the code typed in a session waiting for one; a right one signs it in as the
/// number's first account (the others are a switch away). Refused with `code`: `no_code`,
/// `wrong_code` (with `tries_left`) or `code_expired`.
pub async fn check_code(
    ctx: &Ctx<'_>,
    session: &CustomerSession,
    typed: &str,
) -> Result<Customer, OpError> {
    let conn = ctx.db.conn();
    let (Some(msisdn), Some(otp_id)) = (session.mobile.as_deref(), session.otp_id) else {
        return Err(OpError::field("code", "no_code"));
    };
    let Some(kept) = store::selfcare::otp(conn, otp_id).await? else {
        return Err(OpError::field("code", "no_code"));
    };
    let tenant = TenantId(session.tenant_id);
    crate::otp::redeem(ctx, tenant, &kept, typed, |code| {
        bound(tenant.0, &session.id, msisdn, code)
    })
    .await?;
    let accounts = store::selfcare::with_mobile(conn, tenant.0, msisdn).await?;
    let Some(first) = accounts.into_iter().next() else {
        return Err(OpError::field("code", "code_expired"));
    };
    store::selfcare::sign_in(conn, &session.id, first.id).await?;
    audit(
        ctx,
        &first,
        "customer.sign_in",
        serde_json::json!({ "by": "code", "ip": session.ip }),
    )
    .await?;
    Ok(first)
}

/// The session with token `token`: live, not idle too long. Marks it seen.
pub async fn session(ctx: &Ctx<'_>, token: &str) -> Result<CustomerSession, OpError> {
    if token.is_empty() || token.len() > 200 {
        return Err(OpError::Unauthenticated("signed_out"));
    }
    let id = crate::auth::token::hash(token);
    let conn = ctx.db.conn();
    let session = store::selfcare::find(conn, &id, ctx.now)
        .await?
        .ok_or(OpError::Unauthenticated("signed_out"))?;
    if ctx.now - session.last_seen_at > TimeDelta::minutes(IDLE_MINUTES) {
        store::selfcare::end(conn, &id).await?;
        return Err(OpError::Unauthenticated("signed_out"));
    }
    if ctx.now - session.last_seen_at > TimeDelta::minutes(1) {
        store::selfcare::touch(conn, &id, ctx.now).await?;
    }
    Ok(session)
}

/// The signed-in customer of `session`, in `tenant` (a session of another ISP, or one still
/// waiting for its code, is signed out here).
pub async fn me(ctx: &Ctx<'_>, session: CustomerSession, tenant: Tenant) -> Result<Me, OpError> {
    let customer_id = match (session.stage.as_str(), session.customer_id) {
        (STAGE_FULL, Some(id)) if session.tenant_id == tenant.id => id,
        _ => return Err(OpError::Unauthenticated("signed_out")),
    };
    let customer = store::customer::find(
        ctx.db.conn(),
        &system_customer_scope(TenantId(tenant.id)),
        customer_id,
    )
    .await?
    .ok_or(OpError::Unauthenticated("signed_out"))?;
    Ok(Me {
        session,
        customer,
        tenant,
    })
}

/// The other accounts on the mobile the session proved (none for a password sign-in).
pub async fn accounts(ctx: &Ctx<'_>, me: &Me) -> Result<Vec<Customer>, OpError> {
    match me.session.mobile.as_deref() {
        Some(msisdn) => Ok(
            store::selfcare::with_mobile(ctx.db.conn(), me.tenant.id, msisdn)
                .await?
                .into_iter()
                .filter(|c| c.id != me.customer.id)
                .collect(),
        ),
        None => Ok(Vec::new()),
    }
}

/// Acts for `account`, another account on the proved mobile.
pub async fn switch(ctx: &Ctx<'_>, me: &Me, account: i64) -> Result<(), OpError> {
    if !accounts(ctx, me).await?.iter().any(|c| c.id == account) {
        return Err(OpError::NotFound);
    }
    store::selfcare::sign_in(ctx.db.conn(), &me.session.id, account).await?;
    Ok(())
}

/// Signs the session out.
pub async fn sign_out(ctx: &Ctx<'_>, me: &Me) -> Result<(), OpError> {
    store::selfcare::end(ctx.db.conn(), &me.session.id).await?;
    audit(
        ctx,
        &me.customer,
        "customer.sign_out",
        serde_json::Value::Null,
    )
    .await
}

/// What the customer's page shows.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Its package.
    pub package: Option<store::package::Package>,
    /// Its usage in the period, and what is left.
    pub usage: crate::online::Usage,
    /// Its live sessions.
    pub live: Vec<store::online::Session>,
    /// Whether it may pay online.
    pub pays_online: bool,
}

/// The customer's page.
pub async fn overview(ctx: &Ctx<'_>, me: &Me) -> Result<Overview, OpError> {
    let conn = ctx.db.conn();
    let package = store::package::find_any(conn, me.customer.package_id).await?;
    let usage = crate::online::usage_of(ctx, &me.customer, &me.tenant).await?;
    let filter = store::online::SessionFilter {
        tenant_id: Some(TenantId(me.tenant.id)),
        customer_id: Some(me.customer.id),
        nas_address: None,
        open: Some(true),
    };
    let page =
        store::list::PageRequest::first(&store::online::SESSIONS, 5).map_err(OpError::Invalid)?;
    let live = store::online::list(
        conn,
        &system_customer_scope(TenantId(me.tenant.id)),
        &filter,
        &page,
    )
    .await?
    .items;
    let pays_online = crate::gateway::portal_account(ctx, TenantId(me.tenant.id))
        .await?
        .is_some();
    Ok(Overview {
        package,
        usage,
        live,
        pays_online,
    })
}

/// The customer's traffic graph of `period`.
pub async fn traffic(
    ctx: &Ctx<'_>,
    me: &Me,
    period: Period,
) -> Result<crate::traffic::Graph, OpError> {
    crate::traffic::of_customer(ctx, &me.customer, &me.tenant, period).await
}

/// The customer's documents (receipts, invoices, credit notes), newest first, and its
/// latest payments.
pub async fn bills(
    ctx: &Ctx<'_>,
    me: &Me,
) -> Result<(Vec<store::invoice::Invoice>, Vec<store::payment::Payment>), OpError> {
    let conn = ctx.db.conn();
    let filter = store::invoice::InvoiceFilter {
        tenants: Some(vec![me.tenant.id]),
        customer_id: Some(me.customer.id),
        ..Default::default()
    };
    let page =
        store::list::PageRequest::first(&store::invoice::LIST, 50).map_err(OpError::Invalid)?;
    let documents = store::invoice::list(conn, &filter, &page).await?.items;
    let payments = store::payment::of_customer(conn, me.customer.id, 50).await?;
    Ok((documents, payments))
}

/// One of the customer's documents; another's is not found.
pub async fn document(ctx: &Ctx<'_>, me: &Me, id: i64) -> Result<store::invoice::Invoice, OpError> {
    store::invoice::find(ctx.db.conn(), Some(&[me.tenant.id]), id)
        .await?
        .filter(|i| i.customer_id == me.customer.id)
        .ok_or(OpError::NotFound)
}

/// Redeems a recharge card for the customer.
pub async fn redeem(ctx: &Ctx<'_>, me: &Me, pin: &str) -> Result<crate::card::Redeemed, OpError> {
    let subject = format!("customer:{}", me.customer.id);
    crate::card::redeem_for(
        ctx,
        me.author(),
        &me.customer,
        pin,
        (&subject, crate::card::SUBJECT_FAILURES),
        &system_customer_scope(TenantId(me.tenant.id)),
    )
    .await
}

/// Starts an online payment: what the customer owes, or one validity of its package,
/// through the tenant's first active merchant account; at most [`PAYMENTS_PER_HOUR`].
pub async fn pay(
    ctx: &Ctx<'_>,
    me: &Me,
) -> Result<(store::gateway::Intent, crate::gateway::Credentials), OpError> {
    let merchant = crate::gateway::portal_account(ctx, TenantId(me.tenant.id))
        .await?
        .ok_or_else(|| OpError::field("pay", "no_online_payment"))?;
    let recent =
        store::gateway::intents_of(ctx.db.conn(), me.customer.id, PAYMENTS_PER_HOUR as u64).await?;
    let hour_ago = ctx.now - TimeDelta::hours(1);
    if recent.len() == PAYMENTS_PER_HOUR && recent.iter().all(|i| i.created_at > hour_ago) {
        let oldest = recent.iter().map(|i| i.created_at).min().unwrap_or(ctx.now);
        let wait = (oldest + TimeDelta::hours(1) - ctx.now)
            .num_seconds()
            .max(1);
        return Err(OpError::TooMany(u64::try_from(wait).unwrap_or(1)));
    }
    crate::gateway::open(ctx, me.author(), &me.customer, merchant.id, None).await
}

/// The customer's online payment `merchant_ref`; another's is not found.
pub async fn payment(
    ctx: &Ctx<'_>,
    me: &Me,
    merchant_ref: &str,
) -> Result<store::gateway::Intent, OpError> {
    let intent = crate::gateway::by_ref(ctx, merchant_ref).await?;
    if intent.customer_id != me.customer.id {
        return Err(OpError::NotFound);
    }
    Ok(intent)
}

/// Changes the customer's PPPoE or hotspot password, given the current one: rewritten to
/// AAA in the same transaction; the customer's other browsers are signed out.
pub async fn change_password(
    ctx: &Ctx<'_>,
    me: &Me,
    current: &str,
    new: &str,
) -> Result<Customer, OpError> {
    let kept = store::customer::password(ctx.db.keyring(), &me.customer)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    if current.len() > 128 || !crate::auth::token::same(kept.as_str(), current) {
        return Err(OpError::field("current_password", "wrong_password"));
    }
    if new == current {
        return Err(OpError::field("password", "same_password"));
    }
    let input = ChangesInput {
        password: Some(new.to_owned()),
        ..ChangesInput::default()
    };
    let country = crate::customer::mobile_country(&me.tenant);
    let changes =
        CustomerChanges::parse(&input, country.as_ref(), crate::customer::zone(&me.tenant))
            .map_err(OpError::Invalid)?;
    let scope = system_customer_scope(TenantId(me.tenant.id));
    let mut w = ctx.db.write(me.author(), ctx.now).await?;
    let customer = store::customer::update(
        &mut w,
        &scope,
        me.customer.id,
        me.customer.version,
        &changes,
    )
    .await?;
    store::selfcare::end_others(w.tx(), customer.id, &me.session.id).await?;
    w.commit().await?;
    Ok(customer)
}

/// Writes an audit entry of `customer`'s own.
async fn audit(
    ctx: &Ctx<'_>,
    customer: &Customer,
    action: &'static str,
    after: serde_json::Value,
) -> Result<(), OpError> {
    let mut w = ctx
        .db
        .write(Author::system(format!("customer:{}", customer.id)), ctx.now)
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(customer.tenant_id)),
        action,
        entity: "customer",
        entity_id: Some(customer.id),
        before: None,
        after: (!after.is_null()).then_some(after),
    })
    .await?;
    w.commit().await?;
    Ok(())
}
