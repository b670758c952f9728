//! Where the built-in server reads the time: the application's clock, handed in as a
//! function (the `aaa` crate does not depend on `ops`, where the clock lives).

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// Now, as the application's clock says.
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;
