//! Interop: `cognito-gateway`, run as a process with its environment
//! pointed at moto's Cognito emulator, driven over HTTP with moto's tokens.
//!
//! It serves the petstore export without integrations (echo) with the pools replaced by
//! the moto pool (`COGNITO_USER_POOL_ARNS`) and keys fetched from moto
//! (`COGNITO_JWKS_ENDPOINT`); the expected issuer keeps the AWS form, which
//! is what moto puts in `iss`. Run with `scripts/test`; see `tests/interop.rs`.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use http::StatusCode;
use support::backend::{header, report_headers, Backend};
use support::loopback::{bounded, client, get};
use support::moto::{mark_ran, Fixture, MotoCognito};
use support::process::Gateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_with_moto_tokens() {
    let Some(moto) = MotoCognito::require() else {
        return;
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let name = format!("tower-cognito-gateway-{}-{nanos}", std::process::id());
    let fixture = bounded("create the moto fixture", moto.fixture(&name))
        .await
        .unwrap_or_else(|e| panic!("moto fixture: {e}"));
    let tokens = bounded("InitiateAuth", fixture.sign_in(&moto))
        .await
        .unwrap_or_else(|e| panic!("USER_PASSWORD_AUTH: {e}"));

    let vars = [
        ("COGNITO_JWKS_ENDPOINT", moto.endpoint().to_owned()),
        ("COGNITO_USER_POOL_ARNS", fixture.pool.arn.clone()),
        (
            "OPENAPI_FILE",
            "gateway/tests/fixtures/petstore-echo.json".to_owned(),
        ),
    ];
    let gateway = tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
        Gateway::start(&vars)
    })
    .await
    .expect("start cognito-gateway");
    let log = gateway.startup_text();
    assert!(
        log.contains(&format!(
            "pool {} iss {} jwks {}",
            fixture.pool.id, fixture.pool.issuer, fixture.pool.jwks_url
        )),
        "the startup log names moto's pool and JWKS URL:\n{log}"
    );
    assert!(log.contains("keys: loaded for every pool"), "{log}");
    assert!(log.contains("dev issuer: off"), "{log}");

    let http = client();
    // ID token on an identity route: 200 with API Gateway's claims map.
    let reply = get(&http, &gateway.url("/pets/42"), Some(&tokens.id_token)).await;
    assert_eq!(reply.status, StatusCode::OK, "ID token: {}", reply.body);
    assert_eq!(reply.header("content-type"), "application/json");
    let body = reply.json();
    assert_eq!(body["route"], "GET /pets/{petId}");
    let claims = &body["claims"];
    assert_eq!(claims["cognito:username"], Fixture::USERNAME);
    assert_eq!(claims["custom:role"], Fixture::ROLE);
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["iss"], fixture.pool.issuer.as_str());
    assert_eq!(claims["aud"], fixture.client_id.as_str());
    let mut groups: Vec<&str> = claims["cognito:groups"]
        .as_str()
        .expect("groups as one string")
        .split(',')
        .collect();
    groups.sort_unstable();
    assert_eq!(groups, Fixture::GROUPS);
    assert!(
        claims["exp"].as_str().is_some_and(|e| e.contains(" UTC ")),
        "exp as a Java date: {}",
        claims["exp"]
    );

    // Access token on the same route: API Gateway's 401.
    let reply = get(&http, &gateway.url("/pets/42"), Some(&tokens.access_token)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(reply.body, r#"{"message":"Unauthorized"}"#);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(reply.header("x-amzn-ErrorType"), "UnauthorizedException");

    // moto's access tokens carry no custom scope: the scoped route refuses them.
    let reply = get(&http, &gateway.url("/cats"), Some(&tokens.access_token)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    // The public route needs nothing.
    let reply = get(&http, &gateway.url("/health"), None).await;
    assert_eq!(reply.body, r#"{"route":"GET /health","claims":null}"#);

    mark_ran("gateway_with_moto_tokens");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_maps_moto_claims_into_backend_headers() {
    let Some(moto) = MotoCognito::require() else {
        return;
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let name = format!("tower-cognito-proxy-{}-{nanos}", std::process::id());
    let fixture = bounded("create the moto fixture", moto.fixture(&name))
        .await
        .unwrap_or_else(|e| panic!("moto fixture: {e}"));
    let tokens = bounded("InitiateAuth", fixture.sign_in(&moto))
        .await
        .unwrap_or_else(|e| panic!("USER_PASSWORD_AUTH: {e}"));
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let args = vec![
        "--openapi".to_owned(),
        "gateway/tests/fixtures/proxy.json".to_owned(),
        "--stage-variable".to_owned(),
        format!("backendHost={}", backend.host()),
        "--stage-variable".to_owned(),
        "env=moto".to_owned(),
        "--stage-variable".to_owned(),
        "closedPort=9".to_owned(),
        "--jwks-endpoint".to_owned(),
        moto.endpoint().to_owned(),
        "--user-pool".to_owned(),
        fixture.pool.arn.clone(),
    ];
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .expect("start cognito-gateway");
    assert!(
        gateway
            .startup_text()
            .contains("keys: loaded for every pool"),
        "{}",
        gateway.startup_text()
    );

    let http = client();
    let reply = get(&http, &gateway.url("/pets/42"), Some(&tokens.id_token)).await;
    assert_eq!(reply.status, StatusCode::OK, "ID token: {}", reply.body);
    let report = reply.json();
    assert_eq!(report["path"], "/backend/pets/42");
    let headers = report_headers(&report);
    let header = |name: &str| header(&headers, name);
    let claims = support::moto::jwt_claims(&tokens.id_token).expect("ID token claims");
    assert_eq!(header("x-user-sub"), claims["sub"].as_str());
    assert_eq!(
        header("x-role"),
        Some(Fixture::ROLE),
        "custom:role through a mapping"
    );
    assert_eq!(header("x-env"), Some("moto"));
    // The access token is refused before the backend: API Gateway's 401.
    let reply = get(&http, &gateway.url("/pets/42"), Some(&tokens.access_token)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);

    mark_ran("gateway_maps_moto_claims_into_backend_headers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_templates_pass_moto_claims_to_mock_and_http_integrations() {
    let Some(moto) = MotoCognito::require() else {
        return;
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let name = format!("tower-cognito-templates-{}-{nanos}", std::process::id());
    let fixture = bounded("create the moto fixture", moto.fixture(&name))
        .await
        .unwrap_or_else(|e| panic!("moto fixture: {e}"));
    let tokens = bounded("InitiateAuth", fixture.sign_in(&moto))
        .await
        .unwrap_or_else(|e| panic!("USER_PASSWORD_AUTH: {e}"));
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let args = vec![
        "--openapi".to_owned(),
        "gateway/tests/fixtures/templates.json".to_owned(),
        "--stage-variable".to_owned(),
        format!("backendHost={}", backend.host()),
        "--stage-variable".to_owned(),
        "env=moto".to_owned(),
        "--jwks-endpoint".to_owned(),
        moto.endpoint().to_owned(),
        "--user-pool".to_owned(),
        fixture.pool.arn.clone(),
    ];
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .expect("start cognito-gateway");
    let claims = support::moto::jwt_claims(&tokens.id_token).expect("ID token claims");
    let sub = claims["sub"].as_str().expect("sub");

    let http = client();
    // mock: the response template reads the claims and the path parameter.
    let reply = get(&http, &gateway.url("/pets/42"), Some(&tokens.id_token)).await;
    assert_eq!(reply.status, StatusCode::OK, "ID token: {}", reply.body);
    let body = reply.json();
    assert_eq!(body["id"], "42");
    assert_eq!(body["owner"], sub);
    assert_eq!(body["role"], Fixture::ROLE);

    // http: the seed page's claims template is the body the backend gets.
    let reply = bounded("POST /orders/acme", async {
        let response = http
            .post(gateway.url("/orders/acme"))
            .bearer_auth(&tokens.id_token)
            .header("content-type", "application/json")
            .body(r#"{"items": ["kibble"]}"#)
            .send()
            .await
            .expect("send");
        let status = response.status();
        (status, response.text().await.expect("body"))
    })
    .await;
    assert_eq!(reply.0, StatusCode::OK, "{}", reply.1);
    let out: serde_json::Value = serde_json::from_str(&reply.1).expect("JSON");
    let sent: serde_json::Value =
        serde_json::from_str(out["report"]["body"].as_str().expect("body")).expect("sent JSON");
    assert_eq!(sent["context"]["sub"], sub);
    assert_eq!(sent["context"]["email"], Fixture::EMAIL);
    assert_eq!(sent["context"]["role"], Fixture::ROLE);
    assert_eq!(sent["order"]["items"][0], "kibble");
    assert_eq!(out["query"], "src=gateway&env=moto");

    // The access token is refused before any template runs.
    let reply = get(&http, &gateway.url("/pets/42"), Some(&tokens.access_token)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);

    mark_ran("gateway_templates_pass_moto_claims_to_mock_and_http_integrations");
}
