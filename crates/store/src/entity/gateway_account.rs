//! The `gateway_account` table: a tenant's merchant account at a payment provider.

use sea_orm::entity::prelude::*;

/// A merchant account. `secret_key` and `webhook_secret` are sealed with the keyring.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gateway_account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// `stripe` or `generic`.
    pub provider: String,
    pub name: String,
    /// The provider's API base.
    pub base_url: String,
    pub secret_key: String,
    pub webhook_secret: String,
    /// `active` or `disabled`.
    pub status: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The public half of the credentials: bKash's app key, SSLCommerz's store id.
    pub key_id: String,
    /// bKash's user name (empty for other providers).
    pub username: String,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The sealed secrets stay out of logs even sealed.
        f.debug_struct("GatewayAccount")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
