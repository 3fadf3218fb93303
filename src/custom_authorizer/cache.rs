//! The authorizer result cache: answers kept for `authorizerResultTtlInSeconds`,
//! keyed by a SHA-256 of the identity values (so no token is held in memory),
//! bounded in entries with the oldest evicted first.

use super::output::AuthorizerOutput;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

type Key = [u8; 32];

#[derive(Debug)]
pub(crate) struct ResultCache {
    ttl: Duration,
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    map: HashMap<Key, (Instant, AuthorizerOutput)>,
    // Insertion order; an entry here whose time differs from the map's is stale.
    order: VecDeque<(Key, Instant)>,
}

impl ResultCache {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            state: Mutex::default(),
        }
    }

    /// The key of a list of identity values, each length-prefixed so that
    /// `["ab", "c"]` and `["a", "bc"]` differ.
    pub(crate) fn key<'a>(values: impl IntoIterator<Item = &'a str>) -> Key {
        let mut h = Sha256::new();
        for v in values {
            h.update((v.len() as u64).to_be_bytes());
            h.update(v.as_bytes());
        }
        h.finalize().into()
    }

    pub(crate) fn get(&self, key: &Key) -> Option<AuthorizerOutput> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (at, out) = state.map.get(key)?;
        (at.elapsed() < self.ttl).then(|| out.clone())
    }

    pub(crate) fn insert(&self, key: Key, out: AuthorizerOutput) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while state.map.len() >= self.capacity && !state.map.contains_key(&key) {
            let Some((old, at)) = state.order.pop_front() else {
                break;
            };
            if state.map.get(&old).is_some_and(|(t, _)| *t == at) {
                state.map.remove(&old);
            }
        }
        state.map.insert(key, (now, out));
        state.order.push_back((key, now));
        // Re-inserted keys leave stale order entries behind; keep them bounded.
        if state.order.len() > 2 * self.capacity {
            let State { map, order } = &mut *state;
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
    use serde_json::json;

    fn out() -> AuthorizerOutput {
        AuthorizerOutput::from_json(&json!({"principalId":"p","policyDocument":{"Statement":[]}}))
            .unwrap()
    }

    #[test]
    fn bounded_oldest_first() {
        let cache = ResultCache::new(Duration::from_secs(60), 3);
        for i in 0..10u8 {
            cache.insert(ResultCache::key([&*i.to_string()]), out());
            cache.insert(ResultCache::key(["again"]), out());
        }
        assert!(cache.len() <= 3);
        assert!(cache.get(&ResultCache::key(["9"])).is_some());
        assert!(cache.get(&ResultCache::key(["0"])).is_none());
        assert_ne!(ResultCache::key(["ab", "c"]), ResultCache::key(["a", "bc"]));
    }
}
