//! How hard the enforcement ladder may press one router, whatever jobs ask at once: at most
//! [`Limits::concurrency`] requests in flight to it and [`Limits::per_second`] started per
//! second (evenly spaced). A package's new speed sends a CoA to every online customer: ten
//! thousand at once would flood a router's RADIUS client and its CPU, and a router that does
//! not answer would hold every worker on its timeouts. Each router has its own gate, so a
//! slow or dead router does not hold back the others. The gates are per process (each node
//! presses the router within its own limits).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The limits of each router's gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests in flight to one router at most (at least 1).
    pub concurrency: u32,
    /// Requests started per second to one router at most; 0 for no pacing.
    pub per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            concurrency: 16,
            per_second: 200,
        }
    }
}

/// Every router's gate, made on first use.
#[derive(Debug, Default)]
pub struct Gates {
    limits: Limits,
    routers: Mutex<HashMap<i64, Arc<Gate>>>,
}

#[derive(Debug)]
struct Gate {
    in_flight: Arc<Semaphore>,
    /// When the next request may start.
    next: Mutex<Instant>,
}

/// Leave to talk to a router; dropping it frees its place.
#[derive(Debug)]
pub struct Pass {
    _permit: OwnedSemaphorePermit,
}

impl Gates {
    /// Gates with these limits.
    pub fn new(limits: Limits) -> Gates {
        Gates {
            limits,
            routers: Mutex::new(HashMap::new()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Waits for a place at router `router`'s gate and for its next start.
    pub async fn enter(&self, router: i64) -> Pass {
        let gate = {
            let mut routers = self
                .routers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(routers.entry(router).or_insert_with(|| {
                Arc::new(Gate {
                    in_flight: Arc::new(Semaphore::new(self.limits.concurrency.max(1) as usize)),
                    next: Mutex::new(Instant::now()),
                })
            }))
        };
        let permit = Arc::clone(&gate.in_flight)
            .acquire_owned()
            .await
            .unwrap_or_else(|_| unreachable!("a gate's semaphore is never closed"));
        if self.limits.per_second > 0 {
            let spacing = Duration::from_secs(1) / self.limits.per_second;
            let start = {
                let mut next = gate
                    .next
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let start = (*next).max(Instant::now());
                *next = start + spacing;
                start
            };
            tokio::time::sleep_until(start).await;
        }
        Pass { _permit: permit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_router_gets_its_requests_spaced_and_bounded_and_others_are_not_held() {
        let gates = Arc::new(Gates::new(Limits {
            concurrency: 2,
            per_second: 20,
        }));
        let began = Instant::now();
        let first = gates.enter(1).await;
        let second = gates.enter(1).await;
        let spaced = began.elapsed();
        assert!(
            spaced >= Duration::from_millis(50) && spaced < Duration::from_secs(1),
            "the second starts 50 ms after the first: {spaced:?}"
        );
        // A third waits for a place; another router does not.
        let third = {
            let gates = Arc::clone(&gates);
            tokio::spawn(async move { gates.enter(1).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!third.is_finished(), "two in flight at most");
        let other = Instant::now();
        let _elsewhere = gates.enter(2).await;
        assert!(
            other.elapsed() < Duration::from_millis(40),
            "another router's gate is its own"
        );
        drop(first);
        let _third = third.await.unwrap();
        drop(second);
    }
}
