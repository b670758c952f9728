//! The platform tables: tenants, staff users, panel sessions, API tokens, the audit log, the
//! AAA change log, jobs and idempotency keys.

use sea_orm_migration::prelude::*;

use super::{at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Tenant {
    Table,
    Id,
    Name,
    Country,
    Currency,
    TimeZone,
    OwnerId,
    CurrencyLocked,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StaffUser {
    Table,
    Id,
    TenantId,
    Email,
    Name,
    Role,
    ParentId,
    Permissions,
    PasswordHash,
    TotpSecret,
    TotpEnabled,
    Status,
    Version,
    LastLoginAt,
    CreatedAt,
    UpdatedAt,
    ArchivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Session {
    Table,
    Id,
    UserId,
    Stage,
    Csrf,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiToken {
    Table,
    Id,
    UserId,
    TokenHash,
    Name,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    At,
    TenantId,
    ActorId,
    ActorLabel,
    Action,
    Entity,
    EntityId,
    Before,
    After,
    Ip,
}

#[derive(DeriveIden, Clone, Copy)]
enum AaaChange {
    Table,
    Seq,
    At,
    TenantId,
    CustomerId,
    Kind,
}

#[derive(DeriveIden, Clone, Copy)]
enum Job {
    Table,
    Id,
    Kind,
    Payload,
    Status,
    RunAt,
    Attempts,
    MaxAttempts,
    LockedBy,
    LockedUntil,
    DedupeKey,
    Progress,
    Result,
    LastError,
    TenantId,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IdempotencyKey {
    Table,
    Id,
    UserId,
    Key,
    RequestHash,
    StatusCode,
    ResponseBody,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Tenants. `owner_id` is the Super Admin that created the tenant (no foreign key: the
        // two tables refer to each other). `currency_locked` turns true with the first priced
        // record under the tenant.
        manager
            .create_table(
                Table::create()
                    .table(Tenant::Table)
                    .col(id(Tenant::Id))
                    .col(ColumnDef::new(Tenant::Name).text().not_null())
                    .col(ColumnDef::new(Tenant::Country).string_len(2).not_null())
                    .col(ColumnDef::new(Tenant::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Tenant::TimeZone).text().not_null())
                    .col(ColumnDef::new(Tenant::OwnerId).big_integer().null())
                    .col(
                        ColumnDef::new(Tenant::CurrencyLocked)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Tenant::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Tenant::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(at(Tenant::CreatedAt).not_null())
                    .col(at(Tenant::UpdatedAt).not_null())
                    .col(at(Tenant::ArchivedAt).null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "tenant_owner_idx",
            Tenant::Table,
            &[Tenant::OwnerId],
        )
        .await?;
        index(manager, "tenant_name_idx", Tenant::Table, &[Tenant::Name]).await?;

        // Staff users (levels 0 to 90). `role` is the level of design.md §3. The e-mail is
        // stored lower-cased and unique among users that are not archived.
        manager
            .create_table(
                Table::create()
                    .table(StaffUser::Table)
                    .col(id(StaffUser::Id))
                    .col(ColumnDef::new(StaffUser::TenantId).big_integer().null())
                    .col(ColumnDef::new(StaffUser::Email).text().not_null())
                    .col(ColumnDef::new(StaffUser::Name).text().not_null())
                    .col(ColumnDef::new(StaffUser::Role).small_integer().not_null())
                    .col(ColumnDef::new(StaffUser::ParentId).big_integer().null())
                    .col(
                        ColumnDef::new(StaffUser::Permissions)
                            .text()
                            .not_null()
                            .default("[]"),
                    )
                    .col(ColumnDef::new(StaffUser::PasswordHash).text().not_null())
                    .col(ColumnDef::new(StaffUser::TotpSecret).text().null())
                    .col(
                        ColumnDef::new(StaffUser::TotpEnabled)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(StaffUser::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(StaffUser::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(at(StaffUser::LastLoginAt).null())
                    .col(at(StaffUser::CreatedAt).not_null())
                    .col(at(StaffUser::UpdatedAt).not_null())
                    .col(at(StaffUser::ArchivedAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("staff_user_tenant_fk")
                            .from(StaffUser::Table, StaffUser::TenantId)
                            .to(Tenant::Table, Tenant::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("staff_user_parent_fk")
                            .from(StaffUser::Table, StaffUser::ParentId)
                            .to(StaffUser::Table, StaffUser::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_user_email_key")
                    .table(StaffUser::Table)
                    .col(StaffUser::Email)
                    .unique()
                    .and_where(Expr::col(StaffUser::ArchivedAt).is_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "staff_user_tenant_idx",
            StaffUser::Table,
            &[StaffUser::TenantId, StaffUser::Role],
        )
        .await?;
        index(
            manager,
            "staff_user_parent_idx",
            StaffUser::Table,
            &[StaffUser::ParentId],
        )
        .await?;

        // Panel sessions: the id is the SHA-256 of the cookie's token.
        manager
            .create_table(
                Table::create()
                    .table(Session::Table)
                    .col(
                        ColumnDef::new(Session::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Session::UserId).big_integer().not_null())
                    .col(ColumnDef::new(Session::Stage).string_len(16).not_null())
                    .col(ColumnDef::new(Session::Csrf).string_len(64).not_null())
                    .col(at(Session::CreatedAt).not_null())
                    .col(at(Session::LastSeenAt).not_null())
                    .col(at(Session::ExpiresAt).not_null())
                    .col(ColumnDef::new(Session::Ip).text().null())
                    .col(ColumnDef::new(Session::UserAgent).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("session_user_fk")
                            .from(Session::Table, Session::UserId)
                            .to(StaffUser::Table, StaffUser::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "session_user_idx",
            Session::Table,
            &[Session::UserId],
        )
        .await?;
        index(
            manager,
            "session_expires_idx",
            Session::Table,
            &[Session::ExpiresAt],
        )
        .await?;

        // API bearer tokens, stored as SHA-256 hashes.
        manager
            .create_table(
                Table::create()
                    .table(ApiToken::Table)
                    .col(id(ApiToken::Id))
                    .col(ColumnDef::new(ApiToken::UserId).big_integer().not_null())
                    .col(
                        ColumnDef::new(ApiToken::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ApiToken::Name).text().not_null())
                    .col(at(ApiToken::CreatedAt).not_null())
                    .col(at(ApiToken::LastUsedAt).null())
                    .col(at(ApiToken::ExpiresAt).not_null())
                    .col(at(ApiToken::RevokedAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("api_token_user_fk")
                            .from(ApiToken::Table, ApiToken::UserId)
                            .to(StaffUser::Table, StaffUser::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "api_token_user_idx",
            ApiToken::Table,
            &[ApiToken::UserId],
        )
        .await?;

        // The audit log: append-only, one row per change, with the state before and after
        // as JSON text. No foreign keys: an entry outlives anything it names.
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(id(AuditLog::Id))
                    .col(at(AuditLog::At).not_null())
                    .col(ColumnDef::new(AuditLog::TenantId).big_integer().null())
                    .col(ColumnDef::new(AuditLog::ActorId).big_integer().null())
                    .col(ColumnDef::new(AuditLog::ActorLabel).text().not_null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditLog::Entity).string_len(32).not_null())
                    .col(ColumnDef::new(AuditLog::EntityId).big_integer().null())
                    .col(ColumnDef::new(AuditLog::Before).text().null())
                    .col(ColumnDef::new(AuditLog::After).text().null())
                    .col(ColumnDef::new(AuditLog::Ip).text().null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "audit_log_tenant_idx",
            AuditLog::Table,
            &[AuditLog::TenantId, AuditLog::Id],
        )
        .await?;
        index(
            manager,
            "audit_log_actor_idx",
            AuditLog::Table,
            &[AuditLog::ActorId, AuditLog::Id],
        )
        .await?;
        index(
            manager,
            "audit_log_entity_idx",
            AuditLog::Table,
            &[AuditLog::Entity, AuditLog::EntityId],
        )
        .await?;
        index(
            manager,
            "audit_log_at_idx",
            AuditLog::Table,
            &[AuditLog::At],
        )
        .await?;

        // The AAA change log (design.md §2): a monotonic sequence of "what the AAA decision
        // says for this subscriber may have changed", followed by the built-in RADIUS server
        // and by other nodes.
        manager
            .create_table(
                Table::create()
                    .table(AaaChange::Table)
                    .col(id(AaaChange::Seq))
                    .col(at(AaaChange::At).not_null())
                    .col(ColumnDef::new(AaaChange::TenantId).big_integer().null())
                    .col(ColumnDef::new(AaaChange::CustomerId).big_integer().null())
                    .col(ColumnDef::new(AaaChange::Kind).string_len(32).not_null())
                    .to_owned(),
            )
            .await?;

        // Jobs (design.md §6).
        manager
            .create_table(
                Table::create()
                    .table(Job::Table)
                    .col(id(Job::Id))
                    .col(ColumnDef::new(Job::Kind).string_len(64).not_null())
                    .col(ColumnDef::new(Job::Payload).text().not_null())
                    .col(ColumnDef::new(Job::Status).string_len(16).not_null())
                    .col(at(Job::RunAt).not_null())
                    .col(
                        ColumnDef::new(Job::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Job::MaxAttempts).integer().not_null())
                    .col(ColumnDef::new(Job::LockedBy).text().null())
                    .col(at(Job::LockedUntil).null())
                    .col(ColumnDef::new(Job::DedupeKey).text().null().unique_key())
                    .col(ColumnDef::new(Job::Progress).text().null())
                    .col(ColumnDef::new(Job::Result).text().null())
                    .col(ColumnDef::new(Job::LastError).text().null())
                    .col(ColumnDef::new(Job::TenantId).big_integer().null())
                    .col(at(Job::CreatedAt).not_null())
                    .col(at(Job::UpdatedAt).not_null())
                    .col(at(Job::FinishedAt).null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "job_due_idx",
            Job::Table,
            &[Job::Status, Job::RunAt],
        )
        .await?;
        index(
            manager,
            "job_tenant_idx",
            Job::Table,
            &[Job::TenantId, Job::Id],
        )
        .await?;

        // Idempotency keys of API POSTs: the answer given to (user, key), replayed for a
        // repeat with the same body. `status_code` is null while the first request runs.
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .col(id(IdempotencyKey::Id))
                    .col(
                        ColumnDef::new(IdempotencyKey::UserId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdempotencyKey::Key).text().not_null())
                    .col(
                        ColumnDef::new(IdempotencyKey::RequestHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKey::StatusCode)
                            .small_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(IdempotencyKey::ResponseBody).text().null())
                    .col(at(IdempotencyKey::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idempotency_key_user_key")
                    .table(IdempotencyKey::Table)
                    .col(IdempotencyKey::UserId)
                    .col(IdempotencyKey::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idempotency_key_created_idx",
            IdempotencyKey::Table,
            &[IdempotencyKey::CreatedAt],
        )
        .await?;
        Ok(())
    }
}
