//! The authorizer result cache: answers kept for `authorizerResultTtlInSeconds`,
//! keyed by a SHA-256 of the identity values, bounded in entries and in
//! bytes (each answer charged an upper bound of what it holds) with the
//! oldest evicted first; an answer larger than the whole byte bound is not
//! kept.
//!
//! In front of the map, each thread keeps its last few hits matched on the
//! exact identity values (as the token cache's memo does), so a repeated
//! token costs a comparison instead of a hash: the values themselves are
//! then held in that thread's memory until replaced. A memo hit is checked
//! against the same expiry as the map's entry. The slot also keeps the
//! decision its answer's policy gave for the last method and path asked
//! (the method ARN is theirs alone), so the same request again skips the
//! policy too.

use super::output::AuthorizerOutput;
use super::policy::Decision;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) type Key = [u8; 32];

#[derive(Debug)]
pub(crate) struct ResultCache {
    id: u64,
    ttl: Duration,
    capacity: usize,
    max_bytes: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    map: HashMap<Key, (Instant, AuthorizerOutput)>,
    // Insertion order; an entry here whose time differs from the map's is stale.
    order: VecDeque<(Key, Instant)>,
    /// The sum of the map's answers' [`AuthorizerOutput::bytes`].
    bytes: usize,
}

/// Slots of the per-thread memo.
const MEMO_SLOTS: usize = 8;

struct MemoSlot {
    cache: u64,
    /// The identity values, each length-prefixed (see [`encode`]).
    values: Box<[u8]>,
    expires: Instant,
    output: AuthorizerOutput,
    /// The last method and path judged, and the decision.
    judged: Option<(Box<str>, Box<str>, Decision)>,
}

/// A request's method and path, and how to judge an answer for them.
pub(crate) struct Asked<'a, J> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) judge: J,
}

thread_local! {
    static MEMO: RefCell<[Option<MemoSlot>; MEMO_SLOTS]> =
        const { RefCell::new([const { None }; MEMO_SLOTS]) };
}

/// Distinguishes caches in the per-thread memo.
static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

/// Where values sit in the memo: from the last bytes of the last value (a
/// token's signature, random), cheap to read.
fn memo_index(values: &[&[u8]]) -> usize {
    let last = values.last().copied().unwrap_or_default();
    let tail = &last[last.len().saturating_sub(8)..];
    let mut word = [0u8; 8];
    word[..tail.len()].copy_from_slice(tail);
    (u64::from_le_bytes(word).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61) as usize % MEMO_SLOTS
}

/// Each value length-prefixed, so that `["ab", "c"]` and `["a", "bc"]` differ.
fn encode(values: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.iter().map(|v| v.len() + 8).sum());
    for v in values {
        out.extend_from_slice(&(v.len() as u64).to_be_bytes());
        out.extend_from_slice(v);
    }
    out
}

/// Whether `stored` is the encoding of `values`, without building it.
fn encodes(stored: &[u8], values: &[&[u8]]) -> bool {
    let mut rest = stored;
    for v in values {
        let Some((len, tail)) = rest.split_first_chunk::<8>() else {
            return false;
        };
        if u64::from_be_bytes(*len) != v.len() as u64 || !tail.starts_with(v) {
            return false;
        }
        rest = &tail[v.len()..];
    }
    rest.is_empty()
}

impl ResultCache {
    pub(crate) fn new(ttl: Duration, capacity: usize, max_bytes: usize) -> Self {
        Self {
            id: NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed),
            ttl,
            capacity: capacity.max(1),
            max_bytes,
            state: Mutex::default(),
        }
    }

    /// The key of a list of identity values: the SHA-256 of their encoding.
    pub(crate) fn key(values: &[&[u8]]) -> Key {
        Sha256::digest(encode(values)).into()
    }

    /// The cached answer for these values and its decision for the request
    /// (`asked`): this thread's memo first, then the map (by
    /// [`key`](Self::key), which `key_slot` keeps for an insert after a miss).
    pub(crate) fn get<J: FnOnce(&AuthorizerOutput) -> Decision>(
        &self,
        values: &[&[u8]],
        key_slot: &mut Option<Key>,
        asked: Asked<'_, J>,
    ) -> Option<(AuthorizerOutput, Decision)> {
        let index = memo_index(values);
        let now = Instant::now();
        let mut judge = Some(asked.judge);
        let memo_hit = MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            let slot = memo[index]
                .as_mut()
                .filter(|m| m.cache == self.id && now < m.expires && encodes(&m.values, values))?;
            let decision = match &slot.judged {
                Some((m, p, d)) if **m == *asked.method && **p == *asked.path => *d,
                _ => {
                    let d = (judge.take()?)(&slot.output);
                    slot.judged = Some((asked.method.into(), asked.path.into(), d));
                    d
                }
            };
            Some((slot.output.clone(), decision))
        });
        if memo_hit.is_some() {
            return memo_hit;
        }
        let key = Self::key(values);
        *key_slot = Some(key);
        let (at, output) = {
            let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let (at, out) = state.map.get(&key)?;
            (*at, out.clone())
        };
        let expires = at + self.ttl;
        if now >= expires {
            return None;
        }
        let decision = (judge.take()?)(&output);
        MEMO.with(|memo| {
            memo.borrow_mut()[index] = Some(MemoSlot {
                cache: self.id,
                values: encode(values).into(),
                expires,
                output: output.clone(),
                judged: Some((asked.method.into(), asked.path.into(), decision)),
            });
        });
        Some((output, decision))
    }

    /// The map's unexpired answer for a key.
    pub(crate) fn get_key(&self, key: &Key) -> Option<AuthorizerOutput> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (at, out) = state.map.get(key)?;
        (at.elapsed() < self.ttl).then(|| out.clone())
    }

    pub(crate) fn insert(&self, key: Key, out: AuthorizerOutput) {
        let bytes = out.bytes();
        if bytes > self.max_bytes {
            return;
        }
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, old)) = state.map.remove(&key) {
            state.bytes -= old.bytes();
        }
        while state.map.len() >= self.capacity || state.bytes + bytes > self.max_bytes {
            let Some((old, at)) = state.order.pop_front() else {
                break;
            };
            if state.map.get(&old).is_some_and(|(t, _)| *t == at) {
                if let Some((_, gone)) = state.map.remove(&old) {
                    state.bytes -= gone.bytes();
                }
            }
        }
        state.bytes += bytes;
        state.map.insert(key, (now, out));
        state.order.push_back((key, now));
        // Re-inserted keys leave stale order entries behind; keep them bounded.
        if state.order.len() > 2 * self.capacity {
            let State { map, order, .. } = &mut *state;
            order.retain(|(k, at)| map.get(k).is_some_and(|(t, _)| t == at));
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn out(principal: &str) -> AuthorizerOutput {
        AuthorizerOutput::from_json(
            &json!({"principalId": principal,"policyDocument":{"Statement":[]}}),
        )
        .unwrap()
    }

    fn get(cache: &ResultCache, values: &[&[u8]]) -> Option<String> {
        let asked = Asked {
            method: "GET",
            path: "/",
            judge: |o: &AuthorizerOutput| o.policy().evaluate("arn"),
        };
        cache
            .get(values, &mut None, asked)
            .map(|(o, _)| o.principal_id().to_owned())
    }

    #[test]
    fn bounded_oldest_first() {
        let cache = ResultCache::new(Duration::from_secs(60), 3, usize::MAX);
        for i in 0..10u8 {
            cache.insert(ResultCache::key(&[i.to_string().as_bytes()]), out("p"));
            cache.insert(ResultCache::key(&[b"again"]), out("p"));
        }
        assert!(cache.len() <= 3);
        assert!(get(&cache, &[b"9"]).is_some());
        assert!(get(&cache, &[b"0"]).is_none());
        assert_ne!(
            ResultCache::key(&[b"ab", b"c"]),
            ResultCache::key(&[b"a", b"bc"])
        );
    }

    /// Answers are charged what they hold: big ones push the oldest out
    /// before the entry bound does, the sum never passes the byte bound,
    /// and one bigger than the whole bound is not kept.
    #[test]
    fn bounded_in_bytes() {
        let big = |principal: &str| {
            let context: serde_json::Map<String, Value> = (0..20)
                .map(|i| (format!("k{i}"), Value::from("v".repeat(100))))
                .collect();
            AuthorizerOutput::from_json(&json!({
                "principalId": principal,
                "policyDocument": {"Statement": []},
                "context": context,
            }))
            .unwrap()
        };
        let each = big("p").bytes();
        assert!(each > 20 * 100, "{each}");
        let cache = ResultCache::new(Duration::from_secs(60), 1000, 4 * each + each / 2);
        for i in 0..12u8 {
            cache.insert(ResultCache::key(&[&[i]]), big("p"));
            let state = cache.state.lock().unwrap();
            assert!(state.bytes <= 4 * each + each / 2, "{}", state.bytes);
            let sum: usize = state.map.values().map(|(_, o)| o.bytes()).sum();
            assert_eq!(state.bytes, sum);
        }
        assert_eq!(cache.len(), 4);
        assert!(get(&cache, &[&[11]]).is_some());
        assert!(get(&cache, &[&[0]]).is_none());
        // Replacing an entry does not count it twice.
        cache.insert(ResultCache::key(&[&[11]]), big("q"));
        assert_eq!(cache.len(), 4);
        let small = ResultCache::new(Duration::from_secs(60), 1000, each - 1);
        small.insert(ResultCache::key(&[b"x"]), big("p"));
        assert_eq!(small.len(), 0, "an answer over the whole bound is not kept");
    }

    /// The decision is reused for the same method and path only.
    #[test]
    fn memo_keeps_the_last_decision_per_method_and_path() {
        let cache = ResultCache::new(Duration::from_secs(60), 10, usize::MAX);
        cache.insert(ResultCache::key(&[b"tok"]), out("p"));
        let judged = std::cell::Cell::new(0);
        let ask = |method: &'static str, path: &'static str| {
            let asked = Asked {
                method,
                path,
                judge: |_: &AuthorizerOutput| {
                    judged.set(judged.get() + 1);
                    if method == "GET" {
                        Decision::Allow
                    } else {
                        Decision::NoAllow
                    }
                },
            };
            cache.get(&[b"tok"], &mut None, asked).map(|(_, d)| d)
        };
        assert_eq!(ask("GET", "/a"), Some(Decision::Allow));
        assert_eq!(ask("GET", "/a"), Some(Decision::Allow));
        assert_eq!(judged.get(), 1);
        assert_eq!(ask("POST", "/a"), Some(Decision::NoAllow));
        assert_eq!(ask("GET", "/b"), Some(Decision::Allow));
        assert_eq!(ask("GET", "/a"), Some(Decision::Allow));
        assert_eq!(judged.get(), 4);
    }

    /// The memo answers only for the exact values, of its own cache, and not
    /// past the entry's expiry.
    #[test]
    fn memo_matches_exactly_and_expires() {
        let cache = ResultCache::new(Duration::from_millis(200), 10, usize::MAX);
        let other = ResultCache::new(Duration::from_secs(60), 10, usize::MAX);
        cache.insert(ResultCache::key(&[b"ab", b"c"]), out("first"));
        // A map hit fills the memo; the next lookup is a memo hit.
        for _ in 0..2 {
            assert_eq!(get(&cache, &[b"ab", b"c"]).as_deref(), Some("first"));
        }
        assert_eq!(get(&cache, &[b"a", b"bc"]), None);
        assert_eq!(get(&cache, &[b"ab"]), None);
        assert_eq!(get(&cache, &[b"ab", b"c", b""]), None);
        assert_eq!(get(&other, &[b"ab", b"c"]), None);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(get(&cache, &[b"ab", b"c"]), None, "expired");
        assert!(encodes(&encode(&[b"x", b""]), &[b"x", b""]));
        assert!(!encodes(&encode(&[b"x", b""]), &[b"x"]));
    }
}
