//! A monthly PPPoE customer's own price (`customer.custom_price`, minor units; none: its
//! package's), which its postpaid invoices charge instead of the package's.

use sea_orm_migration::prelude::*;

use super::add_column as add;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customer {
    Table,
    CustomPrice,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            Customer::Table,
            ColumnDef::new(Customer::CustomPrice)
                .big_integer()
                .null()
                .take(),
        )
        .await
    }
}
