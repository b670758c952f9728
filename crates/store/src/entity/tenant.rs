//! The `tenant` table.

use sea_orm::entity::prelude::*;

use super::code::Stored;
use domain::customer::BillingType;
use domain::tenant::TenantStatus;

/// A tenant row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub country: String,
    pub currency: String,
    pub time_zone: String,
    pub owner_id: Option<i64>,
    pub currency_locked: bool,
    pub status: Stored<TenantStatus>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
    pub realm: Option<String>,
    pub suspension_policy: String,
    pub suspension_target: Option<String>,
    pub default_billing_type: Stored<BillingType>,
    pub mobile_country: Option<String>,
    /// The time zone's offset from UTC now, in minutes: the day usage is rolled up to.
    pub utc_offset_minutes: i32,
    /// The day postpaid periods start (1 to 28; 0 for the month's last).
    pub billing_day: i32,
    /// Days from a postpaid invoice's issue to its due date.
    pub due_days: i32,
    /// Days after the due date before an unpaid customer is suspended.
    pub grace_days: i32,
    /// Days before an expiry or a due date that a reminder is queued.
    pub remind_days: i32,
    /// The Business Identification Number the tenant is VAT-registered under (empty:
    /// unregistered); printed on tax invoices.
    pub bin: String,
    /// The address its tax invoices are issued from.
    pub address: String,
    /// The language its customers' messages are written in (`en`, `bn`).
    pub sms_lang: String,
    /// Its card distributors may read the mobiles of the customers they sell to.
    pub distributor_mobiles: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
