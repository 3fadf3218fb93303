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

mod sync;

pub use self::sync::RevocationListBuilder;

use super::Revocation;
use crate::authorizer::unix_now;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::fmt;
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

pub(super) fn unreachable(e: impl fmt::Display) -> StoreError {
    StoreError::Unreachable(e.to_string())
}

/// The names under one prefix.
#[derive(Debug, Clone)]
pub(super) struct Names {
    tag: String,
}

impl Names {
    pub(super) fn new(prefix: &str) -> Self {
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
    pub(super) fn channel(&self) -> String {
        format!("{}:announce", self.tag)
    }
}

pub(super) fn open(url: &str) -> Result<redis::Client, StoreError> {
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
    pub(super) async fn version(&self) -> Result<u64, StoreError> {
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
    pub(super) async fn load_versioned(&self) -> Result<(u64, Vec<Revocation>), StoreError> {
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
