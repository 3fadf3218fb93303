//! `mock` and `http` integrations with mapping templates, through the
//! `cognito-gateway` process, the `http` ones in front of a real backend in
//! its own process (`tests/backend/echo.py`, which reports what it got).
//! The export is `tests/fixtures/templates.json`.

mod support;

use http::{Method, StatusCode};
use serde_json::Value;
use support::backend::Backend;
use support::loopback::{bounded, call, client, Reply};
use support::process::{self, Gateway};
use tower_cognito::testing::TestIssuer;

const FIXTURE: &str = "gateway/tests/fixtures/templates.json";
const POOL: &str = "us-east-1_Tmpl1";

struct Setup {
    backend: Backend,
    gateway: Gateway,
    token: String,
    _keys: tower_cognito::testing::JwksServer,
}

async fn setup() -> Setup {
    setup_with(&[]).await
}

async fn setup_with(extra: &[&str]) -> Setup {
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let mut args: Vec<String> = [
        "--openapi".to_owned(),
        FIXTURE.to_owned(),
        "--stage".to_owned(),
        "prod".to_owned(),
        "--stage-variable".to_owned(),
        format!("backendHost={}", backend.host()),
        "--stage-variable".to_owned(),
        "env=beta".to_owned(),
        "--jwks-endpoint".to_owned(),
        keys.base_url().to_owned(),
    ]
    .into();
    args.extend(extra.iter().map(|a| a.to_string()));
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    let token = issuer
        .id_token()
        .claim("sub", "user-123")
        .claim("email", "jane@example.com")
        .claim("custom:role", "admin")
        .sign();
    Setup {
        backend,
        gateway,
        token,
        _keys: keys,
    }
}

async fn send(
    method: Method,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    call(method, url, token, headers, Some(body)).await
}

/// A header of the backend's report (names compared case-insensitively).
fn sent_header<'a>(report: &'a Value, name: &str) -> Option<&'a str> {
    report["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .and_then(|h| h[1].as_str())
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_status_and_body_come_from_the_request_and_its_claims() {
    let s = setup().await;
    let log = s.gateway.startup_text();
    assert!(
        log.contains(
            "route GET /pets/{petId}: identity token (authorizer Pool) -> mock (templated status)"
        ),
        "{log}"
    );
    let token = Some(s.token.as_str());
    let url = s.gateway.url("/pets/7?color=red%22x");
    let reply = send(Method::GET, &url, token, &[], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(reply.header("x-mock"), "yes");
    assert_eq!(reply.header("x-env"), "beta", "stageVariables.NAME");
    // $context.responseOverride.header, with $context.requestId.
    assert_eq!(
        reply.header("x-request-id"),
        reply.header("x-amzn-RequestId")
    );
    assert_eq!(
        reply.body,
        r#"{"id": "7", "owner": "user-123", "role": "admin", "color": "red\"x", "stage": "prod", "resource": "/pets/{petId}"}"#
    );

    // Accept picks the text/plain template, which overrides the status.
    let reply = send(Method::GET, &url, token, &[("accept", "text/plain")], "").await;
    assert_eq!(reply.status, StatusCode::NON_AUTHORITATIVE_INFORMATION);
    assert_eq!(reply.header("content-type"), "text/plain");
    assert_eq!(reply.body, "pet 7 of user-123");

    // The request template computes 404 for pet 0; the "404" response answers.
    let reply = send(Method::GET, &s.gateway.url("/pets/0"), token, &[], "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, r#"{"message": "no pet 0"}"#);
    assert_eq!(
        reply.header("x-mock"),
        "",
        "the 404 response maps no header"
    );

    // The authorizer still comes first.
    let reply = send(Method::GET, &url, None, &[], "").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_request_and_response_templates_around_a_real_backend() {
    let s = setup().await;
    let log = s.gateway.startup_text();
    let line = format!(
        "route POST /orders/{{tenant}}: identity token (authorizer Pool) -> http POST http://{}/backend/orders/{{tenant}} (timeout 29000 ms, request templates)",
        s.backend.host()
    );
    assert!(log.contains(&line), "{log}");
    let token = Some(s.token.as_str());
    let url = s.gateway.url("/orders/acme?client=1");
    let reply = send(
        Method::POST,
        &url,
        token,
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("x-client", "not passed"),
        ],
        r#"{"items": [1, 2, 3]}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), "application/json");
    // responseParameters: a backend header, a body JSONPath, a literal.
    assert_eq!(reply.header("x-backend"), "echo");
    assert_eq!(reply.header("x-backend-method"), "POST");
    assert_eq!(reply.header("x-static"), "s");
    // The backend's own headers reach the client only when mapped.
    assert_eq!(reply.header("www-authenticate"), "");
    assert_eq!(reply.header("x-amzn-remapped-server"), "");
    let out = json(&reply);
    // The path from requestParameters; the query: the mapping, then the
    // template's requestOverride (the client's own query is not passed).
    assert_eq!(out["path"], "/backend/orders/acme");
    assert_eq!(out["query"], "src=gateway&env=beta");
    // The seed page's claims template, as the backend received it.
    assert_eq!(out["sub"], "user-123");
    assert_eq!(out["email"], "jane@example.com");
    assert_eq!(out["role"], "admin");
    assert_eq!(out["items"], "3");
    let report = &out["report"];
    assert_eq!(report["method"], "POST");
    let sent: Value = serde_json::from_str(report["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["order"], serde_json::json!({"items": [1, 2, 3]}));
    assert_eq!(sent_header(report, "x-user-sub"), Some("user-123"));
    assert_eq!(
        sent_header(report, "x-role"),
        Some("admin"),
        "requestOverride.header"
    );
    assert_eq!(
        sent_header(report, "content-type"),
        Some("application/json")
    );
    assert_eq!(
        sent_header(report, "x-amzn-apigateway-api-id"),
        Some("t3mpl4t3s1")
    );
    assert!(sent_header(report, "x-amzn-trace-id").is_some());
    for absent in ["authorization", "x-client"] {
        assert_eq!(sent_header(report, absent), None, "{absent} is not passed");
    }

    // Accept: application/xml picks that template; its overrides win.
    let reply = send(
        Method::POST,
        &url,
        token,
        &[
            ("content-type", "application/json"),
            ("accept", "application/xml"),
        ],
        "{}",
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.header("content-type"), "application/xml");
    assert_eq!(reply.header("x-static"), "overridden");
    assert_eq!(reply.body, r#"<order path="/backend/orders/acme"/>"#);

    // A text/plain body: its own template, which overrides the path.
    let reply = send(
        Method::POST,
        &url,
        token,
        &[("content-type", "text/plain")],
        "hello",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = &json(&reply)["report"];
    assert_eq!(report["path"], "/backend/orders/plain");
    assert_eq!(report["body"], "HELLO");
    assert_eq!(sent_header(report, "content-type"), Some("text/plain"));

    // when_no_templates with templates: another type is refused, as AWS.
    let reply = send(
        Method::POST,
        &url,
        token,
        &[("content-type", "application/xml")],
        "<a/>",
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.body, r#"{"message":"Unsupported Media Type"}"#);
    assert_eq!(reply.header("x-amzn-ErrorType"), "BadRequestException");

    // $input.json over a body that is not JSON: 400.
    let reply = send(Method::POST, &url, token, &[], "{nope").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        r#"{"message": "Could not parse request body into json"}"#
    );
    assert_eq!(reply.header("x-amzn-ErrorType"), "BadRequestException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_behaviors() {
    let s = setup().await;
    // when_no_match: a type without template passes through as it is, and
    // the response without template passes the backend's body.
    let url = s.gateway.url("/passthrough");
    let reply = send(
        Method::POST,
        &url,
        None,
        &[("content-type", "text/csv")],
        "a,b\n1,2",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), "application/json");
    let report = json(&reply);
    assert_eq!(report["body"], "a,b\n1,2");
    assert_eq!(sent_header(&report, "content-type"), Some("text/csv"));
    // No Content-Type: application/json, whose template applies.
    let reply = send(Method::POST, &url, None, &[], r#"{"a":1}"#).await;
    let report = json(&reply);
    assert_eq!(report["body"], r#"{"wrapped": {"a":1}}"#);

    // never: no template for the type, 415; the json one still renders.
    let url = s.gateway.url("/never");
    let reply = send(
        Method::POST,
        &url,
        None,
        &[("content-type", "text/plain")],
        "x",
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.body, r#"{"message":"Unsupported Media Type"}"#);
    assert_eq!(reply.header("x-amzn-ErrorType"), "BadRequestException");
    let reply = send(
        Method::POST,
        &url,
        None,
        &[("content-type", "application/json")],
        "[1]",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(json(&reply)["body"], "{}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integration_responses_are_selected_by_the_backend_status() {
    let s = setup().await;
    let get = |path: &str| {
        let url = s.gateway.url(path);
        async move { send(Method::GET, &url, None, &[], "").await }
    };
    let reply = get("/status/201").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, r#"{"ok": "/backend/status/201"}"#);
    // integration.response.body: the whole backend body as a header.
    let whole: Value = serde_json::from_str(reply.header("x-whole")).expect("JSON header");
    assert_eq!(whole["path"], "/backend/status/201");
    let reply = get("/status/503").await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply.body, r#"{"error": "backend failed: GET"}"#);
    // No template: the backend's body as it is, under the response's status.
    let reply = get("/status/404").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&reply)["path"], "/backend/status/404");
    // No pattern matches and no default: API Gateway's 500.
    let reply = get("/unmatched/503").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.body, r#"{"message": "Internal server error"}"#);
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        "InternalServerErrorException"
    );
    let reply = get("/unmatched/200").await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_override_never_injects_a_header() {
    let s = setup().await;
    let reply = send(Method::GET, &s.gateway.url("/inject?q=fine"), None, &[], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(sent_header(&json(&reply), "x-q"), Some("fine"));
    let url = s.gateway.url("/inject?q=a%0D%0AX-Evil:%201");
    let reply = send(Method::GET, &url, None, &[], "").await;
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.body
    );
    assert_eq!(reply.body, r#"{"message": "Internal server error"}"#);
}

#[test]
fn aws_service_integrations_stop_startup_or_answer_500() {
    let mut command = process::command();
    command.args([
        "--openapi",
        "gateway/tests/fixtures/aws-service.json",
        "--dev-issuer",
        "1",
        "--listen",
        "127.0.0.1:0",
    ]);
    let output = process::run(command, None, std::time::Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("operation POST /queue")
            && stderr
                .contains("integration type aws (an AWS service integration) is not supported"),
        "{stderr}"
    );

    let gateway = Gateway::start_with(
        &[],
        &[
            "--openapi",
            "gateway/tests/fixtures/aws-service.json",
            "--dev-issuer",
            "1",
            "--allow-unsupported",
        ],
    );
    assert!(
        gateway
            .startup_text()
            .contains("route POST /queue: public -> aws (unsupported: answers 500)"),
        "{}",
        gateway.startup_text()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reply = runtime.block_on(send(Method::POST, &gateway.url("/queue"), None, &[], "{}"));
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.body, r#"{"message": "Internal server error"}"#);
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        "InternalServerErrorException"
    );
    let token = gateway.dev_tokens()["ID_TOKEN"].clone();
    let url = gateway.url("/health");
    let reply = runtime.block_on(send(Method::GET, &url, Some(&token), &[], ""));
    assert_eq!(
        reply.body, r#"{"status":"ok"}"#,
        "the rest of the export is served"
    );
}

/// docs/gateway.md's `http` example, as written there, served in front of the
/// echo backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_http_example_runs_as_written() {
    let readme =
        std::fs::read_to_string(process::workspace_root().join("docs/gateway.md")).unwrap();
    let after = readme
        .split_once("An `http` integration with templates")
        .expect("docs/gateway.md's http example")
        .1;
    let block = after
        .split_once("```json\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .expect("a json block")
        .0;
    let paths: Value = serde_json::from_str(&format!("{{{block}}}")).expect("the example is JSON");
    let export = serde_json::json!({
        "openapi": "3.0.1",
        "info": {"title": "README", "version": "1"},
        "paths": paths,
        "components": {"securitySchemes": {"MyUserPool": {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                "providerARNs": [format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{POOL}")]}
        }}}
    });
    let dir = std::env::temp_dir().join(format!("gateway-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("readme.json");
    std::fs::write(&path, export.to_string()).unwrap();

    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let args = [
        "--openapi".to_owned(),
        path.display().to_string(),
        "--stage-variable".to_owned(),
        format!("backendHost={}", backend.host()),
        "--jwks-endpoint".to_owned(),
        keys.base_url().to_owned(),
    ];
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    let token = issuer.id_token().claim("sub", "user-9").sign();
    let reply = send(
        Method::POST,
        &gateway.url("/orders/acme"),
        Some(&token),
        &[("content-type", "application/json")],
        r#"{"item": "kibble"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // The echo backend's `id`, through the template and a body JSONPath.
    let id = reply.header("x-order-id").to_owned();
    assert!(
        id.len() == 8 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id:?}"
    );
    assert_eq!(reply.body, format!(r#"{{"id": "{id}", "by": "user-9"}}"#));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templated_integrations_read_at_most_max_body_bytes() {
    let s = setup_with(&["--max-body-bytes", "64"]).await;
    let upload = |chunks: usize| {
        let url = s.gateway.url("/passthrough");
        async move {
            let parts =
                (0..chunks).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 32])));
            bounded("chunked upload", async {
                let r = client()
                    .post(url)
                    .header("content-type", "text/plain")
                    .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                        parts,
                    )))
                    .send()
                    .await
                    .unwrap();
                (r.status(), r.text().await.unwrap())
            })
            .await
        }
    };
    // Chunked, no declared length: cut off once past the limit.
    let (status, body) = upload(3).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body, r#"{"message":"Request Too Long"}"#);
    // At the limit: read whole and passed on.
    let (status, body) = upload(2).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["body_len"], 64);
}
