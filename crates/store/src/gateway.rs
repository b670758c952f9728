//! Online payments' persistence (billing-design.md §4.1): tenants' merchant accounts (their
//! secrets sealed with the keyring, opened only to call the provider or check a signature),
//! payment intents and their state machine (every move a conditional `UPDATE` from the
//! state read, so two deliveries of one notice cannot both apply it), and the inbox of
//! verified provider notices, unique per merchant account and event.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use zeroize::Zeroizing;

use crate::crypto::Keyring;
use crate::entity::{gateway_account, gateway_event, payment_intent};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::write::{AuditEntry, Write};
use domain::ids::TenantId;

/// A stored merchant account.
pub type GatewayAccount = gateway_account::Model;
/// A stored intent.
pub type Intent = payment_intent::Model;
/// A stored notice.
pub type Event = gateway_event::Model;

/// How a taken account name is reported by each engine.
const NAME_KEYS: &[(&str, &str)] = &[
    ("gateway_account_name_idx", "name"),
    ("gateway_account.name", "name"),
];

/// The keyring context of gateway secrets.
const SECRET_CONTEXT: &str = "gateway_secret";

/// A merchant account to add.
#[derive(Clone)]
pub struct NewAccount<'a> {
    /// Its tenant.
    pub tenant: TenantId,
    /// `stripe` or `generic`.
    pub provider: &'a str,
    /// What staff call it (unique in the tenant).
    pub name: &'a str,
    /// The provider's API base.
    pub base_url: &'a str,
    /// The API key.
    pub secret_key: &'a str,
    /// The webhook signing secret (bKash: the password).
    pub webhook_secret: &'a str,
    /// The public half of the credentials: bKash's app key, SSLCommerz's store id.
    pub key_id: &'a str,
    /// bKash's user name.
    pub username: &'a str,
}

impl std::fmt::Debug for NewAccount<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("tenant", &self.tenant)
            .field("provider", &self.provider)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Adds a merchant account, its secrets sealed, audited without them.
pub async fn create_account(w: &mut Write, new: &NewAccount<'_>) -> StoreResult<GatewayAccount> {
    let now = w.now();
    let row = gateway_account::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.0),
        provider: Set(new.provider.to_owned()),
        name: Set(new.name.to_owned()),
        base_url: Set(new.base_url.to_owned()),
        secret_key: Set(w
            .keyring()
            .seal(SECRET_CONTEXT, new.secret_key.as_bytes())?),
        webhook_secret: Set(w
            .keyring()
            .seal(SECRET_CONTEXT, new.webhook_secret.as_bytes())?),
        key_id: Set(new.key_id.to_owned()),
        username: Set(new.username.to_owned()),
        status: Set("active".to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let saved = row
        .insert(w.tx())
        .await
        .map_err(|e| on_unique(e, NAME_KEYS))?;
    w.audit(AuditEntry {
        tenant_id: Some(new.tenant),
        action: "gateway_account.create",
        entity: "gateway_account",
        entity_id: Some(saved.id),
        before: None,
        after: Some(serde_json::json!({
            "provider": saved.provider, "name": saved.name, "base_url": saved.base_url,
        })),
    })
    .await?;
    Ok(saved)
}

/// The merchant accounts of `tenants` (`None`: all), by id.
pub async fn accounts<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
) -> StoreResult<Vec<GatewayAccount>> {
    let mut query = gateway_account::Entity::find();
    if let Some(t) = tenants {
        query = query.filter(gateway_account::Column::TenantId.is_in(t.to_vec()));
    }
    Ok(query
        .order_by_asc(gateway_account::Column::Id)
        .all(conn)
        .await?)
}

/// Merchant account `id`, whatever its tenant (the caller checks who asks).
pub async fn account<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<GatewayAccount>> {
    Ok(gateway_account::Entity::find_by_id(id).one(conn).await?)
}

/// The account's API key and webhook secret, opened.
pub fn secrets(
    keyring: &Keyring,
    account: &GatewayAccount,
) -> StoreResult<(Zeroizing<String>, Zeroizing<String>)> {
    Ok((
        keyring.open_string(SECRET_CONTEXT, &account.secret_key)?,
        keyring.open_string(SECRET_CONTEXT, &account.webhook_secret)?,
    ))
}

/// An intent to record.
#[derive(Debug, Clone)]
pub struct NewIntent<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// Who pays.
    pub customer_id: i64,
    /// Through which merchant account.
    pub gateway_account_id: i64,
    /// Ours, unique.
    pub merchant_ref: &'a str,
    /// `invoices` or `recharge`.
    pub purpose: &'a str,
    /// The package a recharge buys.
    pub package_id: Option<i64>,
    /// What our math asks.
    pub amount: i64,
    /// In what.
    pub currency: &'a str,
    /// The staff user who asked, if one did.
    pub created_by: Option<i64>,
    /// When it lapses unpaid.
    pub expires_at: DateTime<Utc>,
}

/// Records a pending intent in `w`, audited.
pub async fn create_intent(w: &mut Write, new: &NewIntent<'_>) -> StoreResult<Intent> {
    let now = w.now();
    let row = payment_intent::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.0),
        customer_id: Set(new.customer_id),
        gateway_account_id: Set(new.gateway_account_id),
        merchant_ref: Set(new.merchant_ref.to_owned()),
        purpose: Set(new.purpose.to_owned()),
        package_id: Set(new.package_id),
        amount: Set(new.amount),
        currency: Set(new.currency.to_owned()),
        status: Set("pending".to_owned()),
        outcome: Set(None),
        provider_payment_id: Set(None),
        redirect_url: Set(None),
        payment_id: Set(None),
        created_by: Set(new.created_by),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        updated_at: Set(now),
    };
    let saved = row.insert(w.tx()).await?;
    w.audit(AuditEntry {
        tenant_id: Some(new.tenant),
        action: "payment_intent.create",
        entity: "customer",
        entity_id: Some(new.customer_id),
        before: None,
        after: Some(serde_json::json!({
            "intent_id": saved.id, "merchant_ref": saved.merchant_ref, "purpose": saved.purpose,
            "amount": saved.amount, "currency": saved.currency,
            "gateway_account_id": saved.gateway_account_id,
        })),
    })
    .await?;
    Ok(saved)
}

/// Intent `id`.
pub async fn intent<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Intent>> {
    Ok(payment_intent::Entity::find_by_id(id).one(conn).await?)
}

/// The intent with our reference `merchant_ref`.
pub async fn intent_by_ref<C: ConnectionTrait>(
    conn: &C,
    merchant_ref: &str,
) -> StoreResult<Option<Intent>> {
    Ok(payment_intent::Entity::find()
        .filter(payment_intent::Column::MerchantRef.eq(merchant_ref))
        .one(conn)
        .await?)
}

/// The intent of merchant account `account` that the provider calls `provider_payment_id`.
pub async fn intent_by_provider<C: ConnectionTrait>(
    conn: &C,
    account: i64,
    provider_payment_id: &str,
) -> StoreResult<Option<Intent>> {
    Ok(payment_intent::Entity::find()
        .filter(payment_intent::Column::GatewayAccountId.eq(account))
        .filter(payment_intent::Column::ProviderPaymentId.eq(provider_payment_id))
        .one(conn)
        .await?)
}

/// Records the provider's checkout of pending intent `id`. Not audited by itself: the
/// caller's transaction is.
pub async fn set_checkout(
    w: &Write,
    id: i64,
    provider_payment_id: &str,
    redirect_url: &str,
) -> StoreResult<()> {
    let done = payment_intent::Entity::update_many()
        .col_expr(
            payment_intent::Column::ProviderPaymentId,
            Expr::value(provider_payment_id),
        )
        .col_expr(
            payment_intent::Column::RedirectUrl,
            Expr::value(redirect_url),
        )
        .col_expr(payment_intent::Column::UpdatedAt, Expr::value(w.now()))
        .filter(payment_intent::Column::Id.eq(id))
        .filter(payment_intent::Column::Status.eq("pending"))
        .filter(payment_intent::Column::ProviderPaymentId.is_null())
        .exec(w.tx())
        .await?;
    if done.rows_affected != 1 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

/// Moves intent `id` from `pending` to `status` with `outcome` (and the payment that
/// fulfils it); false when it is no longer pending (another delivery got there first).
pub async fn settle(
    w: &Write,
    id: i64,
    status: &str,
    outcome: &str,
    payment_id: Option<i64>,
) -> StoreResult<bool> {
    settle_from(w, id, "pending", status, outcome, payment_id).await
}

/// Moves intent `id` from `from` to `status` with `outcome`; false when it is no longer
/// `from`. A payment the provider took after the intent expired here moves it from
/// `expired`.
pub async fn settle_from(
    w: &Write,
    id: i64,
    from: &str,
    status: &str,
    outcome: &str,
    payment_id: Option<i64>,
) -> StoreResult<bool> {
    let done = payment_intent::Entity::update_many()
        .col_expr(payment_intent::Column::Status, Expr::value(status))
        .col_expr(payment_intent::Column::Outcome, Expr::value(outcome))
        .col_expr(payment_intent::Column::PaymentId, Expr::value(payment_id))
        .col_expr(payment_intent::Column::UpdatedAt, Expr::value(w.now()))
        .filter(payment_intent::Column::Id.eq(id))
        .filter(payment_intent::Column::Status.eq(from))
        .exec(w.tx())
        .await?;
    Ok(done.rows_affected == 1)
}

/// Up to `limit` pending intents with a checkout, made before `before`, oldest first: what
/// reconciliation asks the providers about.
pub async fn pending<C: ConnectionTrait>(
    conn: &C,
    before: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<Intent>> {
    Ok(payment_intent::Entity::find()
        .filter(payment_intent::Column::Status.eq("pending"))
        .filter(payment_intent::Column::CreatedAt.lt(before))
        .order_by_asc(payment_intent::Column::CreatedAt)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Customer `id`'s latest intents, newest first.
pub async fn intents_of<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    limit: u64,
) -> StoreResult<Vec<Intent>> {
    Ok(payment_intent::Entity::find()
        .filter(payment_intent::Column::CustomerId.eq(id))
        .order_by_desc(payment_intent::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// A verified notice to keep.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The merchant account's tenant.
    pub tenant: TenantId,
    /// The merchant account.
    pub gateway_account_id: i64,
    /// The provider's id of the event.
    pub provider_event_id: &'a str,
    /// Its type.
    pub kind: &'a str,
    /// The payment it is about.
    pub provider_payment_id: &'a str,
    /// The body as received.
    pub raw_body: &'a str,
}

/// Keeps `new` in the inbox; `None` when the same event was received before (a duplicate
/// delivery changes nothing). Inbox rows are bookkeeping, not audited: what settling one
/// changes is.
pub async fn receive(w: &Write, new: &NewEvent<'_>) -> StoreResult<Option<i64>> {
    let row = gateway_event::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.0),
        gateway_account_id: Set(new.gateway_account_id),
        provider_event_id: Set(new.provider_event_id.to_owned()),
        kind: Set(new.kind.to_owned()),
        provider_payment_id: Set(new.provider_payment_id.to_owned()),
        received_at: Set(w.now()),
        raw_body: Set(new.raw_body.to_owned()),
        processed_at: Set(None),
        outcome: Set(None),
    };
    let insert = gateway_event::Entity::insert(row).on_conflict(
        OnConflict::columns([
            gateway_event::Column::GatewayAccountId,
            gateway_event::Column::ProviderEventId,
        ])
        .do_nothing()
        .to_owned(),
    );
    match insert.exec(w.tx()).await {
        Ok(done) => Ok(Some(done.last_insert_id)),
        Err(DbErr::RecordNotInserted) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Event `id`.
pub async fn event<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Event>> {
    Ok(gateway_event::Entity::find_by_id(id).one(conn).await?)
}

/// Marks event `id` processed with `outcome`.
pub async fn processed<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    now: DateTime<Utc>,
    outcome: &str,
) -> StoreResult<()> {
    gateway_event::Entity::update_many()
        .col_expr(gateway_event::Column::ProcessedAt, Expr::value(now))
        .col_expr(gateway_event::Column::Outcome, Expr::value(outcome))
        .filter(gateway_event::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// How many events merchant account `account` has received (all, and processed).
pub async fn event_counts<C: ConnectionTrait>(conn: &C, account: i64) -> StoreResult<(u64, u64)> {
    let all = gateway_event::Entity::find()
        .filter(gateway_event::Column::GatewayAccountId.eq(account))
        .count(conn)
        .await?;
    let done = gateway_event::Entity::find()
        .filter(gateway_event::Column::GatewayAccountId.eq(account))
        .filter(gateway_event::Column::ProcessedAt.is_not_null())
        .count(conn)
        .await?;
    Ok((all, done))
}

/// Records that payment `payment` fulfils intent `id`, in the payment's transaction.
pub async fn attach_payment(w: &Write, id: i64, payment: i64) -> StoreResult<()> {
    payment_intent::Entity::update_many()
        .col_expr(payment_intent::Column::PaymentId, Expr::value(payment))
        .filter(payment_intent::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    Ok(())
}
