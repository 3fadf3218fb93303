//! A string-keyed map for lookups on the request path.
//!
//! Built once (issuers at startup, a key set per JWKS fetch, a route table's
//! path segments) and then only read, so it is tuned for lookups: a linear scan
//! while small, else an open-addressing index with a fast hash. Keys are chosen
//! by the operator or the key server, never by a request, so an attacker can
//! only look up, not fill the index with collisions.

use crate::short_bytes::{hash, same};

/// Above this many entries a hash index is kept; below, a linear scan of a
/// few string comparisons beats hashing the key (one or two user pools, a
/// pool's two keys, the methods of one resource).
const SCAN_LIMIT: usize = 8;

/// Insertion-ordered map from strings, cheap to look up at any size.
#[derive(Debug, Clone)]
pub(crate) struct StrMap<V> {
    entries: Vec<(Box<str>, V)>,
    index: Option<Index>,
}

/// Open addressing with linear probing, at most half full. A slot holds the
/// key's hash tag (high half) and its entry position plus one (low half; 0 is
/// an empty slot), so a probe compares strings only when the tags agree.
#[derive(Debug, Clone)]
struct Index {
    slots: Box<[u64]>,
    mask: usize,
}

impl Index {
    fn with_entries<V>(entries: &[(Box<str>, V)]) -> Self {
        let capacity = (entries.len() * 2).next_power_of_two().max(32);
        let mut index = Self {
            slots: vec![0; capacity].into_boxed_slice(),
            mask: capacity - 1,
        };
        for (position, (key, _)) in entries.iter().enumerate() {
            index.place(key, position);
        }
        index
    }

    /// Records `position` for `key`, which the map has checked is absent.
    fn place(&mut self, key: &str, position: usize) {
        let hash = hash(key.as_bytes());
        // Positions stay far below 2^32: the map never holds that many entries.
        let slot = (hash & !0xffff_ffff) | ((position as u64 + 1) & 0xffff_ffff);
        let mut i = hash as usize & self.mask;
        while self.slots[i] != 0 {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = slot;
    }

    /// The entry position of `key`, whose [`hash`] is `hash`.
    #[inline(always)]
    fn position<V>(&self, entries: &[(Box<str>, V)], key: &[u8], hash: u64) -> Option<usize> {
        let tag = hash & !0xffff_ffff;
        let mut i = hash as usize & self.mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return None;
            }
            if slot & !0xffff_ffff == tag {
                let position = (slot & 0xffff_ffff) as usize - 1;
                if entries
                    .get(position)
                    .is_some_and(|(k, _)| same(k.as_bytes(), key))
                {
                    return Some(position);
                }
            }
            i = (i + 1) & self.mask;
        }
    }
}

impl<V> Default for StrMap<V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            index: None,
        }
    }
}

impl<V> StrMap<V> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
            index: None,
        }
    }

    #[inline]
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.position(&self.entries, key.as_bytes(), hash(key.as_bytes())),
            None => self
                .entries
                .iter()
                .position(|(k, _)| same(k.as_bytes(), key.as_bytes())),
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Adds an entry unless the key is present; returns whether it was added.
    pub(crate) fn insert(&mut self, key: Box<str>, value: V) -> bool {
        if self.contains_key(&key) {
            return false;
        }
        self.entries.push((key, value));
        let len = self.entries.len();
        match &mut self.index {
            // Grow before the index is more than half full.
            Some(index) if len * 2 <= index.slots.len() => {
                if let Some((key, _)) = self.entries.last() {
                    index.place(key, len - 1);
                }
            }
            _ if len > SCAN_LIMIT => self.index = Some(Index::with_entries(&self.entries)),
            _ => {}
        }
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| &**k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::short_bytes::hash;

    #[test]
    fn small_and_large_maps_agree() {
        for n in [0usize, 1, 2, 8, 9, 17, 100, 5_000] {
            let mut map = StrMap::default();
            for i in 0..n {
                assert!(map.insert(format!("k{i}").into(), i));
                assert!(!map.insert(format!("k{i}").into(), 0), "duplicate kept");
            }
            assert_eq!(map.len(), n);
            assert_eq!(map.is_empty(), n == 0);
            assert_eq!(map.index.is_some(), n > SCAN_LIMIT);
            for i in 0..n {
                assert_eq!(map.get(&format!("k{i}")), Some(&i));
            }
            assert_eq!(map.get("missing"), None);
            assert_eq!(map.get(""), None);
            assert_eq!(map.get(&format!("k{n}")), None);
            assert_eq!(map.keys().count(), n);
            assert_eq!(
                map.iter().map(|(_, v)| *v).sum::<usize>(),
                (0..n).sum::<usize>()
            );
        }
    }

    #[test]
    fn keys_differing_in_length_or_zero_bytes_are_distinct() {
        let keys = [
            "",
            "\0",
            "\0\0",
            "a",
            "a\0",
            "abcdefgh",
            "abcdefgh\0",
            "abcdefghi",
        ];
        let mut map = StrMap::default();
        for extra in 0..10 {
            map.insert(format!("pad{extra}").into(), usize::MAX);
        }
        for (i, k) in keys.iter().enumerate() {
            assert!(map.insert((*k).into(), i), "{k:?}");
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(map.get(k), Some(&i), "{k:?}");
        }
        assert_ne!(hash(b""), hash(b"\0"));
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                assert_eq!(same(a.as_bytes(), b.as_bytes()), i == j, "{a:?} {b:?}");
            }
        }
        assert_ne!(hash(b"abcdefgh"), hash(b"abcdefgh\0"));
    }

    #[test]
    fn index_stays_at_most_half_full() {
        let mut map = StrMap::default();
        for i in 0..1_000 {
            map.insert(format!("/svc{i}").into(), i);
            if let Some(index) = &map.index {
                assert!(map.len() * 2 <= index.slots.len(), "{} entries", map.len());
            }
        }
    }
}
