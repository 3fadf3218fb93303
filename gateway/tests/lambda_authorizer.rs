//! Lambda authorizers (`token`, `request`): `cognito-gateway`, run as a
//! process, invoking a real authorizer function through a real local Lambda
//! emulator (`cargo lambda watch` serving `gateway/tests/lambda-fn`, started
//! by `scripts/lambda-env.sh`), in front of a real `aws_proxy` backend (the
//! same function). The result cache is observed through the function's own
//! count of authorizer invocations.

mod support;

use http::{Method, StatusCode};
use serde_json::Value;
use support::backend::Backend;
use support::emulator::emulator;
use support::loopback::{bounded, client};
use support::moto::mark_ran;
use support::process::Gateway;
use tower_cognito::testing::TestIssuer;

const EXPORT: &str = "gateway/tests/fixtures/lambda-authorizers.json";
const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const DENY_EXPLICIT: &str =
    r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#;
const DENY: &str = r#"{"Message":"User is not authorized to access this resource"}"#;
const CONFIG: &str = r#"{"message":null}"#;

async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, http::HeaderMap, String) {
    let http = client();
    bounded(&format!("{method} {url}"), async {
        let mut request = http.request(method.clone(), url);
        for (n, v) in headers {
            request = request.header(*n, *v);
        }
        let res = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.text().await.expect("body"))
    })
    .await
}

async fn calls(gateway: &Gateway) -> u64 {
    let (status, _, body) = send(Method::GET, &gateway.url("/open/authorizer-calls"), &[]).await;
    assert_eq!(status, 200, "{body}");
    body.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a count: {body}"))
}

fn assert_refused(
    reply: &(StatusCode, http::HeaderMap, String),
    status: u16,
    kind: &str,
    body: &str,
    what: &str,
) {
    assert_eq!(reply.0.as_u16(), status, "{what}: {}", reply.2);
    assert_eq!(reply.1["x-amzn-errortype"], kind, "{what}");
    assert_eq!(reply.1["content-type"], "application/json", "{what}");
    assert!(reply.1.contains_key("x-amzn-requestid"), "{what}");
    assert_eq!(reply.2, body, "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_authorizers_run_and_cache() {
    let Some(endpoint) = emulator("lambda_authorizer") else {
        return;
    };
    let issuer = TestIssuer::new("us-east-1_Lambda001");
    let jwks = issuer.serve_jwks().await.unwrap();
    let jwks = jwks.base_url().to_owned();
    let backend = Backend::start();
    let stage = format!(
        "function=gateway-test-lambda,backendHost={}",
        backend.host()
    );
    let gateway = tokio::task::spawn_blocking(move || {
        Gateway::start(&[
            ("OPENAPI_FILE", EXPORT),
            ("LAMBDA_ENDPOINT", &endpoint),
            ("COGNITO_JWKS_ENDPOINT", &jwks),
            ("STAGE_VARIABLES", &stage),
        ])
    })
    .await
    .unwrap();

    let log = gateway.startup_text();
    assert!(
        log.contains("route GET /tok/{action}: Lambda authorizer TokenAuth (token, function gateway-test-lambda, cache 300 s) -> aws_proxy lambda"),
        "{log}"
    );
    assert!(log.contains("authorizerCredentials: ignored"), "{log}");

    // TOKEN: allowed, and the backend (the function) reached.
    let start = calls(&gateway).await;
    let reply = send(
        Method::GET,
        &gateway.url("/tok/echo"),
        &[("authorization", "allow")],
    )
    .await;
    assert_eq!(reply.0, 200, "{}", reply.2);
    let event: Value = serde_json::from_str(&reply.2).unwrap();
    assert_eq!(event["path"], "/tok/echo");
    assert_eq!(
        event["requestContext"]["authorizer"],
        serde_json::json!({"principalId": "user-allow", "tier": "gold", "quota": "5", "admin": "false"})
    );
    assert_eq!(calls(&gateway).await, start + 1);
    // Cached: no second call; the cached policy judged for POST (no Allow).
    let reply = send(
        Method::GET,
        &gateway.url("/tok/other"),
        &[("authorization", "allow")],
    )
    .await;
    assert_eq!(reply.0, 200, "{}", reply.2);
    let reply = send(
        Method::POST,
        &gateway.url("/tok/echo"),
        &[("authorization", "allow")],
    )
    .await;
    assert_refused(
        &reply,
        403,
        "AccessDeniedException",
        DENY,
        "POST with a GET-only policy",
    );
    assert_eq!(calls(&gateway).await, start + 1);

    // `context.authorizer.*` in requestParameters and `$context.authorizer.*`
    // in templates, to a real http backend.
    let reply = send(
        Method::GET,
        &gateway.url("/mapped"),
        &[("authorization", "allow")],
    )
    .await;
    assert_eq!(reply.0, 200, "{}", reply.2);
    let seen: Value = serde_json::from_str(&reply.2).unwrap();
    assert_eq!(
        seen["body"], r#"{"principal":"user-allow","quota":"5"}"#,
        "{seen}"
    );
    let headers = seen["headers"].to_string().to_ascii_lowercase();
    assert!(
        headers.contains("x-principal") && headers.contains("user-allow"),
        "{headers}"
    );
    assert!(
        headers.contains("x-tier") && headers.contains("gold"),
        "{headers}"
    );

    // Explicit deny over the Allow of `*`.
    let reply = send(
        Method::GET,
        &gateway.url("/tok/secret"),
        &[("authorization", "deny")],
    )
    .await;
    assert_refused(
        &reply,
        403,
        "AccessDeniedException",
        DENY_EXPLICIT,
        "explicit deny",
    );
    let reply = send(
        Method::GET,
        &gateway.url("/tok/echo"),
        &[("authorization", "deny")],
    )
    .await;
    assert_eq!(reply.0, 200, "{}", reply.2);
    assert_eq!(calls(&gateway).await, start + 2);

    // Missing, or failing identityValidationExpression: 401 without a call.
    for headers in [&[][..], &[("authorization", "Not-Lower")][..]] {
        let reply = send(Method::GET, &gateway.url("/tok/echo"), headers).await;
        assert_refused(
            &reply,
            401,
            "UnauthorizedException",
            UNAUTHORIZED,
            "no call",
        );
    }
    assert_eq!(calls(&gateway).await, start + 2);

    // The function's `Unauthorized` error: 401; other failures: 500.
    let reply = send(
        Method::GET,
        &gateway.url("/tok/echo"),
        &[("authorization", "nobody")],
    )
    .await;
    assert_refused(
        &reply,
        401,
        "UnauthorizedException",
        UNAUTHORIZED,
        "Unauthorized error",
    );
    for token in ["boom", "malformed"] {
        let reply = send(
            Method::GET,
            &gateway.url("/tok/echo"),
            &[("authorization", token)],
        )
        .await;
        assert_refused(
            &reply,
            500,
            "AuthorizerConfigurationException",
            CONFIG,
            token,
        );
    }

    // REQUEST: header and query string as identity sources, cached on both.
    let before = calls(&gateway).await;
    let reply = send(
        Method::GET,
        &gateway.url("/req/echo?k=1"),
        &[("x-key", "allow")],
    )
    .await;
    assert_eq!(reply.0, 200, "{}", reply.2);
    let reply = send(
        Method::GET,
        &gateway.url("/req/echo?k=1"),
        &[("x-key", "allow")],
    )
    .await;
    assert_eq!(reply.0, 200, "{}", reply.2);
    assert_eq!(calls(&gateway).await, before + 1);
    let reply = send(
        Method::GET,
        &gateway.url("/req/echo?k=2"),
        &[("x-key", "allow")],
    )
    .await;
    assert_eq!(reply.0, 200, "{}", reply.2);
    assert_eq!(calls(&gateway).await, before + 2);
    // A missing source: 401 without a call.
    let reply = send(
        Method::GET,
        &gateway.url("/req/echo"),
        &[("x-key", "allow")],
    )
    .await;
    assert_refused(
        &reply,
        401,
        "UnauthorizedException",
        UNAUTHORIZED,
        "missing k",
    );
    assert_eq!(calls(&gateway).await, before + 2);

    // The Cognito route beside them still wants a Cognito token.
    let reply = send(
        Method::GET,
        &gateway.url("/cognito/echo"),
        &[("authorization", "allow")],
    )
    .await;
    assert_eq!(reply.0, 401, "{}", reply.2);
    mark_ran("lambda_authorizers_run_and_cache");
}
