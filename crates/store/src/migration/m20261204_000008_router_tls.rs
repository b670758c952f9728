//! How lastmile trusts a router's API-SSL certificate: the host's trust store (`system`, the
//! default, as before), a pinned SHA-256 fingerprint (`pinned`: self-signed router
//! certificates), or the ISP's own CA given as PEM (`ca`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Router {
    Table,
    ApiTlsTrust,
    ApiTlsFingerprint,
    ApiTlsCa,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            ColumnDef::new(Router::ApiTlsTrust)
                .string_len(16)
                .not_null()
                .default("system")
                .to_owned(),
            ColumnDef::new(Router::ApiTlsFingerprint)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(Router::ApiTlsCa).text().null().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Router::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Router::ApiTlsTrust,
            Router::ApiTlsFingerprint,
            Router::ApiTlsCa,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Router::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
