//! The verified-token cache: a token seen before is not verified again.
//!
//! Keyed by the SHA-256 of the whole token, so a token differing in any byte is
//! a different entry. An entry holds the verified claims and is used only while
//! the token's `exp` has not passed and the key that verified it is still in its
//! pool's key set; route policy (token_use, scopes, Token validation, groups,
//! clients, revocation) is still decided on every request from the cached claims.
//! Only tokens whose signature and time claims verified are stored: failures
//! never are. Sharded, one small mutex per shard, so no lock is global.

use crate::claims::CognitoClaims;
use crate::keys::{KeyEntry, KeyStore};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, Weak};

/// A SHA-256 of a token.
pub(crate) type TokenHash = [u8; 32];

/// Fixed accounting per entry beside the claims: the map slot, the entry, the
/// claims' shared header. With [`PAYLOAD_FACTOR`], an upper bound of what an
/// entry really takes, checked by the `cache_memory` test with a counting
/// allocator (a typical ID token: about 2.7 KiB real, 3.3 KiB accounted).
const ENTRY_OVERHEAD: usize = 512;

/// Parsed claims (a map of owned strings and JSON values) take up to about six
/// times their JSON text.
const PAYLOAD_FACTOR: usize = 6;

/// Limits of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheLimits {
    pub(crate) max_entries: usize,
    pub(crate) max_bytes: usize,
}

/// The key is already uniformly random: use its first bytes as the hash.
#[derive(Default)]
pub(crate) struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(word);
    }
}

struct Entry {
    claims: CognitoClaims,
    exp: i64,
    slot: usize,
    kid: Box<str>,
    /// The key that verified the token; the entry is dead once the pool's key
    /// set no longer holds this very key.
    key: Weak<KeyEntry>,
    /// The version of the pool's key set last seen holding `key`.
    version: u64,
    bytes: usize,
}

#[derive(Default)]
struct Shard {
    map: HashMap<TokenHash, Entry, BuildHasherDefault<PrefixHasher>>,
    bytes: usize,
}

impl Shard {
    fn remove(&mut self, hash: &TokenHash) {
        if let Some(old) = self.map.remove(hash) {
            self.bytes -= old.bytes;
        }
    }
}

/// What a lookup found.
pub(crate) enum Lookup {
    /// Verified claims and their `exp`.
    Hit(CognitoClaims, i64),
    Miss,
}

pub(crate) struct TokenCache {
    shards: Box<[Mutex<Shard>]>,
    shard_entries: usize,
    shard_bytes: usize,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("shards", &self.shards.len())
            .field("shard_entries", &self.shard_entries)
            .finish_non_exhaustive()
    }
}

pub(crate) fn hash(token: &[u8]) -> TokenHash {
    Sha256::digest(token).into()
}

impl TokenCache {
    /// `None` when either limit is zero: caching off.
    pub(crate) fn new(limits: CacheLimits) -> Option<Self> {
        if limits.max_entries == 0 || limits.max_bytes == 0 {
            return None;
        }
        // Enough shards that cores rarely meet on one, few enough that each can
        // hold several typical entries (about 3.3 KiB accounted each) within
        // its share of the byte budget.
        let fit = (limits.max_bytes / (32 * 1024))
            .min(limits.max_entries)
            .clamp(1, 64);
        let shards = 1 << fit.ilog2();
        Some(Self {
            shards: (0..shards).map(|_| Mutex::default()).collect(),
            shard_entries: limits.max_entries.div_ceil(shards),
            shard_bytes: limits.max_bytes.div_ceil(shards),
        })
    }

    fn shard(&self, hash: &TokenHash) -> &Mutex<Shard> {
        // Bytes 8.. pick the shard; bytes ..8 are the map's hash.
        let i = usize::from(hash[8]) | usize::from(hash[9]) << 8;
        &self.shards[i & (self.shards.len() - 1)]
    }

    /// Looks a token up. `allowed` says whether the entry's pool is one of the
    /// asking authorizer's. Entries whose key left the key set are dropped.
    pub(crate) fn get(
        &self,
        hash: &TokenHash,
        keys: &KeyStore,
        allowed: impl FnOnce(usize) -> bool,
    ) -> Lookup {
        let mut shard = self.shard(hash).lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = shard.map.get_mut(hash) else {
            return Lookup::Miss;
        };
        if !allowed(entry.slot) {
            // Another authorizer's pool: let the full path give the reason.
            return Lookup::Miss;
        }
        let snapshot = keys.snapshot(entry.slot);
        // The same key set as last time: the key is still in it. Otherwise
        // look for this very key (not just its kid) in the new set.
        if snapshot.version != entry.version {
            let live = snapshot
                .keys
                .get(&*entry.kid)
                .is_some_and(|k| std::ptr::eq(Arc::as_ptr(k), entry.key.as_ptr()));
            if !live {
                shard.remove(hash);
                return Lookup::Miss;
            }
            entry.version = snapshot.version;
        }
        Lookup::Hit(entry.claims.clone(), entry.exp)
    }

    /// Drops an entry (its token expired).
    pub(crate) fn remove(&self, hash: &TokenHash) {
        self.shard(hash)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(hash);
    }

    /// Stores verified claims. `payload_len` (the decoded payload's size) sizes
    /// the entry for the byte limit.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert(
        &self,
        hash: TokenHash,
        claims: &CognitoClaims,
        exp: i64,
        now: i64,
        slot: usize,
        kid: &str,
        key: &Arc<KeyEntry>,
        version: u64,
        payload_len: usize,
    ) {
        let bytes = PAYLOAD_FACTOR * payload_len + kid.len() + ENTRY_OVERHEAD;
        if bytes > self.shard_bytes {
            return;
        }
        let mut shard = self.shard(&hash).lock().unwrap_or_else(|e| e.into_inner());
        shard.remove(&hash);
        if shard.map.len() >= self.shard_entries || shard.bytes + bytes > self.shard_bytes {
            // Expired entries go first, then any: keys are random, so the map's
            // order is as good as a random choice.
            let mut freed = 0;
            shard.map.retain(|_, e| {
                let keep = e.exp > now;
                if !keep {
                    freed += e.bytes;
                }
                keep
            });
            shard.bytes -= freed;
            while shard.map.len() >= self.shard_entries || shard.bytes + bytes > self.shard_bytes {
                let Some(victim) = shard.map.keys().next().copied() else {
                    break;
                };
                shard.remove(&victim);
            }
        }
        shard.bytes += bytes;
        shard.map.insert(
            hash,
            Entry {
                claims: claims.clone(),
                exp,
                slot,
                kid: kid.into(),
                key: Arc::downgrade(key),
                version,
                bytes,
            },
        );
    }

    /// Entries held, over all shards.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).map.len())
            .sum()
    }

    /// Bytes accounted, over all shards.
    pub(crate) fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).bytes)
            .sum()
    }
}
