//! The list shared through Redis (feature `redis`).
//!
//! Layout, under a prefix `P` (default `tower-cognito`) wrapped in a hash tag
//! so that every key lives in one Redis Cluster slot:
//!
//! - `{P}:family:<id>` and `{P}:user:<pool>:<sub>`: the entry's JSON
//!   ([`Revocation::to_json`]), written with `SET … PXAT` at the entry's
//!   expiry, so Redis drops it when no token it covers can be valid;
//! - `{P}:index`: a sorted set of those keys scored by their expiry (ms),
//!   so a reconcile reads the live ones without a `SCAN`;
//! - `{P}:version`: a counter bumped by every write, so a reconcile that
//!   finds it unchanged reads nothing more;
//! - channel `{P}:announce`: `{"version":N,"revocation":{…}}` per write.

use super::{OnOutage, Revocation, RevocationList, Sync};
use crate::authorizer::unix_now;
use futures_util::StreamExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

/// Keys read per `MGET` in a reconcile.
const CHUNK: usize = 500;

/// Why a store operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL is not one the `redis` crate accepts.
    InvalidUrl(String),
    /// Redis could not be reached, or answered with an error.
    Unreachable(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::InvalidUrl(m) => write!(f, "invalid Redis URL: {m}"),
            StoreError::Unreachable(m) => write!(f, "Redis unreachable: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

fn unreachable(e: impl fmt::Display) -> StoreError {
    StoreError::Unreachable(e.to_string())
}

/// The names under one prefix.
#[derive(Debug, Clone)]
struct Names {
    tag: String,
}

impl Names {
    fn new(prefix: &str) -> Self {
        Self {
            tag: format!("{{{prefix}}}"),
        }
    }
    fn key(&self, r: &Revocation) -> String {
        match r {
            Revocation::Family { id, .. } => format!("{}:family:{id}", self.tag),
            Revocation::User { pool, sub, .. } => format!("{}:user:{pool}:{sub}", self.tag),
        }
    }
    fn index(&self) -> String {
        format!("{}:index", self.tag)
    }
    fn version(&self) -> String {
        format!("{}:version", self.tag)
    }
    fn channel(&self) -> String {
        format!("{}:announce", self.tag)
    }
}

fn open(url: &str) -> Result<redis::Client, StoreError> {
    redis::Client::open(url).map_err(|e| StoreError::InvalidUrl(e.to_string()))
}

/// Writes and reads the shared list; what `cognito-gateway revoke` uses.
///
/// Built on the `redis` crate's [`ConnectionManager`], so a dropped
/// connection is re-made on the next command. Any URL the crate accepts
/// works: `redis://`, `rediss://` (TLS), `redis+unix://`; a managed Redis or
/// a Redis Cluster endpoint with the same scheme (every key is in one slot).
///
/// ```no_run
/// use tower_cognito::revocation::{Revocation, RevocationStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RevocationStore::connect("redis://127.0.0.1:6379").await?;
/// store.revoke(&Revocation::family("2b5e8c41-7f1a", 1_900_000_000)).await?;
/// assert!(!store.load().await?.is_empty());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RevocationStore {
    conn: ConnectionManager,
    names: Names,
}

impl fmt::Debug for RevocationStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("RevocationStore")
            .field("prefix", &self.names.tag)
            .finish_non_exhaustive()
    }
}

impl RevocationStore {
    /// Connects with the default prefix `tower-cognito` and a 2 s timeout
    /// per command.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, "tower-cognito", Duration::from_secs(2)).await
    }

    /// Connects with a key prefix of its own (several lists in one Redis)
    /// and a timeout per command and per connection attempt.
    pub async fn connect_with(
        url: &str,
        prefix: &str,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let client = open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = tokio::time::timeout(
            timeout * 2,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| unreachable("connection timed out"))?
        .map_err(unreachable)?;
        Ok(Self {
            conn,
            names: Names::new(prefix),
        })
    }

    /// Stores a revocation until its expiry and announces it. For a user
    /// already revoked, the later times are kept. Returns `false`, writing
    /// nothing, when the entry's time has already passed.
    pub async fn revoke(&self, revocation: &Revocation) -> Result<bool, StoreError> {
        let now_ms = unix_now().saturating_mul(1000);
        let mut revocation = revocation.clone();
        let key = self.names.key(&revocation);
        let mut conn = self.conn.clone();
        // A later write for a user must not shorten an earlier one.
        let old: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(unreachable)?;
        if let Some(old) = old.and_then(|j| Revocation::from_json(&j).ok()) {
            revocation = merged(old, revocation);
        }
        let at_ms = revocation.expires_at().saturating_mul(1000);
        if at_ms <= now_ms {
            return Ok(false);
        }
        let json = revocation.to_json();
        let (version,): (u64,) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(&json)
            .arg("PXAT")
            .arg(at_ms)
            .ignore()
            .cmd("ZADD")
            .arg(self.names.index())
            .arg(at_ms)
            .arg(&key)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(self.names.index())
            .arg("-inf")
            .arg(now_ms)
            .ignore()
            .cmd("INCR")
            .arg(self.names.version())
            .query_async(&mut conn)
            .await
            .map_err(unreachable)?;
        let message = format!(r#"{{"version":{version},"revocation":{json}}}"#);
        // Lost announcements are made up for by the reconcile.
        let _: Result<i64, _> = redis::cmd("PUBLISH")
            .arg(self.names.channel())
            .arg(message)
            .query_async(&mut conn)
            .await;
        Ok(true)
    }

    /// The store's version counter (0 before any write).
    async fn version(&self) -> Result<u64, StoreError> {
        let v: Option<u64> = redis::cmd("GET")
            .arg(self.names.version())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(unreachable)?;
        Ok(v.unwrap_or(0))
    }

    /// Every live entry in the store. Entries that do not parse are skipped.
    pub async fn load(&self) -> Result<Vec<Revocation>, StoreError> {
        Ok(self.load_versioned().await?.1)
    }

    /// The version, read first (so the entries are at least that recent),
    /// then the entries.
    async fn load_versioned(&self) -> Result<(u64, Vec<Revocation>), StoreError> {
        let version = self.version().await?;
        let mut conn = self.conn.clone();
        let keys: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.names.index())
            .arg(unix_now().saturating_mul(1000))
            .arg("+inf")
            .query_async(&mut conn)
            .await
            .map_err(unreachable)?;
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let values: Vec<Option<String>> = redis::cmd("MGET")
                .arg(chunk)
                .query_async(&mut conn)
                .await
                .map_err(unreachable)?;
            out.extend(
                values
                    .iter()
                    .flatten()
                    .filter_map(|j| Revocation::from_json(j).ok()),
            );
        }
        Ok((version, out))
    }
}

/// The later times of two entries for one key.
fn merged(old: Revocation, new: Revocation) -> Revocation {
    match (old, new) {
        (Revocation::Family { until: a, .. }, Revocation::Family { id, until: b }) => {
            Revocation::Family {
                id,
                until: a.max(b),
            }
        }
        (
            Revocation::User {
                before: b1,
                until: u1,
                ..
            },
            Revocation::User {
                pool,
                sub,
                before: b2,
                until: u2,
            },
        ) => Revocation::User {
            pool,
            sub,
            before: b1.max(b2),
            until: u1.max(u2),
        },
        (_, new) => new,
    }
}

/// Settings of a list shared through Redis; from [`RevocationList::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// use tower_cognito::revocation::{OnOutage, RevocationList};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let list = RevocationList::builder()
///     .redis("redis://127.0.0.1:6379")
///     .reconcile_interval(Duration::from_secs(5))
///     .on_outage(OnOutage::Serve)
///     .build()?;
/// list.loaded().await; // before reporting ready
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RevocationListBuilder {
    url: Option<String>,
    prefix: String,
    reconcile: Duration,
    stale_after: Option<Duration>,
    on_outage: OnOutage,
    timeout: Duration,
}

impl Default for RevocationListBuilder {
    fn default() -> Self {
        Self {
            url: None,
            prefix: "tower-cognito".into(),
            reconcile: Duration::from_secs(5),
            stale_after: None,
            on_outage: OnOutage::Serve,
            timeout: Duration::from_secs(2),
        }
    }
}

impl RevocationListBuilder {
    /// The Redis URL (required).
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The key prefix; default `tower-cognito`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How often the list is reconciled with the store; default 5 s. A lost
    /// announcement or a reconnect converges within it.
    pub fn reconcile_interval(mut self, every: Duration) -> Self {
        self.reconcile = every.max(Duration::from_millis(10));
        self
    }

    /// How long after the last good reconcile the list counts as stale
    /// (while the store is unreachable it is stale at once); default three
    /// reconcile intervals, at least 1 s.
    pub fn stale_after(mut self, after: Duration) -> Self {
        self.stale_after = Some(after);
        self
    }

    /// What to do while the store is unreachable; default [`OnOutage::Serve`].
    pub fn on_outage(mut self, on_outage: OnOutage) -> Self {
        self.on_outage = on_outage;
        self
    }

    /// Timeout of each command and connection attempt; default 2 s.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the URL and starts the background sync, which needs a Tokio
    /// runtime. The list is empty and refuses every token until the first
    /// load: await [`RevocationList::loaded`] before reporting ready.
    pub fn build(self) -> Result<RevocationList, StoreError> {
        let url = self
            .url
            .ok_or_else(|| StoreError::InvalidUrl("no Redis URL given".into()))?;
        open(&url)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            StoreError::Unreachable("the sync needs a Tokio runtime; build inside one".into())
        })?;
        let stale_after = self
            .stale_after
            .unwrap_or(self.reconcile * 3)
            .max(Duration::from_secs(1));
        let list = RevocationList::with_sync(Some(Sync {
            on_outage: self.on_outage,
            loaded: AtomicBool::new(false),
            healthy: AtomicBool::new(false),
            last_ok: AtomicI64::new(0),
            stale_after: i64::try_from(stale_after.as_secs_f64().ceil() as u64).unwrap_or(i64::MAX),
            loaded_notify: tokio::sync::Notify::new(),
        }));
        let worker = Worker {
            list: list.downgrade(),
            url,
            names: Names::new(&self.prefix),
            prefix: self.prefix,
            reconcile: self.reconcile,
            timeout: self.timeout,
        };
        runtime.spawn(worker.run());
        Ok(list)
    }
}

/// The background sync of one list; ends when the list is dropped.
struct Worker {
    list: std::sync::Weak<super::Shared>,
    url: String,
    names: Names,
    prefix: String,
    reconcile: Duration,
    timeout: Duration,
}

impl RevocationList {
    fn downgrade(&self) -> std::sync::Weak<super::Shared> {
        std::sync::Arc::downgrade(&self.shared)
    }
}

impl Worker {
    fn list(&self) -> Option<RevocationList> {
        self.list.upgrade().map(|shared| RevocationList { shared })
    }

    async fn run(self) {
        let mut backoff = Duration::from_millis(100);
        let max_backoff = self
            .reconcile
            .clamp(Duration::from_millis(100), Duration::from_secs(5));
        let mut in_outage = false;
        loop {
            let error = self.session(&mut in_outage, &mut backoff).await;
            let Some(list) = self.list() else { return };
            let sync = list.shared.sync.as_ref().expect("a synced list");
            sync.healthy.store(false, Ordering::Release);
            if !in_outage {
                in_outage = true;
                let entries = list.len();
                match sync.on_outage {
                    OnOutage::Serve => {
                        tracing::warn!(error = %error, entries, "revocation store unreachable; serving with the last list loaded until it is back")
                    }
                    OnOutage::Deny => {
                        tracing::warn!(error = %error, entries, "revocation store unreachable; refusing every token until the list is fresh again")
                    }
                }
            }
            drop(list);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(max_backoff);
        }
    }

    /// Subscribes, loads, then applies announcements and reconciles until
    /// something fails.
    async fn session(&self, in_outage: &mut bool, backoff: &mut Duration) -> StoreError {
        let client = match open(&self.url) {
            Ok(c) => c,
            Err(e) => return e,
        };
        let pubsub = async {
            let mut pubsub = client.get_async_pubsub().await.map_err(unreachable)?;
            pubsub
                .subscribe(self.names.channel())
                .await
                .map_err(unreachable)?;
            Ok::<_, StoreError>(pubsub)
        };
        let mut messages = match tokio::time::timeout(self.timeout * 2, pubsub).await {
            Ok(Ok(p)) => p.into_on_message(),
            Ok(Err(e)) => return e,
            Err(_) => return unreachable("subscribing timed out"),
        };
        let store = match RevocationStore::connect_with(&self.url, &self.prefix, self.timeout).await
        {
            Ok(s) => s,
            Err(e) => return e,
        };
        let mut version = None;
        let mut tick = tokio::time::interval(self.reconcile);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = self.reconcile(&store, &mut version).await {
                        return e;
                    }
                    if std::mem::take(in_outage) {
                        tracing::info!("revocation store reachable again; list in step");
                    }
                    *backoff = Duration::from_millis(100);
                }
                message = messages.next() => {
                    let Some(message) = message else {
                        return unreachable("subscription closed");
                    };
                    let Some(list) = self.list() else { return unreachable("list dropped") };
                    apply_announcement(&list, message.get_payload_bytes(), &mut version);
                }
            }
        }
    }

    /// Reads the version, and the whole list when it moved.
    async fn reconcile(
        &self,
        store: &RevocationStore,
        local: &mut Option<u64>,
    ) -> Result<(), StoreError> {
        let timed = |what| unreachable(format!("{what} timed out"));
        let current = tokio::time::timeout(self.timeout, store.version())
            .await
            .map_err(|_| timed("version read"))??;
        if *local != Some(current) {
            let (version, entries) = tokio::time::timeout(self.timeout * 4, store.load_versioned())
                .await
                .map_err(|_| timed("list read"))??;
            let Some(list) = self.list() else {
                return Ok(());
            };
            list.merge(&entries);
            *local = Some(version);
        }
        let Some(list) = self.list() else {
            return Ok(());
        };
        let sync = list.shared.sync.as_ref().expect("a synced list");
        sync.last_ok.store(unix_now(), Ordering::Release);
        sync.healthy.store(true, Ordering::Release);
        if !sync.loaded.swap(true, Ordering::AcqRel) {
            sync.loaded_notify.notify_waiters();
        }
        Ok(())
    }
}

/// One announcement: the entry is added at once; the version follows when
/// it is the next one (otherwise the reconcile reads the whole list).
fn apply_announcement(list: &RevocationList, payload: &[u8], version: &mut Option<u64>) {
    #[derive(serde::Deserialize)]
    struct Announcement {
        version: u64,
        revocation: serde_json::Value,
    }
    let Ok(a) = serde_json::from_slice::<Announcement>(payload) else {
        tracing::debug!("revocation announcement ignored: not JSON of the expected shape");
        return;
    };
    let Ok(r) = Revocation::from_json(&a.revocation.to_string()) else {
        tracing::debug!("revocation announcement ignored: not a revocation");
        return;
    };
    list.merge(std::slice::from_ref(&r));
    if version.is_some_and(|v| v + 1 == a.version) {
        *version = Some(a.version);
    }
}
