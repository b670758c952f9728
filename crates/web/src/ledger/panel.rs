//! The panel's money outside the customer's page: a reseller's balance card on its user
//! page (its balance, what it may still spend, its terms), what the card's two forms read
//! (a top-up in the currency's units, the account terms: prepaid, or credit with a limit or
//! none), and the statement page (`/panel/ledger`): ledger entries newest first with the
//! balance after each, of one reseller, one customer, or the whole books for those who read
//! them, paged by cursor, and as CSV (`/panel/ledger.csv`). Also the keys money forms carry: each rendering of a form that
//! pays or moves money draws one, so the same form submitted twice posts once.
//!
//! The card's forms are the user page's (`user::panel` takes them and shows the page again
//! when one is refused); who sees a balance, who tops up and who sets terms is
//! `domain::access`'s, applied again by `ops::ledger`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::i18n::Tr;
use crate::page::form::{Filled, FormData};
use crate::page::input;
use crate::page::lookup::Tenants;
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::access::{self, Actor};
use domain::field::{FieldError, FieldErrors};
use domain::ids::UserId;
use domain::ledger::AccountTerms;
use domain::locale::CurrencyCode;
use ops::OpError;
use ops::ledger::StatementFilter;
use store::ledger::{ENTRIES, LedgerAccount, LedgerEntry};
use store::list::PageRequest;
use store::user::User;

/// The routes of this module (the card's forms are `user::panel`'s).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/ledger", get(statement))
        .route("/panel/ledger.csv", get(statement_csv))
}

/// A key for a form that pays or moves money: drawn once per rendering of the form and
/// sent back with it, so that the same submission made twice posts once.
pub fn new_key() -> String {
    store::crypto::random_text(b"0123456789abcdefghijklmnopqrstuvwxyz", 24)
}

/// The key a form sent back, if it looks like one [`new_key`] drew.
pub fn key_of(form: &FormData) -> Option<&str> {
    form.opt("key")
        .filter(|k| k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The decimals of `currency` (2 when its code no longer parses).
pub fn digits_of(currency: &str) -> u16 {
    CurrencyCode::parse("currency", currency).map_or(2, |c| c.minor_digits())
}

/// The decimals and code of `tenant`'s currency, as `actor` sees the tenant.
pub async fn tenant_currency(
    state: &AppState,
    actor: &Actor,
    tenant: i64,
) -> Result<(u16, String), OpError> {
    let tenants = Tenants::load(state, actor, [tenant]).await?;
    let currency = tenants.get(tenant).map(|t| t.currency.clone());
    Ok((tenants.digits(tenant), currency.unwrap_or_default()))
}

/// An amount of minor units, below zero too, in the currency's units and with its code:
/// `-450.00 BDT`.
pub fn money_text(minor: i64, digits: u16, currency: &str) -> String {
    let units = input::amount_text(minor.saturating_abs(), digits);
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{units} {currency}")
}

/// The message beside `field` of a money form when the balance that pays cannot: what it
/// may still spend (`available` minor units of `currency`, with `digits` decimals).
pub fn short_of_funds(field: &str, available: i64, digits: u16, currency: &str) -> FieldErrors {
    FieldErrors::one(
        FieldError::new(field, "insufficient_balance_left")
            .with("available", money_text(available, digits, currency)),
    )
}

/// A reseller's balance card as its user page shows it to the viewer.
#[derive(Debug)]
pub struct BalanceCard {
    /// The reseller.
    pub user_id: i64,
    /// Its balance, when the viewer may read it.
    pub shown: Option<BalanceShown>,
    /// True when the viewer may top it up.
    pub can_topup: bool,
    /// True when the viewer may set its terms.
    pub can_set_terms: bool,
    /// The tenant's currency, which amounts are typed in.
    pub currency: String,
    terms: AccountTerms,
    digits: u16,
}

/// A balance in the currency's units.
#[derive(Debug)]
pub struct BalanceShown {
    /// Funds held (below zero: owed).
    pub balance: String,
    /// What it may still spend.
    pub available: String,
    /// Its terms, in words.
    pub terms: String,
}

impl BalanceShown {
    /// `b` in its currency's units, with its terms in words.
    pub fn of(t: Tr, b: &ops::ledger::Balance) -> Self {
        let digits = digits_of(&b.currency);
        let money = |minor: i64| money_text(minor, digits, &b.currency);
        BalanceShown {
            balance: money(b.balance),
            available: b
                .available
                .map_or_else(|| t.t("money.unlimited").to_owned(), money),
            terms: match b.terms {
                AccountTerms::Prepaid => t.t("money.prepaid").to_owned(),
                AccountTerms::Credit(None) => t.t("money.credit_unlimited").to_owned(),
                AccountTerms::Credit(Some(limit)) => {
                    t.t1("money.credit_up_to", "limit", &money(limit))
                }
            },
        }
    }

    /// The viewer's own balance in a sentence: `Your balance: …; available to spend: ….`
    pub fn yours(&self, t: Tr) -> String {
        crate::i18n::format(
            t.lang,
            "money.your_balance",
            &[
                ("balance", self.balance.clone()),
                ("available", self.available.clone()),
            ],
        )
    }
}

impl BalanceCard {
    /// The card of `target` for `user`: `None` when `target` holds no balance or the viewer
    /// may neither read nor change it.
    pub async fn load(
        state: &AppState,
        user: &PanelUser,
        target: &User,
    ) -> Result<Option<Self>, OpError> {
        let actor = &user.actor;
        let t = Tr { lang: user.lang };
        let facts = store::user::facts(target)?;
        if !access::has_balance(&facts) {
            return Ok(None);
        }
        let balance = match ops::ledger::balance(&state.ctx(), actor, UserId(target.id)).await {
            Ok(balance) => Some(balance),
            Err(OpError::NotFound | OpError::Forbidden) => None,
            Err(error) => return Err(error),
        };
        let can_topup = access::topup(actor, &facts).is_ok();
        let can_set_terms = access::set_account_terms(actor, &facts).is_ok();
        if balance.is_none() && !can_topup && !can_set_terms {
            return Ok(None);
        }
        let (digits, currency) = match &balance {
            Some(b) => (digits_of(&b.currency), b.currency.clone()),
            None => tenant_currency(state, actor, target.tenant_id.unwrap_or_default()).await?,
        };
        let shown = balance.as_ref().map(|b| BalanceShown::of(t, b));
        Ok(Some(Self {
            user_id: target.id,
            terms: balance.map_or(AccountTerms::Prepaid, |b| b.terms),
            shown,
            can_topup,
            can_set_terms,
            currency,
            digits,
        }))
    }

    /// `f` with the card's forms as they start: no amount, a new key, the terms as stored.
    #[must_use]
    pub fn fill(&self, f: Filled) -> Filled {
        let limit = match self.terms {
            AccountTerms::Credit(Some(limit)) => input::amount_text(limit, self.digits),
            _ => String::new(),
        };
        f.with("amount", "")
            .with("key", new_key())
            .with("account_type", self.terms.type_name())
            .with("credit_limit", limit)
    }
}

/// The amount a top-up form asks for, in minor units of a currency with `digits` decimals.
pub fn topup_amount(form: &FormData, digits: u16) -> Result<i64, FieldError> {
    input::amount("amount", form.text("amount"), digits).map(|m| m.minor())
}

/// The terms the account-terms form asks for; an empty limit is no limit, and a prepaid
/// account's limit is not read.
pub fn terms_of(form: &FormData, digits: u16) -> Result<AccountTerms, FieldError> {
    let kind = form.text("account_type");
    let limit = match form.opt("credit_limit") {
        Some(text) if kind == "credit" => {
            Some(input::amount("credit_limit", text, digits)?.minor())
        }
        _ => None,
    };
    AccountTerms::parse(kind, limit)
}

#[derive(Debug, Default, Deserialize)]
struct StatementQuery {
    user_id: Option<String>,
    customer_id: Option<String>,
    /// The first day shown (the viewer's tenant's day, `YYYY-MM-DD`).
    from: Option<String>,
    /// The last day shown.
    to: Option<String>,
    cursor: Option<String>,
    /// The cursors of the pages before this one (see `ui::Pager::keyset`).
    trail: Option<String>,
}

/// A ledger entry as a row of a statement.
#[derive(Debug)]
struct EntryRow {
    id: i64,
    /// When, in its tenant's time zone.
    at: String,
    journal_id: i64,
    /// The account's key (`reseller:42`, `revenue`, ...).
    account: String,
    /// True for a debit.
    debit: bool,
    amount: String,
    balance_after: String,
}

impl EntryRow {
    fn new(e: &LedgerEntry, account: Option<&LedgerAccount>, tenants: &Tenants) -> Self {
        let currency = account.map_or("", |a| a.currency.as_str());
        let digits = digits_of(currency);
        Self {
            id: e.id,
            at: input::local_time_text(Some(e.at), tenants.zone(e.tenant_id)),
            journal_id: e.journal_id,
            account: account.map(|a| a.key.clone()).unwrap_or_default(),
            debit: e.side < 0,
            amount: money_text(e.amount, digits, currency),
            balance_after: money_text(e.balance_after, digits, currency),
        }
    }
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct StatementPage {
    ui: Ui,
    /// Whose statement, and its page: `None` for the whole books.
    subject: Option<(String, String)>,
    rows: Vec<EntryRow>,
    total: String,
    pager: Pager,
    /// The same statement as a CSV download.
    csv: String,
    /// The filters, as the form shows them again.
    user_id: String,
    customer_id: String,
    from: String,
    to: String,
}

/// What a statement's address asks for: whose entries, and the days (in the viewer's
/// tenant's zone; a day that does not read is left out).
async fn statement_filter(
    state: &AppState,
    actor: &Actor,
    query: &StatementQuery,
) -> Result<StatementFilter, OpError> {
    let zone = match actor.tenant_id {
        Some(tenant) => ops::tenant::get(&state.ctx(), actor, tenant)
            .await
            .map_or(chrono_tz::UTC, |t| input::zone_of(&t.time_zone)),
        None => chrono_tz::UTC,
    };
    let day = |text: &Option<String>, next: bool| {
        text.as_deref()
            .and_then(|t| input::day_start(t, zone, next))
    };
    Ok(StatementFilter {
        user_id: query_id(query.user_id.as_deref())?.map(UserId),
        customer_id: query_id(query.customer_id.as_deref())?,
        from: day(&query.from, false),
        to: day(&query.to, true),
        ..StatementFilter::default()
    })
}

/// A record id from the query: absent or blank is none, anything else must be an id.
fn query_id(text: Option<&str>) -> Result<Option<i64>, OpError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| OpError::NotFound),
    }
}

/// Whose statement the filter names, with the link to its page.
async fn subject(
    state: &AppState,
    user: &PanelUser,
    filter: &StatementFilter,
) -> Result<Option<(String, String)>, OpError> {
    let ctx = state.ctx();
    if let Some(id) = filter.user_id {
        let reseller = ops::user::get(&ctx, &user.actor, id).await?;
        return Ok(Some((reseller.name, format!("/panel/users/{}", id.0))));
    }
    if let Some(id) = filter.customer_id {
        let customer = ops::customer::get(&ctx, &user.actor, id).await?;
        return Ok(Some((customer.name, format!("/panel/customers/{id}"))));
    }
    Ok(None)
}

/// `GET /panel/ledger.csv`: the same statement, every entry, as a CSV download.
async fn statement_csv(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<StatementQuery>,
) -> Response {
    let result = async {
        let filter = statement_filter(&state, &user.actor, &query).await?;
        ops::ledger::entries_csv(&state.ctx(), &user.actor, &filter).await
    };
    match result.await {
        Ok(text) => crate::ledger::api::csv_download(text),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

async fn statement(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<StatementQuery>,
) -> Response {
    let t = Tr { lang: user.lang };
    let Ok(page) = PageRequest::parse(&ENTRIES, None, None, query.cursor.as_deref()) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    let result = async {
        let filter = statement_filter(&state, &user.actor, &query).await?;
        let found = ops::ledger::entries(&state.ctx(), &user.actor, &filter, &page).await?;
        let subject = subject(&state, &user, &filter).await?;
        let tenants = found.page.items.iter().map(|e| e.tenant_id);
        let tenants = Tenants::load(&state, &user.actor, tenants).await?;
        Ok::<_, OpError>((filter, found, subject, tenants))
    };
    match result.await {
        Ok((filter, found, subject, tenants)) => {
            let id_text = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
            let day_text = |d: &Option<String>| d.clone().unwrap_or_default();
            let first = format!(
                "/panel/ledger?user_id={}&customer_id={}&from={}&to={}",
                id_text(filter.user_id.map(|u| u.0)),
                id_text(filter.customer_id),
                day_text(&query.from),
                day_text(&query.to)
            );
            let rows = found
                .page
                .items
                .iter()
                .map(|e| {
                    let account = found.accounts.iter().find(|a| a.id == e.account_id);
                    EntryRow::new(e, account, &tenants)
                })
                .collect();
            let total = ui::total(found.page.total, found.page.total_capped);
            let (trail, cursor) = (query.trail.as_deref(), query.cursor.as_deref());
            let pager = Pager::of_page(t, first.clone(), trail, cursor, &found.page, page.limit());
            let section = if filter.user_id.is_some() {
                Section::Users
            } else if filter.customer_id.is_some() {
                Section::Customers
            } else {
                Section::Dashboard
            };
            let csv = first.replacen("/panel/ledger?", "/panel/ledger.csv?", 1);
            render(&StatementPage {
                ui: Ui::new(&user, section, &headers, &first),
                csv,
                user_id: id_text(filter.user_id.map(|u| u.0)),
                customer_id: id_text(filter.customer_id),
                from: day_text(&query.from),
                to: day_text(&query.to),
                subject,
                rows,
                total,
                pager,
            })
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn amounts_below_zero_keep_their_sign_and_decimals() {
        assert_eq!(money_text(-45_000, 2, "BDT"), "-450.00 BDT");
        assert_eq!(money_text(50_050, 2, "BDT"), "500.50 BDT");
        assert_eq!(money_text(300, 0, "JPY"), "300 JPY");
    }

    #[test]
    fn terms_read_an_empty_limit_as_none_and_ignore_it_when_prepaid() {
        let credit = |limit: &str| {
            terms_of(
                &posted(&[("account_type", "credit"), ("credit_limit", limit)]),
                2,
            )
        };
        assert_eq!(credit("").unwrap(), AccountTerms::Credit(None));
        assert_eq!(credit("250.5").unwrap(), AccountTerms::Credit(Some(25_050)));
        assert_eq!(credit("-1").unwrap_err().code, "negative");
        let prepaid = posted(&[("account_type", "prepaid"), ("credit_limit", "oops")]);
        assert_eq!(terms_of(&prepaid, 2).unwrap(), AccountTerms::Prepaid);
        let gold = posted(&[("account_type", "gold")]);
        assert_eq!(terms_of(&gold, 2).unwrap_err().code, "invalid_choice");
    }

    #[test]
    fn a_key_is_taken_back_only_in_the_form_it_was_drawn() {
        let key = new_key();
        assert_eq!(key_of(&posted(&[("key", &key)])), Some(key.as_str()));
        assert_eq!(key_of(&posted(&[("key", "a b")])), None);
        assert_eq!(key_of(&posted(&[("key", "")])), None);
        assert_ne!(new_key(), key);
    }
}
