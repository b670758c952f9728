//! FreeRADIUS's `nas` table (our DDL, its columns), written from `router`.

use sea_orm::entity::prelude::*;

/// A RADIUS client as FreeRADIUS reads it with `read_clients = yes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nas")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub nasname: String,
    pub shortname: Option<String>,
    #[sea_orm(column_name = "type")]
    pub nas_type: Option<String>,
    pub ports: Option<i32>,
    pub secret: String,
    pub server: Option<String>,
    pub community: Option<String>,
    pub description: Option<String>,
    pub tenant_id: Option<i64>,
    pub router_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
