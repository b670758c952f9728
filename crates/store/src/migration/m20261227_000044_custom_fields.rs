//! Custom fields on customers: `custom_field`, a tenant's field definitions (key unique in
//! the tenant, label, kind, the options of a select field as a JSON array, required, shown
//! in the list, position, active; versioned), and `customer_field_value`, one row per
//! customer and field that has a value: the value as stored and its index key
//! (`domain::custom_field::FieldValue::key`). The customer list's filter reads
//! `(field_id, value_key, customer_id)` as a range (an exact key, or a prefix of a text:
//! on PostgreSQL through `text_pattern_ops`, so `LIKE 'p%'` is a range whatever the
//! database's collation), and looks a customer's value up by the primary key
//! `(customer_id, field_id)`.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

use super::{at, id, index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum CustomField {
    Table,
    Id,
    TenantId,
    Key,
    Label,
    Kind,
    Options,
    Required,
    InList,
    Position,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum CustomerFieldValue {
    Table,
    CustomerId,
    FieldId,
    TenantId,
    Value,
    ValueKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomField::Table)
                    .col(id(CustomField::Id))
                    .col(
                        ColumnDef::new(CustomField::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CustomField::Key).text().not_null())
                    .col(ColumnDef::new(CustomField::Label).text().not_null())
                    .col(ColumnDef::new(CustomField::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(CustomField::Options).text().not_null())
                    .col(ColumnDef::new(CustomField::Required).boolean().not_null())
                    .col(ColumnDef::new(CustomField::InList).boolean().not_null())
                    .col(ColumnDef::new(CustomField::Position).integer().not_null())
                    .col(ColumnDef::new(CustomField::Active).boolean().not_null())
                    .col(ColumnDef::new(CustomField::Version).integer().not_null())
                    .col(at(CustomField::CreatedAt).not_null())
                    .col(at(CustomField::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "custom_field_key",
            CustomField::Table,
            &[CustomField::TenantId, CustomField::Key],
            None,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(CustomerFieldValue::Table)
                    .col(
                        ColumnDef::new(CustomerFieldValue::CustomerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerFieldValue::FieldId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerFieldValue::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CustomerFieldValue::Value).text().not_null())
                    .col(
                        ColumnDef::new(CustomerFieldValue::ValueKey)
                            .text()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(CustomerFieldValue::CustomerId)
                            .col(CustomerFieldValue::FieldId),
                    )
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        if conn.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared(
                "CREATE INDEX customer_field_value_key_idx ON customer_field_value \
                   (field_id, value_key text_pattern_ops, customer_id);",
            )
            .await?;
        } else {
            index(
                manager,
                "customer_field_value_key_idx",
                CustomerFieldValue::Table,
                &[
                    CustomerFieldValue::FieldId,
                    CustomerFieldValue::ValueKey,
                    CustomerFieldValue::CustomerId,
                ],
            )
            .await?;
        }
        Ok(())
    }
}
