//! A string-keyed map for lookups on the request path.

use std::collections::HashMap;

/// Above this many entries a hash index is kept; below, a linear scan of a
/// few string comparisons beats hashing the key (one or two user pools, a
/// pool's two keys).
const SCAN_LIMIT: usize = 8;

/// Insertion-ordered map from strings, cheap to look up when small.
#[derive(Debug, Clone)]
pub(crate) struct StrMap<V> {
    entries: Vec<(Box<str>, V)>,
    index: Option<HashMap<Box<str>, usize>>,
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
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| **k == *key),
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
        let i = self.entries.len();
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), i);
        }
        self.entries.push((key, value));
        if self.index.is_none() && self.entries.len() > SCAN_LIMIT {
            self.index = Some(
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect(),
            );
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

    #[test]
    fn small_and_large_maps_agree() {
        for n in [0usize, 1, 2, 8, 9, 100] {
            let mut map = StrMap::default();
            for i in 0..n {
                assert!(map.insert(format!("k{i}").into(), i));
                assert!(!map.insert(format!("k{i}").into(), 0), "duplicate kept");
            }
            assert_eq!(map.len(), n);
            assert_eq!(map.is_empty(), n == 0);
            for i in 0..n {
                assert_eq!(map.get(&format!("k{i}")), Some(&i));
            }
            assert_eq!(map.get("missing"), None);
            assert_eq!(map.keys().count(), n);
            assert_eq!(
                map.iter().map(|(_, v)| *v).sum::<usize>(),
                (0..n).sum::<usize>()
            );
        }
    }
}
