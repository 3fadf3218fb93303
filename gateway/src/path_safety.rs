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
    rest.split('/').all(|segment| {
        if segment.is_empty() {
            return false;
        }
        // Encoded slashes and backslashes count as separators too: a backend
        // that decodes them would otherwise see `..` segments.
        let decoded = segment
            .replace("%2e", ".")
            .replace("%2E", ".")
            .replace("%2f", "/")
            .replace("%2F", "/")
            .replace("%5c", "/")
            .replace("%5C", "/")
            .replace('\\', "/");
        decoded.split('/').all(|part| part != "." && part != "..")
    })
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
        ] {
            assert!(!is_safe(path), "{path}");
        }
    }
}
