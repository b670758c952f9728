//! A sign-in code typed against the one kept (`domain::otp`'s rules on `store::hotspot`'s
//! `otp_code` rows), shared by the captive portal and the customer's own site: each says
//! what the code was bound to; this module judges the typing, counts a wrong try and uses a
//! right code once.

use domain::field::FieldError;
use domain::ids::TenantId;
use domain::otp::{self, Purpose, Verdict};
use store::hotspot::Otp;

use crate::Ctx;
use crate::error::OpError;

/// Uses `kept`, a sign-in code of `tenant`, when `typed` is its code: `bound(code)` is what
/// the code was bound to when it was sent (the text its keyed hash covers). Refused with
/// `code`: `no_code` (the tenant has no key), `wrong_code` (with `tries_left`), or
/// `code_expired` (too old, replaced, used or tried too often).
pub async fn redeem(
    ctx: &Ctx<'_>,
    tenant: TenantId,
    kept: &Otp,
    typed: &str,
    bound: impl Fn(&str) -> String,
) -> Result<(), OpError> {
    let conn = ctx.db.conn();
    let key = store::card::key_of(conn, ctx.db.keyring(), tenant)
        .await?
        .ok_or_else(|| OpError::field("code", "no_code"))?;
    let matches = otp::typed(typed).is_some_and(|code| {
        let mac = store::card::lookup(&key, &bound(&code));
        otp::same(mac.as_bytes(), kept.code_mac.as_bytes())
    });
    let challenge = otp::Challenge {
        purpose: Purpose::parse(&kept.purpose).unwrap_or(Purpose::SignIn),
        issued_at: kept.created_at,
        tries: u32::try_from(kept.tries).unwrap_or(u32::MAX),
        used: kept.used_at.is_some(),
    };
    // A code replaced by a newer one ends before its time.
    let verdict = if kept.expires_at <= ctx.now {
        Verdict::Expired
    } else {
        otp::check(&challenge, Purpose::SignIn, ctx.now, matches)
    };
    match verdict {
        Verdict::Accepted => {
            if store::hotspot::use_otp(conn, kept.id, ctx.now).await? {
                Ok(())
            } else {
                Err(OpError::field("code", "code_expired"))
            }
        }
        Verdict::Wrong { tries_left } => {
            store::hotspot::count_try(conn, kept.id, kept.tries).await?;
            Err(FieldError::new("code", "wrong_code")
                .with("tries_left", tries_left)
                .into())
        }
        Verdict::Expired | Verdict::Exhausted | Verdict::Used | Verdict::OtherPurpose => {
            Err(OpError::field("code", "code_expired"))
        }
    }
}
