//! The simulator's payments: opening one (idempotently, by key), finding one, completing
//! one when the customer pays, and executing a bKash payment the customer authorised. What
//! a create request must hold is checked here, once, for every protocol ([`Draft::parse`]).
//! Ids are per provider: an SSLCommerz payment's id is the merchant's `tran_id`.

use std::collections::HashMap;

use super::{SimPayment, new_id, new_trx_id};
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

/// Why a bKash execute is refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ExecuteRefusal {
    /// No such payment.
    Unknown,
    /// The customer has not authorised it (or it failed).
    NotAuthorised,
    /// It was executed before.
    AlreadyExecuted,
}

/// Every payment, by provider and id, and by idempotency key.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    payments: Vec<SimPayment>,
    by_id: HashMap<(Provider, String), usize>,
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
        let id = match new.provider {
            Provider::Stripe => new_id("cs_test_"),
            Provider::Generic => new_id("pay_"),
            Provider::Bkash => new_id("TR0011"),
            Provider::Sslcommerz => new.merchant_ref.clone(),
        };
        if self.by_id.contains_key(&(new.provider, id.clone())) {
            return Err(Refusal::Conflict);
        }
        let segment = percent_encoding::utf8_percent_encode(&id, wire::PATH_SEGMENT);
        let payment = SimPayment {
            provider: new.provider,
            redirect_url: format!("{public_base}/{}/pay/{segment}", new.provider.as_str()),
            id: id.clone(),
            merchant_ref: new.merchant_ref,
            amount: new.amount,
            currency: new.currency,
            description: new.description,
            status: PaymentStatus::Pending,
            txn_id: None,
            authorised: false,
            paid_amount: None,
            val_id: None,
            webhook_url: new.webhook_url,
            success_url: new.success_url,
            cancel_url: new.cancel_url,
            created: now,
        };
        let index = self.payments.len();
        self.payments.push(payment.clone());
        self.by_id.insert((payment.provider, id), index);
        if let Some(key) = key {
            self.by_key.insert(key, index);
        }
        Ok(payment)
    }

    /// The payment `id` of `provider`.
    pub(super) fn find(&self, provider: Provider, id: &str) -> Option<&SimPayment> {
        self.by_id
            .get(&(provider, id.to_owned()))
            .and_then(|&index| self.payments.get(index))
    }

    /// The payment `id` of whichever provider holds one.
    fn find_mut(&mut self, id: &str) -> Option<&mut SimPayment> {
        let index = Provider::ALL
            .into_iter()
            .find_map(|p| self.by_id.get(&(p, id.to_owned())).copied())?;
        self.payments.get_mut(index)
    }

    /// The customer pays a pending payment: it fails when `declined`; otherwise it succeeds
    /// with a new transaction id or, for bKash, is authorised for a later execute. Under
    /// `tamper`, bKash and SSLCommerz payments are paid a tenth of the amount (at least 1).
    pub(super) fn complete(
        &mut self,
        id: &str,
        declined: bool,
        tamper: bool,
    ) -> Result<SimPayment, String> {
        let payment = self
            .find_mut(id)
            .ok_or_else(|| format!("no payment {}", wire::excerpt(id)))?;
        if payment.status != PaymentStatus::Pending || payment.authorised {
            let state = if payment.authorised {
                "authorised".to_owned()
            } else {
                payment.status.to_string()
            };
            return Err(format!("payment {} is already {state}", wire::excerpt(id)));
        }
        if declined {
            payment.status = PaymentStatus::Failed;
            return Ok(payment.clone());
        }
        let paid = match payment.provider {
            Provider::Bkash | Provider::Sslcommerz if tamper => (payment.amount / 10).max(1),
            _ => payment.amount,
        };
        payment.paid_amount = Some(paid);
        match payment.provider {
            Provider::Stripe => payment.txn_id = Some(new_id("pi_")),
            Provider::Generic => payment.txn_id = Some(new_id("txn_")),
            Provider::Sslcommerz => {
                payment.txn_id = Some(new_id("BT"));
                payment.val_id = Some(new_id("VAL"));
            }
            Provider::Bkash => {
                payment.authorised = true;
                return Ok(payment.clone());
            }
        }
        payment.status = PaymentStatus::Succeeded;
        Ok(payment.clone())
    }

    /// Executes the bKash payment `id`: an authorised one succeeds with a new `trxID`.
    pub(super) fn execute(&mut self, id: &str) -> Result<SimPayment, ExecuteRefusal> {
        let index = self
            .by_id
            .get(&(Provider::Bkash, id.to_owned()))
            .copied()
            .ok_or(ExecuteRefusal::Unknown)?;
        let payment = self
            .payments
            .get_mut(index)
            .ok_or(ExecuteRefusal::Unknown)?;
        match payment.status {
            PaymentStatus::Succeeded => Err(ExecuteRefusal::AlreadyExecuted),
            PaymentStatus::Pending if payment.authorised => {
                payment.status = PaymentStatus::Succeeded;
                payment.txn_id = Some(new_trx_id());
                Ok(payment.clone())
            }
            PaymentStatus::Pending | PaymentStatus::Failed => Err(ExecuteRefusal::NotAuthorised),
        }
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
        let paid = ledger.complete(&p.id, false, false).unwrap();
        assert_eq!(paid.status, PaymentStatus::Succeeded);
        assert!(paid.txn_id.unwrap().starts_with("txn_"));
        assert!(ledger.complete(&p.id, false, false).is_err());
        assert!(ledger.complete("pay_unknown", false, false).is_err());
    }

    #[test]
    fn a_bkash_payment_is_authorised_then_executed_once() {
        let mut ledger = Ledger::default();
        let mut d = draft("INV-4", 50_000);
        d.provider = Provider::Bkash;
        d.currency = "BDT";
        let p = ledger
            .open(d.parse().unwrap(), None, "http://h", 1)
            .unwrap();
        assert!(p.id.starts_with("TR0011"));
        assert_eq!(ledger.execute(&p.id), Err(ExecuteRefusal::NotAuthorised));
        let authorised = ledger.complete(&p.id, false, true).unwrap();
        assert!(authorised.authorised);
        assert_eq!(authorised.status, PaymentStatus::Pending);
        assert_eq!(authorised.paid_amount, Some(5_000));
        assert!(ledger.complete(&p.id, false, false).is_err());
        let executed = ledger.execute(&p.id).unwrap();
        assert_eq!(executed.status, PaymentStatus::Succeeded);
        assert_eq!(executed.txn_id.map(|t| t.len()), Some(10));
        assert_eq!(ledger.execute(&p.id), Err(ExecuteRefusal::AlreadyExecuted));
        assert_eq!(ledger.execute("TR0011none"), Err(ExecuteRefusal::Unknown));
    }

    #[test]
    fn an_sslcommerz_payment_is_known_by_its_tran_id_once() {
        let mut ledger = Ledger::default();
        let mut d = draft("lm/1 x", 100);
        d.provider = Provider::Sslcommerz;
        let key = Some("lm/1 x".to_owned());
        let p = ledger
            .open(d.parse().unwrap(), key.clone(), "http://h", 1)
            .unwrap();
        assert_eq!(p.id, "lm/1 x");
        assert_eq!(p.redirect_url, "http://h/sslcommerz/pay/lm%2F1%20x");
        assert!(ledger.find(Provider::Sslcommerz, "lm/1 x").is_some());
        assert!(ledger.find(Provider::Generic, "lm/1 x").is_none());
        let paid = ledger.complete("lm/1 x", false, false).unwrap();
        assert!(paid.val_id.is_some() && paid.txn_id.is_some());
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
