//! The staff sign-up wizard's drafts: `signup_draft`, one row per sign-up in progress (its
//! tenant, the staff member who started it, the step reached, the values typed as JSON, the
//! customer's password sealed apart, and when it expires). A draft is gone once its customer
//! is created (in that transaction) or discarded, and the hourly housekeeping deletes those
//! past `expires_at`. Listed by tenant and author, newest first; purged by expiry.

use sea_orm_migration::prelude::*;

use super::{at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum SignupDraft {
    Table,
    Id,
    TenantId,
    AuthorId,
    Step,
    Values,
    Secret,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SignupDraft::Table)
                    .col(id(SignupDraft::Id))
                    .col(
                        ColumnDef::new(SignupDraft::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SignupDraft::AuthorId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SignupDraft::Step).string_len(16).not_null())
                    .col(ColumnDef::new(SignupDraft::Values).text().not_null())
                    // The customer's password, sealed (`store::crypto`); absent until typed.
                    .col(ColumnDef::new(SignupDraft::Secret).text().null())
                    .col(at(SignupDraft::CreatedAt).not_null())
                    .col(at(SignupDraft::UpdatedAt).not_null())
                    .col(at(SignupDraft::ExpiresAt).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "signup_draft_tenant_author",
            SignupDraft::Table,
            &[
                SignupDraft::TenantId,
                SignupDraft::AuthorId,
                SignupDraft::UpdatedAt,
            ],
        )
        .await?;
        index(
            manager,
            "signup_draft_expires",
            SignupDraft::Table,
            &[SignupDraft::ExpiresAt],
        )
        .await
    }
}
