//! Paths that never reach a backend: `.` and `..` segments, raw or
//! percent-encoded, and empty segments. API Gateway's answer to them is the
//! Missing Authentication Token 403 **[choice]**: a backend that normalizes
//! paths would otherwise serve a route other than the one authorized.
//!
//! Empty segments are refused only toward integrations that pass a path on
//! (`http`, `http_proxy`) and the echo. A `mock` or `aws_proxy` route gets
//! them as API Gateway routes them (LocalStack's recorded
//! test_lambda_aws_proxy_integration): a leading `//` is one `/`
//! (`//hardcoded` is the `/hardcoded` resource, `//proxy-value` is
//! `{proxy+}` = `proxy-value`), and an empty segment inside the path is
//! matched only by a greedy parameter covering it (`/proxy-value//x` is
//! `{proxy+}` = `proxy-value//x`), never merged into its neighbours. What
//! was not recorded stays refused whatever the route **[choice]**: `//`
//! alone, three leading slashes, an empty segment at the end (`/a//`).
//! [`routable`] says which path a request is routed on and whether it has
//! empty segments; the pipeline refuses it once the route's integration is
//! known.
//!
//! Also refused the same way **[choice]**:
//! - a dot segment followed by a path parameter (`..;`, `.;x`, `%2e%2e;`):
//!   Tomcat-style backends strip `;...` from each segment before they
//!   resolve dots, so `/public/..;/admin` would reach `/admin`;
//! - an encoded separator (`%2F`, `%5C` in any case, or a raw `\`) in the
//!   value of a one-segment path parameter (`{id}`, not `{proxy+}`): WSGI
//!   backends decode it before routing, so `/users/7%2Fsecrets`, authorized
//!   as `/users/{id}`, would reach `/users/7/secrets`.

/// Whether `path` (the raw request path) is safe to route to any
/// integration: [`routable`], without empty segments.
pub(crate) fn is_safe(path: &str) -> bool {
    routable(path).is_some_and(|r| !r.empty_segments)
}

/// A request path that may be routed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Routable<'a> {
    /// The path routed on: the request's, a leading `//` as one `/`.
    pub(crate) path: &'a str,
    /// Whether it had empty segments (a leading `//` included): only `mock`
    /// and `aws_proxy` routes take those.
    pub(crate) empty_segments: bool,
}

/// The path `path` (the raw request path) is routed on, or `None` when no
/// route may take it (see the module docs).
pub(crate) fn routable(path: &str) -> Option<Routable<'_>> {
    let mut rest = path.strip_prefix('/')?;
    let mut routed = path;
    let mut empty_segments = false;
    if let Some(after) = rest.strip_prefix('/') {
        // `//x` as `/x` (recorded); `//` and `///x` are not.
        if after.is_empty() || after.starts_with('/') {
            return None;
        }
        routed = path.get(1..)?;
        rest = after;
        empty_segments = true;
    }
    if rest.is_empty() {
        return Some(Routable {
            path: routed,
            empty_segments,
        });
    }
    // One trailing slash is ignored by route matching, as by API Gateway.
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut segments = rest.split('/').peekable();
    while let Some(segment) = segments.next() {
        if segment.is_empty() {
            // The first segment is not empty here; the last may not be.
            segments.peek()?;
            empty_segments = true;
        } else if has_dot_part(segment) {
            return None;
        }
    }
    Some(Routable {
        path: routed,
        empty_segments,
    })
}

/// Whether a path that matched `template` (the route's, e.g.
/// `/users/{id}/secrets`) keeps the value of each one-segment parameter one
/// segment: none holds `%2F`, `%5C` or `\`. Segments from a greedy
/// parameter (`{proxy+}`) on are many segments anyway; literal segments
/// matched the template as written.
pub(crate) fn params_are_single_segments(template: &str, path: &str) -> bool {
    // Most paths have nothing encoded: one scan, no split.
    if !path.bytes().any(|b| b == b'%' || b == b'\\') {
        return true;
    }
    fn parts(p: &str) -> std::str::Split<'_, char> {
        let p = p.strip_prefix('/').unwrap_or(p);
        let p = p.strip_suffix('/').unwrap_or(p);
        p.split('/')
    }
    for (pattern, segment) in parts(template).zip(parts(path)) {
        if !(pattern.starts_with('{') && pattern.ends_with('}')) {
            continue;
        }
        if pattern.ends_with("+}") {
            break;
        }
        if has_encoded_separator(segment) {
            return false;
        }
    }
    true
}

/// `%2F`, `%5C` (any case) or a raw `\`.
fn has_encoded_separator(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| match b {
        b'\\' => true,
        b'%' => matches!(
            (
                bytes.get(i + 1),
                bytes.get(i + 2).map(u8::to_ascii_uppercase)
            ),
            (Some(b'2'), Some(b'F')) | (Some(b'5'), Some(b'C'))
        ),
        _ => false,
    })
}

/// Whether a segment, cut at every encoded slash or backslash (`%2F`, `%5C`,
/// `\`: a backend that decodes them would see separators) and at every `;`
/// (raw or `%3B`: Tomcat-style backends drop what follows it), has a part
/// that is `.` or `..`, with dots raw or encoded (`%2E`). Scans the bytes
/// once, without decoding into a copy.
fn has_dot_part(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let mut i = 0;
    // Dots in the current part, or `None` once it holds anything else.
    let mut dots = Some(0u8);
    loop {
        let (separator, width) = match bytes.get(i) {
            None => (true, 0),
            Some(b'\\' | b';') => (true, 1),
            Some(b'%') => match (
                bytes.get(i + 1),
                bytes.get(i + 2).map(u8::to_ascii_uppercase),
            ) {
                (Some(b'2'), Some(b'F')) | (Some(b'5'), Some(b'C')) | (Some(b'3'), Some(b'B')) => {
                    (true, 3)
                }
                (Some(b'2'), Some(b'E')) => {
                    dots = dots.map(|d| d.saturating_add(1));
                    (false, 3)
                }
                _ => {
                    dots = None;
                    (false, 1)
                }
            },
            Some(b'.') => {
                dots = dots.map(|d| d.saturating_add(1));
                (false, 1)
            }
            Some(_) => {
                dots = None;
                (false, 1)
            }
        };
        if separator {
            if matches!(dots, Some(1 | 2)) {
                return true;
            }
            if i >= bytes.len() {
                return false;
            }
            dots = Some(0);
        }
        i += width;
    }
}

#[cfg(test)]
mod tests {
    use super::{is_safe, routable, Routable};

    /// What API Gateway routes for `mock` and `aws_proxy` (LocalStack's
    /// recorded test_lambda_aws_proxy_integration: invocation-hardcoded,
    /// invocation-payload-with-prepended-slash, ...-with-double-slash), and
    /// what stays refused for every route.
    #[test]
    fn empty_segments_are_routable_only_where_aws_was_recorded_routing_them() {
        let ok = |path, empty_segments| {
            Some(Routable {
                path,
                empty_segments,
            })
        };
        for (raw, want) in [
            ("/", ok("/", false)),
            ("/pets/", ok("/pets/", false)),
            ("//hardcoded", ok("/hardcoded", true)),
            ("//proxy-value", ok("/proxy-value", true)),
            ("//proxy-value/", ok("/proxy-value/", true)),
            (
                "/proxy-value//double-slash",
                ok("/proxy-value//double-slash", true),
            ),
            ("/a///b/", ok("/a///b/", true)),
            ("//a//b", ok("/a//b", true)),
        ] {
            assert_eq!(routable(raw), want, "{raw}");
        }
        for raw in [
            "", "x", "//", "///", "///x", "/a//", "/a///", "//a//", "//..", "/a//..", "//%2e/x",
        ] {
            assert_eq!(routable(raw), None, "{raw}");
        }
    }

    #[test]
    fn dot_and_empty_segments_are_unsafe() {
        for path in [
            "/",
            "/pets",
            "/pets/7",
            "/pets/",
            "/files/a/b.txt",
            "/a/.b",
            "/a/..b",
            "/a%2Fb",
            "/a/%2e%2ex",
            "/a/%2e%2e%2e",
            "/a/...",
            "/a/%41.",
            "/a/%",
            "/a/.%2",
        ] {
            assert!(is_safe(path), "{path}");
        }
        for path in [
            "",
            "pets",
            "/.",
            "/..",
            "/pets/..",
            "/pets/../admin",
            "/pets/./7",
            "/pets/%2e%2e",
            "/pets/%2E",
            "/pets/.%2e/x",
            "/files/..%2F..%2Fetc",
            "/files/a%5c..",
            "//pets",
            "/pets//7",
            "/pets/7//",
            "/a/b%5C.%2e",
            "/a/x\\..",
            "/a/..\\x",
            "/a/x%2f.",
            "/a/%2E%2e%2Fx",
        ] {
            assert!(!is_safe(path), "{path}");
        }
    }

    /// Dot segments that Tomcat-style backends see once they strip `;`
    /// path parameters.
    #[test]
    fn dot_segments_with_path_parameters_are_unsafe() {
        for path in [
            "/public/..;/admin",
            "/public/..;x=1/admin",
            "/public/.;/admin",
            "/public/%2e%2e;/admin",
            "/public/%2E.;jsessionid=1",
            "/public/..%3b/admin",
            "/public/..%3B",
        ] {
            assert!(!is_safe(path), "{path}");
        }
        for path in ["/a;b", "/a/b;..x", "/a/...;", "/a/;x/b", "/a/x;y"] {
            assert!(is_safe(path), "{path}");
        }
    }

    #[test]
    fn one_segment_parameters_hold_no_encoded_separator() {
        use super::params_are_single_segments as single;
        for (template, path) in [
            ("/users/{id}", "/users/7"),
            ("/users/{id}", "/users/7%20x"),
            ("/users/{id}", "/users/a%2Cb"),
            ("/files/{proxy+}", "/files/a%2Fb"),
            ("/files/{proxy+}", "/files/a/b%5Cc"),
            ("/{proxy+}", "/x%2F..%2Fy"),
            // A literal segment matched as written.
            ("/a%2Fb/{id}", "/a%2Fb/7"),
        ] {
            assert!(single(template, path), "{template} {path}");
        }
        for (template, path) in [
            ("/users/{id}", "/users/7%2Fsecrets"),
            ("/users/{id}", "/users/7%2fsecrets"),
            ("/users/{id}", "/users/7%5Csecrets"),
            ("/users/{id}", "/users/7%5csecrets"),
            ("/users/{id}", "/users/7\\secrets"),
            ("/users/{id}/", "/users/7%2Fsecrets/"),
            ("/users/{id}/files/{proxy+}", "/users/7%2Fx/files/a"),
        ] {
            assert!(!single(template, path), "{template} {path}");
        }
    }
}
