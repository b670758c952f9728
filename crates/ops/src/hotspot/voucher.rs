//! An access voucher at the captive portal (hotspot-design §3.3): instead of a mobile, a
//! phone types a voucher's code. The first time, in one transaction, the code becomes a
//! walk-up account on the voucher's package (the card redeemed for it, its holder paying as
//! for a recharge card, `crate::card::open_voucher`); after that, the code proves that
//! account for any phone, which then goes on as a proved mobile does
//! (`super::visit::next`). Guesses and typos count as a recharge card's do, per router and
//! device, and towards the tenant's alarm (`card.guessing`).

use chrono::{DateTime, Utc};

use super::portal_account;
use super::visit::{AUTHOR, Standing, Step, guess_subject, next};
use crate::Ctx;
use crate::error::OpError;
use domain::access::system_customer_scope;
use domain::customer::{CustomerInput, NewCustomer};
use domain::ids::TenantId;
use store::Author;
use store::hotspot::VisitChanges;

/// Proves the visit with access voucher `typed` (see the module documentation); what the
/// phone gets next. Refused with `voucher`: `voucher_mistyped` (the check symbol caught a
/// typo; not a guess), `invalid_voucher` (unknown, a recharge card's, suspended, void,
/// expired, its account gone, or out of the reach of the portal's owner); past the guessing
/// limit, too many.
pub async fn voucher(ctx: &Ctx<'_>, step: &Step, typed: &str) -> Result<Standing, OpError> {
    use domain::card::{AccessCode, Kind, State};
    use store::card::NewAttempt;
    let tenant = TenantId(step.tenant.id);
    let conn = ctx.db.conn();
    let subject = guess_subject(step);
    let since = ctx.now - crate::card::FAILURE_WINDOW;
    let (failures, oldest) =
        store::card::attempts_since(conn, tenant, Some(&subject), &["unknown", "refused"], since)
            .await?;
    let wait = |oldest: Option<DateTime<Utc>>| {
        let left = oldest.map_or(crate::card::FAILURE_WINDOW, |at| {
            at + crate::card::FAILURE_WINDOW - ctx.now
        });
        OpError::TooMany(u64::try_from(left.num_seconds().max(1)).unwrap_or(1))
    };
    if failures >= crate::card::SUBJECT_FAILURES {
        return Err(wait(oldest));
    }
    let key = store::card::key_of(conn, ctx.db.keyring(), tenant).await?;
    let attempt = |outcome: &'static str, hash: String, card: Option<i64>, customer| {
        let subject = subject.clone();
        async move {
            store::card::record_attempt(
                conn,
                &NewAttempt {
                    tenant,
                    subject: &subject,
                    outcome,
                    input_hash: &hash,
                    card_id: card,
                    customer_id: customer,
                },
                ctx.now,
            )
            .await?;
            if matches!(outcome, "unknown" | "refused") {
                crate::card::failed(ctx, tenant).await?;
            }
            Ok::<_, OpError>(())
        }
    };
    let invalid = || OpError::field("voucher", "invalid_voucher");
    let code = match AccessCode::parse(typed) {
        Ok(code) => code,
        Err(_) => {
            let (typos, oldest) =
                store::card::attempts_since(conn, tenant, Some(&subject), &["typo"], since).await?;
            if typos >= crate::card::TYPOS {
                return Err(wait(oldest));
            }
            attempt("typo", String::new(), None, None).await?;
            return Err(OpError::field("voucher", "voucher_mistyped"));
        }
    };
    let Some(key) = key else {
        attempt("unknown", String::new(), None, None).await?;
        return Err(invalid());
    };
    let hash = store::card::lookup(&key, code.as_str());
    let found = match store::card::by_lookup(conn, tenant, &hash).await? {
        Some(card) => store::card::batch(conn, None, card.batch_id)
            .await?
            .filter(|b| b.kind.get() == Kind::Access)
            .map(|batch| (card, batch)),
        None => None,
    };
    let Some((card, batch)) = found else {
        attempt("unknown", hash, None, None).await?;
        return Err(invalid());
    };
    let account = if card.state.get() == State::Redeemed {
        // Opened before: the code is that account's; it signs in while the account lives.
        let account = match card.redeemed_by {
            Some(id) => store::customer::find(conn, &system_customer_scope(tenant), id).await?,
            None => None,
        };
        let Some(account) = account else {
            attempt("refused", hash, Some(card.id), None).await?;
            return Err(invalid());
        };
        attempt("used", hash, Some(card.id), Some(account.id)).await?;
        account.id
    } else if card.state.get().redeemable() && card.valid_until.is_none_or(|at| at > ctx.now) {
        let new = walk_up(ctx, step, &code, batch.package_id).await?;
        match crate::card::open_voucher(
            ctx,
            Author::system(AUTHOR),
            (&card, &batch),
            &new,
            &subject,
        )
        .await?
        {
            Some(account) => account.id,
            None => {
                attempt("refused", hash, Some(card.id), None).await?;
                return Err(invalid());
            }
        }
    } else {
        attempt("refused", hash, Some(card.id), None).await?;
        return Err(invalid());
    };
    store::hotspot::change_visit(
        conn,
        step.visit.id,
        VisitChanges {
            voucher: Some(account),
            verified_at: Some(ctx.now),
            ..VisitChanges::default()
        },
    )
    .await?;
    let mut fresh = step.clone();
    fresh.visit.mobile = None;
    fresh.visit.verified_at = Some(ctx.now);
    fresh.visit.customer_id = Some(account);
    next(ctx, &fresh, Some(account)).await
}

/// The walk-up account a voucher's `code` opens on `package_id`: the code is its user name,
/// and it has no paid time until the voucher's recharge gives it.
async fn walk_up(
    ctx: &Ctx<'_>,
    step: &Step,
    code: &domain::card::AccessCode,
    package_id: i64,
) -> Result<NewCustomer, OpError> {
    let realm = store::tenant::realm(&step.tenant);
    let input = CustomerInput {
        name: format!("Voucher {}", code.printed()),
        username: Some(format!("{}@{realm}", code.as_str().to_ascii_lowercase())),
        expires_at: Some(ctx.now.to_rfc3339()),
        comment: "Opened with an access voucher at the captive portal".to_owned(),
        ..CustomerInput::default()
    };
    Ok(portal_account(ctx, step, package_id, input).await?.0)
}
