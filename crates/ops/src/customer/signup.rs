//! The staff sign-up wizard: a customer entered over five steps (basic information and
//! connection type, package, address and custom fields, first payment, review), kept as a
//! draft between them (`store::signup`), then activated in one transaction.
//!
//! Each step is checked by the same code as every other way a customer comes in
//! ([`super::prepare`]: `domain::customer::NewCustomer::parse`, the references, the custom
//! fields), keeping the refusals of the step's own fields; a refused step keeps the draft
//! as it was. Activation takes the draft (the row is the key: a second submit finds it gone
//! and creates nothing), writes the customer with its FreeRADIUS rows and custom fields
//! ([`super::write_new`]) and its first payment (a recharge through `crate::billing`, or a
//! first bill through `crate::first_bill`) with their audit entries, and commits once.
//!
//! Who keeps drafts, and who sees whose: `domain::customer::signup::draft_scope`.

use chrono::{DateTime, Utc};
use domain::access::{self, Actor, customer_scope};
use domain::custom_field::FieldInput;
use domain::customer::signup::{
    self, DRAFTS_PER_TENANT_MAX, DraftScope, DraftValues, FirstPayment, Step, VALUES_MAX_BYTES,
};
use domain::customer::{
    BillingType, CustomerInput, Msisdn, Username, read_billing, read_connection,
};
use domain::field::{FieldError, FieldErrors};
use domain::ids::{TenantId, UserId};
use domain::package::ConnectionType;
use store::Author;
use store::customer::Customer;
use store::signup::{SECRET_CONTEXT, Saved};

use crate::Ctx;
use crate::billing::{RechargeInput, RechargeOutcome, Written};
use crate::error::OpError;
use crate::first_bill::Billed;

/// The most drafts a list shows (a tenant holds at most [`DRAFTS_PER_TENANT_MAX`]).
const LIST_MAX: u64 = DRAFTS_PER_TENANT_MAX;

/// A draft as the wizard shows it.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Its id.
    pub id: i64,
    /// Who started it.
    pub author_id: i64,
    /// The step to fill next (every step before it was accepted).
    pub reached: Step,
    /// What was typed so far.
    pub values: DraftValues,
    /// True when a password was typed (it is never shown again).
    pub has_password: bool,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it expires, unless changed again.
    pub expires_at: DateTime<Utc>,
}

impl Draft {
    fn of(row: &store::signup::Draft) -> Self {
        Self {
            id: row.id,
            author_id: row.author_id,
            reached: Step::parse(&row.step).unwrap_or(Step::Basic),
            values: serde_json::from_str(&row.values).unwrap_or_default(),
            has_password: row.secret.is_some(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            expires_at: row.expires_at,
        }
    }
}

/// What one step posts: its fields (the others are ignored) and, at the first step, the
/// password (`None` or empty keeps the one held; none at all lets lastmile make one up at
/// activation, shown once).
#[derive(Debug, Clone, Default)]
pub struct StepInput {
    /// The step's fields.
    pub values: DraftValues,
    /// The password typed.
    pub password: Option<String>,
}

/// The drafts the caller keeps; refused to those who may not create customers in a tenant.
pub fn scope(actor: &Actor) -> Result<DraftScope, OpError> {
    signup::draft_scope(actor).ok_or(OpError::Forbidden)
}

/// The drafts the caller sees, the latest changed first.
pub async fn list(ctx: &Ctx<'_>, actor: &Actor) -> Result<Vec<Draft>, OpError> {
    let scope = scope(actor)?;
    let rows = store::signup::list(ctx.db.conn(), &scope, ctx.now, LIST_MAX).await?;
    Ok(rows.iter().map(Draft::of).collect())
}

/// A draft the caller sees (an expired one is not found).
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Draft, OpError> {
    Ok(Draft::of(&find(ctx, actor, id).await?))
}

async fn find(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<store::signup::Draft, OpError> {
    let scope = scope(actor)?;
    store::signup::find(ctx.db.conn(), &scope, id, ctx.now)
        .await?
        .ok_or(OpError::NotFound)
}

/// Checks `step`'s fields of `input` with what the draft `id` holds (a new draft when
/// `None`, which only the first step starts) and keeps them; a refused step changes
/// nothing and reports its fields.
pub async fn save(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: Option<i64>,
    step: Step,
    input: StepInput,
) -> Result<Draft, OpError> {
    let scope = scope(actor)?;
    let held = match id {
        Some(id) => Some(find(ctx, actor, id).await?),
        None if step == Step::Basic => None,
        None => return Err(OpError::NotFound),
    };
    let before = held.as_ref().map(Draft::of);
    let reached = before.as_ref().map_or(Step::Basic, |d| d.reached);
    if step > reached || step == Step::Review {
        return Err(OpError::field("step", "invalid"));
    }
    let mut values = before
        .as_ref()
        .map(|d| d.values.clone())
        .unwrap_or_default();
    values.take_step(step, input.values);
    values.check_sizes()?;
    let typed = input.password.filter(|p| !p.is_empty());
    let password = match (&typed, held.as_ref().and_then(|d| d.secret.as_deref())) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(sealed)) => Some(open(ctx, sealed)?),
        (None, None) => None,
    };
    check_step(ctx, actor, step, &values, password).await?;
    let json = serde_json::to_string(&values).map_err(|e| OpError::Internal(e.to_string()))?;
    if json.len() > VALUES_MAX_BYTES {
        return Err(OpError::Invalid(FieldErrors::one(
            FieldError::new("draft", "too_long").with("max", VALUES_MAX_BYTES),
        )));
    }
    let secret = match typed {
        Some(p) => Some(
            ctx.db
                .keyring()
                .seal(SECRET_CONTEXT, p.as_bytes())
                .map_err(|e| OpError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let saved = Saved {
        step: reached.max(step.next()).as_str(),
        values: json,
        secret,
        expires_at: signup::expires_at(ctx.now),
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let row = match held {
        Some(held) => store::signup::save(&mut w, &scope, held.id, saved).await?,
        None => {
            match store::signup::create(&mut w, &scope, actor.user_id, saved, DRAFTS_PER_TENANT_MAX)
                .await
            {
                Err(store::StoreError::Refused { field, .. }) => {
                    return Err(OpError::Invalid(FieldErrors::one(
                        FieldError::new(field, "too_many_items").with("max", DRAFTS_PER_TENANT_MAX),
                    )));
                }
                other => other?,
            }
        }
    };
    w.commit().await?;
    Ok(Draft::of(&row))
}

/// Discards a draft the caller sees.
pub async fn discard(ctx: &Ctx<'_>, actor: &Actor, author: Author, id: i64) -> Result<(), OpError> {
    let scope = scope(actor)?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    if store::signup::take(&mut w, &scope, id, "signup.discard")
        .await?
        .is_none()
    {
        w.rollback().await?;
        return Err(OpError::NotFound);
    }
    w.commit().await?;
    Ok(())
}

/// What an activation did.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The customer created.
    pub customer: Customer,
    /// The password lastmile made up, to be shown once.
    pub made_up: Option<String>,
    /// How its first period was paid.
    pub payment: FirstPayment,
    /// The recharge, when collected now.
    pub recharge: Option<RechargeOutcome>,
    /// The first bill, when billed.
    pub billed: Option<Billed>,
}

/// Activates draft `id`: in one transaction, takes the draft and creates the customer (its
/// FreeRADIUS rows, custom fields), its first recharge or bill, and their audit entries. A
/// refusal names the fields (of any step; the first step holding one is where to go back
/// to); a draft already activated or discarded is not found.
pub async fn finish(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Finished, OpError> {
    let scope = scope(actor)?;
    let held = find(ctx, actor, id).await?;
    let draft = Draft::of(&held);
    if draft.reached != Step::Review {
        return Err(OpError::field("step", "invalid"));
    }
    let password = held.secret.as_deref().map(|s| open(ctx, s)).transpose()?;
    let input = customer_input(&draft.values, password);
    let mut errors = FieldErrors::new();
    if draft.values.connection_type.trim().is_empty() {
        errors.push(FieldError::new("connection_type", "required"));
    }
    let prepared = match super::prepare(ctx, actor, &input).await {
        Ok(prepared) => Some(prepared),
        Err(OpError::Invalid(more)) => {
            errors.extend(more);
            None
        }
        Err(other) => return Err(other),
    };
    let owner = super::owner_for(
        ctx,
        actor,
        TenantId(scope.tenant().0),
        draft.values.owner_id.map(UserId),
    )
    .await?;
    let billing = match prepared.as_ref() {
        Some(p) => p.new.billing_type,
        None => billing_of(ctx, actor, &draft.values).await?,
    };
    let payment = errors.take(signup::check_payment(
        Some(draft.values.payment.as_str()),
        &payment_choices(actor, owner, billing),
    ));
    let (Some(mut prepared), Some(payment)) = (prepared.filter(|_| errors.is_empty()), payment)
    else {
        return Err(OpError::Invalid(errors));
    };
    if payment == FirstPayment::Recharge {
        // The time is bought at once below, starting now.
        prepared.new.expires_at = None;
    }
    let collector = match payment {
        FirstPayment::Recharge => Some(access::recharge_customers_of(actor, owner)?),
        _ => None,
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    if store::signup::take(&mut w, &scope, id, "signup.finish")
        .await?
        .is_none()
    {
        // Activated (or discarded) meanwhile: nothing more to create.
        w.rollback().await?;
        return Err(OpError::NotFound);
    }
    let customer = super::write_new(&mut w, &prepared).await?;
    let mut recharge = None;
    let mut billed = None;
    match (payment, collector) {
        (FirstPayment::Recharge, Some(collector)) => {
            let plan = crate::billing::plan_for(
                ctx,
                customer.clone(),
                &prepared.tenant,
                collector,
                &RechargeInput::default(),
            )
            .await?;
            let written = crate::billing::write(
                ctx,
                &mut w,
                &plan,
                format!("signup:{id}"),
                Some(actor.user_id.0),
                &customer_scope(actor),
            )
            .await?;
            match written {
                Written::New(outcome) => recharge = Some(outcome),
                Written::Replay(_) => {
                    w.rollback().await?;
                    return Err(OpError::NotFound);
                }
            }
        }
        (FirstPayment::Invoice, _) => {
            billed = Some(
                crate::first_bill::issue(
                    ctx,
                    &mut w,
                    &prepared.tenant,
                    std::slice::from_ref(&customer),
                )
                .await?,
            );
        }
        _ => {}
    }
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(customer.tenant_id)),
        action: "signup.activate",
        entity: "customer",
        entity_id: Some(customer.id),
        before: None,
        after: Some(serde_json::json!({
            "draft_id": id,
            "payment": payment.as_str(),
            "recharge_journal_id": recharge.as_ref().and_then(|r| r.journal_id),
            "billed": billed.map(|b| b.amount),
        })),
    })
    .await?;
    w.commit().await?;
    let customer = super::get(ctx, actor, customer.id).await?;
    Ok(Finished {
        customer,
        made_up: prepared.made_up,
        payment,
        recharge,
        billed,
    })
}

/// The packages the draft's customer may take: its owner's (the tenant's masters when the
/// tenant owns it) of its connection type, `(id, name)` by name.
pub async fn packages(
    ctx: &Ctx<'_>,
    actor: &Actor,
    draft: &Draft,
) -> Result<Vec<(i64, String)>, OpError> {
    let scope = scope(actor)?;
    let Ok(connection) = read_connection(&draft.values.connection_type) else {
        return Ok(Vec::new());
    };
    let owner = super::owner_for(
        ctx,
        actor,
        scope.tenant(),
        draft.values.owner_id.map(UserId),
    )
    .await?;
    Ok(store::package::usable(ctx.db.conn(), owner.user(), scope.tenant(), connection).await?)
}

/// The first payments the caller may take for the draft's customer, by billing type, and
/// the tenant's default billing type.
pub async fn payment_terms(
    ctx: &Ctx<'_>,
    actor: &Actor,
    draft: &Draft,
) -> Result<(BillingType, Vec<(BillingType, Vec<FirstPayment>)>), OpError> {
    let scope = scope(actor)?;
    let tenant = super::tenant_of(ctx, actor, Some(scope.tenant())).await?;
    let owner = super::owner_for(
        ctx,
        actor,
        scope.tenant(),
        draft.values.owner_id.map(UserId),
    )
    .await?;
    let terms = BillingType::ALL
        .into_iter()
        .filter(|b| *b != BillingType::Free || access::gives_time(actor))
        .map(|b| (b, payment_choices(actor, owner, b)))
        .collect();
    Ok((tenant.default_billing_type.get(), terms))
}

/// The first payments `actor` may take for a customer of `owner` billed `billing`.
fn payment_choices(actor: &Actor, owner: access::Owner, billing: BillingType) -> Vec<FirstPayment> {
    signup::payment_choices(
        billing,
        access::recharge_customers_of(actor, owner).is_ok(),
        access::gives_time(actor),
    )
}

/// The billing type the draft asks for, or the tenant's default.
async fn billing_of(
    ctx: &Ctx<'_>,
    actor: &Actor,
    values: &DraftValues,
) -> Result<BillingType, OpError> {
    match read_billing(values.billing_type.trim()) {
        Ok(b) => Ok(b),
        Err(_) => {
            let scope = scope(actor)?;
            let tenant = super::tenant_of(ctx, actor, Some(scope.tenant())).await?;
            Ok(tenant.default_billing_type.get())
        }
    }
}

/// Checks `step`'s fields of `values` (with `password`) the way the customer will be
/// checked at activation, keeping only that step's refusals; the first step also checks
/// that the user name and mobile are free, and the payment step the payment chosen.
async fn check_step(
    ctx: &Ctx<'_>,
    actor: &Actor,
    step: Step,
    values: &DraftValues,
    password: Option<String>,
) -> Result<(), OpError> {
    let input = customer_input(values, password);
    let mut errors = FieldErrors::new();
    let prepared = match super::prepare(ctx, actor, &input).await {
        Ok(prepared) => Some(prepared),
        Err(OpError::Invalid(all)) => {
            errors
                .0
                .extend(all.0.into_iter().filter(|e| step.owns(&e.field)));
            None
        }
        Err(other) => return Err(other),
    };
    match step {
        Step::Basic => {
            if values.connection_type.trim().is_empty() {
                errors.push(FieldError::new("connection_type", "required"));
            }
            if errors.is_empty() {
                free_names(ctx, actor, values, &mut errors).await?;
            }
        }
        Step::Payment => {
            let scope = scope(actor)?;
            let owner =
                super::owner_for(ctx, actor, scope.tenant(), values.owner_id.map(UserId)).await?;
            let billing = match prepared.as_ref() {
                Some(p) => p.new.billing_type,
                None => billing_of(ctx, actor, values).await?,
            };
            if !errors.0.iter().any(|e| e.field == "billing_type") {
                errors.take(signup::check_payment(
                    Some(values.payment.as_str()),
                    &payment_choices(actor, owner, billing),
                ));
            }
        }
        _ => {}
    }
    errors.finish(|| Some(())).map_err(OpError::Invalid)
}

/// Refuses a user name or mobile another customer holds (or whose name still rests), so
/// the first step says so rather than the activation.
async fn free_names(
    ctx: &Ctx<'_>,
    actor: &Actor,
    values: &DraftValues,
    errors: &mut FieldErrors,
) -> Result<(), OpError> {
    let scope = scope(actor)?;
    let tenant = super::tenant_of(ctx, actor, Some(scope.tenant())).await?;
    let country = super::mobile_country(&tenant);
    let mobile = match (filled(&values.mobile), country.as_ref()) {
        (Some(m), Some(country)) => Msisdn::parse(&m, country).ok(),
        _ => None,
    };
    let username = match filled(&values.username) {
        Some(u) => Username::parse(&u).ok(),
        None if read_connection(&values.connection_type) == Ok(ConnectionType::Hotspot) => {
            let realm = store::tenant::realm(&tenant);
            mobile
                .as_ref()
                .and_then(|m| Username::parse(&format!("{}@{realm}", m.digits())).ok())
        }
        None => None,
    };
    if let Some(name) = username {
        let taken =
            store::customer::taken_names(ctx.db.conn(), &[name.key()], ctx.now, ctx.db.name_rest())
                .await?;
        if !taken.is_empty() {
            errors.push(FieldError::new("username", "taken"));
        }
    }
    if let Some(m) = mobile {
        let taken = store::customer::taken_mobiles(
            ctx.db.conn(),
            TenantId(tenant.id),
            &[m.as_str().to_owned()],
        )
        .await?;
        if !taken.is_empty() {
            errors.push(FieldError::new("mobile", "taken"));
        }
    }
    Ok(())
}

/// The customer the draft describes, as every other way in hands it over.
fn customer_input(v: &DraftValues, password: Option<String>) -> CustomerInput {
    CustomerInput {
        tenant_id: None,
        owner_id: v.owner_id.map(UserId),
        package_id: v.package_id,
        connection_type: filled(&v.connection_type),
        billing_type: filled(&v.billing_type),
        name: v.name.clone(),
        mobile: filled(&v.mobile),
        email: filled(&v.email),
        address: v.address.clone(),
        zone_id: v.zone_id,
        router_id: v.router_id,
        username: filled(&v.username),
        password,
        status: None,
        expires_at: None,
        static_ip: filled(&v.static_ip),
        ip_pool_id: v.ip_pool_id,
        allocate_static: v.allocate_static,
        mac: filled(&v.mac),
        simultaneous_use: filled(&v.simultaneous_use),
        comment: v.comment.clone(),
        custom_fields: v
            .custom_fields
            .iter()
            .map(|(k, v)| (k.clone(), FieldInput::Text(v.clone())))
            .collect(),
    }
}

fn filled(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn open(ctx: &Ctx<'_>, sealed: &str) -> Result<String, OpError> {
    ctx.db
        .keyring()
        .open_string(SECRET_CONTEXT, sealed)
        .map(|p| p.to_string())
        .map_err(|e| OpError::Internal(e.to_string()))
}
