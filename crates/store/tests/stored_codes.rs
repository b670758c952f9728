//! Columns holding a closed set's code read as typed values on both engines, and a row
//! holding a code the set does not have is reported as an error naming the code and the
//! column when it is read, never taken for some default.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

use chrono::{DateTime, TimeZone as _, Utc};
use domain::customer::BillingType;
use domain::ids::{JobId, TenantId};
use domain::tenant::TenantStatus;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait as _, ConnectionTrait as _, DbErr, EntityTrait as _, QuerySelect as _,
};
use store::crypto::Keyring;
use store::entity::code::Stored;
use store::entity::tenant;
use store::job::{JobStatus, NewJob};
use store::{Db, StoreError};
use testkit::{Backend, TestDb};

/// The time the rows are written at (the clock is read at the edges, not in tests).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap()
}

fn keyring() -> Keyring {
    Keyring::parse(&Keyring::generate_line("t")).unwrap()
}

/// A fresh database on `backend`, migrated, and lastmile connected to it.
async fn migrated(backend: Backend) -> (TestDb, Db) {
    let test_db = testkit::db::fresh(
        backend,
        &store::migration::fingerprint(),
        |url| async move {
            let db = Db::connect(&url, 1, keyring())
                .await
                .map_err(|e| e.to_string())?;
            db.migrate().await.map_err(|e| e.to_string())?;
            db.close().await.map_err(|e| e.to_string())
        },
    )
    .await;
    let db = Db::connect(&test_db.url, 2, keyring()).await.unwrap();
    db.migrate().await.unwrap();
    (test_db, db)
}

/// A tenant row written straight to the table (no audit: this is about reading it back).
async fn a_tenant(db: &Db) -> i64 {
    let now = now();
    tenant::ActiveModel {
        id: NotSet,
        name: Set("Padma Net".into()),
        country: Set("BD".into()),
        currency: Set("BDT".into()),
        time_zone: Set("Asia/Dhaka".into()),
        owner_id: Set(None),
        currency_locked: Set(false),
        status: Set(Stored(TenantStatus::Active)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        realm: Set(Some("padma".into())),
        suspension_policy: Set("reject".into()),
        suspension_target: Set(None),
        default_billing_type: Set(Stored(BillingType::Postpaid)),
        mobile_country: Set(None),
        utc_offset_minutes: Set(0),
        billing_day: Set(1),
        due_days: Set(7),
        grace_days: Set(3),
        remind_days: Set(3),
        bin: Set(String::new()),
        address: Set(String::new()),
        sms_lang: Set("en".to_owned()),
        distributor_mobiles: Set(false),
    }
    .insert(db.conn())
    .await
    .unwrap()
    .id
}

/// Sets a text column of one row behind lastmile's back.
async fn overwrite(db: &Db, table: &str, column: &str, text: &str, id: i64) {
    db.conn()
        .execute_unprepared(&format!(
            "UPDATE {table} SET {column} = '{text}' WHERE id = {id}"
        ))
        .await
        .unwrap();
}

/// The decode error of an unknown code, with its message.
fn type_error(error: &DbErr) -> &str {
    match error {
        DbErr::Type(message) => message,
        other => panic!("expected a type error, got {other:?}"),
    }
}

async fn stored_codes_read_back_as_their_values(backend: Backend) {
    let (_test_db, db) = migrated(backend).await;
    let id = a_tenant(&db).await;

    let row = tenant::Entity::find_by_id(id)
        .one(db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, TenantStatus::Active);
    assert_eq!(row.default_billing_type, BillingType::Postpaid);
    // What the table holds is the code, as before.
    let text: Option<(String, String)> = tenant::Entity::find_by_id(id)
        .select_only()
        .column(tenant::Column::Status)
        .column(tenant::Column::DefaultBillingType)
        .into_tuple()
        .one(db.conn())
        .await
        .unwrap();
    assert_eq!(text, Some(("active".into(), "postpaid".into())));
}

async fn a_row_holding_an_unknown_status_fails_to_read_with_the_code_named(backend: Backend) {
    let (_test_db, db) = migrated(backend).await;
    let id = a_tenant(&db).await;
    overwrite(&db, "tenant", "status", "dormant", id).await;

    let error = tenant::Entity::find_by_id(id)
        .one(db.conn())
        .await
        .unwrap_err();
    assert_eq!(
        type_error(&error),
        "unknown tenant status \"dormant\" in column \"status\""
    );

    // The store's own reads say so too, instead of taking the tenant for archived.
    let archived = store::tenant::is_archived(db.conn(), TenantId(id)).await;
    assert!(
        matches!(&archived, Err(StoreError::Db(DbErr::Type(m))) if m.contains("\"dormant\"")),
        "{archived:?}"
    );
}

async fn a_job_holding_an_unknown_status_fails_to_read(backend: Backend) {
    let (_test_db, db) = migrated(backend).await;
    let now = now();
    let new = NewJob {
        kind: "test.noop",
        payload: serde_json::json!({}),
        run_at: now,
        dedupe_key: None,
        max_attempts: 1,
        tenant_id: None,
        created_by: None,
    };
    let JobId(id) = store::job::schedule(&db, new, now).await.unwrap().unwrap();
    let job = store::job::find(&db, JobId(id)).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Queued);

    overwrite(&db, "job", "status", "paused", id).await;
    let found = store::job::find(&db, JobId(id)).await;
    assert!(
        matches!(&found, Err(StoreError::Db(DbErr::Type(m)))
            if m == "unknown job status \"paused\" in column \"status\""),
        "{found:?}"
    );
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() { super::$name(super::Backend::Sqlite).await }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() { super::$name(super::Backend::Postgres).await }
            )*
        }
    };
}

both_backends!(
    stored_codes_read_back_as_their_values,
    a_row_holding_an_unknown_status_fails_to_read_with_the_code_named,
    a_job_holding_an_unknown_status_fails_to_read,
);
