//! FreeRADIUS's `radcheck` and `radreply` tables (same columns), written by the projection,
//! and `radusergroup`, which the projection keeps empty for its customers.

/// `radcheck`.
pub mod radcheck {
    use sea_orm::entity::prelude::*;

    /// A check item.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "radcheck")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub username: String,
        pub attribute: String,
        pub op: String,
        pub value: String,
        pub tenant_id: Option<i64>,
        pub customer_id: Option<i64>,
        /// The VPN account the row is of (a customer's rows have none).
        pub vpn_account_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `radreply`.
pub mod radreply {
    use sea_orm::entity::prelude::*;

    /// A reply item.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "radreply")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub username: String,
        pub attribute: String,
        pub op: String,
        pub value: String,
        pub tenant_id: Option<i64>,
        pub customer_id: Option<i64>,
        /// The VPN account the row is of (a customer's rows have none).
        pub vpn_account_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `radusergroup`.
pub mod radusergroup {
    use sea_orm::entity::prelude::*;

    /// A user's membership of a group.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "radusergroup")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub username: String,
        pub groupname: String,
        pub priority: i32,
        pub tenant_id: Option<i64>,
        pub customer_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
