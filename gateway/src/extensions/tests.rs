use super::*;
use serde_json::json;

/// AWS's developer guide, "API Gateway extensions to OpenAPI" (its topics,
/// top-level names; sub-objects such as `integration.requestTemplates` are
/// keys of the integration, checked below).
const AWS_EXTENSIONS: &[&str] = &[
    "x-amazon-apigateway-any-method",
    "x-amazon-apigateway-cors",
    "x-amazon-apigateway-api-key-source",
    "x-amazon-apigateway-auth",
    "x-amazon-apigateway-authorizer",
    "x-amazon-apigateway-authtype",
    "x-amazon-apigateway-binary-media-types",
    "x-amazon-apigateway-documentation",
    "x-amazon-apigateway-endpoint-access-mode",
    "x-amazon-apigateway-endpoint-configuration",
    "x-amazon-apigateway-gateway-responses",
    "x-amazon-apigateway-importexport-version",
    "x-amazon-apigateway-integration",
    "x-amazon-apigateway-integrations",
    "x-amazon-apigateway-minimum-compression-size",
    "x-amazon-apigateway-policy",
    "x-amazon-apigateway-request-validator",
    "x-amazon-apigateway-request-validators",
    "x-amazon-apigateway-security-policy",
    "x-amazon-apigateway-tag-value",
];

/// The integration object's documented keys (its page and those of
/// `integration.requestTemplates`, `.requestParameters`, `.responses`,
/// `.tlsConfig`).
const AWS_INTEGRATION_KEYS: &[&str] = &[
    "cacheKeyParameters",
    "cacheNamespace",
    "connectionId",
    "connectionType",
    "credentials",
    "contentHandling",
    "httpMethod",
    "integrationSubtype",
    "passthroughBehavior",
    "payloadFormatVersion",
    "requestParameters",
    "requestTemplates",
    "responses",
    "timeoutInMillis",
    "type",
    "uri",
    "tlsConfig",
];

#[test]
fn every_aws_extension_is_enforced_or_listed() {
    for name in AWS_EXTENSIONS {
        assert!(
            EXTENSIONS.iter().any(|(n, _)| n == name),
            "{name} is neither enforced nor listed with what the gateway does instead"
        );
    }
    for name in AWS_INTEGRATION_KEYS {
        assert!(
            INTEGRATION_KEYS.iter().any(|(n, _)| n == name),
            "x-amazon-apigateway-integration.{name} is neither enforced nor listed"
        );
    }
}

#[test]
fn unenforced_extensions_are_named_once_with_where() {
    let doc = json!({
        "x-amazon-apigateway-policy": {"Version": "2012-10-17"},
        "x-amazon-apigateway-binary-media-types": ["image/png"],
        "x-amazon-apigateway-made-up": 1,
        "paths": {
            "/a": {"get": {"x-amazon-apigateway-integration": {"type": "mock", "credentials": "arn:x", "cacheNamespace": "n"}}},
            "/b": {"get": {"x-amazon-apigateway-integration": {"type": "mock", "credentials": "arn:y"}}}
        }
    });
    let notices = notices(&doc);
    let text = notices.join("\n");
    assert!(
        text.contains(
            "x-amazon-apigateway-policy: not enforced: the resource policy is not evaluated"
        ),
        "{text}"
    );
    assert!(
        text.contains("x-amazon-apigateway-made-up: unknown extension, not enforced"),
        "{text}"
    );
    assert!(
        text.contains("x-amazon-apigateway-integration.credentials: not enforced: calls are not signed with the role (#/paths/~1a/get/x-amazon-apigateway-integration and 1 more)"),
        "{text}"
    );
    assert!(!text.contains("binary-media-types"), "enforced: {text}");
    assert_eq!(notices.len(), 4, "{text}");
}

#[test]
fn protected_methods_are_classified_and_answered_as_aws() {
    use crate::answers::Answer;
    let doc = json!({
        "components": {"securitySchemes": {
            "sigv4": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"},
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
            "tok": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": "arn:x"}},
            "req": {"type": "apiKey", "name": "Unused", "in": "header",
                    "x-amazon-apigateway-authorizer": {"type": "request"}},
            "basic": {"type": "http", "scheme": "basic"}
        }},
        "paths": {"/iam": {"get": {"x-amazon-apigateway-auth": {"type": "AWS_IAM"}}},
                  "/custom": {"get": {"x-amazon-apigateway-auth": {"type": "CUSTOM"}}}}
    });
    let op = "/paths/~1iam/get";
    assert_eq!(Refusal::classify(&doc, op, "sigv4"), Refusal::Iam);
    assert_eq!(Refusal::classify(&doc, op, ""), Refusal::Iam);
    assert_eq!(
        Refusal::classify(&doc, "/paths/~1custom/get", ""),
        Refusal::Lambda
    );
    assert_eq!(Refusal::classify(&doc, op, "api_key"), Refusal::ApiKey);
    assert_eq!(Refusal::classify(&doc, op, "tok"), Refusal::Lambda);
    assert_eq!(Refusal::classify(&doc, op, "req"), Refusal::Lambda);
    assert_eq!(Refusal::classify(&doc, op, "basic"), Refusal::Other);
    assert_eq!(Refusal::classify(&doc, op, "undefined"), Refusal::Other);

    let none = HeaderMap::new();
    assert_eq!(
        Refusal::Iam.answer(&none, None),
        Answer::MissingAuthenticationToken
    );
    let mut signed = HeaderMap::new();
    signed.insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKIA/20261206/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00"),
    );
    assert_eq!(Refusal::Iam.answer(&signed, None), Answer::InvalidSignature);
    assert_eq!(
        Refusal::Iam.answer(&none, Some("a=1&X-Amz-Signature=00")),
        Answer::InvalidSignature
    );
    let mut key = HeaderMap::new();
    key.insert("x-api-key", http::HeaderValue::from_static("k"));
    assert_eq!(Refusal::ApiKey.answer(&key, None), Answer::InvalidApiKey);
    assert_eq!(Refusal::Lambda.answer(&signed, None), Answer::Unauthorized);
}
