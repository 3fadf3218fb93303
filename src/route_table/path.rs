//! Templates and request paths in the form the table matches: templates parsed
//! into segments and keyed for `matchit`, request paths normalised.

use super::RouteError;
use std::borrow::Cow;

/// One segment of a parsed template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Segment<'a> {
    Static(&'a str),
    Param(&'a str),
    Greedy(&'a str),
}

/// Checks an API Gateway / OpenAPI path template. Used by the OpenAPI importer
/// to report bad paths with their JSON pointer.
#[cfg_attr(not(feature = "openapi"), allow(dead_code))]
pub(crate) fn validate_template(template: &str) -> Result<(), RouteError> {
    parse_template(template).map(|_| ())
}

/// Splits a template into segments (`/pets/{petId}` -> `pets`, `petId`),
/// dropping one trailing slash; `/` is the empty list.
pub(super) fn parse_template(template: &str) -> Result<Vec<Segment<'_>>, RouteError> {
    let invalid = |reason| RouteError::InvalidTemplate {
        template: template.to_owned(),
        reason,
    };
    let Some(rest) = template.strip_prefix('/') else {
        return Err(invalid("must start with `/`"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        // `/` or `//` (the latter normalised like a trailing slash on the root).
        if template.len() > 2 {
            return Err(invalid("empty path segment"));
        }
        return Ok(Vec::new());
    }
    let count = rest.split('/').count();
    let mut segments = Vec::with_capacity(count);
    for (i, segment) in rest.split('/').enumerate() {
        if segment.is_empty() {
            return Err(invalid("empty path segment"));
        }
        if !segment.contains(['{', '}']) {
            segments.push(Segment::Static(segment));
            continue;
        }
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            return Err(invalid(
                "a path parameter must be a whole segment, like `{id}`",
            ));
        };
        let (name, greedy) = match name.strip_suffix('+') {
            Some(n) => (n, true),
            None => (name, false),
        };
        if name.is_empty() || name.contains(['{', '}', '*', '+']) {
            return Err(invalid("invalid path parameter name"));
        }
        if greedy && i != count - 1 {
            return Err(invalid(
                "a greedy parameter `{name+}` must be the last segment",
            ));
        }
        segments.push(if greedy {
            Segment::Greedy(name)
        } else {
            Segment::Param(name)
        });
    }
    Ok(segments)
}

/// The `matchit` route for the first `len` segments: statics normalised as
/// request paths are, parameters named by position (`{p1}`, `{*p2}`) so that
/// `/pets/{id}` and `/pets/{petId}` are one path, as they are one resource.
pub(super) fn key(segments: &[Segment<'_>], len: usize) -> String {
    let mut key = String::new();
    for (i, segment) in segments.iter().take(len).enumerate() {
        key.push('/');
        match segment {
            Segment::Static(s) => key.push_str(&normalise_escapes(s)),
            Segment::Param(_) => key.push_str(&format!("{{p{i}}}")),
            Segment::Greedy(_) => key.push_str(&format!("{{*p{i}}}")),
        }
    }
    if key.is_empty() {
        key.push('/');
    }
    key
}

/// The request path as the table matches it: percent-encoded unreserved
/// characters decoded and other escapes in upper case (RFC 3986 §6.2.2.1-2,
/// the same URI either way), then one trailing slash dropped (not from `/`);
/// an empty path is the root. Borrowed when nothing changes.
pub(crate) fn normalise_request_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    match normalise_escapes(path) {
        Cow::Borrowed(p) => Cow::Borrowed(drop_trailing_slash(p)),
        Cow::Owned(mut p) => {
            let len = drop_trailing_slash(&p).len();
            p.truncate(len);
            Cow::Owned(p)
        }
    }
}

fn drop_trailing_slash(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => path,
    }
}

/// Decodes `%XX` of unreserved characters (`A-Z a-z 0-9 - . _ ~`) and upper-
/// cases the hex digits of the others; `%2F` stays an encoded `/`, data inside
/// its segment. A `%` not followed by two hex digits is left as it is.
fn normalise_escapes(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let needs = |i: usize| match escape_at(bytes, i) {
        Some((b, hex)) => unreserved(b) || hex.iter().any(u8::is_ascii_lowercase),
        None => false,
    };
    let Some(first) = memchr_percent(bytes).filter(|&i| (i..bytes.len()).any(needs)) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(text.get(..first).unwrap_or_default());
    let mut rest = text.get(first..).unwrap_or_default();
    while let Some(at) = rest.find('%') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let tail = rest.get(at..).unwrap_or_default();
        match escape_at(tail.as_bytes(), 0) {
            Some((b, _)) if unreserved(b) => out.push(char::from(b)),
            Some((_, hex)) => {
                out.push('%');
                out.extend(hex.iter().map(|h| char::from(h.to_ascii_uppercase())));
            }
            None => {
                out.push('%');
                rest = tail.get(1..).unwrap_or_default();
                continue;
            }
        }
        rest = tail.get(3..).unwrap_or_default();
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn memchr_percent(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'%')
}

/// The byte encoded at `bytes[i..i + 3]` and its two hex digits, if that is
/// a valid escape.
fn escape_at(bytes: &[u8], i: usize) -> Option<(u8, [u8; 2])> {
    let [b'%', hi, lo] = *bytes.get(i..i + 3)? else {
        return None;
    };
    let digit = |h: u8| char::from(h).to_digit(16);
    let value = digit(hi)? * 16 + digit(lo)?;
    Some((u8::try_from(value).ok()?, [hi, lo]))
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Where segment `index` of a normalised path starts (after its `/`).
pub(super) fn segment_start(path: &str, index: usize) -> Option<usize> {
    let mut start = 1;
    for _ in 0..index {
        start += path.get(start..)?.find('/')? + 1;
    }
    Some(start)
}

/// Segment `index` of a normalised path.
pub(super) fn segment(path: &str, index: usize) -> Option<&str> {
    let rest = path.get(segment_start(path, index)?..)?;
    Some(rest.split('/').next().unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_escapes_are_decoded_others_upper_cased() {
        for (raw, want) in [
            ("/%61dmin", "/admin"),
            ("/%41%5a%30%2D%2e%5F%7e", "/AZ0-._~"),
            ("/a%2fb", "/a%2Fb"),
            ("/caf%c3%a9/", "/caf%C3%A9"),
            ("/%25%32%46", "/%252F"),
            ("/100%", "/100%"),
            ("/%zz%4", "/%zz%4"),
            ("/%", "/%"),
            ("/%%61", "/%a"),
        ] {
            assert_eq!(normalise_request_path(raw), want, "{raw}");
        }
        assert!(matches!(
            normalise_request_path("/a%2Fb/"),
            Cow::Borrowed("/a%2Fb")
        ));
        assert_eq!(normalise_request_path(""), "/");
        assert_eq!(normalise_request_path("//"), "/");
        assert_eq!(normalise_request_path("/a//"), "/a/");
    }

    #[test]
    fn segments_by_index() {
        assert_eq!(segment("/a/bc/d", 1), Some("bc"));
        assert_eq!(segment("/a//d", 1), Some(""));
        assert_eq!(segment("/a", 3), None);
        assert_eq!(segment_start("/a/bc/d", 2), Some(6));
    }
}
