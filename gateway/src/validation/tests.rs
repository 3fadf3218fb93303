use super::*;
use serde_json::json;

fn export(validators: Value, operation: Value) -> Value {
    json!({
        "openapi": "3.0.1",
        "x-amazon-apigateway-request-validators": validators,
        "paths": {"/orders/{id}": {
            "parameters": [{"name": "x-path-level", "in": "header", "required": true}],
            "post": operation
        }},
        "components": {"schemas": {
            "Order": {"type": "object", "required": ["item", "count"],
                      "properties": {"item": {"type": "string", "pattern": "^[a-z]+$"},
                                     "count": {"type": "integer", "minimum": 1},
                                     "status": {"$ref": "https://apigateway.amazonaws.com/restapis/abc123/models/Status"}}},
            "Status": {"type": "string", "enum": ["new", "done"]}
        }}
    })
}

const POINTER: &str = "/paths/~1orders~1{id}/post";
const TEMPLATE: &str = "/orders/{id}";

fn validator(doc: &Value) -> Option<RequestValidator> {
    RequestValidator::for_operation(&mut Models::new(doc), POINTER, TEMPLATE).unwrap()
}

fn all() -> Value {
    json!({"all": {"validateRequestBody": true, "validateRequestParameters": true},
           "params": {"validateRequestParameters": true},
           "body": {"validateRequestBody": true},
           "none": {}})
}

#[test]
fn missing_parameters_are_named_in_aws_order() {
    // LocalStack's test_api_gateway_request_validator, recorded against AWS:
    // `[x-header-param, issuer, qs1]`: sorted by the full key.
    let doc = export(
        all(),
        json!({
            "x-amazon-apigateway-request-validator": "params",
            "parameters": [
                {"name": "qs1", "in": "query", "required": true},
                {"name": "issuer", "in": "path", "required": true},
                {"name": "x-header-param", "in": "header", "required": true},
                {"name": "optional", "in": "query", "required": false},
                {"name": "x-path-level", "in": "header", "required": false}
            ]
        }),
    );
    let v = validator(&doc).unwrap();
    assert_eq!(
        v.check_parameters(&HeaderMap::new(), None),
        Err(Invalid::Parameters(vec![
            "x-header-param".into(),
            "issuer".into(),
            "qs1".into()
        ]))
    );
    assert_eq!(
        Invalid::Parameters(vec!["x-header-param".into(), "issuer".into(), "qs1".into()]).message(),
        "Missing required request parameters: [x-header-param, issuer, qs1]"
    );
    let mut headers = HeaderMap::new();
    headers.insert("X-Header-Param", HeaderValue::from_static("1"));
    assert_eq!(
        v.check_parameters(&headers, Some("qs1=a")),
        Err(Invalid::Parameters(vec!["issuer".into()])),
        "issuer is no path parameter of /orders/{{id}}: always missing"
    );
    // Blank values are missing; names are case-sensitive and decoded.
    headers.insert("x-header-param", HeaderValue::from_static(" "));
    assert_eq!(
        v.check_parameters(&headers, Some("QS1=a&qs1=&%71s1=%20")),
        Err(Invalid::Parameters(vec![
            "x-header-param".into(),
            "issuer".into(),
            "qs1".into()
        ]))
    );
}

#[test]
fn path_level_parameters_apply_and_the_operation_overrides_them() {
    let doc = export(
        all(),
        json!({"x-amazon-apigateway-request-validator": "params",
               "parameters": [{"name": "id", "in": "path", "required": true}]}),
    );
    let v = validator(&doc).unwrap();
    assert_eq!(
        v.check_parameters(&HeaderMap::new(), None),
        Err(Invalid::Parameters(vec!["x-path-level".into()])),
        "{{id}} is in the template; the path item's header is required"
    );
}

#[test]
fn bodies_follow_their_model_and_an_empty_body_is_an_empty_object() {
    let doc = export(
        all(),
        json!({"x-amazon-apigateway-request-validator": "body",
               "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}}),
    );
    let v = validator(&doc).unwrap();
    assert!(v.checks_body());
    assert_eq!(v.check_parameters(&HeaderMap::new(), None), Ok(()));
    assert!(v
        .check_body(None, br#"{"item": "tea", "count": 2}"#)
        .is_ok());
    assert!(v
        .check_body(None, br#"{"item": "tea", "count": 2, "status": "done"}"#)
        .is_ok());
    for bad in [
        &br#"{"item": "tea"}"#[..],
        br#"{"item": "TEA", "count": 2}"#,
        br#"{"item": "tea", "count": 0}"#,
        br#"{"item": "tea", "count": 2, "status": "lost"}"#,
        b"",
        b"not json",
        b"[1, 2]",
    ] {
        let err = v.check_body(None, bad).unwrap_err();
        assert_eq!(err.message(), "Invalid request body");
        assert!(err.validation_error_string().starts_with('['), "{err:?}");
    }
    // Another type falls back to the JSON model: no way around the schema.
    let text = HeaderValue::from_static("text/plain; charset=utf-8");
    assert!(v.check_body(Some(&text), br#"{"item": "tea"}"#).is_err());
}

#[test]
fn openapi_2_body_parameters_and_definitions() {
    let doc = json!({
        "swagger": "2.0",
        "x-amazon-apigateway-request-validators": {"b": {"validateRequestBody": true}},
        "x-amazon-apigateway-request-validator": "b",
        "paths": {"/orders/{id}": {"post": {
            "consumes": ["application/json"],
            "parameters": [{"in": "body", "name": "Order", "required": true,
                            "schema": {"$ref": "#/definitions/Order"}}]
        }}},
        "definitions": {"Order": {"type": "object", "required": ["item"]}}
    });
    let v = validator(&doc).unwrap();
    assert!(v.check_body(None, br#"{"item": 1}"#).is_ok());
    assert!(v.check_body(None, b"{}").is_err());
}

#[test]
fn no_validator_or_nothing_to_validate_is_none() {
    let op =
        json!({"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}});
    assert!(
        validator(&export(all(), op.clone())).is_none(),
        "no validator named"
    );
    let mut named = op.clone();
    named["x-amazon-apigateway-request-validator"] = json!("none");
    assert!(
        validator(&export(all(), named)).is_none(),
        "validates nothing"
    );
    let mut params_only = op;
    params_only["x-amazon-apigateway-request-validator"] = json!("params");
    let doc = export(all(), params_only);
    let v = validator(&doc).expect("the path item's required header");
    assert!(!v.checks_body());
}

#[test]
fn configuration_errors_name_what_is_wrong() {
    let unknown = export(
        all(),
        json!({"x-amazon-apigateway-request-validator": "nope"}),
    );
    let err =
        RequestValidator::for_operation(&mut Models::new(&unknown), POINTER, TEMPLATE).unwrap_err();
    assert!(err.contains("\"nope\""), "{err}");
    // Lookaround is Java's, not the linear engine's: refused, never slow.
    let lookaround = export(
        all(),
        json!({"x-amazon-apigateway-request-validator": "body",
               "requestBody": {"content": {"application/json": {"schema":
                   {"type": "string", "pattern": "^(?=a)a+$"}}}}}),
    );
    let err = RequestValidator::for_operation(&mut Models::new(&lookaround), POINTER, TEMPLATE)
        .unwrap_err();
    assert!(err.contains("does not compile"), "{err}");
    let dangling = export(
        all(),
        json!({"x-amazon-apigateway-request-validator": "body",
               "requestBody": {"$ref": "#/components/requestBodies/Missing"}}),
    );
    let err = RequestValidator::for_operation(&mut Models::new(&dangling), POINTER, TEMPLATE)
        .unwrap_err();
    assert!(err.contains("leads nowhere"), "{err}");
}

#[test]
fn one_schema_compiles_once() {
    let doc = export(all(), json!({}));
    let mut models = Models::new(&doc);
    let schema = json!({"$ref": "#/components/schemas/Order"});
    let a = models.compile(&schema).unwrap();
    let b = models.compile(&schema).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a.value, &b.value));
    assert!(std::sync::Arc::ptr_eq(&a.tape, &b.tape));
}
