//! Lambda authorizers through the `cognito-gateway` process and a loopback
//! server of the test speaking the Lambda Invoke API (so each test decides
//! how the function answers, how long it takes, and counts its calls):
//! gateway responses applied to the refusals, the REQUEST event's route and
//! client address, the authorizer timeout, single flight, and the early 413.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use support::loopback::{self, client, Reply, TestServer};
use support::process::Gateway;
use tower_cognito::testing::{JwksServer, TestIssuer};

const POOL: &str = "us-east-1_LambdaGr1";
const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const DENY: &str = r#"{"Message":"User is not authorized to access this resource"}"#;
const DENY_EXPLICIT: &str =
    r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#;
const CONFIG: &str = r#"{"message":null}"#;
const FUNCTION: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations";

/// The function behind the Invoke API: what it was sent, how often.
#[derive(Clone, Default)]
struct Function {
    calls: Arc<AtomicUsize>,
    events: Arc<Mutex<Vec<Value>>>,
}

impl Function {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn last(&self) -> Value {
        self.events
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("an event")
    }

    /// Answers an authorizer event by its token (`authorizationToken`, or
    /// the `x-key` header of a REQUEST event): `allow` (GET only),
    /// `deny` (an explicit Deny), `nothing` (no matching Allow), `unauth`
    /// (the function's `Unauthorized`), `boom` (another function error),
    /// `slow-N` (allow after N ms).
    async fn serve(self) -> TestServer {
        async fn invoke(State(f): State<Function>, event: String) -> (HeaderMap, String) {
            let event: Value = serde_json::from_str(&event).expect("a JSON event");
            f.calls.fetch_add(1, Ordering::SeqCst);
            f.events.lock().unwrap().push(event.clone());
            let token = event["authorizationToken"]
                .as_str()
                .or_else(|| event.pointer("/headers/x-key").and_then(Value::as_str))
                .unwrap_or("")
                .to_owned();
            let policy = |effect: &str, resource: &str| {
                json!({"principalId": "user-1", "policyDocument": {"Version": "2012-10-17",
                    "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}})
            };
            let mut headers = HeaderMap::new();
            let mut error = |message: &str| {
                headers.insert("x-amz-function-error", "Unhandled".parse().unwrap());
                json!({"errorMessage": message, "errorType": "Error"})
            };
            let answer = match token.as_str() {
                "allow" => policy("Allow", "arn:aws:execute-api:*:*:*/*/GET/*"),
                "deny" => policy("Deny", "*"),
                "nothing" => policy("Allow", "arn:aws:execute-api:*:*:*/*/PATCH/*"),
                "unauth" => error("Unauthorized"),
                slow if slow.starts_with("slow-") => {
                    let ms = slow[5..].parse().unwrap_or(0);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    policy("Allow", "*")
                }
                _ => error("the authorizer failed on purpose"),
            };
            (headers, answer.to_string())
        }
        TestServer::start(
            axum::Router::new()
                .route("/2015-03-31/functions/{name}/invocations", post(invoke))
                .with_state(self),
        )
        .await
    }
}

fn mock() -> Value {
    json!({
        "type": "mock",
        "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
        "passthroughBehavior": "when_no_match",
        "responses": {"default": {"statusCode": "200",
            "responseTemplates": {"application/json": "{\"by\": \"$context.authorizer.principalId\"}"}}},
    })
}

fn op(scheme: &str) -> Value {
    json!({"security": [{scheme: []}], "x-amazon-apigateway-integration": mock()})
}

/// An export with a TOKEN authorizer on `/tok/{id}`, a REQUEST one on
/// `/req/{id}`, a Cognito one on `/cognito`, and these gateway responses.
fn export(gateway_responses: Value) -> Value {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "lambda authorizers", "version": "1"},
        "paths": {
            "/tok/{id}": {"get": op("Tok"), "post": op("Tok")},
            "/req/{id}": {"get": op("Req")},
            "/cognito": {"get": op("Pool")},
        },
        "components": {"securitySchemes": {
            "Tok": {"type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": FUNCTION,
                    "authorizerResultTtlInSeconds": 300}},
            "Req": {"type": "apiKey", "name": "Unused", "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": {"type": "request", "authorizerUri": FUNCTION,
                    "identitySource": "method.request.header.X-Key",
                    "authorizerResultTtlInSeconds": 300}},
            "Pool": {"type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authtype": "cognito_user_pools",
                "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                    "providerARNs": [format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{POOL}")]}},
        }},
        "x-amazon-apigateway-gateway-responses": gateway_responses,
    })
}

struct Setup {
    gateway: Gateway,
    _keys: JwksServer,
    _file: TempFile,
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn start(name: &str, export: &Value, function: &TestServer, extra: &[&str]) -> Setup {
    let keys = TestIssuer::new(POOL).serve_jwks().await.unwrap();
    let dir = std::env::temp_dir().join(format!("gateway-lambda-invoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(export).unwrap()).unwrap();
    let mut args: Vec<String> = [
        "--openapi",
        &path.display().to_string(),
        "--stage",
        "prod",
        "--jwks-endpoint",
        keys.base_url(),
        "--lambda-endpoint",
        &function.base_url(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    Setup {
        gateway,
        _keys: keys,
        _file: TempFile(path),
    }
}

async fn send(method: Method, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = client().request(method.clone(), url).body(body.to_owned());
    for (n, v) in headers {
        request = request.header(*n, *v);
    }
    loopback::send(request, &format!("{method} {url}")).await
}

async fn get(s: &Setup, path: &str, token: &str) -> Reply {
    send(
        Method::GET,
        &s.gateway.url(path),
        &[("authorization", token)],
        "",
    )
    .await
}

fn assert_answer(reply: &Reply, status: u16, error_type: &str, body: &str, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.body);
    assert_eq!(reply.header("x-amzn-errortype"), error_type, "{what}");
    assert_eq!(reply.header("content-type"), "application/json", "{what}");
    assert!(!reply.header("x-amzn-requestid").is_empty(), "{what}");
    assert_eq!(reply.body, body, "{what}");
}

/// AWS's "Gateway response types": UNAUTHORIZED, ACCESS_DENIED and
/// AUTHORIZER_CONFIGURATION_ERROR change a Lambda authorizer's refusals as
/// UNAUTHORIZED changes a Cognito one's; AUTHORIZER_FAILURE, which AWS gives
/// no Lambda authorizer case, changes nothing **[choice]**.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_responses_change_lambda_refusals_by_type() {
    let function = Function::default();
    let invoke = function.clone().serve().await;
    let template = |extra: &str| {
        json!({"application/json": format!(
            "{{\"type\":\"$context.error.responseType\",\"message\":$context.error.messageString,\"text\":\"$context.error.message\"{extra}}}"
        )})
    };
    let s = start(
        "by-type",
        &export(json!({
            "UNAUTHORIZED": {"statusCode": "401",
                "responseParameters": {"gatewayresponse.header.WWW-Authenticate": "'Bearer'"},
                "responseTemplates": template("")},
            "ACCESS_DENIED": {"statusCode": "404", "responseTemplates": template(",\"stage\":\"$context.stage\"")},
            "AUTHORIZER_CONFIGURATION_ERROR": {"statusCode": "503",
                "responseParameters": {"gatewayresponse.header.Retry-After": "'1'"},
                "responseTemplates": template("")},
            "AUTHORIZER_FAILURE": {"statusCode": "418"},
        })),
        &invoke,
        &[],
    )
    .await;

    let expect = |r: &Reply, status: u16, error_type: &str, body: &str, what: &str| {
        assert_answer(r, status, error_type, body, what)
    };
    let unauthorized = r#"{"type":"UNAUTHORIZED","message":"Unauthorized","text":"Unauthorized"}"#;
    // No token (no call), and the function's Unauthorized.
    let reply = send(Method::GET, &s.gateway.url("/tok/1"), &[], "").await;
    expect(
        &reply,
        401,
        "UnauthorizedException",
        unauthorized,
        "no token",
    );
    assert_eq!(reply.header("www-authenticate"), "Bearer");
    let reply = get(&s, "/tok/1", "unauth").await;
    expect(
        &reply,
        401,
        "UnauthorizedException",
        unauthorized,
        "function's Unauthorized",
    );
    // The Cognito route's refusal, changed the same way.
    let reply = send(Method::GET, &s.gateway.url("/cognito"), &[], "").await;
    expect(
        &reply,
        401,
        "UnauthorizedException",
        unauthorized,
        "Cognito, no token",
    );
    assert_eq!(reply.header("www-authenticate"), "Bearer");

    // Both denials: ACCESS_DENIED, each with its own text.
    let reply = get(&s, "/tok/1", "deny").await;
    expect(
        &reply,
        404,
        "AccessDeniedException",
        r#"{"type":"ACCESS_DENIED","message":"User is not authorized to access this resource with an explicit deny","text":"User is not authorized to access this resource with an explicit deny","stage":"prod"}"#,
        "explicit deny",
    );
    let reply = get(&s, "/tok/1", "nothing").await;
    expect(
        &reply,
        404,
        "AccessDeniedException",
        r#"{"type":"ACCESS_DENIED","message":"User is not authorized to access this resource","text":"User is not authorized to access this resource","stage":"prod"}"#,
        "no matching Allow",
    );

    // A function error: AUTHORIZER_CONFIGURATION_ERROR, not AUTHORIZER_FAILURE.
    let reply = get(&s, "/tok/1", "boom").await;
    expect(
        &reply,
        503,
        "AuthorizerConfigurationException",
        r#"{"type":"AUTHORIZER_CONFIGURATION_ERROR","message":null,"text":""}"#,
        "function error",
    );
    assert_eq!(reply.header("retry-after"), "1");

    // Allowed requests are untouched.
    let reply = get(&s, "/tok/1", "allow").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, r#"{"by": "user-1"}"#);
}

/// DEFAULT_4XX and DEFAULT_5XX stand in for the types an export leaves out;
/// an ACCESS_DENIED entry without a template keeps the denial's own body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_gateway_responses_apply_to_lambda_refusals() {
    let function = Function::default();
    let invoke = function.clone().serve().await;
    let s = start(
        "defaults",
        &export(json!({
            "DEFAULT_4XX": {"responseParameters": {"gatewayresponse.header.X-Class": "'4xx'"}},
            "DEFAULT_5XX": {"statusCode": "502",
                "responseTemplates": {"application/json": "{\"failed\":\"$context.error.responseType\"}"}},
        })),
        &invoke,
        &[],
    )
    .await;
    let reply = get(&s, "/tok/1", "unauth").await;
    assert_answer(&reply, 401, "UnauthorizedException", UNAUTHORIZED, "401");
    assert_eq!(reply.header("x-class"), "4xx");
    for (token, body) in [("deny", DENY_EXPLICIT), ("nothing", DENY)] {
        let reply = get(&s, "/tok/1", token).await;
        assert_answer(&reply, 403, "AccessDeniedException", body, token);
        assert_eq!(reply.header("x-class"), "4xx", "{token}");
    }
    let reply = get(&s, "/tok/1", "boom").await;
    assert_answer(
        &reply,
        502,
        "AuthorizerConfigurationException",
        r#"{"failed":"AUTHORIZER_CONFIGURATION_ERROR"}"#,
        "5xx",
    );
    assert_eq!(reply.header("x-class"), "");

    // Without gateway responses: API Gateway's own bytes.
    let plain = start("plain", &export(json!({})), &invoke, &[]).await;
    for (token, status, error_type, body) in [
        ("unauth", 401, "UnauthorizedException", UNAUTHORIZED),
        ("deny", 403, "AccessDeniedException", DENY_EXPLICIT),
        ("nothing", 403, "AccessDeniedException", DENY),
        ("boom", 500, "AuthorizerConfigurationException", CONFIG),
    ] {
        let reply = get(&plain, "/tok/2", token).await;
        assert_answer(&reply, status, error_type, body, token);
    }
}

/// AWS's "Input to an API Gateway Lambda authorizer": the REQUEST event
/// carries the route's `resource` and `pathParameters`, and the client's
/// address as `requestContext.identity.sourceIp` (as the Lambda proxy event
/// does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_events_carry_the_route_and_the_clients_address() {
    let function = Function::default();
    let invoke = function.clone().serve().await;
    let s = start("request-event", &export(json!({})), &invoke, &[]).await;
    let url = s.gateway.url("/req/7?q=1");
    let reply = send(Method::GET, &url, &[("x-key", "allow")], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let event = function.last();
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(event["resource"], "/req/{id}");
    assert_eq!(event["path"], "/req/7");
    assert_eq!(event["pathParameters"], json!({"id": "7"}));
    assert_eq!(event["queryStringParameters"], json!({"q": "1"}));
    assert_eq!(event["requestContext"]["resourcePath"], "/req/{id}");
    assert_eq!(event["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert_eq!(event["requestContext"]["stage"], "prod");
    assert_eq!(
        event["methodArn"],
        "arn:aws:execute-api:us-east-1:123456789012:local/prod/GET/req/7"
    );
}

/// `--authorizer-timeout-ms`: a function slower than it gets the 500 any
/// other failure gets, in about that time, and is not cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_authorizer_is_a_500_after_the_timeout() {
    let function = Function::default();
    let invoke = function.clone().serve().await;
    let s = start(
        "timeout",
        &export(json!({})),
        &invoke,
        &["--authorizer-timeout-ms", "400"],
    )
    .await;
    for _ in 0..2 {
        let start = Instant::now();
        let reply = get(&s, "/tok/1", "slow-5000").await;
        let took = start.elapsed();
        assert_answer(
            &reply,
            500,
            "AuthorizerConfigurationException",
            CONFIG,
            "timeout",
        );
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert!(took < Duration::from_secs(4), "{took:?}");
    }
    assert_eq!(function.calls(), 2, "a timeout is not cached");
    // Within the timeout, the same function is fine.
    let reply = get(&s, "/tok/1", "slow-50").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// Requests that miss the cache together with the same token invoke the
/// function once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_invoke_the_function_once() {
    let function = Function::default();
    let invoke = function.clone().serve().await;
    let s = start("single-flight", &export(json!({})), &invoke, &[]).await;
    let url = s.gateway.url("/tok/9");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let url = url.clone();
        tasks.spawn(async move {
            send(Method::GET, &url, &[("authorization", "slow-500")], "")
                .await
                .status
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!(function.calls(), 1);
}

/// A declared length over `--max-body-bytes` is refused before the Lambda
/// authorizer runs, as on every other route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_the_limit_is_413_before_the_authorizer() {
    let function = Function::default();
    let invoke = function.clone().serve().await;
    let s = start(
        "too-large",
        &export(json!({})),
        &invoke,
        &["--max-body-bytes", "16"],
    )
    .await;
    let url = s.gateway.url("/tok/1");
    let big = "x".repeat(100);
    for token in ["allow", "unauth"] {
        let reply = send(Method::POST, &url, &[("authorization", token)], &big).await;
        assert_answer(
            &reply,
            413,
            "RequestTooLargeException",
            r#"{"message":"Request Too Long"}"#,
            token,
        );
    }
    assert_eq!(function.calls(), 0, "the authorizer was not asked");
    // Within the limit, the authorizer decides (no Allow for POST).
    let reply = send(Method::POST, &url, &[("authorization", "allow")], "small").await;
    assert_answer(
        &reply,
        403,
        "AccessDeniedException",
        DENY,
        "POST within the limit",
    );
    assert_eq!(function.calls(), 1);
}

/// Runs `cognito-gateway test-invoke` with `args`: exit code and stdout+stderr.
async fn test_invoke(args: Vec<String>) -> (Option<i32>, String) {
    let mut command = support::process::command();
    command.arg("test-invoke").args(&args);
    let output = tokio::task::spawn_blocking(move || {
        support::process::run(command, None, Duration::from_secs(60))
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

/// `test-invoke` on routes behind Lambda authorizers: the function called
/// with the event the gateway sends, the decision and what the gateway
/// would answer (gateway responses applied); exit 0 allow, 1 deny, 2 when
/// the function cannot be reached for want of `--lambda-endpoint`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_invoke_covers_lambda_authorizers() {
    let function = Function::default();
    let invoke = function.clone().serve().await;
    let dir = std::env::temp_dir().join(format!("gateway-lambda-invoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("test-invoke.json");
    let responses = json!({"ACCESS_DENIED": {"statusCode": "404"}});
    std::fs::write(&path, serde_json::to_vec(&export(responses)).unwrap()).unwrap();
    let _file = TempFile(path.clone());
    let args = |token: &str, route: &str, extra: &[&str]| {
        let mut args: Vec<String> = ["--token", token, "--openapi", &path.display().to_string()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(["--route".to_owned(), route.to_owned()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let endpoint = invoke.base_url();
    let with_endpoint = ["--lambda-endpoint", endpoint.as_str(), "--stage", "prod"];

    let (code, out) = test_invoke(args("allow", "GET /tok/5", &with_endpoint)).await;
    assert_eq!(code, Some(0), "{out}");
    for expected in [
        "route: GET /tok/{id}: Lambda authorizer Tok (token, function auth, cache 300 s)",
        "decision: ALLOW",
        "principalId: user-1",
        r#""principalId": "user-1""#,
    ] {
        assert!(out.contains(expected), "lacks {expected:?}:\n{out}");
    }
    assert_eq!(
        function.last(),
        json!({"type": "TOKEN", "authorizationToken": "allow",
               "methodArn": "arn:aws:execute-api:us-east-1:123456789012:local/prod/GET/tok/5"})
    );

    // A denial: the reason and the export's ACCESS_DENIED (status 404).
    let (code, out) = test_invoke(args("deny", "GET /tok/5", &with_endpoint)).await;
    assert_eq!(code, Some(1), "{out}");
    for expected in [
        "decision: DENY (explicit deny)",
        "  status: 404 Not Found",
        "  x-amzn-errortype: AccessDeniedException",
        &format!("  body: {DENY_EXPLICIT}"),
    ] {
        assert!(out.contains(expected), "lacks {expected:?}:\n{out}");
    }
    let (code, out) = test_invoke(args("boom", "GET /tok/5", &with_endpoint)).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("decision: DENY (authorizer failed: "), "{out}");
    assert!(out.contains(&format!("  body: {CONFIG}")), "{out}");

    // REQUEST: the token fills the X-Key header source; the route's query
    // and parameters reach the event.
    let (code, out) = test_invoke(args("allow", "GET /req/8?q=2", &with_endpoint)).await;
    assert_eq!(code, Some(0), "{out}");
    let event = function.last();
    assert_eq!(event["headers"]["x-key"], "allow");
    assert_eq!(event["pathParameters"], json!({"id": "8"}));
    assert_eq!(event["resource"], "/req/{id}");
    assert_eq!(event["queryStringParameters"], json!({"q": "2"}));
    // --header sets the source itself.
    let mut extra = with_endpoint.to_vec();
    extra.extend(["--header", "X-Key: nothing"]);
    let (code, out) = test_invoke(args("allow", "GET /req/8", &extra)).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("decision: DENY (no matching Allow)"), "{out}");

    // Without --lambda-endpoint the function cannot be asked: exit 2.
    let calls = function.calls();
    let (code, out) = test_invoke(args("allow", "GET /tok/5", &[])).await;
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("GET /tok/5 is behind the Lambda authorizer Tok: give --lambda-endpoint"),
        "{out}"
    );
    assert_eq!(function.calls(), calls);
}
