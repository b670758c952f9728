//! The customer list. Its filters are the API's (`customer::api::CustomerQuery`, read from
//! the same names, so both lists answer alike): status (expired and expires-today derived),
//! connection type, billing type, package, home router, zone, owner, expiry between two days
//! of the tenant's calendar, IP, MAC, online or not, and the search box over name, mobile, user name, IP and
//! MAC. Names of packages and owners come from one lookup per page, never one per row.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Network, billing_choices, package_choices, state_name, state_of, visible_packages};
use crate::customer::api::CustomerQuery;
use crate::i18n::Tr;
use crate::page::input;
use crate::page::lookup::{self, Choice, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, field_messages, render};
use crate::state::AppState;
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use ops::OpError;
use ops::user::OwnersOf;
use store::customer::{Customer, LIST};
use store::list::PageRequest;
use store::package::Package;

/// The list's query as typed: the API's filter names, days instead of times for the expiry
/// range, and the paging.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    tenant_id: Option<String>,
    status: Option<String>,
    connection_type: Option<String>,
    billing_type: Option<String>,
    package_id: Option<String>,
    router_id: Option<String>,
    zone_id: Option<String>,
    owner_id: Option<String>,
    /// First day of expiry (`2026-05-01`), in the tenant's calendar.
    expires_from: Option<String>,
    /// Last day of expiry, included.
    expires_to: Option<String>,
    ip: Option<String>,
    mac: Option<String>,
    /// `true` or `false`: with a live session or without.
    online: Option<String>,
    q: Option<String>,
    /// A custom field's key, and the value it must match.
    field: Option<String>,
    field_value: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    /// The cursors of the pages before this one (see `ui::Pager::keyset`).
    trail: Option<String>,
}

/// The filters passed through to the API's query as they are.
const PASSED: [&str; 14] = [
    "tenant_id",
    "status",
    "connection_type",
    "billing_type",
    "package_id",
    "router_id",
    "zone_id",
    "owner_id",
    "ip",
    "mac",
    "online",
    "q",
    "field",
    "field_value",
];

impl ListQuery {
    fn value(&self, name: &str) -> &str {
        let v = match name {
            "tenant_id" => &self.tenant_id,
            "status" => &self.status,
            "connection_type" => &self.connection_type,
            "billing_type" => &self.billing_type,
            "package_id" => &self.package_id,
            "router_id" => &self.router_id,
            "zone_id" => &self.zone_id,
            "owner_id" => &self.owner_id,
            "expires_from" => &self.expires_from,
            "expires_to" => &self.expires_to,
            "ip" => &self.ip,
            "mac" => &self.mac,
            "online" => &self.online,
            "q" => &self.q,
            "field" => &self.field,
            "field_value" => &self.field_value,
            "sort" => &self.sort,
            "limit" => &self.limit,
            _ => &None,
        };
        v.as_deref().map_or("", str::trim)
    }

    fn sort(&self) -> &str {
        match self.value("sort") {
            "" => LIST.default_sort,
            sort => sort,
        }
    }

    /// The list's address with these filters (for paging and the language switch).
    fn link(&self) -> String {
        let mut link = "/panel/customers?".to_owned();
        for name in PASSED
            .iter()
            .chain(&["expires_from", "expires_to", "sort", "limit"])
        {
            let value = self.value(name);
            if !value.is_empty() {
                link.push_str(&format!("{name}={}&", ui::encode(value)));
            }
        }
        link.trim_end_matches(['&', '?']).to_owned()
    }

    /// The CSV export of the list with these filters.
    fn export_link(&self) -> String {
        self.link()
            .replacen("/panel/customers", "/panel/customers/export.csv", 1)
    }

    /// The API's query for these filters, the expiry days read in `zone`.
    fn api_query(&self, zone: chrono_tz::Tz) -> Result<CustomerQuery, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut pairs: Vec<(String, String)> = PASSED
            .iter()
            .map(|name| ((*name).to_owned(), self.value(name).to_owned()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        for (field, api, next) in [
            ("expires_from", "expires_after", false),
            ("expires_to", "expires_before", true),
        ] {
            let day = self.value(field);
            if day.is_empty() {
                continue;
            }
            match input::day_start(day, zone, next) {
                Some(at) => pairs.push((api.to_owned(), at.to_rfc3339())),
                None => errors.push(FieldError::new(field, "invalid_time")),
            }
        }
        let text: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", ui::encode(v)))
            .collect();
        let uri: Uri = format!("/?{}", text.join("&"))
            .parse()
            .map_err(|_| FieldErrors::one(FieldError::new("q", "invalid")))?;
        match Query::<CustomerQuery>::try_from_uri(&uri) {
            // A select sends only its own values; anything else is a hand-made address.
            Ok(Query(query)) if errors.is_empty() => Ok(query),
            Ok(_) => Err(errors),
            Err(_) => {
                errors.push(FieldError::new("q", "invalid"));
                Err(errors)
            }
        }
    }
}

/// A customer as a list row.
#[derive(Debug)]
pub struct CustomerRow {
    id: i64,
    name: String,
    username: String,
    mobile: String,
    package: String,
    state: &'static str,
    state_name: &'static str,
    expires: String,
    ip: String,
    owner: String,
    online: bool,
    /// The values of the custom fields shown in the list, in their order.
    extra: Vec<String>,
}

#[derive(Template)]
#[template(path = "customers.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<CustomerRow>,
    total: String,
    pager: Pager,
    query: ListQuery,
    errors: Vec<(String, String)>,
    tenants: Vec<Choice>,
    packages: Vec<Choice>,
    owners: Vec<Choice>,
    network: Network,
    billing: Vec<Choice>,
    connections: Vec<Choice>,
    statuses: Vec<Choice>,
    presence: Vec<Choice>,
    can_create: bool,
    /// The labels of the custom fields shown as columns.
    columns: Vec<String>,
    /// The active custom fields a filter may name: key, label.
    fields: Vec<Choice>,
    /// The list as CSV, with these filters.
    export: String,
}

impl ListPage {
    fn v(&self, name: &str) -> &str {
        self.query.value(name)
    }

    /// True when `n` rows a page are shown (50 unless chosen).
    fn limit_is(&self, n: &str) -> bool {
        match self.v("limit") {
            "" => n == "50",
            limit => limit == n,
        }
    }
}

/// The name of each package of `rows`: from the packages the caller sees, and, for any the
/// caller does not see (a customer's package may belong to someone it cannot list), read
/// in one query.
async fn package_names(
    state: &AppState,
    visible: &[Package],
    rows: &[Customer],
) -> Result<Vec<(i64, String)>, OpError> {
    let mut names: Vec<(i64, String)> = visible.iter().map(|p| (p.id, p.name.clone())).collect();
    let mut missing: Vec<i64> = rows
        .iter()
        .map(|c| c.package_id)
        .filter(|id| !names.iter().any(|(n, _)| n == id))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    names.extend(store::package::names(state.db.conn(), &missing).await?);
    Ok(names)
}

pub(super) async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let limit = input::id(Some(query.value("limit"))).and_then(|l| u64::try_from(l).ok());
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let Ok(page) = PageRequest::parse(&LIST, Some(query.sort()), limit, cursor) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    match list_page(&state, &user, &headers, query, &page).await {
        Ok(page) if page.errors.is_empty() => render(&page),
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response(),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

async fn list_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    query: ListQuery,
    page: &PageRequest,
) -> Result<ListPage, OpError> {
    let t = Tr { lang: user.lang };
    let actor = &user.actor;
    let now = state.clock.now();
    // Days and mobile numbers are read in the tenant's terms: the one filtered on, else the
    // caller's own.
    let tenant_id = input::id(Some(query.value("tenant_id")))
        .map(TenantId)
        .or(actor.tenant_id);
    let tenant = Tenants::load(state, actor, tenant_id.map(|t| t.0)).await?;
    let tenant = tenant_id.and_then(|id| tenant.get(id.0)).cloned();
    let zone = tenant
        .as_ref()
        .map_or(chrono_tz::UTC, |t| input::zone_of(&t.time_zone));
    let filter = match query.api_query(zone) {
        Ok(q) => q.full_filter(&state.ctx(), now, tenant.as_ref()).await,
        Err(errors) => Err(OpError::Invalid(errors)),
    };
    let by_expiry = query.sort().trim_start_matches('-') == "expires_at";
    let (found, errors) = match filter {
        Ok(filter) => (
            Some(ops::customer::list(&state.ctx(), actor, &filter, page, by_expiry).await?),
            Vec::new(),
        ),
        Err(OpError::Invalid(errors)) => (None, field_messages(t, &errors)),
        Err(other) => return Err(other),
    };
    // The custom fields of the tenant listed: its columns and its filter's choices.
    let defs = match &tenant {
        Some(tenant) => ops::custom_field::of_tenant(&state.ctx(), TenantId(tenant.id)).await?,
        None => Vec::new(),
    };
    let shown: Vec<_> = defs.iter().filter(|d| d.active && d.in_list).collect();
    let item_ids: Vec<i64> = found
        .as_ref()
        .map(|f| f.items.iter().map(|c| c.id).collect())
        .unwrap_or_default();
    let values = if shown.is_empty() {
        Default::default()
    } else {
        ops::custom_field::values_among(&state.ctx(), &item_ids).await?
    };
    let no_values = std::collections::HashMap::new();
    let visible = visible_packages(state, actor).await?;
    let owners = lookup::resellers(state, actor, OwnersOf::Customers).await?;
    let items = found.as_ref().map_or(&[][..], |f| &f.items[..]);
    let names = package_names(state, &visible, items).await?;
    let online = ops::online::online_among(&state.ctx(), items).await?;
    let zones = Tenants::load(state, actor, items.iter().map(|c| c.tenant_id)).await?;
    let rows = items
        .iter()
        .map(|c| {
            let state = state_of(c, now);
            CustomerRow {
                id: c.id,
                name: c.name.clone(),
                username: c.username.clone(),
                mobile: c.mobile.clone().unwrap_or_default(),
                package: names
                    .iter()
                    .find(|(id, _)| *id == c.package_id)
                    .map_or_else(|| format!("#{}", c.package_id), |(_, n)| n.clone()),
                state,
                state_name: state_name(t, state),
                expires: input::local_time_text(c.expires_at, zones.zone(c.tenant_id)),
                ip: store::customer::static_ip(c)
                    .map(|ip| ip.to_string())
                    .unwrap_or_default(),
                // The reseller, or the ISP itself for the tenant's own customers.
                owner: match c.sub_operator_id.or(c.operator_id) {
                    Some(reseller) => lookup::user_name(&owners, Some(reseller)),
                    None => zones.name(c.tenant_id),
                },
                online: online.contains(&c.id),
                extra: shown
                    .iter()
                    .map(|d| {
                        let held = values.get(&c.id).unwrap_or(&no_values);
                        crate::custom_field::panel::shown(t, d, held.get(&d.id))
                    })
                    .collect(),
            }
        })
        .collect();
    let first = query.link();
    let (total, next) = match &found {
        Some(f) => (ui::total(f.total, f.total_capped), f.next_cursor.clone()),
        None => ("0".to_owned(), None),
    };
    let pager = Pager::keyset(
        t,
        first.clone(),
        query.trail.as_deref().unwrap_or(""),
        query.cursor.as_deref().filter(|c| !c.is_empty()),
        next.as_deref(),
        items.len(),
        page.limit(),
        &total,
    );
    Ok(ListPage {
        ui: Ui::new(user, Section::Customers, headers, &first),
        rows,
        total,
        pager,
        tenants: lookup::tenant_choices(state, actor).await?,
        packages: package_choices(t, &visible, &owners),
        owners: lookup::reseller_choices(t, &owners),
        network: Network::load(state, actor).await?,
        billing: billing_choices(t),
        connections: crate::package::panel::connection_choices(t),
        statuses: [
            "active",
            "expired",
            "expires_today",
            "suspended",
            "disabled",
        ]
        .into_iter()
        .map(|s| (s.to_owned(), state_name(t, s).to_owned()))
        .collect(),
        presence: [("true", "online.online"), ("false", "online.offline")]
            .into_iter()
            .map(|(value, label)| (value.to_owned(), t.t(label).to_owned()))
            .collect(),
        can_create: super::new::may_create(actor),
        columns: shown.iter().map(|d| d.label.clone()).collect(),
        fields: defs
            .iter()
            .filter(|d| d.active)
            .map(|d| (d.key.clone(), d.label.clone()))
            .collect(),
        export: query.export_link(),
        query,
        errors,
    })
}

/// The list as CSV (`customer::export`): the same filters, the same scope.
pub(super) async fn export_csv(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let actor = user.actor.clone();
    let tenant_id = input::id(Some(query.value("tenant_id")));
    let result = async {
        let tenant =
            Tenants::load(&state, &actor, tenant_id.or(actor.tenant_id.map(|t| t.0))).await?;
        let zone = tenant_id
            .or(actor.tenant_id.map(|t| t.0))
            .and_then(|id| tenant.get(id))
            .map_or(chrono_tz::UTC, |t| input::zone_of(&t.time_zone));
        let api = query.api_query(zone).map_err(OpError::Invalid)?;
        crate::customer::export::export(state.clone(), actor, &api, tenant_id).await
    };
    match result.await {
        Ok(response) => response,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
