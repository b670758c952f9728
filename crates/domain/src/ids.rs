//! Typed identifiers. Every table's primary key is a 64-bit integer given by the database;
//! these newtypes keep a tenant id from being passed where a user id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A tenant: one ISP business.
    TenantId
);
id_type!(
    /// A staff user (levels 0 to 90).
    UserId
);
id_type!(
    /// An entry of the audit log.
    AuditId
);
id_type!(
    /// A background job.
    JobId
);
