//! Signing in, for the API (bearer tokens) and the panel (sessions) alike: checking a
//! password behind the throttle, the TOTP second factor, and the signed-in user's own
//! account (profile, password, TOTP enrolment). The sessions and tokens themselves are the
//! edges' (`web`); this module decides who someone is.
//!
//! A sign-in's outcome is told by its error: `TooMany` (throttled), `Busy` (the hasher's
//! queue is full), `Unauthenticated("invalid_credentials")` or `("invalid_totp")` (a wrong
//! try, counted), so the edge can count outcomes without this module knowing of metrics.

pub mod password;
pub mod throttle;
pub mod token;
pub mod totp;

use std::net::IpAddr;
use std::time::Instant;

use crate::Ctx;
use crate::error::OpError;
use domain::access::Actor;
use domain::ids::{TenantId, UserId};
use domain::tenant::TenantStatus;
use domain::user::{Email, Password, UserStatus};
use store::auth::Holder;
use store::{Author, Write};
use throttle::Throttle;

/// Context of the sealed TOTP secret.
const TOTP_CONTEXT: &str = "staff_user.totp_secret";

/// The actor of a signed-in holder, if its account and tenant are active.
pub fn actor_of(holder: &Holder) -> Result<Actor, OpError> {
    let user = &holder.user;
    if user.status != UserStatus::Active {
        return Err(OpError::Unauthenticated("account_disabled"));
    }
    if let Some(tenant) = &holder.tenant
        && tenant.status != TenantStatus::Active
    {
        return Err(OpError::Unauthenticated("account_disabled"));
    }
    let role = store::user::role(user).map_err(OpError::from)?;
    Ok(Actor::new(
        UserId(user.id),
        role,
        user.tenant_id.map(TenantId),
        store::user::permissions(user),
    ))
}

/// The actor and audit author of user `id` as it is now, for work done on its behalf
/// later (a job it queued): refused when the account or its tenant is no longer active.
pub async fn acting_user(ctx: &Ctx<'_>, id: UserId) -> Result<(Actor, Author), OpError> {
    let holder = store::auth::holder(ctx.db.conn(), id.0)
        .await?
        .ok_or(OpError::Unauthenticated("account_disabled"))?;
    let actor = actor_of(&holder)?;
    let author = Author::user(id, holder.user.email.clone(), None);
    Ok((actor, author))
}

/// A user whose password was right.
#[derive(Debug)]
pub struct Verified {
    /// The account and its tenant.
    pub holder: Holder,
    /// Its actor.
    pub actor: Actor,
}

impl Verified {
    /// True if the account has a second factor to give.
    pub fn needs_totp(&self) -> bool {
        self.holder.user.totp_enabled
    }

    /// The audit author for this user from `ip`.
    pub fn author(&self, ip: IpAddr) -> Author {
        Author::user(
            self.actor.user_id,
            self.holder.user.email.clone(),
            Some(ip.to_string()),
        )
    }
}

fn throttle_keys(email: &str, ip: IpAddr) -> [String; 2] {
    [
        format!("account:{}", email.trim().to_lowercase()),
        format!("ip:{ip}"),
    ]
}

/// Checks an e-mail and password from `ip`. Refused before hashing when the account or the
/// address has had too many wrong tries in the last minute; a wrong try counts against both.
pub async fn check_password(
    ctx: &Ctx<'_>,
    throttle: &Throttle,
    email: &str,
    password: &str,
    ip: IpAddr,
) -> Result<Verified, OpError> {
    let keys = throttle_keys(email, ip);
    let started = Instant::now();
    if let Err(wait) = throttle.attempt(&keys, started) {
        return Err(OpError::TooMany(wait.as_secs()));
    }
    let found = match Email::parse(email) {
        Ok(email) => match store::user::find_for_sign_in(ctx.db.conn(), &email).await {
            Ok(found) => found,
            Err(error) => {
                throttle.forgive(&keys, started, None);
                return Err(error.into());
            }
        },
        Err(_) => None,
    };
    let stored = found.as_ref().map(|(user, _)| user.password_hash.as_str());
    // Bound the work an over-long password can cause before it reaches the hasher.
    let password = if password.len() > domain::user::PASSWORD_MAX {
        ""
    } else {
        password
    };
    let matched = match ctx.hasher.verify(password, stored).await {
        Ok(matched) => matched,
        Err(password::HashError::Busy) => {
            throttle.forgive(&keys, started, None);
            return Err(OpError::Busy);
        }
        Err(error) => {
            throttle.forgive(&keys, started, None);
            return Err(OpError::Internal(error.to_string()));
        }
    };
    let Some((user, tenant)) = found.filter(|_| matched) else {
        // The attempt stays counted: a wrong password.
        return Err(OpError::Unauthenticated("invalid_credentials"));
    };
    let holder = Holder { user, tenant };
    throttle.forgive(&keys, started, Some(&keys[0]));
    let actor = actor_of(&holder)?;
    Ok(Verified { holder, actor })
}

/// Checks a TOTP code of `user`; a wrong code counts as a wrong try.
pub async fn check_totp(
    ctx: &Ctx<'_>,
    throttle: &Throttle,
    verified: &Verified,
    code: &str,
    ip: IpAddr,
) -> Result<(), OpError> {
    let keys = throttle_keys(&verified.holder.user.email, ip);
    let started = Instant::now();
    if let Err(wait) = throttle.attempt(&keys, started) {
        return Err(OpError::TooMany(wait.as_secs()));
    }
    let secret = verified
        .holder
        .user
        .totp_secret
        .as_deref()
        .ok_or(OpError::Unauthenticated("invalid_totp"))?;
    let secret = ctx
        .db
        .keyring()
        .open(TOTP_CONTEXT, secret)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let now = u64::try_from(ctx.now.timestamp()).unwrap_or(0);
    // A code is accepted once: its step must be later than the last one accepted.
    let accepted = match totp::check(&secret, code, now) {
        Some(step) => {
            let step = i64::try_from(step).unwrap_or(i64::MAX);
            store::user::accept_totp_step(ctx.db.conn(), verified.actor.user_id, step).await?
        }
        None => false,
    };
    if accepted {
        throttle.forgive(&keys, started, None);
        Ok(())
    } else {
        Err(OpError::Unauthenticated("invalid_totp"))
    }
}

/// A TOTP enrolment waiting for its first code.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, to type in.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

/// Starts (or restarts) a TOTP enrolment for the signed-in user: a new secret is stored
/// sealed, not yet required at sign-in.
pub async fn start_totp(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
) -> Result<Enrolment, OpError> {
    let user = store::user::find_self(ctx.db.conn(), actor.user_id)
        .await?
        .ok_or(OpError::NotFound)?;
    if user.totp_enabled {
        return Err(OpError::field("totp", "already_enabled"));
    }
    let secret = totp::new_secret();
    let sealed = ctx
        .db
        .keyring()
        .seal(TOTP_CONTEXT, &secret)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    store::user::set_totp(&mut w, actor.user_id, Some(Some(sealed)), false).await?;
    w.commit().await?;
    let uri = totp::uri(&secret, &user.email);
    Ok(Enrolment {
        secret: totp::base32(&secret),
        qr_svg: totp::qr_svg(&uri).unwrap_or_default(),
        uri,
    })
}

/// Confirms a TOTP enrolment with a code from the authenticator: from now on sign-in asks
/// for one.
pub async fn confirm_totp(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    code: &str,
) -> Result<(), OpError> {
    let user = store::user::find_self(ctx.db.conn(), actor.user_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let sealed = user
        .totp_secret
        .as_deref()
        .ok_or_else(|| OpError::field("code", "no_enrolment"))?;
    let secret = ctx
        .db
        .keyring()
        .open(TOTP_CONTEXT, sealed)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let now = u64::try_from(ctx.now.timestamp()).unwrap_or(0);
    if totp::check(&secret, code, now).is_none() {
        return Err(OpError::field("code", "invalid_totp"));
    }
    let mut w = ctx.db.write(author, ctx.now).await?;
    store::user::set_totp(&mut w, actor.user_id, None, true).await?;
    w.commit().await?;
    Ok(())
}

/// Turns the second factor off after checking the account's password.
pub async fn disable_totp(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    password: &str,
) -> Result<(), OpError> {
    let user = store::user::find_self(ctx.db.conn(), actor.user_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let ok = ctx
        .hasher
        .verify(password, Some(&user.password_hash))
        .await
        .map_err(|_| OpError::Busy)?;
    if !ok {
        return Err(OpError::field("password", "wrong_password"));
    }
    let mut w = ctx.db.write(author, ctx.now).await?;
    store::user::set_totp(&mut w, actor.user_id, Some(None), false).await?;
    w.commit().await?;
    Ok(())
}

/// Changes the signed-in user's own password after checking the current one.
pub async fn change_password(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    current: &str,
    new: &str,
    keep: &store::user::Keep,
) -> Result<(), OpError> {
    let new = Password::parse("new_password", new)?;
    let user = store::user::find_self(ctx.db.conn(), actor.user_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let ok = ctx
        .hasher
        .verify(current, Some(&user.password_hash))
        .await
        .map_err(|_| OpError::Busy)?;
    if !ok {
        return Err(OpError::field("current_password", "wrong_password"));
    }
    let hash = ctx
        .hasher
        .hash(new.expose())
        .await
        .map_err(|_| OpError::Busy)?;
    let mut w: Write = ctx.db.write(author, ctx.now).await?;
    let changes = store::user::UserChanges {
        password_hash: Some(hash),
        ..Default::default()
    };
    store::user::update_own(&mut w, actor.user_id, &changes, keep).await?;
    w.commit().await?;
    Ok(())
}

/// Creates a Developer account (level 0): the setup link and `lastmile admin create` use
/// this; nothing else creates one.
pub async fn create_developer(
    ctx: &Ctx<'_>,
    author: Author,
    email: &str,
    name: &str,
    password: &str,
) -> Result<store::user::User, OpError> {
    let mut errors = domain::field::FieldErrors::new();
    let email = errors.take(Email::parse(email));
    let name = errors.take(domain::user::parse_name(name));
    let password = errors.take(Password::parse("password", password));
    let (Some(email), Some(name), Some(password)) = (email, name, password) else {
        return Err(OpError::Invalid(errors));
    };
    let password_hash = ctx
        .hasher
        .hash(password.expose())
        .await
        .map_err(|_| OpError::Busy)?;
    let row = store::user::NewUserRow {
        email,
        name,
        role: domain::access::Role::Developer,
        tenant_id: None,
        parent_id: None,
        permissions: domain::access::PermissionSet::EMPTY,
        password_hash,
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let user = store::user::create(&mut w, &row).await?;
    w.commit().await?;
    Ok(user)
}
