//! The stock side of the Cards pages, for those who run a tenant's stock: the batches with
//! their counts by state, the form that makes one (the PINs of a batch that does not keep
//! them shown on its answer, once), and a batch's page with its cards, the link to its
//! printable sheet and the moves of its cards. `ops::card` decides who may do what; a
//! refused move shows beside its form.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono_tz::Tz;

use super::{
    CardsQuery, action_of, batch_label, chosen, holder_choices, holders, kind_name, list_page,
    moved_note, not_shown, on_form, serials, state_name,
};
use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice, SELECT_LIMIT, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::access::{Actor, CardReach, card_reach};
use domain::card::Kind;
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use domain::package::PackageLevel;
use ops::OpError;
use ops::card::{BatchInput, CardQuery, Selection};
use store::card::Batch;
use store::list::PageRequest;
use store::package::{Package, PackageFilter};
use store::user::User;

/// Batches a page lists (their counts read in one query).
const BATCH_PAGE: u64 = 25;
/// Cards a batch's page lists.
const CARD_PAGE: u64 = 100;
/// The printable sheet's layouts: `(layout, translation key)`.
const LAYOUTS: [(&str, &str); 3] = [
    ("a4-3x8", "cards.layout_3x8"),
    ("a4-4x10", "cards.layout_4x10"),
    ("a4-2x5", "cards.layout_2x5"),
];

/// The tenant a page is about, as it shows money and time.
struct Tenant {
    name: String,
    currency: String,
    digits: u16,
    zone: Tz,
}

impl Tenant {
    /// Tenant `id` as `actor` sees it (not found: another tenant's, or none).
    async fn load(state: &AppState, actor: &Actor, id: i64) -> Result<Tenant, OpError> {
        let tenants = Tenants::load(state, actor, [id]).await?;
        let found = tenants.get(id).ok_or(OpError::NotFound)?;
        Ok(Tenant {
            name: found.name.clone(),
            currency: found.currency.clone(),
            digits: tenants.digits(id),
            zone: tenants.zone(id),
        })
    }

    /// An amount of minor units: `500.00 BDT`.
    fn money(&self, minor: i64) -> String {
        crate::ledger::panel::money_text(minor, self.digits, &self.currency)
    }

    /// An instant in the tenant's zone (empty for none).
    fn time(&self, at: Option<chrono::DateTime<chrono::Utc>>) -> String {
        input::local_time_text(at, self.zone)
    }
}

/// True when `actor` may change the stock (make batches, move cards).
fn manages(actor: &Actor) -> bool {
    matches!(
        card_reach(actor),
        Some(CardReach::Stock { manages: true, .. })
    )
}

/// The tenant's master packages the actor sees.
async fn packages(state: &AppState, actor: &Actor, tenant: i64) -> Result<Vec<Package>, OpError> {
    let page = PageRequest::first(&store::package::LIST, SELECT_LIMIT).map_err(OpError::Invalid)?;
    let filter = PackageFilter {
        tenant_id: Some(TenantId(tenant)),
        level: Some(PackageLevel::Master.as_str().to_owned()),
        ..PackageFilter::default()
    };
    Ok(ops::package::list(&state.ctx(), actor, &filter, &page)
        .await?
        .items)
}

/// A package's name among `packages`, or its number.
fn package_name(packages: &[Package], id: i64) -> String {
    packages
        .iter()
        .find(|p| p.id == id)
        .map_or_else(|| format!("#{id}"), |p| p.name.clone())
}

/// A holder's name among `users`, or its number; the tenant's own stock when none.
fn holder_name(t: Tr, users: &[User], id: Option<i64>) -> String {
    match id {
        None => t.t("cards.own_stock").to_owned(),
        Some(_) => lookup::user_name(users, id),
    }
}

/// A batch's counts: `(state, its name, cards)`, in the order of a card's life.
fn counts(t: Tr, counts: &[(String, i64)]) -> Vec<(String, String, i64)> {
    let mut shown: Vec<(String, String, i64)> = domain::card::State::ALL
        .iter()
        .filter_map(|s| {
            let n = counts.iter().find(|(c, _)| c == s.as_str())?.1;
            Some((s.as_str().to_owned(), state_name(t, s.as_str()), n))
        })
        .collect();
    // A state this build does not know is still counted.
    for (code, n) in counts {
        if domain::card::State::parse(code).is_none() {
            shown.push((code.clone(), code.clone(), *n));
        }
    }
    shown
}

/// A batch as a row.
#[derive(Debug)]
struct BatchRow {
    id: i64,
    /// As its serials begin: `B0007`.
    label: String,
    kind: &'static str,
    package: String,
    quantity: i32,
    price: String,
    made: String,
    valid_until: String,
    note: String,
    keeps_pins: bool,
    /// `(state, name, cards)`.
    counts: Vec<(String, String, i64)>,
}

/// The stock page: the batches and the form that makes one.
#[derive(Template)]
#[template(path = "cards.html")]
pub(super) struct StockPage {
    ui: Ui,
    /// The tenants a platform user may pick from (empty for everyone else).
    tenants: Vec<Choice>,
    /// The tenant shown (empty: none to show).
    tenant_id: String,
    tenant_name: String,
    /// The tenant's currency, beside the price field.
    currency: String,
    rows: Vec<BatchRow>,
    total: String,
    pager: Pager,
    /// May make batches.
    manages: bool,
    kinds: Vec<Choice>,
    packages: Vec<Choice>,
    holders: Vec<Choice>,
    f: Filled,
}

impl ShowsForm for StockPage {
    const CHECKBOXES: &'static [&'static str] = &["keep_pins"];

    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

/// The page's own address, naming the tenant a platform user picked.
fn stock_link(tenant: Option<i64>) -> String {
    match tenant {
        Some(id) => format!("/panel/cards?tenant_id={id}"),
        None => "/panel/cards".to_owned(),
    }
}

async fn build(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    query: &CardsQuery,
) -> Result<StockPage, OpError> {
    let ctx = state.ctx();
    let actor = &user.actor;
    let tenants = lookup::tenant_choices(state, actor).await?;
    let shown = chosen(actor, query.tenant(), &tenants);
    // A platform user's page names its tenant in its links; everyone else's is its own.
    let link = stock_link(shown.filter(|_| !tenants.is_empty()));
    let ui = Ui::new(user, Section::Cards, headers, &link);
    let t = ui.t;
    let mut page = StockPage {
        ui,
        tenants,
        tenant_id: String::new(),
        tenant_name: String::new(),
        currency: String::new(),
        rows: Vec::new(),
        total: String::new(),
        pager: Pager::default(),
        manages: manages(actor),
        kinds: Kind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), kind_name(t, *k).to_owned()))
            .collect(),
        packages: Vec::new(),
        holders: Vec::new(),
        f: Filled::new()
            .with("kind", Kind::Recharge.as_str())
            .with("keep_pins", "on"),
    };
    let Some(id) = shown else {
        return Ok(page);
    };
    let list = list_page(&store::card::BATCHES, BATCH_PAGE, query.cursor.as_deref())?;
    let found = ops::card::batches(&ctx, actor, Some(id), None, &list).await?;
    let tenant = Tenant::load(state, actor, id).await?;
    let packages = packages(state, actor, id).await?;
    let counts = ops::card::counts(&ctx, actor, Some(id), &found.items).await?;
    for b in &found.items {
        let none = Vec::new();
        let of = counts.get(&b.id).unwrap_or(&none);
        page.rows.push(batch_row(t, &tenant, &packages, b, of));
    }
    if page.manages {
        page.holders = holder_choices(t, &holders(state, actor, id).await?);
        page.packages = packages
            .iter()
            .map(|p| (p.id.to_string(), package_label(t, &tenant, p)))
            .collect();
    }
    page.pager = Pager::of_page(
        t,
        link,
        query.trail.as_deref(),
        query.cursor.as_deref(),
        &found,
        list.limit(),
    );
    page.total = ui::total(found.total, found.total_capped);
    page.tenant_id = id.to_string();
    page.tenant_name = tenant.name.clone();
    page.currency = tenant.currency.clone();
    Ok(page)
}

/// A package as the batch form offers it: `Name · connection type · price`.
fn package_label(t: Tr, tenant: &Tenant, p: &Package) -> String {
    let connection = crate::package::panel::connection_name(t, p.connection_type.get());
    format!("{} · {connection} · {}", p.name, tenant.money(p.price))
}

fn batch_row(
    t: Tr,
    tenant: &Tenant,
    packages: &[Package],
    b: &Batch,
    found: &[(String, i64)],
) -> BatchRow {
    BatchRow {
        id: b.id,
        label: batch_label(b.id),
        kind: kind_name(t, b.kind.get()),
        package: package_name(packages, b.package_id),
        quantity: b.quantity,
        price: tenant.money(b.price),
        made: tenant.time(Some(b.created_at)),
        valid_until: tenant.time(b.valid_until),
        note: b.note.clone(),
        keeps_pins: b.keeps_pins,
        counts: counts(t, found),
    }
}

/// The stock page (`GET /panel/cards` for those who run the stock).
pub(super) async fn page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    query: &CardsQuery,
) -> Response {
    match build(state, user, headers, query).await {
        Ok(page) => render(&page),
        Err(error) => not_shown(user, headers, &error),
    }
}

/// The PINs of a batch that does not keep them, shown on the answer that made it.
#[derive(Template)]
#[template(path = "card_made.html")]
struct MadePage {
    ui: Ui,
    id: i64,
    label: String,
    kind: &'static str,
    voucher: bool,
    package: String,
    quantity: i32,
    /// Serial and PIN (or code) as printed.
    pins: Vec<(String, String)>,
}

/// The batch form as the operation takes it; every mistake in what was typed at once.
async fn batch_input(
    state: &AppState,
    actor: &Actor,
    form: &FormData,
) -> Result<BatchInput, OpError> {
    let named = input::id(form.get("tenant_id")).filter(|_| actor.role.is_platform());
    let tenant = match named.or(actor.tenant_id.map(|t| t.0)) {
        Some(id) => Tenant::load(state, actor, id).await?,
        None => return Err(OpError::field("tenant_id", "required")),
    };
    let mut errors = FieldErrors::new();
    let kind = Kind::parse(form.text("kind")).unwrap_or_else(|| {
        errors.push(FieldError::new("kind", "invalid"));
        Kind::Recharge
    });
    let quantity = match input::number("quantity", form.text("quantity")) {
        Ok(Some(n)) => n,
        Ok(None) => {
            errors.push(FieldError::new("quantity", "required"));
            0
        }
        Err(error) => {
            errors.push(error);
            0
        }
    };
    let price = match form.opt("price") {
        None => None,
        Some(text) => match input::amount("price", text, tenant.digits) {
            Ok(money) => Some(money.minor()),
            Err(error) => {
                errors.push(error);
                None
            }
        },
    };
    let commission = match form.opt("commission") {
        None => None,
        Some(text) => match input::amount("commission", text, tenant.digits) {
            Ok(money) => Some(money.minor()),
            Err(error) => {
                errors.push(error);
                None
            }
        },
    };
    let valid_until = input::local_time("valid_until", form.text("valid_until"), tenant.zone)
        .unwrap_or_else(|error| {
            errors.push(error);
            None
        });
    if !errors.is_empty() {
        return Err(OpError::Invalid(errors));
    }
    Ok(BatchInput {
        tenant_id: named,
        kind,
        package_id: input::id(form.get("package_id")).unwrap_or(0),
        quantity,
        price,
        commission,
        valid_until,
        keep_pins: matches!(form.text("keep_pins"), "on" | "true" | "1"),
        holder_id: input::id(form.get("holder_id")),
        note: form.text("note").to_owned(),
    })
}

/// `POST /panel/cards/batches`: makes a batch; to its page when it keeps its PINs, else
/// its PINs on this answer, the only time they are shown. A refused form comes back as
/// typed.
pub(super) async fn create(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = async {
        let input = batch_input(&state, &user.actor, &form).await?;
        let made =
            ops::card::create_batch(&state.ctx(), &user.actor, user.author.clone(), &input).await?;
        Ok::<_, OpError>((input, made))
    };
    match result.await {
        Ok((_, made)) if made.pins.is_empty() => ui::redirect_with(
            &format!("/panel/cards/batches/{}", made.batch.id),
            "flash.created",
        ),
        Ok((input, made)) => {
            let ui = Ui::new(&user, Section::Cards, &headers, "/panel/cards");
            let package = match ops::package::get(&state.ctx(), &user.actor, input.package_id).await
            {
                Ok(p) => p.name,
                Err(_) => format!("#{}", input.package_id),
            };
            let kind = made.batch.kind.get();
            render(&MadePage {
                id: made.batch.id,
                label: batch_label(made.batch.id),
                kind: kind_name(ui.t, kind),
                voucher: kind == Kind::Access,
                package,
                quantity: made.batch.quantity,
                pins: made.pins,
                ui,
            })
        }
        Err(OpError::Invalid(errors)) => {
            let query = CardsQuery {
                tenant_id: form.get("tenant_id").map(str::to_owned),
                ..CardsQuery::default()
            };
            let page = build(&state, &user, &headers, &query).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// A card of a batch as a row (never its PIN).
#[derive(Debug)]
struct CardRow {
    serial: String,
    state_code: String,
    state: String,
    holder: String,
    redeemed_at: String,
}

/// A batch's page: the batch, its counts, its cards, and the moves.
#[derive(Template)]
#[template(path = "card_batch.html")]
pub(super) struct BatchPage {
    ui: Ui,
    id: i64,
    /// As its serials begin: `B0007`.
    label: String,
    tenant_name: String,
    kind: &'static str,
    package: String,
    quantity: i32,
    price: String,
    commission: String,
    made: String,
    valid_until: String,
    note: String,
    keeps_pins: bool,
    exported: i32,
    /// `(state, name, cards)`.
    counts: Vec<(String, String, i64)>,
    rows: Vec<CardRow>,
    total: String,
    pager: Pager,
    /// May move its cards and print its sheet.
    manages: bool,
    holders: Vec<Choice>,
    /// The sheet's layouts: `(layout, name)`.
    layouts: Vec<(&'static str, &'static str)>,
    /// What the last move did.
    moved: Option<String>,
    f: Filled,
}

impl ShowsForm for BatchPage {
    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

async fn build_batch(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    query: &CardsQuery,
) -> Result<BatchPage, OpError> {
    let ctx = state.ctx();
    let actor = &user.actor;
    let link = format!("/panel/cards/batches/{id}");
    let ui = Ui::new(user, Section::Cards, headers, &link);
    let t = ui.t;
    let view = ops::card::batch(&ctx, actor, id).await?;
    let b = &view.batch;
    let tenant = Tenant::load(state, actor, b.tenant_id).await?;
    let list = list_page(&store::card::CARDS, CARD_PAGE, query.cursor.as_deref())?;
    let cards = CardQuery {
        tenant_id: Some(b.tenant_id),
        batch_id: Some(id),
        ..CardQuery::default()
    };
    let found = ops::card::cards(&ctx, actor, &cards, &list).await?;
    let packages = packages(state, actor, b.tenant_id).await?;
    let people = holders(state, actor, b.tenant_id).await?;
    let manages = manages(actor);
    Ok(BatchPage {
        id,
        label: batch_label(id),
        tenant_name: if actor.role.is_platform() {
            tenant.name.clone()
        } else {
            String::new()
        },
        kind: kind_name(t, b.kind.get()),
        package: package_name(&packages, b.package_id),
        quantity: b.quantity,
        price: tenant.money(b.price),
        commission: tenant.money(b.commission),
        made: tenant.time(Some(b.created_at)),
        valid_until: tenant.time(b.valid_until),
        note: b.note.clone(),
        keeps_pins: b.keeps_pins,
        exported: b.exported,
        counts: counts(t, &view.counts),
        rows: found
            .items
            .iter()
            .map(|c| CardRow {
                serial: c.serial.clone(),
                state_code: c.state.code().to_owned(),
                state: state_name(t, c.state.code()),
                holder: holder_name(t, &people, c.holder_id),
                redeemed_at: tenant.time(c.redeemed_at),
            })
            .collect(),
        total: ui::total(found.total, found.total_capped),
        pager: Pager::of_page(
            t,
            link.clone(),
            query.trail.as_deref(),
            query.cursor.as_deref(),
            &found,
            list.limit(),
        ),
        manages,
        holders: if manages {
            holder_choices(t, &people)
        } else {
            Vec::new()
        },
        layouts: LAYOUTS.iter().map(|(l, key)| (*l, t.t(key))).collect(),
        moved: moved_note(t, query.moved.as_deref()),
        f: Filled::new().with("selection", "serials"),
        ui,
    })
}

/// `GET /panel/cards/batches/{id}`.
pub(super) async fn batch(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
    Query(query): Query<CardsQuery>,
) -> Response {
    match build_batch(&state, &user, &headers, id, &query).await {
        Ok(page) => render(&page),
        Err(error) => not_shown(&user, &headers, &error),
    }
}

/// What a batch's move form selects: the whole batch, or the serials typed (of the batch).
fn selection(form: &FormData, batch: &Batch) -> Result<Selection, OpError> {
    let typed = serials(form, "serials");
    let whole = form.text("selection") == "batch";
    if !whole && typed.is_empty() {
        return Err(OpError::field("serials", "required"));
    }
    Ok(Selection {
        tenant_id: Some(batch.tenant_id),
        batch_id: Some(batch.id),
        serials: if whole { Vec::new() } else { typed },
    })
}

/// `POST /panel/cards/batches/{id}/move`: moves the batch's cards (all, or the serials
/// typed) as the `action` button says; back to the batch saying how many moved. A move
/// the user may not make shows beside the form.
pub(super) async fn move_batch(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = async {
        let view = ops::card::batch(&state.ctx(), &user.actor, id).await?;
        let action = action_of(&form)?;
        let selection = selection(&form, &view.batch)?;
        let author = user.author.clone();
        ops::card::move_cards(&state.ctx(), &user.actor, author, &selection, action)
            .await
            .map_err(|e| on_form(e, "action"))
    };
    match result.await {
        Ok(moved) => {
            Redirect::to(&format!("/panel/cards/batches/{id}?moved={moved}")).into_response()
        }
        Err(OpError::Invalid(errors)) => {
            let page = build_batch(&state, &user, &headers, id, &CardsQuery::default()).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
