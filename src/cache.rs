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
use crate::observe::CacheMetrics;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A SHA-256 of a token.
pub(crate) type TokenHash = [u8; 32];

/// Fixed accounting per entry beside the claims and the kid: the map slot,
/// the entry and its shared allocation. With the claims' own bound (their map,
/// what policy reads and the API Gateway rendering they may build later), an
/// upper bound of what an entry can take, checked by the `cache_memory` test
/// with a counting allocator.
const ENTRY_OVERHEAD: usize = 512;

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

/// A verified token's claims and what decides whether they still hold.
/// Shared by the map and the per-thread front memo.
struct Verified {
    claims: CognitoClaims,
    exp: i64,
    slot: usize,
    kid: Box<str>,
    /// The key that verified the token; the entry is dead once the pool's key
    /// set no longer holds this very key.
    key: Weak<KeyEntry>,
    /// The version of the pool's key set last seen holding `key`.
    version: AtomicU64,
}

impl Verified {
    /// Whether the verifying key is still in its pool's current key set. The
    /// same set as last time answers in one comparison.
    fn live(&self, keys: &KeyStore) -> bool {
        let snapshot = keys.snapshot(self.slot);
        if snapshot.version == self.version.load(Ordering::Relaxed) {
            return true;
        }
        let live = snapshot
            .keys
            .get(&self.kid)
            .is_some_and(|k| std::ptr::eq(Arc::as_ptr(k), self.key.as_ptr()));
        if live {
            self.version.store(snapshot.version, Ordering::Relaxed);
        }
        live
    }
}

struct Entry {
    verified: Arc<Verified>,
    bytes: usize,
    exp: i64,
}

/// Slots of the per-thread memo in front of the map.
const MEMO_SLOTS: usize = 8;

/// A few recent hits per thread, matched on the exact token bytes, so a token
/// seen again on the same thread skips hashing. Every hit re-checks expiry,
/// key liveness and the asking authorizer's pools, as a map hit does.
struct MemoSlot {
    cache: u64,
    token: Box<[u8]>,
    verified: Arc<Verified>,
}

thread_local! {
    static MEMO: RefCell<[Option<MemoSlot>; MEMO_SLOTS]> = const { RefCell::new([const { None }; MEMO_SLOTS]) };
}

/// Distinguishes caches in the per-thread memo.
static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

/// Where a token sits in the memo: from its last bytes (the signature's,
/// random), cheap to read.
fn memo_index(token: &[u8]) -> usize {
    let tail = &token[token.len().saturating_sub(8)..];
    let mut word = [0u8; 8];
    word[..tail.len()].copy_from_slice(tail);
    (u64::from_le_bytes(word).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61) as usize % MEMO_SLOTS
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
    id: u64,
    shards: Box<[Mutex<Shard>]>,
    shard_entries: usize,
    shard_bytes: usize,
    metrics: CacheMetrics,
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
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            shards: (0..shards).map(|_| Mutex::default()).collect(),
            shard_entries: limits.max_entries.div_ceil(shards),
            shard_bytes: limits.max_bytes.div_ceil(shards),
            metrics: CacheMetrics::new(),
        })
    }

    fn shard(&self, hash: &TokenHash) -> &Mutex<Shard> {
        // Bytes 8.. pick the shard; bytes ..8 are the map's hash.
        let i = usize::from(hash[8]) | usize::from(hash[9]) << 8;
        &self.shards[i & (self.shards.len() - 1)]
    }

    /// Looks a token up: first in this thread's memo by its exact bytes, then
    /// in the map by its SHA-256. `allowed` says whether the entry's pool is one
    /// of the asking authorizer's. Entries whose key left the key set are
    /// dropped. On a miss, the hash is returned for [`insert`](Self::insert).
    pub(crate) fn get(
        &self,
        token: &[u8],
        keys: &KeyStore,
        allowed: impl Fn(usize) -> bool,
    ) -> (Lookup, Option<TokenHash>) {
        let index = memo_index(token);
        let memo_hit = MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            let slot = &mut memo[index];
            let found = slot
                .as_ref()
                .filter(|m| m.cache == self.id && *m.token == *token)
                .map(|m| Arc::clone(&m.verified))?;
            if !found.live(keys) {
                *slot = None;
                return None;
            }
            Some(found)
        });
        if let Some(v) = memo_hit {
            if allowed(v.slot) {
                self.metrics.hit();
                return (Lookup::Hit(v.claims.clone(), v.exp), None);
            }
        }
        let hash = hash(token);
        let verified = {
            let mut shard = self.shard(&hash).lock().unwrap_or_else(|e| e.into_inner());
            let Some(entry) = shard.map.get(&hash) else {
                self.metrics.miss();
                return (Lookup::Miss, Some(hash));
            };
            if !allowed(entry.verified.slot) {
                // Another authorizer's pool: let the full path give the reason.
                self.metrics.miss();
                return (Lookup::Miss, None);
            }
            if !entry.verified.live(keys) {
                shard.remove(&hash);
                self.metrics.miss();
                self.metrics.entries(-1);
                return (Lookup::Miss, Some(hash));
            }
            Arc::clone(&entry.verified)
        };
        self.metrics.hit();
        let hit = Lookup::Hit(verified.claims.clone(), verified.exp);
        MEMO.with(|memo| {
            memo.borrow_mut()[index] = Some(MemoSlot {
                cache: self.id,
                token: token.into(),
                verified,
            });
        });
        (hit, None)
    }

    /// Drops a token's entry and this thread's memo of it (its `exp` passed).
    pub(crate) fn remove(&self, token: &[u8]) {
        MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            let slot = &mut memo[memo_index(token)];
            if slot
                .as_ref()
                .is_some_and(|m| m.cache == self.id && *m.token == *token)
            {
                *slot = None;
            }
        });
        let hash = hash(token);
        let mut shard = self.shard(&hash).lock().unwrap_or_else(|e| e.into_inner());
        let before = shard.map.len();
        shard.remove(&hash);
        self.metrics
            .entries(shard.map.len() as isize - before as isize);
    }

    /// Stores verified claims, charged for the byte limit with what they can
    /// grow to.
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
    ) {
        // Charged with the claims map built (now), as when the service reads it.
        let bytes = claims.heap_bound() + kid.len() + ENTRY_OVERHEAD;
        if bytes > self.shard_bytes {
            return;
        }
        let mut shard = self.shard(&hash).lock().unwrap_or_else(|e| e.into_inner());
        let before = shard.map.len();
        shard.remove(&hash);
        let replaced = before - shard.map.len();
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
                verified: Arc::new(Verified {
                    claims: claims.clone(),
                    exp,
                    slot,
                    kid: kid.into(),
                    key: Arc::downgrade(key),
                    version: AtomicU64::new(version),
                }),
                bytes,
                exp,
            },
        );
        let after = shard.map.len();
        drop(shard);
        // Entries gone beyond the one replaced were evicted to make room.
        self.metrics
            .evicted((before + 1).saturating_sub(after + replaced));
        self.metrics.entries(after as isize - before as isize);
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
