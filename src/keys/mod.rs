//! The key store: each pool's keys, parsed once per kid and held in an
//! [`ArcSwap`] snapshot that requests read without a lock.
//!
//! A background task refreshes every pool on an interval (and retries failing
//! pools sooner); an unknown `kid` triggers a refresh that runs in a task of its
//! own, that concurrent misses share and that is rate-limited per pool (see
//! `miss.rs`). A failed fetch keeps the last good
//! keys. The task ends when the last [`KeyStore`] handle (every layer clone holds
//! one) is dropped.

mod adopt;
mod fetch;
mod jwks;
mod miss;
mod status;

use crate::error::ConfigError;
use crate::observe::PoolMetrics;
use arc_swap::ArcSwap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;
use tracing::Instrument;

pub(crate) use fetch::FetchLimits;
pub(crate) use jwks::{KeyEntry, KeyMap};
pub use status::{KeyLoadError, KeyStoreStatus, PoolStatus};

/// Settings of the store.
#[derive(Debug, Clone)]
pub(crate) struct StoreSettings {
    pub(crate) refresh_interval: Duration,
    pub(crate) retry_interval: Duration,
    pub(crate) miss_rate_limit: Duration,
    pub(crate) limits: FetchLimits,
}

/// One pool's keys as of one fetch.
#[derive(Debug, Default)]
pub(crate) struct PoolKeys {
    pub(crate) keys: KeyMap,
    /// Whether any key set was ever installed.
    pub(crate) loaded: bool,
    /// Unique per installed set (0: none yet), so a reader can tell in one
    /// comparison that the set it checked before is still the current one.
    pub(crate) version: u64,
}

struct PoolEntry {
    pool_id: Box<str>,
    issuer: Box<str>,
    jwks_url: Box<str>,
    keys: ArcSwap<PoolKeys>,
    /// Serialises fetches of this pool (background, `load`, misses).
    fetch_gate: tokio::sync::Mutex<()>,
    /// When a miss-caused fetch last completed, in ms since the store's epoch
    /// plus one (0: never): the rate limit, readable without a lock.
    last_miss_fetch: AtomicU64,
    /// A miss-caused fetch is under way: later misses wait for it.
    miss_fetching: AtomicBool,
    /// The miss-caused fetch under way, if any: its completion signal.
    miss_inflight: Mutex<Option<miss::Done>>,
    status: Mutex<StatusInner>,
    /// Fetch counters and the key gauge (feature `metrics`).
    metrics: PoolMetrics,
}

#[derive(Default)]
struct StatusInner {
    last_success: Option<SystemTime>,
    last_error: Option<String>,
    fetches: u64,
    skipped: usize,
}

struct StoreInner {
    pools: Box<[PoolEntry]>,
    client: reqwest::Client,
    settings: StoreSettings,
    generation: AtomicU64,
    /// Key sets installed so far, over all pools: the source of versions.
    installs: AtomicU64,
    started: AtomicBool,
    epoch: Instant,
    /// Dropped with the store; the background task sees its receiver close.
    _shutdown: tokio::sync::watch::Sender<()>,
    shutdown_rx: tokio::sync::watch::Receiver<()>,
}

/// A handle to the signing keys of the configured user pools. Cheap to clone;
/// clones share the keys and the background refresh.
///
/// Get it from [`CognitoAuthLayer::key_store`](crate::CognitoAuthLayer::key_store).
/// ```
/// # async fn demo(layer: tower_cognito::CognitoAuthLayer) {
/// // Wait for the first load before taking traffic.
/// if let Err(e) = layer.key_store().load().await {
///     eprintln!("keys not ready: {e}");
/// }
/// let status = layer.key_store().status();
/// for pool in &status.pools {
///     println!("{}: {} keys", pool.pool_id, pool.keys);
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct KeyStore {
    inner: Arc<StoreInner>,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("pools", &self.inner.pools.len())
            .field("generation", &self.inner.generation.load(Ordering::Relaxed))
            .finish()
    }
}

/// The outcome of looking for a kid after giving the pool a chance to refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MissOutcome {
    /// The kid is there now.
    Found,
    /// The pool has keys, but not this kid.
    UnknownKid,
    /// The pool has never had keys.
    Unavailable,
}

/// A pool to serve: ID, expected issuer, JWKS URL.
pub(crate) struct PoolSpec {
    pub(crate) pool_id: Box<str>,
    pub(crate) issuer: Box<str>,
    pub(crate) jwks_url: Box<str>,
}

impl KeyStore {
    pub(crate) fn new(pools: Vec<PoolSpec>, settings: StoreSettings) -> Result<Self, ConfigError> {
        let client = fetch::client(&settings.limits).map_err(ConfigError::Other)?;
        let (tx, rx) = tokio::sync::watch::channel(());
        let pools = pools
            .into_iter()
            .map(|p| PoolEntry {
                metrics: PoolMetrics::new(&p.pool_id),
                pool_id: p.pool_id,
                issuer: p.issuer,
                jwks_url: p.jwks_url,
                keys: ArcSwap::from_pointee(PoolKeys::default()),
                fetch_gate: tokio::sync::Mutex::new(()),
                last_miss_fetch: AtomicU64::new(0),
                miss_fetching: AtomicBool::new(false),
                miss_inflight: Mutex::new(None),
                status: Mutex::new(StatusInner::default()),
            })
            .collect();
        Ok(Self {
            inner: Arc::new(StoreInner {
                pools,
                client,
                settings,
                generation: AtomicU64::new(0),
                installs: AtomicU64::new(0),
                started: AtomicBool::new(false),
                epoch: Instant::now(),
                _shutdown: tx,
                shutdown_rx: rx,
            }),
        })
    }

    /// Index of a pool by ID.
    pub(crate) fn slot_of(&self, pool_id: &str) -> Option<usize> {
        self.inner.pools.iter().position(|p| &*p.pool_id == pool_id)
    }

    /// The current keys of a pool: one atomic load, no lock.
    #[inline]
    pub(crate) fn snapshot(&self, slot: usize) -> arc_swap::Guard<Arc<PoolKeys>> {
        self.inner.pools[slot].keys.load()
    }

    /// Starts the background refresh if a Tokio runtime is at hand and it is not
    /// running yet. Cheap: one atomic load once started.
    #[inline]
    pub(crate) fn ensure_started(&self) {
        if !self.inner.started.load(Ordering::Acquire) {
            self.start();
        }
    }

    #[cold]
    fn start(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.inner.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let shutdown = self.inner.shutdown_rx.clone();
        handle.spawn(background(weak, shutdown));
    }

    /// Installs keys from a JWKS document given inline, as if fetched.
    ///
    /// Returns the number of usable keys. Fails if `pool_id` is not configured or
    /// the document holds no usable RS256 key.
    pub fn insert_jwks(&self, pool_id: &str, jwks: &str) -> Result<usize, ConfigError> {
        let slot = self
            .slot_of(pool_id)
            .ok_or_else(|| ConfigError::InvalidJwks {
                pool: pool_id.to_owned(),
                reason: "no such pool is configured".into(),
            })?;
        let entry = &self.inner.pools[slot];
        let parsed =
            jwks::parse(jwks.as_bytes(), Some(&entry.keys.load().keys)).map_err(|reason| {
                ConfigError::InvalidJwks {
                    pool: pool_id.to_owned(),
                    reason,
                }
            })?;
        let n = parsed.keys.len();
        self.inner.install(entry, parsed);
        Ok(n)
    }

    /// Waits until every pool has keys: pools without keys are fetched now (a
    /// fetch already under way is waited for, not repeated). Call it at startup
    /// before taking traffic. Fails with the pools that still have no keys.
    pub async fn load(&self) -> Result<(), KeyLoadError> {
        self.fetch_all(false).await
    }

    /// Fetches every pool's keys now, whether or not it has keys, and waits for
    /// the results. Not rate-limited. A failed fetch keeps the pool's keys.
    pub async fn refresh(&self) -> Result<(), KeyLoadError> {
        self.fetch_all(true).await
    }

    async fn fetch_all(&self, force: bool) -> Result<(), KeyLoadError> {
        self.ensure_started();
        let mut set = tokio::task::JoinSet::new();
        for slot in 0..self.inner.pools.len() {
            let inner = Arc::clone(&self.inner);
            set.spawn(async move { (slot, inner.refresh(slot, force).await) });
        }
        let mut failures = Vec::new();
        while let Some(res) = set.join_next().await {
            match res {
                Ok((_, Ok(()))) => {}
                Ok((slot, Err(e))) => {
                    failures.push((self.inner.pools[slot].pool_id.to_string(), e))
                }
                Err(e) => failures.push(("?".into(), e.to_string())),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            failures.sort();
            Err(KeyLoadError { failures })
        }
    }

    /// Whether a miss on this pool could still find its key: a miss-caused fetch
    /// is under way, or the rate limit allows another. A `false` lets the request
    /// be refused at once, without a future.
    #[inline]
    pub(crate) fn miss_may_fetch(&self, slot: usize) -> bool {
        let pool = &self.inner.pools[slot];
        pool.miss_fetching.load(Ordering::Acquire) || self.inner.miss_allowed(pool)
    }

    /// Called when `kid` is not in the pool's snapshot: refreshes the pool unless
    /// the rate limit holds, sharing a fetch already under way. The fetch runs
    /// in a task of its own, so dropping this future does not cancel it.
    pub(crate) async fn refresh_for_miss(&self, slot: usize, kid: &str) -> MissOutcome {
        miss::refresh_for_miss(&self.inner, slot, kid).await
    }

    /// A snapshot of every pool's state.
    pub fn status(&self) -> KeyStoreStatus {
        let pools = self
            .inner
            .pools
            .iter()
            .map(|p| {
                let keys = p.keys.load();
                let mut kids: Vec<String> = keys.keys.keys().map(|k| k.to_string()).collect();
                kids.sort();
                let st = p.status.lock().unwrap_or_else(|e| e.into_inner());
                PoolStatus {
                    pool_id: p.pool_id.to_string(),
                    issuer: p.issuer.to_string(),
                    jwks_url: p.jwks_url.to_string(),
                    keys: kids.len(),
                    kids,
                    last_success: st.last_success,
                    last_error: st.last_error.clone(),
                    fetches: st.fetches,
                    skipped_keys: st.skipped,
                }
            })
            .collect();
        KeyStoreStatus {
            pools,
            generation: self.inner.generation.load(Ordering::Acquire),
        }
    }
}

impl StoreInner {
    fn install(&self, entry: &PoolEntry, parsed: jwks::Parsed) {
        let changed = {
            let old = entry.keys.load();
            !old.loaded
                || old.keys.len() != parsed.keys.len()
                || parsed
                    .keys
                    .iter()
                    .any(|(k, v)| old.keys.get(k).is_none_or(|o| !Arc::ptr_eq(o, v)))
        };
        entry.metrics.keys(parsed.keys.len());
        entry.keys.store(Arc::new(PoolKeys {
            keys: parsed.keys,
            loaded: true,
            version: self.installs.fetch_add(1, Ordering::AcqRel) + 1,
        }));
        if changed {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        let mut st = entry.status.lock().unwrap_or_else(|e| e.into_inner());
        st.last_success = Some(SystemTime::now());
        st.last_error = None;
        st.skipped = parsed.skipped;
    }

    /// One fetch of a pool. The caller holds the pool's gate.
    async fn fetch_locked(&self, slot: usize) -> Result<(), String> {
        let entry = &self.pools[slot];
        let span = tracing::debug_span!("jwks_fetch", pool = %entry.pool_id);
        let started = Instant::now();
        let result = async {
            let body = fetch::fetch(
                &self.client,
                &entry.jwks_url,
                self.settings.limits.max_bytes,
            )
            .await?;
            jwks::parse(&body, Some(&entry.keys.load().keys))
        }
        .instrument(span)
        .await;
        entry.metrics.fetched(result.is_ok(), started.elapsed());
        entry
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fetches += 1;
        match result {
            Ok(parsed) => {
                self.install(entry, parsed);
                tracing::debug!(pool = %entry.pool_id, "JWKS refreshed");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(pool = %entry.pool_id, error = %e, "JWKS fetch failed; keeping the last good keys");
                entry
                    .status
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Fetches a pool; unless `force`, only if it has no keys once any fetch
    /// under way has finished.
    async fn refresh(&self, slot: usize, force: bool) -> Result<(), String> {
        let _gate = self.pools[slot].fetch_gate.lock().await;
        if !force && self.pools[slot].keys.load().loaded {
            return Ok(());
        }
        self.fetch_locked(slot).await
    }

    /// Whether the rate limit lets a miss cause a fetch now: no miss-caused
    /// fetch completed within the limit.
    fn miss_allowed(&self, pool: &PoolEntry) -> bool {
        let last = pool.last_miss_fetch.load(Ordering::Acquire);
        let since = (self.millis() + 1).saturating_sub(last);
        last == 0 || u128::from(since) >= self.settings.miss_rate_limit.as_millis()
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// When this pool is next due, given its state.
    fn next_due(&self, slot: usize) -> Duration {
        let entry = &self.pools[slot];
        let failing = !entry.keys.load().loaded
            || entry
                .status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .last_error
                .is_some();
        if failing {
            self.settings.retry_interval
        } else {
            self.settings.refresh_interval
        }
    }
}

/// `now + every`, or about 30 years on when that overflows: an interval of
/// `Duration::MAX` means "never".
fn after(now: Instant, every: Duration) -> Instant {
    now.checked_add(every)
        .unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 86_400))
}

/// The refresh loop. Holds only a weak reference between rounds, so it ends
/// once the last handle is dropped; the shutdown channel wakes it promptly.
async fn background(weak: Weak<StoreInner>, mut shutdown: tokio::sync::watch::Receiver<()>) {
    let mut due: Vec<Instant> = Vec::new();
    loop {
        let sleep_until = {
            let Some(inner) = weak.upgrade() else { return };
            let now = Instant::now();
            if due.is_empty() {
                // First round: pools seeded inline wait a full interval.
                due = (0..inner.pools.len())
                    .map(|slot| {
                        if inner.pools[slot].keys.load().loaded {
                            after(now, inner.settings.refresh_interval)
                        } else {
                            now
                        }
                    })
                    .collect();
            }
            for (slot, when) in due.iter_mut().enumerate() {
                if *when <= now {
                    let _ = inner.refresh(slot, true).await;
                    *when = after(Instant::now(), inner.next_due(slot));
                }
            }
            due.iter()
                .copied()
                .min()
                .unwrap_or_else(|| after(now, inner.settings.refresh_interval))
        };
        tokio::select! {
            _ = tokio::time::sleep_until(sleep_until) => {}
            _ = shutdown.changed() => return,
        }
    }
}
