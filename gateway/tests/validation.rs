//! Request validators through the `cognito-gateway` process in front of a
//! real backend in its own process (`tests/backend/echo.py`, which reports
//! what it got): refused requests never reach it. Answers as recorded from
//! AWS in LocalStack's `test_api_gateway_request_validator` and
//! `test_api_gateway_request_validator_with_ref_models`.

mod support;

use http::{Method, StatusCode};
use support::backend::Backend;
use support::loopback::{request as send, Reply};
use support::process::Gateway;
use tower_cognito::testing::TestIssuer;

const FIXTURE: &str = "gateway/tests/fixtures/validators.json";
const POOL: &str = "us-east-1_Valid1";
const GOOD: &str = r#"{"item": "tea", "count": 2, "status": "new"}"#;

struct Setup {
    backend: Backend,
    gateway: Gateway,
    issuer: TestIssuer,
    _keys: tower_cognito::testing::JwksServer,
}

async fn setup() -> Setup {
    setup_with(FIXTURE).await
}

/// The fixture with BAD_REQUEST_BODY customized, written to a file of the test's own.
fn customized_fixture() -> std::path::PathBuf {
    let fixture = support::process::workspace_root().join(FIXTURE);
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    doc["x-amazon-apigateway-gateway-responses"] = serde_json::json!({
        "BAD_REQUEST_BODY": {
            "statusCode": 422,
            "responseParameters": {"gatewayresponse.header.X-Validation": "'body'"},
            "responseTemplates": {"application/json":
                "{\"error\": $context.error.messageString, \"detail\": \"$context.error.validationErrorString\", \"type\": \"$context.error.responseType\"}"}
        }
    });
    let path = std::env::temp_dir().join(format!("validators-custom-{}.json", std::process::id()));
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

async fn setup_with(export: &str) -> Setup {
    let export = export.to_owned();
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
                &export,
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

/// API Gateway's 400 with `BadRequestException`, from the gateway (the
/// backend would answer 200 with its report).
fn assert_bad_request(reply: &Reply, body: &str, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{what}: {}",
        reply.body
    );
    assert_eq!(reply.body, body, "{what}");
    assert_eq!(
        reply.headers["x-amzn-errortype"], "BadRequestException",
        "{what}"
    );
    assert_eq!(reply.headers["content-type"], "application/json", "{what}");
    assert!(reply.headers.contains_key("x-amzn-requestid"), "{what}");
}

fn reached_backend(reply: &Reply, path: &str) -> bool {
    reply.status == StatusCode::OK && reply.body.contains(&format!("\"path\": \"{path}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_parameters_are_named_in_aws_order() {
    let s = setup().await;
    let startup = s.gateway.startup_text();
    assert!(
        startup.contains("route POST /orders/{id}: public -> http_proxy POST")
            && startup.contains(", request validator all"),
        "{startup}"
    );
    let url = s.gateway.url("/orders/7");
    let json = ("content-type", "application/json");
    // `issuer` is no path parameter of /orders/{id}: always missing, as AWS
    // answered LocalStack's change-request-path-names case.
    let reply = send(Method::POST, &url, &[json], GOOD).await;
    assert_bad_request(
        &reply,
        r#"{"message": "Missing required request parameters: [x-tenant, issuer, qs1]"}"#,
        "all missing",
    );
    let put = send(Method::PUT, &url, &[json, ("x-tenant", "acme")], GOOD).await;
    assert_bad_request(
        &put,
        r#"{"message": "Missing required request parameters: [qs1]"}"#,
        "query missing",
    );
    // Blank is missing.
    let put = send(
        Method::PUT,
        &format!("{url}?qs1="),
        &[json, ("x-tenant", " ")],
        GOOD,
    )
    .await;
    assert_bad_request(
        &put,
        r#"{"message": "Missing required request parameters: [x-tenant, qs1]"}"#,
        "blank values",
    );
    let ok = send(
        Method::PUT,
        &format!("{url}?qs1=a"),
        &[json, ("X-Tenant", "acme")],
        GOOD,
    )
    .await;
    assert!(reached_backend(&ok, "/orders/7"), "{}", ok.body);
    assert!(
        ok.body.contains("tea"),
        "the body reaches the backend whole: {}",
        ok.body
    );
    // Parameters first: an invalid body with a missing parameter names the parameter.
    let put = send(Method::PUT, &url, &[json, ("x-tenant", "acme")], "{}").await;
    assert!(
        put.body.contains("Missing required request parameters"),
        "{}",
        put.body
    );
    drop(s.backend);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_checked_against_their_model() {
    let s = setup().await;
    let url = s.gateway.url("/orders/7?qs1=a");
    let head = [("content-type", "application/json"), ("x-tenant", "acme")];
    for (body, what) in [
        (r#"{"item": "tea"}"#, "a required property missing"),
        (r#"{"item": "TEA", "count": 2}"#, "a pattern"),
        (r#"{"item": "tea", "count": 0}"#, "a minimum"),
        (
            r#"{"item": "tea", "count": 2, "status": "lost"}"#,
            "a $ref'd enum in oneOf",
        ),
        ("", "an empty body is {}"),
        ("not json", "not JSON"),
        ("[]", "an array"),
    ] {
        let reply = send(Method::PUT, &url, &head, body).await;
        assert_bad_request(&reply, r#"{"message": "Invalid request body"}"#, what);
    }
    // Another Content-Type cannot skip the JSON model.
    let reply = send(
        Method::PUT,
        &url,
        &[("content-type", "text/plain"), ("x-tenant", "acme")],
        "{}",
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let reply = send(
        Method::PUT,
        &url,
        &head,
        r#"{"item": "tea", "count": 2, "status": null}"#,
    )
    .await;
    assert!(reached_backend(&reply, "/orders/7"), "{}", reply.body);

    // The API's default validator (body only): a GET without a body fails
    // its JSON model, as on AWS.
    let reply = send(Method::GET, &s.gateway.url("/items"), &[], "").await;
    assert_bad_request(
        &reply,
        r#"{"message": "Invalid request body"}"#,
        "GET without a body",
    );
    // A validator that checks parameters only lets any body through.
    let reply = send(
        Method::POST,
        &s.gateway.url("/items"),
        &[("x-tenant", "a")],
        "junk",
    )
    .await;
    assert!(reached_backend(&reply, "/items"), "{}", reply.body);
    // One that validates nothing, too.
    let reply = send(Method::POST, &s.gateway.url("/unchecked"), &[], "junk").await;
    assert!(reached_backend(&reply, "/unchecked"), "{}", reply.body);
    drop(s.backend);
}

/// BAD_REQUEST_BODY customized in the export, with
/// `$context.error.validationErrorString`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_answers_follow_the_exports_gateway_responses() {
    let export = customized_fixture();
    let s = setup_with(export.to_str().unwrap()).await;
    let reply = send(
        Method::POST,
        &s.gateway.url("/items"),
        &[],
        r#"{"item": "tea"}"#,
    )
    .await;
    // Parameters only on POST /items: x-tenant is missing (default answer).
    assert_bad_request(
        &reply,
        r#"{"message": "Missing required request parameters: [x-tenant]"}"#,
        "BAD_REQUEST_PARAMETERS not customized",
    );
    let reply = send(Method::GET, &s.gateway.url("/items"), &[], "{}").await;
    assert_eq!(reply.status.as_u16(), 422, "{}", reply.body);
    assert_eq!(reply.headers["x-validation"], "body");
    assert_eq!(reply.headers["x-amzn-errortype"], "BadRequestException");
    let body: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(body["error"], "Invalid request body");
    assert_eq!(body["type"], "BAD_REQUEST_BODY");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with('[') && detail.contains("\"q\""),
        "{detail}"
    );
    drop(s.backend);
}

/// The authorizer first, then the validator (AWS's order: method request
/// validation follows authorization): no token and a bad body is 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_runs_after_the_authorizer() {
    let s = setup().await;
    let url = s.gateway.url("/secure");
    let reply = send(Method::POST, &url, &[], "junk").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let token = format!("Bearer {}", s.issuer.id_token().sign());
    let reply = send(Method::POST, &url, &[("authorization", &token)], "junk").await;
    assert_bad_request(
        &reply,
        r#"{"message": "Invalid request body"}"#,
        "authorized, bad body",
    );
    let reply = send(Method::POST, &url, &[("authorization", &token)], GOOD).await;
    assert!(reached_backend(&reply, "/secure"), "{}", reply.body);
    drop(s.backend);
}

/// A model that does not compile (lookaround is Java's, not the linear
/// engine's) stops startup naming the operation.
#[test]
fn a_model_that_does_not_compile_stops_startup() {
    let dir = std::env::temp_dir().join(format!("validators-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.json");
    let fixture = support::process::workspace_root().join(FIXTURE);
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    doc["components"]["schemas"]["Order"]["properties"]["item"]["pattern"] = "^(?=a)".into();
    std::fs::write(&path, doc.to_string()).unwrap();
    let mut command = support::process::command();
    command.args([
        "--openapi",
        path.to_str().unwrap(),
        "--stage-variable",
        "backendHost=127.0.0.1:9",
        "--listen",
        "127.0.0.1:0",
    ]);
    let out = support::process::run(command, None, std::time::Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("operation POST /orders/{id}") && stderr.contains("does not compile"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
