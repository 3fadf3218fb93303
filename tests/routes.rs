//! Per-route policy: the table (built by hand and imported from OpenAPI)
//! through real axum routers, the route_layer annotations agreeing with it,
//! and the builder's authorizer, override and error rules.

use axum::body::Body;
use axum::extract::Request;
use axum::routing::{get, post};
use axum::Router;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use std::path::PathBuf;
use std::sync::OnceLock;
use tower::ServiceExt;
use tower_cognito::claims::CognitoClaims;
use tower_cognito::openapi::ImportOptions;
use tower_cognito::testing::TestIssuer;
use tower_cognito::{
    AuthError, AuthorizerConfig, CognitoAuthBuilder, CognitoAuthLayer, ConfigError, MatchedRoute,
    RejectionKind, RoutePolicy, UnlistedRoutes,
};

const CUSTOMER: &str = "us-east-1_AbCdEf123";
const STAFF: &str = "us-east-1_StAfF4567";
/// Accepted by the StaffPool authorizer's identityValidationExpression.
const STAFF_CLIENT: &str = "1example23456789abcdefghij";
const API: &str = "https://api.example.com/";
/// Nothing listens here: pools without seeded keys never reach the network.
const NO_JWKS: &str = "http://127.0.0.1:9";

fn customer() -> &'static TestIssuer {
    static I: OnceLock<TestIssuer> = OnceLock::new();
    I.get_or_init(|| TestIssuer::new(CUSTOMER))
}

fn staff() -> &'static TestIssuer {
    static I: OnceLock<TestIssuer> = OnceLock::new();
    I.get_or_init(|| TestIssuer::new(STAFF).client_id(STAFF_CLIENT))
}

fn fixture(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/openapi", name]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Keys seeded for these test pools (which must be configured); pools without
/// seeded keys fetch from a closed loopback port.
fn seeded(builder: CognitoAuthBuilder, issuers: &[&TestIssuer]) -> CognitoAuthBuilder {
    issuers.iter().fold(builder.jwks_endpoint(NO_JWKS), |b, i| {
        b.jwks(i.pool_id(), i.jwks())
    })
}

fn realistic() -> CognitoAuthBuilder {
    seeded(
        CognitoAuthLayer::builder()
            .openapi(&fixture("realistic-export.json"), &ImportOptions::new())
            .expect("import"),
        &[customer(), staff()],
    )
}

/// Echoes the matched route and whether claims arrived.
async fn echo(req: Request) -> String {
    let route = req
        .extensions()
        .get::<MatchedRoute>()
        .map_or("-".to_owned(), |r| r.to_string());
    let claims = req.extensions().get::<CognitoClaims>().is_some();
    format!("{route} claims={claims}")
}

async fn send(
    app: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, String) {
    let mut req = http::Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn scoped(issuer: &TestIssuer, scopes: &[&str]) -> String {
    let full: Vec<String> = scopes.iter().map(|s| format!("{API}{s}")).collect();
    issuer.access_token().scopes(full).sign()
}

const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const MISSING_TOKEN: &str = r#"{"message":"Missing Authentication Token"}"#;

#[tokio::test]
async fn imported_table_decides_every_kind_of_route() {
    let layer = realistic().build().expect("layer");
    let app = Router::new().fallback(echo).layer(layer);
    let id = customer().id_token().sign();
    let staff_id = staff().id_token().sign();
    let ok = |route: &str, claims: bool| (StatusCode::OK, format!("{route} claims={claims}"));
    let denied = (StatusCode::UNAUTHORIZED, UNAUTHORIZED.to_owned());
    let unlisted = (StatusCode::FORBIDDEN, MISSING_TOKEN.to_owned());

    // Public: no token work at all, even with a garbage token.
    assert_eq!(
        send(&app, Method::GET, "/health", None).await,
        ok("GET /health", false)
    );
    assert_eq!(
        send(&app, Method::GET, "/health/", Some("garbage")).await,
        ok("GET /health", false)
    );
    assert_eq!(
        send(&app, Method::OPTIONS, "/pets/7", None).await,
        ok("OPTIONS /pets/{petId}", false)
    );

    // Identity token of CustomerPool.
    assert_eq!(send(&app, Method::GET, "/pets", None).await, denied);
    assert_eq!(
        send(&app, Method::GET, "/pets", Some(&id)).await,
        ok("GET /pets", true)
    );
    let bearer = format!("Bearer {id}");
    assert_eq!(
        send(&app, Method::GET, "/pets/7/photos", Some(&bearer)).await,
        ok("GET /pets/{petId}/photos", true)
    );
    let access = scoped(customer(), &["pets.write"]);
    assert_eq!(
        send(&app, Method::GET, "/pets", Some(&access)).await,
        denied
    );
    // A StaffPool token is not from a CustomerPool pool.
    assert_eq!(
        send(&app, Method::GET, "/pets", Some(&staff_id)).await,
        denied
    );

    // Access token with any-of scopes.
    assert_eq!(
        send(&app, Method::POST, "/pets", Some(&access)).await,
        ok("POST /pets", true)
    );
    let admin = scoped(customer(), &["other", "pets.admin"]);
    assert_eq!(
        send(&app, Method::PUT, "/pets/7", Some(&admin)).await,
        ok("PUT /pets/{petId}", true)
    );
    let unrelated = scoped(customer(), &["orders.read"]);
    assert_eq!(
        send(&app, Method::POST, "/pets", Some(&unrelated)).await,
        denied
    );
    assert_eq!(send(&app, Method::POST, "/pets", Some(&id)).await, denied);

    // StaffPool: its own pool and its Token validation on `aud`.
    assert_eq!(
        send(&app, Method::GET, "/orders", Some(&staff_id)).await,
        ok("GET /orders", true)
    );
    let other_client = staff().id_token().claim("aud", "someotherclient").sign();
    assert_eq!(
        send(&app, Method::GET, "/orders", Some(&other_client)).await,
        denied
    );
    assert_eq!(send(&app, Method::GET, "/orders", Some(&id)).await, denied);

    // Greedy, any-method, StaffPool with scopes: access tokens carry no `aud`,
    // so the Token validation refuses every one of them, as API Gateway does.
    let staff_admin = scoped(staff(), &["admin"]);
    assert_eq!(
        send(&app, Method::DELETE, "/admin/users/7", Some(&staff_admin)).await,
        denied
    );

    // Unlisted: unknown path, known path with another method, the parent of a
    // greedy route. Denied even with a valid token, as API Gateway does.
    assert_eq!(
        send(&app, Method::GET, "/nothing", Some(&id)).await,
        unlisted
    );
    assert_eq!(
        send(&app, Method::DELETE, "/pets", Some(&id)).await,
        unlisted
    );
    assert_eq!(
        send(&app, Method::HEAD, "/health", None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&app, Method::GET, "/admin", Some(&staff_admin)).await,
        unlisted
    );
}

#[tokio::test]
async fn overrides_replace_every_authorizer_whatever_the_order() {
    // Overrides given before the import still win.
    let layer = seeded(
        CognitoAuthLayer::builder()
            .override_token_validation("")
            .override_user_pools([STAFF]),
        &[staff()],
    )
    .openapi(&fixture("realistic-export.json"), &ImportOptions::new())
    .expect("import")
    .build()
    .expect("layer");
    let summary = layer.policy_summary();
    for a in &summary.authorizers {
        let pools: Vec<&str> = a.pools.iter().map(|p| p.pool_id.as_str()).collect();
        assert_eq!(pools, [STAFF], "{}", a.name);
        assert_eq!(a.token_validation, None, "{}", a.name);
        assert_eq!(
            a.pools[0].jwks_url,
            format!("{NO_JWKS}/{STAFF}/.well-known/jwks.json")
        );
    }
    assert_eq!(
        layer.key_store().status().pools.len(),
        1,
        "pools are deduplicated"
    );

    let app = Router::new().fallback(echo).layer(layer);
    // Without Token validation, the greedy any-method route takes access tokens.
    let staff_admin = scoped(staff(), &["admin"]);
    for method in [
        Method::GET,
        Method::DELETE,
        Method::PATCH,
        Method::from_bytes(b"PURGE").unwrap(),
    ] {
        assert_eq!(
            send(&app, method, "/admin/users/7", Some(&staff_admin)).await,
            (StatusCode::OK, "ANY /admin/{proxy+} claims=true".to_owned())
        );
    }
    // CustomerPool now trusts the staff pool only.
    let id = customer().id_token().sign();
    assert_eq!(
        send(&app, Method::GET, "/pets", Some(&id)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let staff_id = staff().id_token().sign();
    assert_eq!(
        send(&app, Method::GET, "/pets", Some(&staff_id)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unlisted_route_policy_is_configurable() {
    let build = |unlisted| {
        seeded(
            CognitoAuthLayer::builder().user_pool(CUSTOMER),
            &[customer()],
        )
        .route("GET", "/health", RoutePolicy::public())
        .unlisted_routes(unlisted)
        .build()
        .expect("layer")
    };
    let id = customer().id_token().sign();
    let access = customer().access_token().sign();

    let deny = Router::new()
        .fallback(echo)
        .layer(build(UnlistedRoutes::Deny));
    let res = deny
        .clone()
        .oneshot(http::Request::get("/x").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(
        res.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    assert_eq!(
        res.extensions().get::<AuthError>().map(AuthError::kind),
        Some(RejectionKind::UnlistedRoute)
    );

    let public = Router::new()
        .fallback(echo)
        .layer(build(UnlistedRoutes::Public));
    assert_eq!(
        send(&public, Method::POST, "/x", None).await,
        (StatusCode::OK, "- claims=false".to_owned())
    );

    let identity = Router::new()
        .fallback(echo)
        .layer(build(UnlistedRoutes::IdentityToken));
    assert_eq!(
        send(&identity, Method::GET, "/x", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&identity, Method::GET, "/x", Some(&access)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&identity, Method::GET, "/x", Some(&id)).await,
        (StatusCode::OK, "- claims=true".to_owned())
    );
    assert_eq!(
        send(&identity, Method::GET, "/health", None).await,
        (StatusCode::OK, "GET /health claims=false".to_owned())
    );
}

#[tokio::test]
async fn skipped_operations_are_denied_never_public() {
    let options = ImportOptions::new().skip_unsupported_authorizers(true);
    let layer = seeded(CognitoAuthLayer::builder(), &[customer()])
        .openapi(&fixture("bad-lambda-authorizer.json"), &options)
        .expect("import")
        .build()
        .expect("layer");
    assert_eq!(layer.policy_summary().warnings.len(), 1);
    let app = Router::new().fallback(echo).layer(layer);
    let id = customer().id_token().sign();
    assert_eq!(
        send(&app, Method::GET, "/orders", Some(&id)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, Method::POST, "/orders", Some(&id)).await,
        (StatusCode::FORBIDDEN, MISSING_TOKEN.to_owned())
    );

    // A skipped method next to a public any-method on the same path.
    let doc = serde_json::json!({
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
    // No Cognito authorizer in the document: the pools come from user_pool.
    let layer = seeded(
        CognitoAuthLayer::builder().user_pool(CUSTOMER),
        &[customer()],
    )
    .openapi(&doc, &options)
    .expect("import")
    .build()
    .expect("layer");
    let app = Router::new().fallback(echo).layer(layer);
    assert_eq!(
        send(&app, Method::GET, "/p", Some(&id)).await,
        (StatusCode::FORBIDDEN, MISSING_TOKEN.to_owned())
    );
    assert_eq!(
        send(&app, Method::POST, "/p", None).await,
        (StatusCode::OK, "ANY /p claims=false".to_owned())
    );
}

#[tokio::test]
async fn authorizers_have_their_own_token_header_and_pools() {
    let layer = seeded(CognitoAuthLayer::builder(), &[customer(), staff()])
        .authorizer("Customers", AuthorizerConfig::new().user_pool(CUSTOMER))
        .authorizer(
            "Staff",
            AuthorizerConfig::new()
                .user_pools([STAFF, CUSTOMER])
                .token_header("X-Staff-Token"),
        )
        .default_authorizer("Customers")
        .route("GET", "/a", RoutePolicy::identity_token())
        .route(
            "GET",
            "/b",
            RoutePolicy::identity_token().authorizer("Staff"),
        )
        .build()
        .expect("layer");
    assert_eq!(layer.key_store().status().pools.len(), 2);
    let summary = layer.policy_summary();
    assert_eq!(summary.authorizers[0].name, "Customers");
    assert!(summary.authorizers[0].is_default);
    assert_eq!(
        summary.routes[1].to_string(),
        "GET /b: identity token (authorizer Staff)"
    );

    let app = Router::new().fallback(echo).layer(layer);
    let staff_id = staff().id_token().sign();
    let id = customer().id_token().sign();
    assert_eq!(
        send(&app, Method::GET, "/a", Some(&id)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, Method::GET, "/a", Some(&staff_id)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // /b reads X-Staff-Token, not Authorization.
    assert_eq!(
        send(&app, Method::GET, "/b", Some(&staff_id)).await.0,
        StatusCode::UNAUTHORIZED
    );
    for token in [&staff_id, &id] {
        let req = http::Request::get("/b")
            .header("x-staff-token", token.as_str())
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            app.clone().oneshot(req).await.unwrap().status(),
            StatusCode::OK
        );
    }
}

#[test]
fn builder_refuses_inconsistent_tables() {
    let base = || CognitoAuthLayer::builder().user_pool(CUSTOMER);
    let err = |b: CognitoAuthBuilder| b.build().expect_err("must fail");

    assert_eq!(
        err(base().route(
            "GET",
            "/a",
            RoutePolicy::identity_token().authorizer("Nope")
        )),
        ConfigError::UnknownAuthorizer("Nope".into())
    );
    assert_eq!(
        err(base().default_authorizer("Nope")),
        ConfigError::UnknownAuthorizer("Nope".into())
    );
    let e = err(base()
        .route("GET", "/pets/{id}", RoutePolicy::public())
        .route("GET", "/pets/{petId}/", RoutePolicy::public()));
    assert!(e.to_string().contains("duplicate route GET"), "{e}");
    let e = err(base()
        .route("GET", "/pets/{id}", RoutePolicy::public())
        .route("ANY", "/pets/{proxy+}", RoutePolicy::public()));
    assert!(e.to_string().contains("conflicts with `/pets/{id}`"), "{e}");
    let e = err(base().route("G T", "/a", RoutePolicy::public()));
    assert!(matches!(e, ConfigError::InvalidRoute { .. }), "{e}");
    let e = err(base().route("GET", "/a/{b}c", RoutePolicy::public()));
    assert!(matches!(e, ConfigError::InvalidRoute { .. }), "{e}");
    let e = err(base().grpc_method("/no-method", RoutePolicy::public()));
    assert!(matches!(e, ConfigError::InvalidRoute { .. }), "{e}");
    let e = err(base().grpc_service("a/b", RoutePolicy::public()));
    assert!(matches!(e, ConfigError::InvalidRoute { .. }), "{e}");
    // One policy for everything and a table do not mix.
    let e = err(base()
        .policy(RoutePolicy::public())
        .route("GET", "/a", RoutePolicy::public()));
    assert!(e.to_string().contains("unlisted_routes"), "{e}");
    // The default authorizer's settings without its pools.
    let e = err(CognitoAuthLayer::builder()
        .token_validation("x")
        .authorizer("A", AuthorizerConfig::new().user_pool(CUSTOMER)));
    assert!(e.to_string().contains("override_token_validation"), "{e}");
    let e = err(CognitoAuthLayer::builder()
        .authorizer("A", AuthorizerConfig::new().user_pool(CUSTOMER))
        .authorizer("A", AuthorizerConfig::new().user_pool(STAFF)));
    assert!(e.to_string().contains("defined twice"), "{e}");
    // Imported route conflicts name the operation's JSON pointer.
    let doc = serde_json::json!({
        "openapi": "3.0.1",
        "paths": {"/p/{id}": {"get": {}}, "/p/{proxy+}": {"get": {}}},
    })
    .to_string();
    let e = err(base().openapi(&doc, &ImportOptions::new()).expect("import"));
    assert!(e.to_string().contains("(at /paths/~1p~1{"), "{e}");
}

#[test]
fn json_and_yaml_exports_give_identical_tables() {
    for (json, yaml) in [
        ("petstore-oas30.json", "petstore-oas30.yaml"),
        ("realistic-export.json", "realistic-export.yaml"),
    ] {
        let summary = |name: &str| {
            seeded(CognitoAuthLayer::builder(), &[])
                .openapi(&fixture(name), &ImportOptions::new())
                .expect(name)
                .build()
                .expect(name)
                .policy_summary()
        };
        assert_eq!(summary(json), summary(yaml), "{json}");
    }
}

#[test]
fn imported_fixtures_give_the_expected_tables() {
    let table = |name: &str| -> Vec<String> {
        seeded(CognitoAuthLayer::builder(), &[])
            .openapi(&fixture(name), &ImportOptions::new())
            .expect(name)
            .build()
            .expect(name)
            .policy_summary()
            .routes
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let petstore = [
        "GET /: identity token (authorizer MyUserPool)",
        "GET /cats: access token with any of [https://my-petstore-api.example.com/cats.read, \
         http://my.resource.com/file.read] (authorizer MyUserPool)",
    ];
    assert_eq!(table("petstore-oas30.json"), petstore);
    assert_eq!(table("petstore-swagger20.json"), petstore);

    let c = "(authorizer CustomerPool)";
    let s = "(authorizer StaffPool)";
    let any = |scopes: &[&str]| {
        let full: Vec<String> = scopes.iter().map(|x| format!("{API}{x}")).collect();
        format!("access token with any of [{}]", full.join(", "))
    };
    let expected = vec![
        format!("ANY /admin/{{proxy+}}: {} {s}", any(&["admin"])),
        "GET /health: public".to_owned(),
        format!("GET /orders: identity token {s}"),
        format!("POST /orders: {} {c}", any(&["orders.write"])),
        format!(
            "GET /orders/{{orderId}}: {} {c}",
            any(&["orders.read", "orders.write"])
        ),
        format!("PATCH /orders/{{orderId}}: identity token {s}"),
        format!("GET /pets: identity token {c}"),
        "OPTIONS /pets: public".to_owned(),
        format!("POST /pets: {} {c}", any(&["pets.write"])),
        format!("DELETE /pets/{{petId}}: {} {s}", any(&["pets.admin"])),
        format!("GET /pets/{{petId}}: identity token {c}"),
        "OPTIONS /pets/{petId}: public".to_owned(),
        format!(
            "PUT /pets/{{petId}}: {} {c}",
            any(&["pets.write", "pets.admin"])
        ),
        format!("GET /pets/{{petId}}/photos: identity token {c}"),
        format!(
            "POST /pets/{{petId}}/photos: {} {c}",
            any(&["photos.upload"])
        ),
    ];
    assert_eq!(table("realistic-export.json"), expected);

    let layer = realistic().build().expect("layer");
    let summary = layer.policy_summary();
    assert_eq!(summary.unlisted, Some(UnlistedRoutes::Deny));
    assert_eq!(summary.warnings.len(), 1);
    assert!(summary.warnings[0].starts_with("/security: ignored"));
    assert_eq!(
        summary.routes[0].source.as_deref(),
        Some("/paths/~1admin~1{proxy+}/x-amazon-apigateway-any-method")
    );
    let names: Vec<(&str, usize, bool)> = summary
        .authorizers
        .iter()
        .map(|a| (a.name.as_str(), a.pools.len(), a.token_validation.is_some()))
        .collect();
    assert_eq!(names, [("CustomerPool", 2, false), ("StaffPool", 1, true)]);
    assert_eq!(
        summary.authorizers[1].pools[0].issuer,
        format!("https://cognito-idp.us-east-1.amazonaws.com/{STAFF}")
    );
    assert!(summary.to_string().contains("route GET /health: public"));
}

#[test]
fn malformed_documents_name_their_location() {
    let e = CognitoAuthLayer::builder()
        .openapi(&fixture("bad-missing-scheme.json"), &ImportOptions::new())
        .expect_err("must fail");
    assert_eq!(e.pointer(), "/paths/~1pets~1{petId}/get/security/0");
    assert!(e
        .to_string()
        .starts_with("/paths/~1pets~1{petId}/get/security/0: "));
    let e = CognitoAuthLayer::builder()
        .openapi(
            &fixture("bad-lambda-authorizer.json"),
            &ImportOptions::new(),
        )
        .expect_err("must fail");
    assert_eq!(e.pointer(), "/paths/~1orders/post/security/0");
    let e = CognitoAuthLayer::builder()
        .openapi(&fixture("bad-stage-variable.json"), &ImportOptions::new())
        .expect_err("must fail");
    assert!(
        e.message()
            .contains("stage variable `userPoolId` is not set"),
        "{e}"
    );
    let layer = seeded(CognitoAuthLayer::builder(), &[customer()])
        .openapi(
            &fixture("bad-stage-variable.json"),
            &ImportOptions::new().stage_variable("userPoolId", CUSTOMER),
        )
        .expect("import")
        .build()
        .expect("layer");
    assert_eq!(
        layer.policy_summary().authorizers[0].pools[0].pool_id,
        CUSTOMER
    );
}

/// The same routes through a table-configured layer and through route_layer
/// annotations give the same answers for every kind of token.
#[tokio::test]
async fn route_layer_annotations_agree_with_the_table() {
    const READ: &str = "https://my-petstore-api.example.com/cats.read";
    const WRITE: &str = "https://my-petstore-api.example.com/cats.write";
    const ADMIN: &str = "https://my-petstore-api.example.com/cats.admin";
    let builder = || {
        seeded(
            CognitoAuthLayer::builder().user_pool(CUSTOMER),
            &[customer()],
        )
    };
    let handler = |name: &'static str| {
        move |req: Request| async move {
            let user = req
                .extensions()
                .get::<CognitoClaims>()
                .and_then(|c| c.sub().map(str::to_owned));
            format!("{name} {user:?}")
        }
    };
    let routes = || {
        Router::new()
            .route("/me", get(handler("me")))
            .route("/cats", get(handler("list")).post(handler("add")))
            .route("/health", get(handler("health")))
    };

    let table = builder()
        .route("GET", "/me", RoutePolicy::identity_token())
        .route("GET", "/cats", RoutePolicy::scopes([READ]).unwrap())
        .route(
            "POST",
            "/cats",
            RoutePolicy::scopes([WRITE, ADMIN]).unwrap(),
        )
        .route("GET", "/health", RoutePolicy::public())
        .unlisted_routes(UnlistedRoutes::Public)
        .build()
        .unwrap();
    let by_table = routes().layer(table);

    let auth = builder().build().unwrap();
    let annotated = Router::new()
        .route(
            "/me",
            get(handler("me")).route_layer(auth.require_identity_token()),
        )
        .route(
            "/cats",
            get(handler("list"))
                .route_layer(auth.require_scopes([READ]).unwrap())
                .merge(
                    post(handler("add")).route_layer(auth.require_scopes([WRITE, ADMIN]).unwrap()),
                ),
        )
        .route(
            "/health",
            get(handler("health")).route_layer(auth.with_policy(RoutePolicy::public())),
        );

    let tokens: Vec<(&str, Option<String>)> = vec![
        ("none", None),
        ("garbage", Some("abc.def.ghi".into())),
        ("id", Some(customer().id_token().sign())),
        (
            "expired id",
            Some(customer().id_token().expires_in(-10).sign()),
        ),
        ("access, no scope", Some(customer().access_token().sign())),
        (
            "access, read",
            Some(customer().access_token().scopes([READ]).sign()),
        ),
        (
            "access, admin",
            Some(customer().access_token().scopes(["x", ADMIN]).sign()),
        ),
        ("other pool", Some(staff().id_token().sign())),
    ];
    let requests = [
        (Method::GET, "/me"),
        (Method::GET, "/cats"),
        (Method::POST, "/cats"),
        (Method::GET, "/health"),
        (Method::GET, "/nowhere"),
    ];
    let mut statuses = std::collections::BTreeSet::new();
    for (method, path) in &requests {
        for (name, token) in &tokens {
            let a = send(&by_table, method.clone(), path, token.as_deref()).await;
            let b = send(&annotated, method.clone(), path, token.as_deref()).await;
            assert_eq!(a, b, "{method} {path} with {name}");
            statuses.insert(a.0.as_u16());
        }
    }
    assert_eq!(statuses.into_iter().collect::<Vec<_>>(), [200, 401, 404]);
}

/// One loopback server: the imported table behind a real axum server.
#[tokio::test]
async fn imported_table_over_loopback() {
    let layer = realistic().build().expect("layer");
    let app = Router::new().fallback(echo).layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://{addr}{p}");

    let res = client.get(url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "GET /health claims=false");

    let id = customer().id_token().sign();
    let res = client
        .get(url("/pets/42"))
        .header("authorization", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "GET /pets/{petId} claims=true");

    let res = client
        .get(url("/nothing"))
        .header("authorization", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(
        res.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    assert_eq!(res.text().await.unwrap(), MISSING_TOKEN);

    let res = client
        .post(url("/pets"))
        .header("authorization", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    server.abort();
}
