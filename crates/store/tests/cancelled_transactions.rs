//! A transaction whose future is dropped part way (a client that hung up, a timeout, an
//! aborted job) leaves nothing open on the pooled connection: the next borrower's write
//! commits on its own and is seen at once by another connection. The drop is tried at every
//! point of the `BEGIN` round trip and of the work inside the transaction, on one pooled
//! connection so that each borrower gets the connection the dropped transaction used.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use rand::{RngExt as _, SeedableRng as _};
use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
use store::Db;
use store::crypto::Keyring;
use testkit::{Backend, TestDb};

fn keyring() -> Keyring {
    Keyring::parse(&Keyring::generate_line("t")).unwrap()
}

/// A fresh database on `backend` with a table of numbers, and two pools on it: one of a
/// single connection to cancel transactions on, one to read from.
async fn two_pools(backend: Backend) -> (TestDb, Db, Db) {
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
    let writer = Db::connect(&test_db.url, 1, keyring()).await.unwrap();
    writer
        .conn()
        .execute_unprepared("CREATE TABLE probe (n BIGINT NOT NULL)")
        .await
        .unwrap();
    let reader = Db::connect(&test_db.url, 1, keyring()).await.unwrap();
    (test_db, writer, reader)
}

/// Polls `work` `polls` times, letting the runtime's IO driver run between polls, and
/// drops it unfinished if it has not finished by then. True when it finished.
async fn poll_then_drop(work: impl Future<Output = ()>, polls: u32) -> bool {
    let mut work: Pin<Box<_>> = Box::pin(work);
    for _ in 0..polls {
        let done = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx).is_ready())).await;
        if done {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

async fn a_dropped_transaction_leaves_the_connection_clean(backend: Backend) {
    let (_test_db, writer, reader) = two_pools(backend).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (mut dropped, mut finished) = (0, 0);
    for n in 1..=400_i64 {
        // Half the tries are cut short after a few polls, somewhere in the BEGIN round trip
        // or the work (after one poll, always: no answer comes back within it); the other
        // half may finish.
        let polls = if rng.random_bool(0.5) {
            rng.random_range(1..=8)
        } else {
            u32::MAX
        };
        let conn = writer.conn();
        let work = async move {
            let Ok(tx) = conn.begin().await else { return };
            // Work inside the transaction that must never be seen: it is rolled back.
            let _ = tx
                .execute_unprepared("INSERT INTO probe (n) VALUES (-1)")
                .await;
            let _ = tx.execute_unprepared("SELECT count(*) FROM probe").await;
        };
        if poll_then_drop(work, polls).await {
            finished += 1;
        } else {
            dropped += 1;
        }
        // The next borrower writes on its own, outside any transaction…
        writer
            .conn()
            .execute_unprepared(&format!("INSERT INTO probe (n) VALUES ({n})"))
            .await
            .unwrap();
        // …and another connection sees every such write and none of the dropped work.
        let row = reader
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(
                reader.conn().get_database_backend(),
                "SELECT count(*) AS c, min(n) AS low FROM probe",
            ))
            .await
            .unwrap()
            .unwrap();
        let count: i64 = row.try_get("", "c").unwrap();
        let low: i64 = row.try_get("", "low").unwrap();
        assert_eq!(
            (count, low),
            (n, 1),
            "after {n} tries ({dropped} dropped, the last after {polls} polls), the writes \
             another connection sees"
        );
    }
    assert!(
        dropped >= 10 && finished >= 100,
        "some tries should be cut short and some finish: {dropped} dropped, {finished} finished"
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

both_backends!(a_dropped_transaction_leaves_the_connection_clean);
