//! The `radacct` table (FreeRADIUS's schema), as the sessions list pages it: the columns
//! both engines store alike (nullable where PostgreSQL's schema has them so). Its times (Unix seconds on SQLite, timestamps on PostgreSQL)
//! and addresses (`inet` on PostgreSQL) are read by `crate::session`, per engine.

use sea_orm::entity::prelude::*;

/// A session row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "radacct")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub radacctid: i64,
    pub tenant_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub username: Option<String>,
    pub acctsessionid: String,
    pub callingstationid: Option<String>,
    pub acctterminatecause: Option<String>,
    pub acctinputoctets: Option<i64>,
    pub acctoutputoctets: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
