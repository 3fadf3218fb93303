//! Imports the fixtures in `tests/fixtures/openapi` (see its README.md).

use std::path::PathBuf;

use http::Method;
use tower_cognito::openapi::{ImportError, ImportOptions, OpenApiImport, RouteAuth};

const POOL1: &str = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123";
const POOL2: &str = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_StAfF4567";
const POOL3: &str = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_XyZ987654";
const CATS_READ: &str = "https://my-petstore-api.example.com/cats.read";
const FILE_READ: &str = "http://my.resource.com/file.read";

fn fixture(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "openapi",
        name,
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn import_with(name: &str, options: &ImportOptions) -> Result<OpenApiImport, ImportError> {
    OpenApiImport::parse(&fixture(name), options)
}

fn import(name: &str) -> OpenApiImport {
    import_with(name, &ImportOptions::new()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn auth(name: &str, scopes: &[&str]) -> RouteAuth {
    RouteAuth::Authorizer {
        name: name.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    }
}

/// `(method or "ANY", path, auth)` for compact comparisons.
fn summary(import: &OpenApiImport) -> Vec<(String, String, RouteAuth)> {
    import
        .routes
        .iter()
        .map(|r| {
            let m = r.method.as_ref().map_or("ANY", Method::as_str).to_owned();
            (m, r.path.clone(), r.auth.clone())
        })
        .collect()
}

fn row(m: &str, p: &str, a: RouteAuth) -> (String, String, RouteAuth) {
    (m.into(), p.into(), a)
}

fn check_petstore(import: &OpenApiImport, scheme_ptr: &str) {
    assert_eq!(import.authorizers.len(), 1);
    let a = &import.authorizers[0];
    assert_eq!(a.name, "MyUserPool");
    assert_eq!(a.token_header, "Authorization");
    assert_eq!(a.provider_arns, [POOL1]);
    assert_eq!(a.identity_validation_expression, None);
    assert_eq!(a.pointer, scheme_ptr);
    assert_eq!(
        summary(import),
        [
            row("GET", "/", auth("MyUserPool", &[])),
            row("GET", "/cats", auth("MyUserPool", &[CATS_READ, FILE_READ])),
        ]
    );
    assert_eq!(import.routes[0].pointer, "/paths/~1/get");
    assert_eq!(import.routes[1].pointer, "/paths/~1cats/get");
    assert!(import.skipped.is_empty());
    assert!(import.warnings.is_empty(), "{:?}", import.warnings);
}

#[test]
fn petstore_oas30() {
    check_petstore(
        &import("petstore-oas30.json"),
        "/components/securitySchemes/MyUserPool",
    );
}

#[test]
fn petstore_oas30_yaml_equals_json() {
    let yaml = import("petstore-oas30.yaml");
    check_petstore(&yaml, "/components/securitySchemes/MyUserPool");
    assert_eq!(yaml, import("petstore-oas30.json"));
}

#[test]
fn petstore_swagger20() {
    check_petstore(
        &import("petstore-swagger20.json"),
        "/securityDefinitions/MyUserPool",
    );
}

#[test]
fn realistic_export() {
    let import = import("realistic-export.json");

    let names: Vec<&str> = import.authorizers.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["CustomerPool", "StaffPool"],
        "the unused Lambda authorizer is not listed"
    );
    let customer = &import.authorizers[0];
    assert_eq!(customer.provider_arns, [POOL1, POOL3]);
    assert_eq!(customer.identity_validation_expression, None);
    assert_eq!(customer.pointer, "/components/securitySchemes/CustomerPool");
    let staff = &import.authorizers[1];
    assert_eq!(staff.provider_arns, [POOL2]);
    assert_eq!(
        staff.identity_validation_expression.as_deref(),
        Some("^(4pq8r2s6t0u3v7w1x5y9z2a6b0|1example23456789abcdefghij)$")
    );

    let api = |s: &str| format!("https://api.example.com/{s}");
    let (pw, pa) = (api("pets.write"), api("pets.admin"));
    let (ow, or) = (api("orders.write"), api("orders.read"));
    let (up, admin) = (api("photos.upload"), api("admin"));
    let c = |s: &[&str]| auth("CustomerPool", s);
    let s = |s: &[&str]| auth("StaffPool", s);
    assert_eq!(
        summary(&import),
        [
            row("ANY", "/admin/{proxy+}", s(&[&admin])),
            row("GET", "/health", RouteAuth::Public),
            row("GET", "/orders", s(&[])),
            row("POST", "/orders", c(&[&ow])),
            row("GET", "/orders/{orderId}", c(&[&or, &ow])),
            row("PATCH", "/orders/{orderId}", s(&[])),
            row("GET", "/pets", c(&[])),
            row("OPTIONS", "/pets", RouteAuth::Public),
            row("POST", "/pets", c(&[&pw])),
            row("DELETE", "/pets/{petId}", s(&[&pa])),
            row("GET", "/pets/{petId}", c(&[])),
            row("OPTIONS", "/pets/{petId}", RouteAuth::Public),
            row("PUT", "/pets/{petId}", c(&[&pw, &pa])),
            row("GET", "/pets/{petId}/photos", c(&[])),
            row("POST", "/pets/{petId}/photos", c(&[&up])),
        ]
    );
    let proxy = &import.routes[0];
    assert_eq!(proxy.method, None);
    assert_eq!(
        proxy.pointer,
        "/paths/~1admin~1{proxy+}/x-amazon-apigateway-any-method"
    );
    let put = import
        .routes
        .iter()
        .find(|r| r.method == Some(Method::PUT))
        .expect("PUT route");
    assert_eq!(put.pointer, "/paths/~1pets~1{petId}/put");

    assert_eq!(import.warnings.len(), 1, "{:?}", import.warnings);
    assert_eq!(import.warnings[0].pointer(), "/security");
    assert!(import.warnings[0]
        .to_string()
        .starts_with("/security: ignored"));
    assert!(import.skipped.is_empty());
}

#[test]
fn realistic_export_yaml_equals_json() {
    assert_eq!(
        import("realistic-export.yaml"),
        import("realistic-export.json")
    );
}

#[test]
fn malformed_fixtures_report_their_pointer() {
    let arns = "/components/securitySchemes/MyUserPool/x-amazon-apigateway-authorizer/providerARNs";
    let arn0 = format!("{arns}/0");
    let cases: &[(&str, &str, &str)] = &[
        ("bad-syntax.json", "", "invalid JSON"),
        ("bad-not-object.json", "", "expected an object"),
        ("bad-no-version.json", "", "neither `openapi` nor `swagger`"),
        (
            "bad-version-number.json",
            "/openapi",
            "expected the version as a string",
        ),
        (
            "bad-missing-scheme.json",
            "/paths/~1pets~1{petId}/get/security/0",
            "`NoSuchPool` is not defined",
        ),
        (
            "bad-tilde-path.json",
            "/paths/~1files~1~0user/get/security/0",
            "`NoSuchPool` is not defined",
        ),
        (
            "bad-lambda-authorizer.json",
            "/paths/~1orders/post/security/0",
            "a Lambda authorizer",
        ),
        (
            "bad-iam-authorizer.json",
            "/paths/~1orders/delete/security/0",
            "IAM authorization",
        ),
        (
            "bad-empty-provider-arns.json",
            arns,
            "1 to 1000 user pool ARNs",
        ),
        (
            "bad-stage-variable.json",
            &arn0,
            "stage variable `userPoolId` is not set",
        ),
        ("bad-provider-arn.json", &arn0, "not a user pool ARN"),
        (
            "bad-scheme-not-header.json",
            "/components/securitySchemes/MyUserPool/in",
            "in: header",
        ),
        (
            "bad-scheme-no-name.json",
            "/components/securitySchemes/MyUserPool",
            "missing `name`",
        ),
        (
            "bad-two-requirements.json",
            "/paths/~1pets/get/security",
            "alternative security requirements",
        ),
        (
            "bad-two-schemes-and.json",
            "/paths/~1pets/get/security/0",
            "security schemes required together",
        ),
        (
            "bad-security-not-array.json",
            "/paths/~1pets/post/security",
            "expected an array of security requirements",
        ),
        (
            "bad-scopes-not-array.json",
            "/paths/~1pets/post/security/0/MyUserPool",
            "expected an array of OAuth scopes",
        ),
        (
            "bad-path-template.json",
            "/paths/~1pets~1{proxy+}~1photos",
            "must be the last segment",
        ),
        (
            "bad-operation-not-object.json",
            "/paths/~1pets/get",
            "expected an object",
        ),
        (
            "bad-iam-auth-type.json",
            "/paths/~1orders/delete/x-amazon-apigateway-auth",
            "type `AWS_IAM` is IAM authorization",
        ),
        (
            "bad-root-auth-type.json",
            "/x-amazon-apigateway-auth",
            "root-level `x-amazon-apigateway-auth` type `aws_iam` is IAM authorization",
        ),
        (
            "bad-api-key-required.json",
            "/paths/~1orders/post/security/0",
            "security schemes required together",
        ),
    ];
    for (file, pointer, message) in cases {
        let err = import_with(file, &ImportOptions::new()).expect_err(file);
        assert_eq!(err.pointer(), *pointer, "{file}: {err}");
        assert!(err.message().contains(message), "{file}: {err}");
        let shown = err.to_string();
        if pointer.is_empty() {
            assert!(shown.starts_with("(document root): "), "{shown}");
        } else {
            assert_eq!(shown, format!("{pointer}: {}", err.message()));
        }
    }
    // Every bad-*.json in the folder is covered above.
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", "openapi"]
        .iter()
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("bad-"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = cases.iter().map(|c| c.0.to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn unsupported_authorizers_can_be_skipped_but_not_made_public() {
    let options = ImportOptions::new().skip_unsupported_authorizers(true);
    for (file, kept, skipped_method, scheme, reason) in [
        (
            "bad-lambda-authorizer.json",
            Method::GET,
            Method::POST,
            "LambdaAuth",
            "security scheme `LambdaAuth` is a Lambda authorizer (type `token`)",
        ),
        (
            "bad-iam-authorizer.json",
            Method::GET,
            Method::DELETE,
            "sigv4",
            "security scheme `sigv4` is IAM authorization (awsSigv4)",
        ),
        (
            "bad-iam-auth-type.json",
            Method::GET,
            Method::DELETE,
            "",
            "`x-amazon-apigateway-auth` type `AWS_IAM` is IAM authorization",
        ),
        (
            "bad-root-auth-type.json",
            Method::GET,
            Method::DELETE,
            "",
            "root-level `x-amazon-apigateway-auth` type `aws_iam` is IAM authorization",
        ),
        (
            "bad-api-key-required.json",
            Method::GET,
            Method::POST,
            "api_key",
            "security scheme `api_key` is a plain `apiKey` scheme without \
             `x-amazon-apigateway-authorizer`",
        ),
    ] {
        let import = import_with(file, &options).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            summary(&import),
            [row(kept.as_str(), "/orders", auth("MyUserPool", &[]))]
        );
        assert_eq!(import.skipped.len(), 1);
        let s = &import.skipped[0];
        assert_eq!(s.method.as_ref(), Some(&skipped_method));
        assert_eq!(s.path, "/orders");
        assert_eq!(s.scheme, scheme, "{file}");
        assert_eq!(s.reason, reason, "{file}");
        let pointer = format!(
            "/paths/~1orders/{}",
            skipped_method.as_str().to_ascii_lowercase()
        );
        assert_eq!(s.pointer, pointer);
        // The skip's warning, after any about the document's root.
        let last = import.warnings.last().expect("a warning");
        assert_eq!(last.pointer(), pointer);
        assert!(last.message().contains(reason), "{file}: {last}");
        assert!(last.message().contains("the layer denies this method"));
        let root_warnings = match file {
            "bad-root-auth-type.json" => vec!["/x-amazon-apigateway-auth"],
            "bad-api-key-required.json" => vec!["/x-amazon-apigateway-api-key-source"],
            _ => vec![],
        };
        let pointers: Vec<&str> = import.warnings.iter().map(|w| w.pointer()).collect();
        assert_eq!(pointers[..pointers.len() - 1], root_warnings, "{file}");
    }
}

#[test]
fn stage_variable_fixture_imports_when_variable_is_given() {
    let options = ImportOptions::new().stage_variable("userPoolId", "us-east-1_AbCdEf123");
    let import = import_with("bad-stage-variable.json", &options).expect("import");
    assert_eq!(import.authorizers[0].provider_arns, [POOL1]);
}

#[test]
fn an_unbalanced_token_validation_is_refused_not_widened() {
    // `client1)|(.*` anchored without a check is `^(?:client1)|(.*)$`: every aud.
    let mut doc: serde_json::Value =
        serde_json::from_str(&fixture("petstore-oas30.json")).expect("fixture");
    doc["components"]["securitySchemes"]["MyUserPool"]["x-amazon-apigateway-authorizer"]
        ["identityValidationExpression"] = "client1)|(.*".into();
    let builder = tower_cognito::CognitoAuthLayer::builder()
        .openapi(&doc.to_string(), &ImportOptions::new())
        .expect("the import itself keeps the expression");
    match builder.build() {
        Err(tower_cognito::ConfigError::InvalidTokenValidation { expression, reason }) => {
            assert_eq!(expression, "client1)|(.*");
            assert!(reason.contains("unopened group"), "{reason}");
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("an expression escaping its anchors was accepted"),
    }
}

/// A document with scheme `MyUserPool` (and an API key scheme `api_key`) and
/// one path, `/orders`, with these operations.
fn orders_doc(operations: serde_json::Value) -> String {
    serde_json::json!({
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "components": {"securitySchemes": {
            "MyUserPool": {
                "type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [POOL1]},
            },
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
        }},
        "paths": {"/orders": operations},
    })
    .to_string()
}

#[test]
fn aws_auth_types_are_never_public() {
    let iam = serde_json::json!({"type": "AWS_IAM"});
    let doc = orders_doc(serde_json::json!({
        "get": {"x-amazon-apigateway-auth": {"type": "NONE"}},
        "head": {"x-amazon-apigateway-auth": {"type": "none"}, "security": [{"MyUserPool": []}]},
        "post": {"x-amazon-apigateway-auth": {"type": "COGNITO_USER_POOLS"},
                 "security": [{"MyUserPool": ["orders/write"]}]},
        "put": {"x-amazon-apigateway-auth": {"type": "CUSTOM"}},
        "patch": {"x-amazon-apigateway-auth": {"type": "cognito_user_pools"}},
        "delete": {"x-amazon-apigateway-auth": iam, "security": [{"MyUserPool": []}]},
        "options": {"x-amazon-apigateway-auth": {"type": "SOMETHING_NEW"}},
        "x-amazon-apigateway-any-method": {"security": [{"api_key": []}, {"MyUserPool": []}]},
    }));
    let skip = ImportOptions::new().skip_unsupported_authorizers(true);
    let import = OpenApiImport::parse(&doc, &skip).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        summary(&import),
        [
            row("GET", "/orders", RouteAuth::Public),
            row("HEAD", "/orders", auth("MyUserPool", &[])),
            row("POST", "/orders", auth("MyUserPool", &["orders/write"])),
        ]
    );
    let skipped: Vec<(&str, &str, &str)> = import
        .skipped
        .iter()
        .map(|s| {
            let m = s.method.as_ref().map_or("ANY", Method::as_str);
            (m, s.scheme.as_str(), s.reason.as_str())
        })
        .collect();
    let ty = "`x-amazon-apigateway-auth` type";
    assert_eq!(
        skipped,
        [
            (
                "DELETE",
                "MyUserPool",
                &*format!("{ty} `AWS_IAM` is IAM authorization")
            ),
            (
                "OPTIONS",
                "",
                &*format!("{ty} `SOMETHING_NEW` is an authorization type the layer does not know")
            ),
            (
                "PATCH",
                "",
                &*format!(
                    "{ty} `cognito_user_pools` has no Cognito scheme in `security` to name its \
                     user pools"
                )
            ),
            ("PUT", "", &*format!("{ty} `CUSTOM` is a Lambda authorizer")),
            (
                "ANY",
                "api_key",
                "security scheme `api_key` is a plain `apiKey` scheme without \
                 `x-amazon-apigateway-authorizer`"
            ),
        ]
    );
    // One warning per skipped method.
    assert_eq!(import.warnings.len(), 5, "{:?}", import.warnings);

    // Without the option, each one is an error at its extension.
    let strict = ImportOptions::new();
    for (method, pointer, message) in [
        (
            "put",
            "/paths/~1orders/put/x-amazon-apigateway-auth",
            "is a Lambda authorizer",
        ),
        (
            "delete",
            "/paths/~1orders/delete/x-amazon-apigateway-auth",
            "is IAM authorization",
        ),
    ] {
        let one = orders_doc(serde_json::json!({ method: import_op(&doc, method) }));
        let err = OpenApiImport::parse(&one, &strict).expect_err(method);
        assert_eq!(err.pointer(), pointer);
        assert!(err.message().contains(message), "{err}");
        assert!(
            err.message().contains("skip_unsupported_authorizers"),
            "{err}"
        );
    }
    // A malformed extension is an error, never public.
    for bad in [
        serde_json::json!("AWS_IAM"),
        serde_json::json!({}),
        serde_json::json!({"type": 1}),
    ] {
        let one = orders_doc(serde_json::json!({"get": {"x-amazon-apigateway-auth": bad}}));
        let err = OpenApiImport::parse(&one, &skip).expect_err("malformed");
        assert_eq!(
            err.pointer().split("/x-amazon").next(),
            Some("/paths/~1orders/get")
        );
    }
}

/// The operation `method` of `/orders` in `doc`.
fn import_op(doc: &str, method: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(doc).expect("json");
    doc["paths"]["/orders"][method].clone()
}

#[tokio::test]
async fn an_iam_method_is_denied_by_the_layer() {
    use tower::{Service, ServiceExt};
    let doc = fixture("bad-iam-auth-type.json");
    let skip = ImportOptions::new().skip_unsupported_authorizers(true);
    let layer = tower_cognito::CognitoAuthLayer::builder()
        .openapi(&doc, &skip)
        .expect("import")
        .build()
        .expect("build");
    let routes: Vec<String> = layer
        .policy_summary()
        .routes
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        routes.contains(&"DELETE /orders: deny".to_owned()),
        "{routes:?}"
    );

    let reached = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = reached.clone();
    let inner = tower::service_fn(move |_req: http::Request<String>| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { Ok::<_, std::convert::Infallible>(http::Response::new(String::new())) }
    });
    let mut service = tower::Layer::layer(&layer, inner);
    let request = http::Request::delete("/orders")
        .body(String::new())
        .unwrap();
    let response = service.ready().await.unwrap().call(request).await.unwrap();
    // API Gateway answers an unsigned call to an IAM method with its 403.
    assert_eq!(response.status(), http::StatusCode::FORBIDDEN);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn import_limits_are_settings() {
    // 20 nodes: the root mapping, 4 keys, `3.0.1`, `{}`, the anchored
    // sequence (4 nodes) and its two uses (1 + 2 × 4).
    let small = "openapi: 3.0.1\nx-a: &a [1, 2, 3]\nx-b: [*a, *a]\npaths: {}\n";
    let enough = ImportOptions::new().max_yaml_nodes(20);
    OpenApiImport::parse(small, &enough).unwrap_or_else(|e| panic!("{e}"));
    let tight = ImportOptions::new().max_yaml_nodes(19);
    let err = OpenApiImport::parse(small, &tight).unwrap_err();
    assert!(err.message().contains("more than 19 nodes"), "{err}");

    let exact = ImportOptions::new().max_document_bytes(small.len());
    OpenApiImport::parse(small, &exact).unwrap_or_else(|e| panic!("{e}"));
    let under = ImportOptions::new().max_document_bytes(small.len() - 1);
    let err = OpenApiImport::parse(small, &under).unwrap_err();
    assert!(err.message().contains("max_document_bytes"), "{err}");
}
