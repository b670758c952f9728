//! The staff sign-up wizard's rules, pure: its steps and the customer fields each one asks
//! for, what a draft holds between steps ([`DraftValues`]; the password is not among them,
//! it is sealed apart), how long a draft lives, who sees which drafts, and how the first
//! payment may be taken. The customer itself is parsed by [`super::NewCustomer::parse`], the
//! same as every other way in; the wizard only decides which of its answers a step shows.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::BillingType;
use crate::access::{Actor, Role};
use crate::field::{FieldError, FieldErrors};
use crate::ids::{TenantId, UserId};

/// How long a draft lives after its last change.
pub const DRAFT_DAYS: i64 = 7;
/// The most open drafts a tenant holds (the list shows them all).
pub const DRAFTS_PER_TENANT_MAX: u64 = 500;
/// The most bytes a draft's values take as JSON.
pub const VALUES_MAX_BYTES: usize = 64 * 1024;
/// The longest text any one value of a draft may hold (every field's own bound is lower;
/// this bounds what is kept before a field is parsed).
pub const VALUE_MAX_CHARS: usize = 2_000;

/// A step of the wizard, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Name, contact, the login and how the customer connects (and its owner).
    Basic,
    /// The package.
    Package,
    /// Address, zone, router, static address, MAC, custom fields.
    Address,
    /// How the customer pays and how its first period is paid.
    Payment,
    /// Everything once more, then activation.
    Review,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 5] = [
        Step::Basic,
        Step::Package,
        Step::Address,
        Step::Payment,
        Step::Review,
    ];

    /// Its code, as in addresses and the draft's row.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Basic => "basic",
            Step::Package => "package",
            Step::Address => "address",
            Step::Payment => "payment",
            Step::Review => "review",
        }
    }

    /// The step of a code.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// 1 to 5.
    pub fn number(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    /// The step after this one (the review is the last).
    pub fn next(self) -> Self {
        Self::ALL
            .get(self.number())
            .copied()
            .unwrap_or(Step::Review)
    }

    /// True when the field errors named `field` (a customer field, as
    /// [`super::NewCustomer::parse`] and the customer operation name them) belong to this
    /// step's form.
    pub fn owns(self, field: &str) -> bool {
        let step = match field {
            "name" | "mobile" | "email" | "username" | "password" | "connection_type"
            | "owner_id" | "tenant_id" => Step::Basic,
            "package_id" => Step::Package,
            "billing_type" | "payment" | "expires_at" | "status" => Step::Payment,
            f if f.starts_with("custom_fields.") => Step::Address,
            // address, zone, router, pool, static address, MAC, sessions, comment.
            _ => Step::Address,
        };
        step == self
    }

    /// The first step among `errors`' fields (where a refused activation sends the form).
    pub fn first_with(errors: &FieldErrors) -> Option<Step> {
        Self::ALL
            .into_iter()
            .find(|s| errors.0.iter().any(|e| s.owns(&e.field)))
    }
}

/// How the first period is paid, chosen at the payment step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstPayment {
    /// Collected now: a recharge of one validity, in cash (the tenant's people) or from
    /// the reseller's balance, with its receipt.
    Recharge,
    /// The first period is given now and billed: an invoice owed on the tenant's terms
    /// (the tenant's own people only: a reseller sells time, it does not give it).
    Invoice,
    /// Nothing now: a postpaid customer is billed by the invoice run, a free one never.
    None,
}

impl FirstPayment {
    /// Its code.
    pub fn as_str(self) -> &'static str {
        match self {
            FirstPayment::Recharge => "recharge",
            FirstPayment::Invoice => "invoice",
            FirstPayment::None => "none",
        }
    }

    /// The choice of a code.
    pub fn parse(text: &str) -> Option<Self> {
        [
            FirstPayment::Recharge,
            FirstPayment::Invoice,
            FirstPayment::None,
        ]
        .into_iter()
        .find(|p| p.as_str() == text.trim())
    }
}

/// The first payments a customer billed `billing` may start with, for a caller who may
/// (`may_collect`) or may not take its money, and who may (`gives_time`) or may not give
/// time by hand (`crate::access::gives_time`).
pub fn payment_choices(
    billing: BillingType,
    may_collect: bool,
    gives_time: bool,
) -> Vec<FirstPayment> {
    match billing {
        BillingType::Prepaid => {
            let mut choices = Vec::new();
            if may_collect {
                choices.push(FirstPayment::Recharge);
            }
            if gives_time {
                choices.push(FirstPayment::Invoice);
            }
            choices
        }
        BillingType::Postpaid | BillingType::Free => vec![FirstPayment::None],
    }
}

/// Checks the first payment asked for against the choices there are.
pub fn check_payment(
    asked: Option<&str>,
    choices: &[FirstPayment],
) -> Result<FirstPayment, FieldError> {
    let Some(asked) = asked.filter(|a| !a.trim().is_empty()) else {
        return match choices {
            [only] => Ok(*only),
            [] => Err(FieldError::new("payment", "forbidden")),
            _ => Err(FieldError::new("payment", "required")),
        };
    };
    match FirstPayment::parse(asked) {
        Some(p) if choices.contains(&p) => Ok(p),
        Some(_) => Err(FieldError::new("payment", "forbidden")),
        None => Err(FieldError::new("payment", "invalid")),
    }
}

/// What a draft holds between steps: the customer's fields as typed (each already accepted
/// by its step), the custom fields by key, and the first payment. The password is not here:
/// it is kept sealed beside the values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DraftValues {
    pub name: String,
    pub mobile: String,
    pub email: String,
    pub username: String,
    pub connection_type: String,
    pub owner_id: Option<i64>,
    pub package_id: Option<i64>,
    pub address: String,
    pub zone_id: Option<i64>,
    pub router_id: Option<i64>,
    pub ip_pool_id: Option<i64>,
    pub static_ip: String,
    pub allocate_static: bool,
    pub mac: String,
    pub simultaneous_use: String,
    pub comment: String,
    pub custom_fields: BTreeMap<String, String>,
    pub billing_type: String,
    pub payment: String,
}

impl DraftValues {
    /// Refuses a value longer than [`VALUE_MAX_CHARS`] (before any field's own parse) and
    /// more custom fields than a tenant may define.
    pub fn check_sizes(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let texts: [(&str, &str); 11] = [
            ("name", &self.name),
            ("mobile", &self.mobile),
            ("email", &self.email),
            ("username", &self.username),
            ("connection_type", &self.connection_type),
            ("address", &self.address),
            ("static_ip", &self.static_ip),
            ("mac", &self.mac),
            ("simultaneous_use", &self.simultaneous_use),
            ("comment", &self.comment),
            ("billing_type", &self.billing_type),
        ];
        for (field, text) in texts {
            if text.chars().count() > VALUE_MAX_CHARS {
                errors.push(too_long(field));
            }
        }
        if self.custom_fields.len() > crate::custom_field::FIELDS_MAX {
            errors.push(FieldError::new("custom_fields", "too_many_fields"));
        }
        for (key, value) in &self.custom_fields {
            if key.len() > 64 || value.chars().count() > VALUE_MAX_CHARS {
                errors.push(too_long(&crate::custom_field::error_field(key)));
            }
        }
        errors.finish(|| Some(()))
    }

    /// Takes the fields `step` asks for from `other`, keeping the rest.
    pub fn take_step(&mut self, step: Step, other: DraftValues) {
        match step {
            Step::Basic => {
                self.name = other.name;
                self.mobile = other.mobile;
                self.email = other.email;
                self.username = other.username;
                self.connection_type = other.connection_type;
                self.owner_id = other.owner_id;
            }
            Step::Package => self.package_id = other.package_id,
            Step::Address => {
                self.address = other.address;
                self.zone_id = other.zone_id;
                self.router_id = other.router_id;
                self.ip_pool_id = other.ip_pool_id;
                self.static_ip = other.static_ip;
                self.allocate_static = other.allocate_static;
                self.mac = other.mac;
                self.simultaneous_use = other.simultaneous_use;
                self.comment = other.comment;
                self.custom_fields = other.custom_fields;
            }
            Step::Payment => {
                self.billing_type = other.billing_type;
                self.payment = other.payment;
            }
            Step::Review => {}
        }
    }
}

fn too_long(field: &str) -> FieldError {
    FieldError::new(field, "too_long").with("max", VALUE_MAX_CHARS)
}

/// When a draft changed at `at` expires.
pub fn expires_at(at: DateTime<Utc>) -> DateTime<Utc> {
    at + TimeDelta::days(DRAFT_DAYS)
}

/// The drafts a caller sees: its tenant's, and of those only its own unless it runs the
/// tenant (Admin), who sees and resumes every draft of its staff (someone off sick leaves
/// a sign-up half done). Platform roles have no tenant and use the one-page form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftScope {
    tenant: TenantId,
    author: Option<UserId>,
}

impl DraftScope {
    /// The tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The only author whose drafts are seen (`None`: every author's of the tenant).
    pub fn author(&self) -> Option<UserId> {
        self.author
    }
}

/// The drafts `actor` sees; `None` when it may keep none (no tenant, or it may not create
/// customers).
pub fn draft_scope(actor: &Actor) -> Option<DraftScope> {
    let tenant = actor.tenant_id?;
    if !actor.can(crate::access::Permission::ManageCustomers) {
        return None;
    }
    Some(DraftScope {
        tenant,
        author: (actor.role != Role::Admin).then_some(actor.user_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_come_in_order_and_end_at_the_review() {
        assert_eq!(Step::Basic.next(), Step::Package);
        assert_eq!(Step::Payment.next(), Step::Review);
        assert_eq!(Step::Review.next(), Step::Review);
        assert_eq!(Step::parse("address"), Some(Step::Address));
        assert_eq!(Step::parse("nope"), None);
        assert_eq!(Step::Review.number(), 5);
    }

    #[test]
    fn each_field_belongs_to_one_step() {
        assert!(Step::Basic.owns("username"));
        assert!(Step::Package.owns("package_id"));
        assert!(Step::Address.owns("static_ip"));
        assert!(Step::Address.owns("custom_fields.plan"));
        assert!(Step::Payment.owns("billing_type"));
        assert!(!Step::Basic.owns("package_id"));
        let errors = FieldErrors(vec![
            FieldError::new("static_ip", "required"),
            FieldError::new("package_id", "not_usable"),
        ]);
        assert_eq!(Step::first_with(&errors), Some(Step::Package));
    }

    #[test]
    fn a_reseller_collects_and_the_tenant_may_also_bill() {
        use FirstPayment::*;
        assert_eq!(
            payment_choices(BillingType::Prepaid, true, false),
            vec![Recharge]
        );
        assert_eq!(
            payment_choices(BillingType::Prepaid, true, true),
            vec![Recharge, Invoice]
        );
        assert_eq!(
            payment_choices(BillingType::Postpaid, true, true),
            vec![None]
        );
        assert_eq!(
            check_payment(Some("invoice"), &[Recharge]),
            Err(FieldError::new("payment", "forbidden"))
        );
        assert_eq!(check_payment(Option::None, &[None]), Ok(None));
        assert!(check_payment(Option::None, &[Recharge, Invoice]).is_err());
        assert!(check_payment(Some("cash!"), &[Recharge]).is_err());
    }

    #[test]
    fn oversized_values_are_refused_before_parsing() {
        let values = DraftValues {
            name: "x".repeat(VALUE_MAX_CHARS + 1),
            ..DraftValues::default()
        };
        assert!(values.check_sizes().is_err());
        assert!(DraftValues::default().check_sizes().is_ok());
    }
}
