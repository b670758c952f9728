//! The customer list: every filter on an indexed column, the search box over name, mobile,
//! user name, IP and MAC, keyset paging and capped totals (the list contract). It stays fast
//! at 10^6 customers for any combination of filters, whatever the planner's statistics say.
//!
//! The list chooses its access path itself ([`Path`]) and writes every filter column it does
//! not mean an index to serve so that the planner cannot plan on it (`+column` on SQLite,
//! `COALESCE(column, column)` on PostgreSQL). Without statistics both engines misjudge a
//! filter (SQLite takes the index with the most equality terms, a status matching 90% of the
//! table over a package matching 2%; PostgreSQL guesses 0.5% for any equality), and
//! statistics go stale; neither may decide a list that must answer in milliseconds. The
//! rules, from the filters and the capped total alone:
//!
//! - the total is counted through a narrow search's ids, else through the address or MAC
//!   index, else through the covering index of the candidate whose ranges hold the fewest
//!   entries: the status index (with each unfiltered enumerated column spelled as an `IN`
//!   of all its values, so that any combination is a few ranges of it) and each selective
//!   filter's (package, router, zone, each through the others of the three it leads with
//!   that are filtered too; owner; the caller's subtree, through the status filters). With
//!   one candidate it is that one; with more, a probe counts each one's entries up to a
//!   small limit, then a larger one ([`PROBES`]), so that a small package inside a reseller
//!   of a third of the table is read from the package's index and a day's expiries there
//!   from the reseller's. Either way every other filter is checked on the index entries;
//! - whether a customer is online (`customer_online`, kept by the database from `radacct`)
//!   is looked up for each customer a path reads (a key lookup, never a join); "online" is
//!   also a candidate of its own, the customers online by tenant, which wins the probe
//!   when few are (at night, or before the routers send accounting);
//! - the search box is first read from its own indexes (up to the cap): a narrow search
//!   is a list of ids, given as values, which drives the query (at most that many lookups,
//!   where another selective filter's range may hold a third of the table) unless a probe
//!   finds a candidate with several times fewer entries than ids, and a wide one
//!   (a prefix most user names share) is checked on the index entries, which carry the
//!   searched prefixes, and its total stops at [`SEARCH_CAP`] ("1 000+");
//! - a reseller's subtree is one column equal to the reseller (`operator_id` for an
//!   operator, `sub_operator_id` for a sub-operator; the scope says which), which that
//!   column's index serves; the index leads next with the status index's columns, so that
//!   the status filters inside a reseller are ranges of it too;
//! - when the total stays under the cap, the page sorts the rows the same path finds (sorted
//!   by id, it is a slice of the ids the count read): their ids and sort keys from the index
//!   entries (on PostgreSQL the covering indexes carry the id, the name and the creation
//!   time, `m20261206_000010_list_ids`), then only the page's rows by id;
//! - when it reaches the cap, matching rows are dense, and the page walks the sort order:
//!   at most [`crate::list::WALK`] rows of it, written as a subquery with that limit so that
//!   the engine must walk the sort column's index, and a walk through rows the filters
//!   mostly refuse (a filter correlated with the order) gives up for the path above.
//!
//! One module past the usual length: the choice of a path, the probe that weighs the
//! candidates and the query written for the chosen one must agree term by term, and are
//! read together; the search, online and custom-field terms already stand apart
//! (`search`, `online`, `field`).

mod field;
mod online;
mod search;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, IdenStatic as _,
    QueryFilter, Select,
};

use super::Customer;
use crate::entity::customer::{Column, Entity};
use crate::error::StoreResult;
use crate::list::{
    ListSpec, Page, PagePlan, PageRequest, SEARCH_CAP, SortColumn, SortKind, TOTAL_CAP,
};
use crate::scope;
use domain::access::{CustomerScope, Reseller, Scope};
use domain::customer::{BillingType, CustomerStatus};
use domain::ids::{TenantId, UserId};
use domain::package::ConnectionType;
use field::{FieldTerms, field_terms};
use search::{SearchTerms, id_among, search_entries, search_terms};

pub use field::FieldFilter;

/// The customer list: sortable by id, name, user name, creation and expiry (sorting by
/// expiry lists only customers that have one).
pub static LIST: ListSpec<Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "name",
            column: Column::Name,
            kind: SortKind::Text,
        },
        SortColumn {
            name: "username",
            column: Column::UsernameKey,
            kind: SortKind::Text,
        },
        SortColumn {
            name: "created_at",
            column: Column::CreatedAt,
            kind: SortKind::Time,
        },
        SortColumn {
            name: "expires_at",
            column: Column::ExpiresAt,
            kind: SortKind::Time,
        },
    ],
    id: Column::Id,
    default_sort: "-id",
};

/// The status filter, the derived states included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Active and in service (not expired).
    Active,
    /// Prepaid, active, past its expiry.
    Expired,
    /// Prepaid, active, expiring within the day given.
    ExpiresToday,
    /// Suspended.
    Suspended,
    /// Disabled.
    Disabled,
}

impl StatusFilter {
    /// Parses `active`, `expired`, `expires_today`, `suspended`, `disabled`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "active" => StatusFilter::Active,
            "expired" => StatusFilter::Expired,
            "expires_today" => StatusFilter::ExpiresToday,
            "suspended" => StatusFilter::Suspended,
            "disabled" => StatusFilter::Disabled,
            _ => return None,
        })
    }
}

/// What the search box matched on, prepared by the caller (who knows the tenant's country).
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// The text as typed (user name prefix; name part when 3 characters or more).
    pub text: String,
    /// The text read as an IPv4 address or the start of one: the addresses it stands for.
    pub ip_range: Option<(u32, u32)>,
    /// The text read as the start of a MAC address (RouterOS form).
    pub mac_prefix: Option<String>,
    /// The text read as the start of an E.164 mobile number.
    pub mobile_prefix: Option<String>,
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Only this tenant.
    pub tenant_id: Option<TenantId>,
    /// Only this status.
    pub status: Option<StatusFilter>,
    /// Only this connection type.
    pub connection_type: Option<ConnectionType>,
    /// Only this billing type.
    pub billing_type: Option<BillingType>,
    /// Only this package.
    pub package_id: Option<i64>,
    /// Only this home router.
    pub router_id: Option<i64>,
    /// Only this zone (and, through `zone_ids`, the zones inside it).
    pub zone_id: Option<i64>,
    /// Only these zones (a zone and those inside it), when given: wins over `zone_id`.
    pub zone_ids: Vec<i64>,
    /// Only customers of this operator or sub-operator.
    pub owner_id: Option<UserId>,
    /// Expiring before this time.
    pub expires_before: Option<DateTime<Utc>>,
    /// Expiring at or after this time.
    pub expires_after: Option<DateTime<Utc>>,
    /// With this static address.
    pub ip: Option<u32>,
    /// Bound to this MAC (RouterOS form).
    pub mac: Option<String>,
    /// Online (with an open session) or offline (`customer_online`).
    pub online: Option<bool>,
    /// The search box.
    pub search: Option<Search>,
    /// A custom field's value (`field`), read first from the value index like the search.
    pub custom_field: Option<FieldFilter>,
    /// The time derived states are judged at.
    pub now: DateTime<Utc>,
    /// The current day (start, end) in the tenant's zone, for `expires_today`.
    pub today: (DateTime<Utc>, DateTime<Utc>),
}

/// The way a customer-list query reaches its rows (see the module header).
#[derive(Debug, Clone, Copy)]
enum Path {
    /// Through a selective filter's covering index, the planner choosing among them; the
    /// tenant, archive, status, billing, connection and expiry columns are checked on the
    /// index entry, never planned on (the tenant kept visible for the address and MAC
    /// indexes, which lead with it).
    Selective { tenant_visible: bool },
    /// Through the covering index of the selective filter a probe found narrowest
    /// ([`Driver`]): every other column is checked on the index entry.
    Driven(Driver),
    /// Through the status index `(tenant, status, billing type, connection type, expiry, ...)`,
    /// its enumerated columns spelled as `IN` of every value when not filtered; the
    /// selective filters (a reseller's subtree included) are checked on the index entry.
    Status,
    /// Through a narrow search's ids, looked up one by one: every other column is checked
    /// on the row.
    Ids,
    /// Through the sort column's index: every other column is checked on the row.
    SortOrder(Column),
}

/// A selective filter whose covering index can drive the query. The package, router and
/// zone indexes lead with their own column and then the other two
/// (`m20261205_000009_list_access`): each is read through as many of those as the filters
/// fix in a row (`u8`, 1 to 3), so that a package on one router is one range of the
/// package's index.
#[derive(Debug, Clone, Copy)]
enum Driver {
    Package(u8),
    Router(u8),
    Zone(u8),
    /// The owner filter: the operator's index or the sub-operator's.
    Owner,
    /// The caller's subtree: its reseller's index, which leads with the reseller and then
    /// the status index's columns (`m20261207_000011_reseller_status`).
    Subtree(Reseller),
    /// The customers online: `customer_online` by tenant (`m20261209_000016_sessions_usage`),
    /// narrow when few are; every column of the customer is checked on its row.
    Online,
}

/// The leading columns of the package, router and zone indexes, in their order.
const PACKAGE_ORDER: [Column; 3] = [Column::PackageId, Column::RouterId, Column::ZoneId];
const ROUTER_ORDER: [Column; 3] = [Column::RouterId, Column::ZoneId, Column::PackageId];
const ZONE_ORDER: [Column; 3] = [Column::ZoneId, Column::PackageId, Column::RouterId];

impl Driver {
    /// Whether the driver's index is reached through `column`.
    fn leads(self, column: Column) -> bool {
        let led = |order: &'static [Column; 3], n: u8| &order[..usize::from(n).clamp(1, 3)];
        let leading: &[Column] = match self {
            Driver::Package(n) => led(&PACKAGE_ORDER, n),
            Driver::Router(n) => led(&ROUTER_ORDER, n),
            Driver::Zone(n) => led(&ZONE_ORDER, n),
            Driver::Owner => &[Column::OperatorId, Column::SubOperatorId],
            Driver::Online => &[],
            Driver::Subtree(reseller) => {
                return scope::subtree_column(reseller).as_str() == column.as_str()
                    || STATUS_COLUMNS.iter().any(|c| c.as_str() == column.as_str());
            }
        };
        leading.iter().any(|c| c.as_str() == column.as_str())
    }

    /// The index SQLite is told to use (`m20261205_000009_list_access`); none for the
    /// owner filter, which is two indexes.
    fn index(self) -> Option<&'static str> {
        match self {
            Driver::Package(_) => Some("customer_by_package_idx"),
            Driver::Router(_) => Some("customer_by_router_idx"),
            Driver::Zone(_) => Some("customer_by_zone_idx"),
            Driver::Owner => None,
            Driver::Subtree(Reseller::Operator) => Some("customer_by_operator_idx"),
            Driver::Subtree(Reseller::SubOperator) => Some("customer_by_sub_operator_idx"),
            Driver::Online => None,
        }
    }
}

/// The status index's columns after the tenant, which the reseller indexes also lead with
/// after the reseller: read as ranges (`IN` of every value when not filtered).
const STATUS_COLUMNS: [Column; 4] = [
    Column::Status,
    Column::BillingType,
    Column::ConnectionType,
    Column::ExpiresAt,
];

/// The columns only a selective filter's index leads with: hidden on the status path.
const SELECTIVE: [Column; 7] = [
    Column::PackageId,
    Column::RouterId,
    Column::ZoneId,
    Column::OperatorId,
    Column::SubOperatorId,
    Column::StaticIp,
    Column::Mac,
];

/// Index entries a probe of an access path's ranges reads at most, in a first round and,
/// when every candidate reaches that, in a second (see [`Request::choose`]).
const PROBES: [u64; 2] = [2_000, 40_000];

/// Index entries that cost about what looking one id up costs (a row read): a narrow
/// search's ids yield to another candidate with fewer entries than this many per id.
const ID_COST: u64 = 8;

/// A path on an engine: how its terms are written.
#[derive(Debug, Clone, Copy)]
struct Access {
    path: Path,
    backend: DatabaseBackend,
}

impl Access {
    /// Whether `column` is kept out of the planner's reach on this path.
    fn hides(self, column: Column) -> bool {
        match self.path {
            Path::Status => {
                column.as_str() == Column::Id.as_str()
                    || SELECTIVE.iter().any(|c| c.as_str() == column.as_str())
            }
            Path::Driven(driver) => !driver.leads(column),
            Path::Selective { tenant_visible } => match column {
                Column::TenantId => !tenant_visible,
                Column::ArchivedAt
                | Column::Status
                | Column::BillingType
                | Column::ConnectionType
                | Column::ExpiresAt => true,
                _ => false,
            },
            Path::Ids => column.as_str() != Column::Id.as_str(),
            Path::SortOrder(sort) => column.as_str() != sort.as_str(),
        }
    }

    /// `column` as a term of this access path.
    fn col(self, column: Column) -> Expr {
        if self.hides(column) {
            self.hidden(column)
        } else {
            Expr::col(column)
        }
    }

    /// `column` written so that the engine checks it on the index entry or the row and
    /// plans no index on it: `+column` on SQLite, `COALESCE(column, column)` on PostgreSQL.
    fn hidden(self, column: Column) -> Expr {
        Expr::cust(crate::list::unindexed(self.backend, column.as_str()))
    }

    fn is(self, path: Path) -> bool {
        std::mem::discriminant(&self.path) == std::mem::discriminant(&path)
    }
}

fn prepaid_active(a: Access) -> Condition {
    Condition::all()
        .add(a.col(Column::Status).eq(CustomerStatus::Active.as_str()))
        .add(a.col(Column::BillingType).eq(BillingType::Prepaid.as_str()))
}

fn status_condition(status: StatusFilter, filter: &CustomerFilter, a: Access) -> Condition {
    match status {
        StatusFilter::Active => Condition::all()
            .add(a.col(Column::Status).eq(CustomerStatus::Active.as_str()))
            .add(
                Condition::any()
                    .add(a.col(Column::BillingType).ne(BillingType::Prepaid.as_str()))
                    .add(a.col(Column::ExpiresAt).gt(filter.now)),
            ),
        StatusFilter::Expired => prepaid_active(a).add(
            Condition::any()
                .add(a.col(Column::ExpiresAt).is_null())
                .add(a.col(Column::ExpiresAt).lte(filter.now)),
        ),
        StatusFilter::ExpiresToday => prepaid_active(a)
            .add(a.col(Column::ExpiresAt).gte(filter.today.0))
            .add(a.col(Column::ExpiresAt).lt(filter.today.1)),
        StatusFilter::Suspended => {
            Condition::all().add(a.col(Column::Status).eq(CustomerStatus::Suspended.as_str()))
        }
        StatusFilter::Disabled => {
            Condition::all().add(a.col(Column::Status).eq(CustomerStatus::Disabled.as_str()))
        }
    }
}

/// A page of the customers the caller sees.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    filter: &CustomerFilter,
    page: &PageRequest,
    sort_is_expiry: bool,
) -> StoreResult<Page<Customer>> {
    let backend = conn.get_database_backend();
    let search = match &filter.search {
        Some(search) => Some(search_terms(conn, search, filter.tenant_id).await?),
        None => None,
    };
    // A custom field's matches, when few, are ids like a narrow search's: the two are
    // one list of ids (their intersection); beside a wide search they drive the query and
    // the search is checked on each row.
    let mut field = match &filter.custom_field {
        Some(f) => Some(field_terms(conn, f).await?),
        None => None,
    };
    let search = match (search, &field) {
        (Some(SearchTerms::Ids(found)), Some(FieldTerms::Ids(matching))) => {
            let both = found
                .into_iter()
                .filter(|id| matching.binary_search(id).is_ok())
                .collect();
            field = None;
            Some(SearchTerms::Ids(both))
        }
        (None, Some(FieldTerms::Ids(matching))) => {
            let ids = matching.clone();
            field = None;
            Some(SearchTerms::Ids(ids))
        }
        (search, _) => search,
    };
    let query = Request {
        scope,
        filter,
        search: search.as_ref(),
        field: field.as_ref(),
        sort_is_expiry,
    };
    // A narrow search reaches its rows by id (at most TOTAL_CAP lookups, where a selective
    // filter's range may hold a third of the table), unless another candidate's ranges
    // hold several times fewer entries than it has ids (see `choose`). An address or a MAC
    // is narrower than any other filter.
    let ids = match (&search, &field) {
        (Some(SearchTerms::Ids(ids)), _) | (_, Some(FieldTerms::Ids(ids))) => {
            Some(ids.len() as u64)
        }
        _ => None,
    };
    let filtered = if ids.is_none() && (filter.ip.is_some() || filter.mac.is_some()) {
        Path::Selective {
            tenant_visible: true,
        }
    } else {
        query.choose(conn, ids).await?
    };
    let sort = LIST
        .sorts
        .iter()
        .find(|s| s.name == page.sort_name())
        .map_or(Column::Id, |s| s.column);
    let plan = |path: Path, sort_found_rows: bool| PagePlan {
        select: query.select(Access { path, backend }),
        sort_found_rows,
        index: match path {
            _ if backend != DatabaseBackend::Sqlite => None,
            Path::Status => Some(STATUS_INDEX),
            Path::Driven(driver) => driver.index(),
            _ => None,
        },
        // Sorted by expiry, the list holds only customers with one: so does the walk.
        walk: matches!(path, Path::SortOrder(_)).then(|| {
            let mut walked = Condition::all();
            if sort_is_expiry {
                walked = walked.add(Column::ExpiresAt.is_not_null());
            }
            walked
        }),
        // A search too wide to list by id is checked on every entry the count reads, and
        // online or not is looked up for each: the total stops sooner.
        cap: match search {
            Some(SearchTerms::Entries(_)) => SEARCH_CAP,
            _ if filter.online.is_some() => SEARCH_CAP,
            _ if matches!(field, Some(FieldTerms::Probe(_))) => SEARCH_CAP,
            _ => TOTAL_CAP,
        },
    };
    crate::list::fetch_planned(conn, &LIST, plan(filtered, false), page, |capped| {
        if capped {
            plan(Path::SortOrder(sort), false)
        } else {
            plan(filtered, true)
        }
    })
    .await
}

/// The tenant is one of the tenants' ids.
fn every_tenant() -> Expr {
    Column::TenantId.in_subquery(
        Query::select()
            .column(crate::entity::tenant::Column::Id)
            .from(crate::entity::tenant::Entity)
            .to_owned(),
    )
}

/// The status index (`m20261205_000009_list_access`), which a query through
/// [`Path::Status`] names on SQLite: several indexes lead with the tenant, and SQLite without
/// statistics prefers the one with the fewest `IN` terms over the one with the most
/// equalities.
const STATUS_INDEX: &str = "customer_by_status_idx";

/// One customer-list request, written for any access path.
struct Request<'a> {
    scope: &'a CustomerScope,
    filter: &'a CustomerFilter,
    search: Option<&'a SearchTerms>,
    /// A custom field's matches not merged into the search's ids.
    field: Option<&'a FieldTerms>,
    sort_is_expiry: bool,
}

impl Request<'_> {
    /// The selective filters whose indexes could drive the query, each with the range of
    /// its index the filters reach (the caller's subtree narrowed by the status filters,
    /// which its index leads with next).
    fn drivers(&self, backend: DatabaseBackend) -> Vec<(Driver, Select<Entity>)> {
        let filter = self.filter;
        let mut drivers = Vec::new();
        // The package, router and zone indexes, each through the filters it leads with in
        // a row; one whose range another already reads is left out.
        let mut ranges: Vec<Vec<&str>> = Vec::new();
        for (order, driver) in [
            (PACKAGE_ORDER, Driver::Package as fn(u8) -> Driver),
            (ROUTER_ORDER, Driver::Router),
            (ZONE_ORDER, Driver::Zone),
        ] {
            let terms: Vec<Expr> = order
                .iter()
                .map_while(|c| self.term(*c, Expr::col(*c)))
                .collect();
            if terms.is_empty() {
                continue;
            }
            let mut led: Vec<&str> = order[..terms.len()].iter().map(|c| c.as_str()).collect();
            led.sort_unstable();
            if ranges.contains(&led) {
                continue;
            }
            ranges.push(led);
            let n = u8::try_from(terms.len()).unwrap_or(3);
            let range = terms
                .into_iter()
                .fold(Condition::all(), |range, term| range.add(term));
            drivers.push((driver(n), Entity::find().filter(range)));
        }
        if let Some(owner) = filter.owner_id {
            let either = Condition::any()
                .add(Column::OperatorId.eq(owner.0))
                .add(Column::SubOperatorId.eq(owner.0));
            drivers.push((Driver::Owner, Entity::find().filter(either)));
        }
        if filter.online == Some(true) {
            let online = Entity::find().filter(online::range(self.one_tenant()));
            drivers.push((Driver::Online, online));
        }
        if let Scope::Subtree { root, reseller, .. } = self.scope.get() {
            let driver = Driver::Subtree(reseller);
            let mut range = Entity::find().filter(scope::subtree_column(reseller).eq(root.0));
            if self.status_narrows() {
                let a = Access {
                    path: Path::Driven(driver),
                    backend,
                };
                range = range
                    .filter(self.status_ranges())
                    .filter(self.status_columns(a));
            }
            drivers.push((driver, range));
        }
        drivers
    }

    /// Whether the status index narrows the query beyond the tenant.
    fn status_narrows(&self) -> bool {
        let filter = self.filter;
        filter.status.is_some()
            || filter.billing_type.is_some()
            || filter.connection_type.is_some()
            || filter.expires_before.is_some()
            || filter.expires_after.is_some()
    }

    /// The access path for the filters. With one candidate index (the status index, or a
    /// selective filter's) it is that one. With more, each candidate's ranges are probed in
    /// turn, counting their index entries up to the first of [`PROBES`] (then up to the
    /// fewest found so far), and the query takes the candidate with the fewest: a package
    /// of a few hundred customers inside a reseller of 340 000 is read from the package's
    /// index, whatever the planner believes of either. When every candidate reaches that
    /// limit, a second round counts up to the second, which is still a fraction of what a
    /// wrong choice reads. Inside a reseller the status filters narrow the reseller's own
    /// index, whose ranges hold fewer entries than the status index's (the whole tenant):
    /// it stands for both. When every candidate reaches the second limit too, the planner
    /// chooses among the selective filters' indexes.
    ///
    /// With a narrow search's `ids` (how many), looking them up is a candidate too: taken
    /// outright up to the first probe limit or with no other candidate, else unless another
    /// candidate's ranges hold fewer than [`ID_COST`] entries per id (a lookup reads a row,
    /// an entry checks the ids in a hashed set): an area's user-name prefix of 8 000
    /// customers, asked with a status no customer has, is counted as the nothing it is.
    async fn choose<C: ConnectionTrait>(&self, conn: &C, ids: Option<u64>) -> StoreResult<Path> {
        let backend = conn.get_database_backend();
        let drivers = self.drivers(backend);
        let inside_reseller = drivers
            .iter()
            .any(|(driver, _)| matches!(driver, Driver::Subtree(_)));
        let status = self.status_narrows() && !inside_reseller;
        let fallback = if drivers.is_empty() {
            Path::Status
        } else {
            Path::Selective {
                tenant_visible: false,
            }
        };
        let others = drivers.len() + usize::from(status);
        let (rounds, fallback) = match ids {
            Some(n) if n <= PROBES[0] || others == 0 => return Ok(Path::Ids),
            Some(n) => (vec![Ord::min(n * ID_COST, PROBES[1])], Path::Ids),
            None if others < 2 => {
                return Ok(match drivers.as_slice() {
                    [(driver, _)] => Path::Driven(*driver),
                    _ => fallback,
                });
            }
            None => (PROBES.to_vec(), fallback),
        };
        let sqlite = backend == DatabaseBackend::Sqlite;
        let mut candidates = Vec::new();
        if status {
            let a = Access {
                path: Path::Status,
                backend,
            };
            let ranges = Entity::find()
                .filter(self.tenant_ranges())
                .filter(self.status_ranges())
                .filter(self.status_columns(a));
            candidates.push((Path::Status, ranges, sqlite.then_some(STATUS_INDEX)));
        }
        for (driver, range) in drivers {
            let index = driver.index().filter(|_| sqlite);
            candidates.push((Path::Driven(driver), range, index));
        }
        for (round, limit) in rounds.into_iter().enumerate() {
            // The customers online drive only when they are few: past the first round they
            // are dense, and looking each row's customer up in `customer_online` costs more
            // than checking the others' entries.
            if round > 0 {
                candidates.retain(|(path, ..)| !matches!(path, Path::Driven(Driver::Online)));
                match candidates.as_slice() {
                    [] => return Ok(fallback),
                    [(only, ..)] => return Ok(*only),
                    _ => {}
                }
            }
            let mut chosen = None;
            let mut upto = limit;
            for (path, select, index) in &candidates {
                let entries =
                    crate::list::count_upto(conn, select, *index, Column::Id, upto).await?;
                if entries < upto {
                    chosen = Some(*path);
                    if entries == 0 {
                        break;
                    }
                    upto = entries;
                }
            }
            if let Some(path) = chosen {
                return Ok(path);
            }
        }
        Ok(fallback)
    }

    /// The filter on `column`, one of the package, router and zone indexes' leading
    /// columns, if the filters have one: on the column as `written` (plain for a probe's
    /// range, as the access path writes it in the query).
    fn term(&self, column: Column, written: Expr) -> Option<Expr> {
        let filter = self.filter;
        match column {
            Column::PackageId => filter.package_id.map(|v| written.eq(v)),
            Column::RouterId => filter.router_id.map(|v| written.eq(v)),
            Column::ZoneId if !filter.zone_ids.is_empty() => {
                Some(written.is_in(filter.zone_ids.clone()))
            }
            Column::ZoneId => filter.zone_id.map(|v| written.eq(v)),
            _ => None,
        }
    }

    /// The one tenant the list is read in (the caller's, or the one filtered on), if one.
    fn one_tenant(&self) -> Option<TenantId> {
        match (self.scope.get(), self.filter.tenant_id) {
            (Scope::Subtree { tenant, .. } | Scope::Tenant(tenant), _)
            | (Scope::All, Some(tenant)) => Some(tenant),
            _ => None,
        }
    }

    /// The tenants the status index is read for: the caller's, the filter's, or every
    /// tenant's (spelled as their ids, so that the index is a few ranges per tenant).
    fn tenant_ranges(&self) -> Condition {
        let tenant = match (self.one_tenant(), self.scope.get()) {
            (Some(tenant), _) => Column::TenantId.eq(tenant.0),
            (None, Scope::All) => every_tenant(),
            (None, _) => return scope::customers(self.scope),
        };
        Condition::all().add(tenant)
    }

    /// The filters on the status index's columns after the tenant (status, connection and
    /// billing type, expiry), written for the access path.
    fn status_columns(&self, a: Access) -> Condition {
        let filter = self.filter;
        let mut terms = Condition::all();
        if let Some(status) = filter.status {
            terms = terms.add(status_condition(status, filter, a));
        }
        if let Some(v) = filter.connection_type {
            terms = terms.add(a.col(Column::ConnectionType).eq(v.as_str()));
        }
        if let Some(v) = filter.billing_type {
            terms = terms.add(a.col(Column::BillingType).eq(v.as_str()));
        }
        if let Some(v) = filter.expires_before {
            terms = terms.add(a.col(Column::ExpiresAt).lt(v));
        }
        if let Some(v) = filter.expires_after {
            terms = terms.add(a.col(Column::ExpiresAt).gte(v));
        }
        terms
    }

    /// The query written for the access path `a`.
    fn select(&self, a: Access) -> Select<Entity> {
        let filter = self.filter;
        let mut select = Entity::find()
            .filter(self.scope_condition(a))
            .filter(a.col(Column::ArchivedAt).is_null());
        if let Some(t) = filter.tenant_id {
            select = select.filter(a.col(Column::TenantId).eq(t.0));
        }
        select = select.filter(self.status_columns(a));
        // The status index, always; a reseller's when the status filters narrow it (else
        // its range is the reseller's alone, with no ranges to combine).
        let status_ranges = match a.path {
            Path::Status => true,
            Path::Driven(Driver::Subtree(_)) => self.status_narrows(),
            _ => false,
        };
        if status_ranges {
            select = select.filter(self.status_ranges());
        }
        for column in PACKAGE_ORDER {
            if let Some(term) = self.term(column, a.col(column)) {
                select = select.filter(term);
            }
        }
        if let Some(owner) = filter.owner_id {
            select = select.filter(
                Condition::any()
                    .add(a.col(Column::OperatorId).eq(owner.0))
                    .add(a.col(Column::SubOperatorId).eq(owner.0)),
            );
        }
        if let Some(v) = filter.ip {
            select = select.filter(a.col(Column::StaticIp).eq(i64::from(v)));
        }
        if let Some(v) = &filter.mac {
            select = select.filter(a.col(Column::Mac).eq(v.as_str()));
        }
        if let Some(online) = filter.online {
            select = match a.path {
                Path::Driven(Driver::Online) => select.filter(online::range(self.one_tenant())),
                _ => select.filter(online::probe(online)),
            };
        }
        match self.search {
            Some(SearchTerms::Ids(ids)) => {
                select = select.filter(id_among(a.col(Column::Id), ids, a.backend));
            }
            Some(SearchTerms::Entries(search)) => {
                select = select.filter(search_entries(search, a));
            }
            None => {}
        }
        match self.field {
            Some(FieldTerms::Ids(ids)) => {
                select = select.filter(id_among(a.col(Column::Id), ids, a.backend));
            }
            Some(FieldTerms::Probe(f)) => {
                select = select.filter(field::probe(f, a.backend));
            }
            None => {}
        }
        if self.sort_is_expiry {
            select = select.filter(a.col(Column::ExpiresAt).is_not_null());
        }
        select
    }

    /// The caller's scope, its columns written for the access path.
    fn scope_condition(&self, a: Access) -> Condition {
        match self.scope.get() {
            // The one column that holds the subtree (see `scope::customers`).
            Scope::Subtree {
                tenant,
                root,
                reseller,
            } => Condition::all()
                .add(a.col(Column::TenantId).eq(tenant.0))
                .add(a.col(scope::subtree_column(reseller)).eq(root.0)),
            Scope::Tenant(tenant) => Condition::all().add(a.col(Column::TenantId).eq(tenant.0)),
            // Every tenant: spelled as the tenants' ids, so that the status index (which
            // leads with the tenant) is a few ranges per tenant rather than one scan.
            Scope::All if a.is(Path::Status) && self.filter.tenant_id.is_none() => {
                Condition::all().add(every_tenant())
            }
            _ => scope::customers(self.scope),
        }
    }

    /// The status index's enumerated columns not filtered, as `IN` of all their values.
    fn status_ranges(&self) -> Condition {
        let filter = self.filter;
        let mut all = Condition::all();
        if filter.status.is_none() {
            all = all.add(Column::Status.is_in(CustomerStatus::ALL.map(|s| s.as_str())));
        }
        if filter.billing_type.is_none() {
            all = all.add(Column::BillingType.is_in(BillingType::ALL.map(|b| b.as_str())));
        }
        if filter.connection_type.is_none() {
            all = all.add(Column::ConnectionType.is_in(ConnectionType::ALL.map(|c| c.as_str())));
        }
        all
    }
}
