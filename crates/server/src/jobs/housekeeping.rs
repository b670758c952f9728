//! Housekeeping, hourly: deletes expired panel sessions, API tokens dead for a month,
//! idempotency keys older than a day, finished jobs older than a month, and files no job
//! came for within a week, and the session log's entries older than a day (PostgreSQL; a
//! node away longer loads the open sessions when it starts); and brings each tenant's UTC offset (the day usage is rolled up
//! to) to its zone's, as daylight saving time moves it; marks expired the recharge cards
//! past their date; deletes the captive portal's visits a day past their end, and the
//! sign-up wizard's drafts past their expiry, and the customers' own sessions past their
//! end.

use chrono::TimeDelta;
use serde_json::{Value, json};

use super::JobError;
use web::AppState;

/// The job kind.
pub const KIND: &str = "housekeeping.purge";

/// Runs one purge.
pub async fn run(state: &AppState) -> Result<Value, JobError> {
    let now = state.clock.now();
    let purged = store::auth::purge_expired(
        &state.db,
        now,
        now - TimeDelta::days(30),
        now - TimeDelta::days(1),
    )
    .await?;
    let jobs = store::job::purge_finished(&state.db, now - TimeDelta::days(30)).await?;
    let uploads = store::upload::purge(&state.db, now - TimeDelta::days(7)).await?;
    let offsets = store::tenant::refresh_utc_offsets(&state.db, now).await?;
    let session_events =
        store::aaa::purge_session_events(state.db.conn(), now - TimeDelta::days(1)).await?;
    let ctx = state.ctx();
    let cards = ops::card::expire_due(&ctx).await.map_err(super::from_op)?;
    let portal_visits =
        store::hotspot::drop_visits(state.db.conn(), now - TimeDelta::days(1)).await?;
    let signup_drafts = store::signup::purge_expired(&state.db, now).await?;
    let customer_sessions = store::selfcare::purge(state.db.conn(), now).await?;
    Ok(json!({
        "portal_visits": portal_visits,
        "signup_drafts": signup_drafts,
        "customer_sessions": customer_sessions,
        "cards_expired": cards,
        "sessions": purged.sessions,
        "tokens": purged.tokens,
        "idempotency_keys": purged.idempotency_keys,
        "jobs": jobs,
        "uploads": uploads,
        "utc_offsets": offsets,
        "session_events": session_events,
    }))
}
