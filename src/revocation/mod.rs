//! Revocation beyond API Gateway: Cognito's `RevokeToken` and global sign-out
//! made to hold here, before the tokens' `exp`.
//!
//! API Gateway's Cognito authorizer checks only the signature and the times,
//! so a revoked token keeps working until it expires. A [`RevocationList`]
//! given to [`CognitoAuthBuilder::revocation_list`](crate::CognitoAuthBuilder::revocation_list)
//! refuses it with the 401 `Unauthorized` response (gRPC: UNAUTHENTICATED)
//! and [`RejectionKind::Revoked`](crate::RejectionKind::Revoked). Two kinds
//! of entry ([`Revocation`]):
//!
//! - **A token family**: what `RevokeToken` ends. Every ID and access token
//!   minted from one refresh token carries that refresh token's `origin_jti`;
//!   a token without `origin_jti` is its own family, named by its `jti`.
//! - **A user**: what `GlobalSignOut` / `AdminUserGlobalSignOut` ends. Every
//!   token of the pool's user `sub` whose `auth_time` is before the given time
//!   (tokens refreshed from an old sign-in keep its `auth_time`; a new sign-in
//!   has a later one and passes). A token of that user without `auth_time`
//!   is refused too (fail closed): Cognito always sets it.
//!
//! Entries expire on their own once no token they cover can still be valid:
//! a family at the `until` it was given (the token's `exp`), a user at its
//! time plus the longest ID/access token lifetime Cognito allows (1 day;
//! [`Revocation::user_with_lifetime`] for another bound). A user entry relies
//! on Cognito having revoked the user's refresh tokens (which global sign-out
//! does), so that no token with an older `auth_time` is minted afterwards.
//!
//! The check runs on every request, token-cache hits included, after the
//! route policy passed: an in-memory lookup (two hash lookups under
//! read locks never held across I/O), skipped for a token already found not
//! revoked since the list last changed. No network on the request path.
//!
//! With feature `redis`, `RevocationList::builder().redis(url)` shares the
//! list between replicas, and `RevocationStore` writes to it; see the
//! repository's `docs/revocation.md` for the layout in Redis, outages and how it
//! scales to many replicas.
//!
//! ```
//! use tower_cognito::revocation::{Revocation, RevocationList};
//! use tower_cognito::CognitoAuthLayer;
//!
//! let list = RevocationList::new();
//! list.revoke(Revocation::family("2b5e8c41-7f1a-4c8e-9d3b-5a6f7e8d9c0b", 4_102_444_800));
//! list.revoke(Revocation::user("us-east-1_AbCdEf123", "3c9c4f61-user", 4_000_000_000));
//! assert_eq!(list.len(), 2);
//! let layer = CognitoAuthLayer::builder()
//!     .user_pool("us-east-1_AbCdEf123")
//!     .revocation_list(list.clone())
//!     .build()
//!     .unwrap();
//! # drop(layer);
//! ```

mod entry;
mod maps;
#[cfg(feature = "redis")]
mod redis;

pub use self::entry::{Revocation, RevocationParseError};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::{RevocationStore, StoreError};

use self::maps::Maps;
use crate::authorizer::unix_now;
use crate::claims::CognitoClaims;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The longest ID or access token lifetime Cognito allows a pool: 1 day.
pub const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(86_400);

/// Every change of every list takes the next number, so a number seen by a
/// token's claims names one state of one list.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// What a shared list does while its store cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnOutage {
    /// Keep serving with the last list loaded (default): revocations written
    /// meanwhile are missed until the store is back.
    #[default]
    Serve,
    /// Refuse every token until the list is fresh again, with the 500
    /// `{"message":null}` response and
    /// [`RejectionKind::RevocationUnavailable`](crate::RejectionKind::RevocationUnavailable).
    Deny,
}

/// The state of a list, for readiness checks and gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationStatus {
    /// The list was loaded at least once (always, for a list without a store).
    pub loaded: bool,
    /// Loaded, and in step with its store: the last sync succeeded less than
    /// the stale bound ago and the announcements are being received. Always,
    /// for a list without a store.
    pub fresh: bool,
    /// Entries held (live ones: expired ones are swept first).
    pub entries: usize,
}

/// How a list is kept in step with a store.
pub(crate) struct Sync {
    pub(crate) on_outage: OnOutage,
    /// Loaded at least once.
    pub(crate) loaded: AtomicBool,
    /// Announcements flowing and the last reconcile good.
    pub(crate) healthy: AtomicBool,
    /// Seconds since the epoch of the last good reconcile.
    pub(crate) last_ok: AtomicI64,
    /// Seconds after the last good reconcile at which the list is stale.
    pub(crate) stale_after: i64,
    pub(crate) loaded_notify: tokio::sync::Notify,
}

impl Sync {
    fn fresh(&self, now: i64) -> bool {
        self.loaded.load(Ordering::Acquire)
            && self.healthy.load(Ordering::Acquire)
            && now <= self.last_ok.load(Ordering::Acquire) + self.stale_after
    }
}

pub(crate) struct Shared {
    maps: RwLock<Maps>,
    /// The state the maps are in (a number from [`GENERATION`]).
    generation: AtomicU64,
    pub(crate) sync: Option<Sync>,
    metrics: crate::observe::RevocationMetrics,
}

/// The revoked token families and users, held in memory and checked on every
/// request. Cheap to clone: clones share one list. See the [module docs](self).
///
/// ```
/// use tower_cognito::revocation::{Revocation, RevocationList};
///
/// let list = RevocationList::new();
/// assert!(list.is_empty());
/// list.revoke(Revocation::family("family-1", 4_102_444_800));
/// // A time already passed revokes nothing: no token it covers is valid.
/// list.revoke(Revocation::family("family-2", 1));
/// assert_eq!(list.len(), 1);
/// assert!(list.status().fresh);
/// ```
#[derive(Clone)]
pub struct RevocationList {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevocationList")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Default for RevocationList {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a request is refused by the list, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Revoked,
    Unavailable,
}

impl RevocationList {
    /// An empty list held in this process only, loaded and fresh from the
    /// start.
    pub fn new() -> Self {
        Self::with_sync(None)
    }

    pub(crate) fn with_sync(sync: Option<Sync>) -> Self {
        Self {
            shared: Arc::new(Shared {
                maps: RwLock::default(),
                generation: AtomicU64::new(GENERATION.fetch_add(1, Ordering::Relaxed)),
                sync,
                metrics: crate::observe::RevocationMetrics::new(),
            }),
        }
    }

    /// A list shared through Redis: see [`RevocationListBuilder`].
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn builder() -> RevocationListBuilder {
        RevocationListBuilder::default()
    }

    fn changed(&self) {
        self.shared.generation.store(
            GENERATION.fetch_add(1, Ordering::Relaxed),
            Ordering::Release,
        );
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Maps> {
        self.shared.maps.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an entry to this process's list (a store, if any, is not written:
    /// use `RevocationStore::revoke` (feature `redis`) for that). An entry whose time has
    /// passed is ignored; a family or user already held keeps the later of
    /// the two times.
    pub fn revoke(&self, revocation: Revocation) {
        let now = unix_now();
        let mut maps = self.write();
        if maps.apply(&revocation, now) {
            maps.sweep(now);
            self.shared.metrics.entries(maps.len());
            // Under the lock: the generation a reader sees never lags a
            // change it could have missed.
            self.changed();
        }
    }

    /// Adds every entry of the store (a reconcile). Entries are never taken
    /// back, only expire: merging keeps an announcement that arrived while
    /// the store was being read, and what a store that lost its data no
    /// longer has. Returns how many entries changed.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn merge(&self, revocations: &[Revocation]) -> usize {
        let now = unix_now();
        let mut maps = self.write();
        let changed = revocations.iter().filter(|r| maps.apply(r, now)).count();
        maps.sweep(now);
        self.shared.metrics.entries(maps.len());
        if changed > 0 {
            self.changed();
        }
        changed
    }

    /// Entries held, expired ones swept first. The write lock is taken only
    /// when an entry has expired since the last sweep; lookups ignore expired
    /// entries anyway, so a sweep changes no answer.
    pub fn len(&self) -> usize {
        let now = unix_now();
        {
            let maps = self.shared.maps.read().unwrap_or_else(|e| e.into_inner());
            if now < maps.earliest {
                return maps.len();
            }
        }
        let mut maps = self.write();
        maps.sweep(now);
        self.shared.metrics.entries(maps.len());
        maps.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the list does while its store is unreachable ([`OnOutage::Serve`]
    /// for a list without a store).
    ///
    /// ```
    /// use tower_cognito::revocation::{OnOutage, RevocationList};
    /// assert_eq!(RevocationList::new().on_outage(), OnOutage::Serve);
    /// ```
    pub fn on_outage(&self) -> OnOutage {
        self.shared
            .sync
            .as_ref()
            .map_or(OnOutage::Serve, |s| s.on_outage)
    }

    /// Whether the list is loaded and in step with its store, and how many
    /// entries it holds: what a readiness probe
    /// (`loaded`, or `fresh` with [`OnOutage::Deny`]) and a
    /// `tower_cognito_revocations` gauge (`entries`) read.
    ///
    /// ```
    /// let list = tower_cognito::revocation::RevocationList::new();
    /// let status = list.status();
    /// assert!(status.loaded && status.fresh);
    /// assert_eq!(status.entries, 0);
    /// ```
    pub fn status(&self) -> RevocationStatus {
        let now = unix_now();
        let (loaded, fresh) = match &self.shared.sync {
            None => (true, true),
            Some(sync) => (sync.loaded.load(Ordering::Acquire), sync.fresh(now)),
        };
        RevocationStatus {
            loaded,
            fresh,
            entries: self.len(),
        }
    }

    /// Waits until the list has been loaded from its store (at once for a
    /// list without one). A layer refuses every token until then, whatever
    /// [`OnOutage`] says, since no list is known yet.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let list = tower_cognito::revocation::RevocationList::new();
    /// list.loaded().await;
    /// # });
    /// ```
    pub async fn loaded(&self) {
        let Some(sync) = &self.shared.sync else {
            return;
        };
        loop {
            let notified = sync.loaded_notify.notified();
            if sync.loaded.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// Whether these claims' token is covered by an entry, ignoring the
    /// store's state.
    ///
    /// ```
    /// use serde_json::json;
    /// use tower_cognito::claims::CognitoClaims;
    /// use tower_cognito::revocation::{Revocation, RevocationList};
    ///
    /// let claims = CognitoClaims::from_json(json!({
    ///     "token_use": "access", "exp": 4_102_444_800_i64, "sub": "u1",
    ///     "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123",
    ///     "auth_time": 4_000_000_000_i64, "origin_jti": "fam-1", "jti": "tok-1",
    /// })).unwrap();
    /// let list = RevocationList::new();
    /// assert!(!list.is_revoked(&claims));
    /// list.revoke(Revocation::family("tok-1", 4_102_444_800)); // jti: not the family
    /// assert!(!list.is_revoked(&claims));
    /// list.revoke(Revocation::user("us-east-1_AbCdEf123", "u1", 4_000_000_000)); // same second
    /// assert!(!list.is_revoked(&claims));
    /// list.revoke(Revocation::user("us-east-1_AbCdEf123", "u1", 4_000_000_001));
    /// assert!(list.is_revoked(&claims));
    /// ```
    pub fn is_revoked(&self, claims: &CognitoClaims) -> bool {
        self.lookup(claims, unix_now())
    }

    fn lookup(&self, claims: &CognitoClaims, now: i64) -> bool {
        self.shared
            .maps
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .revoked(claims, now)
    }

    /// The request-path check: the store's state, then the entries, skipped
    /// for claims found not revoked in this very state of the list.
    pub(crate) fn check(&self, claims: &CognitoClaims, now: i64) -> Result<(), Refusal> {
        if let Some(sync) = &self.shared.sync {
            if !sync.loaded.load(Ordering::Acquire)
                || (sync.on_outage == OnOutage::Deny && !sync.fresh(now))
            {
                return Err(Refusal::Unavailable);
            }
        }
        let generation = self.shared.generation.load(Ordering::Acquire);
        let memo = claims.revocation_memo();
        if memo.load(Ordering::Relaxed) == generation {
            return Ok(());
        }
        if self.lookup(claims, now) {
            return Err(Refusal::Revoked);
        }
        // Entries only leave by expiring, which revokes nothing more: "not
        // revoked" holds until the next change.
        memo.store(generation, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(feature = "redis")]
pub use self::redis::RevocationListBuilder;

#[cfg(test)]
mod tests;
