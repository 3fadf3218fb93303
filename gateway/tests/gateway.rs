//! `cognito-gateway` and `cognito-gateway test-invoke`, run as processes and
//! driven from outside, as API clients and users would.
//!
//! The gateway is started on a free loopback port with its keys published by
//! a [`JwksServer`] the test controls (`COGNITO_JWKS_ENDPOINT`), so the test
//! mints the tokens; one test runs the embedded dev issuer instead and replays
//! the `curl` lines it prints. See `support::process`.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use support::loopback::{bounded, client, Reply};
use support::process::{self, Gateway};
use tower_cognito::testing::{JwksServer, TestIssuer};

/// The pool of the shipped `gateway/exports/petstore.json`.
const PETSTORE_POOL: &str = "us-east-1_PetStore1";
/// The shipped export without integrations: every operation echoes.
const ECHO_EXPORT: &str = "gateway/tests/fixtures/petstore-echo.json";
const MISSING_TOKEN: &str = r#"{"message":"Missing Authentication Token"}"#;
const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const EXPIRED: &str = r#"{"message":"The incoming token has expired"}"#;

/// A request with a method, optional bearer token and extra headers.
async fn send(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = client.request(method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    bounded(&format!("{method} {url}"), async {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.expect("read body");
        Reply {
            status,
            headers,
            body,
        }
    })
    .await
}

/// Header names of a response, sorted.
fn header_names(headers: &HeaderMap) -> Vec<String> {
    let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
    names.sort();
    names.dedup();
    names
}

/// `x-amzn-RequestId` is a UUID and `x-amz-apigw-id` shaped like AWS's.
fn assert_ids(reply: &Reply, what: &str) {
    let id = reply.header("x-amzn-RequestId");
    let parts: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(parts, [8, 4, 4, 4, 12], "{what}: x-amzn-RequestId {id:?}");
    assert!(
        id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
        "{what}: {id:?}"
    );
    let apigw = reply.header("x-amz-apigw-id");
    assert_eq!(apigw.len(), 16, "{what}: x-amz-apigw-id {apigw:?}");
}

/// An API Gateway error answer, byte for byte: status, JSON body, error type,
/// content length and the request IDs.
fn assert_error(reply: &Reply, status: StatusCode, error_type: &str, body: &str, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert_eq!(reply.body, body, "{what}");
    assert_eq!(reply.header("content-type"), "application/json", "{what}");
    assert_eq!(reply.header("x-amzn-ErrorType"), error_type, "{what}");
    assert_eq!(
        reply.header("content-length"),
        body.len().to_string(),
        "{what}"
    );
    assert_ids(reply, what);
}

/// API Gateway's 403 for unknown resources and methods, byte for byte.
fn assert_missing_token(reply: &Reply, what: &str) {
    assert_error(
        reply,
        StatusCode::FORBIDDEN,
        "MissingAuthenticationTokenException",
        MISSING_TOKEN,
        what,
    );
}

/// API Gateway's 401, byte for byte: no other header than these seven
/// (`Connection: keep-alive` as AWS says it to a client keeping the
/// connection, as this one does).
fn assert_api_gateway_401(reply: &Reply, body: &str, what: &str) {
    assert_error(
        reply,
        StatusCode::UNAUTHORIZED,
        "UnauthorizedException",
        body,
        what,
    );
    assert_eq!(reply.headers["connection"], "keep-alive", "{what}");
    assert_eq!(
        header_names(&reply.headers),
        [
            "connection",
            "content-length",
            "content-type",
            "date",
            "x-amz-apigw-id",
            "x-amzn-errortype",
            "x-amzn-requestid"
        ],
        "{what}"
    );
}

/// A 200 echo answer; returns the JSON body.
fn assert_passed(reply: &Reply, route: &str, what: &str) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
    assert_eq!(reply.header("content-type"), "application/json", "{what}");
    let body = reply.json();
    assert_eq!(body["route"], route, "{what}");
    body
}

/// A gateway on the echo export whose keys come from `server`.
fn gateway_with_keys(server: &JwksServer, extra: &[(&str, &str)]) -> Gateway {
    let mut vars = vec![
        ("COGNITO_JWKS_ENDPOINT", server.base_url()),
        ("OPENAPI_FILE", ECHO_EXPORT),
    ];
    vars.extend_from_slice(extra);
    Gateway::start(&vars)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_serves_an_export_without_integrations_as_echo() {
    let issuer = TestIssuer::new(PETSTORE_POOL);
    let server = issuer.serve_jwks().await.unwrap();
    let gateway = gateway_with_keys(&server, &[]);
    let http = client();

    // The startup log says what is in force.
    let log = gateway.startup_text();
    for expected in [
        "OpenAPI document: gateway/tests/fixtures/petstore-echo.json",
        "dev issuer: off (OPENAPI_FILE or COGNITO_* set)",
        &format!(
            "pool {PETSTORE_POOL} iss https://cognito-idp.us-east-1.amazonaws.com/{PETSTORE_POOL} jwks {}",
            server.jwks_url(PETSTORE_POOL)
        ),
        "route GET /health: public -> echo",
        "route GET /pets/{petId}: identity token (authorizer PetStoreUserPool) -> echo",
        "route GET /cats: access token with any of [petstore/cats.read, petstore/pets.read] (authorizer PetStoreUserPool) -> echo",
        "route ANY /files/{proxy+}: identity token (authorizer PetStoreUserPool) -> echo",
        "unlisted routes: Deny",
        "keys: loaded for every pool",
        "CORS: off",
    ] {
        assert!(log.contains(expected), "startup log lacks {expected:?}:\n{log}");
    }
    assert!(
        !log.contains("curl"),
        "no dev curl lines without the dev issuer:\n{log}"
    );
    assert!(server.hits() >= 1, "keys fetched over HTTP");

    // Public route: no token, claims null.
    let reply = send(&http, Method::GET, &gateway.url("/health"), None, &[]).await;
    assert_passed(&reply, "GET /health", "public route");
    assert_eq!(reply.body, r#"{"route":"GET /health","claims":null}"#);
    assert_ids(&reply, "public route");

    // Identity route with an ID token: the API Gateway claims map.
    let id = issuer
        .id_token()
        .claim("custom:role", "editor")
        .groups(["admin", "staging-manager"])
        .sign();
    let reply = send(&http, Method::GET, &gateway.url("/pets/7"), Some(&id), &[]).await;
    let body = assert_passed(&reply, "GET /pets/{petId}", "ID token on identity route");
    let claims = body["claims"].as_object().expect("claims map");
    assert!(
        claims.values().all(Value::is_string),
        "every value a string: {claims:?}"
    );
    assert_eq!(claims["custom:role"], "editor");
    assert_eq!(claims["cognito:groups"], "admin,staging-manager");
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["email_verified"], "true");
    assert!(
        claims["exp"].as_str().unwrap().contains(" UTC "),
        "exp as a Java date: {}",
        claims["exp"]
    );
    assert_eq!(
        reply.body.find("\"route\""),
        Some(1),
        "route comes first: {}",
        reply.body
    );

    // Identity route with an access token: API Gateway's 401.
    let access = issuer.access_token().scopes(["petstore/cats.read"]).sign();
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/pets/7"),
        Some(&access),
        &[],
    )
    .await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "access token on identity route");
    let reply = send(&http, Method::GET, &gateway.url("/pets"), None, &[]).await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "no token on identity route");

    // Scoped route: any one of the scopes, access tokens only.
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/cats"),
        Some(&access),
        &[],
    )
    .await;
    let body = assert_passed(&reply, "GET /cats", "access token with the scope");
    assert_eq!(body["claims"]["scope"], "petstore/cats.read");
    let other_scope = issuer.access_token().scopes(["petstore/pets.read"]).sign();
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/cats"),
        Some(&other_scope),
        &[],
    )
    .await;
    assert_passed(&reply, "GET /cats", "access token with the other scope");
    let no_scope = issuer.access_token().sign();
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/cats"),
        Some(&no_scope),
        &[],
    )
    .await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "access token without the scope");
    let reply = send(&http, Method::GET, &gateway.url("/cats"), Some(&id), &[]).await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "ID token on scoped route");
    let write = issuer.access_token().scopes(["petstore/pets.write"]).sign();
    let reply = send(
        &http,
        Method::POST,
        &gateway.url("/pets"),
        Some(&write),
        &[],
    )
    .await;
    assert_passed(&reply, "POST /pets", "POST with pets.write");
    let reply = send(
        &http,
        Method::DELETE,
        &gateway.url("/pets/7"),
        Some(&write),
        &[],
    )
    .await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "DELETE needs pets.admin");

    // Any-method greedy route.
    let reply = send(
        &http,
        Method::PATCH,
        &gateway.url("/files/a/b/c.txt"),
        Some(&id),
        &[],
    )
    .await;
    assert_passed(&reply, "ANY /files/{proxy+}", "PATCH under /files");

    // Expired token: API Gateway's other 401 body.
    let expired = issuer.id_token().expires_in(-60).sign();
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/pets/7"),
        Some(&expired),
        &[],
    )
    .await;
    assert_api_gateway_401(&reply, EXPIRED, "expired ID token");

    // Unknown resources and methods: API Gateway's 403, valid token or not.
    for (method, path) in [
        (Method::GET, "/dogs"),
        (Method::PUT, "/pets"),
        (Method::HEAD, "/pets"),
        (Method::GET, "/health/x"),
    ] {
        for token in [Some(id.as_str()), None] {
            let reply = send(&http, method.clone(), &gateway.url(path), token, &[]).await;
            if method == Method::HEAD {
                assert_eq!(reply.status, StatusCode::FORBIDDEN);
                assert_ids(&reply, "HEAD");
            } else {
                assert_missing_token(&reply, &format!("unlisted {method} {path}"));
            }
        }
    }

    // Without GATEWAY_CORS_ORIGIN: no CORS headers, and a preflight is just
    // an OPTIONS request the export does not list.
    let origin = [("origin", "https://app.example.com")];
    let reply = send(&http, Method::GET, &gateway.url("/pets"), None, &origin).await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "401 without CORS");
    let preflight = [
        ("origin", "https://app.example.com"),
        ("access-control-request-method", "GET"),
        ("access-control-request-headers", "authorization"),
    ];
    let reply = send(
        &http,
        Method::OPTIONS,
        &gateway.url("/pets"),
        None,
        &preflight,
    )
    .await;
    assert_missing_token(&reply, "preflight without CORS");

    // Ctrl-C stops it cleanly.
    #[cfg(unix)]
    {
        let status = tokio::task::spawn_blocking(move || gateway.interrupt())
            .await
            .unwrap();
        assert!(status.success(), "exit status after Ctrl-C: {status:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_cors_layer_sits_outside_the_authorizer() {
    let issuer = TestIssuer::new(PETSTORE_POOL);
    let server = issuer.serve_jwks().await.unwrap();
    let app = "https://app.example.com";
    let gateway = gateway_with_keys(&server, &[("GATEWAY_CORS_ORIGIN", app)]);
    let http = client();
    assert!(
        gateway
            .startup_text()
            .contains("CORS: allowed origins https://app.example.com"),
        "{}",
        gateway.startup_text()
    );

    // A rejection carries the CORS headers, so a browser app can read it.
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/pets"),
        None,
        &[("origin", app)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, UNAUTHORIZED);
    assert_eq!(reply.header("x-amzn-ErrorType"), "UnauthorizedException");
    assert_eq!(reply.header("access-control-allow-origin"), app);
    assert!(
        reply
            .header("access-control-expose-headers")
            .contains("x-amzn-errortype"),
        "{:?}",
        reply.headers
    );
    let expired = issuer.id_token().expires_in(-60).sign();
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/pets/1"),
        Some(&expired),
        &[("origin", app)],
    )
    .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::UNAUTHORIZED, EXPIRED)
    );
    assert_eq!(reply.header("access-control-allow-origin"), app);

    // So does a success.
    let id = issuer.id_token().sign();
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/pets"),
        Some(&id),
        &[("origin", app)],
    )
    .await;
    assert_passed(&reply, "GET /pets", "ID token with CORS");
    assert_eq!(reply.header("access-control-allow-origin"), app);

    // The preflight (no token) is answered by CORS before the authorizer.
    let preflight = [
        ("origin", app),
        ("access-control-request-method", "DELETE"),
        (
            "access-control-request-headers",
            "authorization,content-type",
        ),
    ];
    let reply = send(
        &http,
        Method::OPTIONS,
        &gateway.url("/pets/1"),
        None,
        &preflight,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("access-control-allow-origin"), app);
    assert!(reply
        .header("access-control-allow-methods")
        .contains("DELETE"));
    let allowed = reply.header("access-control-allow-headers");
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    assert!(reply.headers.get("x-amzn-errortype").is_none());
    assert_ids(&reply, "CORS preflight");

    // Another origin gets no CORS grant (the 401 itself is unchanged).
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/pets"),
        None,
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::UNAUTHORIZED, UNAUTHORIZED)
    );
    assert!(reply.headers.get("access-control-allow-origin").is_none());
}

/// One `curl` line of the dev issuer's output.
struct CurlLine {
    method: Method,
    url: String,
    header: Option<(String, String)>,
    expect: u16,
}

/// Parses `curl -i [-X M] [-H "Name: Bearer $VAR"] URL  # expect NNN ...`.
fn parse_curl(line: &str, tokens: &HashMap<String, String>) -> CurlLine {
    let (command, comment) = line.split_once("  # expect ").expect("expect comment");
    let expect = comment[..3].parse().expect("status");
    let rest: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(rest[0], "curl", "{command}");
    let mut method = Method::GET;
    let mut header = None;
    let mut url = String::new();
    let mut i = 1;
    while i < rest.len() {
        match rest[i] {
            "-i" => {}
            "-X" => {
                i += 1;
                method = Method::from_bytes(rest[i].as_bytes()).unwrap();
            }
            "-H" => {
                // "Name: Bearer $VAR" spans three words.
                let name = rest[i + 1].trim_start_matches('"').trim_end_matches(':');
                assert_eq!(rest[i + 2], "Bearer");
                let var = rest[i + 3].trim_end_matches('"').trim_start_matches('$');
                let token = tokens
                    .get(var)
                    .unwrap_or_else(|| panic!("no variable {var}"));
                header = Some((name.to_owned(), format!("Bearer {token}")));
                i += 3;
            }
            word if word.starts_with("http://") => url = word.to_owned(),
            other => panic!("unexpected curl word {other:?} in {command:?}"),
        }
        i += 1;
    }
    CurlLine {
        method,
        url,
        header,
        expect,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_dev_issuer_curl_lines_do_what_they_say() {
    // No configuration at all: the first command of the README.
    let gateway = tokio::task::spawn_blocking(|| Gateway::start(&[]))
        .await
        .unwrap();
    let log = gateway.startup_text();
    assert!(
        log.contains("dev issuer: on (no OPENAPI_FILE or COGNITO_* variable set)"),
        "{log}"
    );
    // The document's pool and AWS-form issuer, keys from a loopback URL.
    assert!(
        log.contains(&format!(
            "pool {PETSTORE_POOL} iss https://cognito-idp.us-east-1.amazonaws.com/{PETSTORE_POOL} jwks http://127.0.0.1:"
        )),
        "{log}"
    );
    let tokens = gateway.dev_tokens();
    for name in ["ID_TOKEN", "ACCESS_TOKEN", "NO_SCOPE_TOKEN"] {
        assert!(tokens.contains_key(name), "no {name} in the dev output");
    }

    let curls: Vec<CurlLine> = gateway
        .startup_lines()
        .iter()
        .filter(|l| l.starts_with("curl "))
        .map(|l| parse_curl(l, &tokens))
        .collect();
    // Every protected route gets a passing and a failing line; /health one.
    assert_eq!(curls.len(), 1 + 2 * 7, "{log}");
    assert_eq!(curls.iter().filter(|c| c.expect == 200).count(), 8);
    let http = client();
    for curl in &curls {
        assert!(curl.url.starts_with(&gateway.url("/")), "{}", curl.url);
        let headers: Vec<(&str, &str)> = curl
            .header
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let reply = send(&http, curl.method.clone(), &curl.url, None, &headers).await;
        assert_eq!(
            reply.status.as_u16(),
            curl.expect,
            "{} {} answered {}",
            curl.method,
            curl.url,
            reply.body
        );
        if curl.expect == 401 {
            assert_eq!(reply.body, UNAUTHORIZED);
        }
    }

    // The shipped export's mock integrations answer.
    for route in [
        "route GET /: identity token (authorizer PetStoreUserPool) -> mock 200",
        "route GET /health: public -> mock 200",
        "route ANY /files/{proxy+}: identity token (authorizer PetStoreUserPool) -> mock 200",
    ] {
        assert!(log.contains(route), "lacks {route:?}:\n{log}");
    }
    let id = tokens.get("ID_TOKEN").map(String::as_str);
    let reply = send(&http, Method::GET, &gateway.url("/pets/1"), id, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(reply.body, r#"{"id":1,"type":"dog","price":249.99}"#);
    assert_ids(&reply, "mock");
    // The seed page's mock: 200, Content-Type text/html, empty body.
    let reply = send(&http, Method::GET, &gateway.url("/"), id, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("content-type"), "text/html");
    assert_eq!(reply.body, "");
    assert_eq!(reply.header("content-length"), "0");
    let reply = send(&http, Method::PUT, &gateway.url("/files/a/b.txt"), id, &[]).await;
    assert_eq!(
        (
            reply.status,
            reply.header("content-type"),
            reply.body.as_str()
        ),
        (StatusCode::OK, "text/plain", "file contents\n")
    );
    // A 401 and a 403 carry the identifiers too.
    let reply = send(&http, Method::GET, &gateway.url("/"), None, &[]).await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "seed route without a token");
    let reply = send(&http, Method::GET, &gateway.url("/dogs"), id, &[]).await;
    assert_missing_token(&reply, "unknown resource");
}

#[test]
fn gateway_refuses_bad_configuration_with_status_2() {
    for (vars, expected) in [
        (
            vec![
                ("GATEWAY_DEV_ISSUER", "1"),
                ("COGNITO_JWKS_ENDPOINT", "http://127.0.0.1:9"),
            ],
            "the dev issuer serves its own keys",
        ),
        (vec![("GATEWAY_DEV_ISSUER", "yes")], "--dev-issuer"),
        (vec![("GATEWAY_ADDR", "localhost")], "--listen"),
        (vec![("GATEWAY_AUTH", "maybe")], "--auth"),
        (
            vec![("OPENAPI_FILE", "no/such/file.json")],
            "no/such/file.json",
        ),
        (
            vec![(
                "OPENAPI_FILE",
                "tests/fixtures/openapi/bad-provider-arn.json",
            )],
            "bad-provider-arn.json",
        ),
        (
            vec![
                ("COGNITO_USER_POOL_ARNS", "not-a-pool"),
                ("GATEWAY_DEV_ISSUER", "0"),
            ],
            "not-a-pool",
        ),
    ] {
        let mut command = process::command();
        command.env("GATEWAY_ADDR", "127.0.0.1:0");
        for (name, value) in &vars {
            command.env(name, value);
        }
        let output = process::run(command, None, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{vars:?}: {stderr}");
        assert!(stderr.contains(expected), "{vars:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_environment_overrides_pools_issuer_and_token_validation() {
    // Another pool, under another issuer base, with Token validation on aud.
    let pool = "eu-west-1_OtHeR9876";
    let issuer = TestIssuer::with_issuer(pool, format!("https://issuer.example.test/{pool}"))
        .client_id("allowedclient1");
    let document_pool = TestIssuer::new(PETSTORE_POOL);
    let server = JwksServer::start(&[&issuer, &document_pool]).await.unwrap();
    let arn = format!("arn:aws:cognito-idp:eu-west-1:123456789012:userpool/{pool}");
    let gateway = gateway_with_keys(
        &server,
        &[
            ("COGNITO_USER_POOL_ARNS", &arn),
            ("COGNITO_ISSUER_ENDPOINT", "https://issuer.example.test"),
            ("COGNITO_TOKEN_VALIDATION", "allowed.*"),
        ],
    );
    let log = gateway.startup_text();
    assert!(
        log.contains("authorizer PetStoreUserPool (header authorization, token validation allowed.*, default)"),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "pool {pool} iss https://issuer.example.test/{pool} jwks {}",
            server.jwks_url(pool)
        )),
        "{log}"
    );
    assert!(
        !log.contains(PETSTORE_POOL),
        "the document's pool is replaced:\n{log}"
    );

    let http = client();
    let id = issuer.id_token().sign();
    let reply = send(&http, Method::GET, &gateway.url("/pets"), Some(&id), &[]).await;
    let body = assert_passed(&reply, "GET /pets", "ID token of the override pool");
    assert_eq!(body["claims"]["aud"], "allowedclient1");

    let other_client = issuer.id_token().claim("aud", "otherclient").sign();
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/pets"),
        Some(&other_client),
        &[],
    )
    .await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "aud not matching Token validation");
    // Token validation refuses access tokens (no aud), even with the scope.
    let access = issuer.access_token().scopes(["petstore/cats.read"]).sign();
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/cats"),
        Some(&access),
        &[],
    )
    .await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "access token under Token validation");
    let replaced = document_pool
        .id_token()
        .claim("aud", "allowedclient1")
        .sign();
    let reply = send(
        &http,
        Method::GET,
        &gateway.url("/pets"),
        Some(&replaced),
        &[],
    )
    .await;
    assert_api_gateway_401(&reply, UNAUTHORIZED, "token of the replaced document pool");
}

// ---------------------------------------------------------------------------
// test-invoke

/// Runs `cognito-gateway test-invoke` with `args`; returns (exit code, stdout, stderr).
async fn test_invoke(args: &[&str], stdin: Option<&str>) -> (Option<i32>, String, String) {
    let mut command = process::command();
    command.arg("test-invoke").args(args);
    let stdin = stdin.map(str::to_owned);
    let output = tokio::task::spawn_blocking(move || {
        process::run(command, stdin.as_deref(), Duration::from_secs(60))
    })
    .await
    .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A file under the target directory holding `text`.
fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .join(format!("gateway-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_invoke_exit_status_is_0_allow_1_deny_2_usage() {
    let issuer = TestIssuer::new(PETSTORE_POOL);
    let jwks = temp_file("petstore-jwks.json", &issuer.jwks());
    let jwks = jwks.to_str().unwrap();
    let id = issuer.id_token().claim("custom:role", "editor").sign();
    let access = issuer.access_token().scopes(["petstore/cats.read"]).sign();

    // Allow, offline: a pool and its keys from a file.
    let (code, out, err) = test_invoke(
        &["--token", &id, "--pool", PETSTORE_POOL, "--jwks", jwks],
        None,
    )
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("decision: ALLOW"), "{out}");
    assert!(
        out.contains("route: every request: identity token"),
        "{out}"
    );
    assert!(out.contains(r#""custom:role": "editor""#), "{out}");
    assert!(out.contains(r#""token_use": "id""#), "{out}");

    // The shipped export's routes: the scoped route allows the access token...
    let (code, out, err) = test_invoke(
        &["--token", &access, "--route", "GET /cats", "--jwks", jwks],
        None,
    )
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(
            "route: GET /cats: access token with any of [petstore/cats.read, petstore/pets.read]"
        ),
        "{out}"
    );
    assert!(out.contains(r#""scope": "petstore/cats.read""#), "{out}");

    // ...and the identity route denies it, showing API Gateway's response.
    let (code, out, err) = test_invoke(
        &["--token", &access, "--route", "GET /pets/7", "--jwks", jwks],
        None,
    )
    .await;
    assert_eq!(code, Some(1), "{out}{err}");
    for expected in [
        "route: GET /pets/{petId}: identity token",
        "decision: DENY (wrong token_use for route)",
        "  status: 401 Unauthorized",
        "  content-type: application/json",
        "  x-amzn-errortype: UnauthorizedException",
        r#"  body: {"message":"Unauthorized"}"#,
    ] {
        assert!(out.contains(expected), "lacks {expected:?}:\n{out}");
    }
    assert!(!out.contains(&access), "the token is never printed");

    // Expired, token read from stdin.
    let expired = issuer.id_token().expires_in(-5).sign();
    let (code, out, err) = test_invoke(
        &["--token", "-", "--route", "GET /pets", "--jwks", jwks],
        Some(&expired),
    )
    .await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("decision: DENY (token expired)"), "{out}");
    assert!(
        out.contains(r#"  body: {"message":"The incoming token has expired"}"#),
        "{out}"
    );

    // --pool with --scope; unlisted route in a document.
    let (code, out, _) = test_invoke(
        &[
            "--token",
            &access,
            "--pool",
            PETSTORE_POOL,
            "--scope",
            "other/scope",
            "--jwks",
            jwks,
        ],
        None,
    )
    .await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("decision: DENY (no matching scope)"), "{out}");
    let (code, out, _) = test_invoke(
        &["--token", &id, "--route", "GET /dogs", "--jwks", jwks],
        None,
    )
    .await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("decision: DENY (route not in policy table)"),
        "{out}"
    );

    // Keys fetched over HTTP when no file is given.
    let server = issuer.serve_jwks().await.unwrap();
    let (code, out, err) = test_invoke(
        &[
            "--token",
            &id,
            "--openapi",
            "examples/petstore-export.json",
            "--route",
            "GET /pets/7",
            "--jwks-endpoint",
            server.base_url(),
        ],
        None,
    )
    .await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(server.hits(), 1);

    // Usage and configuration errors.
    for args in [
        vec![],
        vec!["--bogus"],
        vec!["--token"],
        vec![
            "--token",
            "x",
            "--openapi",
            "examples/petstore-export.json",
            "--pool",
            PETSTORE_POOL,
        ],
        vec!["--token", "x"],
        vec![
            "--token",
            "x",
            "--openapi",
            "no/such/file.json",
            "--route",
            "GET /",
        ],
        vec!["--token", "x", "--pool", "not-a-pool"],
        vec!["--token", "x", "--pool", PETSTORE_POOL, "--route", "GET"],
        vec![
            "--token",
            "x",
            "--pool",
            PETSTORE_POOL,
            "--jwks",
            "no/such/jwks.json",
        ],
    ] {
        let (code, out, err) = test_invoke(&args, None).await;
        assert_eq!(code, Some(2), "{args:?}: {out}{err}");
        assert!(
            err.starts_with("error: ") || err.contains("test-invoke: "),
            "{args:?}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(std::path::Path::new(jwks).parent().unwrap());
}
