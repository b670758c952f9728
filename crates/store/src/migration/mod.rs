//! Embedded migrations, run on start and by `lastmile migrate`. A landed migration is never
//! edited: a change to the schema is a new migration appended to [`Migrator::migrations`].
//!
//! lastmile's own tables are built with sea-query so that one definition serves SQLite and
//! PostgreSQL (and, later, MySQL); the FreeRADIUS tables are written per backend because
//! FreeRADIUS's own schema differs per backend and ours must match it column for column.

use sea_orm_migration::prelude::*;

mod m20261123_000001_platform;
mod m20261123_000002_freeradius;
mod m20261124_000003_isp;
mod m20261124_000004_list_indexes;
mod m20261204_000005_package_visibility;
mod m20261204_000006_job_uploads;
mod m20261204_000007_search_indexes;
mod m20261204_000008_router_tls;
mod m20261205_000009_list_access;
mod m20261206_000010_list_ids;
mod m20261207_000011_reseller_status;
mod m20261207_000012_prefix_ids;
mod m20261208_000013_name_key;
mod m20261208_000014_radacct_stale;
mod m20261208_000015_router_message_authenticator;
mod m20261209_000016_sessions_usage;
mod m20261209_000017_enforcement;
mod m20261210_000018_fair_usage;
mod m20261211_000019_session_log;
mod m20261212_000020_radacct_indexes;
mod m20261212_000021_radacct_trigger_plans;
mod m20261213_000022_ledger;
mod m20261213_000023_credit_cover;
mod m20261213_000024_receipts;
mod m20261213_000025_vat_rates;
mod m20261213_000026_ledger_period_index;
mod m20261213_000027_floor_set_at;
mod m20261214_000028_billing_runs;
mod m20261214_000029_online_payments;
mod m20261215_000030_credit_notes;
mod m20261215_000031_custom_price;
mod m20261216_000032_router_provisioning;
mod m20261216_000033_router_health;
mod m20261217_000034_router_migration;
mod m20261218_000035_vpn;
mod m20261220_000036_cards;
mod m20261221_000037_sms;
mod m20261222_000038_hotspot;
mod m20261223_000039_sms_templates;
mod m20261224_000040_sms_sending;
mod m20261225_000041_distributor_mobiles;
mod m20261226_000042_card_accounts;
mod m20261227_000043_traffic;
mod m20261227_000044_custom_fields;
mod m20261228_000045_signup_drafts;
mod m20261229_000046_customer_sessions;

/// The migration list.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_platform::Migration),
            Box::new(m20261123_000002_freeradius::Migration),
            Box::new(m20261124_000003_isp::Migration),
            Box::new(m20261124_000004_list_indexes::Migration),
            Box::new(m20261204_000005_package_visibility::Migration),
            Box::new(m20261204_000006_job_uploads::Migration),
            Box::new(m20261204_000007_search_indexes::Migration),
            Box::new(m20261204_000008_router_tls::Migration),
            Box::new(m20261205_000009_list_access::Migration),
            Box::new(m20261206_000010_list_ids::Migration),
            Box::new(m20261207_000011_reseller_status::Migration),
            Box::new(m20261207_000012_prefix_ids::Migration),
            Box::new(m20261208_000013_name_key::Migration),
            Box::new(m20261208_000014_radacct_stale::Migration),
            Box::new(m20261208_000015_router_message_authenticator::Migration),
            Box::new(m20261209_000016_sessions_usage::Migration),
            Box::new(m20261209_000017_enforcement::Migration),
            Box::new(m20261210_000018_fair_usage::Migration),
            Box::new(m20261211_000019_session_log::Migration),
            Box::new(m20261212_000020_radacct_indexes::Migration),
            Box::new(m20261212_000021_radacct_trigger_plans::Migration),
            Box::new(m20261213_000022_ledger::Migration),
            Box::new(m20261213_000023_credit_cover::Migration),
            Box::new(m20261213_000024_receipts::Migration),
            Box::new(m20261213_000025_vat_rates::Migration),
            Box::new(m20261213_000026_ledger_period_index::Migration),
            Box::new(m20261213_000027_floor_set_at::Migration),
            Box::new(m20261214_000028_billing_runs::Migration),
            Box::new(m20261214_000029_online_payments::Migration),
            Box::new(m20261215_000030_credit_notes::Migration),
            Box::new(m20261215_000031_custom_price::Migration),
            Box::new(m20261216_000032_router_provisioning::Migration),
            Box::new(m20261216_000033_router_health::Migration),
            Box::new(m20261217_000034_router_migration::Migration),
            Box::new(m20261218_000035_vpn::Migration),
            Box::new(m20261220_000036_cards::Migration),
            Box::new(m20261221_000037_sms::Migration),
            Box::new(m20261222_000038_hotspot::Migration),
            Box::new(m20261223_000039_sms_templates::Migration),
            Box::new(m20261224_000040_sms_sending::Migration),
            Box::new(m20261225_000041_distributor_mobiles::Migration),
            Box::new(m20261226_000042_card_accounts::Migration),
            Box::new(m20261227_000043_traffic::Migration),
            Box::new(m20261227_000044_custom_fields::Migration),
            Box::new(m20261228_000045_signup_drafts::Migration),
            Box::new(m20261229_000046_customer_sessions::Migration),
        ]
    }
}

/// A big-integer primary key that the database numbers.
pub(crate) fn id(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

/// A timestamp with time zone, stored in UTC.
pub(crate) fn at(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).timestamp_with_time_zone().take()
}

/// An index on `columns` of `table`.
pub(crate) async fn index<T: Iden + Clone + 'static, C: Iden + Clone + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column.clone());
    }
    manager.create_index(index.to_owned()).await
}

/// Adds `column` to `table` (one column per statement: SQLite alters one at a time).
pub(crate) async fn add_column(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).add_column(column).to_owned())
        .await
}

/// A unique index, only over rows not archived when `live` names the archive column.
pub(crate) async fn unique<T: Iden + Clone + 'static, C: Iden + Clone + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
    live: Option<C>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for column in columns {
        index.col(column.clone());
    }
    if let Some(archived) = live {
        index.and_where(Expr::col(archived).is_null());
    }
    manager.create_index(index.to_owned()).await
}

/// A short name of the schema the migrations build: changes whenever a migration is added
/// (landed migrations never change), so tests can keep one migrated template per schema.
pub fn fingerprint() -> String {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let joined = names.join(",");
    // FNV-1a: a stable, dependency-free digest is enough to tell schemas apart.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in joined.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}
