//! The `sms_gateway` table: a tenant's SMS gateway, or (no tenant) the platform's default.

use sea_orm::entity::prelude::*;

/// An SMS gateway. `settings` is the driver's whole configuration as JSON, sealed with the
/// keyring.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sms_gateway")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant; `None` for the platform's default gateway.
    pub tenant_id: Option<i64>,
    pub name: String,
    /// The driver (`twilio`, `bulksmsbd`, `sslwireless`, `africastalking`,
    /// `http_template`, `log`).
    pub driver: String,
    /// The sealed settings.
    pub settings: String,
    /// `active` or `disabled`.
    pub status: String,
    /// The most messages a tenant sends through it in a day.
    pub daily_budget: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The sealed settings stay out of logs even sealed.
        f.debug_struct("SmsGateway")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("name", &self.name)
            .field("driver", &self.driver)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
