//! The simulator's payments: opening one (idempotently, by key), finding one, completing
//! one when the customer pays. What a create request must hold is checked here, once, for
//! both protocols ([`Draft::parse`]).

use std::collections::HashMap;

use super::{SimPayment, new_id};
use crate::{PaymentStatus, Provider, wire};

/// Payments held at most; past it, creates are refused (a long-running demo stays bounded).
const MAX_PAYMENTS: usize = 100_000;

/// A create request's fields, as received.
#[derive(Debug)]
pub(super) struct Draft<'a> {
    pub(super) provider: Provider,
    pub(super) merchant_ref: &'a str,
    pub(super) amount: i64,
    pub(super) currency: &'a str,
    pub(super) description: &'a str,
    pub(super) success_url: &'a str,
    pub(super) cancel_url: &'a str,
    pub(super) webhook_url: Option<&'a str>,
}

/// A create request that holds what a payment needs.
#[derive(Debug)]
pub(super) struct NewPayment {
    provider: Provider,
    merchant_ref: String,
    amount: i64,
    currency: String,
    description: String,
    success_url: String,
    cancel_url: String,
    webhook_url: Option<String>,
}

impl Draft<'_> {
    /// Checks every field: a reference, a positive amount, a currency, http(s) URLs.
    pub(super) fn parse(self) -> Result<NewPayment, String> {
        let webhook_url = match self.webhook_url.filter(|u| !u.is_empty()) {
            Some(url) => Some(http_url("webhook_url", url)?),
            None => None,
        };
        Ok(NewPayment {
            provider: self.provider,
            merchant_ref: wire::reference("merchant_ref", self.merchant_ref)?,
            amount: wire::positive("amount", self.amount)?,
            currency: wire::currency("currency", self.currency)?,
            description: wire::text("description", self.description, wire::MAX_TEXT)?,
            success_url: http_url("success_url", self.success_url)?,
            cancel_url: http_url("cancel_url", self.cancel_url)?,
            webhook_url,
        })
    }
}

fn http_url(field: &str, value: &str) -> Result<String, String> {
    let value = wire::text(field, value, wire::MAX_TEXT)?;
    // Kept as the URL parser writes it: ASCII, fit for a Location header.
    match reqwest::Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url.into()),
        _ => Err(format!("{field} is not an http or https URL")),
    }
}

/// Why a create is refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The idempotency key was used for another amount, currency or reference.
    Conflict,
    /// The simulator holds as many payments as it will.
    Full,
}

/// Every payment, by id and by idempotency key.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    payments: Vec<SimPayment>,
    by_id: HashMap<String, usize>,
    by_key: HashMap<(Provider, String), usize>,
}

impl Ledger {
    /// Opens a payment, or returns the one opened before under `key` when it is for the same
    /// thing. Its hosted page is under `public_base`.
    pub(super) fn open(
        &mut self,
        new: NewPayment,
        key: Option<String>,
        public_base: &str,
        now: i64,
    ) -> Result<SimPayment, Refusal> {
        let key = key.map(|key| (new.provider, key));
        if let Some(&index) = key.as_ref().and_then(|key| self.by_key.get(key)) {
            let old = &self.payments[index];
            let same = old.merchant_ref == new.merchant_ref
                && old.amount == new.amount
                && old.currency == new.currency;
            return if same {
                Ok(old.clone())
            } else {
                Err(Refusal::Conflict)
            };
        }
        if self.payments.len() >= MAX_PAYMENTS {
            return Err(Refusal::Full);
        }
        let id = new_id(match new.provider {
            Provider::Stripe => "cs_test_",
            Provider::Generic => "pay_",
        });
        let payment = SimPayment {
            provider: new.provider,
            redirect_url: format!("{public_base}/{}/pay/{id}", new.provider.as_str()),
            id: id.clone(),
            merchant_ref: new.merchant_ref,
            amount: new.amount,
            currency: new.currency,
            description: new.description,
            status: PaymentStatus::Pending,
            txn_id: None,
            webhook_url: new.webhook_url,
            success_url: new.success_url,
            cancel_url: new.cancel_url,
            created: now,
        };
        let index = self.payments.len();
        self.payments.push(payment.clone());
        self.by_id.insert(id, index);
        if let Some(key) = key {
            self.by_key.insert(key, index);
        }
        Ok(payment)
    }

    /// The payment `id` of `provider`.
    pub(super) fn find(&self, provider: Provider, id: &str) -> Option<&SimPayment> {
        self.by_id
            .get(id)
            .and_then(|&index| self.payments.get(index))
            .filter(|p| p.provider == provider)
    }

    /// Completes a pending payment: succeeded with a new transaction id, or failed.
    pub(super) fn complete(&mut self, id: &str, declined: bool) -> Result<SimPayment, String> {
        let payment = self
            .by_id
            .get(id)
            .and_then(|&index| self.payments.get_mut(index))
            .ok_or_else(|| format!("no payment {}", wire::excerpt(id)))?;
        if payment.status != PaymentStatus::Pending {
            return Err(format!(
                "payment {} is already {}",
                wire::excerpt(id),
                payment.status
            ));
        }
        if declined {
            payment.status = PaymentStatus::Failed;
        } else {
            payment.status = PaymentStatus::Succeeded;
            payment.txn_id = Some(new_id(match payment.provider {
                Provider::Stripe => "pi_",
                Provider::Generic => "txn_",
            }));
        }
        Ok(payment.clone())
    }

    /// Every payment, oldest first.
    pub(super) fn all(&self) -> Vec<SimPayment> {
        self.payments.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(merchant_ref: &str, amount: i64) -> Draft<'_> {
        Draft {
            provider: Provider::Generic,
            merchant_ref,
            amount,
            currency: "usd",
            description: "Plan",
            success_url: "http://127.0.0.1/ok",
            cancel_url: "http://127.0.0.1/no",
            webhook_url: Some("http://127.0.0.1/hook"),
        }
    }

    #[test]
    fn the_same_key_for_the_same_payment_returns_it() {
        let mut ledger = Ledger::default();
        let key = Some("INV-1".to_owned());
        let first = ledger
            .open(
                draft("INV-1", 100).parse().unwrap(),
                key.clone(),
                "http://h",
                1,
            )
            .unwrap();
        let again = ledger
            .open(
                draft("INV-1", 100).parse().unwrap(),
                key.clone(),
                "http://h",
                2,
            )
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(first.currency, "USD");
        let other = ledger.open(draft("INV-1", 200).parse().unwrap(), key, "http://h", 3);
        assert_eq!(other, Err(Refusal::Conflict));
        assert_eq!(ledger.all().len(), 1);
    }

    #[test]
    fn a_payment_completes_once() {
        let mut ledger = Ledger::default();
        let p = ledger
            .open(draft("INV-2", 100).parse().unwrap(), None, "http://h", 1)
            .unwrap();
        let paid = ledger.complete(&p.id, false).unwrap();
        assert_eq!(paid.status, PaymentStatus::Succeeded);
        assert!(paid.txn_id.unwrap().starts_with("txn_"));
        assert!(ledger.complete(&p.id, false).is_err());
        assert!(ledger.complete("pay_unknown", false).is_err());
    }

    #[test]
    fn drafts_need_a_positive_amount_a_currency_and_urls() {
        assert!(draft("INV-3", 0).parse().is_err());
        assert!(draft("INV-3", -5).parse().is_err());
        assert!(draft("", 5).parse().is_err());
        let mut bad = draft("INV-3", 5);
        bad.currency = "dollars";
        assert!(bad.parse().is_err());
        let mut bad = draft("INV-3", 5);
        bad.success_url = "javascript:alert(1)";
        assert!(bad.parse().is_err());
    }
}
