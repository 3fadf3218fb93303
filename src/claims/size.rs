//! An upper bound of the heap one [`CognitoClaims`] takes or can come to take:
//! the claims map, what route policy reads, and the API Gateway rendering
//! built on first use. The token cache charges an entry this much when it
//! stores it, so its byte limit bounds memory whatever the service reads.

use super::{CognitoClaims, Inner};
use serde_json::{Map, Value};
use std::io;
use std::mem::size_of;

/// What an allocation of `n` bytes may really take: common allocators round
/// up to size classes at most a quarter apart, and keep a header.
fn alloc(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        n + n / 4 + 32
    }
}

/// The nodes of a map of `len` entries of `entry` bytes: B-tree nodes (the
/// map `serde_json` uses, and the rendering's) hold at most 11 entries and 12
/// child pointers, and every node but the root at least 5 when the map was
/// built by insertion. An insertion-ordered map's table takes less.
fn nodes(len: usize, entry: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (len / 5 + 1) * alloc(11 * entry + 12 * size_of::<usize>() + 16)
}

fn map(m: &Map<String, Value>) -> usize {
    let entries: usize = m.iter().map(|(k, v)| alloc(k.capacity()) + value(v)).sum();
    nodes(m.len(), size_of::<String>() + size_of::<Value>()) + entries
}

/// A value's heap, beside the value itself (numbers are held inline).
fn value(v: &Value) -> usize {
    match v {
        Value::String(s) => alloc(s.capacity()),
        Value::Array(items) => {
            alloc(items.capacity() * size_of::<Value>()) + items.iter().map(value).sum::<usize>()
        }
        Value::Object(m) => map(m),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

/// Counts what is written.
struct Count(usize);

impl io::Write for Count {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The length of a value as compact JSON, as the rendering writes it.
fn json_len(v: &Value) -> usize {
    let mut count = Count(0);
    // Writing to a counter cannot fail; if it did, the bound would be short
    // only for this value's text.
    let _ = serde_json::to_writer(&mut count, v);
    count.0
}

/// The capacity a rendered value may have: a clone of a string is exact;
/// text built by appending (joined arrays, JSON, numbers, dates) may hold up
/// to twice its length, as a growing `String` doubles.
fn rendered(v: &Value) -> usize {
    let grown = |len: usize| 2 * len + 8;
    match v {
        Value::Null => 0,
        Value::String(s) => s.len(),
        Value::Bool(_) => 5,
        // A Java date is 28 characters; a number at most 24.
        Value::Number(_) => grown(28),
        Value::Array(items) => grown(
            items
                .iter()
                .map(|item| match item {
                    Value::String(s) => s.len() + 1,
                    other => json_len(other) + 1,
                })
                .sum(),
        ),
        Value::Object(_) => grown(json_len(v)),
    }
}

/// The API Gateway rendering of `m`: one string per non-null member.
fn rendering(m: &Map<String, Value>) -> usize {
    let members = m.iter().filter(|(_, v)| !v.is_null());
    let strings: usize = members
        .clone()
        .map(|(k, v)| alloc(k.len()) + alloc(rendered(v)))
        .sum();
    nodes(members.count(), 2 * size_of::<String>()) + strings
}

impl CognitoClaims {
    /// Heap bytes these claims take, and may come to take once rendered for
    /// API Gateway, at most.
    pub(crate) fn heap_bound(&self) -> usize {
        let inner = &*self.0;
        let policy = &inner.policy;
        let boxed = |s: &Option<Box<str>>| s.as_deref().map_or(0, |s| alloc(s.len()));
        let policy_bytes = boxed(&policy.scope)
            + boxed(&policy.aud)
            + boxed(&policy.client_id)
            + alloc(policy.groups.len() * size_of::<Box<str>>())
            + policy.groups.iter().map(|g| alloc(g.len())).sum::<usize>();
        // The shared allocation: `Inner` and the two reference counts.
        alloc(size_of::<Inner>() + 2 * size_of::<usize>())
            + map(&inner.raw)
            + policy_bytes
            + rendering(&inner.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rendering_fits_its_bound() {
        let claims = CognitoClaims::from_json(json!({
            "token_use": "id",
            "exp": 1_544_116_103,
            "iat": 1_544_112_503,
            "ratio": 1.5e300,
            "ok": false,
            "cognito:groups": ["admin", 7, {"a": [1, "x"]}, null],
            "identities": [{"userId": "1", "providerName": "Google"}],
            "addr": {"street": "\u{1}\"é"},
            "gone": null,
        }))
        .unwrap();
        for (name, text) in claims.api_gateway().iter() {
            let value = &claims.raw()[name];
            assert!(text.len() <= rendered(value), "{name}: {text}");
        }
    }
}
