//! Refetching a pool when a token names a kid it does not hold.
//!
//! The fetch runs in a task of its own, not in the request that noticed the
//! miss: a client that hangs up has its request dropped, and a fetch awaited
//! inside that request would be cut off half-way. Every miss that arrives while
//! the task runs waits for the same fetch. The per-pool rate limit counts from
//! when a fetch completed, so a fetch that never completed (its task dropped
//! with the runtime) leaves the limit free.

use super::{MissOutcome, PoolKeys, StoreInner};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::watch;

/// The completion signal of a miss-caused fetch: `true` once it is over.
pub(super) type Done = watch::Receiver<bool>;

fn outcome(keys: &PoolKeys, kid: &str) -> MissOutcome {
    if keys.keys.contains_key(kid) {
        MissOutcome::Found
    } else if keys.loaded {
        MissOutcome::UnknownKid
    } else {
        MissOutcome::Unavailable
    }
}

/// Looks for `kid` once a miss-caused fetch of the pool is over: the one under
/// way, or a new one if the rate limit allows; else answers at once.
pub(super) async fn refresh_for_miss(
    inner: &Arc<StoreInner>,
    slot: usize,
    kid: &str,
) -> MissOutcome {
    let entry = &inner.pools[slot];
    let now = outcome(&entry.keys.load(), kid);
    if now == MissOutcome::Found {
        return now;
    }
    let (mut done, fetch) = {
        let mut inflight = entry
            .miss_inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(done) = &*inflight {
            (done.clone(), None)
        } else {
            // Again under the lock: a fetch may have completed since the first look.
            let now = outcome(&entry.keys.load(), kid);
            if now == MissOutcome::Found || !inner.miss_allowed(entry) {
                return now;
            }
            let (tx, rx) = watch::channel(false);
            *inflight = Some(rx.clone());
            entry.miss_fetching.store(true, Ordering::Release);
            let fetch = MissFetch {
                inner: Arc::clone(inner),
                slot,
                kid: kid.into(),
                tx,
            };
            (rx, Some(fetch))
        }
    };
    if let Some(fetch) = fetch {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(fetch.run())),
            // No runtime to spawn on: fetch here (if this future is dropped,
            // the fetch's guard still clears the pool's state).
            Err(_) => fetch.run().await,
        }
    }
    // An error means the sender is gone, which also means the fetch is over.
    let _ = done.wait_for(|over| *over).await;
    outcome(&entry.keys.load(), kid)
}

/// One miss-caused fetch; dropping it (done or not) clears the pool's
/// in-flight state and wakes every waiting miss.
struct MissFetch {
    inner: Arc<StoreInner>,
    slot: usize,
    /// The kid of the miss that started the fetch.
    kid: Box<str>,
    tx: watch::Sender<bool>,
}

impl MissFetch {
    async fn run(self) {
        let entry = &self.inner.pools[self.slot];
        let fetched = {
            let _gate = entry.fetch_gate.lock().await;
            // A background refresh may have brought the key while we waited.
            if outcome(&entry.keys.load(), &self.kid) == MissOutcome::Found {
                false
            } else {
                let _ = self.inner.fetch_locked(self.slot).await;
                true
            }
        };
        if fetched {
            // Completed, successfully or not: this is what the rate limit counts.
            entry
                .last_miss_fetch
                .store(self.inner.millis() + 1, Ordering::Release);
        }
    }
}

impl Drop for MissFetch {
    fn drop(&mut self) {
        let entry = &self.inner.pools[self.slot];
        *entry
            .miss_inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        entry.miss_fetching.store(false, Ordering::Release);
        self.tx.send_replace(true);
    }
}
