//! Paths and methods that must never reach a backend as something other
//! than what was authorized: the gateway process in front of a real backend
//! in its own process (`tests/backend/echo.py`), requests written byte for
//! byte on a raw socket so no client normalizes them first.
//!
//! Each refusal is the Missing Authentication Token 403 **[choice]**
//! (`path_safety`'s module docs say why).

mod support;

use std::net::SocketAddr;

use support::backend::Backend;
use support::loopback::raw_exchange;
use support::process::Gateway;
use tower_cognito::testing::TestIssuer;

const FIXTURE: &str = "gateway/tests/fixtures/path-security.json";
const POOL: &str = "us-east-1_PathSec1";
const MISSING_TOKEN: &str = r#"{"message":"Missing Authentication Token"}"#;

struct Setup {
    backend: Backend,
    gateway: Gateway,
    issuer: TestIssuer,
    _keys: tower_cognito::testing::JwksServer,
}

async fn setup() -> Setup {
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let host = format!("backendHost={}", backend.host());
    let jwks = keys.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || {
        Gateway::start_with(
            &[],
            &[
                "--openapi",
                FIXTURE,
                "--stage-variable",
                &host,
                "--jwks-endpoint",
                &jwks,
            ],
        )
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

/// A reply as it came off the wire: status, head, body.
struct Raw {
    status: u16,
    head: String,
    body: String,
}

/// Writes `METHOD TARGET HTTP/1.1` with `headers` and `Connection: close`,
/// reads to EOF.
async fn raw(gateway: &Gateway, method: &str, target: &str, headers: &[(&str, &str)]) -> Raw {
    let addr: SocketAddr = gateway
        .url("")
        .trim_start_matches("http://")
        .parse()
        .expect("the gateway's address");
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (n, v) in headers {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    let text = raw_exchange(addr, request).await;
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head}"));
    Raw {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// API Gateway's 403 for a path or method not on the API, from the gateway
/// (the echo backend would answer 200 with its report).
fn assert_missing_token(reply: &Raw, what: &str) {
    assert_eq!(reply.status, 403, "{what}: {}\n{}", reply.head, reply.body);
    assert_eq!(reply.body, MISSING_TOKEN, "{what}");
    assert!(
        reply
            .head
            .to_ascii_lowercase()
            .contains("x-amzn-errortype: missingauthenticationtokenexception"),
        "{what}: {}",
        reply.head
    );
}

/// Review finding 1: `/users/7%2Fsecrets` matched `/users/{id}` (identity
/// token) and reached a WSGI backend as `/users/7/secrets` (scope `admin`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_separators_in_one_segment_parameters_are_refused() {
    let s = setup().await;
    let id = format!("Bearer {}", s.issuer.id_token().sign());
    let auth = [("Authorization", id.as_str())];

    let reply = raw(&s.gateway, "GET", "/users/7", &auth).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains(r#""path": "/users/7""#) || reply.body.contains(r#""path":"/users/7""#),
        "{}",
        reply.body
    );
    // The scoped route itself wants an access token with `admin`.
    let reply = raw(&s.gateway, "GET", "/users/7/secrets", &auth).await;
    assert_eq!(reply.status, 401, "{}", reply.body);

    for target in [
        "/users/7%2Fsecrets",
        "/users/7%2fsecrets",
        "/users/7%5Csecrets",
        "/users/7%5csecrets",
        "/users/..%2F7%2Fsecrets",
    ] {
        let reply = raw(&s.gateway, "GET", target, &auth).await;
        assert_missing_token(&reply, target);
    }
    // Refused before the authorizer: no token needed to be told no.
    assert_missing_token(
        &raw(&s.gateway, "GET", "/users/7%2Fsecrets", &[]).await,
        "no token",
    );

    // A greedy parameter spans segments anyway: its encoded slash passes as is.
    let reply = raw(&s.gateway, "GET", "/public/a%2Fb", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("/public/a%2Fb"), "{}", reply.body);
    drop(s.backend);
}

/// Review finding 6: `..;` and its kin are dot segments to Tomcat-style
/// backends, which strip `;` parameters first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_with_path_parameters_are_refused() {
    let s = setup().await;
    for target in [
        "/public/..;/admin",
        "/public/x/..;jsessionid=1/admin",
        "/public/.;/admin",
        "/public/%2e%2e;/admin",
        "/public/%2E%2E;x/admin",
        "/public/..%3B/admin",
    ] {
        let reply = raw(&s.gateway, "GET", target, &[]).await;
        assert_missing_token(&reply, target);
    }
    // `;` elsewhere is an ordinary character.
    let reply = raw(&s.gateway, "GET", "/public/a;b/c", &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    drop(s.backend);
}

/// Review finding 9: an `ANY` route forwarded any method. Only API
/// Gateway's seven reach an integration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_api_gateway_methods_reach_an_any_route() {
    let s = setup().await;
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let reply = raw(&s.gateway, method, "/any", &[("Content-Length", "0")]).await;
        assert_eq!(reply.status, 200, "{method}: {}", reply.body);
        assert!(reply.body.contains(method), "{method}: {}", reply.body);
    }
    let reply = raw(&s.gateway, "HEAD", "/any", &[]).await;
    assert_eq!(reply.status, 200, "HEAD: {}", reply.head);
    for (method, headers) in [
        ("TRACE", vec![]),
        ("MOVE", vec![("Destination", "http://127.0.0.1/any2")]),
        ("PROPFIND", vec![("Depth", "1")]),
        ("COPY", vec![]),
        ("LOCK", vec![]),
        ("BREW", vec![]),
    ] {
        let reply = raw(&s.gateway, method, "/any", &headers).await;
        assert_missing_token(&reply, method);
        let reply = raw(&s.gateway, method, "/public/x", &headers).await;
        assert_missing_token(&reply, method);
    }
    drop(s.backend);
}

/// `X-Forwarded-For` reaches an `http_proxy` backend as one field, the
/// client's entries first and the connection's address last: the only
/// entry a backend may trust is the last **[choice]**. (Two lines, the
/// client's first, would let a backend that reads one line see only the
/// client's claim.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_ends_with_the_connections_address() {
    let s = setup().await;
    let reply = raw(
        &s.gateway,
        "GET",
        "/any",
        &[
            ("X-Forwarded-For", "6.6.6.6"),
            ("X-Forwarded-For", "7.7.7.7, 8.8.8.8"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let report: serde_json::Value =
        serde_json::from_str(&reply.body).expect("the backend's report");
    let forwarded: Vec<&str> = report["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter(|h| {
            h[0].as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("x-forwarded-for"))
        })
        .filter_map(|h| h[1].as_str())
        .collect();
    assert_eq!(
        forwarded,
        ["6.6.6.6, 7.7.7.7, 8.8.8.8, 127.0.0.1"],
        "{report}"
    );
    let reply = raw(&s.gateway, "GET", "/any", &[]).await;
    assert!(reply.body.contains("127.0.0.1"), "{}", reply.body);
    drop(s.backend);
}
