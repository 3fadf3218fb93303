//! AWS's header table for `http` and `http_proxy` integrations ("Amazon API
//! Gateway important notes", confirmed by recordings against AWS), in one
//! place: what is not sent to the backend, what of the backend's answer is
//! renamed `x-amzn-Remapped-<name>` or dropped, what a mapping may set on
//! either side, and the `X-Amzn-Trace-Id` a request carries.
//!
//! From LocalStack's recordings against AWS
//! (`test_apigateway_header_remapping_http`, `test_http_integration_with_lambda`,
//! `test_http_proxy_integration_request_data_mappings`,
//! `test_invocation_trace_id`):
//! - `http_proxy` does not forward the client's `Content-Encoding` (a
//!   mapped one is sent);
//! - a `requestParameters` header onto `Expect`, `Proxy-Authenticate`,
//!   `TE` or `Via` is not sent; onto `Connection`, `Keep-Alive` or
//!   `Proxy-Connection` it is not sent either **[choice]**: a mapped
//!   `Connection` could name the mapped identity headers hop-by-hop, and a
//!   proxy before the backend would strip them;
//! - the backend's `Content-Length` and `x-amzn-RequestId` come back as
//!   `x-amzn-Remapped-*` (the gateway frames the body and sends its own id);
//! - `responseParameters` onto `Authorization`, `Connection`,
//!   `Content-Length`, `Content-MD5`, `Date`, `Expect`, `Host`,
//!   `Max-Forwards`, `Proxy-Authenticate`, `Server`, `Trailer`, `Upgrade`,
//!   `User-Agent` and `WWW-Authenticate` go out as `x-amzn-Remapped-<name>`;
//!   onto `Transfer-Encoding` they are not sent;
//! - a template's `$input.params()` does not see the client's `Connection`,
//!   `Content-MD5`, `Expect`, `Max-Forwards`, `Proxy-Authenticate`,
//!   `Server`, `TE`, `Transfer-Encoding`, `Trailer`, `Upgrade` or
//!   `WWW-Authenticate` (nor does an `aws_proxy` event).

use http::header::{HeaderMap, HeaderName, HeaderValue, CONNECTION};

/// Added to every request an `http` or `http_proxy` integration sends.
pub(crate) const X_AMZN_TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");
/// The API's ID, on every backend request.
pub(crate) const X_AMZN_APIGATEWAY_API_ID: HeaderName =
    HeaderName::from_static("x-amzn-apigateway-api-id");
/// The client's address, appended.
pub(crate) const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Request headers never sent to the backend (`Host` is set from the
/// integration URI instead). `Connection`, `Keep-Alive`, `Proxy-Connection`
/// and `Transfer-Encoding` are hop-by-hop: the body is re-framed. A `match`,
/// not a list: it runs for every header of every proxied request.
fn request_dropped(name: &str) -> bool {
    matches!(
        name,
        "host"
            | "expect"
            | "te"
            | "trailer"
            | "upgrade"
            | "via"
            | "max-forwards"
            | "content-md5"
            | "proxy-authenticate"
            | "www-authenticate"
            | "server"
            | "transfer-encoding"
            | "keep-alive"
            | "proxy-connection"
            | "content-encoding"
    )
}

/// Headers a `requestParameters` mapping sets that are not sent (see the
/// module docs); `Host` is sent, in place of the URI's.
pub(crate) fn mapped_request_dropped(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "expect"
            | "proxy-authenticate"
            | "te"
            | "via"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
    )
}

/// Method request headers a mapping template does not see (`$input.params()`),
/// as recorded.
pub(crate) fn method_request_hidden(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "content-md5"
            | "expect"
            | "max-forwards"
            | "proxy-authenticate"
            | "server"
            | "te"
            | "transfer-encoding"
            | "trailer"
            | "upgrade"
            | "www-authenticate"
    )
}

/// What becomes of a header set by `responseParameters`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MappedResponse {
    /// Sent under its name.
    Kept,
    /// Sent as `x-amzn-Remapped-<name>`.
    Remapped(HeaderName),
    /// Not sent.
    Dropped,
}

/// The fate of a `responseParameters` header (recorded: see the module
/// docs). Read at startup only.
pub(crate) fn mapped_response(name: &HeaderName) -> MappedResponse {
    match name.as_str() {
        "authorization" | "connection" | "content-length" | "content-md5" | "date" | "expect"
        | "host" | "max-forwards" | "proxy-authenticate" | "server" | "trailer" | "upgrade"
        | "user-agent" | "www-authenticate" => {
            HeaderName::try_from(format!("x-amzn-remapped-{}", name.as_str()))
                .map_or(MappedResponse::Dropped, MappedResponse::Remapped)
        }
        "transfer-encoding" => MappedResponse::Dropped,
        _ => MappedResponse::Kept,
    }
}

/// What becomes of a backend response header.
enum Fate {
    Kept,
    Dropped,
    /// Renamed `x-amzn-Remapped-<name>`.
    Remapped(&'static HeaderName),
}

/// Backend response headers renamed to `x-amzn-Remapped-<name>` (the gateway
/// writes its own `Date`) or dropped. The new names are made once, at
/// compile time (`static`s: a `const` would build and drop them at every use).
fn response_fate(name: &str) -> Fate {
    static CONNECTION_: HeaderName = HeaderName::from_static("x-amzn-remapped-connection");
    static SERVER: HeaderName = HeaderName::from_static("x-amzn-remapped-server");
    static DATE: HeaderName = HeaderName::from_static("x-amzn-remapped-date");
    static WWW_AUTHENTICATE: HeaderName =
        HeaderName::from_static("x-amzn-remapped-www-authenticate");
    static AUTHORIZATION: HeaderName = HeaderName::from_static("x-amzn-remapped-authorization");
    static USER_AGENT: HeaderName = HeaderName::from_static("x-amzn-remapped-user-agent");
    static CONTENT_MD5: HeaderName = HeaderName::from_static("x-amzn-remapped-content-md5");
    static MAX_FORWARDS: HeaderName = HeaderName::from_static("x-amzn-remapped-max-forwards");
    static CONTENT_LENGTH: HeaderName = HeaderName::from_static("x-amzn-remapped-content-length");
    static REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-remapped-x-amzn-requestid");
    match name {
        "connection" => Fate::Remapped(&CONNECTION_),
        "server" => Fate::Remapped(&SERVER),
        "date" => Fate::Remapped(&DATE),
        "www-authenticate" => Fate::Remapped(&WWW_AUTHENTICATE),
        "authorization" => Fate::Remapped(&AUTHORIZATION),
        "user-agent" => Fate::Remapped(&USER_AGENT),
        "content-md5" => Fate::Remapped(&CONTENT_MD5),
        "max-forwards" => Fate::Remapped(&MAX_FORWARDS),
        // The gateway frames the body (hyper writes the length of what it
        // sends) and stamps its own request id.
        "content-length" => Fate::Remapped(&CONTENT_LENGTH),
        "x-amzn-requestid" => Fate::Remapped(&REQUEST_ID),
        "expect" | "proxy-authenticate" | "te" | "trailer" | "upgrade" | "host"
        | "transfer-encoding" | "keep-alive" => Fate::Dropped,
        _ => Fate::Kept,
    }
}

/// The client's headers as the backend gets them (before `Host`, the added
/// `X-Amzn-*` headers and `requestParameters`), with room for `extra` more
/// (a map that grows rehashes every header).
pub(crate) fn to_backend(client: &HeaderMap, extra: usize) -> HeaderMap {
    // Headers the client names in `Connection` are hop-by-hop too.
    let named: Vec<String> = client
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(client.len() + extra);
    for (name, value) in client {
        let n = name.as_str();
        if name == CONNECTION || request_dropped(n) || named.iter().any(|c| c == n) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// The backend's headers as the client gets them.
pub(crate) fn from_backend(backend: HeaderMap) -> HeaderMap {
    // Room for the identifiers stamped on the way out.
    let mut out = HeaderMap::with_capacity(backend.len() + 2);
    let mut last: Option<HeaderName> = None;
    for (name, value) in backend {
        // `into_iter` yields a name only on its first value.
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => match &last {
                Some(n) => n.clone(),
                None => continue,
            },
        };
        match response_fate(name.as_str()) {
            Fate::Kept => out.append(name, value),
            Fate::Remapped(remapped) => out.append(remapped.clone(), value),
            Fate::Dropped => continue,
        };
    }
    out
}

/// `X-Amzn-Trace-Id: Root=1-{epoch hex}-{24 hex}`, the request ID's hex in
/// the random part so the two can be matched. Written into a buffer on the
/// stack: this runs on every proxied request.
pub(crate) fn trace_id(request_id: &str, epoch_secs: u64) -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let Ok(epoch) = u32::try_from(epoch_secs) else {
        let hex: String = request_id
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(24)
            .collect();
        return HeaderValue::from_str(&format!("Root=1-{epoch_secs:08x}-{hex:0<24}"))
            .unwrap_or_else(|_| {
                HeaderValue::from_static("Root=1-00000000-000000000000000000000000")
            });
    };
    let mut buf = *b"Root=1-00000000-000000000000000000000000";
    for (i, slot) in buf[7..15].iter_mut().enumerate() {
        *slot = HEX[((epoch >> (28 - 4 * i)) & 0xf) as usize];
    }
    let digits = request_id.bytes().filter(u8::is_ascii_hexdigit).take(24);
    for (slot, digit) in buf[16..].iter_mut().zip(digits) {
        *slot = digit;
    }
    HeaderValue::from_bytes(&buf)
        .unwrap_or_else(|_| HeaderValue::from_static("Root=1-00000000-000000000000000000000000"))
}

/// `X-Amzn-Trace-Id` for a request's integration: the client's trace when
/// it sends one in X-Ray's format, completed, else the gateway's own
/// ([`trace_id`]). For reuse by every integration type.
///
/// As recorded (`test_invocation_trace_id`) and as LocalStack completes it:
/// `Root=...;Parent=...;Sampled=...` comes back as sent; a `Parent` is
/// added when missing (16 hex digits from the request ID) with `Sampled=0`,
/// and `Sampled=1` is added to a trace with a `Parent` but no `Sampled`.
/// **[choice]** A trace is taken only when it is one header line whose
/// `Root` is `1-` 8 hex digits `-` 24 hex digits, with at most a 16-hex-digit
/// `Parent` and a `Sampled` of `0`, `1` or `?`, each once (names in any
/// case); other fields (`Self`, `Lineage`) are left out. Anything else is
/// replaced by the gateway's own trace: what reaches the backend is always
/// one well-formed trace, never text the client chose.
/// No copy when the client's header is already complete and in this form.
pub(crate) fn trace_header(client: &HeaderMap, request_id: &str, epoch_secs: u64) -> HeaderValue {
    let mut lines = client.get_all(X_AMZN_TRACE_ID).iter();
    let (Some(value), None) = (lines.next(), lines.next()) else {
        return trace_id(request_id, epoch_secs);
    };
    let Some(trace) = Trace::parse(value.as_bytes()) else {
        return trace_id(request_id, epoch_secs);
    };
    // Root=(35);Parent=(16);Sampled=(1)
    let mut buf = [0u8; 74];
    let mut len = 0;
    for part in [
        b"Root=".as_slice(),
        trace.root,
        b";Parent=",
        trace.parent.unwrap_or(b""),
    ] {
        buf[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    if trace.parent.is_none() {
        // The last 16 hex digits of the request ID (the Root of the
        // gateway's own trace takes the first 24), zero-padded.
        let digits = || request_id.bytes().filter(u8::is_ascii_hexdigit);
        let count = digits().count();
        let take = count.min(16);
        buf[len..len + 16].fill(b'0');
        let tail = digits().skip(count - take);
        for (slot, digit) in buf[len + 16 - take..len + 16].iter_mut().zip(tail) {
            *slot = digit;
        }
        len += 16;
    }
    let sampled = match (trace.sampled, trace.parent) {
        (Some(s), _) => s,
        (None, Some(_)) => b'1',
        (None, None) => b'0',
    };
    buf[len..len + 9].copy_from_slice(b";Sampled=");
    buf[len + 9] = sampled;
    len += 10;
    if value.as_bytes() == &buf[..len] {
        return value.clone();
    }
    HeaderValue::from_bytes(&buf[..len]).unwrap_or_else(|_| trace_id(request_id, epoch_secs))
}

/// The fields of a client's `X-Amzn-Trace-Id` the gateway keeps.
struct Trace<'a> {
    root: &'a [u8],
    parent: Option<&'a [u8]>,
    sampled: Option<u8>,
}

impl<'a> Trace<'a> {
    /// `None` unless the header is a well-formed trace (see [`trace_header`]).
    fn parse(text: &'a [u8]) -> Option<Self> {
        let hex = |b: &[u8], n: usize| b.len() == n && b.iter().all(u8::is_ascii_hexdigit);
        let (mut root, mut parent, mut sampled) = (None, None, None);
        for field in text.split(|&b| b == b';') {
            let field = field.trim_ascii();
            if field.is_empty() {
                continue;
            }
            let at = field.iter().position(|&b| b == b'=')?;
            let (name, value) = (&field[..at], &field[at + 1..]);
            if name.eq_ignore_ascii_case(b"Root") {
                let ok = value.len() == 35
                    && value.starts_with(b"1-")
                    && hex(&value[2..10], 8)
                    && value[10] == b'-'
                    && hex(&value[11..], 24);
                if !ok || root.replace(value).is_some() {
                    return None;
                }
            } else if name.eq_ignore_ascii_case(b"Parent") {
                if !hex(value, 16) || parent.replace(value).is_some() {
                    return None;
                }
            } else if name.eq_ignore_ascii_case(b"Sampled") {
                let ok = matches!(value, [b'0' | b'1' | b'?']);
                if !ok || sampled.replace(value[0]).is_some() {
                    return None;
                }
            }
        }
        Some(Self {
            root: root?,
            parent,
            sampled,
        })
    }
}

#[cfg(test)]
mod tests;
