//! The customer's money on its page: the recharge card (a package the owner may sell, days
//! and hours, and a key drawn once per rendering of the page), the quote a preview shows
//! before anything is paid (price, credit for unused time, what to collect, what the
//! collector's balance pays, from when to when), and the grants of time the customer's
//! recharges bought; for a postpaid customer, its invoices and the card that takes a cash
//! payment of what is due. Who may recharge or take a payment, and who pays, is
//! `domain::access::recharge_customers_of`'s. The cards' forms are `recharge`'s and
//! `payment`'s.

use chrono_tz::Tz;

use super::package_choices;
use crate::i18n::Tr;
use crate::ledger::panel::{money_text, tenant_currency};
use crate::page::input;
use crate::page::lookup::{Choice, Tenants};
use crate::state::AppState;
use domain::access::{self, Actor, Owner};
use domain::ids::TenantId;
use domain::package::PackageLevel;
use ops::OpError;
use ops::billing::RechargeOutcome;
use store::customer::Customer;
use store::package::Package;
use store::user::User;

/// How many of the customer's latest grants its page lists.
const GRANTS_SHOWN: u64 = 10;

/// How many of a postpaid customer's latest invoices its page lists.
const INVOICES_SHOWN: u64 = 12;

/// The money part of a customer's page.
#[derive(Debug)]
pub(super) struct CustomerMoney {
    /// The recharge card, when the viewer may recharge the customer.
    pub(super) recharge: Option<RechargeCard>,
    /// What a preview priced, when the page answers one.
    pub(super) quote: Option<Quote>,
    /// The latest grants of time, newest first.
    pub(super) grants: Vec<GrantRow>,
    /// A postpaid customer's latest invoices, newest first.
    pub(super) invoices: Vec<InvoiceRow>,
    /// The payment card, when the customer owes and the viewer may take its money.
    pub(super) payment: Option<PaymentCard>,
    /// The tenant's merchant accounts an online payment may go through, when the viewer
    /// may take the customer's money and the customer has something to pay.
    pub(super) online: Vec<Choice>,
    /// The checkout of an online payment just started, to open or send to the customer.
    pub(super) checkout: Option<String>,
    /// The open invoices a credit note may go on, when the viewer may issue them.
    pub(super) credit: Vec<Choice>,
    /// A monthly PPPoE customer's own price, when the viewer collects its money.
    pub(super) custom_price: Option<CustomPriceCard>,
    /// How amounts and times are written for this customer.
    terms: Terms,
    /// Package names by id, for the quote.
    names: Vec<(i64, String)>,
}

/// The recharge form's choices.
#[derive(Debug)]
pub(super) struct RechargeCard {
    /// The packages the customer's owner may sell it, as select choices.
    pub(super) packages: Vec<Choice>,
    /// The viewer's own balance, when it pays from one.
    pub(super) balance: Option<String>,
}

/// A recharge priced by a preview, as the page shows it.
#[derive(Debug)]
pub(super) struct Quote {
    pub(super) package: String,
    pub(super) price: String,
    pub(super) credit: String,
    /// What the customer's wallet pays, when it pays anything.
    pub(super) wallet: Option<String>,
    pub(super) amount: String,
    pub(super) cost: String,
    pub(super) starts: String,
    pub(super) expires: String,
}

/// A postpaid invoice as a row.
#[derive(Debug)]
pub(super) struct InvoiceRow {
    pub(super) id: i64,
    pub(super) number: String,
    /// Its period, first and last day.
    pub(super) period: String,
    pub(super) due: String,
    pub(super) total: String,
    pub(super) owed: String,
    /// `open`, `paid` or `void`.
    pub(super) status: String,
    /// True when it is open past its due date.
    pub(super) overdue: bool,
}

/// The cash payment form.
#[derive(Debug)]
pub(super) struct PaymentCard {
    /// What the customer owes in all, as it reads.
    pub(super) due: String,
    /// The same, as the amount field starts (currency units).
    pub(super) due_value: String,
}

/// The own-price form of a monthly PPPoE customer.
#[derive(Debug)]
pub(super) struct CustomPriceCard {
    /// Its own price as the field starts (currency units), empty for its package's.
    pub(super) value: String,
    /// The customer's version, sent back with the form.
    pub(super) version: i32,
}

/// A grant of time as a row.
#[derive(Debug)]
pub(super) struct GrantRow {
    pub(super) id: i64,
    pub(super) starts: String,
    pub(super) ends: String,
    pub(super) package: String,
    pub(super) price: String,
    /// True when a package change credited what was left of it.
    pub(super) ended: bool,
}

/// The tenant's currency and time zone, as the customer's amounts and times are written.
#[derive(Debug)]
struct Terms {
    digits: u16,
    currency: String,
    zone: Tz,
}

impl Terms {
    fn money(&self, minor: i64) -> String {
        money_text(minor, self.digits, &self.currency)
    }
}

/// True when a customer of `owner` with `c`'s connection type may be sold `p`: the owner's
/// own packages, or the tenant's masters for a customer the tenant owns (as
/// `store::package::usable_by` reads it).
fn usable(p: &Package, c: &Customer, owner: Owner) -> bool {
    let owned = match owner.user() {
        Some(user) => p.owner_id == Some(user.0),
        None => p.level.get() == PackageLevel::Master,
    };
    owned
        && p.tenant_id == c.tenant_id
        && p.connection_type.get() == c.connection_type.get()
        && p.archived_at.is_none()
}

impl CustomerMoney {
    /// The money part of `c`'s page for `actor`; `visible` are the packages the page already
    /// read, `owners` the resellers it names.
    pub(super) async fn load(
        state: &AppState,
        actor: &Actor,
        t: Tr,
        c: &Customer,
        visible: &[Package],
        owners: &[User],
        tenants: &Tenants,
    ) -> Result<Self, OpError> {
        let terms = Terms {
            digits: tenants.digits(c.tenant_id),
            currency: tenants
                .get(c.tenant_id)
                .map(|t| t.currency.clone())
                .unwrap_or_default(),
            zone: tenants.zone(c.tenant_id),
        };
        let owner = store::customer::owner(c);
        let recharge = if access::recharge_customers_of(actor, owner).is_ok() {
            let sellable: Vec<Package> = visible
                .iter()
                .filter(|p| usable(p, c, owner))
                .cloned()
                .collect();
            Some(RechargeCard {
                packages: package_choices(t, &sellable, owners),
                balance: own_balance(state, actor, t).await?,
            })
        } else {
            None
        };
        let stored = store::grant::history(state.db.conn(), c.id, GRANTS_SHOWN).await?;
        let mut names: Vec<(i64, String)> =
            visible.iter().map(|p| (p.id, p.name.clone())).collect();
        for g in &stored {
            if !names.iter().any(|(id, _)| *id == g.package_id)
                && let Some(p) = store::package::find_any(state.db.conn(), g.package_id).await?
            {
                names.push((p.id, p.name));
            }
        }
        let mut money = Self {
            recharge,
            quote: None,
            grants: Vec::new(),
            invoices: Vec::new(),
            payment: None,
            online: Vec::new(),
            checkout: None,
            credit: Vec::new(),
            custom_price: None,
            terms,
            names,
        };
        // A prepaid customer has invoices only when it was billed for the time it was
        // imported with (`ops::first_bill`).
        if c.billing_type.get() != domain::customer::BillingType::Free {
            money.invoices(state, actor, c).await?;
        }
        let pays = match c.billing_type.get() {
            domain::customer::BillingType::Postpaid => money.payment.is_some(),
            domain::customer::BillingType::Prepaid => money.recharge.is_some(),
            domain::customer::BillingType::Free => false,
        };
        if pays {
            money.online = store::gateway::accounts(state.db.conn(), Some(&[c.tenant_id]))
                .await?
                .into_iter()
                .filter(|a| a.status == "active")
                .map(|a| (a.id.to_string(), a.name))
                .collect();
        }
        money.grants = stored
            .iter()
            .map(|g| GrantRow {
                id: g.id,
                starts: input::local_time_text(Some(g.starts_at), money.terms.zone),
                ends: input::local_time_text(Some(g.ends_at), money.terms.zone),
                package: money.name(g.package_id),
                price: money.terms.money(g.price),
                ended: g.ended_at.is_some(),
            })
            .collect();
        Ok(money)
    }

    /// A customer's invoices, and the payment card when it owes and `actor` may take the
    /// money; for a postpaid one, its own price.
    async fn invoices(
        &mut self,
        state: &AppState,
        actor: &Actor,
        c: &Customer,
    ) -> Result<(), OpError> {
        let filter = store::invoice::InvoiceFilter {
            customer_id: Some(c.id),
            series: Some(domain::invoice::Series::Invoice),
            ..store::invoice::InvoiceFilter::default()
        };
        let page = store::list::PageRequest::first(&store::invoice::LIST, INVOICES_SHOWN)?;
        let found = ops::invoice::list(&state.ctx(), actor, &filter, &page).await?;
        let now = state.clock.now();
        let mut owed = 0;
        let credits = access::credit_invoices(actor, TenantId(c.tenant_id)).is_ok();
        for i in found.items {
            let left = store::invoice::due(&i);
            if i.status == "open" {
                owed += left;
                if credits {
                    let label = format!("{} ({})", i.number_text, self.terms.money(left));
                    self.credit.push((i.id.to_string(), label));
                }
            }
            let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            let last = i.period_end.and_then(|d| d.pred_opt());
            self.invoices.push(InvoiceRow {
                id: i.id,
                number: i.number_text.clone(),
                period: format!("{} – {}", day(i.period_start), day(last)),
                due: input::local_time_text(i.due_at, self.terms.zone),
                total: self.terms.money(i.total),
                owed: self.terms.money(left),
                overdue: i.status == "open" && i.due_at.is_some_and(|d| d <= now),
                status: i.status,
            });
        }
        let collects = access::recharge_customers_of(actor, store::customer::owner(c)).is_ok();
        if collects
            && c.billing_type.get() == domain::customer::BillingType::Postpaid
            && c.connection_type.get() == domain::package::ConnectionType::Pppoe
        {
            self.custom_price = Some(CustomPriceCard {
                value: c
                    .custom_price
                    .map(|p| input::amount_text(p, self.terms.digits))
                    .unwrap_or_default(),
                version: c.version,
            });
        }
        if collects && owed > 0 {
            self.payment = Some(PaymentCard {
                due: self.terms.money(owed),
                due_value: input::amount_text(owed, self.terms.digits),
            });
        }
        Ok(())
    }

    /// The name of package `id`, or its number.
    fn name(&self, id: i64) -> String {
        self.names
            .iter()
            .find(|(p, _)| *p == id)
            .map_or_else(|| format!("#{id}"), |(_, name)| name.clone())
    }

    /// Shows `outcome` as the quote of a preview.
    pub(super) fn quote(&mut self, outcome: &RechargeOutcome) {
        let at = |time| input::local_time_text(Some(time), self.terms.zone);
        self.quote = Some(Quote {
            package: self.name(outcome.package_id),
            price: self.terms.money(outcome.price),
            credit: self.terms.money(outcome.credit),
            wallet: (outcome.wallet > 0).then(|| self.terms.money(outcome.wallet)),
            amount: self.terms.money(outcome.amount),
            cost: self.terms.money(outcome.cost),
            starts: at(outcome.starts_at),
            expires: at(outcome.expires_at),
        });
    }
}

/// The viewer's own balance, when it is a reseller (who pays a recharge from it).
async fn own_balance(state: &AppState, actor: &Actor, t: Tr) -> Result<Option<String>, OpError> {
    if !actor.role.is_reseller() {
        return Ok(None);
    }
    let b = match ops::ledger::balance(&state.ctx(), actor, actor.user_id).await {
        Ok(b) => b,
        Err(OpError::NotFound | OpError::Forbidden) => return Ok(None),
        Err(error) => return Err(error),
    };
    Ok(Some(crate::ledger::panel::BalanceShown::of(t, &b).yours(t)))
}

/// The decimals and code of customer `id`'s tenant's currency.
pub(super) async fn currency_of(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(u16, String), OpError> {
    let c = ops::customer::get(&state.ctx(), actor, id).await?;
    tenant_currency(state, actor, c.tenant_id).await
}
