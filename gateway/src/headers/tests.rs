use super::*;

#[test]
fn request_headers_follow_the_table() {
    let mut h = HeaderMap::new();
    for (n, v) in [
        ("host", "gw"),
        ("expect", "100-continue"),
        ("te", "trailers"),
        ("trailer", "x"),
        ("upgrade", "h2c"),
        ("via", "1.1 a"),
        ("max-forwards", "3"),
        ("content-md5", "x"),
        ("proxy-authenticate", "x"),
        ("www-authenticate", "x"),
        ("connection", "keep-alive, x-hop"),
        ("x-hop", "1"),
        ("transfer-encoding", "chunked"),
        ("authorization", "Bearer t"),
        ("user-agent", "curl"),
        ("accept", "*/*"),
        ("content-encoding", "deflate"),
        ("x-custom", "kept"),
    ] {
        h.append(HeaderName::from_static(n), HeaderValue::from_static(v));
    }
    let out = to_backend(&h, 0);
    let mut names: Vec<&str> = out.keys().map(HeaderName::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["accept", "authorization", "user-agent", "x-custom"]);
}

#[test]
fn response_headers_are_remapped_or_dropped() {
    let mut h = HeaderMap::new();
    for (n, v) in [
        ("server", "nginx"),
        ("date", "Mon"),
        ("connection", "close"),
        ("www-authenticate", "Basic"),
        ("authorization", "x"),
        ("user-agent", "x"),
        ("content-md5", "x"),
        ("max-forwards", "1"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "x"),
        ("set-cookie", "a=1"),
        ("content-type", "text/plain"),
        ("content-length", "12"),
        ("x-amzn-requestid", "backend-id"),
    ] {
        h.append(HeaderName::from_static(n), HeaderValue::from_static(v));
    }
    h.append("set-cookie", HeaderValue::from_static("b=2"));
    let out = from_backend(h);
    assert_eq!(out["x-amzn-remapped-server"], "nginx");
    assert_eq!(out["x-amzn-remapped-date"], "Mon");
    assert_eq!(out["x-amzn-remapped-connection"], "close");
    assert_eq!(out["x-amzn-remapped-www-authenticate"], "Basic");
    assert_eq!(out["x-amzn-remapped-content-length"], "12");
    assert_eq!(out["x-amzn-remapped-x-amzn-requestid"], "backend-id");
    for gone in [
        "server",
        "date",
        "connection",
        "transfer-encoding",
        "upgrade",
        "authorization",
        "content-length",
        "x-amzn-requestid",
    ] {
        assert!(out.get(gone).is_none(), "{gone}");
    }
    assert_eq!(out.get_all("set-cookie").iter().count(), 2);
    assert_eq!(out["content-type"], "text/plain");
}

#[test]
fn trace_id_has_aws_shape() {
    let v = trace_id("c6a1d40c-1234-4abc-9def-0123456789ab", 0x5f000000);
    assert_eq!(v, "Root=1-5f000000-c6a1d40c12344abc9def0123");
    // Fewer than 24 hex digits: padded with zeros; an epoch past 32 bits
    // keeps all its digits.
    assert_eq!(
        trace_id("ab-c", 1),
        "Root=1-00000001-abc000000000000000000000"
    );
    assert_eq!(
        trace_id("ab", 0x1_0000_0000),
        "Root=1-100000000-ab0000000000000000000000"
    );
}

#[test]
fn response_parameters_follow_the_recorded_table() {
    let fate = |n: &str| mapped_response(&HeaderName::from_bytes(n.as_bytes()).unwrap());
    for name in [
        "Authorization",
        "Connection",
        "Content-Length",
        "Content-MD5",
        "Date",
        "Expect",
        "Host",
        "Max-Forwards",
        "Proxy-Authenticate",
        "Server",
        "Trailer",
        "Upgrade",
        "User-Agent",
        "WWW-Authenticate",
    ] {
        let expected = format!("x-amzn-remapped-{}", name.to_ascii_lowercase());
        assert_eq!(
            fate(name),
            MappedResponse::Remapped(HeaderName::try_from(expected).unwrap()),
            "{name}"
        );
    }
    assert_eq!(fate("Transfer-Encoding"), MappedResponse::Dropped);
    for name in ["Accept", "Content-Type", "TE", "Via", "Warn", "X-Custom"] {
        assert_eq!(fate(name), MappedResponse::Kept, "{name}");
    }
}

/// The formats of `test_invocation_trace_id`'s cases, as LocalStack
/// completes them; anything malformed is the gateway's own trace.
#[test]
fn client_traces_are_kept_completed_or_replaced() {
    let id = "c6a1d40c-1234-4abc-9def-0123456789ab";
    let own = trace_id(id, 0x5f000000);
    let with = |value: &str| {
        let mut h = HeaderMap::new();
        h.insert(X_AMZN_TRACE_ID, HeaderValue::from_str(value).unwrap());
        trace_header(&h, id, 0x5f000000)
    };
    let root = "Root=1-3152b799-8954dae64eda91bc9a23a7e8";
    let full = format!("{root};Parent=7fa8c0f79203be72;Sampled=1");
    assert_eq!(with(&full), full.as_str());
    assert_eq!(
        with(root),
        format!("{root};Parent=9def0123456789ab;Sampled=0").as_str()
    );
    assert_eq!(
        with(&format!("{root};Parent=7fa8c0f79203be72")),
        format!("{root};Parent=7fa8c0f79203be72;Sampled=1").as_str()
    );
    // Field names in any case, spaces, other fields left out.
    assert_eq!(
        with(&format!(" sampled=? ; {root} ;Lineage=a:1;Self=1-x")),
        format!("{root};Parent=9def0123456789ab;Sampled=?").as_str()
    );
    for malformed in [
        "",
        "Root=1-3152b799-8954dae64eda91bc9a23a7e",
        "Root=2-3152b799-8954dae64eda91bc9a23a7e8",
        "Root=1-3152b79x-8954dae64eda91bc9a23a7e8",
        "Parent=7fa8c0f79203be72",
        "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8",
        "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Sampled=2",
        "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Root=1-3152b799-8954dae64eda91bc9a23a7e8",
        "Root",
    ] {
        assert_eq!(with(malformed), own, "{malformed:?}");
    }
    assert_eq!(trace_header(&HeaderMap::new(), id, 0x5f000000), own);
    let mut two = HeaderMap::new();
    two.append(X_AMZN_TRACE_ID, HeaderValue::from_str(&full).unwrap());
    two.append(X_AMZN_TRACE_ID, HeaderValue::from_str(root).unwrap());
    assert_eq!(trace_header(&two, id, 0x5f000000), own, "two lines");
    // A short request ID: the Parent is zero-padded.
    let mut h = HeaderMap::new();
    h.insert(X_AMZN_TRACE_ID, HeaderValue::from_static(root));
    assert_eq!(
        trace_header(&h, "ab", 0),
        format!("{root};Parent=00000000000000ab;Sampled=0").as_str()
    );
}
