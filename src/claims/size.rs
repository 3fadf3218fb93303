//! An upper bound of the heap one [`CognitoClaims`] of a verified token takes
//! or can come to take: the claims map, what route policy reads, and the API
//! Gateway rendering built on first use. The token cache charges an entry
//! this much when it stores it, so its byte limit bounds memory whatever the
//! service reads.

use super::{CognitoClaims, Inner};
use serde_json::{Map, Value};
use std::io;
use std::mem::size_of;

/// What an allocation of `n` bytes takes with the system allocator (glibc:
/// an 8-byte header, 16-byte granules). Allocators with coarser size classes
/// may round some sizes up by as much as a quarter more.
fn alloc(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        n + 24
    }
}

/// How a B-tree map (`serde_json`'s, the default) was built: in one go from
/// sorted members, which fills its nodes, or one insertion at a time, which
/// leaves every node but the root at least 5 of 11 entries full.
#[derive(Clone, Copy)]
enum Built {
    Packed,
    Inserted,
}

/// The nodes of a B-tree map of `len` entries of `entry` bytes each: nodes of
/// up to 11 entries, internal ones with 12 child pointers too.
fn nodes(len: usize, entry: usize, built: Built) -> usize {
    if len == 0 {
        return 0;
    }
    let leaf = alloc(11 * entry + 16);
    let internal = alloc(11 * entry + 16 + 12 * size_of::<usize>());
    match built {
        Built::Inserted => (len / 5 + 1) * internal,
        Built::Packed => {
            let mut count = len / 11 + 1;
            let mut bytes = count * leaf;
            while count > 1 {
                count = count / 11 + 1;
                bytes += count * internal;
            }
            bytes
        }
    }
}

fn map(m: &Map<String, Value>, built: Built) -> usize {
    let entries: usize = m.iter().map(|(k, v)| alloc(k.capacity()) + value(v)).sum();
    nodes(m.len(), size_of::<String>() + size_of::<Value>(), built) + entries
}

/// A value's heap, beside the value itself (numbers are held inline, as
/// without `serde_json`'s `arbitrary_precision`). Objects inside a payload
/// are built one member at a time.
fn value(v: &Value) -> usize {
    match v {
        Value::String(s) => alloc(s.capacity()),
        Value::Array(items) => {
            alloc(items.capacity() * size_of::<Value>()) + items.iter().map(value).sum::<usize>()
        }
        Value::Object(m) => map(m, Built::Inserted),
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
    // Writing to a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, v);
    count.0
}

/// The length of a value as API Gateway renders it, at most.
fn rendered(v: &Value) -> usize {
    match v {
        Value::Null => 0,
        Value::String(s) => s.len(),
        Value::Bool(_) => 5,
        // Digits of any number, or a Java date, fit in 40 characters.
        Value::Number(_) => 40,
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.len() + 1,
                other => json_len(other) + 1,
            })
            .sum(),
        Value::Object(_) => json_len(v),
    }
}

/// The API Gateway rendering of `m`: a boxed slice of name and text, one
/// entry per non-null member, each string boxed to its length.
fn rendering(m: &Map<String, Value>) -> usize {
    let mut count = 0;
    let mut strings = 0;
    for (k, v) in m.iter().filter(|(_, v)| !v.is_null()) {
        count += 1;
        strings += alloc(k.len()) + alloc(rendered(v));
    }
    alloc(count * 2 * size_of::<Box<str>>()) + strings
}

impl CognitoClaims {
    /// Heap bytes these claims take, and may come to take once rendered for
    /// API Gateway, at most. Builds the claims map (the parsed payload is
    /// then dropped), so what is measured is what stays.
    pub(crate) fn heap_bound(&self) -> usize {
        let raw = self.raw();
        let inner = &*self.0;
        let policy_bytes = inner.policy.heap_blocks().map(alloc).sum::<usize>();
        // The shared allocation: `Inner` and the two reference counts.
        alloc(size_of::<Inner>() + 2 * size_of::<usize>())
            + map(raw, Built::Packed)
            + policy_bytes
            + rendering(raw)
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
