use super::*;
use serde_json::json;

fn vars() -> HashMap<String, String> {
    HashMap::from([("env".to_owned(), "beta".to_owned())])
}

fn parse(parameters: Option<&Value>, vars: &HashMap<String, String>) -> Result<Parsed, String> {
    super::parse(
        parameters,
        &Statics {
            stage_variables: vars,
            api_id: "a1b2c3d4e5",
        },
    )
}

#[test]
fn targets_and_sources_parse() {
    let m = parse(
        Some(&json!({
            "integration.request.header.X-User-Sub": "context.authorizer.claims.sub",
            "integration.request.header.X-Role": "context.authorizer.claims.custom:role",
            "integration.request.querystring.env": "stageVariables.env",
            "integration.request.path.id": "method.request.path.petId",
            "integration.request.header.X-Lit": "'fixed'",
            "integration.request.header.X-Req": "context.requestId"
        })),
        &vars(),
    )
    .unwrap();
    assert!(m.warnings.is_empty() && m.fails.is_none());
    let m = m.mappings;
    assert_eq!(m.len(), 6);
    assert!(m
        .iter()
        .any(|m| m.source == Source::Claim("custom:role".into())));
    assert!(m
        .iter()
        .any(|m| m.target == Target::Query("env".into())
            && m.source == Source::Literal("beta".into())));
}

#[test]
fn dot_segments_raw_encoded_cut_or_with_parameters() {
    for text in [
        ".",
        "..",
        "%2e",
        "%2E%2e",
        ".%2E",
        "a/..",
        "../a",
        "a%2F..",
        "a%2f.",
        "a%5C..",
        "a\\..",
        "..\\a",
        "..;",
        "..;jsessionid=1",
        ".;x",
        "..%3Bx",
        "%2e%2e%3b",
        "a/..;x/b",
        "x;y/..",
    ] {
        assert!(has_dot_segment(text), "{text}");
    }
    for text in [
        "",
        "...",
        ".hidden",
        "a..b",
        "..a",
        "a..",
        "...;x",
        "a;..",
        "a%2F..b",
        "%2e%2e%2e",
        "%252e%252e",
        "%",
        ".%2",
        "%zz..",
    ] {
        assert!(!has_dot_segment(text), "{text}");
    }
}

#[test]
fn backend_paths_without_dot_or_empty_segments() {
    for path in ["/", "/a", "/a/", "/a/b%2Fc", "/a;v=1/b", "/a/..."] {
        assert!(is_safe_backend_path(path), "{path}");
    }
    for path in [
        "",
        "a",
        "//",
        "/a//b",
        "/a/..",
        "/a/./b",
        "/a/..;x",
        "/a/%2e%2E/",
    ] {
        assert!(!is_safe_backend_path(path), "{path}");
    }
}

#[test]
fn bad_mappings_are_refused() {
    for (target, source, expected) in [
        (
            "integration.request.header.X",
            "method.request.body",
            "unsupported source",
        ),
        (
            "integration.request.header.X",
            "context.nope",
            "unknown context variable",
        ),
        (
            "integration.request.header.X",
            "context.authorizer.",
            "unknown context variable",
        ),
        ("integration.request.header.X", "whatever", "unknown source"),
        (
            "integration.request.header.X",
            "stageVariables.missing",
            "not set",
        ),
        ("integration.request.cookie.X", "'1'", "unknown target"),
        ("method.request.header.X", "'1'", "integration.request."),
    ] {
        let err = parse(Some(&json!({ target: source })), &vars()).unwrap_err();
        assert!(err.contains(expected), "{target} <- {source}: {err}");
    }
}

/// What AWS deploys and answers otherwise than written is served so,
/// with a warning: a body-framing target fails every request, a header
/// AWS does not send is left out, a context variable the gateway lacks
/// has no value.
#[test]
fn what_aws_deploys_is_parsed_with_warnings() {
    for target in [
        "integration.request.header.Content-Length",
        "integration.request.header.transfer-encoding",
    ] {
        let p = parse(Some(&json!({ target: "'1'" })), &vars()).unwrap();
        assert!(p.mappings.is_empty(), "{target}");
        let fails = p.fails.expect(target);
        assert!(fails.contains("every request answers 500"), "{fails}");
        assert_eq!(p.warnings, [fails]);
    }
    for name in ["Expect", "Proxy-Authenticate", "TE", "Via", "Connection"] {
        let target = format!("integration.request.header.{name}");
        let p = parse(Some(&json!({ target: "'x'" })), &vars()).unwrap();
        assert!(p.mappings.is_empty() && p.fails.is_none(), "{name}");
        assert!(p.warnings[0].contains("is not sent"), "{:?}", p.warnings);
    }
    let p = parse(
        Some(&json!({ "integration.request.header.X": "context.authorizer.principalId" })),
        &vars(),
    )
    .unwrap();
    assert_eq!(
        p.mappings[0].source,
        Source::Authorizer("principalId".into())
    );
    for source in ["context.accountId", "context.identity.caller"] {
        let p = parse(
            Some(&json!({ "integration.request.header.X": source })),
            &vars(),
        )
        .unwrap();
        assert_eq!(p.mappings[0].source, Source::Unavailable, "{source}");
        assert!(p.warnings[0].contains("no value"), "{:?}", p.warnings);
    }
    let p = parse(
        Some(&json!({
            "integration.request.header.Host": "method.request.header.Host",
            "integration.request.header.X-Api": "context.apiId",
            "integration.request.header.X-Res": "context.resourceId",
            "integration.request.header.X-Ua": "context.identity.userAgent"
        })),
        &vars(),
    )
    .unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.mappings.len(), 4);
    assert!(p
        .mappings
        .iter()
        .any(|m| m.source == Source::Literal("a1b2c3d4e5".into())));
}

#[test]
fn resource_ids_are_stable_and_shaped_like_aws_ones() {
    let root = resource_id("/");
    assert_eq!(root, resource_id("/"));
    assert_ne!(root, resource_id("/pets"));
    for id in [root, resource_id("/pets/{petId}"), resource_id("")] {
        assert_eq!(id.len(), 10, "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
            "{id}"
        );
    }
}
