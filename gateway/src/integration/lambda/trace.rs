//! `X-Amzn-Trace-Id` for `aws_proxy`: the same value goes to the function
//! (in the event's headers) and back to the client on the function's answer.
//!
//! From LocalStack's `test_invocation_trace_id`, recorded against AWS:
//! - a client's `Root=...;Parent=...;Sampled=...` comes back as it was sent;
//! - a client's `Root=...` alone comes back with a `Parent` API Gateway made;
//! - without one, API Gateway makes the whole trace;
//! - `mock` answers carry none (so only the function's answers get it here).
//!
//! The value is `Root={root};Parent={16 hex};Sampled={0|1|?}`; `Sampled` is
//! the client's, else `1` when the client named a parent and `0` otherwise
//! (LocalStack's reading of AWS). **[choice]** Only a well-formed X-Ray id is
//! taken from the client (`Root=1-{8 hex}-{24 hex}`, `Parent` 16 hex digits,
//! `Sampled` `0`, `1` or `?`; keys in any case, other fields such as
//! `Lineage` left out): anything else is replaced by a trace the gateway
//! makes, so the function and the client only ever see a value the gateway
//! checked. A made `Root` is the one `http_proxy` backends get
//! (`headers::trace_id`): the epoch in hex, then the request ID's hex digits.

use http::header::HeaderValue;

use crate::headers;
use crate::ids::RequestIds;

/// `1-` + 8 hex + `-` + 24 hex.
const ROOT_LEN: usize = 35;
const PARENT_LEN: usize = 16;

/// The trace for one request, from the client's `X-Amzn-Trace-Id` (if any).
pub(crate) fn trace(
    client: Option<&HeaderValue>,
    ids: &RequestIds,
    epoch_secs: u64,
) -> HeaderValue {
    let parsed = client.and_then(|v| parse(v.as_bytes()));
    let mut out = [0u8; 5 + ROOT_LEN + 8 + PARENT_LEN + 9 + 1];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        out[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(b"Root=");
    let sampled = match &parsed {
        Some(client) => {
            put(client.root);
            put(b";Parent=");
            match client.parent {
                Some(parent) => put(parent),
                None => put(&random_parent()),
            }
            client
                .sampled
                .unwrap_or(if client.parent.is_some() { b'1' } else { b'0' })
        }
        None => {
            let Some(root) = made_root(ids.request_id(), epoch_secs) else {
                // Past 2106 the epoch outgrows 8 hex digits: the long form
                // `headers::trace_id` writes, without a parent.
                return headers::trace_id(ids.request_id(), epoch_secs);
            };
            put(&root);
            put(b";Parent=");
            put(&random_parent());
            b'0'
        }
    };
    put(b";Sampled=");
    put(&[sampled]);
    HeaderValue::from_bytes(&out[..at])
        .unwrap_or_else(|_| headers::trace_id(ids.request_id(), epoch_secs))
}

/// The client's well-formed fields.
struct ClientTrace<'a> {
    root: &'a [u8],
    parent: Option<&'a [u8]>,
    sampled: Option<u8>,
}

/// `None` unless the header has a well-formed `Root`.
fn parse(value: &[u8]) -> Option<ClientTrace<'_>> {
    let (mut root, mut parent, mut sampled) = (None, None, None);
    for field in value.split(|&b| b == b';') {
        let field = field.trim_ascii();
        let Some(eq) = field.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (key, v) = (&field[..eq], field[eq + 1..].trim_ascii());
        if key.eq_ignore_ascii_case(b"root") {
            root = Some(v);
        } else if key.eq_ignore_ascii_case(b"parent") {
            parent = Some(v);
        } else if key.eq_ignore_ascii_case(b"sampled") {
            sampled = Some(v);
        }
    }
    let root = root.filter(|r| is_root(r))?;
    Some(ClientTrace {
        root,
        parent: parent.filter(|p| p.len() == PARENT_LEN && all_hex(p)),
        sampled: match sampled {
            Some([s @ (b'0' | b'1' | b'?')]) => Some(*s),
            _ => None,
        },
    })
}

/// An X-Ray trace ID: `1-{8 hex}-{24 hex}`.
fn is_root(r: &[u8]) -> bool {
    r.len() == ROOT_LEN
        && r.starts_with(b"1-")
        && r[10] == b'-'
        && all_hex(&r[2..10])
        && all_hex(&r[11..])
}

fn all_hex(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_hexdigit)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `1-{epoch hex}-{24 hex of the request ID}`; `None` past 8 hex digits.
fn made_root(request_id: &str, epoch_secs: u64) -> Option<[u8; ROOT_LEN]> {
    let epoch = u32::try_from(epoch_secs).ok()?;
    let mut root = *b"1-00000000-000000000000000000000000";
    for (i, slot) in root[2..10].iter_mut().enumerate() {
        *slot = HEX[((epoch >> (28 - 4 * i)) & 0xf) as usize];
    }
    let digits = request_id.bytes().filter(u8::is_ascii_hexdigit).take(24);
    for (slot, digit) in root[11..].iter_mut().zip(digits) {
        *slot = digit;
    }
    Some(root)
}

/// 64 random bits in hex, from uuid's thread-local generator (no system
/// call).
fn random_parent() -> [u8; PARENT_LEN] {
    let (a, b) = uuid::Uuid::new_v4().as_u64_pair();
    // The version and variant bits sit in fixed places of each half; the
    // exclusive or spreads them over random ones.
    let bits = a ^ b.rotate_left(13);
    let mut out = [0u8; PARENT_LEN];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = HEX[((bits >> (60 - 4 * i)) & 0xf) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &'static str) -> HeaderValue {
        HeaderValue::from_static(s)
    }

    fn fields(v: &HeaderValue) -> Vec<String> {
        v.to_str().unwrap().split(';').map(str::to_owned).collect()
    }

    /// LocalStack `test_invocation_trace_id`, snapshot
    /// `trace-id-req-headers-AWS_PROXY`: the full trace comes back.
    #[test]
    fn a_full_client_trace_is_kept() {
        let ids = RequestIds::new();
        let full = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1";
        assert_eq!(trace(Some(&value(full)), &ids, 0), full);
        // Keys in another case, spaces, and fields AWS adds are read, then
        // written AWS's way.
        let odd = "root=1-3152b799-8954dae64eda91bc9a23a7e8; parent=7fa8c0f79203be72; sampled=0; Lineage=a:1";
        assert_eq!(
            trace(Some(&value(odd)), &ids, 0),
            "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=0"
        );
    }

    /// Snapshot `trace-id-small-req-headers-AWS_PROXY`: the client's root
    /// with a parent API Gateway made.
    #[test]
    fn a_root_alone_gets_a_made_parent() {
        let ids = RequestIds::new();
        let root = value("Root=1-3152b799-8954dae64eda91bc9a23a7e8");
        let one = trace(Some(&root), &ids, 0);
        let f = fields(&one);
        assert_eq!(f[0], "Root=1-3152b799-8954dae64eda91bc9a23a7e8");
        let parent = f[1].strip_prefix("Parent=").unwrap();
        assert_eq!(parent.len(), 16);
        assert!(all_hex(parent.as_bytes()));
        assert_eq!(f[2], "Sampled=0");
        assert_eq!(f.len(), 3);
        assert_ne!(trace(Some(&root), &ids, 0), one, "a new parent each time");
    }

    /// Snapshot `normal-req-headers-AWS_PROXY`: a trace is made.
    #[test]
    fn no_trace_or_a_malformed_one_gets_a_made_trace() {
        let ids = RequestIds::new();
        let hex: String = ids
            .request_id()
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(24)
            .collect();
        for client in [
            None,
            Some(value("Root=1-3152b799-8954dae64eda91bc9a23a7e")),
            Some(value("Root=2-3152b799-8954dae64eda91bc9a23a7e8")),
            Some(value("Root=1-3152b79z-8954dae64eda91bc9a23a7e8")),
            Some(value("Parent=7fa8c0f79203be72;Sampled=1")),
            Some(value("garbage")),
        ] {
            let made = trace(client.as_ref(), &ids, 0x5f00_0000);
            let f = fields(&made);
            assert_eq!(f[0], format!("Root=1-5f000000-{hex}"), "{client:?}");
            assert!(f[1].starts_with("Parent=") && f[1].len() == 7 + 16, "{f:?}");
            assert_eq!(f[2], "Sampled=0");
        }
        // A bad parent or sampled value is replaced, the root kept.
        let bad = value("Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=xyz;Sampled=yes");
        let f = fields(&trace(Some(&bad), &ids, 0));
        assert_eq!(f[0], "Root=1-3152b799-8954dae64eda91bc9a23a7e8");
        assert_ne!(f[1], "Parent=xyz");
        assert_eq!(f[2], "Sampled=0");
    }
}
