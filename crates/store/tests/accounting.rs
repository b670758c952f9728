//! `store::accounting::record` writes a batch as the records say in order, however it
//! groups them into statements: a session's Start, Interim-Update and Stop in one batch
//! end as one closed row with the Stop's counters; a router's Accounting-On in the middle
//! closes what started before it and not what starts after; a repeated Start does not open
//! a second row. On both engines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

use chrono::{DateTime, TimeZone as _, Utc};
use sea_orm::ConnectionTrait as _;
use store::Db;
use store::accounting::{AcctKind, AcctRecord, record};
use store::crypto::Keyring;
use testkit::{Backend, TestDb};

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap() + chrono::TimeDelta::seconds(seconds)
}

async fn migrated(backend: Backend) -> (TestDb, Db) {
    let keyring = || Keyring::parse(&Keyring::generate_line("t")).unwrap();
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

fn session(kind: AcctKind, id: &str, nas: &str, seconds: i64, octets: i64) -> AcctRecord {
    AcctRecord {
        kind,
        at: at(seconds),
        nas_ip: nas.into(),
        session_id: id.into(),
        unique_id: format!("u-{id}"),
        username: "alice".into(),
        nas_port_id: "1".into(),
        nas_port_type: "Ethernet".into(),
        session_time: (kind != AcctKind::Start).then_some(seconds),
        input_octets: octets,
        output_octets: octets * 2,
        called_station: String::new(),
        calling_station: String::new(),
        framed_ip: "10.0.0.9".into(),
        terminate_cause: if kind == AcctKind::Stop {
            "User-Request".into()
        } else {
            String::new()
        },
        tenant_id: None,
        customer_id: None,
    }
}

/// (session id, open or closed, input octets, terminate cause) per row, by session id.
async fn rows(db: &Db) -> Vec<(String, &'static str, i64, String)> {
    let backend = db.conn().get_database_backend();
    let found = db
        .conn()
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT acctsessionid, acctstoptime IS NULL, acctinputoctets, acctterminatecause \
             FROM radacct ORDER BY acctsessionid",
        ))
        .await
        .unwrap();
    found
        .iter()
        .map(|r| {
            let open: bool = r.try_get_by_index(1).unwrap();
            (
                r.try_get_by_index(0).unwrap(),
                if open { "open" } else { "closed" },
                r.try_get_by_index(2).unwrap(),
                r.try_get_by_index(3).unwrap(),
            )
        })
        .collect()
}

async fn a_batch_means_what_its_records_say_in_order(backend: Backend) {
    let (_test_db, db) = migrated(backend).await;
    let on = AcctRecord {
        kind: AcctKind::On,
        terminate_cause: "NAS-Reboot".into(),
        ..session(AcctKind::On, "", "10.0.0.1", 50, 0)
    };
    let batch = vec![
        session(AcctKind::Start, "a", "10.0.0.1", 0, 0),
        session(AcctKind::Interim, "a", "10.0.0.1", 30, 100),
        session(AcctKind::Start, "b", "10.0.0.1", 10, 0),
        session(AcctKind::Start, "b", "10.0.0.1", 10, 0),
        session(AcctKind::Start, "c", "10.0.0.2", 20, 0),
        session(AcctKind::Stop, "a", "10.0.0.1", 40, 300),
        on,
        session(AcctKind::Start, "d", "10.0.0.1", 60, 0),
        session(AcctKind::Interim, "c", "10.0.0.2", 70, 700),
    ];
    record(&db, &batch, &[]).await.unwrap();
    assert_eq!(
        rows(&db).await,
        vec![
            ("a".into(), "closed", 300, "User-Request".into()),
            ("b".into(), "closed", 0, "NAS-Reboot".into()),
            ("c".into(), "open", 700, String::new()),
            ("d".into(), "open", 0, String::new()),
        ]
    );
}

mod on_sqlite {
    #[tokio::test]
    async fn a_batch_means_what_its_records_say_in_order() {
        super::a_batch_means_what_its_records_say_in_order(super::Backend::Sqlite).await;
    }
}

mod on_postgres {
    #[tokio::test]
    async fn a_batch_means_what_its_records_say_in_order() {
        super::a_batch_means_what_its_records_say_in_order(super::Backend::Postgres).await;
    }
}
