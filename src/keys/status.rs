//! What a [`KeyStore`](super::KeyStore) reports: per-pool status for health
//! endpoints, and the error of a first load that failed.

use std::fmt;
use std::time::SystemTime;

/// A pool's state, for health endpoints.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The user pool ID.
    pub pool_id: String,
    /// The issuer tokens must carry.
    pub issuer: String,
    /// Where keys are fetched from.
    pub jwks_url: String,
    /// Number of usable keys held.
    pub keys: usize,
    /// Their key IDs, sorted.
    pub kids: Vec<String>,
    /// When a key set was last installed.
    pub last_success: Option<SystemTime>,
    /// The last fetch error, cleared by a success.
    pub last_error: Option<String>,
    /// Fetches attempted so far.
    pub fetches: u64,
    /// Entries of the last document that were not usable RS256 keys.
    pub skipped_keys: usize,
}

/// A snapshot of the whole store, for health endpoints.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyStoreStatus {
    /// One entry per pool, in configuration order.
    pub pools: Vec<PoolStatus>,
    /// Incremented each time any pool's key set changes.
    pub generation: u64,
}

impl KeyStoreStatus {
    /// Whether every pool has keys.
    pub fn ready(&self) -> bool {
        self.pools.iter().all(|p| p.keys > 0)
    }
}

/// Pools whose keys could not be loaded, with the reasons.
#[derive(Debug, Clone)]
pub struct KeyLoadError {
    pub(super) failures: Vec<(String, String)>,
}

impl KeyLoadError {
    /// `(pool ID, reason)` for each pool that failed.
    pub fn failures(&self) -> &[(String, String)] {
        &self.failures
    }
}

impl fmt::Display for KeyLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not load keys for ")?;
        for (i, (pool, reason)) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{pool} ({reason})")?;
        }
        Ok(())
    }
}

impl std::error::Error for KeyLoadError {}
