//! Recharge cards and access vouchers (hotspot-design §3.3): making a batch (PINs, or a
//! voucher's codes, from the system's CSPRNG, only their keyed hash kept, sealed for reprint
//! when the batch keeps them, or given back once when it does not), the lists ([`list`]), the export
//! of a batch's secrets (audited, counted), the moves of a card's life, and redemption. A
//! voucher is redeemed at the captive portal, where its code becomes a walk-up account
//! (`crate::hotspot::voucher`); it never recharges an existing account.
//!
//! Every card operation is within one tenant: the actor's, or for platform roles the one
//! it names. Who reaches what is `domain::access::card_reach`: the tenant's people with the
//! card permission run the stock; a reseller or distributor reaches the cards it holds (an
//! operator also those it handed down) and may hand them down, take them back and mark
//! them sold.
//!
//! **Redemption** (`redeem`) is one transaction: the card claimed (an update that only a
//! card still as it was read and redeemable passes, so of two redemptions of one card
//! exactly one wins), then the recharge written through the recharge's own path
//! (`crate::billing`) under the journal key `card:<id>:redeem`, paid by the card's holder as
//! a recharge it made (its balance pays the chain; a card of the tenant's stock was sold for
//! cash by the tenant, its batch's maker collecting), the journal noted on the card, the
//! audit entry and the attempt. The package is the card's, or the customer's own reseller
//! package made from it. A card distributor sells from its own stock ([`distributor`]), and
//! pays its parent for its cards as they are handed to it or redeemed (`account`), in the
//! transaction of the move or the redemption.

mod account;
pub mod distributor;
mod list;
mod redeem;

pub use list::{BatchView, CardQuery, batch, batches, cards, counts, holders_to_name};
pub use redeem::{
    FAILURE_WINDOW, Redeemed, STAFF_FAILURES, SUBJECT_FAILURES, TENANT_ALARM, TYPOS, redeem,
};
pub(crate) use redeem::{failed, open_voucher, redeem_for};

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, CardReach, Role, card_reach, holds_cards};
use domain::card::{AccessCode, Kind, Pin, State};
use domain::field::{FieldError, FieldErrors};
use domain::ids::{TenantId, UserId};
use store::card::{Batch, CardFilter, Move, NewBatch, NewCard};
use store::{AuditEntry, Author};

/// The most cards in one batch.
pub const MAX_BATCH: u32 = 100_000;
/// The longest note on a batch, in characters.
pub const NOTE_MAX: usize = 200;
/// The most serials one move names.
pub const MAX_SERIALS: usize = 10_000;

/// How many times a batch's draw is tried against the tenant's cards before giving up.
const DRAWS: usize = 4;

/// What a new batch is.
#[derive(Debug, Clone, Default)]
pub struct BatchInput {
    /// The tenant (platform roles); others make batches in their own.
    pub tenant_id: Option<i64>,
    /// Recharge cards, or access vouchers (of a hotspot package).
    pub kind: Kind,
    /// The package the cards apply (a master package of the tenant).
    pub package_id: i64,
    /// How many cards, 1 to [`MAX_BATCH`].
    pub quantity: i64,
    /// The face price printed (the package's price when absent).
    pub price: Option<i64>,
    /// What a card distributor keeps of each card's face price (none when absent).
    pub commission: Option<i64>,
    /// Unused after this instant, the cards expire.
    pub valid_until: Option<DateTime<Utc>>,
    /// Keep the PINs sealed for reprint and export (else they are given back once).
    pub keep_pins: bool,
    /// A reseller or distributor of the tenant to hand the whole batch to.
    pub holder_id: Option<i64>,
    /// What staff call it.
    pub note: String,
}

/// A batch made.
#[derive(Debug, Clone)]
pub struct Made {
    /// The batch.
    pub batch: Batch,
    /// Serial and printed PIN of each card, when the batch does not keep its PINs: the only
    /// time they are seen.
    pub pins: Vec<(String, String)>,
}

/// The tenant of a card operation and what the actor reaches in it.
struct Within {
    tenant: store::tenant::Tenant,
    reach: CardReach,
}

impl Within {
    fn id(&self) -> TenantId {
        TenantId(self.tenant.id)
    }

    /// Whether the actor runs the tenant's stock.
    fn manages(&self) -> bool {
        matches!(self.reach, CardReach::Stock { manages: true, .. })
    }
}

/// A card's secret: a recharge card's PIN or a voucher's code.
enum Secret {
    Pin(Pin),
    Code(AccessCode),
}

impl Secret {
    fn generate(kind: Kind, random: &mut impl FnMut() -> u8) -> Secret {
        match kind {
            Kind::Recharge => Secret::Pin(Pin::generate(random)),
            Kind::Access => Secret::Code(AccessCode::generate(random)),
        }
    }

    /// A kept secret of a card of `kind`, read back.
    fn read(kind: Kind, kept: &str) -> Option<Secret> {
        match kind {
            Kind::Recharge => Pin::parse(kept).ok().map(Secret::Pin),
            Kind::Access => AccessCode::parse(kept).ok().map(Secret::Code),
        }
    }

    /// What the keyed hash is of.
    fn as_str(&self) -> &str {
        match self {
            Secret::Pin(pin) => pin.as_str(),
            Secret::Code(code) => code.as_str(),
        }
    }

    fn printed(&self) -> String {
        match self {
            Secret::Pin(pin) => pin.printed(),
            Secret::Code(code) => code.printed(),
        }
    }

    fn tail(&self) -> &str {
        match self {
            Secret::Pin(pin) => pin.tail(),
            Secret::Code(code) => code.tail(),
        }
    }
}

/// The tenant `asked` (or the actor's) and the actor's reach in it.
async fn within(ctx: &Ctx<'_>, actor: &Actor, asked: Option<i64>) -> Result<Within, OpError> {
    let reach = card_reach(actor).ok_or(OpError::Forbidden)?;
    let id = asked
        .map(TenantId)
        .or(actor.tenant_id)
        .ok_or_else(|| OpError::field("tenant_id", "required"))?;
    if actor.tenant_id.is_some_and(|own| own != id) {
        return Err(OpError::NotFound);
    }
    let tenant = store::tenant::find(ctx.db.conn(), &access::tenant_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)?;
    Ok(Within { tenant, reach })
}

/// The holders whose cards the actor reaches (`None`: all of the tenant's).
async fn holders(ctx: &Ctx<'_>, within: &Within) -> Result<Option<Vec<i64>>, OpError> {
    match within.reach {
        CardReach::Stock { .. } => Ok(None),
        CardReach::Held {
            holder,
            children: down,
            ..
        } => {
            let mut ids = vec![holder.0];
            if down {
                ids.extend(children(ctx, holder).await?);
            }
            Ok(Some(ids))
        }
    }
}

/// The ids of `user`'s children (an operator's sub-operators and distributors).
async fn children(ctx: &Ctx<'_>, user: UserId) -> Result<Vec<i64>, OpError> {
    Ok(store::user::children(ctx.db.conn(), user)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect())
}

/// Makes a batch (see the module documentation); audited.
pub async fn create_batch(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: &BatchInput,
) -> Result<Made, OpError> {
    let within = within(ctx, actor, input.tenant_id).await?;
    if !within.manages() {
        return Err(OpError::Forbidden);
    }
    let tenant = within.id();
    let mut errors = FieldErrors::new();
    let quantity = match u32::try_from(input.quantity) {
        Ok(n) if (1..=MAX_BATCH).contains(&n) => n,
        _ => {
            errors.push(
                FieldError::new("quantity", "out_of_range")
                    .with("min", 1)
                    .with("max", MAX_BATCH),
            );
            0
        }
    };
    let package = store::package::find_any(ctx.db.conn(), input.package_id).await?;
    let package = package.filter(|p| {
        p.tenant_id == tenant.0
            && p.archived_at.is_none()
            && p.level.get() == domain::package::PackageLevel::Master
    });
    match &package {
        None => errors.push(FieldError::new("package_id", "not_found")),
        Some(p)
            if input.kind == Kind::Access
                && p.connection_type.get() != domain::package::ConnectionType::Hotspot =>
        {
            errors.push(FieldError::new("package_id", "voucher_needs_hotspot"));
        }
        Some(_) => {}
    }
    if input
        .price
        .is_some_and(|p| !(0..=crate::payment::MAX_AMOUNT).contains(&p))
    {
        errors.push(
            FieldError::new("price", "out_of_range")
                .with("min", 0)
                .with("max", crate::payment::MAX_AMOUNT),
        );
    }
    if input.valid_until.is_some_and(|at| at <= ctx.now) {
        errors.push(FieldError::new("valid_until", "in_the_past"));
    }
    let note = input.note.trim();
    if note.chars().count() > NOTE_MAX || note.chars().any(char::is_control) {
        errors.push(FieldError::new("note", "too_long").with("max", NOTE_MAX));
    }
    if let Some(holder) = input.holder_id
        && !is_holder(ctx, tenant, holder).await?
    {
        errors.push(FieldError::new("holder_id", "not_a_holder"));
    }
    let price = input
        .price
        .or(package.as_ref().map(|p| p.price))
        .unwrap_or(0);
    let commission = domain::card_account::check_commission(price, input.commission)
        .unwrap_or_else(|e| {
            errors.push(e);
            0
        });
    let Some(package) = package.filter(|_| errors.is_empty()) else {
        return Err(OpError::Invalid(errors));
    };
    let new = NewBatch {
        kind: input.kind,
        package_id: package.id,
        quantity,
        price,
        commission,
        valid_until: input.valid_until,
        keeps_pins: input.keep_pins,
        note,
    };
    // A batch made at the same moment in the tenant may draw a PIN this one drew: the
    // unique key refuses it, and the batch is drawn again.
    for _ in 0..DRAWS {
        match write_batch(ctx, author.clone(), &within.tenant, &new, input.holder_id).await {
            Err(OpError::Invalid(e)) if e.0.iter().any(|f| f.code == "taken") => continue,
            done => return done,
        }
    }
    Err(OpError::Busy)
}

/// True if `user` is a reseller or distributor of `tenant`, active.
async fn is_holder(ctx: &Ctx<'_>, tenant: TenantId, user: i64) -> Result<bool, OpError> {
    let found = store::user::find_self(ctx.db.conn(), UserId(user)).await?;
    Ok(found.is_some_and(|u| {
        u.tenant_id == Some(tenant.0)
            && u.archived_at.is_none()
            && u.status.get() == domain::user::UserStatus::Active
            && Role::from_level(u.role).is_some_and(holds_cards)
    }))
}

/// Draws and writes `new`'s cards in one transaction.
async fn write_batch(
    ctx: &Ctx<'_>,
    author: Author,
    tenant_row: &store::tenant::Tenant,
    new: &NewBatch<'_>,
    holder: Option<i64>,
) -> Result<Made, OpError> {
    let tenant = TenantId(tenant_row.id);
    let mut w = ctx.db.write(author, ctx.now).await?;
    let key = store::card::key(&w, tenant).await?;
    let batch = store::card::create_batch(&w, tenant, new).await?;
    let mut random = || rand::random::<u8>();
    // Draw, then draw again what the tenant's cards or this draw already have.
    let mut secrets: Vec<(Secret, String)> = Vec::with_capacity(new.quantity as usize);
    let mut seen = HashSet::with_capacity(new.quantity as usize);
    while secrets.len() < new.quantity as usize {
        let wanted = new.quantity as usize - secrets.len();
        let drawn: Vec<(Secret, String)> = (0..wanted)
            .map(|_| {
                let secret = Secret::generate(new.kind, &mut random);
                let hash = store::card::lookup(&key, secret.as_str());
                (secret, hash)
            })
            .filter(|(_, hash)| seen.insert(hash.clone()))
            .collect();
        let hashes: Vec<String> = drawn.iter().map(|(_, h)| h.clone()).collect();
        let taken = store::card::taken_lookups(&w, tenant, &hashes).await?;
        secrets.extend(drawn.into_iter().filter(|(_, h)| !taken.contains(h)));
    }
    let keyring = w.keyring();
    let mut rows = Vec::with_capacity(secrets.len());
    let mut shown = Vec::new();
    for (sequence, (secret, hash)) in (1u32..).zip(&secrets) {
        let serial = domain::card::serial(batch.id, sequence);
        let sealed = if new.keeps_pins {
            let sealed = keyring
                .seal(store::card::PIN_CONTEXT, secret.as_str().as_bytes())
                .map_err(|e| OpError::Internal(e.to_string()))?;
            Some(sealed)
        } else {
            shown.push((serial.clone(), secret.printed()));
            None
        };
        rows.push(NewCard {
            serial,
            lookup: hash.clone(),
            sealed,
            tail: secret.tail().to_owned(),
        });
    }
    store::card::insert_cards(&w, &batch, holder, &rows).await?;
    if let Some(holder) = holder {
        account::settle_made(&mut w, tenant_row, &batch, holder).await?;
    }
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "card.batch",
        entity: "card_batch",
        entity_id: Some(batch.id),
        before: None,
        after: Some(serde_json::json!({
            "kind": batch.kind.code(), "package_id": batch.package_id,
            "quantity": batch.quantity, "price": batch.price, "commission": batch.commission,
            "valid_until": batch.valid_until, "keeps_pins": batch.keeps_pins, "holder_id": holder,
        })),
    })
    .await?;
    w.commit().await?;
    Ok(Made { batch, pins: shown })
}

/// A batch's PINs opened, for an export or a printed sheet.
#[derive(Debug, Clone)]
pub struct Pins {
    /// The batch.
    pub batch: Batch,
    /// Its package's name.
    pub package: String,
    /// Its package's validity, in minutes.
    pub validity_minutes: i64,
    /// Its tenant's name.
    pub tenant: String,
    /// Its tenant's currency.
    pub currency: String,
    /// Serial, PIN as printed, state; in serial order.
    pub cards: Vec<(String, String, String)>,
}

/// What opening a batch's PINs is for (its audit action).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    /// A CSV for a print house (`card.export`).
    Export,
    /// A printed sheet (`card.print`).
    Print,
}

/// The PINs of batch `id`, for those who run its tenant's stock, when the batch keeps them;
/// each opening is audited and counted on the batch.
pub async fn pins(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    why: Reveal,
) -> Result<Pins, OpError> {
    let view = batch(ctx, actor, id).await?;
    let within = within(ctx, actor, Some(view.batch.tenant_id)).await?;
    if !within.manages() {
        return Err(OpError::Forbidden);
    }
    if !view.batch.keeps_pins {
        return Err(OpError::field("batch", "pins_not_kept"));
    }
    let package = store::package::find_any(ctx.db.conn(), view.batch.package_id).await?;
    let keyring = ctx.db.keyring();
    let mut cards = Vec::new();
    for (serial, sealed, state) in store::card::sealed_pins(ctx.db.conn(), id).await? {
        let pin = match sealed {
            Some(sealed) => {
                let plain = keyring
                    .open(store::card::PIN_CONTEXT, &sealed)
                    .map_err(|e| OpError::Internal(e.to_string()))?;
                Secret::read(view.batch.kind.get(), &String::from_utf8_lossy(&plain))
                    .map(|secret| secret.printed())
                    .ok_or_else(|| OpError::Internal("a kept secret does not read".to_owned()))?
            }
            None => String::new(),
        };
        cards.push((serial, pin, state));
    }
    let mut w = ctx.db.write(author, ctx.now).await?;
    store::card::count_export(&w, id).await?;
    w.audit(AuditEntry {
        tenant_id: Some(within.id()),
        action: match why {
            Reveal::Export => "card.export",
            Reveal::Print => "card.print",
        },
        entity: "card_batch",
        entity_id: Some(id),
        before: None,
        after: Some(serde_json::json!({ "exported": view.batch.exported + 1 })),
    })
    .await?;
    w.commit().await?;
    Ok(Pins {
        package: package.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
        validity_minutes: package.map_or(0, |p| p.validity_minutes),
        tenant: within.tenant.name.clone(),
        currency: within.tenant.currency.clone(),
        batch: view.batch,
        cards,
    })
}

/// The PINs of batch `id` as CSV (serial, PIN, package, price, valid until, state); see
/// [`pins`].
pub async fn export(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Vec<u8>, OpError> {
    let pins = pins(ctx, actor, author, id, Reveal::Export).await?;
    let broken = |e: csv::Error| OpError::Internal(e.to_string());
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["serial", "pin", "package", "price", "valid_until", "state"])
        .map_err(broken)?;
    let price = pins.batch.price.to_string();
    let until = pins
        .batch
        .valid_until
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    for (serial, pin, state) in &pins.cards {
        out.write_record([serial, pin, &pins.package, &price, &until, state])
            .map_err(broken)?;
    }
    out.into_inner()
        .map_err(|e| OpError::Internal(e.to_string()))
}

/// What is done to the cards a move takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardAction {
    /// Handed to a reseller or distributor.
    Assign(i64),
    /// Taken back (to the tenant's stock, or an operator's own hands).
    Unassign,
    /// Marked sold.
    Sell,
    /// Held back.
    Suspend,
    /// Let go again.
    Resume,
    /// Cancelled.
    Void,
}

impl CardAction {
    fn name(self) -> &'static str {
        match self {
            CardAction::Assign(_) => "assign",
            CardAction::Unassign => "unassign",
            CardAction::Sell => "sell",
            CardAction::Suspend => "suspend",
            CardAction::Resume => "resume",
            CardAction::Void => "void",
        }
    }
}

/// Which cards a move takes: a batch's, or the serials named (or both: those of the batch).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The tenant (platform roles).
    pub tenant_id: Option<i64>,
    /// A batch.
    pub batch_id: Option<i64>,
    /// Serials.
    pub serials: Vec<String>,
}

/// Moves the cards `selection` takes that the actor reaches and `action` may start from;
/// returns how many moved (the others are left as they are). Audited.
pub async fn move_cards(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    selection: &Selection,
    action: CardAction,
) -> Result<u64, OpError> {
    let within = within(ctx, actor, selection.tenant_id).await?;
    let tenant = within.id();
    if selection.batch_id.is_none() && selection.serials.is_empty() {
        return Err(OpError::field("serials", "required"));
    }
    if selection.serials.len() > MAX_SERIALS {
        return Err(OpError::Invalid(FieldErrors::one(
            FieldError::new("serials", "too_many_items").with("max", MAX_SERIALS),
        )));
    }
    let reach = holders(ctx, &within).await?;
    let manages = within.manages();
    let mut filter = CardFilter {
        tenants: Some(vec![tenant.0]),
        holders: reach.clone(),
        batch_id: selection.batch_id,
        serials: (!selection.serials.is_empty()).then(|| {
            selection
                .serials
                .iter()
                .map(|s| s.trim().to_ascii_uppercase())
                .collect()
        }),
        states: None,
    };
    let (from, to) = match (action, &within.reach) {
        (CardAction::Assign(to), _) => {
            if !is_holder(ctx, tenant, to).await? {
                return Err(OpError::field("holder_id", "not_a_holder"));
            }
            match within.reach {
                CardReach::Stock { .. } if manages => (
                    vec![State::InStock, State::Assigned],
                    Move::Hold(Some(to), State::Assigned),
                ),
                // An operator hands its own cards to its sub-operators and distributors.
                CardReach::Held {
                    holder,
                    children: true,
                    ..
                } => {
                    let children = children(ctx, holder).await?;
                    if !children.contains(&to) {
                        return Err(OpError::field("holder_id", "not_a_holder"));
                    }
                    filter.holders = Some(vec![holder.0]);
                    (vec![State::Assigned], Move::Hold(Some(to), State::Assigned))
                }
                _ => return Err(OpError::Forbidden),
            }
        }
        (CardAction::Unassign, CardReach::Stock { .. }) if manages => {
            (vec![State::Assigned], Move::Hold(None, State::InStock))
        }
        (
            CardAction::Unassign,
            CardReach::Held {
                holder,
                children: true,
                ..
            },
        ) => {
            let children = children(ctx, *holder).await?;
            filter.holders = Some(children);
            (
                vec![State::Assigned],
                Move::Hold(Some(holder.0), State::Assigned),
            )
        }
        (CardAction::Sell, CardReach::Stock { .. }) if manages => {
            (vec![State::Assigned], Move::Sell)
        }
        (CardAction::Sell, CardReach::Held { holder, .. }) => {
            filter.holders = Some(vec![holder.0]);
            (vec![State::Assigned], Move::Sell)
        }
        (CardAction::Suspend, CardReach::Stock { .. }) if manages => (
            vec![State::InStock, State::Assigned, State::Sold],
            Move::Suspend,
        ),
        (CardAction::Resume, CardReach::Stock { .. }) if manages => {
            (vec![State::Suspended], Move::Resume)
        }
        (CardAction::Void, CardReach::Stock { .. }) if manages => (
            vec![State::InStock, State::Assigned, State::Suspended],
            Move::Void,
        ),
        _ => return Err(OpError::Forbidden),
    };
    filter.states = Some(from);
    let mut w = ctx.db.write(author, ctx.now).await?;
    let cards = store::card::move_cards(&w, &filter, to).await?;
    account::settle_moved(&mut w, &within.tenant, &cards).await?;
    let moved = cards.len() as u64;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "card.move",
        entity: "card_batch",
        entity_id: selection.batch_id,
        before: None,
        after: Some(serde_json::json!({
            "action": action.name(),
            "holder_id": match action { CardAction::Assign(h) => Some(h), _ => None },
            "serials": selection.serials.len(),
            "moved": moved,
        })),
    })
    .await?;
    w.commit().await?;
    Ok(moved)
}

/// Marks expired every card past its date that was never used, with an audit entry per
/// tenant; how many (the hourly housekeeping calls it; a redemption refuses such a card
/// before it is marked).
pub async fn expire_due(ctx: &Ctx<'_>) -> Result<i64, OpError> {
    let mut w = ctx.db.write(Author::system("cards"), ctx.now).await?;
    let counts = store::card::expire_due(&w, ctx.now).await?;
    if counts.is_empty() {
        w.rollback().await?;
        return Ok(0);
    }
    for (tenant, cards) in &counts {
        w.audit(AuditEntry {
            tenant_id: Some(TenantId(*tenant)),
            action: "card.expire",
            entity: "tenant",
            entity_id: Some(*tenant),
            before: None,
            after: Some(serde_json::json!({ "cards": cards })),
        })
        .await?;
    }
    w.commit().await?;
    Ok(counts.iter().map(|(_, n)| n).sum())
}
