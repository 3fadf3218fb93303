//! What AWS was recorded doing (LocalStack's tests validated against AWS,
//! `gateway/tests/conformance/README.md`), through the `cognito-gateway`
//! process: mapping templates of `mock` and `http` integrations, routing a
//! method a resource lacks, `Connection: keep-alive`, and the path an
//! integration sees. Each test names the LocalStack test and snapshot key it
//! stands for. `http` integrations call the echo backend
//! (`tests/backend/echo.py`) in its own process; `aws_proxy` ones a loopback
//! server of the test speaking the Lambda Invoke API, answering with the
//! event it got.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::routing::post;
use http::{Method, StatusCode};
use serde_json::{json, Value};
use support::backend::Backend;
use support::loopback::{self, bounded, client, raw_exchange, Reply, TestServer};
use support::process::Gateway;
use tower_cognito::testing::{JwksServer, TestIssuer};

const POOL: &str = "us-east-1_AwsTmpl1";
const MISSING_TOKEN: &str = r#"{"message":"Missing Authentication Token"}"#;
const INTERNAL_ERROR: &str = r#"{"message": "Internal server error"}"#;

/// A mock integration: `request` renders the status, `responses` answer.
fn mock(request: &str, responses: Value) -> Value {
    json!({
        "type": "mock",
        "requestTemplates": {"application/json": request},
        "passthroughBehavior": "when_no_match",
        "responses": responses,
    })
}

/// A mock answering 200 with `{"message": "<message>"}`, as LocalStack's
/// routing tests set theirs up.
fn mock_message(message: &str) -> Value {
    mock(
        r#"{"statusCode": 200}"#,
        json!({"default": {
            "statusCode": "200",
            "responseTemplates": {"application/json": format!(r#"{{"message": "{message}"}}"#)},
        }}),
    )
}

fn operation(integration: Value, secured: bool) -> Value {
    let mut op = json!({ "x-amazon-apigateway-integration": integration });
    if secured {
        op["security"] = json!([{"Pool": []}]);
    }
    op
}

/// An OpenAPI export of these paths, with the Cognito authorizer `Pool`.
fn export(paths: Value) -> Value {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "AWS recordings", "version": "1"},
        "servers": [{
            "url": "https://4w5tmpl4t3.execute-api.us-east-1.amazonaws.com/{basePath}",
            "variables": {"basePath": {"default": "prod"}},
        }],
        "paths": paths,
        "components": {"securitySchemes": {"Pool": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {
                "type": "cognito_user_pools",
                "providerARNs": [format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{POOL}")],
            },
        }}},
    })
}

/// A gateway serving `export`, its keys and a valid token.
struct Setup {
    gateway: Gateway,
    token: String,
    _keys: JwksServer,
    _file: TempFile,
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn start(name: &str, export: &Value, extra: &[String]) -> Setup {
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let dir = std::env::temp_dir().join(format!("gateway-aws-templates-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(export).unwrap()).unwrap();
    let mut args = vec![
        "--openapi".to_owned(),
        path.display().to_string(),
        "--stage".to_owned(),
        "prod".to_owned(),
        "--jwks-endpoint".to_owned(),
        keys.base_url().to_owned(),
    ];
    args.extend_from_slice(extra);
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    Setup {
        gateway,
        token: issuer.id_token().claim("sub", "user-1").sign(),
        _keys: keys,
        _file: TempFile(path),
    }
}

async fn send(
    method: Method,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut request = client().request(method.clone(), url).body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (n, v) in headers {
        request = request.header(*n, *v);
    }
    loopback::send(request, &format!("{method} {url}")).await
}

fn json_of(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

fn address(gateway: &Gateway) -> SocketAddr {
    gateway
        .url("")
        .trim_start_matches("http://")
        .parse()
        .expect("the gateway's address")
}

/// The head of a raw answer, lowercased.
fn head_of(reply: &str) -> String {
    reply
        .split_once("\r\n\r\n")
        .expect("a head")
        .0
        .to_ascii_lowercase()
}

/// LocalStack's test_input_body_formatting (snapshot keys
/// response-url-encode, response-raw-body, response-str-body-input,
/// response-body-attr-access): AWS renders `$input.body` of an empty payload
/// as `{}`, in a request template (so `$util.urlEncode($input.body)` is
/// `%7B%7D`) and in a response template over an empty integration response;
/// `$input.body.testAccess` is nothing whatever the body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_body_renders_as_braces() {
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let http = json!({
        "type": "http",
        "httpMethod": "POST",
        "uri": "http://${stageVariables.backendHost}/backend/echo",
        "requestTemplates": {"application/json": concat!(
            "EncodedBody=$util.urlEncode($input.body)",
            "&EncodedBodyAccess=$util.urlEncode($input.body.testAccess)",
            "&MessageBody=$input.body",
        )},
        "passthroughBehavior": "when_no_templates",
        "responses": {"default": {"statusCode": "200"}},
    });
    let echo = mock(
        r#"{"statusCode": 200}"#,
        json!({"default": {
            "statusCode": "200",
            "responseTemplates": {"application/json": "#set($result = $input.body)[$result]"},
        }}),
    );
    let s = start(
        "empty-body",
        &export(json!({
            "/url-encode": {"post": operation(http, false)},
            "/raw-body": {"post": operation(echo, false)},
        })),
        &[
            "--stage-variable".to_owned(),
            format!("backendHost={}", backend.host()),
        ],
    )
    .await;
    let json_type = [("content-type", "application/json")];
    for (body, sent) in [
        ("", "EncodedBody=%7B%7D&EncodedBodyAccess=&MessageBody={}"),
        (
            r#"{"some": "value"}"#,
            r#"EncodedBody=%7B%22some%22%3A+%22value%22%7D&EncodedBodyAccess=&MessageBody={"some": "value"}"#,
        ),
        (
            "some raw data",
            "EncodedBody=some+raw+data&EncodedBodyAccess=&MessageBody=some raw data",
        ),
    ] {
        let url = s.gateway.url("/url-encode");
        let reply = send(Method::POST, &url, None, &json_type, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{body:?}: {}", reply.body);
        assert_eq!(json_of(&reply)["body"], sent, "{body:?}");
    }
    // A mock's integration response is empty: `{}` there too.
    let url = s.gateway.url("/raw-body");
    let reply = send(Method::POST, &url, None, &json_type, "").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "[{}]")
    );
}

/// LocalStack's test_integration_mock_with_path_param (its assertions:
/// status 200, content `b''`): AWS reads the request template
/// `{statusCode: 200}`, whose key is a bare name, as CDK writes CORS mocks.
/// Nothing else is read leniently **[choice]**: single quotes are a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mock_status_key_may_be_a_bare_name() {
    let responses = json!({"2\\d{2}": {"statusCode": "200", "responseTemplates": {}}});
    let s = start(
        "bare-keys",
        &export(json!({
            "/{testPath}": {"get": operation(mock("{statusCode: 200}", responses.clone()), false)},
            "/quoted/single": {"get": operation(mock("{'statusCode': 200}", responses), false)},
        })),
        &[],
    )
    .await;
    assert!(
        s.gateway
            .startup_text()
            .contains("route GET /{testPath}: public -> mock 200"),
        "{}",
        s.gateway.startup_text()
    );
    let reply = send(Method::GET, &s.gateway.url("/test-path"), None, &[], "").await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, ""));
    let reply = send(Method::GET, &s.gateway.url("/quoted/single"), None, &[], "").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.body, INTERNAL_ERROR);
}

/// LocalStack's test_integration_mock_with_request_overrides_in_response_template
/// (snapshot keys invoke-path1, invoke-path2, invoke-path-else), its
/// templates as they are: the request template's
/// `$context.requestOverride.path.body` is read by the response template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mock_response_template_reads_the_request_overrides() {
    let integration = mock(
        "#set($body = $util.base64Decode($input.params('testPath')))\n    #set($context.requestOverride.path.body = $body)\n    {\n      \"statusCode\": 200\n    }\n",
        json!({"2\\d{2}": {"statusCode": "200", "responseTemplates": {"application/json":
            "\n#set($body = $util.parseJson($context.requestOverride.path.body))\n#set($inputBody = $body.message)\n#if($inputBody == \"path1\")\n{\n   \"response\": \"path was path one\"\n}\n#elseif($inputBody == \"path2\")\n{\n   \"response\": \"path was path two\"\n}\n#else\n{\n  \"response\": \"this is the else clause\"\n}\n#end\n"
        }}}),
    );
    let s = start(
        "request-overrides",
        &export(json!({"/{testPath}": {"get": operation(integration, false)}})),
        &[],
    )
    .await;
    for (path, want) in [
        ("eyJtZXNzYWdlIjogInBhdGgxIn0=", "path was path one"),
        ("eyJtZXNzYWdlIjogInBhdGgyIn0=", "path was path two"),
        (
            "eyJtZXNzYWdlIjogIndoYXRldmVyIn0=",
            "this is the else clause",
        ),
    ] {
        let reply = send(
            Method::GET,
            &s.gateway.url(&format!("/{path}")),
            None,
            &[],
            "",
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert_eq!(json_of(&reply), json!({"response": want}), "{path}");
    }
}

/// LocalStack's test_integration_mock_with_response_override_in_request_template
/// (snapshot key response, parametrized with and without a response
/// template; its assertion `response.headers['foo'] == 'bar'`): the request
/// template's `$context.responseOverride.status` and `.header.foo` make the
/// answer 444 with `foo: bar`, and the response template reads them and a
/// custom name back. An override the gateway cannot send is a 500, as in a
/// response template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_overrides_set_by_a_mock_request_template_apply() {
    let request = "\n#set($context.responseOverride.status = 444)\n#set($context.responseOverride.header.foo = \"bar\")\n#set($context.responseOverride.custom = \"is also passed around\")\n{\n  \"statusCode\": 200\n}\n";
    let templated = mock(
        request,
        json!({"2\\d{2}": {"statusCode": "200", "responseTemplates": {"application/json":
            "\n#set($statusOverride = $context.responseOverride.status)\n#set($fooHeader = $context.responseOverride.header.foo)\n#set($custom = $context.responseOverride.custom)\n{\n    \"statusOverride\": \"$statusOverride\",\n    \"fooHeader\": \"$fooHeader\",\n    \"custom\": \"$custom\"\n}\n"
        }}}),
    );
    let bare = json!({"2\\d{2}": {"statusCode": "200", "responseTemplates": {}}});
    let no_content = "#set($context.responseOverride.status = 204){\"statusCode\": 200}";
    let framing = "#set($context.responseOverride.header.Content-Length = 5){\"statusCode\": 200}";
    let interim = "#set($context.responseOverride.status = 101){\"statusCode\": 200}";
    let s = start(
        "response-overrides",
        &export(json!({
            "/templated": {"get": operation(templated, false)},
            "/bare": {"get": operation(mock(request, bare.clone()), false)},
            "/no-content": {"get": operation(mock(no_content, bare.clone()), false)},
            "/framing": {"get": operation(mock(framing, bare.clone()), false)},
            "/interim": {"get": operation(mock(interim, bare), false)},
        })),
        &[],
    )
    .await;
    let reply = send(Method::GET, &s.gateway.url("/templated"), None, &[], "").await;
    assert_eq!(reply.status.as_u16(), 444, "{}", reply.body);
    assert_eq!(reply.header("foo"), "bar");
    assert_eq!(
        json_of(&reply),
        json!({"statusOverride": "444", "fooHeader": "bar", "custom": "is also passed around"})
    );
    let reply = send(Method::GET, &s.gateway.url("/bare"), None, &[], "").await;
    assert_eq!(
        (reply.status.as_u16(), reply.body.as_str()),
        (444, ""),
        "without a response template"
    );
    assert_eq!(reply.header("foo"), "bar");
    assert_eq!(reply.header("content-length"), "0");
    let reply = send(Method::GET, &s.gateway.url("/no-content"), None, &[], "").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.header("content-length"), "", "204 carries no length");
    for path in ["/framing", "/interim"] {
        let reply = send(Method::GET, &s.gateway.url(path), None, &[], "").await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert_eq!(reply.body, INTERNAL_ERROR, "{path}");
    }
}

/// LocalStack's test_integration_mock_with_vtl_map_assignation (snapshot key
/// response), its templates as they are: a computed name, `put()` and
/// `$context["requestOverride"]` in the request template, read back by the
/// response template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn override_maps_take_computed_names_and_put() {
    let integration = mock(
        "\n#set($paramName = \"foo\")\n#set($context.requestOverride.querystring[$paramName] = \"bar\")\n#set($paramPutName = \"putfoo\")\n$context.requestOverride.querystring.put($paramPutName, \"putBar\")\n#set($context[\"requestOverride\"].querystring[\"nestedfoo\"] = \"nestedFoo\")\n{\n  \"statusCode\": 200\n}\n",
        json!({"2\\d{2}": {"statusCode": "200", "responseTemplates": {"application/json":
            "\n#set($value = $context.requestOverride.querystring[\"foo\"])\n#set($value2 = $context.requestOverride.querystring[\"putfoo\"])\n#set($value3 = $context.requestOverride.querystring[\"nestedfoo\"])\n{\n    \"value\": \"$value\",\n    \"value2\": \"$value2\",\n    \"value3\": \"$value3\"\n}\n"
        }}}),
    );
    let s = start(
        "map-assignation",
        &export(json!({"/": {"get": operation(integration, false)}})),
        &[],
    )
    .await;
    let reply = send(Method::GET, &s.gateway.url("/"), None, &[], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        json_of(&reply),
        json!({"value": "bar", "value2": "putBar", "value3": "nestedFoo"})
    );
}

/// LocalStack's test_proxy_routing_with_hardcoded_resource_sibling (its
/// assertions: `OPTIONS /test` answers 'OPTIONS request'): a method the
/// resource lacks falls back to the greedy sibling that has it, under that
/// route's own policy, never the resource's; where the first route with the
/// method is a one-segment parameter, nothing **[choice]**.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_the_resource_lacks_is_served_by_the_greedy_sibling() {
    let s = start(
        "routing",
        &export(json!({
            "/test": {"post": operation(mock_message("POST request"), false)},
            "/test/any": {"x-amazon-apigateway-any-method": operation(mock_message("ANY request"), false)},
            "/{proxy+}": {"options": operation(mock_message("OPTIONS request"), false)},
            "/secure/open": {"get": operation(mock_message("open"), false)},
            "/secure/{proxy+}": {"x-amazon-apigateway-any-method": operation(mock_message("secure"), true)},
            "/items/special": {"get": operation(mock_message("special"), false)},
            "/items/{id}": {"options": operation(mock_message("item"), false)},
        })),
        &[],
    )
    .await;
    let message = |reply: &Reply| json_of(reply)["message"].as_str().unwrap_or("").to_owned();
    for (method, path, want) in [
        (Method::OPTIONS, "/test", "OPTIONS request"),
        (Method::POST, "/test", "POST request"),
        (Method::OPTIONS, "/test/any", "ANY request"),
        (Method::GET, "/test/any", "ANY request"),
    ] {
        let reply = send(method.clone(), &s.gateway.url(path), None, &[], "").await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{method} {path}: {}",
            reply.body
        );
        assert_eq!(message(&reply), want, "{method} {path}");
    }
    // No route has the method: API Gateway's 403.
    let reply = send(Method::GET, &s.gateway.url("/test"), None, &[], "").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::FORBIDDEN, MISSING_TOKEN)
    );
    // The greedy route's policy: a token, where the resource is public.
    let url = s.gateway.url("/secure/open");
    let reply = send(Method::POST, &url, None, &[], "").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let reply = send(Method::POST, &url, Some(&s.token), &[], "").await;
    assert_eq!(
        (reply.status, message(&reply).as_str()),
        (StatusCode::OK, "secure")
    );
    let reply = send(Method::GET, &url, None, &[], "").await;
    assert_eq!(
        (reply.status, message(&reply).as_str()),
        (StatusCode::OK, "open")
    );
    // The first route with OPTIONS is `/items/{id}`, not a greedy one.
    let url = s.gateway.url("/items/special");
    let reply = send(Method::OPTIONS, &url, None, &[], "").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::FORBIDDEN, MISSING_TOKEN)
    );
    let reply = send(Method::OPTIONS, &s.gateway.url("/items/7"), None, &[], "").await;
    assert_eq!(
        (reply.status, message(&reply).as_str()),
        (StatusCode::OK, "item")
    );
}

/// LocalStack's test_invocation_trace_id (snapshot keys
/// normal-req-headers-MOCK, normal-req-headers-HTTP,
/// normal-req-headers-AWS_PROXY): AWS answers a keep-alive HTTP/1.1 client
/// with `Connection: keep-alive`, whatever the integration, its own errors
/// included; never on HTTP/1.0 or HTTP/2, nor when the client closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_http11_answer_that_keeps_the_connection_says_keep_alive() {
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let invoke = TestServer::start(axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(|| async { r#"{"statusCode": 200, "body": "from the function"}"# }),
    ))
    .await;
    let s = start(
        "keep-alive",
        &export(json!({
            "/mock": {"get": operation(mock_message("mock"), false)},
            "/secure": {"get": operation(mock_message("secure"), true)},
            "/http": {"get": operation(json!({
                "type": "http",
                "httpMethod": "GET",
                "uri": "http://${stageVariables.backendHost}/backend",
                "responses": {"default": {"statusCode": "200"}},
            }), false)},
            "/proxy": {"get": operation(json!({
                "type": "http_proxy",
                "httpMethod": "GET",
                "uri": "http://${stageVariables.backendHost}/backend",
            }), false)},
            "/lambda": {"get": operation(json!({
                "type": "aws_proxy",
                "httpMethod": "POST",
                "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations",
            }), false)},
        })),
        &[
            "--stage-variable".to_owned(),
            format!("backendHost={}", backend.host()),
            "--lambda-endpoint".to_owned(),
            invoke.base_url(),
        ],
    )
    .await;
    for (path, status) in [
        ("/mock", StatusCode::OK),
        ("/http", StatusCode::OK),
        ("/proxy", StatusCode::OK),
        ("/lambda", StatusCode::OK),
        ("/secure", StatusCode::UNAUTHORIZED),
        ("/nowhere", StatusCode::FORBIDDEN),
    ] {
        let reply = send(Method::GET, &s.gateway.url(path), None, &[], "").await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        assert_eq!(reply.header("connection"), "keep-alive", "{path}");
    }
    let addr = address(&s.gateway);
    let reply = raw_exchange(
        addr,
        "GET /mock HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_owned(),
    )
    .await;
    let head = head_of(&reply);
    assert!(head.starts_with("http/1.1 200 "), "{head}");
    assert!(!head.contains("keep-alive"), "{head}");
    let reply = raw_exchange(
        addr,
        "GET /mock HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".to_owned(),
    )
    .await;
    let head = head_of(&reply);
    assert!(head.starts_with("http/1.0 200 "), "{head}");
    assert!(!head.contains("keep-alive"), "{head}");
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap();
    for path in ["/mock", "/lambda", "/nowhere"] {
        let res = bounded("HTTP/2 GET", h2.get(s.gateway.url(path)).send())
            .await
            .expect("an HTTP/2 answer");
        assert_eq!(res.version(), http::Version::HTTP_2);
        assert!(!res.headers().contains_key("connection"), "{path}");
    }
}

/// The event a loopback Lambda Invoke API got, answered back as the body.
fn echo_function() -> axum::Router {
    axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(|event: String| async move { json!({"statusCode": 200, "body": event}).to_string() }),
    )
}

fn lambda() -> Value {
    json!({
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:echo/invocations",
    })
}

/// LocalStack's test_lambda_aws_proxy_integration (snapshot keys
/// invocation-payload-with-trailing-slash,
/// invocation-payload-with-trailing-slash-and-query-params): with the
/// authorizer on, the integration still sees the client's path (AWS's event
/// has `path` `/proxy-value/`, `requestContext.path` `/stage/proxy-value/`),
/// and so does a template's `$context.path`; routing is unchanged
/// (`{proxy+}` is `proxy-value`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_see_the_clients_path() {
    let invoke = TestServer::start(echo_function()).await;
    let path_template = mock(
        r#"{"statusCode": 200}"#,
        json!({"default": {"statusCode": "200", "responseTemplates": {
            "application/json": "$context.path $context.resourcePath",
        }}}),
    );
    let s = start(
        "client-path",
        &export(json!({
            "/{proxy+}": {"x-amazon-apigateway-any-method": operation(lambda(), true)},
            "/pets": {"get": operation(path_template, true)},
        })),
        &["--lambda-endpoint".to_owned(), invoke.base_url()],
    )
    .await;
    let token = Some(s.token.as_str());
    for (target, path, query) in [
        ("/proxy-value/", "/proxy-value/", None),
        ("/proxy-value/?urlparam=test", "/proxy-value/", Some("test")),
        ("/proxy-value", "/proxy-value", None),
    ] {
        let reply = send(Method::GET, &s.gateway.url(target), token, &[], "").await;
        assert_eq!(reply.status, StatusCode::OK, "{target}: {}", reply.body);
        let event = json_of(&reply);
        assert_eq!(event["path"], path, "{target}");
        assert_eq!(
            event["requestContext"]["path"],
            format!("/prod{path}"),
            "{target}"
        );
        assert_eq!(
            event["pathParameters"],
            json!({"proxy": "proxy-value"}),
            "{target}"
        );
        assert_eq!(event["resource"], "/{proxy+}", "{target}");
        let urlparam = event["queryStringParameters"]["urlparam"].as_str();
        assert_eq!(urlparam, query, "{target}");
    }
    let reply = send(Method::GET, &s.gateway.url("/pets/"), token, &[], "").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "/prod/pets/ /pets")
    );
}

/// LocalStack's test_lambda_aws_proxy_integration (snapshot keys
/// invocation-hardcoded, invocation-payload-with-prepended-slash,
/// invocation-payload-with-double-slash): AWS routes `//hardcoded` to
/// `/hardcoded`, `//proxy-value` to `{proxy+}` = `proxy-value`, and
/// `/proxy-value//double-slash` to `{proxy+}` = `proxy-value//double-slash`.
/// The gateway does so for `mock` and `aws_proxy` routes, under the policy
/// of the route AWS picks; toward `http` and `http_proxy` backends such
/// paths stay refused, and shapes AWS was not recorded routing stay refused
/// everywhere **[choice]**.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_segments_reach_mock_and_lambda_routes_as_aws_routes_them() {
    let invoke = TestServer::start(echo_function()).await;
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let proxy = json!({
        "type": "http_proxy",
        "httpMethod": "GET",
        "uri": "http://${stageVariables.backendHost}/backend/{proxy}",
        "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"},
    });
    let http = json!({
        "type": "http",
        "httpMethod": "GET",
        "uri": "http://${stageVariables.backendHost}/backend",
        "responses": {"default": {"statusCode": "200"}},
    });
    let s = start(
        "empty-segments",
        &export(json!({
            "/{proxy+}": {"x-amazon-apigateway-any-method": operation(lambda(), false)},
            "/hardcoded": {"get": operation(lambda(), false)},
            "/mocked": {"get": operation(mock_message("mocked"), false)},
            "/secure": {"get": operation(mock_message("secure"), true)},
            "/http": {"get": operation(http, false)},
            "/backend/{proxy+}": {"get": operation(proxy, false)},
        })),
        &[
            "--lambda-endpoint".to_owned(),
            invoke.base_url(),
            "--stage-variable".to_owned(),
            format!("backendHost={}", backend.host()),
        ],
    )
    .await;
    let addr = address(&s.gateway);
    // Raw targets: a client library would clean them up.
    let exchange = |target: &str, token: Option<&str>| {
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        raw_exchange(
            addr,
            format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"),
        )
    };
    let body_of = |reply: &str| -> Value {
        let body = reply.split_once("\r\n\r\n").expect("a head").1;
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {reply}"))
    };
    for (target, resource, path, proxy) in [
        ("//hardcoded", "/hardcoded", "/hardcoded", Value::Null),
        (
            "//proxy-value",
            "/{proxy+}",
            "/proxy-value",
            json!({"proxy": "proxy-value"}),
        ),
        (
            "/proxy-value//double-slash",
            "/{proxy+}",
            "/proxy-value//double-slash",
            json!({"proxy": "proxy-value//double-slash"}),
        ),
    ] {
        let reply = exchange(target, None).await;
        assert!(
            head_of(&reply).starts_with("http/1.1 200 "),
            "{target}: {reply}"
        );
        let event = body_of(&reply);
        assert_eq!(event["resource"], resource, "{target}");
        assert_eq!(event["path"], path, "{target}");
        assert_eq!(
            event["requestContext"]["path"],
            format!("/prod{target}"),
            "{target}"
        );
        assert_eq!(event["pathParameters"], proxy, "{target}");
    }
    let reply = exchange("//mocked", None).await;
    assert!(head_of(&reply).starts_with("http/1.1 200 "), "{reply}");
    assert_eq!(body_of(&reply), json!({"message": "mocked"}));
    // The policy of the resource AWS picks: `/secure`'s token.
    let reply = exchange("//secure", None).await;
    assert!(head_of(&reply).starts_with("http/1.1 401 "), "{reply}");
    let reply = exchange("//secure", Some(&s.token)).await;
    assert!(head_of(&reply).starts_with("http/1.1 200 "), "{reply}");
    // Toward http and http_proxy backends, and where AWS was not recorded.
    for target in [
        "//http",
        "//backend/x",
        "/backend//x",
        "/backend/x//y",
        "///hardcoded",
        "//",
        "/hardcoded//",
        "//hardcoded/..",
    ] {
        let reply = exchange(target, None).await;
        assert!(
            head_of(&reply).starts_with("http/1.1 403 "),
            "{target}: {reply}"
        );
        assert!(reply.ends_with(MISSING_TOKEN), "{target}: {reply}");
    }
    // The same backends without the empty segments.
    let reply = exchange("/http", None).await;
    assert!(head_of(&reply).starts_with("http/1.1 200 "), "{reply}");
    let reply = exchange("/backend/x/y", None).await;
    assert!(head_of(&reply).starts_with("http/1.1 200 "), "{reply}");
}
