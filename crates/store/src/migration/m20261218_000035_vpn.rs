//! VPN accounts (reference §2.14): `vpn_server`, a tenant's VPN router with its tunnel, the
//! pool its tunnels take addresses from and the public ports it forwards; `vpn_account`,
//! one remote router's access (its generated credentials sealed, its tunnel address and
//! public port each unique on its server, its owner: a customer or a staff user). Their
//! RADIUS rows are marked by a new `vpn_account_id` on `radcheck` and `radreply`, as a
//! customer's are by `customer_id`.

use sea_orm_migration::prelude::*;

use super::{add_column, at, id, index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum VpnServer {
    Table,
    Id,
    TenantId,
    RouterId,
    Protocol,
    PublicHost,
    PoolId,
    LocalAddress,
    IpsecSecret,
    PortFirst,
    PortLast,
    RateKbps,
    CreatedAt,
    ArchivedAt,
}

#[derive(DeriveIden, Clone)]
enum VpnAccount {
    Table,
    Id,
    TenantId,
    ServerId,
    Username,
    Password,
    Address,
    Port,
    CustomerId,
    UserId,
    Label,
    Disabled,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum Radcheck {
    Table,
    VpnAccountId,
}

#[derive(DeriveIden, Clone)]
enum Radreply {
    Table,
    VpnAccountId,
}

/// A big integer that must be there.
fn big(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VpnServer::Table)
                    .col(id(VpnServer::Id))
                    .col(big(VpnServer::TenantId))
                    .col(big(VpnServer::RouterId))
                    .col(
                        ColumnDef::new(VpnServer::Protocol)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(VpnServer::PublicHost).text().not_null())
                    .col(big(VpnServer::PoolId))
                    .col(ColumnDef::new(VpnServer::LocalAddress).text().not_null())
                    .col(ColumnDef::new(VpnServer::IpsecSecret).text().null())
                    .col(ColumnDef::new(VpnServer::PortFirst).integer().not_null())
                    .col(ColumnDef::new(VpnServer::PortLast).integer().not_null())
                    .col(ColumnDef::new(VpnServer::RateKbps).integer().not_null())
                    .col(at(VpnServer::CreatedAt).not_null())
                    .col(at(VpnServer::ArchivedAt).null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "vpn_server_router_key",
            VpnServer::Table,
            &[VpnServer::RouterId],
            Some(VpnServer::ArchivedAt),
        )
        .await?;
        index(
            manager,
            "vpn_server_tenant_idx",
            VpnServer::Table,
            &[VpnServer::TenantId, VpnServer::Id],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(VpnAccount::Table)
                    .col(id(VpnAccount::Id))
                    .col(big(VpnAccount::TenantId))
                    .col(big(VpnAccount::ServerId))
                    .col(ColumnDef::new(VpnAccount::Username).text().not_null())
                    .col(ColumnDef::new(VpnAccount::Password).text().not_null())
                    .col(ColumnDef::new(VpnAccount::Address).text().not_null())
                    .col(ColumnDef::new(VpnAccount::Port).integer().not_null())
                    .col(ColumnDef::new(VpnAccount::CustomerId).big_integer().null())
                    .col(ColumnDef::new(VpnAccount::UserId).big_integer().null())
                    .col(ColumnDef::new(VpnAccount::Label).text().not_null())
                    .col(ColumnDef::new(VpnAccount::Disabled).boolean().not_null())
                    .col(at(VpnAccount::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "vpn_account_username_key",
            VpnAccount::Table,
            &[VpnAccount::Username],
            None,
        )
        .await?;
        unique(
            manager,
            "vpn_account_address_key",
            VpnAccount::Table,
            &[VpnAccount::ServerId, VpnAccount::Address],
            None,
        )
        .await?;
        unique(
            manager,
            "vpn_account_port_key",
            VpnAccount::Table,
            &[VpnAccount::ServerId, VpnAccount::Port],
            None,
        )
        .await?;
        index(
            manager,
            "vpn_account_tenant_idx",
            VpnAccount::Table,
            &[VpnAccount::TenantId, VpnAccount::Id],
        )
        .await?;
        add_column(
            manager,
            Radcheck::Table,
            ColumnDef::new(Radcheck::VpnAccountId)
                .big_integer()
                .null()
                .take(),
        )
        .await?;
        add_column(
            manager,
            Radreply::Table,
            ColumnDef::new(Radreply::VpnAccountId)
                .big_integer()
                .null()
                .take(),
        )
        .await?;
        index(
            manager,
            "radcheck_vpn_account_idx",
            Radcheck::Table,
            &[Radcheck::VpnAccountId],
        )
        .await?;
        index(
            manager,
            "radreply_vpn_account_idx",
            Radreply::Table,
            &[Radreply::VpnAccountId],
        )
        .await
    }
}
