//! Documents of money taken (`invoice`): issued in the transaction of the journal they
//! record, numbered gaplessly per tenant, series and fiscal year from `document_counter`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, Statement,
};
use serde::{Deserialize, Serialize};

use crate::entity::invoice::{ActiveModel, Column, Entity, Model};
use crate::error::{StoreError, StoreResult};
use crate::list::{self, ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::write::Write;
use domain::ids::TenantId;
use domain::invoice::Series;

/// A stored document.
pub type Invoice = Model;

/// One line of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// `service` (time bought) or `credit` (unused time given back); pages name it in the
    /// reader's language.
    pub kind: String,
    /// What it concerns: the package and the time it runs, in the tenant's zone.
    pub description: String,
    /// Its amount (negative for a credit).
    pub amount: i64,
}

/// A document to issue.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// The tenant's country (how numbers read and when its fiscal year starts).
    pub country: &'a str,
    /// The series.
    pub series: Series,
    /// The customer.
    pub customer_id: i64,
    /// The journal it records.
    pub journal_id: Option<i64>,
    /// Who took the money.
    pub collector_id: Option<i64>,
    /// The currency.
    pub currency: &'a str,
    /// The total before VAT.
    pub subtotal: i64,
    /// The VAT in the total.
    pub vat: i64,
    /// The total.
    pub total: i64,
    /// The fiscal year it is numbered in.
    pub fiscal_year: i32,
    /// The customer as it is called now (name, user name, mobile, address).
    pub buyer: serde_json::Value,
    /// The lines.
    pub lines: &'a [Line],
}

/// The first of `count` numbers of `series` in `fiscal_year` for `tenant`, taken in `w`'s
/// transaction (given back if it rolls back). The counter's row is held to the commit:
/// issue last.
pub(crate) async fn take_numbers(
    w: &Write,
    tenant: TenantId,
    series: Series,
    fiscal_year: i32,
    count: i64,
) -> StoreResult<i64> {
    use crate::entity::document_counter;
    let first = document_counter::ActiveModel {
        tenant_id: Set(tenant.0),
        series: Set(series.as_str().to_owned()),
        fiscal_year: Set(fiscal_year),
        next_number: Set(1),
    };
    let insert = document_counter::Entity::insert(first).on_conflict(
        OnConflict::columns([
            document_counter::Column::TenantId,
            document_counter::Column::Series,
            document_counter::Column::FiscalYear,
        ])
        .do_nothing()
        .to_owned(),
    );
    match insert.exec_without_returning(w.tx()).await {
        Ok(_) | Err(DbErr::RecordNotInserted) => {}
        Err(error) => return Err(error.into()),
    }
    let row = w
        .tx()
        .query_one_raw(crate::db::statement(
            w.tx().get_database_backend(),
            "UPDATE document_counter SET next_number = next_number + $4
              WHERE tenant_id = $1 AND series = $2 AND fiscal_year = $3
              RETURNING next_number - $4 AS taken",
            vec![
                tenant.0.into(),
                series.as_str().into(),
                fiscal_year.into(),
                count.into(),
            ],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get("", "taken")?)
}

/// Issues `new` in `w`, numbered now.
pub async fn issue(w: &mut Write, new: &NewDocument<'_>) -> StoreResult<Invoice> {
    Ok(document_row(w, new).await?.insert(w.tx()).await?)
}

/// Issues credit note `new` on invoice `invoice` in `w`, numbered now, with its `reason`.
pub async fn issue_credit_note(
    w: &mut Write,
    new: &NewDocument<'_>,
    invoice: &Invoice,
    reason: &str,
) -> StoreResult<Invoice> {
    let mut row = document_row(w, new).await?;
    row.credits_invoice_id = Set(Some(invoice.id));
    row.reason = Set(Some(reason.to_owned()));
    Ok(row.insert(w.tx()).await?)
}

/// The row of document `new`, its number taken in `w`.
async fn document_row(w: &mut Write, new: &NewDocument<'_>) -> StoreResult<ActiveModel> {
    let number = take_numbers(w, new.tenant, new.series, new.fiscal_year, 1).await?;
    let lines = serde_json::to_string(new.lines).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        tenant_id: Set(new.tenant.0),
        series: Set(new.series.as_str().to_owned()),
        fiscal_year: Set(new.fiscal_year),
        number: Set(number),
        number_text: Set(domain::invoice::number_text(
            new.series,
            new.fiscal_year,
            new.country,
            number,
        )),
        customer_id: Set(new.customer_id),
        journal_id: Set(new.journal_id),
        collector_id: Set(new.collector_id),
        status: Set("paid".to_owned()),
        currency: Set(new.currency.to_owned()),
        subtotal: Set(new.subtotal),
        vat: Set(new.vat),
        total: Set(new.total),
        issued_at: Set(w.now()),
        buyer: Set(new.buyer.to_string()),
        lines: Set(lines),
        period_start: Set(None),
        period_end: Set(None),
        due_at: Set(None),
        amount_paid: Set(new.total),
        split: Set(None),
        run_id: Set(None),
        credited: Set(0),
        credits_invoice_id: Set(None),
        reason: Set(None),
    })
}

/// What postpaid invoice `invoice` still asks: its total less what was paid and what
/// credit notes took off.
pub fn due(invoice: &Invoice) -> i64 {
    domain::postpaid::due(invoice.total, invoice.amount_paid, invoice.credited)
}

/// The lines of a stored document.
pub fn lines(invoice: &Invoice) -> StoreResult<Vec<Line>> {
    serde_json::from_str(&invoice.lines)
        .map_err(|e| StoreError::Corrupt(format!("invoice {}: {e}", invoice.id)))
}

/// Which documents a list shows (already narrowed to what the caller may read).
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    /// Only these tenants (`None`: every tenant).
    pub tenants: Option<Vec<i64>>,
    /// One customer's.
    pub customer_id: Option<i64>,
    /// Those this user took the money for.
    pub collector_id: Option<i64>,
    /// Issued from this instant.
    pub from: Option<DateTime<Utc>>,
    /// Issued before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Of this series.
    pub series: Option<Series>,
    /// In this status (`open`, `paid`, `void`).
    pub status: Option<String>,
}

/// The document list: by id, newest first.
pub static LIST: ListSpec<Entity> = ListSpec {
    sorts: &[SortColumn {
        name: "id",
        column: Column::Id,
        kind: SortKind::Int,
    }],
    id: Column::Id,
    default_sort: "-id",
};

/// A page of documents.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &InvoiceFilter,
    page: &PageRequest,
) -> StoreResult<Page<Invoice>> {
    let mut cond = Condition::all();
    if let Some(tenants) = &filter.tenants {
        cond = cond.add(Column::TenantId.is_in(tenants.clone()));
    }
    if let Some(customer) = filter.customer_id {
        cond = cond.add(Column::CustomerId.eq(customer));
    }
    if let Some(collector) = filter.collector_id {
        cond = cond.add(Column::CollectorId.eq(collector));
    }
    if let Some(from) = filter.from {
        cond = cond.add(Column::IssuedAt.gte(from));
    }
    if let Some(to) = filter.to {
        cond = cond.add(Column::IssuedAt.lt(to));
    }
    if let Some(series) = filter.series {
        cond = cond.add(Column::Series.eq(series.as_str()));
    }
    if let Some(status) = &filter.status {
        cond = cond.add(Column::Status.eq(status.as_str()));
    }
    list::fetch(conn, &LIST, Entity::find().filter(cond), page).await
}

/// A document by id, in `tenants` (`None`: any).
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
    id: i64,
) -> StoreResult<Option<Invoice>> {
    let mut find = Entity::find_by_id(id);
    if let Some(tenants) = tenants {
        find = find.filter(Column::TenantId.is_in(tenants.to_vec()));
    }
    Ok(find.one(conn).await?)
}

/// The document that records journal `id`.
pub async fn by_journal<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Invoice>> {
    Ok(Entity::find()
        .filter(Column::JournalId.eq(id))
        .one(conn)
        .await?)
}

/// Numbers that are missing from a series (gaps): none, by construction; `ledger verify`
/// asks (billing-design.md I7).
pub async fn gaps<C: ConnectionTrait>(
    conn: &C,
    tenant: Option<TenantId>,
) -> StoreResult<Vec<String>> {
    let backend = conn.get_database_backend();
    let clause = tenant.map_or_else(|| "1 = 1".to_owned(), |t| format!("tenant_id = {}", t.0));
    let sql = format!(
        "SELECT tenant_id, series, fiscal_year, COUNT(*) AS n, MIN(number) AS low, MAX(number) AS high
           FROM invoice WHERE {clause}
          GROUP BY tenant_id, series, fiscal_year
         HAVING MIN(number) <> 1 OR MAX(number) <> COUNT(*)"
    );
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    rows.iter()
        .map(|r| {
            let tenant: i64 = r.try_get("", "tenant_id")?;
            let series: String = r.try_get("", "series")?;
            let year: i32 = r.try_get("", "fiscal_year")?;
            let n: i64 = r.try_get("", "n")?;
            let high: i64 = r.try_get("", "high")?;
            Ok(format!(
                "tenant {tenant}'s {series} numbers of {year} run to {high} with {n} documents"
            ))
        })
        .collect()
}

/// The open postpaid invoices of customer `id`, oldest due first.
pub async fn open_of<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Vec<Invoice>> {
    use sea_orm::QueryOrder as _;
    Ok(Entity::find()
        .filter(Column::CustomerId.eq(id))
        .filter(Column::Series.eq(Series::Invoice.as_str()))
        .filter(Column::Status.eq("open"))
        .order_by_asc(Column::DueAt)
        .order_by_asc(Column::Id)
        .all(conn)
        .await?)
}

/// Records that what was paid of invoice `invoice` went from its `amount_paid` to
/// `paid`, in `w`: settled in full closes it. Refused (`Conflict`) when another payment or
/// credit note moved it since it was read.
pub async fn record_paid(w: &Write, invoice: &Invoice, paid: i64) -> StoreResult<()> {
    record(w, invoice, paid, invoice.credited).await
}

/// Records that what credit notes took off invoice `invoice` went from its `credited` to
/// `credited`, in `w`: settled in full closes it. Refused (`Conflict`) as
/// [`record_paid`].
pub async fn record_credited(w: &Write, invoice: &Invoice, credited: i64) -> StoreResult<()> {
    record(w, invoice, invoice.amount_paid, credited).await
}

async fn record(w: &Write, invoice: &Invoice, paid: i64, credited: i64) -> StoreResult<()> {
    use sea_orm::sea_query::Expr;
    let status = if paid + credited >= invoice.total {
        "paid"
    } else {
        "open"
    };
    let done = Entity::update_many()
        .col_expr(Column::AmountPaid, Expr::value(paid))
        .col_expr(Column::Credited, Expr::value(credited))
        .col_expr(Column::Status, Expr::value(status))
        .filter(Column::Id.eq(invoice.id))
        .filter(Column::AmountPaid.eq(invoice.amount_paid))
        .filter(Column::Credited.eq(invoice.credited))
        .filter(Column::Status.eq("open"))
        .exec(w.tx())
        .await?;
    if done.rows_affected != 1 {
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

/// The credit notes of invoice `id`, oldest first.
pub async fn credit_notes_of<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Vec<Invoice>> {
    use sea_orm::QueryOrder as _;
    Ok(Entity::find()
        .filter(Column::CreditsInvoiceId.eq(id))
        .order_by_asc(Column::Id)
        .all(conn)
        .await?)
}

/// The split along the chain a postpaid invoice was issued with.
pub fn split(invoice: &Invoice) -> StoreResult<domain::billing::Split> {
    let text = invoice.split.as_deref().unwrap_or("{}");
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("invoice {}: {e}", invoice.id)))
}

/// Tenant `tenant`'s postpaid invoice numbered `text`.
pub async fn by_number_text<C: ConnectionTrait>(
    conn: &C,
    tenant: i64,
    text: &str,
) -> StoreResult<Option<Invoice>> {
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tenant))
        .filter(Column::Series.eq(Series::Invoice.as_str()))
        .filter(Column::NumberText.eq(text))
        .one(conn)
        .await?)
}
