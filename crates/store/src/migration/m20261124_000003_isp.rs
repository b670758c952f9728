//! The ISP tables: tenant settings (realm, suspension policy, defaults), routers (mirrored
//! into FreeRADIUS's `nas`), zones, IP pools with their exact ranges and static
//! allocations, packages in three levels, customers with their name history, and the name
//! search indexes of the customer list (PostgreSQL trigrams, SQLite FTS5).

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

use super::{at, id, index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Tenant {
    Table,
    Realm,
    SuspensionPolicy,
    SuspensionTarget,
    DefaultBillingType,
    MobileCountry,
}

#[derive(DeriveIden, Clone, Copy)]
enum StaffUser {
    Table,
    TotpLastStep,
}

#[derive(DeriveIden, Clone, Copy)]
enum Router {
    Table,
    Id,
    TenantId,
    Name,
    NasAddress,
    Secret,
    ApiAddress,
    ApiPort,
    ApiUser,
    ApiPassword,
    ApiTls,
    TimeZone,
    Notes,
    Version,
    CreatedAt,
    UpdatedAt,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Zone {
    Table,
    Id,
    TenantId,
    Name,
    ParentId,
    Version,
    CreatedAt,
    UpdatedAt,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IpPool {
    Table,
    Id,
    TenantId,
    Name,
    Ranges,
    Capacity,
    Version,
    CreatedAt,
    UpdatedAt,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IpPoolRange {
    Table,
    Id,
    PoolId,
    TenantId,
    FirstAddress,
    LastAddress,
}

#[derive(DeriveIden, Clone, Copy)]
enum IpAllocation {
    Table,
    Id,
    TenantId,
    PoolId,
    Address,
    CustomerId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Package {
    Table,
    Id,
    TenantId,
    Level,
    ParentId,
    MasterId,
    OwnerId,
    Name,
    ConnectionType,
    DownloadKbps,
    UploadKbps,
    BurstDownloadKbps,
    BurstUploadKbps,
    BurstThresholdDownloadKbps,
    BurstThresholdUploadKbps,
    BurstTimeSecs,
    VolumeBytes,
    ValidityMinutes,
    Price,
    CostPrice,
    IpPoolId,
    Visibility,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Customer {
    Table,
    Id,
    TenantId,
    OperatorId,
    SubOperatorId,
    PackageId,
    ConnectionType,
    BillingType,
    Name,
    Mobile,
    Email,
    Address,
    ZoneId,
    RouterId,
    Username,
    UsernameKey,
    Password,
    Status,
    ExpiresAt,
    StaticIp,
    IpPoolId,
    Mac,
    SimultaneousUse,
    Comment,
    Version,
    CreatedAt,
    UpdatedAt,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerName {
    Table,
    Id,
    TenantId,
    CustomerId,
    Username,
    UsernameKey,
    ValidFrom,
    ValidTo,
}

fn common(
    table: &mut TableCreateStatement,
    version: impl IntoIden,
    created: impl IntoIden,
    updated: impl IntoIden,
    archived: impl IntoIden,
) {
    table
        .col(ColumnDef::new(version).integer().not_null().default(1))
        .col(at(created).not_null())
        .col(at(updated).not_null())
        .col(at(archived).null());
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Tenant settings. One column per statement: SQLite alters one at a time.
        let tenant_columns = [
            ColumnDef::new(Tenant::Realm).string_len(32).null().take(),
            ColumnDef::new(Tenant::SuspensionPolicy)
                .string_len(16)
                .not_null()
                .default("reject")
                .take(),
            ColumnDef::new(Tenant::SuspensionTarget)
                .string_len(64)
                .null()
                .take(),
            ColumnDef::new(Tenant::DefaultBillingType)
                .string_len(16)
                .not_null()
                .default("prepaid")
                .take(),
            ColumnDef::new(Tenant::MobileCountry)
                .string_len(2)
                .null()
                .take(),
        ];
        for column in tenant_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tenant::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        unique(
            manager,
            "tenant_realm_key",
            Tenant::Table,
            &[Tenant::Realm],
            None,
        )
        .await?;

        // The last TOTP time step accepted per user: a code is never accepted twice (RFC 6238
        // section 5.2).
        manager
            .alter_table(
                Table::alter()
                    .table(StaffUser::Table)
                    .add_column(ColumnDef::new(StaffUser::TotpLastStep).big_integer().null())
                    .to_owned(),
            )
            .await?;

        // Routers (NAS). The RADIUS source address is unique on the installation: FreeRADIUS
        // tells clients apart by address. Secrets are sealed; `nas` holds the clear copy
        // FreeRADIUS needs.
        let mut router = Table::create();
        router
            .table(Router::Table)
            .col(id(Router::Id))
            .col(ColumnDef::new(Router::TenantId).big_integer().not_null())
            .col(ColumnDef::new(Router::Name).text().not_null())
            .col(ColumnDef::new(Router::NasAddress).string_len(45).not_null())
            .col(ColumnDef::new(Router::Secret).text().not_null())
            .col(ColumnDef::new(Router::ApiAddress).text().null())
            .col(
                ColumnDef::new(Router::ApiPort)
                    .integer()
                    .not_null()
                    .default(8728),
            )
            .col(ColumnDef::new(Router::ApiUser).text().null())
            .col(ColumnDef::new(Router::ApiPassword).text().null())
            .col(
                ColumnDef::new(Router::ApiTls)
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(ColumnDef::new(Router::TimeZone).text().null())
            .col(ColumnDef::new(Router::Notes).text().not_null().default(""));
        common(
            &mut router,
            Router::Version,
            Router::CreatedAt,
            Router::UpdatedAt,
            Router::ArchivedAt,
        );
        manager.create_table(router.to_owned()).await?;
        unique(
            manager,
            "router_nas_address_key",
            Router::Table,
            &[Router::NasAddress],
            Some(Router::ArchivedAt),
        )
        .await?;
        unique(
            manager,
            "router_tenant_name_key",
            Router::Table,
            &[Router::TenantId, Router::Name],
            Some(Router::ArchivedAt),
        )
        .await?;

        let mut zone = Table::create();
        zone.table(Zone::Table)
            .col(id(Zone::Id))
            .col(ColumnDef::new(Zone::TenantId).big_integer().not_null())
            .col(ColumnDef::new(Zone::Name).text().not_null())
            .col(ColumnDef::new(Zone::ParentId).big_integer().null());
        common(
            &mut zone,
            Zone::Version,
            Zone::CreatedAt,
            Zone::UpdatedAt,
            Zone::ArchivedAt,
        );
        manager.create_table(zone.to_owned()).await?;
        unique(
            manager,
            "zone_tenant_name_key",
            Zone::Table,
            &[Zone::TenantId, Zone::Name],
            Some(Zone::ArchivedAt),
        )
        .await?;

        // IP pools: the ranges as given (canonical text) and, for overlap checks, one row per
        // range with its first and last address as integers.
        let mut pool = Table::create();
        pool.table(IpPool::Table)
            .col(id(IpPool::Id))
            .col(ColumnDef::new(IpPool::TenantId).big_integer().not_null())
            .col(ColumnDef::new(IpPool::Name).string_len(64).not_null())
            .col(ColumnDef::new(IpPool::Ranges).text().not_null())
            .col(ColumnDef::new(IpPool::Capacity).big_integer().not_null());
        common(
            &mut pool,
            IpPool::Version,
            IpPool::CreatedAt,
            IpPool::UpdatedAt,
            IpPool::ArchivedAt,
        );
        manager.create_table(pool.to_owned()).await?;
        unique(
            manager,
            "ip_pool_tenant_name_key",
            IpPool::Table,
            &[IpPool::TenantId, IpPool::Name],
            Some(IpPool::ArchivedAt),
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(IpPoolRange::Table)
                    .col(id(IpPoolRange::Id))
                    .col(ColumnDef::new(IpPoolRange::PoolId).big_integer().not_null())
                    .col(
                        ColumnDef::new(IpPoolRange::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IpPoolRange::FirstAddress)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IpPoolRange::LastAddress)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ip_pool_range_tenant_idx",
            IpPoolRange::Table,
            &[IpPoolRange::TenantId, IpPoolRange::FirstAddress],
        )
        .await?;
        index(
            manager,
            "ip_pool_range_pool_idx",
            IpPoolRange::Table,
            &[IpPoolRange::PoolId],
        )
        .await?;
        // A static address is allocated once per tenant.
        manager
            .create_table(
                Table::create()
                    .table(IpAllocation::Table)
                    .col(id(IpAllocation::Id))
                    .col(
                        ColumnDef::new(IpAllocation::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IpAllocation::PoolId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IpAllocation::Address)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IpAllocation::CustomerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(at(IpAllocation::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ip_allocation_address_key",
            IpAllocation::Table,
            &[IpAllocation::TenantId, IpAllocation::Address],
            None,
        )
        .await?;
        unique(
            manager,
            "ip_allocation_customer_key",
            IpAllocation::Table,
            &[IpAllocation::CustomerId],
            None,
        )
        .await?;
        index(
            manager,
            "ip_allocation_pool_idx",
            IpAllocation::Table,
            &[IpAllocation::PoolId, IpAllocation::Address],
        )
        .await?;

        // Packages: `level` is master, operator or sub_operator; derived packages point at
        // their parent and their master, and take the service (rates, volume, validity,
        // pool) from the master.
        let mut package = Table::create();
        package
            .table(Package::Table)
            .col(id(Package::Id))
            .col(ColumnDef::new(Package::TenantId).big_integer().not_null())
            .col(ColumnDef::new(Package::Level).string_len(16).not_null())
            .col(ColumnDef::new(Package::ParentId).big_integer().null())
            .col(ColumnDef::new(Package::MasterId).big_integer().null())
            .col(ColumnDef::new(Package::OwnerId).big_integer().null())
            .col(ColumnDef::new(Package::Name).text().not_null())
            .col(
                ColumnDef::new(Package::ConnectionType)
                    .string_len(16)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Package::DownloadKbps)
                    .big_integer()
                    .not_null(),
            )
            .col(ColumnDef::new(Package::UploadKbps).big_integer().not_null())
            .col(
                ColumnDef::new(Package::BurstDownloadKbps)
                    .big_integer()
                    .null(),
            )
            .col(
                ColumnDef::new(Package::BurstUploadKbps)
                    .big_integer()
                    .null(),
            )
            .col(
                ColumnDef::new(Package::BurstThresholdDownloadKbps)
                    .big_integer()
                    .null(),
            )
            .col(
                ColumnDef::new(Package::BurstThresholdUploadKbps)
                    .big_integer()
                    .null(),
            )
            .col(ColumnDef::new(Package::BurstTimeSecs).integer().null())
            .col(ColumnDef::new(Package::VolumeBytes).big_integer().null())
            .col(
                ColumnDef::new(Package::ValidityMinutes)
                    .big_integer()
                    .not_null(),
            )
            .col(ColumnDef::new(Package::Price).big_integer().not_null())
            .col(
                ColumnDef::new(Package::CostPrice)
                    .big_integer()
                    .not_null()
                    .default(0),
            )
            .col(ColumnDef::new(Package::IpPoolId).big_integer().null())
            .col(
                ColumnDef::new(Package::Visibility)
                    .string_len(16)
                    .not_null(),
            )
            .col(ColumnDef::new(Package::Status).string_len(16).not_null());
        common(
            &mut package,
            Package::Version,
            Package::CreatedAt,
            Package::UpdatedAt,
            Package::ArchivedAt,
        );
        manager.create_table(package.to_owned()).await?;
        index(
            manager,
            "package_tenant_idx",
            Package::Table,
            &[Package::TenantId, Package::Level, Package::Id],
        )
        .await?;
        index(
            manager,
            "package_owner_idx",
            Package::Table,
            &[Package::OwnerId, Package::Id],
        )
        .await?;
        index(
            manager,
            "package_parent_idx",
            Package::Table,
            &[Package::ParentId],
        )
        .await?;
        unique(
            manager,
            "package_owner_parent_key",
            Package::Table,
            &[Package::OwnerId, Package::ParentId],
            Some(Package::ArchivedAt),
        )
        .await?;

        // Customers. `username_key` is the lower-cased user name, unique on the installation
        // among customers not archived; `customer_name` keeps every name a customer had, so
        // accounting maps to the right customer and freed names wait before reuse.
        let mut customer = Table::create();
        customer
            .table(Customer::Table)
            .col(id(Customer::Id))
            .col(ColumnDef::new(Customer::TenantId).big_integer().not_null())
            .col(ColumnDef::new(Customer::OperatorId).big_integer().null())
            .col(ColumnDef::new(Customer::SubOperatorId).big_integer().null())
            .col(ColumnDef::new(Customer::PackageId).big_integer().not_null())
            .col(
                ColumnDef::new(Customer::ConnectionType)
                    .string_len(16)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Customer::BillingType)
                    .string_len(16)
                    .not_null(),
            )
            .col(ColumnDef::new(Customer::Name).text().not_null())
            .col(ColumnDef::new(Customer::Mobile).string_len(20).null())
            .col(ColumnDef::new(Customer::Email).text().null())
            .col(
                ColumnDef::new(Customer::Address)
                    .text()
                    .not_null()
                    .default(""),
            )
            .col(ColumnDef::new(Customer::ZoneId).big_integer().null())
            .col(ColumnDef::new(Customer::RouterId).big_integer().null())
            .col(ColumnDef::new(Customer::Username).string_len(64).not_null())
            .col(
                ColumnDef::new(Customer::UsernameKey)
                    .string_len(64)
                    .not_null(),
            )
            .col(ColumnDef::new(Customer::Password).text().not_null())
            .col(ColumnDef::new(Customer::Status).string_len(16).not_null())
            .col(at(Customer::ExpiresAt).null())
            .col(ColumnDef::new(Customer::StaticIp).big_integer().null())
            .col(ColumnDef::new(Customer::IpPoolId).big_integer().null())
            .col(ColumnDef::new(Customer::Mac).string_len(17).null())
            .col(
                ColumnDef::new(Customer::SimultaneousUse)
                    .integer()
                    .not_null()
                    .default(1),
            )
            .col(
                ColumnDef::new(Customer::Comment)
                    .text()
                    .not_null()
                    .default(""),
            );
        common(
            &mut customer,
            Customer::Version,
            Customer::CreatedAt,
            Customer::UpdatedAt,
            Customer::ArchivedAt,
        );
        manager.create_table(customer.to_owned()).await?;
        unique(
            manager,
            "customer_username_key",
            Customer::Table,
            &[Customer::UsernameKey],
            Some(Customer::ArchivedAt),
        )
        .await?;
        unique(
            manager,
            "customer_mobile_key",
            Customer::Table,
            &[Customer::TenantId, Customer::Mobile],
            Some(Customer::ArchivedAt),
        )
        .await?;
        index(
            manager,
            "customer_mobile_idx",
            Customer::Table,
            &[Customer::Mobile],
        )
        .await?;
        index(
            manager,
            "customer_tenant_idx",
            Customer::Table,
            &[Customer::TenantId, Customer::Id],
        )
        .await?;
        index(
            manager,
            "customer_status_idx",
            Customer::Table,
            &[Customer::TenantId, Customer::Status, Customer::ExpiresAt],
        )
        .await?;
        index(
            manager,
            "customer_expiry_idx",
            Customer::Table,
            &[Customer::TenantId, Customer::ExpiresAt, Customer::Id],
        )
        .await?;
        index(
            manager,
            "customer_package_idx",
            Customer::Table,
            &[Customer::PackageId, Customer::Id],
        )
        .await?;
        index(
            manager,
            "customer_router_idx",
            Customer::Table,
            &[Customer::RouterId, Customer::Id],
        )
        .await?;
        index(
            manager,
            "customer_zone_idx",
            Customer::Table,
            &[Customer::ZoneId, Customer::Id],
        )
        .await?;
        index(
            manager,
            "customer_operator_idx",
            Customer::Table,
            &[Customer::OperatorId, Customer::Id],
        )
        .await?;
        index(
            manager,
            "customer_sub_operator_idx",
            Customer::Table,
            &[Customer::SubOperatorId, Customer::Id],
        )
        .await?;
        index(
            manager,
            "customer_static_ip_idx",
            Customer::Table,
            &[Customer::TenantId, Customer::StaticIp],
        )
        .await?;
        index(
            manager,
            "customer_mac_idx",
            Customer::Table,
            &[Customer::TenantId, Customer::Mac],
        )
        .await?;
        index(
            manager,
            "customer_username_prefix_idx",
            Customer::Table,
            &[Customer::UsernameKey, Customer::Id],
        )
        .await?;
        index(
            manager,
            "customer_name_sort_idx",
            Customer::Table,
            &[Customer::TenantId, Customer::Name, Customer::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CustomerName::Table)
                    .col(id(CustomerName::Id))
                    .col(
                        ColumnDef::new(CustomerName::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerName::CustomerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerName::Username)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerName::UsernameKey)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(at(CustomerName::ValidFrom).not_null())
                    .col(at(CustomerName::ValidTo).null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "customer_name_key_idx",
            CustomerName::Table,
            &[CustomerName::UsernameKey, CustomerName::ValidTo],
        )
        .await?;
        index(
            manager,
            "customer_name_customer_idx",
            CustomerName::Table,
            &[CustomerName::CustomerId],
        )
        .await?;

        // Name search of the customer list: trigrams on PostgreSQL, an FTS5 trigram index kept
        // by triggers on SQLite. Both serve `name contains …` without scanning the table.
        let conn = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                conn.execute_unprepared(
                    "CREATE EXTENSION IF NOT EXISTS pg_trgm;
                     CREATE INDEX customer_name_trgm_idx ON customer USING gin (lower(name) gin_trgm_ops);",
                )
                .await?;
            }
            _ => {
                conn.execute_unprepared(
                    "CREATE VIRTUAL TABLE customer_fts USING fts5(name, content='customer', content_rowid='id', tokenize='trigram');
                     CREATE TRIGGER customer_fts_insert AFTER INSERT ON customer BEGIN
                       INSERT INTO customer_fts(rowid, name) VALUES (new.id, new.name);
                     END;
                     CREATE TRIGGER customer_fts_delete AFTER DELETE ON customer BEGIN
                       INSERT INTO customer_fts(customer_fts, rowid, name) VALUES ('delete', old.id, old.name);
                     END;
                     CREATE TRIGGER customer_fts_update AFTER UPDATE OF name ON customer BEGIN
                       INSERT INTO customer_fts(customer_fts, rowid, name) VALUES ('delete', old.id, old.name);
                       INSERT INTO customer_fts(rowid, name) VALUES (new.id, new.name);
                     END;",
                )
                .await?;
            }
        }
        Ok(())
    }
}
