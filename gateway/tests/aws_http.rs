//! `http` and `http_proxy` integrations answering as AWS answered in
//! LocalStack's recordings against real AWS (the test and snapshot key each
//! test names), through the `cognito-gateway` process to a real backend in
//! its own process (`tests/fixtures/aws_http_backend.py`), which reports and
//! records what reached it.
//!
//! Two exports: `tests/fixtures/aws-http.json` (what AWS sends to the
//! backend and answers), and `tests/fixtures/aws-http-deploys.json`, what
//! AWS deploys but answers per request (an unset stage variable in a URI, a
//! mapping onto `Content-Length`, ...): served so with a `warning:` line
//! each, or refused at startup with `--strict`.

mod support;

use std::io::{Read as _, Write as _};
use std::time::Duration;

use http::StatusCode;
use serde_json::Value;
use support::backend::{header, report_headers};
use support::loopback::{bounded, client, Reply};
use support::process::{self, Gateway};
use support::python::PythonBackend;

const EXPORT: &str = "gateway/tests/fixtures/aws-http.json";
const DEPLOYS: &str = "gateway/tests/fixtures/aws-http-deploys.json";
/// The API ID of both exports' `servers` URL.
const API_ID: &str = "a1b2c3d4e5";
/// Every route is public; a deployment still names a pool, whose keys are
/// never needed (nothing listens where they would be fetched).
const POOL_ARGS: [&str; 4] = [
    "--user-pool",
    "us-east-1_AwsHttp1",
    "--jwks-endpoint",
    "http://127.0.0.1:9",
];

struct Setup {
    backend: PythonBackend,
    gateway: Gateway,
}

async fn setup(export: &str) -> Setup {
    let backend = tokio::task::spawn_blocking(|| PythonBackend::start("aws_http_backend.py"))
        .await
        .unwrap();
    let mut args: Vec<String> = vec![
        "--openapi".into(),
        export.into(),
        "--stage".into(),
        "prod".into(),
        "--workers".into(),
        "1".into(),
        "--stage-variable".into(),
        format!("backendHost=127.0.0.1:{}", backend.port),
    ];
    args.extend(POOL_ARGS.iter().map(|a| a.to_string()));
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    Setup { backend, gateway }
}

async fn send(method: http::Method, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = client().request(method.clone(), url);
    for (n, v) in headers {
        request = request.header(*n, *v);
    }
    if !body.is_empty() {
        request = request.body(body.to_owned());
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

/// A raw HTTP/1.1 request (`Connection: close` added), and the answer's
/// head, lower-cased, and body.
async fn raw(gateway: &Gateway, request: String) -> (String, String) {
    let addr = gateway.url("").trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("the whole answer");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
        (head.to_ascii_lowercase(), body.to_owned())
    })
    .await
    .unwrap()
}

fn assert_internal_error(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{what}: {}",
        reply.body
    );
    assert_eq!(
        reply.body, r#"{"message": "Internal server error"}"#,
        "{what}"
    );
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        "InternalServerErrorException",
        "{what}"
    );
}

/// `test_import_with_stage_variables` / `get-error-resp-from-http` and
/// `test_apigateway_header_remapping_http[HTTP|HTTP_PROXY]` / `content-length`,
/// `transfer-encoding`: AWS deploys a URI naming an unset stage variable and
/// mappings onto `Content-Length` / `Transfer-Encoding`, and answers each
/// request 500. The gateway starts, says so in a warning line each, answers
/// those routes 500 without calling the backend, and serves the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_aws_deploys_is_served_with_a_warning_and_answers_500_per_request() {
    let s = setup(DEPLOYS).await;
    let log = s.gateway.startup_text();
    for expected in [
        "route GET /unset: public -> http_proxy GET http://${stageVariables.unsetHost}/x (answers 500: see the warning)",
        "warning: operation GET /unset (#/paths/~1unset/get): uri \"http://${stageVariables.unsetHost}/x\": stage variable unsetHost is not set (--stage-variable unsetHost=...): every request answers 500, as on AWS (--strict refuses it)",
        "warning: operation GET /unset-http (#/paths/~1unset-http/get): uri ",
        "stage variable unsetPath is not set",
        "warning: operation GET /frame-length (#/paths/~1frame-length/get): requestParameters \"integration.request.header.Content-Length\": \"'0'\": Content-Length frames the body: every request answers 500, as on AWS (--strict refuses it)",
        "warning: operation GET /frame-te (#/paths/~1frame-te/get): requestParameters \"integration.request.header.Transfer-Encoding\"",
        "warning: operation GET /remap-length (#/paths/~1remap-length/get): responses.default: responseParameters \"method.response.header.Content-Length\": goes out as x-amzn-Remapped-Content-Length, as on AWS (--strict refuses it)",
        "responseParameters \"method.response.header.Transfer-Encoding\": is not sent, as on AWS",
        "warning: operation GET /mock-remap (#/paths/~1mock-remap/get): responses.default: responseParameters \"method.response.header.Content-Length\"",
        "warning: operation GET /context (#/paths/~1context/get): requestParameters \"integration.request.header.X-Account\": \"context.accountId\": no value in the gateway, so nothing is sent",
    ] {
        assert!(log.contains(expected), "{expected}\nnot in:\n{log}");
    }
    assert!(
        !log.contains("X-Resource-Id") && !log.contains("X-Api"),
        "no warning for what has a value:\n{log}"
    );

    for route in ["/unset", "/unset-http", "/frame-length", "/frame-te"] {
        let reply = send(http::Method::GET, &s.gateway.url(route), &[], "").await;
        assert_internal_error(&reply, route);
        assert!(!reply.header("x-amzn-RequestId").is_empty(), "{route}");
    }
    assert!(
        s.backend.seen().await.is_empty(),
        "a route that answers 500 called the backend"
    );
    let reply = send(http::Method::GET, &s.gateway.url("/served"), &[], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["path"], "/echo");
}

/// `test_apigateway_header_remapping_http[HTTP]` / `full-integration`:
/// `responseParameters` onto `Content-Length` go out as
/// `x-amzn-Remapped-Content-Length`, onto `Transfer-Encoding` not at all;
/// the body keeps its real length. For a mock integration too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_parameters_onto_framing_headers_are_remapped_or_dropped() {
    let s = setup(DEPLOYS).await;
    let reply = send(http::Method::GET, &s.gateway.url("/remap-length"), &[], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.header("x-amzn-Remapped-Content-Length"),
        "response_Content-Length"
    );
    assert_eq!(
        reply.header("content-length"),
        reply.body.len().to_string(),
        "the gateway frames the body"
    );
    assert_eq!(reply.header("transfer-encoding"), "");
    assert!(
        !reply
            .headers
            .iter()
            .any(|(_, v)| v == "response_Transfer-Encoding"),
        "{:?}",
        reply.headers
    );
    assert_eq!(reply.header("x-kept"), "response_X-Kept");
    assert_eq!(reply.json()["path"], "/echo");

    let reply = send(http::Method::GET, &s.gateway.url("/mock-remap"), &[], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.header("x-amzn-Remapped-Content-Length"),
        "response_Content-Length"
    );
    assert_eq!(reply.header("content-length"), reply.body.len().to_string());
}

/// `test_integration_request_parameters_mapping` (`context.resourceId`
/// mapped onto a header): the resource's ID, here the base-36 FNV-1a hash
/// of the resource path, 10 characters as AWS's; and the other `context.*`
/// variables AWS accepts as mapping sources.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_variables_aws_accepts_are_mapping_sources() {
    let s = setup(DEPLOYS).await;
    let reply = send(
        http::Method::GET,
        &s.gateway.url("/context"),
        &[("user-agent", "client/1.0"), ("x-account", "client-chosen")],
        "",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let h = report_headers(&reply.json());
    let id = header(&h, "x-resource-id").expect("X-Resource-Id");
    assert_eq!(id, resource_id("/context"));
    assert_eq!(id.len(), 10);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
    assert_eq!(header(&h, "x-api"), Some(API_ID));
    assert_eq!(header(&h, "x-ua"), Some("client/1.0"));
    assert_eq!(header(&h, "x-protocol"), Some("HTTP/1.1"));
    let time = header(&h, "x-time").expect("X-Time");
    assert!(time.ends_with(" +0000") && time.len() == 26, "{time}");
    // No value in the gateway: nothing, and not the client's copy either.
    assert_eq!(header(&h, "x-account"), None);
}

/// The documented resource ID: FNV-1a (64-bit) of the path, 10 base-36
/// digits.
fn resource_id(path: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in path.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; 10];
    for slot in out.iter_mut().rev() {
        *slot = digits[(hash % 36) as usize];
        hash /= 36;
    }
    String::from_utf8(out).unwrap()
}

/// `--strict` (and `GATEWAY_STRICT`): what would be a warning refuses the
/// export, exit status 2, each named; an export without any starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_refuses_what_it_would_warn_about() {
    let refused = |args: &[&str], vars: &[(&str, &str)]| {
        let mut command = process::command();
        command.env("GATEWAY_ADDR", "127.0.0.1:0");
        command.args([
            "--openapi",
            DEPLOYS,
            "--stage-variable",
            "backendHost=127.0.0.1:9",
        ]);
        command.args(POOL_ARGS);
        command.args(args);
        for (n, v) in vars {
            command.env(n, v);
        }
        let out = process::run(command, None, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?} {vars:?}: {stderr}");
        stderr
    };
    let stderr = tokio::task::spawn_blocking(move || {
        let flag = refused(&["--strict"], &[]);
        let env = refused(&[], &[("GATEWAY_STRICT", "true")]);
        (flag, env)
    })
    .await
    .unwrap();
    for stderr in [&stderr.0, &stderr.1] {
        for expected in [
            "operation GET /unset (#/paths/~1unset/get): uri \"http://${stageVariables.unsetHost}/x\": stage variable unsetHost is not set (--stage-variable unsetHost=...): every request answers 500, as on AWS (--strict)",
            "operation GET /frame-length (#/paths/~1frame-length/get): requestParameters \"integration.request.header.Content-Length\"",
            "operation GET /frame-te (#/paths/~1frame-te/get)",
            "operation GET /remap-length (#/paths/~1remap-length/get): responses.default: responseParameters \"method.response.header.Content-Length\": goes out as x-amzn-Remapped-Content-Length",
            "operation GET /mock-remap (#/paths/~1mock-remap/get)",
            "operation GET /context (#/paths/~1context/get): requestParameters \"integration.request.header.X-Account\": \"context.accountId\": no value",
        ] {
            assert!(stderr.contains(expected), "{expected}\nnot in:\n{stderr}");
        }
    }
    // Nothing to warn about: --strict starts.
    let gateway = tokio::task::spawn_blocking(|| {
        Gateway::start_with(
            &[("GATEWAY_STRICT", "true")],
            &[
                "--openapi",
                "gateway/tests/fixtures/templates.json",
                "--stage-variable",
                "backendHost=127.0.0.1:9",
                "--stage-variable",
                "env=beta",
                "--jwks-endpoint",
                "http://127.0.0.1:9",
            ],
        )
    })
    .await
    .unwrap();
    assert!(!gateway.startup_text().contains("warning: operation"));
}

/// `test_http_integration_method[HTTP]` / `http-invocation-lambda-url-*` and
/// `test_apigateway_header_remapping_http[HTTP]` / `no-param-integration`: an
/// `http` integration sends `Accept: application/json` and `User-Agent:
/// AmazonAPIGateway_<api id>` in place of the client's; an empty body passed
/// through goes without `Content-Type` and with `Content-Length: 0`, a
/// non-empty one with the client's type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sends_aws_accept_and_user_agent_and_frames_an_empty_body() {
    let s = setup(EXPORT).await;
    let client_headers = [
        ("accept", "application/xml"),
        ("user-agent", "test/integration"),
        ("content-type", "application/json"),
    ];
    let url = s.gateway.url("/http-defaults");
    let reply = send(http::Method::POST, &url, &client_headers, r#"{"a":1}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    let h = report_headers(&report);
    assert_eq!(header(&h, "accept"), Some("application/json"));
    let agent = format!("AmazonAPIGateway_{API_ID}");
    assert_eq!(header(&h, "user-agent"), Some(agent.as_str()));
    assert_eq!(header(&h, "content-type"), Some("application/json"));
    assert_eq!(report["body"], r#"{"a":1}"#);

    let reply = send(http::Method::POST, &url, &client_headers, "").await;
    let h = report_headers(&reply.json());
    assert_eq!(header(&h, "content-type"), None, "{h:?}");
    assert_eq!(header(&h, "content-length"), Some("0"), "{h:?}");
    assert_eq!(header(&h, "transfer-encoding"), None, "{h:?}");
}

/// `test_apigateway_header_remapping_http[HTTP|HTTP_PROXY]` /
/// `full-integration`: mapped headers as AWS sends them: a mapped `Host`
/// (`method.request.header.Host`) in place of the URI's, mapped `Accept`
/// and `User-Agent` in place of AWS's own (`http`), and mappings onto
/// `Expect`, `Via`, `TE`, `Proxy-Authenticate` (and `Connection`) not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapped_headers_are_sent_as_aws_sends_them() {
    let s = setup(EXPORT).await;
    let log = s.gateway.startup_text();
    for name in ["Expect", "Via", "TE", "Proxy-Authenticate", "Connection"] {
        let warning = format!(
            "warning: operation GET /http-mapped (#/paths/~1http-mapped/get): requestParameters \"integration.request.header.{name}\""
        );
        assert!(log.contains(&warning), "{warning}\nnot in:\n{log}");
    }
    for route in ["/http-mapped", "/proxy-mapped"] {
        let reply = send(
            http::Method::GET,
            &s.gateway.url(route),
            &[
                ("host", "abc.execute-api.example"),
                ("accept", "text/xml"),
                ("user-agent", "client/1.0"),
            ],
            "",
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{route}: {}", reply.body);
        let h = report_headers(&reply.json());
        assert_eq!(
            header(&h, "host"),
            Some("abc.execute-api.example"),
            "{route}"
        );
        assert_eq!(header(&h, "accept"), Some("text/xml"), "{route}");
        assert_eq!(header(&h, "user-agent"), Some("mapped-agent"), "{route}");
        assert_eq!(header(&h, "x-kept"), Some("kept"), "{route}");
        for gone in ["expect", "via", "te", "proxy-authenticate", "connection"] {
            assert_eq!(header(&h, gone), None, "{route}: {gone} in {h:?}");
        }
    }
    // Without a value (no Host header), the URI's host.
    let (head, body) = raw(
        &s.gateway,
        "GET /proxy-mapped HTTP/1.0\r\nAccept: text/xml\r\n\r\n".to_owned(),
    )
    .await;
    assert!(head.starts_with("http/1.0 200"), "{head}");
    let report: Value = serde_json::from_str(&body).unwrap();
    let backend = format!("127.0.0.1:{}", s.backend.port);
    assert_eq!(
        header(&report_headers(&report), "host"),
        Some(backend.as_str())
    );
}

/// `test_http_proxy_integration_request_data_mappings` /
/// `http-proxy-invocation`: `{name}` placeholders in the URI's query string
/// are filled as path ones are (`testVar=foobar`, `testQs=bar`), for
/// `http_proxy` and `http`; a value is one query component, never a pair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_placeholders_are_filled_like_path_ones() {
    let s = setup(EXPORT).await;
    let reply = send(
        http::Method::POST,
        &s.gateway
            .url("/proxy/foobar?testQueryString=foo&testVar=bar"),
        &[("content-type", "application/json")],
        r#"{"message": "hello world"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json()["query"],
        "testVar=foobar&testQs=bar&testQueryString=foo&testVar=bar&queryString=foo&testQs=foo"
    );
    let reply = send(
        http::Method::GET,
        &s.gateway
            .url("/http-query/foobar?testQueryString=foo&testVar=bar"),
        &[],
        "",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json()["query"],
        "testVar=foobar&testQs=bar&queryString=foo&testQs=foo"
    );
    // `&` and `=` in a path parameter or a query value stay inside the value.
    let reply = send(
        http::Method::GET,
        &s.gateway
            .url("/http-query/a%26admin%3D1?testVar=b%26root%3D1"),
        &[],
        "",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.json()["query"],
        "testVar=a%26admin%3D1&testQs=b%26root%3D1"
    );
    // No value for a placeholder: 500, nothing sent.
    let before = s.backend.seen().await.len();
    let reply = send(
        http::Method::GET,
        &s.gateway.url("/http-query/foobar"),
        &[],
        "",
    )
    .await;
    assert_internal_error(&reply, "a query placeholder without a value");
    assert_eq!(s.backend.seen().await.len(), before);
}

/// `test_apigateway_header_remapping_http[HTTP_PROXY]` /
/// `no-param-integration`: `http_proxy` does not forward the client's
/// `Content-Encoding` (a mapped one is sent), and a chunked client body that
/// is empty goes out with `Content-Length: 0`; a non-empty one still streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_drops_content_encoding_and_frames_an_empty_chunked_body() {
    let s = setup(EXPORT).await;
    let request = |path: &str, chunks: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\
             Content-Encoding: deflate\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunks}"
        )
    };
    let (head, body) = raw(&s.gateway, request("/proxy-plain", "0\r\n\r\n")).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let report: Value = serde_json::from_str(&body).unwrap();
    let h = report_headers(&report);
    assert_eq!(header(&h, "content-length"), Some("0"), "{h:?}");
    assert_eq!(header(&h, "transfer-encoding"), None, "{h:?}");
    assert_eq!(header(&h, "content-encoding"), None, "{h:?}");
    assert_eq!(header(&h, "content-type"), Some("application/json"));

    let (head, body) = raw(
        &s.gateway,
        request("/proxy-plain", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
    )
    .await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["body"], "hello world");
    assert_eq!(header(&report_headers(&report), "content-encoding"), None);

    let (_, body) = raw(
        &s.gateway,
        request("/proxy-encoding", "2\r\nhi\r\n0\r\n\r\n"),
    )
    .await;
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        header(&report_headers(&report), "content-encoding"),
        Some("gzip")
    );
    assert_eq!(report["body"], "hi");
}

/// `test_http_integration_with_lambda[HTTP_PROXY]`,
/// `test_http_proxy_integration_request_data_mappings`: the backend's
/// `Content-Length` and `x-amzn-RequestId` come back as
/// `x-amzn-Remapped-Content-Length` and `x-amzn-Remapped-x-amzn-RequestId`
/// (the gateway's own id in `x-amzn-RequestId`, the length of what it
/// sends in `Content-Length`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_remaps_the_backend_s_length_and_request_id() {
    let s = setup(EXPORT).await;
    let reply = send(http::Method::GET, &s.gateway.url("/proxy-plain"), &[], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.header("x-amzn-Remapped-Content-Length"),
        reply.body.len().to_string()
    );
    assert_eq!(reply.header("content-length"), reply.body.len().to_string());
    assert_eq!(
        reply.header("x-amzn-Remapped-x-amzn-RequestId"),
        "backend-request-id"
    );
    let id = reply.header("x-amzn-RequestId");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(reply.header("x-amzn-Remapped-Connection"), "keep-alive");
    // AWS adds no trace to an http_proxy answer (the backend sent none).
    assert_eq!(reply.header("x-amzn-trace-id"), "");
}

/// `test_invocation_trace_id` (the formats of its trace cases): the
/// client's `X-Amzn-Trace-Id` reaches the backend, a `Root`-only one with a
/// generated `Parent` and `Sampled=0`, one with a `Parent` and no
/// `Sampled` with `Sampled=1`; a malformed one is replaced by the gateway's
/// own. An `http` integration answers the trace it sent (recorded in
/// `test_apigateway_header_remapping_http[HTTP]`), `http_proxy` does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_traces_are_propagated_and_completed() {
    let s = setup(EXPORT).await;
    let full = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1";
    let root = "Root=1-3152b799-8954dae64eda91bc9a23a7e8";
    for route in ["/proxy-plain", "/http-trace"] {
        let url = s.gateway.url(route);
        let trace_sent = |reply: &Reply| {
            let h = report_headers(&reply.json());
            header(&h, "x-amzn-trace-id")
                .expect("X-Amzn-Trace-Id")
                .to_owned()
        };
        let reply = send(http::Method::GET, &url, &[("x-amzn-trace-id", full)], "").await;
        assert_eq!(trace_sent(&reply), full, "{route}");
        if route == "/http-trace" {
            assert_eq!(reply.header("x-amzn-trace-id"), full, "{route}");
        } else {
            assert_eq!(reply.header("x-amzn-trace-id"), "", "{route}");
        }

        let reply = send(http::Method::GET, &url, &[("x-amzn-trace-id", root)], "").await;
        let sent = trace_sent(&reply);
        let parent = sent
            .strip_prefix(&format!("{root};Parent="))
            .and_then(|rest| rest.strip_suffix(";Sampled=0"))
            .unwrap_or_else(|| panic!("{route}: {sent}"));
        assert_eq!(parent.len(), 16, "{sent}");
        assert!(parent.bytes().all(|b| b.is_ascii_hexdigit()), "{sent}");
        assert_ne!(parent, "7fa8c0f79203be72");

        let with_parent = format!("{root};Parent=7fa8c0f79203be72");
        let reply = send(
            http::Method::GET,
            &url,
            &[("x-amzn-trace-id", &with_parent)],
            "",
        )
        .await;
        assert_eq!(trace_sent(&reply), format!("{with_parent};Sampled=1"));

        for malformed in [
            "Root=1-xyz",
            "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Root=1-3152b799-8954dae64eda91bc9a23a7e9",
            "Parent=7fa8c0f79203be72",
            "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Sampled=yes",
        ] {
            let reply = send(
                http::Method::GET,
                &url,
                &[("x-amzn-trace-id", malformed)],
                "",
            )
            .await;
            let request_id = reply.header("x-amzn-RequestId").replace('-', "");
            let sent = trace_sent(&reply);
            assert!(sent.starts_with("Root=1-"), "{route} {malformed}: {sent}");
            assert!(
                sent.ends_with(&request_id[..24]),
                "{route} {malformed}: {sent}, the gateway's own"
            );
        }
    }
}
