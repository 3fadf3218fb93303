//! `--template`: SAM and CloudFormation templates (in the forms AWS
//! documents: a SAM app with an implicit API, one with a `DefinitionBody`,
//! a stack of explicit `AWS::ApiGateway::*` resources, a `cdk synth`
//! output) served by `cognito-gateway` run as a process, their functions
//! invoked in a real Lambda emulator (`cargo lambda watch` serving
//! `gateway/tests/lambda-fn`, started by `scripts/lambda-env.sh`), tokens
//! from the dev issuer or a test issuer's JWKS server on loopback.
//!
//! Without the emulator, the tests that need it are skipped (and fail under
//! `scripts/test`); the others invoke a loopback server of the test that
//! speaks the Invoke API.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, RawQuery};
use axum::routing::post;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use support::emulator::emulator;
use support::loopback::{bounded, client, TestServer};
use support::moto::mark_ran;
use support::process::{self, Gateway};
use tower_cognito::testing::TestIssuer;

const IMPLICIT: &str = "gateway/tests/fixtures/sam/implicit-api/template.yaml";
const IMPLICIT_EXPORT: &str = "gateway/tests/fixtures/sam/implicit-api/export.json";
const DEFINITION_BODY: &str = "gateway/tests/fixtures/sam/definition-body/template.yaml";
const CLOUDFORMATION: &str = "gateway/tests/fixtures/sam/cloudformation/template.yaml";
const CLOUDFORMATION_EXPORT: &str = "gateway/tests/fixtures/sam/cloudformation/export.json";
const CDK: &str = "gateway/tests/fixtures/sam/cdk/PetsStack.template.json";
const NAMING: &str = "gateway/tests/fixtures/sam/naming/template.yaml";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:gateway-test-lambda";
const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;

/// Starts the gateway off the test's runtime (starting blocks).
async fn start(vars: &[(&str, &str)], args: &[&str]) -> Gateway {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&vars, &args)
    })
    .await
    .unwrap()
}

/// One request; the body as text.
async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
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

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// API Gateway's 401.
fn assert_unauthorized(reply: &(StatusCode, HeaderMap, String), what: &str) {
    assert_eq!(reply.0, StatusCode::UNAUTHORIZED, "{what}: {}", reply.2);
    assert_eq!(reply.2, UNAUTHORIZED, "{what}");
    assert_eq!(
        reply.1["x-amzn-errortype"], "UnauthorizedException",
        "{what}"
    );
}

/// The event the function echoed.
fn event_of(reply: &(StatusCode, HeaderMap, String), what: &str) -> Value {
    assert_eq!(reply.0, StatusCode::OK, "{what}: {}", reply.2);
    serde_json::from_str(&reply.2)
        .unwrap_or_else(|e| panic!("{what}: echo is no JSON ({e}): {}", reply.2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sam_app_with_an_implicit_api_and_a_declared_pool() {
    let Some(endpoint) = emulator("sam") else {
        return;
    };
    let gateway = start(
        &[("LAMBDA_ENDPOINT", &endpoint)],
        &["--template", IMPLICIT, "--stage", "Prod"],
    )
    .await;
    let log = gateway.startup_text();
    assert!(
        log.contains(
            "(REST API ServerlessRestApi (AWS::Serverless::Api, implicit), template stage Prod)"
        ),
        "{log}"
    );
    assert!(
        log.contains("dev issuer: on (every user pool is declared in the template)"),
        "{log}"
    );
    assert!(log.contains("pool us-east-1_UserPool iss https://cognito-idp.us-east-1.amazonaws.com/us-east-1_UserPool"), "{log}");
    for line in [
        format!("route GET /pets/{{action}}: identity token (authorizer PetsUserPool) -> aws_proxy lambda {FUNCTION_ARN} via {endpoint}/2015-03-31/functions/gateway-test-lambda/invocations"),
        format!("route POST /pets/{{action}}: access token with any of [pets/adopt] (authorizer PetsUserPool) -> aws_proxy lambda {FUNCTION_ARN}"),
        format!("route GET /health/{{action}}: public -> aws_proxy lambda {FUNCTION_ARN}"),
        "route OPTIONS /pets/{action}: public -> mock 200".to_owned(),
    ] {
        assert!(log.contains(&line), "missing {line:?} in\n{log}");
    }
    let tokens = gateway.dev_tokens();
    let id = bearer(&tokens["ID_TOKEN"]);
    let access = bearer(&tokens["ACCESS_TOKEN"]);
    let no_scope = bearer(&tokens["NO_SCOPE_TOKEN"]);
    let url = gateway.url("/pets/echo");

    assert_unauthorized(&send(Method::GET, &url, &[]).await, "no token");
    assert_unauthorized(
        &send(Method::GET, &url, &[("authorization", &access)]).await,
        "an access token on an identity-token route",
    );
    let event = event_of(
        &send(Method::GET, &url, &[("authorization", &id)]).await,
        "ID token",
    );
    assert_eq!(event["resource"], "/pets/{action}");
    assert_eq!(event["requestContext"]["stage"], "Prod");
    let claims = &event["requestContext"]["authorizer"]["claims"];
    assert_eq!(claims["cognito:username"], "dev-user");
    assert_eq!(
        claims["iss"],
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_UserPool"
    );

    // The scoped route: an access token with the scope only.
    assert_unauthorized(
        &send(Method::POST, &url, &[("authorization", &id)]).await,
        "ID token on a scoped route",
    );
    assert_unauthorized(
        &send(Method::POST, &url, &[("authorization", &no_scope)]).await,
        "access token without the scope",
    );
    let event = event_of(
        &send(Method::POST, &url, &[("authorization", &access)]).await,
        "access token with the scope",
    );
    assert_eq!(event["httpMethod"], "POST");

    // `Authorizer: NONE`, and the preflight SAM leaves open here.
    let event = event_of(
        &send(Method::GET, &gateway.url("/health/echo"), &[]).await,
        "public route",
    );
    assert!(event["requestContext"]["authorizer"].is_null(), "{event}");
    let preflight = send(
        Method::OPTIONS,
        &url,
        &[
            ("origin", "http://localhost:5173"),
            ("access-control-request-method", "POST"),
        ],
    )
    .await;
    assert_eq!(preflight.0, StatusCode::OK, "{}", preflight.2);
    assert_eq!(
        preflight.1["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert_eq!(
        preflight.1["access-control-allow-methods"],
        "GET,OPTIONS,POST"
    );
    assert_eq!(
        preflight.1["access-control-allow-headers"],
        "Authorization,Content-Type"
    );

    let unknown = send(
        Method::GET,
        &gateway.url("/nowhere"),
        &[("authorization", &id)],
    )
    .await;
    assert_eq!(unknown.0, StatusCode::FORBIDDEN);
    assert_eq!(unknown.2, r#"{"message":"Missing Authentication Token"}"#);
    mark_ran("gateway_sam_implicit_api");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sam_api_with_a_definition_body_and_a_deployed_pool() {
    let Some(endpoint) = emulator("sam") else {
        return;
    };
    let issuer = TestIssuer::new("us-east-1_Orders001").client_id("4orders0client0id0example");
    let other_client = TestIssuer::new("us-east-1_Orders001").client_id("another0client");
    let jwks = issuer.serve_jwks().await.unwrap();
    let gateway = start(
        &[
            ("LAMBDA_ENDPOINT", &endpoint),
            ("COGNITO_JWKS_ENDPOINT", jwks.base_url()),
        ],
        &[
            "--template",
            DEFINITION_BODY,
            "--parameter-overrides",
            "Environment=prod",
        ],
    )
    .await;
    let log = gateway.startup_text();
    assert!(log.contains("dev issuer: off"), "{log}");
    assert!(
        log.contains("authorizer OrdersPool (header x-orders-token, token validation ^4orders0client0id0example$"),
        "{log}"
    );
    // The event is already in the definition: nothing to say about it.
    assert!(!log.contains("not added to OrdersApi"), "{log}");
    let token = bearer(&issuer.id_token().sign());
    let url = gateway.url("/orders/echo");

    assert_unauthorized(
        &send(Method::GET, &url, &[("authorization", &token)]).await,
        "the token in Authorization, not in the authorizer's header",
    );
    assert_unauthorized(
        &send(
            Method::GET,
            &url,
            &[("x-orders-token", &bearer(&other_client.id_token().sign()))],
        )
        .await,
        "another app client (ValidationExpression)",
    );
    let event = event_of(
        &send(Method::GET, &url, &[("x-orders-token", &token)]).await,
        "token in X-Orders-Token",
    );
    // The stage's Variables, with Fn::If on the overridden parameter.
    assert_eq!(
        event["stageVariables"],
        json!({"function": "gateway-test-lambda", "tier": "gold"})
    );
    assert_eq!(
        event["requestContext"]["authorizer"]["claims"]["aud"],
        "4orders0client0id0example"
    );

    // `security: [{NONE: []}]` in the DefinitionBody: public, despite the default.
    let status = send(Method::GET, &gateway.url("/status"), &[]).await;
    assert_eq!(status.0, StatusCode::OK, "{}", status.2);
    assert_eq!(status.2, r#"{"status": "ok", "stage": "local"}"#);
    mark_ran("gateway_sam_definition_body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudformation_stack_of_explicit_resources() {
    let Some(endpoint) = emulator("sam") else {
        return;
    };
    let issuer = TestIssuer::new("us-east-1_Pets00001");
    let jwks = issuer.serve_jwks().await.unwrap();
    let gateway = start(
        &[
            ("LAMBDA_ENDPOINT", &endpoint),
            ("COGNITO_JWKS_ENDPOINT", jwks.base_url()),
        ],
        &["--template", CLOUDFORMATION],
    )
    .await;
    let log = gateway.startup_text();
    for line in [
        "route GET /pets: public -> mock 200",
        "route GET /pets/{petId}: identity token (authorizer PetsPool) -> mock 200",
        "route DELETE /pets/{petId}: access token with any of [pets/delete] (authorizer PetsPool) -> mock 204",
        "route ANY /fn/{action}: identity token (authorizer PetsPool) -> aws_proxy lambda arn:aws:lambda:us-east-1:123456789012:function:gateway-test-lambda",
    ] {
        assert!(log.contains(line), "missing {line:?} in\n{log}");
    }
    let id = issuer.id_token().claim("sub", "owner-7").sign();
    let id = bearer(&id);
    let list = send(Method::GET, &gateway.url("/pets"), &[]).await;
    assert_eq!(list.0, StatusCode::OK);
    assert_eq!(
        list.2,
        r#"[{"id": 1, "type": "dog"}, {"id": 2, "type": "cat"}]"#
    );
    assert_unauthorized(
        &send(Method::GET, &gateway.url("/pets/7"), &[]).await,
        "no token",
    );
    let pet = send(
        Method::GET,
        &gateway.url("/pets/7"),
        &[("authorization", &id)],
    )
    .await;
    assert_eq!(pet.0, StatusCode::OK, "{}", pet.2);
    assert_eq!(pet.2, r#"{"id": "7", "owner": "owner-7"}"#);
    assert_unauthorized(
        &send(
            Method::DELETE,
            &gateway.url("/pets/7"),
            &[("authorization", &id)],
        )
        .await,
        "ID token, scoped method",
    );
    let access = bearer(&issuer.access_token().scopes(["pets/delete"]).sign());
    let deleted = send(
        Method::DELETE,
        &gateway.url("/pets/7"),
        &[("authorization", &access)],
    )
    .await;
    assert_eq!(deleted.0, StatusCode::NO_CONTENT, "{}", deleted.2);
    let event = event_of(
        &send(
            Method::PUT,
            &gateway.url("/fn/echo"),
            &[("authorization", &id)],
        )
        .await,
        "ANY method to the function",
    );
    assert_eq!(event["httpMethod"], "PUT");
    assert_eq!(event["stageVariables"], json!({"tier": "dev-tier"}));
    drop(gateway);

    // The pool as a parameter: overridden, the test issuer's tokens are
    // another pool's.
    let elsewhere = start(
        &[
            ("LAMBDA_ENDPOINT", &endpoint),
            ("COGNITO_JWKS_ENDPOINT", jwks.base_url()),
        ],
        &[
            "--template",
            CLOUDFORMATION,
            "--parameter-overrides",
            "UserPoolArn=arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Other0001",
        ],
    )
    .await;
    assert!(elsewhere
        .startup_text()
        .contains("pool us-east-1_Other0001"));
    let reply = send(
        Method::GET,
        &elsewhere.url("/pets/7"),
        &[("authorization", &id)],
    )
    .await;
    assert_unauthorized(&reply, "a token of the pool the template no longer names");
    mark_ran("gateway_sam_cloudformation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdk_synth_output_with_logical_ids_and_get_att() {
    let Some(endpoint) = emulator("sam") else {
        return;
    };
    let gateway = start(
        &[("LAMBDA_ENDPOINT", &endpoint)],
        &["--template", CDK, "--stage", "prod"],
    )
    .await;
    let log = gateway.startup_text();
    assert!(
        log.contains("(REST API PetsApi8F3E5C1B (AWS::ApiGateway::RestApi), template stage prod)"),
        "{log}"
    );
    assert!(log.contains("pool us-east-1_Users0A0825A0"), "{log}");
    assert!(
        log.contains(&format!("route GET /pets/{{action}}: identity token (authorizer PetsStackPetsAuthorizer8B1F2E3D) -> aws_proxy lambda {FUNCTION_ARN}")),
        "{log}"
    );
    let tokens = gateway.dev_tokens();
    let root = send(Method::GET, &gateway.url("/"), &[]).await;
    assert_eq!(root.0, StatusCode::OK);
    assert_eq!(root.2, r#"{"service": "pets", "stage": "prod"}"#);
    let url = gateway.url("/pets/echo");
    assert_unauthorized(&send(Method::GET, &url, &[]).await, "no token");
    let event = event_of(
        &send(
            Method::GET,
            &url,
            &[("authorization", &bearer(&tokens["ID_TOKEN"]))],
        )
        .await,
        "ID token",
    );
    assert_eq!(event["stageVariables"], json!({"tier": "cdk"}));
    assert_eq!(
        event["requestContext"]["authorizer"]["claims"]["custom:role"],
        "developer"
    );
    let event = event_of(
        &send(
            Method::POST,
            &url,
            &[("authorization", &bearer(&tokens["ACCESS_TOKEN"]))],
        )
        .await,
        "access token with pets/write",
    );
    assert_eq!(
        event["requestContext"]["authorizer"]["claims"]["scope"],
        "pets/write"
    );
    assert_unauthorized(
        &send(
            Method::POST,
            &url,
            &[("authorization", &bearer(&tokens["NO_SCOPE_TOKEN"]))],
        )
        .await,
        "access token without pets/write",
    );
    mark_ran("gateway_sam_cdk");
}

/// A loopback Invoke API: echoes the event as a proxy response body and
/// records `(function, query)` of each call.
async fn invoke_api() -> (TestServer, Arc<Mutex<Vec<(String, Option<String>)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(move |Path(name): Path<String>, RawQuery(query): RawQuery, body: String| {
            let record = Arc::clone(&record);
            async move {
                record.lock().unwrap().push((name, query));
                json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "body": body})
                    .to_string()
            }
        }),
    );
    (TestServer::start(app).await, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_are_invoked_by_the_names_sam_local_knows() {
    let (server, seen) = invoke_api().await;
    for (stack, named) in [
        (None, "local-named"),
        (Some("AWS::StackName=shop"), "shop-named"),
    ] {
        let mut args = vec!["--template", NAMING];
        if let Some(overrides) = stack {
            args.extend(["--parameter-overrides", overrides]);
        }
        let gateway = start(&[("LAMBDA_ENDPOINT", &server.base_url())], &args).await;
        let id = bearer(&gateway.dev_tokens()["ID_TOKEN"]);
        seen.lock().unwrap().clear();
        for path in ["/logical", "/named", "/aliased"] {
            let reply = send(Method::GET, &gateway.url(path), &[("authorization", &id)]).await;
            assert_eq!(reply.0, StatusCode::OK, "{path}: {}", reply.2);
        }
        assert_eq!(
            *seen.lock().unwrap(),
            [
                ("ByLogicalId".to_owned(), None),
                (named.to_owned(), None),
                ("Aliased".to_owned(), Some("Qualifier=live".to_owned())),
            ]
        );
    }
}

/// An event echoed by [`invoke_api`], or any body, with what differs from
/// one gateway process to the other (request IDs, times, its port) removed.
fn normalized(body: &str, port: &str) -> Value {
    let text = body.replace(port, "PORT");
    let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
        return Value::String(text);
    };
    if let Some(cx) = value
        .get_mut("requestContext")
        .and_then(Value::as_object_mut)
    {
        for key in [
            "requestId",
            "extendedRequestId",
            "requestTime",
            "requestTimeEpoch",
            "deploymentId",
        ] {
            cx.remove(key);
        }
    }
    for headers in ["headers", "multiValueHeaders"] {
        if let Some(h) = value.get_mut(headers).and_then(Value::as_object_mut) {
            h.retain(|k, _| !k.eq_ignore_ascii_case("x-amzn-trace-id"));
        }
    }
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_equal_those_of_the_same_api_given_as_an_export() {
    let (server, _) = invoke_api().await;
    let pool = "us-east-1_Same00001";
    let issuer = TestIssuer::new(pool);
    let other = TestIssuer::new("us-east-1_Other0001");
    let jwks = issuer.serve_jwks().await.unwrap();
    let tokens: Vec<(&str, Option<String>)> = vec![
        ("none", None),
        (
            "ID",
            Some(issuer.id_token().claim("custom:role", "admin").sign()),
        ),
        (
            "access with every scope",
            Some(
                issuer
                    .access_token()
                    .scopes(["pets/adopt", "pets/delete"])
                    .sign(),
            ),
        ),
        (
            "access without",
            Some(issuer.access_token().scopes(["other"]).sign()),
        ),
        ("expired", Some(issuer.id_token().expires_in(-60).sign())),
        ("another pool", Some(other.id_token().sign())),
        ("garbage", Some("not.a.token".to_owned())),
    ];
    let base = [
        ("LAMBDA_ENDPOINT", server.base_url()),
        ("COGNITO_JWKS_ENDPOINT", jwks.base_url().to_owned()),
        ("COGNITO_USER_POOL_ARNS", pool.to_owned()),
    ];
    let cases: [Pair; 2] = [
        (
            IMPLICIT,
            IMPLICIT_EXPORT,
            &[],
            &[
                ("GET", "/pets/echo"),
                ("POST", "/pets/echo"),
                ("PUT", "/pets/echo"),
                ("GET", "/health/echo"),
                ("OPTIONS", "/pets/echo"),
                ("OPTIONS", "/health/x"),
                ("GET", "/pets"),
                ("GET", "/"),
            ],
        ),
        (
            CLOUDFORMATION,
            CLOUDFORMATION_EXPORT,
            // An export carries no stage variables; the stack's stage does.
            &["--stage-variable", "tier=dev-tier"],
            &[
                ("GET", "/pets"),
                ("POST", "/pets"),
                ("GET", "/pets/7"),
                ("DELETE", "/pets/7"),
                ("PATCH", "/fn/echo"),
                ("GET", "/fn/echo?a=1&a=2"),
                ("GET", "/fn"),
                ("GET", "/"),
            ],
        ),
    ];
    for (template, export, export_args, requests) in cases {
        let vars: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let from_template = start(&vars, &["--template", template]).await;
        let mut args = vec!["--openapi", export];
        args.extend(export_args);
        let from_export = start(&vars, &args).await;
        let ports: Vec<String> = [&from_template, &from_export]
            .iter()
            .map(|g| g.url("").rsplit(':').next().unwrap().to_owned())
            .collect();
        let mut compared = 0;
        for (method, path) in requests {
            for (name, token) in &tokens {
                let mut headers = vec![("origin", "http://localhost:5173")];
                let auth = token.as_deref().map(bearer);
                if let Some(a) = &auth {
                    headers.push(("authorization", a));
                }
                let method: Method = method.parse().unwrap();
                let a = send(method.clone(), &from_template.url(path), &headers).await;
                let b = send(method.clone(), &from_export.url(path), &headers).await;
                let what = format!("{template}: {method} {path} with token {name}");
                assert_eq!(a.0, b.0, "{what}: status\n{}\n{}", a.2, b.2);
                assert_eq!(
                    normalized(&a.2, &ports[0]),
                    normalized(&b.2, &ports[1]),
                    "{what}: body"
                );
                for header in [
                    "content-type",
                    "x-amzn-errortype",
                    "access-control-allow-origin",
                    "access-control-allow-methods",
                    "access-control-allow-headers",
                ] {
                    assert_eq!(a.1.get(header), b.1.get(header), "{what}: {header}");
                }
                compared += 1;
            }
        }
        assert_eq!(compared, requests.len() * tokens.len());
    }
}

/// A template the gateway refuses: name, text, variables, arguments, and
/// what it must say.
type Refusal = (
    &'static str,
    String,
    Vec<(&'static str, &'static str)>,
    Vec<&'static str>,
    &'static str,
);

/// A template, the export of the API it deploys, the export's own
/// arguments, and the requests to send both.
type Pair = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

/// Runs the gateway on a template to its exit; `(status, stderr)`.
fn run_to_exit(template: &str, vars: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String) {
    let mut command = process::command();
    command.env("GATEWAY_ADDR", "127.0.0.1:0");
    command.env("LAMBDA_ENDPOINT", "http://127.0.0.1:9");
    for (k, v) in vars {
        command.env(k, v);
    }
    command.arg("--template").arg(template).args(args);
    let out = process::run(command, None, Duration::from_secs(60));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A temporary directory under the target directory, emptied first.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = process::workspace_root()
        .join("target")
        .join("sam-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn templates_that_cannot_be_known_offline_stop_startup_saying_where() {
    let dir = scratch("refused");
    let implicit = std::fs::read_to_string(process::workspace_root().join(IMPLICIT)).unwrap();
    let cfn = std::fs::read_to_string(process::workspace_root().join(CLOUDFORMATION)).unwrap();
    let cases: Vec<Refusal> = vec![
        (
            "import-value",
            cfn.replace("        - !Ref UserPoolArn", "        - !ImportValue shared-user-pool-arn"),
            vec![],
            vec![],
            "resource PetsAuthorizer (AWS::ApiGateway::Authorizer), property ProviderARNs.0: Fn::ImportValue has no value before the stack is deployed",
        ),
        (
            "no-default",
            cfn.replace(
                "    Default: arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pets00001\n",
                "",
            ),
            vec![],
            vec![],
            "property ProviderARNs.0: parameter UserPoolArn has no Default: pass --parameter-overrides UserPoolArn=VALUE",
        ),
        (
            "unknown-override",
            cfn.clone(),
            vec![],
            vec!["--parameter-overrides", "UserPool=x"],
            "--parameter-overrides UserPool: the template has no parameter UserPool (its parameters: FunctionName, UserPoolArn)",
        ),
        (
            "declared-pool-without-dev-issuer",
            implicit.clone(),
            vec![("GATEWAY_DEV_ISSUER", "0")],
            vec![],
            "authorizer PetsUserPool uses the user pool UserPool (AWS::Cognito::UserPool) declared in the template",
        ),
        (
            "none-without-default",
            implicit.replace("      DefaultAuthorizer: PetsUserPool\n", ""),
            vec![],
            vec![],
            "resource PetsFunction (AWS::Serverless::Function), property Events.Health.Properties.Auth: Unable to set Authorizer on API method [get] for path [/health/{action}] because 'NONE' is only a valid value when a DefaultAuthorizer on the API is specified",
        ),
        (
            "two-apis",
            format!("{cfn}  OtherApi:\n    Type: AWS::ApiGateway::RestApi\n"),
            vec![],
            vec![],
            "several REST APIs (OtherApi, PetsApi): choose one with --template-api LOGICAL_ID",
        ),
        (
            "cycle",
            cfn.replace("ParentId: !Ref PetsResource", "ParentId: !Ref PetResource"),
            vec![],
            vec![],
            "the resources PetResource form a cycle",
        ),
        (
            "macro",
            format!("Transform: Custom::Expand\n{cfn}"),
            vec![],
            vec![],
            "Transform Custom::Expand: a macro may rewrite the template",
        ),
    ];
    for (name, text, vars, args, expected) in cases {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        let (status, stderr) = run_to_exit(path.to_str().unwrap(), &vars, &args);
        assert_eq!(status, Some(2), "{name}: {stderr}");
        assert!(stderr.contains("configuration error"), "{name}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{name}: expected {expected:?} in\n{stderr}"
        );
    }
    // And the flags that need a template.
    let mut command = process::command();
    command.args(["--parameter-overrides", "A=1"]);
    let out = process::run(command, None, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2));
    let mut command = process::command();
    command.args(["--template", IMPLICIT, "--openapi", CLOUDFORMATION_EXPORT]);
    let out = process::run(command, None, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "--template with --openapi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_and_sighup_reload_the_template() {
    let dir = scratch("watch");
    let path = dir.join("template.yaml");
    let original = std::fs::read_to_string(process::workspace_root().join(CLOUDFORMATION)).unwrap();
    std::fs::write(&path, &original).unwrap();
    let issuer = TestIssuer::new("us-east-1_Pets00001");
    let jwks = issuer.serve_jwks().await.unwrap();
    let (server, _) = invoke_api().await;
    let gateway = start(
        &[
            ("LAMBDA_ENDPOINT", &server.base_url()),
            ("COGNITO_JWKS_ENDPOINT", jwks.base_url()),
        ],
        &[
            "--template",
            path.to_str().unwrap(),
            "--watch",
            "--watch-interval-ms",
            "50",
        ],
    )
    .await;
    assert_unauthorized(
        &send(Method::GET, &gateway.url("/pets/7"), &[]).await,
        "before",
    );

    // GetPet made public in the file: reloaded on its own.
    let public = original.replacen(
        "      AuthorizationType: COGNITO_USER_POOLS\n      AuthorizerId: !Ref PetsAuthorizer\n      RequestParameters:",
        "      AuthorizationType: NONE\n      RequestParameters:",
        1,
    );
    assert_ne!(public, original);
    std::fs::write(&path, &public).unwrap();
    let line = gateway.wait_for_output("reload (file changed)", Duration::from_secs(30));
    assert!(line.contains("in force"), "{line}");
    gateway.wait_for_output(
        "route GET /pets/{petId}: public -> mock 200",
        Duration::from_secs(5),
    );
    let pet = send(Method::GET, &gateway.url("/pets/7"), &[]).await;
    assert_eq!(pet.0, StatusCode::OK, "{}", pet.2);

    // A template that no longer resolves leaves the deployment in force.
    std::fs::write(
        &path,
        public.replace("!Ref UserPoolArn", "!ImportValue gone"),
    )
    .unwrap();
    gateway.wait_for_output(
        "the previous deployment stays in force",
        Duration::from_secs(30),
    );
    assert_eq!(
        send(Method::GET, &gateway.url("/pets/7"), &[]).await.0,
        StatusCode::OK
    );

    // SIGHUP after the original is back.
    #[cfg(unix)]
    {
        std::fs::write(&path, &original).unwrap();
        gateway.wait_for_output("reload (file changed): ", Duration::from_secs(30));
        gateway.hangup();
        gateway.wait_for_output("reload (SIGHUP)", Duration::from_secs(30));
        assert_unauthorized(
            &send(Method::GET, &gateway.url("/pets/7"), &[]).await,
            "after",
        );
    }
}

/// The commands of docs/sam.md's quick start, as written there.
fn quick_start() -> (Vec<String>, Vec<String>) {
    let doc = std::fs::read_to_string(process::workspace_root().join("docs/sam.md")).unwrap();
    let mut gateway = Vec::new();
    let mut curls = Vec::new();
    let mut in_sh = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let command = line.split(" #").next().unwrap_or("").trim();
        if command.starts_with("cognito-gateway --template")
            && !command.ends_with('\\')
            && gateway.is_empty()
        {
            gateway = command.split_whitespace().map(str::to_owned).collect();
        } else if command.starts_with("curl ") {
            curls.push(command.to_owned());
        }
    }
    assert!(
        !gateway.is_empty(),
        "docs/sam.md has no `cognito-gateway --template` line"
    );
    assert!(!curls.is_empty(), "docs/sam.md has no curl line");
    (gateway, curls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_start_of_docs_sam_md_runs_as_written() {
    let (command, curls) = quick_start();
    // `template.yaml` is the SAM app of the fixtures; the emulator, when
    // here, stands for `sam local start-lambda` on port 3001.
    let endpoint = emulator("sam");
    let args: Vec<String> = command[1..]
        .iter()
        .map(|a| match a.as_str() {
            "template.yaml" => IMPLICIT.to_owned(),
            "http://127.0.0.1:3001" => endpoint.clone().unwrap_or_else(|| a.clone()),
            _ => a.clone(),
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let gateway = start(&[], &args).await;
    let log = gateway.startup_text();
    assert!(
        log.contains("route GET /pets/{action}: identity token (authorizer PetsUserPool)"),
        "{log}"
    );
    let Some(_) = endpoint else { return };
    let tokens = gateway.dev_tokens();
    let mut statuses = Vec::new();
    for curl in &curls {
        // `curl -i [-H "Name: value"] URL`
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some((_, rest)) = curl.split_once("-H \"") {
            let header = rest.split('"').next().unwrap();
            let (name, value) = header.split_once(": ").unwrap();
            let value = value.replace("$ID_TOKEN", &tokens["ID_TOKEN"]);
            headers.push((name.to_owned(), value));
        }
        let url = curl.split_whitespace().last().unwrap();
        let url = url.replace("http://127.0.0.1:3000", &gateway.url(""));
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        statuses.push(send(Method::GET, &url, &headers).await.0.as_u16());
    }
    assert_eq!(statuses, [401, 200], "{curls:?}");
    mark_ran("gateway_sam_docs_quick_start");
}

/// The implicit-API app with moto's Cognito standing in for the template's
/// pool (`--user-pool` replaces it, keys from moto): moto's tokens are
/// enforced as the deployed pool's would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sam_app_with_moto_tokens() {
    use support::moto::{Fixture, MotoCognito};
    let Some(endpoint) = emulator("sam") else {
        return;
    };
    let Some(moto) = MotoCognito::require() else {
        return;
    };
    let name = format!("tower-cognito-sam-{}", std::process::id());
    let fixture = bounded("create the moto fixture", moto.fixture(&name))
        .await
        .unwrap_or_else(|e| panic!("moto fixture: {e}"));
    let tokens = bounded("InitiateAuth", fixture.sign_in(&moto))
        .await
        .unwrap_or_else(|e| panic!("USER_PASSWORD_AUTH: {e}"));
    let gateway = start(
        &[
            ("LAMBDA_ENDPOINT", &endpoint),
            ("COGNITO_JWKS_ENDPOINT", moto.endpoint()),
            ("COGNITO_USER_POOL_ARNS", &fixture.pool.arn),
        ],
        &["--template", IMPLICIT, "--stage", "Prod"],
    )
    .await;
    let log = gateway.startup_text();
    assert!(log.contains("dev issuer: off"), "{log}");
    assert!(
        log.contains(&format!(
            "pool {} iss {}",
            fixture.pool.id, fixture.pool.issuer
        )),
        "{log}"
    );
    let url = gateway.url("/pets/echo");
    assert_unauthorized(&send(Method::GET, &url, &[]).await, "no token");
    assert_unauthorized(
        &send(
            Method::GET,
            &url,
            &[("authorization", &bearer(&tokens.access_token))],
        )
        .await,
        "moto's access token on an identity-token route",
    );
    let event = event_of(
        &send(
            Method::GET,
            &url,
            &[("authorization", &bearer(&tokens.id_token))],
        )
        .await,
        "moto's ID token",
    );
    let claims = &event["requestContext"]["authorizer"]["claims"];
    assert_eq!(claims["cognito:username"], Fixture::USERNAME);
    assert_eq!(claims["iss"], fixture.pool.issuer.as_str());
    mark_ran("gateway_sam_moto_tokens");
}
