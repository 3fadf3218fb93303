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
    for (file, kept, skipped_method, scheme) in [
        (
            "bad-lambda-authorizer.json",
            Method::GET,
            Method::POST,
            "LambdaAuth",
        ),
        (
            "bad-iam-authorizer.json",
            Method::GET,
            Method::DELETE,
            "sigv4",
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
        assert_eq!(s.scheme, scheme);
        let pointer = format!(
            "/paths/~1orders/{}",
            skipped_method.as_str().to_ascii_lowercase()
        );
        assert_eq!(s.pointer, pointer);
        assert_eq!(import.warnings.len(), 1);
        assert_eq!(import.warnings[0].pointer(), pointer);
        assert!(import.warnings[0]
            .message()
            .contains("the layer denies this method"));
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
