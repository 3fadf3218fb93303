//! `requestParameters` mappings that a client must not be able to steer, for
//! `http_proxy` and `http` integrations, through the `cognito-gateway`
//! process to a real backend in its own process
//! (`tests/fixtures/recording_backend.py`), which records every request it
//! gets as it arrived: what reached it, and that nothing did.
//!
//! - a mapped name carries only the mapped value: the client's own copies of
//!   a mapped query parameter or header are removed, whether the source has
//!   a value or not (an absent claim, a public route);
//! - a path placeholder whose mapping has no value answers 500 and calls
//!   nothing (it never falls back to the client's path);
//! - a backend path with a dot segment built by a mapping or a template's
//!   `$context.requestOverride.path` (`..`, `%2e%2e`, `..;`) answers 500 and
//!   is never sent; a `/` in a mapped value stays inside its segment.
//!
//! The export is `tests/fixtures/mapping-security.json`.

mod support;

use http::{Method, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::Value;
use support::loopback::{call, Reply};
use support::process::Gateway;
use support::python::PythonBackend;
use tower_cognito::testing::TestIssuer;

const FIXTURE: &str = "gateway/tests/fixtures/mapping-security.json";
const POOL: &str = "us-east-1_Map1";

struct Setup {
    backend: PythonBackend,
    gateway: Gateway,
    issuer: TestIssuer,
    _keys: tower_cognito::testing::JwksServer,
}

async fn setup() -> Setup {
    setup_with(FIXTURE, POOL, &[]).await
}

async fn setup_with(fixture: &str, pool: &str, extra: &[&str]) -> Setup {
    let issuer = TestIssuer::new(pool);
    let keys = issuer.serve_jwks().await.unwrap();
    let backend = tokio::task::spawn_blocking(|| PythonBackend::start("recording_backend.py"))
        .await
        .unwrap();
    let mut args: Vec<String> = vec![
        "--openapi".into(),
        fixture.into(),
        "--stage".into(),
        "prod".into(),
        "--stage-variable".into(),
        format!("backendHost=127.0.0.1:{}", backend.port),
        "--jwks-endpoint".into(),
        keys.base_url().to_owned(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    Setup {
        backend,
        gateway,
        issuer,
        _keys: keys,
    }
}

impl Setup {
    async fn get(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Reply {
        call(Method::GET, &self.gateway.url(path), token, headers, None).await
    }

    /// GET `path`, which must reach the backend: its report.
    async fn forwarded(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Value {
        let reply = self.get(path, token, headers).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{path} {headers:?}: {}",
            reply.body
        );
        reply.json()
    }

    /// GET `path`, which must be refused with the configuration-error 500.
    async fn refused(&self, path: &str, headers: &[(&str, &str)]) {
        let reply = self.get(path, None, headers).await;
        assert_internal_error(path, headers, &reply);
    }
}

/// API Gateway's answer to a configuration error.
fn assert_internal_error(path: &str, headers: &[(&str, &str)], reply: &Reply) {
    // What was sent in its place, without the headers (a token among them).
    let sent = serde_json::from_str::<Value>(&reply.body)
        .ok()
        .and_then(|report| report.get("target").cloned());
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{path} {headers:?}: sent {sent:?}"
    );
    assert_eq!(
        reply.json(),
        serde_json::json!({"message": "Internal server error"})
    );
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        "InternalServerErrorException"
    );
}

/// The values the backend got for header `name`.
fn header_values(report: &Value, name: &str) -> Vec<String> {
    report["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap().to_owned())
        .collect()
}

/// The query pairs the backend got, names and values decoded, split at `&`
/// and at `;` (some backends still split there too).
fn query_pairs(report: &Value) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    report["query"]
        .as_str()
        .expect("query")
        .split(['&', ';'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(n), decode(v))
        })
        .collect()
}

fn query_values(report: &Value, name: &str) -> Vec<String> {
    query_pairs(report)
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_name_carries_only_the_mapped_value() {
    let s = setup().await;
    let token = s
        .issuer
        .id_token()
        .claim("sub", "user-123")
        .claim("custom:tenant", "acme")
        .claim("custom:role", "reader")
        .sign();
    // The client's copies come first (backends that read the first value),
    // spelled every way a backend may still read as `tenant`.
    let query = "?tenant=victim&x=1&ten%61nt=v2&tenant&y=2;tenant=v3&Tenant=kept";
    let headers = [
        ("x-tenant", "victim"),
        ("X-TENANT", "victim2"),
        ("x-role", "admin"),
        ("x-other", "kept"),
    ];
    for route in ["/shadow", "/h/shadow"] {
        let report = s
            .forwarded(&format!("{route}{query}"), Some(&token), &headers)
            .await;
        assert_eq!(
            query_values(&report, "tenant"),
            ["acme"],
            "{route}: {}",
            report["query"]
        );
        assert_eq!(header_values(&report, "x-tenant"), ["acme"], "{route}");
        assert_eq!(header_values(&report, "x-role"), ["reader"], "{route}");
        assert_eq!(
            header_values(&report, "x-user-sub"),
            ["user-123"],
            "{route}"
        );
    }
    // http_proxy passes the rest of the client's query and headers as they
    // came; query names are case-sensitive, as API Gateway treats them.
    let report = s
        .forwarded(&format!("/shadow{query}"), Some(&token), &headers)
        .await;
    assert_eq!(report["query"], "x=1&Tenant=kept&tenant=acme");
    assert_eq!(header_values(&report, "x-other"), ["kept"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_whose_claim_is_absent_sends_nothing_of_the_client_s() {
    let s = setup().await;
    // Neither custom:role nor custom:tenant.
    let token = s.issuer.id_token().claim("sub", "user-123").sign();
    let headers = [
        ("X-Role", "admin"),
        ("x-role", "root"),
        ("X-Tenant", "victim"),
        ("X-User-Sub", "someone-else"),
    ];
    for route in ["/shadow", "/h/shadow"] {
        let report = s
            .forwarded(
                &format!("{route}?tenant=victim&x=1"),
                Some(&token),
                &headers,
            )
            .await;
        assert_eq!(
            header_values(&report, "x-role"),
            Vec::<String>::new(),
            "{route}"
        );
        assert_eq!(
            header_values(&report, "x-tenant"),
            Vec::<String>::new(),
            "{route}"
        );
        assert_eq!(
            header_values(&report, "x-user-sub"),
            ["user-123"],
            "{route}"
        );
        assert_eq!(
            query_values(&report, "tenant"),
            Vec::<String>::new(),
            "{route}: {}",
            report["query"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_route_never_passes_the_client_s_copy_of_a_claim_mapping() {
    let s = setup().await;
    let headers = [("X-User-Sub", "admin-user"), ("X-Role", "admin")];
    for route in ["/public", "/h/public"] {
        let report = s
            .forwarded(&format!("{route}?sub=admin-user&keep=1"), None, &headers)
            .await;
        for name in ["x-user-sub", "x-role"] {
            assert_eq!(
                header_values(&report, name),
                Vec::<String>::new(),
                "{route} {name}"
            );
        }
        assert_eq!(
            query_values(&report, "sub"),
            Vec::<String>::new(),
            "{route}: {}",
            report["query"]
        );
    }
    let report = s.forwarded("/public?sub=x&keep=1", None, &[]).await;
    assert_eq!(report["query"], "keep=1", "the rest passes through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_mapping_whose_source_is_absent_answers_500_and_calls_nothing() {
    let s = setup().await;
    let no_tenant = s.issuer.id_token().claim("sub", "user-123").sign();
    for path in ["/tenants/victim/docs", "/h/tenants/victim/docs"] {
        let reply = s.get(path, Some(&no_tenant), &[]).await;
        assert_internal_error(path, &[], &reply);
    }
    assert_eq!(s.backend.seen().await, Vec::<Value>::new(), "nothing sent");

    // With the claim, the claim's value fills the path, not the client's.
    let acme = s
        .issuer
        .id_token()
        .claim("sub", "user-123")
        .claim("custom:tenant", "acme")
        .sign();
    for path in ["/tenants/victim/docs", "/h/tenants/victim/docs"] {
        let report = s.forwarded(path, Some(&acme), &[]).await;
        assert_eq!(report["path"], "/tenants/acme/docs", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_built_by_mappings_are_refused() {
    let s = setup().await;
    for route in ["/docs", "/h/docs", "/h/override"] {
        for doc in [
            "..", ".", "%2e%2e", "%2E.", "%2e", "a%2F..", "..%2Fb", "a%5C..", "..%5Cx",
        ] {
            s.refused(&format!("{route}?doc={doc}"), &[]).await;
        }
    }
    for route in ["/docs-by-header", "/h/docs-by-header"] {
        // A header is not decoded: a literal `%2e%2e` would be `..` to a
        // backend that decodes the path twice.
        for doc in ["..", ".", "%2e%2e", "%2E%2e", "x/..", "..\\x"] {
            s.refused(route, &[("x-doc", doc)]).await;
        }
    }
    assert_eq!(s.backend.seen().await, Vec::<Value>::new(), "nothing sent");

    // A `/` in a mapped value stays inside its one segment; dots that are
    // not a whole segment are a name like any other.
    for route in ["/docs", "/h/docs", "/h/override"] {
        for (doc, sent) in [
            ("a/b", "a%2Fb"),
            ("a%2F..b", "a%2F..b"),
            ("...", "..."),
            (".hidden", ".hidden"),
            ("a..b", "a..b"),
        ] {
            let report = s.forwarded(&format!("{route}?doc={doc}"), None, &[]).await;
            assert_eq!(
                report["path"],
                format!("/tenants/acme/docs/{sent}"),
                "{route}?doc={doc}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tomcat_path_parameter_dot_forms_are_refused() {
    let s = setup().await;
    // `..;x` is `..` to Tomcat (and to what decodes `%3B` first).
    for route in ["/docs", "/h/docs", "/h/override"] {
        for doc in [
            "..;",
            "..;jsessionid=1",
            ".;x",
            "%2e%2e;x",
            "..%3Bx",
            "a/..;x",
        ] {
            let doc = doc.replace(';', "%3B");
            s.refused(&format!("{route}?doc={doc}"), &[]).await;
        }
    }
    for route in ["/docs-by-header", "/h/docs-by-header"] {
        for doc in ["..;", "..;jsessionid=1", ".;", "..%3Bx", "%2e%2e%3b"] {
            s.refused(route, &[("x-doc", doc)]).await;
        }
    }
    // The client's own path, mapped (`{proxy+}`) or filled without a
    // mapping (`{name}`). The gateway's path safety may refuse these before
    // any mapping (403): either way they must never be sent.
    for path in [
        "/files/..;/secret",
        "/files/a/..;x/b",
        "/files/.;/x",
        "/raw/..;x",
        "/raw/.;",
    ] {
        let reply = s.get(path, None, &[]).await;
        if reply.status != StatusCode::FORBIDDEN {
            assert_internal_error(path, &[], &reply);
        }
    }
    assert_eq!(s.backend.seen().await, Vec::<Value>::new(), "nothing sent");
    // Semicolons elsewhere are no dot segment.
    let report = s.forwarded("/files/a;v=1/b", None, &[]).await;
    assert_eq!(report["path"], "/files/a;v=1/b");
    let report = s.forwarded("/docs?doc=...%3Bx", None, &[]).await;
    assert_eq!(report["path"], "/tenants/acme/docs/...%3Bx");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_proxy_export_sends_no_client_copy_of_an_absent_claim() {
    // `tests/fixtures/proxy.json` maps `custom:role` and `nickname` onto
    // `X-Role` and `X-Nickname`, and `?color=` onto `X-Color`.
    let s = setup_with(
        "gateway/tests/fixtures/proxy.json",
        "us-east-1_Proxy1",
        &[
            "--stage-variable",
            "env=beta",
            "--stage-variable",
            "closedPort=9",
        ],
    )
    .await;
    let token = s.issuer.id_token().claim("sub", "user-123").sign();
    let report = s
        .forwarded(
            "/pets/7?src=client",
            Some(&token),
            &[
                ("X-Role", "admin"),
                ("X-Nickname", "root"),
                ("X-Color", "red"),
                ("X-User-Sub", "someone-else"),
            ],
        )
        .await;
    for name in ["x-role", "x-nickname", "x-color"] {
        assert_eq!(header_values(&report, name), Vec::<String>::new(), "{name}");
    }
    assert_eq!(header_values(&report, "x-user-sub"), ["user-123"]);
    assert_eq!(report["query"], "fixed=1&src=gateway");
}
