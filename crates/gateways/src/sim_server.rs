//! What the two simulators (the payment one, `sim`, and the SMS one, `sms::sim`) share of
//! running a server: serving a router on a spawned task until told to stop ([`Running`]),
//! and sending the notices or reports they plan from spawned tasks, one after another, each
//! retried after 100 ms, 300 ms and 1 s ([`Deliveries`], [`Deliverable`]). It owns the
//! server task, the delivery tasks and the HTTP client they send with; what is sent, how it
//! is signed and what counts as taken are each simulator's own.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{AbortHandle, JoinHandle};

/// How long one delivery attempt may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits before the retries of a failed delivery.
const BACKOFF: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(300),
    Duration::from_secs(1),
];

/// How long [`Running::shutdown`] lets requests in progress finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A poisoned lock means a panic mid-operation; every operation checks before it changes
/// anything, so the data is still consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A router served on a spawned task. Dropping it aborts the task.
pub(crate) struct Running {
    /// What runs, for the logs (`simulated gateway`).
    what: &'static str,
    /// The address it listens on.
    addr: SocketAddr,
    /// Tells the server to stop gracefully; dropped, it stops it too.
    stop: Option<oneshot::Sender<()>>,
    /// The server's task, until it is stopped.
    server: Option<JoinHandle<()>>,
}

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("what", &self.what)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

impl Running {
    /// Serves `router` on `listener` from a spawned task; `what` names it in the logs.
    pub(crate) fn serve(
        listener: TcpListener,
        router: Router,
        what: &'static str,
    ) -> io::Result<Running> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                // A dropped sender stops the server too.
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::warn!(%error, "{what} stopped");
            }
        });
        tracing::info!(%addr, "{what} listening");
        Ok(Running {
            what,
            addr,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// The address it listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving: requests in progress may finish for up to five seconds, after which
    /// the server is aborted.
    pub(crate) async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err() {
                tracing::warn!("{} did not stop in time", self.what);
                abort.abort();
            }
        }
    }
}

/// One planned delivery (a notice, a report): when it leaves and how one attempt at it is
/// made.
pub(crate) trait Deliverable: Send + Sync + 'static {
    /// How long to wait before its first attempt.
    fn delay(&self) -> Duration;

    /// Makes one attempt (`attempt` counts from 0); whether the receiver took it.
    fn attempt(&self, http: &reqwest::Client, attempt: usize) -> impl Future<Output = bool> + Send;

    /// Called when every attempt failed.
    fn give_up(&self);
}

/// The deliveries a simulator has sent on their way, and the client they go with.
#[derive(Debug)]
pub(crate) struct Deliveries {
    /// The client every delivery is made with.
    http: reqwest::Client,
    /// The tasks sending them; finished ones are pruned as new ones come.
    pending: Mutex<Vec<AbortHandle>>,
}

impl Deliveries {
    /// None yet, with a client whose requests time out after five seconds.
    pub(crate) fn new() -> io::Result<Deliveries> {
        let http = crate::client::http_client(DELIVERY_TIMEOUT).map_err(io::Error::other)?;
        Ok(Deliveries {
            http,
            pending: Mutex::new(Vec::new()),
        })
    }

    /// Sends `plan` from a spawned task, in order, each after its delay and with its
    /// retries; does nothing when it is empty.
    pub(crate) fn send<D: Deliverable>(&self, plan: Vec<D>) {
        if plan.is_empty() {
            return;
        }
        let task = tokio::spawn(run(self.http.clone(), plan));
        let mut pending = lock(&self.pending);
        pending.retain(|d| !d.is_finished());
        pending.push(task.abort_handle());
    }

    /// Abandons every delivery not yet made.
    pub(crate) fn abort_all(&self) {
        for delivery in lock(&self.pending).drain(..) {
            delivery.abort();
        }
    }
}

/// Makes every delivery of `plan` in order, each after its delay.
async fn run<D: Deliverable>(http: reqwest::Client, plan: Vec<D>) {
    for delivery in plan {
        tokio::time::sleep(delivery.delay()).await;
        if !deliver(&http, &delivery).await {
            delivery.give_up();
        }
    }
}

/// One delivery, with its retries; whether it was taken.
async fn deliver<D: Deliverable>(http: &reqwest::Client, delivery: &D) -> bool {
    let waits = std::iter::once(Duration::ZERO).chain(BACKOFF);
    for (attempt, wait) in waits.enumerate() {
        tokio::time::sleep(wait).await;
        if delivery.attempt(http, attempt).await {
            return true;
        }
    }
    false
}
