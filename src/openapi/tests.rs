use super::*;
use crate::route_table::{MethodMatch, RouteTable};

const ARN: &str = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123";

/// A minimal OpenAPI 3 document with scheme `Pool` and the given paths.
fn doc(paths: Value) -> String {
    doc_with_scheme(cognito(ARN), paths)
}

fn doc_with_scheme(scheme: Value, paths: Value) -> String {
    serde_json::json!({
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "components": {"securitySchemes": {"Pool": scheme}},
        "paths": paths,
    })
    .to_string()
}

fn cognito(arn: &str) -> Value {
    serde_json::json!({
        "type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [arn]},
    })
}

fn parse(text: &str) -> Result<OpenApiImport, ImportError> {
    OpenApiImport::parse(text, &ImportOptions::new())
}

fn ok(text: &str) -> OpenApiImport {
    parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> ImportError {
    parse(text).expect_err("must fail")
}

#[test]
fn pointer_escaping() {
    assert_eq!(child("", "paths"), "/paths");
    assert_eq!(child("/paths", "/pets/{id}"), "/paths/~1pets~1{id}");
    assert_eq!(child("/paths", "/a~b/~1"), "/paths/~1a~0b~1~01");
    assert_eq!(child("/x", ""), "/x/");
}

#[test]
fn stage_variables() {
    let vars: HashMap<String, String> = [("a", "1"), ("b", "${stageVariables.a}")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let sub = |s| substitute_stage_variables(s, &vars, "/p");
    assert_eq!(
        sub("x${stageVariables.a}y${stageVariables.a}").as_deref(),
        Ok("x1y1")
    );
    // Substituted values are not expanded again.
    assert_eq!(
        sub("${stageVariables.b}").as_deref(),
        Ok("${stageVariables.a}")
    );
    assert_eq!(sub("no variables").as_deref(), Ok("no variables"));
    let e = sub("${stageVariables.missing}").expect_err("missing");
    assert_eq!(e.pointer(), "/p");
    assert!(e.message().contains("`missing`"));
    assert!(sub("${stageVariables.a").is_err());
    assert!(sub("${stageVariables.}").is_err());
    assert!(sub("${stageVariables.a-b}").is_err());
}

#[test]
fn user_pool_arns() {
    for good in [
        ARN,
        "arn:aws-us-gov:cognito-idp:us-gov-west-1:123456789012:userpool/us-gov-west-1_abc",
        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/local_abcd1234",
    ] {
        assert!(check_user_pool_arn(good, "").is_ok(), "{good}");
    }
    for bad in [
        "",
        "us-east-1_AbCdEf123",
        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/",
        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/a/b",
        "arn:aws:cognito-identity:us-east-1:123456789012:userpool/x",
        "arn:aws:cognito-idp::123456789012:userpool/x",
        "arn:aws:cognito-idp:us-east-1:123456789012",
    ] {
        assert!(check_user_pool_arn(bad, "").is_err(), "{bad}");
    }
}

#[test]
fn security_variants() {
    let op = |security: Value| serde_json::json!({"/p": {"get": {"security": security}}});
    let auth_of = |security: Value| ok(&doc(op(security))).routes[0].auth.clone();
    assert_eq!(auth_of(serde_json::json!([])), RouteAuth::Public);
    assert_eq!(
        auth_of(serde_json::json!([{"Pool": []}])),
        RouteAuth::Authorizer {
            name: "Pool".into(),
            scopes: vec![]
        }
    );
    // Duplicate scopes collapse, order is kept.
    assert_eq!(
        auth_of(serde_json::json!([{"Pool": ["b/x", "a/y", "b/x"]}])),
        RouteAuth::Authorizer {
            name: "Pool".into(),
            scopes: vec!["b/x".into(), "a/y".into()]
        }
    );
    // `[{}]`: anonymous, public with a warning.
    let import = ok(&doc(op(serde_json::json!([{}]))));
    assert_eq!(import.routes[0].auth, RouteAuth::Public);
    assert_eq!(import.warnings[0].pointer(), "/paths/~1p/get/security/0");
    for bad_scope in [
        serde_json::json!(""),
        serde_json::json!("a b"),
        serde_json::json!(1),
    ] {
        let e = err(&doc(op(serde_json::json!([{"Pool": ["ok/x", bad_scope]}]))));
        assert_eq!(e.pointer(), "/paths/~1p/get/security/0/Pool/1");
    }
    let e = err(&doc(op(serde_json::json!(null))));
    assert_eq!(e.pointer(), "/paths/~1p/get/security");
    let e = err(&doc(op(serde_json::json!(["Pool"]))));
    assert_eq!(e.pointer(), "/paths/~1p/get/security/0");
}

#[test]
fn methods_and_ignored_keys() {
    let paths = serde_json::json!({"/p": {
        "get": {}, "put": {}, "post": {}, "delete": {}, "options": {}, "head": {}, "patch": {},
        "x-amazon-apigateway-any-method": {},
        "parameters": [], "summary": "s", "description": "d", "servers": [], "x-other": 1,
        "trace": {}, "GET": {},
    }});
    let import = ok(&doc(paths));
    let methods: Vec<String> = import
        .routes
        .iter()
        .map(|r| r.method.as_ref().map_or("ANY", Method::as_str).to_owned())
        .collect();
    assert_eq!(
        methods,
        ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "ANY"]
    );
    let warned: Vec<&str> = import.warnings.iter().map(ImportWarning::pointer).collect();
    assert_eq!(warned.len(), 2);
    assert!(warned.contains(&"/paths/~1p/trace"));
    assert!(warned.contains(&"/paths/~1p/GET"));
}

#[test]
fn root_security_warning_only_when_non_empty() {
    let mut v: Value = serde_json::from_str(&doc(serde_json::json!({}))).expect("json");
    v["security"] = serde_json::json!([]);
    assert!(ok(&v.to_string()).warnings.is_empty());
    v["security"] = serde_json::json!([{"Pool": []}]);
    let import = ok(&v.to_string());
    assert_eq!(import.warnings.len(), 1);
    assert_eq!(import.warnings[0].pointer(), "/security");
}

#[test]
fn missing_paths_is_a_warning() {
    let text = r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}}"#;
    let import = ok(text);
    assert!(import.routes.is_empty());
    assert_eq!(import.warnings[0].pointer(), "");
    assert_eq!(
        err(r#"{"openapi": "3.0.0", "paths": []}"#).pointer(),
        "/paths"
    );
}

#[test]
fn versions() {
    assert_eq!(
        err(r#"{"openapi": "2.0", "paths": {}}"#).pointer(),
        "/openapi"
    );
    assert_eq!(
        err(r#"{"openapi": "4.0.0", "paths": {}}"#).pointer(),
        "/openapi"
    );
    assert_eq!(
        err(r#"{"swagger": "3.0", "paths": {}}"#).pointer(),
        "/swagger"
    );
    assert_eq!(
        err(r#"{"swagger": "2.0", "openapi": "3.0.0"}"#).pointer(),
        ""
    );
    // Unquoted YAML `2.0` is a number.
    let e = err("swagger: 2.0\npaths: {}\n");
    assert_eq!(e.pointer(), "/swagger");
    assert!(e.message().contains("quote"));
}

#[test]
fn schemes_of_the_other_version_are_ignored_with_a_warning() {
    let text = serde_json::json!({
        "openapi": "3.0.1",
        "securityDefinitions": {"Pool": cognito(ARN)},
        "paths": {"/p": {"get": {"security": [{"Pool": []}]}}},
    })
    .to_string();
    assert_eq!(err(&text).pointer(), "/paths/~1p/get/security/0");
    let text = serde_json::json!({
        "swagger": "2.0",
        "securityDefinitions": {"Pool": cognito(ARN)},
        "components": {},
        "paths": {},
    })
    .to_string();
    let import = ok(&text);
    assert_eq!(import.authorizers.len(), 1);
    assert_eq!(import.warnings[0].pointer(), "/components");
}

#[test]
fn scheme_validation() {
    let paths = serde_json::json!({});
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut s = cognito(ARN);
        edit(&mut s);
        parse(&doc_with_scheme(s, paths.clone()))
    };
    let base = "/components/securitySchemes/Pool";
    let ext = "/components/securitySchemes/Pool/x-amazon-apigateway-authorizer";

    // Type spelled as the API Gateway API spells it.
    let a = with(&|s| s["x-amazon-apigateway-authorizer"]["type"] = "COGNITO_USER_POOLS".into());
    assert_eq!(a.map(|i| i.authorizers.len()), Ok(1));
    let e = |edit: &dyn Fn(&mut Value)| with(edit).expect_err("must fail").pointer().to_owned();
    assert_eq!(e(&|s| s["type"] = "oauth2".into()), format!("{base}/type"));
    assert_eq!(
        e(&|s| s["name"] = "Bad Header".into()),
        format!("{base}/name")
    );
    assert_eq!(e(&|s| s["name"] = "".into()), format!("{base}/name"));
    assert_eq!(
        e(&|s| s["x-amazon-apigateway-authorizer"] = "x".into()),
        ext
    );
    assert_eq!(
        e(&|s| s["x-amazon-apigateway-authorizer"]["providerARNs"] = ARN.into()),
        format!("{ext}/providerARNs")
    );
    assert_eq!(
        e(&|s| s["x-amazon-apigateway-authorizer"]["providerARNs"] = serde_json::json!([ARN, 7])),
        format!("{ext}/providerARNs/1")
    );
    assert_eq!(
        e(&|s| {
            s["x-amazon-apigateway-authorizer"]["providerARNs"] =
                vec![ARN; MAX_PROVIDER_ARNS + 1].into();
        }),
        format!("{ext}/providerARNs")
    );
    assert_eq!(
        e(&|s| {
            if let Some(o) = s["x-amazon-apigateway-authorizer"].as_object_mut() {
                o.remove("providerARNs");
            }
        }),
        ext
    );
    assert_eq!(
        e(&|s| s["x-amazon-apigateway-authorizer"]["identityValidationExpression"] = 1.into()),
        format!("{ext}/identityValidationExpression")
    );
    assert_eq!(e(&|s| s["$ref"] = "#/x".into()), format!("{base}/$ref"));
    // authtype says Cognito, but the pools are missing.
    assert_eq!(
        e(&|s| {
            s["x-amazon-apigateway-authtype"] = "cognito_user_pools".into();
            if let Some(o) = s.as_object_mut() {
                o.remove("x-amazon-apigateway-authorizer");
            }
        }),
        base
    );
    // Empty expression means unset.
    let a =
        with(&|s| s["x-amazon-apigateway-authorizer"]["identityValidationExpression"] = "".into())
            .expect("import");
    assert_eq!(a.authorizers[0].identity_validation_expression, None);
    let a = with(&|s| s["x-amazon-apigateway-authorizer"]["identitySource"] = "x".into())
        .expect("import");
    assert_eq!(a.warnings[0].pointer(), format!("{ext}/identitySource"));
}

#[test]
fn plain_api_key_scheme_is_unsupported() {
    let scheme = serde_json::json!({"type": "apiKey", "name": "x-api-key", "in": "header"});
    let paths = serde_json::json!({"/p": {"get": {"security": [{"Pool": []}]}}});
    let e = err(&doc_with_scheme(scheme.clone(), paths.clone()));
    assert_eq!(e.pointer(), "/paths/~1p/get/security/0");
    assert!(e.message().contains("plain `apiKey` scheme"), "{e}");
    let options = ImportOptions::new().skip_unsupported_authorizers(true);
    let import = OpenApiImport::parse(&doc_with_scheme(scheme, paths), &options).expect("skip");
    assert!(import.routes.is_empty());
    assert_eq!(import.skipped.len(), 1);
}

#[test]
fn skipped_method_shadowed_by_public_any_method_is_flagged() {
    let text = serde_json::json!({
        "openapi": "3.0.1",
        "components": {"securitySchemes": {"Iam": {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }}},
        "paths": {"/p": {
            "get": {"security": [{"Iam": []}]},
            "x-amazon-apigateway-any-method": {},
        }},
    })
    .to_string();
    let options = ImportOptions::new().skip_unsupported_authorizers(true);
    let import = OpenApiImport::parse(&text, &options).expect("import");
    assert_eq!(import.routes.len(), 1);
    assert_eq!(import.skipped.len(), 1);
    assert_eq!(import.warnings.len(), 2);
    assert!(import.warnings[1].message().contains("public"));
}

#[test]
fn paths_and_items() {
    let e = err(&doc(serde_json::json!({"pets": {}})));
    assert_eq!(e.pointer(), "/paths/pets");
    let e = err(&doc(serde_json::json!({"/a/{b}c": {}})));
    assert_eq!(e.pointer(), "/paths/~1a~1{b}c");
    let e = err(&doc(serde_json::json!({"/a": []})));
    assert_eq!(e.pointer(), "/paths/~1a");
    let e = err(&doc(serde_json::json!({"/a": {"$ref": "#/x"}})));
    assert_eq!(e.pointer(), "/paths/~1a/$ref");
}

#[test]
fn loading() {
    let json = doc(serde_json::json!({"/p": {"get": {"security": [{"Pool": []}]}}}));
    let expected = ok(&json);
    // BOM, leading whitespace.
    assert_eq!(ok(&format!("\u{feff}  \n{json}")), expected);
    // JSON is YAML too (not starting with `{` here).
    assert_eq!(ok(&format!("# comment\n{json}")), expected);
    // A text starting with `{` is JSON only: a YAML flow mapping is refused
    // (no second parse as YAML), and is read as YAML after `---`.
    let flow = "{openapi: 3.0.1, paths: {/p: {get: {}}}}";
    let e = err(flow);
    assert!(e.message().starts_with("invalid JSON"), "{e}");
    assert!(e.message().contains("`---`"), "{e}");
    assert_eq!(ok(&format!("--- {flow}")).routes.len(), 1);
    let e = err("{\"openapi\": ");
    assert_eq!(e.pointer(), "");
    assert!(e.message().starts_with("invalid JSON"), "{e}");
    let e = err("openapi: [\n");
    assert!(e.message().starts_with("invalid YAML"), "{e}");
    assert!(err("").message().contains("expected an object"));
    assert!(err("--- a\n--- b\n").message().starts_with("invalid YAML"));
    assert!(err("[1, 2]").message().contains("an array"));
}

#[test]
fn yaml_alias_bomb_is_refused() {
    // Exponential alias expansion must fail, not exhaust memory.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    assert!(err(&text).message().starts_with("invalid YAML"));
}

#[test]
fn realistic_export_fits_in_a_route_table() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/openapi/realistic-export.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let import = ok(&text);
    let mut builder = RouteTable::builder();
    for r in &import.routes {
        let method = r
            .method
            .clone()
            .map_or(MethodMatch::Any, MethodMatch::Exact);
        builder
            .insert(method, &r.path, r.auth.clone())
            .expect("insert");
    }
    let table = builder.build();
    let find = |m: Method, p: &str| {
        table
            .lookup(&m, p)
            .map(|m| (m.template, m.method, m.value.clone()))
    };
    assert_eq!(
        find(Method::DELETE, "/pets/42"),
        Some((
            "/pets/{petId}",
            "DELETE",
            RouteAuth::Authorizer {
                name: "StaffPool".into(),
                scopes: vec!["https://api.example.com/pets.admin".into()],
            }
        ))
    );
    assert_eq!(
        find(Method::GET, "/health/"),
        Some(("/health", "GET", RouteAuth::Public))
    );
    assert_eq!(
        find(Method::POST, "/admin/users/7").map(|m| (m.0, m.1)),
        Some(("/admin/{proxy+}", "ANY"))
    );
    assert_eq!(find(Method::GET, "/admin"), None);
    assert_eq!(find(Method::POST, "/health"), None);
}
