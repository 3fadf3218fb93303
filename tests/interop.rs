//! Interop: tokens issued by a third-party Cognito implementation (moto's user
//! pool emulator), verified by the layer in a real axum server on loopback.
//!
//! Every test creates its own pool through moto's Cognito API (custom
//! attribute `role`, an app client, resource server `orders` with scopes `read`
//! and `write`, groups `admin` and `staging-manager`, user `alice` with a
//! permanent password), signs in with `USER_PASSWORD_AUTH` and/or
//! `ADMIN_USER_PASSWORD_AUTH`, serves an axum 0.8 app on `127.0.0.1:0` and
//! calls it with reqwest.
//!
//! The layer fetches moto's JWKS over HTTP through
//! `.jwks_endpoint(moto_endpoint)`, while the issuer it expects keeps the AWS
//! form `https://cognito-idp.{region}.amazonaws.com/{poolId}`, which is what
//! moto puts in `iss`.
//!
//! Run with `scripts/test` (or `scripts/moto-env.sh run cargo test --test
//! interop`). Without `TOWER_COGNITO_MOTO_ENDPOINT` each test prints that it
//! was skipped and how to run it, unless `TOWER_COGNITO_REQUIRE_INTEROP=1`,
//! which turns the skip into a failure.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde_json::Value;
use support::loopback::{bounded, client, get as http_get, Reply, TestServer};
use support::moto::{jwt_claims, jwt_header, mark_ran, Fixture, MotoCognito, Tokens, UserPool};
use tower_cognito::claims::CognitoClaims;
use tower_cognito::testing::TestIssuer;
use tower_cognito::{CognitoAuthBuilder, CognitoAuthLayer};

/// The scope moto puts in every access token.
const MOTO_SCOPE: &str = "aws.cognito.signin.user.admin";

// ---------------------------------------------------------------------------
// Set-up

/// One test's world: moto, a fresh pool with everything in it, and tokens
/// from both password flows.
struct World {
    moto: MotoCognito,
    fixture: Fixture,
    /// `InitiateAuth` / `USER_PASSWORD_AUTH` (what an app does).
    user_auth: Tokens,
    /// `AdminInitiateAuth` / `ADMIN_USER_PASSWORD_AUTH` (what a backend does).
    admin_auth: Tokens,
    http: reqwest::Client,
}

/// A pool name unique to this test and run, so reruns against a long-lived
/// moto never meet an earlier run's pool.
fn pool_name(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!("tower-cognito-{test}-{}-{nanos}", std::process::id())
}

async fn fixture(moto: &MotoCognito, test: &str) -> Fixture {
    bounded("create the moto fixture", moto.fixture(&pool_name(test)))
        .await
        .unwrap_or_else(|e| panic!("moto fixture: {e}"))
}

/// `None` (after `MotoCognito::require` printed the skip message) when no moto
/// is configured and interop is not required.
async fn world(test: &str) -> Option<World> {
    let moto = MotoCognito::require()?;
    let fixture = fixture(&moto, test).await;
    let user_auth = bounded("InitiateAuth", fixture.sign_in(&moto))
        .await
        .unwrap_or_else(|e| panic!("USER_PASSWORD_AUTH: {e}"));
    let admin_auth = bounded(
        "AdminInitiateAuth",
        moto.admin_initiate_auth(
            &fixture.pool.id,
            &fixture.client_id,
            Fixture::USERNAME,
            Fixture::PASSWORD,
        ),
    )
    .await
    .unwrap_or_else(|e| panic!("ADMIN_USER_PASSWORD_AUTH: {e}"));
    Some(World {
        moto,
        fixture,
        user_auth,
        admin_auth,
        http: client(),
    })
}

/// A layer for these pools (by ARN, as in API Gateway's `providerARNs`) with
/// keys fetched from `jwks_base`; the expected issuers keep the AWS form.
fn builder(jwks_base: &str, pools: &[&UserPool]) -> CognitoAuthBuilder {
    CognitoAuthLayer::builder()
        .user_pools(pools.iter().map(|p| p.arn.clone()))
        .jwks_endpoint(jwks_base)
}

/// Builds the layer and waits for its first key load.
async fn build(builder: CognitoAuthBuilder) -> CognitoAuthLayer {
    let layer = builder.build().expect("layer configuration");
    bounded("first key load", layer.key_store().load())
        .await
        .unwrap_or_else(|e| panic!("key load: {e}"));
    layer
}

/// The handler behind every protected route: API Gateway's
/// `$context.authorizer.claims` map as JSON.
async fn claims_map(claims: CognitoClaims) -> Json<Value> {
    Json(claims.api_gateway().to_json())
}

/// The app under test:
/// - `/identity`: the authorizer with no OAuth scopes (ID tokens only);
/// - `/orders/read`, `/orders/write`: one custom scope each;
/// - `/orders/any`: either custom scope;
/// - `/profile`: moto's only scope, `aws.cognito.signin.user.admin`.
fn app(auth: &CognitoAuthLayer) -> Router {
    let scoped = |scopes: &[&str]| {
        auth.require_scopes(scopes.iter().copied())
            .expect("valid scopes")
    };
    Router::new()
        .route("/identity", get(claims_map).route_layer(auth.clone()))
        .route(
            "/orders/read",
            get(claims_map).route_layer(scoped(&["orders/read"])),
        )
        .route(
            "/orders/write",
            get(claims_map).route_layer(scoped(&["orders/write"])),
        )
        .route(
            "/orders/any",
            get(claims_map).route_layer(scoped(&["orders/read", "orders/write"])),
        )
        .route(
            "/profile",
            get(claims_map).route_layer(scoped(&[MOTO_SCOPE])),
        )
}

/// Builds the layer, waits for its keys and serves [`app`].
async fn serve(builder: CognitoAuthBuilder) -> TestServer {
    TestServer::start(app(&build(builder).await)).await
}

// ---------------------------------------------------------------------------
// Checks

/// API Gateway's default 401, byte for byte.
#[track_caller]
fn assert_unauthorized(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{what}: expected 401, got {} with body {}",
        reply.status,
        reply.body
    );
    assert_eq!(reply.body, r#"{"message":"Unauthorized"}"#, "{what}: body");
    assert_eq!(
        reply.header("content-type"),
        "application/json",
        "{what}: content-type"
    );
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        "UnauthorizedException",
        "{what}: x-amzn-ErrorType"
    );
}

/// 200 with the claims map; returns the map.
#[track_caller]
fn assert_ok(reply: &Reply, what: &str) -> Value {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{what}: expected 200, got {} with body {}",
        reply.status,
        reply.body
    );
    reply.json()
}

/// Java's `Date.toString()` in UTC (`EEE MMM dd HH:mm:ss zzz yyyy`), written
/// here independently of the crate (day by day from 1970) so the test does
/// not check the crate against itself.
fn java_date(secs: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let mut days = secs / 86_400;
    let time = secs % 86_400;
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[((days + 4) % 7) as usize];
    let mut year = 1970;
    while days >= if leap(year) { 366 } else { 365 } {
        days -= if leap(year) { 366 } else { 365 };
        year += 1;
    }
    let month_days = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut month = 0;
    while days >= month_days[month] {
        days -= month_days[month];
        month += 1;
    }
    format!(
        "{weekday} {} {:02} {:02}:{:02}:{:02} UTC {year}",
        MONTHS[month],
        days + 1,
        time / 3600,
        time % 3600 / 60,
        time % 60
    )
}

/// A numeric claim of a token (decoded without verification).
fn numeric_claim(claims: &Value, name: &str) -> u64 {
    claims[name]
        .as_u64()
        .unwrap_or_else(|| panic!("token claim {name} is not an integer: {}", claims[name]))
}

/// `cognito:groups` as a sorted list. moto returns the groups in no fixed
/// order (it varies between runs), so they are compared as a set.
fn groups_of(map: &Value) -> Vec<String> {
    let mut groups: Vec<String> = map["cognito:groups"]
        .as_str()
        .unwrap_or_else(|| panic!("cognito:groups is not a string: {map}"))
        .split(',')
        .map(str::to_owned)
        .collect();
    groups.sort();
    groups
}

fn expected_groups() -> Vec<String> {
    let mut groups: Vec<String> = Fixture::GROUPS.iter().map(|g| g.to_string()).collect();
    groups.sort();
    groups
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn java_date_helper_matches_the_aws_documentation() {
    // The example of `$context.authorizer.claims` in API Gateway's docs.
    assert_eq!(java_date(1_544_116_103), "Thu Dec 06 17:08:23 UTC 2018");
    assert_eq!(java_date(951_782_400), "Tue Feb 29 00:00:00 UTC 2000");
    assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
}

#[tokio::test]
async fn id_token_on_identity_route_yields_api_gateway_claims() {
    let Some(w) = world("id-claims").await else {
        return;
    };
    let pool = &w.fixture.pool;
    let layer = build(builder(w.moto.endpoint(), &[pool])).await;

    // The keys came over HTTP from moto, while the issuer is the AWS form.
    let status = layer.key_store().status();
    let [pool_status] = &status.pools[..] else {
        panic!("expected one pool, got {:?}", status.pools);
    };
    assert_eq!(pool_status.jwks_url, pool.jwks_url);
    assert!(pool_status.jwks_url.starts_with(w.moto.endpoint()));
    assert_eq!(pool_status.issuer, pool.issuer);
    assert!(
        pool.issuer
            .starts_with("https://cognito-idp.us-east-1.amazonaws.com/"),
        "{}",
        pool.issuer
    );
    assert!(pool_status.kids.iter().any(|k| k == "dummy"));

    let server = TestServer::start(app(&layer)).await;
    let token = &w.user_auth.id_token;
    let header = jwt_header(token).expect("token header");
    let claims = jwt_claims(token).expect("token claims");
    assert_eq!(header["kid"], "dummy");
    assert_eq!(
        claims["iss"],
        pool.issuer.as_str(),
        "moto keeps the AWS iss"
    );

    let map = assert_ok(
        &http_get(&w.http, &server.url("/identity"), Some(token)).await,
        "USER_PASSWORD_AUTH ID token on /identity",
    );
    assert_eq!(groups_of(&map), expected_groups());
    assert_eq!(map["custom:role"], Fixture::ROLE);
    assert_eq!(map["cognito:username"], Fixture::USERNAME);
    assert_eq!(map["email"], Fixture::EMAIL);
    assert_eq!(map["token_use"], "id");
    assert_eq!(map["aud"], w.fixture.client_id.as_str());
    assert_eq!(map["iss"], pool.issuer.as_str());
    assert_eq!(map["sub"], claims["sub"]);
    let exp = numeric_claim(&claims, "exp");
    let iat = numeric_claim(&claims, "iat");
    assert_eq!(map["exp"], java_date(exp).as_str());
    assert_eq!(map["iat"], java_date(iat).as_str());
    assert_eq!(
        map["auth_time"],
        numeric_claim(&claims, "auth_time").to_string().as_str()
    );
    // Every value is a string, as in `$context.authorizer.claims`.
    for (name, value) in map.as_object().expect("a JSON object") {
        assert!(value.is_string(), "{name} is not a string: {value}");
    }

    // The other sign-in flow's ID token gets the same treatment.
    let map = assert_ok(
        &http_get(
            &w.http,
            &server.url("/identity"),
            Some(&w.admin_auth.id_token),
        )
        .await,
        "ADMIN_USER_PASSWORD_AUTH ID token on /identity",
    );
    assert_eq!(map["cognito:username"], Fixture::USERNAME);
    assert_eq!(map["custom:role"], Fixture::ROLE);
    assert_eq!(groups_of(&map), expected_groups());

    mark_ran("id_token_on_identity_route_yields_api_gateway_claims");
}

#[tokio::test]
async fn access_token_on_identity_route_is_api_gateway_401() {
    let Some(w) = world("access-on-identity").await else {
        return;
    };
    let server = serve(builder(w.moto.endpoint(), &[&w.fixture.pool])).await;
    for (flow, tokens) in [
        ("USER_PASSWORD_AUTH", &w.user_auth),
        ("ADMIN_USER_PASSWORD_AUTH", &w.admin_auth),
    ] {
        let token = &tokens.access_token;
        assert_eq!(jwt_claims(token).expect("claims")["token_use"], "access");
        assert_unauthorized(
            &http_get(&w.http, &server.url("/identity"), Some(token)).await,
            &format!("{flow} access token on /identity"),
        );
        // The same token passes a route asking for its scope: the 401 above is
        // the token_use rule, not a key or issuer problem.
        let map = assert_ok(
            &http_get(&w.http, &server.url("/profile"), Some(token)).await,
            &format!("{flow} access token on /profile ({MOTO_SCOPE})"),
        );
        assert_eq!(map["scope"], MOTO_SCOPE);
        assert_eq!(map["client_id"], w.fixture.client_id.as_str());
        assert_eq!(map["username"], Fixture::USERNAME);
    }
    mark_ran("access_token_on_identity_route_is_api_gateway_401");
}

#[tokio::test]
async fn id_token_on_scoped_route_is_401() {
    let Some(w) = world("id-on-scoped").await else {
        return;
    };
    let server = serve(builder(w.moto.endpoint(), &[&w.fixture.pool])).await;
    let token = &w.user_auth.id_token;
    for path in ["/profile", "/orders/read", "/orders/any"] {
        assert_unauthorized(
            &http_get(&w.http, &server.url(path), Some(token)).await,
            &format!("ID token on {path}"),
        );
    }
    // Control: the same ID token on the identity route.
    assert_ok(
        &http_get(&w.http, &server.url("/identity"), Some(token)).await,
        "ID token on /identity",
    );
    mark_ran("id_token_on_scoped_route_is_401");
}

#[tokio::test]
async fn second_pool_token_accepted_only_when_both_pools_configured() {
    let Some(w) = world("two-pools-a").await else {
        return;
    };
    // The second pool lives in another region, so its issuer differs in the
    // region as well as the pool ID.
    let moto_b = w.moto.with_region("eu-west-1");
    let fixture_b = fixture(&moto_b, "two-pools-b").await;
    assert!(fixture_b.pool.id.starts_with("eu-west-1_"));
    let token_b = bounded("InitiateAuth (pool B)", fixture_b.sign_in(&moto_b))
        .await
        .unwrap_or_else(|e| panic!("USER_PASSWORD_AUTH (pool B): {e}"))
        .id_token;
    let token_a = &w.user_auth.id_token;
    // moto signs every pool with the same key (kid `dummy`), so pool B's token
    // would verify with pool A's keys: what these checks exercise is the
    // selection of the pool by exact `iss`, not the key.
    assert_eq!(jwt_header(&token_b).expect("header")["kid"], "dummy");
    let url = "/identity";

    let only_a = serve(builder(w.moto.endpoint(), &[&w.fixture.pool])).await;
    assert_ok(
        &http_get(&w.http, &only_a.url(url), Some(token_a)).await,
        "pool A's token, pool A configured",
    );
    assert_unauthorized(
        &http_get(&w.http, &only_a.url(url), Some(&token_b)).await,
        "pool B's token, only pool A configured",
    );

    let both = serve(builder(
        w.moto.endpoint(),
        &[&w.fixture.pool, &fixture_b.pool],
    ))
    .await;
    let map = assert_ok(
        &http_get(&w.http, &both.url(url), Some(&token_b)).await,
        "pool B's token, both pools configured",
    );
    assert_eq!(map["iss"], fixture_b.pool.issuer.as_str());
    assert_eq!(map["aud"], fixture_b.client_id.as_str());
    assert_ok(
        &http_get(&w.http, &both.url(url), Some(token_a)).await,
        "pool A's token, both pools configured",
    );
    mark_ran("second_pool_token_accepted_only_when_both_pools_configured");
}

#[tokio::test]
async fn token_validation_regex_with_app_client_id() {
    let Some(w) = world("token-validation").await else {
        return;
    };
    let client_id = &w.fixture.client_id;
    // Used as a regular expression as is: make sure it has no metacharacters.
    assert!(
        client_id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "unexpected client ID {client_id:?}"
    );
    let pool = &w.fixture.pool;
    let id_token = &w.user_auth.id_token;
    let access_token = &w.user_auth.access_token;

    // Without Token validation the access token passes its scoped route...
    let plain = serve(builder(w.moto.endpoint(), &[pool])).await;
    assert_ok(
        &http_get(&w.http, &plain.url("/profile"), Some(access_token)).await,
        "access token, no Token validation",
    );

    // ...with it, only tokens whose `aud` matches pass: the ID token does, the
    // access token (no `aud`) does not, even on the route asking for its scope.
    let validated = serve(builder(w.moto.endpoint(), &[pool]).token_validation(client_id)).await;
    let map = assert_ok(
        &http_get(&w.http, &validated.url("/identity"), Some(id_token)).await,
        "ID token, Token validation = its app client ID",
    );
    assert_eq!(map["aud"], client_id.as_str());
    assert_unauthorized(
        &http_get(&w.http, &validated.url("/profile"), Some(access_token)).await,
        "access token, Token validation set",
    );

    // Another app client's ID refuses the ID token.
    let other_client = bounded(
        "CreateUserPoolClient",
        w.moto.create_app_client(&pool.id, "other", &[]),
    )
    .await
    .unwrap_or_else(|e| panic!("second app client: {e}"));
    assert_ne!(&other_client, client_id);
    let other = serve(builder(w.moto.endpoint(), &[pool]).token_validation(&other_client)).await;
    assert_unauthorized(
        &http_get(&w.http, &other.url("/identity"), Some(id_token)).await,
        "ID token, Token validation = another client's ID",
    );
    mark_ran("token_validation_regex_with_app_client_id");
}

#[tokio::test]
async fn token_from_unconfigured_pool_is_401() {
    let Some(w) = world("unconfigured-pool").await else {
        return;
    };
    // A pool moto never created. moto still answers its JWKS path with the one
    // key it signs everything with, so keys load and the token's signature
    // would verify: only the issuer tells the pools apart.
    let absent = "us-east-1_0123456789abcdef0123456789abcdef";
    assert_ne!(w.fixture.pool.id, absent);
    let layer = build(
        CognitoAuthLayer::builder()
            .user_pool(absent)
            .jwks_endpoint(w.moto.endpoint()),
    )
    .await;
    assert!(layer.key_store().status().ready());
    let server = TestServer::start(app(&layer)).await;
    for (what, token) in [
        ("ID token", &w.user_auth.id_token),
        ("admin-flow ID token", &w.admin_auth.id_token),
    ] {
        assert_unauthorized(
            &http_get(&w.http, &server.url("/identity"), Some(token)).await,
            &format!("{what} from a pool that is not configured"),
        );
    }
    assert_unauthorized(
        &http_get(
            &w.http,
            &server.url("/profile"),
            Some(&w.user_auth.access_token),
        )
        .await,
        "access token from a pool that is not configured",
    );
    mark_ran("token_from_unconfigured_pool_is_401");
}

/// Serves `{poolId}/.well-known/jwks.json` for one pool: moto's keys for it
/// plus `extra`'s key. Other paths answer 404.
async fn merged_jwks_server(moto: &MotoCognito, pool: &UserPool, extra: &TestIssuer) -> TestServer {
    let mut jwks = bounded("GET moto's JWKS", moto.get_json(&pool.jwks_url))
        .await
        .unwrap_or_else(|e| panic!("moto JWKS: {e}"));
    jwks["keys"]
        .as_array_mut()
        .expect("moto's JWKS has a keys array")
        .push(extra.jwk());
    let body = jwks.to_string();
    let app = Router::new().route(
        &format!("/{}/.well-known/jwks.json", pool.id),
        get(move || {
            let body = body.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    TestServer::start(app).await
}

#[tokio::test]
async fn custom_scopes_with_minted_access_tokens() {
    let Some(w) = world("custom-scopes").await else {
        return;
    };
    let pool = &w.fixture.pool;
    // moto cannot issue access tokens with resource-server scopes (it has no
    // client_credentials flow, and its access tokens always carry only
    // `aws.cognito.signin.user.admin`). So these tokens are minted here with a
    // key this test controls, for moto's pool (its AWS-form issuer and app
    // client). The layer fetches that key over HTTP from a small JWKS server
    // on loopback that serves moto's key for the pool plus the test key, so
    // moto's own tokens keep verifying through the same layer.
    let issuer =
        TestIssuer::with_issuer(&pool.id, pool.issuer.clone()).client_id(&w.fixture.client_id);
    let jwks = merged_jwks_server(&w.moto, pool, &issuer).await;
    let layer = build(builder(&jwks.base_url(), &[pool])).await;
    let kids = &layer.key_store().status().pools[0].kids;
    assert!(kids.iter().any(|k| k == "dummy"), "{kids:?}");
    assert!(kids.iter().any(|k| k == issuer.key_id()), "{kids:?}");
    let server = TestServer::start(app(&layer)).await;
    let call = |path: &'static str, token: String| {
        let http = w.http.clone();
        let url = server.url(path);
        async move { http_get(&http, &url, Some(&token)).await }
    };
    let access = |scopes: &[&str]| {
        issuer
            .access_token()
            .claim("username", Fixture::USERNAME)
            .scopes(scopes)
            .sign()
    };

    let read = access(&["orders/read"]);
    let map = assert_ok(
        &call("/orders/read", read.clone()).await,
        "orders/read on /orders/read",
    );
    assert_eq!(map["scope"], "orders/read");
    assert_eq!(map["client_id"], w.fixture.client_id.as_str());
    assert_eq!(map["iss"], pool.issuer.as_str());
    assert_ok(
        &call("/orders/any", read.clone()).await,
        "orders/read on /orders/any",
    );
    assert_unauthorized(
        &call("/orders/write", read.clone()).await,
        "orders/read on /orders/write",
    );
    assert_unauthorized(&call("/identity", read).await, "access token on /identity");

    let both = access(&["orders/read", "orders/write"]);
    let map = assert_ok(
        &call("/orders/write", both.clone()).await,
        "two scopes on /orders/write",
    );
    assert_eq!(
        map["scope"], "orders/read orders/write",
        "scope keeps its space"
    );
    assert_ok(
        &call("/orders/read", both).await,
        "two scopes on /orders/read",
    );

    // Scopes compare exactly, case-sensitively.
    assert_unauthorized(
        &call("/orders/read", access(&["Orders/read"])).await,
        "Orders/read on /orders/read",
    );
    assert_unauthorized(
        &call("/orders/read", access(&["orders"])).await,
        "bare resource server on /orders/read",
    );
    // A minted ID token is refused on a scoped route, as moto's is.
    assert_unauthorized(
        &call("/orders/read", issuer.id_token().sign()).await,
        "minted ID token on /orders/read",
    );

    // moto's own tokens through the same layer: its access token lacks the
    // custom scopes; its ID token still passes the identity route.
    assert_unauthorized(
        &call("/orders/any", w.user_auth.access_token.clone()).await,
        "moto access token on /orders/any",
    );
    assert_ok(
        &call("/profile", w.user_auth.access_token.clone()).await,
        "moto access token on /profile",
    );
    assert_ok(
        &call("/identity", w.user_auth.id_token.clone()).await,
        "moto ID token on /identity",
    );
    mark_ran("custom_scopes_with_minted_access_tokens");
}
