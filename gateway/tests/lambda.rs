//! `aws_proxy` integrations: `cognito-gateway`, run as a process, invoking a
//! real Lambda function through a real local Lambda emulator
//! (`cargo lambda watch` serving `gateway/tests/lambda-fn`, started by
//! `scripts/lambda-env.sh`, which `scripts/test` runs), with tokens from a
//! test issuer and from moto. The event the function gets is checked by
//! deserializing it with `aws_lambda_events`' `ApiGatewayProxyRequest`.
//!
//! Failures the emulator cannot produce (a body that is no JSON, AWS's
//! `X-Amz-Function-Error` on a 200, an oversized answer) come from a
//! loopback server of the test speaking the Invoke API.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use axum::extract::{Path, RawQuery};
use axum::http::HeaderMap as AxumHeaders;
use axum::routing::post;
use http::{Method, StatusCode};
use serde_json::{json, Value};
use support::emulator::emulator;
use support::loopback::{bounded, client, raw_exchange, TestServer};
use support::moto::{mark_ran, Fixture, MotoCognito};
use support::process::{self, Gateway};
use tower_cognito::testing::TestIssuer;

const EXPORT: &str = "gateway/tests/fixtures/lambda-proxy.json";
const POOL: &str = "us-east-1_Lambda001";
const FUNCTION: &str = "gateway-test-lambda";
const INTERNAL_ERROR: &str = r#"{"message": "Internal server error"}"#;

fn start(endpoint: &str, jwks: &str, extra: &[(&str, &str)]) -> Gateway {
    let mut vars = vec![
        ("OPENAPI_FILE", EXPORT),
        ("LAMBDA_ENDPOINT", endpoint),
        ("COGNITO_JWKS_ENDPOINT", jwks),
        ("STAGE_VARIABLES", "function=gateway-test-lambda,tier=test"),
    ];
    vars.extend_from_slice(extra);
    Gateway::start(&vars)
}

/// One request; the body as bytes.
async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let http = client();
    bounded(&format!("{method} {url}"), async {
        let mut request = http.request(method.clone(), url).body(body);
        for (n, v) in headers {
            request = request.header(*n, *v);
        }
        let res = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.bytes().await.expect("body").to_vec())
    })
    .await
}

fn assert_internal_error(reply: &(StatusCode, http::HeaderMap, Vec<u8>), what: &str) {
    assert_internal_error_status(reply, StatusCode::BAD_GATEWAY, what);
}

/// API Gateway's `Internal server error` with `status`: 502 for a failed
/// invoke or a malformed answer, 500 for what AWS counts as a configuration
/// error.
fn assert_internal_error_status(
    reply: &(StatusCode, http::HeaderMap, Vec<u8>),
    status: StatusCode,
    what: &str,
) {
    assert_eq!(reply.0, status, "{what}");
    assert_eq!(
        reply.1["x-amzn-errortype"], "InternalServerErrorException",
        "{what}"
    );
    assert_eq!(reply.1["content-type"], "application/json", "{what}");
    assert!(reply.1.contains_key("x-amzn-requestid"), "{what}");
    assert_eq!(String::from_utf8_lossy(&reply.2), INTERNAL_ERROR, "{what}");
}

/// The event the function echoed, typed and raw.
fn event_of(body: &[u8]) -> (ApiGatewayProxyRequest, Value) {
    let raw: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "echo body is no JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    });
    let typed = serde_json::from_value(raw.clone())
        .unwrap_or_else(|e| panic!("not an ApiGatewayProxyRequest ({e}): {raw}"));
    (typed, raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_event_carries_every_field() {
    let Some(endpoint) = emulator("lambda") else {
        return;
    };
    let issuer = TestIssuer::new(POOL);
    let jwks = issuer.serve_jwks().await.unwrap();
    let base = jwks.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || start(&endpoint, &base, &[]))
        .await
        .unwrap();
    let log = gateway.startup_text();
    assert!(
        log.contains("route GET /fn/{action}: identity token (authorizer LambdaUserPool) -> aws_proxy lambda arn:aws:lambda:us-east-1:123456789012:function:gateway-test-lambda via http://127.0.0.1:"),
        "{log}"
    );
    let token = issuer
        .id_token()
        .claim("custom:role", "editor")
        .groups(["admin", "staging-manager"])
        .sign();
    let auth = format!("Bearer {token}");
    let reply = send(
        Method::GET,
        &gateway.url("/fn/echo?a=1&a=2&b=x%20y"),
        &[
            ("authorization", &auth),
            ("x-multi", "one"),
            ("x-multi", "two"),
            ("user-agent", "lambda-test/1"),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(
        reply.0,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.2)
    );
    let request_id = reply.1["x-amzn-requestid"].to_str().unwrap().to_owned();
    let (event, raw) = event_of(&reply.2);

    assert_eq!(event.resource.as_deref(), Some("/fn/{action}"));
    assert_eq!(event.path.as_deref(), Some("/fn/echo"));
    assert_eq!(event.http_method, Method::GET);
    assert_eq!(event.headers["x-multi"], "two", "headers: the last value");
    let multi: Vec<_> = event
        .multi_value_headers
        .get_all("x-multi")
        .iter()
        .collect();
    assert_eq!(multi, ["one", "two"]);
    assert_eq!(event.headers["authorization"], auth.as_str());
    assert!(event.headers.contains_key("x-amzn-trace-id"));
    assert_eq!(event.query_string_parameters.first("b"), Some("x y"));
    assert_eq!(
        event.multi_value_query_string_parameters.all("a"),
        Some(vec!["1", "2"])
    );
    assert_eq!(raw["queryStringParameters"]["a"], "2", "the last value");
    assert_eq!(event.path_parameters["action"], "echo");
    assert_eq!(event.stage_variables["function"], FUNCTION);
    assert_eq!(event.stage_variables["tier"], "test");
    assert_eq!(event.body, None);
    assert!(!event.is_base64_encoded);

    let cx = &event.request_context;
    assert_eq!(cx.request_id.as_deref(), Some(request_id.as_str()));
    assert_eq!(
        raw["requestContext"]["extendedRequestId"],
        reply.1["x-amz-apigw-id"].to_str().unwrap()
    );
    assert_eq!(cx.resource_path.as_deref(), Some("/fn/{action}"));
    assert_eq!(cx.stage.as_deref(), Some("local"));
    assert_eq!(cx.path.as_deref(), Some("/local/fn/echo"));
    assert_eq!(cx.http_method, Method::GET);
    assert_eq!(cx.account_id.as_deref(), Some("123456789012"));
    assert_eq!(cx.apiid.as_deref(), Some("a1b2c3d4e5"));
    assert_eq!(cx.identity.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(cx.identity.user_agent.as_deref(), Some("lambda-test/1"));
    assert_eq!(cx.resource_id.as_ref().map(String::len), Some(6));
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (epoch - cx.request_time_epoch).abs() < 60_000,
        "{}",
        cx.request_time_epoch
    );
    assert!(cx
        .request_time
        .as_deref()
        .is_some_and(|t| t.ends_with(" +0000")));

    // The claims: API Gateway's string map, as the library renders it.
    let claims = cx.authorizer.fields["claims"]
        .as_object()
        .expect("requestContext.authorizer.claims");
    assert!(claims.values().all(Value::is_string), "{claims:?}");
    assert_eq!(claims["custom:role"], "editor");
    assert_eq!(claims["token_use"], "id");
    assert_eq!(
        claims["iss"],
        format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}")
    );
    let mut groups: Vec<&str> = claims["cognito:groups"]
        .as_str()
        .unwrap()
        .split(',')
        .collect();
    groups.sort_unstable();
    assert_eq!(groups, ["admin", "staging-manager"]);

    // A text body goes as it is; a binary media type as base64.
    let reply = send(
        Method::POST,
        &gateway.url("/fn/echo"),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        br#"{"pet":"cat"}"#.to_vec(),
    )
    .await;
    let (event, _) = event_of(&reply.2);
    assert_eq!(event.body.as_deref(), Some(r#"{"pet":"cat"}"#));
    assert!(!event.is_base64_encoded);
    let png = vec![0x89, b'P', b'N', b'G', 0, 0xff, 0xfe];
    let reply = send(
        Method::POST,
        &gateway.url("/public/echo"),
        &[("content-type", "image/png")],
        png.clone(),
    )
    .await;
    let (event, raw) = event_of(&reply.2);
    assert!(event.is_base64_encoded);
    assert_eq!(event.body.as_deref(), Some("iVBORwD//g=="));
    assert!(
        raw["requestContext"].get("authorizer").is_none(),
        "no token, no claims"
    );

    // No token on the secured route: the authorizer answers, Lambda never runs.
    let reply = send(Method::GET, &gateway.url("/fn/echo"), &[], Vec::new()).await;
    assert_eq!(reply.0, StatusCode::UNAUTHORIZED);
    mark_ran("gateway_lambda_event_carries_every_field");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_responses_become_http_responses() {
    let Some(endpoint) = emulator("lambda") else {
        return;
    };
    let issuer = TestIssuer::new(POOL);
    let jwks = issuer.serve_jwks().await.unwrap();
    let base = jwks.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || start(&endpoint, &base, &[]))
        .await
        .unwrap();
    let respond = |answer: Value, accept: &'static str| {
        let url = gateway.url("/public/respond");
        async move {
            send(
                Method::POST,
                &url,
                &[("content-type", "application/json"), ("accept", accept)],
                answer.to_string().into_bytes(),
            )
            .await
        }
    };

    let reply = respond(
        json!({
            "statusCode": 201,
            "headers": {"x-single": "s", "x-both": "from headers", "server": "fn", "content-type": "text/plain"},
            "multiValueHeaders": {"x-both": ["m1", "m2"], "set-cookie": ["a=1", "b=2"]},
            "body": "created",
            "isBase64Encoded": false,
        }),
        "*/*",
    )
    .await;
    assert_eq!(reply.0, StatusCode::CREATED);
    assert_eq!(reply.1["x-single"], "s");
    // Named in both maps: merged, the multiValueHeaders values first
    // (LocalStack test_aws_proxy_response_payload_format_validation,
    // invoke-api-multi-headers-overwrite: `value-multi, value-solo`).
    let both: Vec<_> = reply.1.get_all("x-both").iter().collect();
    assert_eq!(both, ["m1", "m2", "from headers"]);
    assert_eq!(reply.1.get_all("set-cookie").iter().count(), 2);
    assert_eq!(reply.1["x-amzn-remapped-server"], "fn");
    assert_eq!(reply.1["content-type"], "text/plain");
    assert!(reply.1.contains_key("x-amzn-requestid"));
    assert_eq!(reply.2, b"created");

    // No Content-Type: API Gateway's application/json.
    let reply = respond(json!({"statusCode": 200, "body": "{}"}), "*/*").await;
    assert_eq!(reply.1["content-type"], "application/json");

    // A base64 body: bytes when the first Accept type is binary, else text.
    let png = json!({"statusCode": 200, "headers": {"content-type": "image/png"},
                     "body": "iVBORwD//g==", "isBase64Encoded": true});
    let reply = respond(png.clone(), "image/png, text/html").await;
    assert_eq!(reply.0, StatusCode::OK);
    assert_eq!(reply.2, [0x89, b'P', b'N', b'G', 0, 0xff, 0xfe]);
    assert_eq!(reply.1["content-length"], "7");
    let reply = respond(png.clone(), "text/html, image/png").await;
    assert_eq!(reply.2, b"iVBORwD//g==");
    // `*/test` is listed, but a wildcard on the left is no wildcard to AWS
    // (test_aws_proxy_binary_response, 05-test2 and 06-test2): text.
    for accept in ["random/test", "*/test"] {
        let reply = respond(png.clone(), accept).await;
        assert_eq!(reply.2, b"iVBORwD//g==", "{accept}");
    }

    // No statusCode, or none of the fields: 200, as AWS answers
    // (test_lambda_aws_proxy_response_format: empty-response, no-body).
    let reply = respond(json!({}), "*/*").await;
    assert_eq!(reply.0, StatusCode::OK);
    assert_eq!(reply.1["content-type"], "application/json");
    assert_eq!(reply.2, b"");
    let reply = respond(json!({"body": "no status"}), "*/*").await;
    assert_eq!(reply.0, StatusCode::OK);
    assert_eq!(reply.2, b"no status");

    // Base64 that does not decode: AWS's 500 (test_aws_proxy_binary_response,
    // 19-test3), not the 502 of a malformed answer.
    let reply = respond(
        json!({"statusCode": 200, "body": "%%", "isBase64Encoded": true}),
        "image/png",
    )
    .await;
    assert_internal_error_status(&reply, StatusCode::INTERNAL_SERVER_ERROR, "bad base64");

    // Malformed answers: 502.
    for (bad, what) in [
        (
            json!({"statusCode": "OK"}),
            "a statusCode that is no number",
        ),
        (
            json!({"statusCode": 200, "extra": true}),
            "an unknown field",
        ),
        (
            json!({"statusCode": 200, "body": {"no": "string"}}),
            "a body that is no string",
        ),
        (json!("a bare string"), "no object"),
        (
            json!({"statusCode": 200, "headers": {"x": "a\r\nx-injected: 1"}}),
            "CRLF in a header",
        ),
    ] {
        let reply = respond(bad, "image/png").await;
        assert_internal_error(&reply, what);
        assert!(!reply.1.contains_key("x-injected"), "{what}");
    }

    // A function error (cargo lambda answers it with a 500).
    let reply = send(Method::GET, &gateway.url("/public/fail"), &[], Vec::new()).await;
    assert_internal_error(&reply, "function error");

    // Past timeoutInMillis (300 ms): API Gateway's integration timeout. Last:
    // the emulator runs one invocation at a time and finishes the sleep.
    let reply = send(
        Method::GET,
        &gateway.url("/slow/sleep?ms=10"),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(reply.0, StatusCode::OK, "within the timeout");
    let reply = send(
        Method::GET,
        &gateway.url("/slow/sleep?ms=1500"),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(reply.0, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(reply.1["x-amzn-errortype"], "InternalServerErrorException");
    assert_eq!(
        String::from_utf8_lossy(&reply.2),
        r#"{"message": "Endpoint request timed out"}"#
    );
    mark_ran("gateway_lambda_responses_become_http_responses");
}

/// One invoke as the test's server saw it: function name, query,
/// `Content-Type`, `X-Amz-Invocation-Type`.
type Invoke = (String, Option<String>, String, String);

/// What the test's Invoke API server saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Invoke>>>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_invoke_api_contract_and_failures() {
    let seen = Seen::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(
            move |Path(name): Path<String>,
                  RawQuery(query): RawQuery,
                  headers: AxumHeaders,
                  body: String| {
                let record = record.clone();
                async move {
                    let header = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    record.0.lock().unwrap().push((
                        name,
                        query,
                        header("content-type"),
                        header("x-amz-invocation-type"),
                    ));
                    let event: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    let action = event["pathParameters"]["action"].as_str().unwrap_or("");
                    let mut res = axum::response::Response::new(axum::body::Body::empty());
                    let body = match action {
                        "garbage" => "{\"statusCode\": 200, \"body\": ".to_owned(),
                        "function-error" => {
                            // AWS's way: 200 with X-Amz-Function-Error. The body
                            // looks like a proxy response so that only the
                            // header can make this a 502.
                            res.headers_mut()
                                .insert("x-amz-function-error", "Unhandled".parse().unwrap());
                            r#"{"statusCode":200,"body":"not from a healthy function"}"#.to_owned()
                        }
                        "status-500" => {
                            // An emulator's way (cargo lambda): a non-2xx status.
                            *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                            r#"{"statusCode":200,"body":"not from a healthy function"}"#.to_owned()
                        }
                        "huge" => format!(
                            "{{\"statusCode\":200,\"body\":\"{}\"}}",
                            "a".repeat(15 * 1024 * 1024)
                        ),
                        _ => r#"{"statusCode":200,"body":"ok"}"#.to_owned(),
                    };
                    *res.body_mut() = axum::body::Body::from(body);
                    res
                }
            },
        ),
    );
    let server = TestServer::start(app).await;
    let issuer = TestIssuer::new(POOL);
    let jwks = issuer.serve_jwks().await.unwrap();
    let (base, endpoint) = (jwks.base_url().to_owned(), server.base_url());
    let gateway = tokio::task::spawn_blocking(move || {
        start(
            &endpoint,
            &base,
            &[("STAGE_VARIABLES", "function=pets:live")],
        )
    })
    .await
    .unwrap();

    let reply = send(Method::GET, &gateway.url("/public/ok"), &[], Vec::new()).await;
    assert_eq!(reply.0, StatusCode::OK);
    assert_eq!(reply.2, b"ok");
    let first = seen.0.lock().unwrap()[0].clone();
    assert_eq!(
        first,
        (
            "pets".to_owned(),
            Some("Qualifier=live".to_owned()),
            "application/json".to_owned(),
            "RequestResponse".to_owned()
        ),
        "POST /2015-03-31/functions/{{name}}/invocations?Qualifier=..."
    );
    for (action, what) in [
        ("garbage", "a body that is no JSON"),
        ("function-error", "X-Amz-Function-Error"),
        ("status-500", "the Invoke API answering 500"),
        ("huge", "an answer over the size limit"),
    ] {
        let reply = send(
            Method::GET,
            &gateway.url(&format!("/public/{action}")),
            &[],
            Vec::new(),
        )
        .await;
        assert_internal_error(&reply, what);
    }

    // Integrations AWS accepts and then fails at every request: 500, the
    // function never invoked, and the listing says why (LocalStack
    // test_lambda_aws_proxy_integration_non_post_method, snapshot
    // invocation-payload-with-get-proxy-method;
    // test_apigateway_header_remapping_aws[AWS_PROXY], content-length).
    let log = gateway.startup_text();
    for why in [
        "(answers 500 as AWS does: integration httpMethod GET, Lambda is invoked with POST only)",
        "(answers 500 as AWS does: requestParameters map onto the Content-Length header)",
    ] {
        assert!(log.contains(why), "{why} not in {log}");
    }
    let before = seen.0.lock().unwrap().len();
    for path in ["/get-method/ok", "/mapped/ok"] {
        let reply = send(Method::GET, &gateway.url(path), &[], Vec::new()).await;
        assert_internal_error_status(&reply, StatusCode::INTERNAL_SERVER_ERROR, path);
        assert!(!reply.1.contains_key("x-amzn-trace-id"), "{path}");
    }
    assert_eq!(
        seen.0.lock().unwrap().len(),
        before,
        "the function was invoked"
    );
    drop(gateway);

    // Nothing listening at the endpoint: 502 as well.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let base = jwks.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || start(&dead, &base, &[]))
        .await
        .unwrap();
    let reply = send(Method::GET, &gateway.url("/public/echo"), &[], Vec::new()).await;
    assert_internal_error(&reply, "endpoint unreachable");
}

#[test]
fn aws_proxy_configuration_errors_stop_startup() {
    let check = |vars: &[(&str, &str)], expected: &[&str]| {
        let mut command = process::command();
        command.env("GATEWAY_ADDR", "127.0.0.1:0");
        command.env("OPENAPI_FILE", EXPORT);
        for (n, v) in vars {
            command.env(n, v);
        }
        let out = process::run(command, None, std::time::Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{vars:?}: {stderr}");
        for e in expected {
            assert!(stderr.contains(e), "{vars:?}: {e:?} not in {stderr}");
        }
    };
    check(
        &[("STAGE_VARIABLES", "function=f")],
        &["operation GET /fn/{action}", "--lambda-endpoint"],
    );
    check(
        &[("LAMBDA_ENDPOINT", "http://127.0.0.1:9")],
        &[
            "operation GET /fn/{action}",
            "stage variable function is not set",
        ],
    );
    check(
        &[
            ("LAMBDA_ENDPOINT", "http://127.0.0.1:9"),
            ("STAGE_VARIABLES", "function=a/b"),
        ],
        &["operation GET /fn/{action}", "is no Lambda function name"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_with_moto_tokens() {
    let Some(moto) = MotoCognito::require() else {
        return;
    };
    let Some(endpoint) = emulator("lambda") else {
        return;
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("tower-cognito-lambda-{}-{nanos}", std::process::id());
    let fixture = bounded("create the moto fixture", moto.fixture(&name))
        .await
        .unwrap_or_else(|e| panic!("moto fixture: {e}"));
    let tokens = bounded("InitiateAuth", fixture.sign_in(&moto))
        .await
        .unwrap_or_else(|e| panic!("USER_PASSWORD_AUTH: {e}"));
    let (jwks, arn) = (moto.endpoint().to_owned(), fixture.pool.arn.clone());
    let gateway = tokio::task::spawn_blocking(move || {
        start(&endpoint, &jwks, &[("COGNITO_USER_POOL_ARNS", &arn)])
    })
    .await
    .unwrap();
    let auth = format!("Bearer {}", tokens.id_token);
    let reply = send(
        Method::GET,
        &gateway.url("/fn/echo"),
        &[("authorization", &auth)],
        Vec::new(),
    )
    .await;
    assert_eq!(
        reply.0,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.2)
    );
    let (event, _) = event_of(&reply.2);
    let claims = event.request_context.authorizer.fields["claims"]
        .as_object()
        .expect("requestContext.authorizer.claims");
    assert!(claims.values().all(Value::is_string), "{claims:?}");
    assert_eq!(claims["cognito:username"], Fixture::USERNAME);
    assert_eq!(claims["custom:role"], Fixture::ROLE);
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["iss"], fixture.pool.issuer.as_str());
    assert_eq!(claims["aud"], fixture.client_id.as_str());
    let mut groups: Vec<&str> = claims["cognito:groups"]
        .as_str()
        .unwrap()
        .split(',')
        .collect();
    groups.sort_unstable();
    assert_eq!(groups, Fixture::GROUPS);

    // moto's access token lacks nothing the route needs but is no ID token.
    let auth = format!("Bearer {}", tokens.access_token);
    let reply = send(
        Method::GET,
        &gateway.url("/fn/echo"),
        &[("authorization", &auth)],
        Vec::new(),
    )
    .await;
    assert_eq!(
        reply.0,
        StatusCode::UNAUTHORIZED,
        "an access token on an identity route"
    );
    mark_ran("gateway_lambda_with_moto_tokens");
}

/// A function's 1xx is a malformed answer (502), never an interim response
/// sent to a client that asked for no upgrade; 204 and 304 go out without a
/// body or a `Content-Length` whatever the function's `body` (RFC 9110
/// §6.4.1) **[choice]**.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_interim_and_bodiless_statuses() {
    let Some(endpoint) = emulator("lambda") else {
        return;
    };
    let issuer = TestIssuer::new(POOL);
    let jwks = issuer.serve_jwks().await.unwrap();
    let base = jwks.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || start(&endpoint, &base, &[]))
        .await
        .unwrap();
    let addr: std::net::SocketAddr = gateway
        .url("")
        .trim_start_matches("http://")
        .parse()
        .expect("the gateway's address");
    let exchange = |answer: Value| {
        let body = answer.to_string();
        raw_exchange(
            addr,
            format!(
                "POST /public/respond HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };

    for status in [100, 101, 103, 199] {
        let reply = exchange(json!({"statusCode": status, "body": "interim"})).await;
        assert!(
            reply.starts_with("HTTP/1.1 502 "),
            "statusCode {status}: {reply}"
        );
        assert!(
            reply.ends_with(INTERNAL_ERROR),
            "statusCode {status}: {reply}"
        );
    }
    for status in [204, 304] {
        let reply = exchange(json!({"statusCode": status, "body": "some body"})).await;
        assert!(
            reply.starts_with(&format!("HTTP/1.1 {status} ")),
            "statusCode {status}: {reply}"
        );
        let (head, rest) = reply.split_once("\r\n\r\n").expect("a head");
        assert!(
            !head.to_ascii_lowercase().contains("\r\ncontent-length:"),
            "statusCode {status} framed with a length: {head}"
        );
        assert_eq!(rest, "", "statusCode {status} sent a body");
    }
    mark_ran("gateway_lambda_interim_and_bodiless_statuses");
}

/// The client's `X-Forwarded-For` entries come first and the connection's
/// address last, in one field: the only entry a function may trust is the
/// last **[choice]**.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_forwarded_for_ends_with_the_connections_address() {
    let Some(endpoint) = emulator("lambda") else {
        return;
    };
    let issuer = TestIssuer::new(POOL);
    let jwks = issuer.serve_jwks().await.unwrap();
    let base = jwks.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || start(&endpoint, &base, &[]))
        .await
        .unwrap();
    let reply = send(
        Method::GET,
        &gateway.url("/public/echo"),
        &[("x-forwarded-for", "6.6.6.6, 7.7.7.7")],
        Vec::new(),
    )
    .await;
    assert_eq!(reply.0, StatusCode::OK);
    let (_, raw) = event_of(&reply.2);
    assert_eq!(
        raw["headers"]["X-Forwarded-For"], "6.6.6.6, 7.7.7.7, 127.0.0.1",
        "{raw}"
    );
    assert_eq!(
        raw["multiValueHeaders"]["X-Forwarded-For"],
        json!(["6.6.6.6, 7.7.7.7, 127.0.0.1"]),
        "{raw}"
    );
    mark_ran("gateway_lambda_forwarded_for_ends_with_the_connections_address");
}

/// The event's headers as AWS gave them to the function in LocalStack's
/// recordings (test_apigateway_header_remapping_aws[AWS_PROXY],
/// no-param-integration; test_lambda_aws_proxy_integration): hop-by-hop and
/// framing headers dropped, `Authorization` spelled so whatever the client
/// wrote, API Gateway's `X-Forwarded-*` and `X-Amzn-Trace-Id` in place of
/// the client's, `requestContext.deploymentId` set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_event_headers_as_aws_records_them() {
    let Some(endpoint) = emulator("lambda") else {
        return;
    };
    let issuer = TestIssuer::new(POOL);
    let jwks = issuer.serve_jwks().await.unwrap();
    let base = jwks.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || start(&endpoint, &base, &[]))
        .await
        .unwrap();
    let addr: std::net::SocketAddr = gateway
        .url("")
        .trim_start_matches("http://")
        .parse()
        .expect("the gateway's address");
    let trace = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1";
    let request = format!(
        "GET /public/echo HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: localStack/0.0\r\n\
         aUThorization: Unauthorized\r\ntEsT-HEADeR: aValUE\r\nAccept-Charset: UTF-8\r\n\
         Age: request_Age\r\nContent-Encoding: deflate\r\nContent-MD5: request_Content-MD5\r\n\
         Date: request_Date\r\nMax-Forwards: 2\r\nPragma: cache\r\nProxy-Authenticate: Basic\r\n\
         Range: bytes=500-999\r\nReferer: https://example.com/\r\nServer: https://example.com/\r\n\
         TE: deflate\r\nTrailer: Expires\r\nUpgrade: HTTP/2.0\r\nVia: p.example.net\r\n\
         Warn: 299 localStack/0.0\r\nWWW-Authenticate: Basic YWxhZGRpbjpvcGVuc2VzYW1l\r\n\
         Keep-Alive: timeout=5\r\nX-Hop: named by Connection\r\nX-Forwarded-Port: 1\r\n\
         X-Forwarded-Proto: https\r\nX-Amzn-Trace-Id: {trace}\r\nContent-Length: 0\r\n\
         Connection: close, X-Hop\r\n\r\n"
    );
    let reply = raw_exchange(addr, request).await;
    let (head, body) = reply.split_once("\r\n\r\n").expect("a head");
    assert!(head.starts_with("HTTP/1.1 200 "), "{reply}");
    let head = head.to_ascii_lowercase();
    // The client's trace comes back on the answer (test_invocation_trace_id,
    // trace-id-req-headers-AWS_PROXY); a closing connection says so only.
    assert!(
        head.contains(&format!(
            "\r\nx-amzn-trace-id: {}\r\n",
            trace.to_ascii_lowercase()
        )),
        "{head}"
    );
    assert!(head.contains("\r\nconnection: close\r\n"), "{head}");
    assert!(!head.contains("keep-alive"), "{head}");

    let (_, raw) = event_of(body.as_bytes());
    let headers = raw["headers"].as_object().expect("headers");
    let mut names: Vec<&str> = headers.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "Accept-Charset",
            "Age",
            "Authorization",
            "Content-Encoding",
            "Date",
            "Host",
            "Pragma",
            "Range",
            "Referer",
            // [choice] title case: AWS keeps `tEsT-HEADeR` as the client spelled it.
            "Test-Header",
            "User-Agent",
            "Via",
            "Warn",
            "X-Amzn-Trace-Id",
            "X-Forwarded-For",
            "X-Forwarded-Port",
            "X-Forwarded-Proto",
        ],
        "{raw}"
    );
    let multi = raw["multiValueHeaders"]
        .as_object()
        .expect("multiValueHeaders");
    let mut multi_names: Vec<&str> = multi.keys().map(String::as_str).collect();
    multi_names.sort_unstable();
    assert_eq!(multi_names, names);
    assert_eq!(headers["Authorization"], "Unauthorized");
    assert_eq!(headers["Test-Header"], "aValUE");
    assert_eq!(headers["X-Amzn-Trace-Id"], trace);
    assert_eq!(headers["X-Forwarded-For"], "127.0.0.1");
    assert_eq!(headers["X-Forwarded-Proto"], "http");
    assert_eq!(headers["X-Forwarded-Port"], addr.port().to_string());
    assert_eq!(multi["X-Forwarded-Port"], json!([addr.port().to_string()]));
    let deployment = raw["requestContext"]["deploymentId"]
        .as_str()
        .expect("requestContext.deploymentId");
    assert_eq!(deployment.len(), 6, "{deployment}");
    assert!(deployment
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    mark_ran("gateway_lambda_event_headers_as_aws_records_them");
}

/// The function's answer carries `X-Amzn-Trace-Id`, the one its event had
/// (LocalStack test_invocation_trace_id: normal-req-headers-AWS_PROXY makes
/// one, trace-id-small-req-headers-AWS_PROXY completes a `Root` with a made
/// `Parent`), and `Connection: keep-alive` where the connection stays open
/// (AWS sends it; hyper would not): HTTP/1.1 only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_answers_carry_the_trace_and_keep_alive() {
    let Some(endpoint) = emulator("lambda") else {
        return;
    };
    let issuer = TestIssuer::new(POOL);
    let jwks = issuer.serve_jwks().await.unwrap();
    let base = jwks.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || start(&endpoint, &base, &[]))
        .await
        .unwrap();
    let is_hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());

    let reply = send(Method::GET, &gateway.url("/public/echo"), &[], Vec::new()).await;
    assert_eq!(reply.0, StatusCode::OK);
    assert_eq!(reply.1["connection"], "keep-alive");
    let made = reply.1["x-amzn-trace-id"].to_str().unwrap().to_owned();
    let fields: Vec<&str> = made.split(';').collect();
    let root = fields[0].strip_prefix("Root=1-").expect(&made);
    let (epoch, unique) = root.split_once('-').expect(&made);
    assert!(is_hex(epoch, 8) && is_hex(unique, 24), "{made}");
    let parent = fields[1].strip_prefix("Parent=").expect(&made);
    assert!(is_hex(parent, 16), "{made}");
    assert_eq!(fields[2..], ["Sampled=0"], "{made}");
    let (_, raw) = event_of(&reply.2);
    assert_eq!(
        raw["headers"]["X-Amzn-Trace-Id"],
        made.as_str(),
        "the same trace"
    );

    let small = "Root=1-3152b799-8954dae64eda91bc9a23a7e8";
    let reply = send(
        Method::GET,
        &gateway.url("/public/echo"),
        &[("x-amzn-trace-id", small)],
        Vec::new(),
    )
    .await;
    let completed = reply.1["x-amzn-trace-id"].to_str().unwrap();
    let parent = completed
        .strip_prefix(&format!("{small};Parent="))
        .and_then(|rest| rest.strip_suffix(";Sampled=0"))
        .unwrap_or_else(|| panic!("{completed}"));
    assert!(is_hex(parent, 16), "{completed}");

    // HTTP/2 has no Connection header (it would be a protocol error).
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    let res = bounded("HTTP/2 GET", h2.get(gateway.url("/public/echo")).send())
        .await
        .expect("an HTTP/2 answer");
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("x-amzn-trace-id"));
    assert!(!res.headers().contains_key("connection"));

    // HTTP/1.0 closes after the answer: no keep-alive said.
    let addr: std::net::SocketAddr = gateway
        .url("")
        .trim_start_matches("http://")
        .parse()
        .expect("the gateway's address");
    let reply = raw_exchange(
        addr,
        "GET /public/echo HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".to_owned(),
    )
    .await;
    let head = reply
        .split_once("\r\n\r\n")
        .expect("a head")
        .0
        .to_ascii_lowercase();
    assert!(head.starts_with("http/1.0 200 "), "{head}");
    assert!(!head.contains("keep-alive"), "{head}");
    mark_ran("gateway_lambda_answers_carry_the_trace_and_keep_alive");
}

/// Path parameters reach the function as the client sent them: AWS kept
/// `%2B` in `{proxy+}` (LocalStack test_lambda_aws_proxy_integration,
/// invocation-payload-with-path-encoded-email); query values are decoded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_path_parameters_stay_as_sent() {
    let Some(endpoint) = emulator("lambda") else {
        return;
    };
    let issuer = TestIssuer::new(POOL);
    let jwks = issuer.serve_jwks().await.unwrap();
    let base = jwks.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || start(&endpoint, &base, &[]))
        .await
        .unwrap();
    let path = "/greedy/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com";
    let reply = send(
        Method::GET,
        &gateway.url(&format!("{path}?email=test%2Balias@gmail.com&plus=a+b")),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(
        reply.0,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.2)
    );
    let (_, raw) = event_of(&reply.2);
    assert_eq!(
        raw["pathParameters"],
        json!({"proxy": "api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com"})
    );
    assert_eq!(raw["path"], path);
    assert_eq!(
        raw["queryStringParameters"],
        json!({"email": "test+alias@gmail.com", "plus": "a b"})
    );
    let reply = send(Method::GET, &gateway.url("/public/a%20b"), &[], Vec::new()).await;
    let (_, raw) = event_of(&reply.2);
    assert_eq!(raw["pathParameters"]["action"], "a%20b");
    mark_ran("gateway_lambda_path_parameters_stay_as_sent");
}
