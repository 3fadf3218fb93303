//! The background sync of a list shared through Redis: subscribe, load,
//! apply announcements, reconcile, and ride out outages.

use super::{open, unreachable, Names, RevocationStore, StoreError};
use crate::authorizer::unix_now;
use crate::revocation::{OnOutage, Revocation, RevocationList, Shared, Sync};
use futures_util::StreamExt as _;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

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
    list: Weak<Shared>,
    url: String,
    names: Names,
    prefix: String,
    reconcile: Duration,
    timeout: Duration,
}

impl RevocationList {
    fn downgrade(&self) -> Weak<Shared> {
        Arc::downgrade(&self.shared)
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
