//! Long work as jobs with what they work on: `upload` keeps a file a job reads (a customer
//! CSV), by content hash, until the job is done; `job.created_by` names the user who asked
//! for a job, so jobs are scoped like everything else (a reseller sees the jobs it
//! started, those who run a tenant see its jobs).

use sea_orm_migration::prelude::*;

use super::{at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Upload {
    Table,
    Id,
    TenantId,
    Kind,
    Sha256,
    Size,
    Content,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Job {
    Table,
    CreatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Upload::Table)
                    .col(id(Upload::Id))
                    .col(ColumnDef::new(Upload::TenantId).big_integer().null())
                    .col(ColumnDef::new(Upload::Kind).string_len(64).not_null())
                    .col(ColumnDef::new(Upload::Sha256).string_len(64).not_null())
                    .col(ColumnDef::new(Upload::Size).big_integer().not_null())
                    .col(ColumnDef::new(Upload::Content).blob().not_null())
                    .col(ColumnDef::new(Upload::CreatedBy).big_integer().null())
                    .col(at(Upload::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "upload_hash_idx",
            Upload::Table,
            &[Upload::TenantId, Upload::Sha256],
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Job::Table)
                    .add_column(ColumnDef::new(Job::CreatedBy).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Job::Table)
                    .drop_column(Job::CreatedBy)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Upload::Table).to_owned())
            .await
    }
}
