//! The ends of enforcements, written in batches: one writer task takes what the ladders
//! concluded within [`WINDOW`] of the first (at most [`BATCH`]) and writes them in one
//! transaction (`store::enforcement::conclude`); each ladder waits until its end is
//! committed. A package's new speed ends tens of thousands of enforcements within seconds,
//! and on SQLite each commit is a flush to disk: one commit per enforcement made the disk,
//! not the routers, the limit.

use std::time::Duration;

use store::Db;
use store::enforcement::Conclusion;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Ends written in one transaction at most.
pub const BATCH: usize = 256;

/// How long the writer waits for more ends after the first of a batch.
pub const WINDOW: Duration = Duration::from_millis(2);

/// Ends waiting for the writer at most; past that, ladders wait.
const QUEUE: usize = 4_096;

type Waiting = (Conclusion, oneshot::Sender<Result<(), String>>);

/// The writer's queue. The writer stops once every `Recorder` is dropped and the queue is
/// written.
#[derive(Debug, Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Waiting>,
}

impl Recorder {
    /// Starts the writer task.
    pub fn start(db: Db) -> (Recorder, JoinHandle<()>) {
        let (queue, waiting) = mpsc::channel(QUEUE);
        (Recorder { queue }, tokio::spawn(write(db, waiting)))
    }

    /// Queues `end`; returns once it is committed, or why it could not be.
    pub async fn conclude(&self, end: Conclusion) -> Result<(), String> {
        let (done, written) = oneshot::channel();
        self.queue
            .send((end, done))
            .await
            .map_err(|_| "the enforcement writer has stopped".to_owned())?;
        written
            .await
            .unwrap_or_else(|_| Err("the enforcement writer has stopped".to_owned()))
    }
}

async fn write(db: Db, mut waiting: mpsc::Receiver<Waiting>) {
    while let Some(first) = waiting.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + WINDOW;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, waiting.recv()).await {
                Ok(Some(next)) => batch.push(next),
                _ => break,
            }
        }
        let (ends, waiters): (Vec<Conclusion>, Vec<_>) = batch.into_iter().unzip();
        let written = store::enforcement::conclude(&db, &ends)
            .await
            .map_err(|e| e.to_string());
        if let Err(error) = &written {
            tracing::warn!(%error, ends = ends.len(), "enforcements not concluded; their jobs run again");
        }
        for waiter in waiters {
            let _ = waiter.send(written.clone());
        }
    }
}
