//! Nothing in an export is left silently unenforced: methods protected by
//! IAM, API keys or a Lambda authorizer stop startup unless
//! `--refuse-unsupported-auth`, which answers them as AWS answers a request
//! without valid credentials (never as public); extensions the gateway does
//! not enforce are named at startup. The gateway process in front of a real
//! backend in its own process.

mod support;

use std::time::Duration;

use support::backend::Backend;
use support::loopback::{request, Reply};
use support::process::{self, Gateway};
use tower_cognito::testing::TestIssuer;

const FIXTURE: &str = "gateway/tests/fixtures/unsupported-auth.json";
const POOL: &str = "us-east-1_Unsup1";

async fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    request(http::Method::GET, url, headers, "").await
}

fn assert_answer(reply: &Reply, status: u16, error_type: &str, body: &str, what: &str) {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.body);
    assert_eq!(reply.headers["x-amzn-errortype"], error_type, "{what}");
    assert_eq!(reply.body, body, "{what}");
}

#[test]
fn startup_stops_naming_the_flag() {
    let mut command = process::command();
    command.args([
        "--openapi",
        FIXTURE,
        "--stage-variable",
        "backendHost=127.0.0.1:9",
        "--listen",
        "127.0.0.1:0",
    ]);
    let out = process::run(command, None, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--refuse-unsupported-auth"), "{stderr}");
    assert!(!stderr.contains("skip_unsupported_authorizers"), "{stderr}");
    for route in [
        "GET /iam ",
        "GET /iam-auth ",
        "GET /keyed ",
        "GET /keyed-pool ",
        "GET /lambda ",
    ] {
        assert!(
            stderr.contains(&format!("operation {route}")),
            "{route}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchecked_methods_are_refused_as_aws_refuses_missing_credentials() {
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let host = format!("backendHost={}", backend.host());
    let jwks = keys.base_url().to_owned();
    let gateway = tokio::task::spawn_blocking(move || {
        Gateway::start_with(
            &[("GATEWAY_REFUSE_UNSUPPORTED_AUTH", "true")],
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
    let startup = gateway.startup_text();
    for line in [
        "route GET /iam: IAM authorization, not checked: refused (403)",
        "route GET /keyed: an API key, not checked: refused (403 Forbidden)",
        "route GET /lambda: a Lambda authorizer, not run: refused (401)",
        "warning: x-amazon-apigateway-policy: not enforced: the resource policy is not evaluated",
        "warning: x-amazon-apigateway-api-key-source: not enforced",
        "warning: x-amazon-apigateway-endpoint-configuration: not enforced",
        "warning: x-amazon-apigateway-integration.credentials: not enforced: calls are not signed with the role (#/paths/~1open/get/x-amazon-apigateway-integration)",
        "warning: x-amazon-apigateway-integration.cacheNamespace: not enforced",
    ] {
        assert!(startup.contains(line), "{line}:\n{startup}");
    }

    const MISSING: &str = r#"{"message":"Missing Authentication Token"}"#;
    for path in ["/iam", "/iam-auth"] {
        let reply = get(&gateway.url(path), &[]).await;
        assert_answer(
            &reply,
            403,
            "MissingAuthenticationTokenException",
            MISSING,
            path,
        );
        let signed = get(
            &gateway.url(path),
            &[("authorization", "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261206/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0f")],
        )
        .await;
        assert_answer(
            &signed,
            403,
            "UnrecognizedClientException",
            r#"{"message":"The security token included in the request is invalid."}"#,
            path,
        );
    }
    let token = format!("Bearer {}", issuer.id_token().sign());
    for path in ["/keyed", "/keyed-pool"] {
        for headers in [
            vec![],
            vec![("x-api-key", "some-key")],
            vec![("x-api-key", "k"), ("authorization", token.as_str())],
        ] {
            let reply = get(&gateway.url(path), &headers).await;
            assert_answer(
                &reply,
                403,
                "ForbiddenException",
                r#"{"message":"Forbidden"}"#,
                path,
            );
        }
    }
    for headers in [vec![], vec![("authorization", "allow")]] {
        let reply = get(&gateway.url("/lambda"), &headers).await;
        assert_answer(
            &reply,
            401,
            "UnauthorizedException",
            r#"{"message":"Unauthorized"}"#,
            "lambda",
        );
    }
    // The Cognito and public methods beside them are served as ever.
    let reply = get(&gateway.url("/pool"), &[]).await;
    assert_eq!(reply.status.as_u16(), 401);
    let reply = get(&gateway.url("/pool"), &[("authorization", &token)]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    let reply = get(&gateway.url("/open"), &[]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    drop(backend);
    drop(keys);
}
