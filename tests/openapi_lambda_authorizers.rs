//! OpenAPI import of Lambda authorizers (`token`, `request`) beside Cognito
//! ones in one export, and a layer built from what was imported.

use serde_json::{json, Value};
use tower_cognito::custom_authorizer::AuthorizerType;
use tower_cognito::openapi::{ImportOptions, OpenApiImport};

const URI: &str = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}/invocations";

fn export(token_ext: Value) -> String {
    json!({
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/cognito": {"get": {"security": [{"pool": []}]}},
            "/token": {"get": {"security": [{"tok": []}]}},
            "/request": {"post": {"security": [{"req": []}]}},
            "/open": {"get": {}}
        },
        "components": {"securitySchemes": {
            "pool": {"type": "apiKey", "name": "Authorization", "in": "header",
                     "x-amazon-apigateway-authtype": "cognito_user_pools",
                     "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                        "providerARNs": ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123"]}},
            "tok": {"type": "apiKey", "name": "X-Token", "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": token_ext},
            "req": {"type": "apiKey", "name": "Unused", "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {"type": "request", "authorizerUri": URI,
                        "identitySource": "method.request.header.X-Key, method.request.querystring.k",
                        "authorizerResultTtlInSeconds": 0}}
        }}
    })
    .to_string()
}

fn import(token_ext: Value) -> Result<OpenApiImport, String> {
    let options = ImportOptions::new()
        .skip_unsupported_authorizers(true)
        .stage_variable("fn", "auth-fn");
    OpenApiImport::parse(&export(token_ext), &options).map_err(|e| e.to_string())
}

#[test]
fn token_and_request_beside_cognito() {
    let import = import(json!({"type": "token", "authorizerUri": URI,
        "authorizerCredentials": "arn:aws:iam::123456789012:role/r",
        "identityValidationExpression": "^Bearer .+$"}))
    .unwrap();
    assert_eq!(import.authorizers.len(), 1);
    let [req, tok] = import.lambda_authorizers.as_slice() else {
        panic!("{import:?}")
    };
    assert_eq!(
        (tok.name.as_str(), tok.kind),
        ("tok", AuthorizerType::Token)
    );
    assert_eq!(
        tok.function,
        "arn:aws:lambda:us-east-1:123456789012:function:auth-fn"
    );
    // No identitySource: the scheme's header; no TTL: 300.
    assert_eq!(tok.identity_source, "method.request.header.X-Token");
    assert_eq!(tok.result_ttl_seconds, 300);
    assert_eq!(
        tok.identity_validation_expression.as_deref(),
        Some("^Bearer .+$")
    );
    assert_eq!(
        (req.kind, req.result_ttl_seconds),
        (AuthorizerType::Request, 0)
    );
    assert!(import.warnings.iter().any(
        |w| w.pointer().ends_with("/authorizerCredentials") && w.message().contains("ignored")
    ));
    // Their methods stay skipped (refused by the Cognito layer), named by scheme.
    let skipped: Vec<_> = import
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.scheme.as_str()))
        .collect();
    assert_eq!(skipped, [("/request", "req"), ("/token", "tok")]);
    assert_eq!(import.routes.len(), 2);
}

#[test]
fn bad_lambda_authorizers_are_refused() {
    for (ext, why) in [
        (json!({"type": "token"}), "authorizerUri"),
        (
            json!({"type": "token", "authorizerUri": "https://example.com/x"}),
            "invocation URI",
        ),
        (
            json!({"type": "token", "authorizerUri": URI, "authorizerResultTtlInSeconds": 3601}),
            "3600",
        ),
        (
            json!({"type": "token", "authorizerUri": URI, "authorizerResultTtlInSeconds": "5"}),
            "number",
        ),
        (
            json!({"type": "token", "authorizerUri": URI, "identitySource": "method.request.querystring.t"}),
            "TOKEN",
        ),
        (
            json!({"type": "token", "authorizerUri": URI, "identitySource": "method.request.path.p"}),
            "not supported",
        ),
        (
            json!({"type": "token", "authorizerUri": URI, "identityValidationExpression": "("}),
            "identityValidationExpression",
        ),
    ] {
        let err = import(ext.clone()).unwrap_err();
        assert!(err.contains(why), "{ext}: {err}");
    }
}

#[tokio::test]
async fn a_layer_from_the_import_runs_the_authorizer() {
    use tower::ServiceExt;
    let import = import(json!({"type": "token", "authorizerUri": URI,
        "identityValidationExpression": "^Bearer .+$"}))
    .unwrap();
    let tok = import
        .lambda_authorizers
        .iter()
        .find(|a| a.name == "tok")
        .unwrap();
    let layer = tok
        .layer(|event: Value| async move {
            Ok(json!({"principalId": event["authorizationToken"],
                "policyDocument": {"Statement": {"Effect": "Allow", "Action": "execute-api:*", "Resource": "*"}}}))
        })
        .build()
        .unwrap();
    let svc =
        tower::ServiceBuilder::new()
            .layer(layer)
            .service_fn(|req: http::Request<()>| async move {
                let out = req
                    .extensions()
                    .get::<tower_cognito::custom_authorizer::AuthorizerOutput>()
                    .unwrap();
                Ok::<_, std::convert::Infallible>(http::Response::new(
                    out.principal_id().to_owned(),
                ))
            });
    let req = |t: &str| {
        http::Request::get("/token")
            .header("x-token", t)
            .body(())
            .unwrap()
    };
    let res = svc.clone().oneshot(req("Bearer abc")).await.unwrap();
    assert_eq!(res.status(), 200);
    let res = svc.oneshot(req("abc")).await.unwrap();
    assert_eq!(res.status(), 401);
}
