//! Password hashing: Argon2id, tuned so one hash costs tens of milliseconds, computed off the
//! async workers with a bound on how many run at once and on how many may wait. A flood of
//! sign-ins therefore queues in front of the hasher (and past the bound is turned away) while
//! every other request keeps its CPU.
//!
//! Unknown accounts are verified against a dummy hash, so a sign-in for an address that does
//! not exist costs the same as a wrong password.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng as _;
use tokio::sync::Semaphore;

/// Why hashing did not happen.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    /// Too many sign-ins are waiting for the hasher.
    #[error("too many sign-ins in progress")]
    Busy,
    /// The parameters or the stored hash are invalid.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// The hasher: Argon2id parameters, a bound on concurrent hashes and on waiting ones.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    dummy: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("memory_kib", &self.params.m_cost())
            .field("iterations", &self.params.t_cost())
            .field("slots", &self.slots.available_permits())
            .finish()
    }
}

impl Hasher {
    /// A hasher with Argon2id `memory_kib` and `iterations`, `concurrency` hashes at once
    /// (0: half the cores, at least one) and at most `max_waiting` waiting.
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        concurrency: u32,
        max_waiting: u32,
    ) -> Result<Self, HashError> {
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| HashError::Failed(e.to_string()))?;
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        let concurrency = match concurrency {
            0 => (cores / 2).max(1),
            n => n as usize,
        };
        Ok(Self {
            params,
            slots: Arc::new(Semaphore::new(concurrency)),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting: max_waiting as usize,
            dummy: Arc::new(OnceLock::new()),
        })
    }

    /// Hashes a new password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.run(move || hash_with(&params, &password)).await?
    }

    /// Checks `password` against a stored PHC string, or against the dummy hash when there
    /// is no account (`None`), so both take the same time. True on a match.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let exists = stored.is_some();
        let stored = stored.map(str::to_owned);
        let password = password.to_owned();
        let params = self.params.clone();
        let dummy = self.dummy.clone();
        let matched = self
            .run(move || {
                let stored = match &stored {
                    Some(stored) => stored.as_str(),
                    // Hashed once, on the first sign-in for an unknown address.
                    None => dummy.get_or_init(|| {
                        hash_with(&params, "lastmile dummy password").unwrap_or_default()
                    }),
                };
                Argon2::default()
                    .verify_password(password.as_bytes(), stored)
                    .is_ok()
            })
            .await?;
        Ok(exists && matched)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let queued = self.waiting.fetch_add(1, Ordering::SeqCst);
        let permit = if queued >= self.max_waiting + self.slots.available_permits() {
            None
        } else {
            self.slots.clone().acquire_owned().await.ok()
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let Some(permit) = permit else {
            return Err(HashError::Busy);
        };
        let result = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))?;
        Ok(result)
    }
}

fn hash_with(params: &Params, password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = Hasher::new(1024, 1, 1, 4).unwrap();
        let hash = hasher.hash("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            hasher
                .verify("correct horse battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("wrong horse battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("lastmile dummy password", None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn sign_ins_beyond_the_queue_bound_are_turned_away() {
        let hasher = Hasher::new(8 * 1024, 3, 1, 0).unwrap();
        let hash = hasher.hash("pw-pw-pw-pw").await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let hasher = hasher.clone();
            let hash = hash.clone();
            tasks.push(tokio::spawn(async move {
                hasher.verify("pw-pw-pw-pw", Some(&hash)).await
            }));
        }
        let mut busy = 0;
        for task in tasks {
            if task.await.unwrap() == Err(HashError::Busy) {
                busy += 1;
            }
        }
        assert!(
            busy > 0,
            "with no waiting room, concurrent sign-ins must be turned away"
        );
    }
}
