//! API Gateway's own answers outside the authorizer, the export's gateway
//! responses, mock integrations, unsupported integration types and path
//! safety, against the `cognito-gateway` process.

mod support;

use std::io::{Read as _, Write as _};
use std::time::Duration;

use http::{Method, StatusCode};
use support::loopback::{bounded, client, Reply};
use support::process::{self, Gateway};

const FIXTURE: &str = "gateway/tests/fixtures/answers.json";

async fn send(method: Method, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let http = client();
    let mut request = http.request(method.clone(), url).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    bounded(&format!("{method} {url}"), async {
        let response = request.send().await.expect("send");
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body"),
        }
    })
    .await
}

fn start(args: &[&str]) -> Gateway {
    let mut all = vec!["--openapi", FIXTURE, "--dev-issuer", "1", "--stage", "beta"];
    all.extend_from_slice(args);
    Gateway::start_with(&[], &all)
}

/// Status line of a raw HTTP/1.1 request written as is.
fn raw_status(gateway: &Gateway, request: &str) -> String {
    let addr = gateway.url("").trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_integration_types_stop_startup_naming_the_operation() {
    let mut command = process::command();
    command.args([
        "--openapi",
        FIXTURE,
        "--dev-issuer",
        "1",
        "--listen",
        "127.0.0.1:0",
    ]);
    let output =
        tokio::task::spawn_blocking(move || process::run(command, None, Duration::from_secs(60)))
            .await
            .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("operation GET /legacy")
            && stderr
                .contains("integration type aws (an AWS service integration) is not supported"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_the_engine_refuses_stops_startup_naming_operation_template_and_position() {
    let dir = std::env::temp_dir().join(format!("gateway-answers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vtl.json");
    let text = std::fs::read_to_string(process::workspace_root().join(FIXTURE))
        .unwrap()
        .replace(
            r#""requestTemplates": {"application/json": "{\"statusCode\": 201}"}"#,
            r#""requestTemplates": {"application/json": "{\n  \"statusCode\": #macro(m)#end\n}"}"#,
        );
    assert!(text.contains("#macro"), "fixture changed");
    std::fs::write(&path, text).unwrap();
    let mut command = process::command();
    command.arg("--openapi").arg(&path);
    command.args([
        "--dev-issuer",
        "1",
        "--listen",
        "127.0.0.1:0",
        "--allow-unsupported",
    ]);
    let output =
        tokio::task::spawn_blocking(move || process::run(command, None, Duration::from_secs(60)))
            .await
            .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "operation GET /public (#/paths/~1public/get): requestTemplates['application/json']: \
             line 2, column 17: #macro is not supported"
        ),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_and_gateway_responses_byte_for_byte() {
    let gateway =
        tokio::task::spawn_blocking(|| start(&["--allow-unsupported", "--max-body-bytes", "16"]))
            .await
            .unwrap();
    let log = gateway.startup_text();
    assert!(
        log.contains("route GET /legacy: public -> aws (unsupported: answers 500)"),
        "{log}"
    );
    assert!(
        log.contains("route GET /public: public -> mock 201"),
        "{log}"
    );

    // The mock: pattern-selected response, static header, literal body.
    let reply = send(Method::GET, &gateway.url("/public"), &[], "").await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body, r#"{"created":true}"#);
    assert_eq!(reply.header("x-mock"), "yes");
    assert_eq!(reply.header("content-type"), "application/json");

    // --allow-unsupported: API Gateway's 500, with the space after the colon.
    let reply = send(Method::GET, &gateway.url("/legacy"), &[], "").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.body, r#"{"message": "Internal server error"}"#);
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        "InternalServerErrorException"
    );
    assert!(!reply.header("x-amzn-RequestId").is_empty());

    // UNAUTHORIZED customized: its header and template, with the request's id.
    let reply = send(Method::GET, &gateway.url("/protected"), &[], "").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("access-control-allow-origin"), "*");
    assert_eq!(reply.header("x-default"), "", "own entry, not DEFAULT_4XX");
    let id = reply.header("x-amzn-RequestId").to_owned();
    assert_eq!(
        reply.body,
        format!(r#"{{"message":"Unauthorized","requestId":"{id}","stage":"beta"}}"#)
    );
    assert_eq!(reply.header("x-amzn-ErrorType"), "UnauthorizedException");

    // MISSING_AUTHENTICATION_TOKEN: status replaced, default body kept.
    let reply = send(Method::GET, &gateway.url("/nothing"), &[], "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, r#"{"message":"Missing Authentication Token"}"#);
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        "MissingAuthenticationTokenException"
    );

    // Over --max-body-bytes: 413 (a 4XX: DEFAULT_4XX's header).
    let reply = send(
        Method::POST,
        &gateway.url("/public"),
        &[],
        "0123456789abcdefXYZ",
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.body, r#"{"message":"Request Too Long"}"#);
    assert_eq!(reply.header("x-amzn-ErrorType"), "RequestTooLargeException");
    assert_eq!(reply.header("x-default"), "4xx");

    // passthroughBehavior never: a type without template is refused.
    let reply = send(
        Method::POST,
        &gateway.url("/public"),
        &[("content-type", "text/xml")],
        "<a/>",
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.body, r#"{"message":"Unsupported Media Type"}"#);
    let reply = send(
        Method::POST,
        &gateway.url("/public"),
        &[("content-type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);

    // Path safety: dot segments (raw or encoded), empty segments where AWS
    // was not recorded routing them, and absolute-form targets never match a
    // route (`//public` is `/public`, a mock, as on AWS: path_security.rs).
    let gateway = std::sync::Arc::new(gateway);
    for target in [
        "/public/../public",
        "/public/%2e%2e/public",
        "/public/.",
        "///public",
        "/public//",
        "/x/..%2Fpublic",
        "http://127.0.0.1/public",
    ] {
        let g = std::sync::Arc::clone(&gateway);
        let request =
            format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let status = tokio::task::spawn_blocking(move || raw_status(&g, &request))
            .await
            .unwrap();
        assert_eq!(
            status, "HTTP/1.1 404 Not Found",
            "{target} (MISSING_AUTHENTICATION_TOKEN is 404 here)"
        );
    }
    let g = std::sync::Arc::clone(&gateway);
    let ok = tokio::task::spawn_blocking(move || {
        raw_status(
            &g,
            "GET /public HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert_eq!(ok, "HTTP/1.1 201 Created");
}
