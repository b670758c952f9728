//! The dashboard's figures (reference §2.16), each one query over the customers a caller
//! sees: who expires today and what they would pay to renew, what was collected today (by
//! collector) and on each of the last days, new and renewed customers, who is online now.
//! "Today" is given by the caller (the tenant's local day, as UTC instants), so the figures
//! and the jobs that act on expiries agree on it.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Func, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult};

use crate::entity::{customer, customer_online, invoice, package};
use crate::error::StoreResult;
use domain::access::CustomerScope;
use domain::customer::{BillingType, CustomerStatus};

/// The figures of one caller's dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Prepaid customers in service whose expiry falls today.
    pub expiring_today: i64,
    /// What they would pay to renew their package once.
    pub to_collect_today: i64,
    /// Money taken today, by who took it: (collector, amount, receipts).
    pub collected_today: Vec<(Option<i64>, i64, i64)>,
    /// Customers created today.
    pub new_today: i64,
    /// Customers who paid for time today.
    pub renewed_today: i64,
    /// Customers with a live session now.
    pub online_now: i64,
    /// Money taken on each of the last days, oldest first (days without any included).
    pub collections: Vec<(NaiveDate, i64)>,
}

/// Today's bounds and the window of days the collections cover, in the tenant's time.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Today's first instant.
    pub start: DateTime<Utc>,
    /// Tomorrow's first instant.
    pub end: DateTime<Utc>,
    /// The first day of the collections.
    pub first_day: NaiveDate,
    /// How many days the collections cover (today last).
    pub days: u32,
    /// The tenant's offset from UTC, in minutes, that days are counted in.
    pub offset_minutes: i32,
}

fn scoped(scope: &CustomerScope) -> SelectStatement {
    Query::select()
        .from(customer::Entity)
        .cond_where(crate::scope::customers(scope))
        .to_owned()
}

async fn one<C: ConnectionTrait>(conn: &C, query: &SelectStatement) -> StoreResult<QueryResult> {
    let backend = conn.get_database_backend();
    conn.query_one_raw(backend.build(query))
        .await?
        .ok_or(crate::StoreError::NotFound)
}

fn int(row: &QueryResult, column: &str) -> StoreResult<i64> {
    Ok(row.try_get::<Option<i64>>("", column)?.unwrap_or(0))
}

/// The figures of the customers `scope` sees, over `window`.
pub async fn figures<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    window: &Window,
) -> StoreResult<Figures> {
    let backend = conn.get_database_backend();
    let mut figures = Figures::default();
    let big = |e: Expr| e.cast_as(Alias::new("BIGINT"));

    // Expiring today, and their packages' prices.
    let mut q = scoped(scope);
    q.expr_as(
        big(Func::count(Expr::col((customer::Entity, customer::Column::Id))).into()),
        Alias::new("n"),
    )
    .expr_as(
        big(Func::sum(Expr::col((package::Entity, package::Column::Price))).into()),
        Alias::new("amount"),
    )
    .inner_join(
        package::Entity,
        Expr::col((package::Entity, package::Column::Id))
            .equals((customer::Entity, customer::Column::PackageId)),
    )
    .and_where(Expr::col((customer::Entity, customer::Column::ArchivedAt)).is_null())
    .and_where(
        Expr::col((customer::Entity, customer::Column::Status)).eq(CustomerStatus::Active.as_str()),
    )
    .and_where(
        Expr::col((customer::Entity, customer::Column::BillingType))
            .eq(BillingType::Prepaid.as_str()),
    )
    .and_where(Expr::col((customer::Entity, customer::Column::ExpiresAt)).gte(window.start))
    .and_where(Expr::col((customer::Entity, customer::Column::ExpiresAt)).lt(window.end));
    let row = one(conn, &q).await?;
    figures.expiring_today = int(&row, "n")?;
    figures.to_collect_today = int(&row, "amount")?;

    // New today.
    let mut q = scoped(scope);
    q.expr_as(
        big(Func::count(Expr::col((customer::Entity, customer::Column::Id))).into()),
        Alias::new("n"),
    )
    .and_where(Expr::col((customer::Entity, customer::Column::CreatedAt)).gte(window.start))
    .and_where(Expr::col((customer::Entity, customer::Column::CreatedAt)).lt(window.end));
    figures.new_today = int(&one(conn, &q).await?, "n")?;

    // Online now.
    let mut q = scoped(scope);
    q.expr_as(
        big(Func::count(Expr::col((customer::Entity, customer::Column::Id))).into()),
        Alias::new("n"),
    )
    .inner_join(
        customer_online::Entity,
        Expr::col((customer_online::Entity, customer_online::Column::CustomerId))
            .equals((customer::Entity, customer::Column::Id)),
    );
    figures.online_now = int(&one(conn, &q).await?, "n")?;

    // Collected today, by collector; renewed today.
    let paid = |from: DateTime<Utc>| {
        let mut q = scoped(scope);
        q.inner_join(
            invoice::Entity,
            Expr::col((invoice::Entity, invoice::Column::CustomerId))
                .equals((customer::Entity, customer::Column::Id)),
        )
        .and_where(Expr::col((invoice::Entity, invoice::Column::IssuedAt)).gte(from))
        .and_where(Expr::col((invoice::Entity, invoice::Column::IssuedAt)).lt(window.end))
        // Receipts are money taken; a postpaid invoice is money owed.
        .and_where(
            Expr::col((invoice::Entity, invoice::Column::Series))
                .eq(domain::invoice::Series::Receipt.as_str()),
        );
        q
    };
    let mut q = paid(window.start);
    q.column((invoice::Entity, invoice::Column::CollectorId))
        .expr_as(
            big(Func::sum(Expr::col((invoice::Entity, invoice::Column::Total))).into()),
            Alias::new("amount"),
        )
        .expr_as(
            big(Func::count(Expr::col((invoice::Entity, invoice::Column::Id))).into()),
            Alias::new("n"),
        )
        .group_by_col((invoice::Entity, invoice::Column::CollectorId));
    for row in conn.query_all_raw(backend.build(&q)).await? {
        let collector: Option<i64> = row.try_get("", "collector_id")?;
        figures
            .collected_today
            .push((collector, int(&row, "amount")?, int(&row, "n")?));
    }
    let mut q = paid(window.start);
    q.expr_as(
        big(Func::count_distinct(Expr::col((invoice::Entity, invoice::Column::CustomerId))).into()),
        Alias::new("n"),
    );
    figures.renewed_today = int(&one(conn, &q).await?, "n")?;

    // Collections on each of the last days, in the tenant's day.
    let offset = window.offset_minutes;
    let day = match backend {
        DatabaseBackend::Postgres => format!(
            "CAST(CAST((\"invoice\".\"issued_at\" AT TIME ZONE 'UTC') + INTERVAL '{offset} minutes' AS DATE) AS TEXT)"
        ),
        _ => format!("date(\"invoice\".\"issued_at\", '{offset:+} minutes')"),
    };
    let from = window.start - chrono::TimeDelta::days(i64::from(window.days.saturating_sub(1)));
    let mut q = paid(from);
    q.expr_as(Expr::cust(day.clone()), Alias::new("day"))
        .expr_as(
            big(Func::sum(Expr::col((invoice::Entity, invoice::Column::Total))).into()),
            Alias::new("amount"),
        )
        .add_group_by([Expr::cust(day)]);
    let mut by_day = std::collections::HashMap::new();
    for row in conn.query_all_raw(backend.build(&q)).await? {
        let text: String = row.try_get("", "day")?;
        if let Ok(d) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            by_day.insert(d, int(&row, "amount")?);
        }
    }
    figures.collections = window
        .first_day
        .iter_days()
        .take(window.days as usize)
        .map(|d| (d, by_day.get(&d).copied().unwrap_or(0)))
        .collect();
    Ok(figures)
}
