//! Paths that never reach a backend: `.` and `..` segments, raw or
//! percent-encoded, and empty segments. API Gateway's answer to them is the
//! Missing Authentication Token 403 **[choice]**: a backend that normalizes
//! paths would otherwise serve a route other than the one authorized.

/// Whether `path` (the raw request path) is safe to route.
pub(crate) fn is_safe(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    // One trailing slash is ignored by route matching, as by API Gateway.
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    rest.split('/')
        .all(|segment| !segment.is_empty() && !has_dot_part(segment))
}

/// Whether a segment, cut at every encoded slash or backslash (`%2F`, `%5C`,
/// `\`: a backend that decodes them would see separators), has a part that
/// is `.` or `..`, with dots raw or encoded (`%2E`). Scans the bytes once,
/// without decoding into a copy.
fn has_dot_part(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let mut i = 0;
    // Dots in the current part, or `None` once it holds anything else.
    let mut dots = Some(0u8);
    loop {
        let (separator, width) = match bytes.get(i) {
            None => (true, 0),
            Some(b'\\') => (true, 1),
            Some(b'%') => match (
                bytes.get(i + 1),
                bytes.get(i + 2).map(u8::to_ascii_uppercase),
            ) {
                (Some(b'2'), Some(b'F')) | (Some(b'5'), Some(b'C')) => (true, 3),
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
    use super::is_safe;

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
}
