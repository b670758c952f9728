//! `router.require_message_authenticator`: whether the built-in RADIUS server refuses this
//! router's Access-Requests without a valid Message-Authenticator (the defence against
//! BlastRADIUS). On for every router, those already there included; an operator turns it
//! off only for a NAS too old to send one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Router {
    Table,
    RequireMessageAuthenticator,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Router::Table)
                    .add_column(
                        ColumnDef::new(Router::RequireMessageAuthenticator)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .to_owned(),
            )
            .await
    }
}
