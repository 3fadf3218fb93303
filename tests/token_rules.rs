//! Every request rule of the authorizer, through the layer around a recording
//! inner service. Keys are seeded inline; nothing here fetches.

mod common;

use common::*;
use serde_json::json;
use std::sync::OnceLock;
use std::time::Duration;
use tower_cognito::testing::TestIssuer;
use tower_cognito::{
    CognitoAuthBuilder, CognitoAuthLayer, ConfigError, GatewayResponse, RejectionKind,
    ResponseType, RoutePolicy,
};

fn issuer() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new(POOL))
}

fn other_key_same_kid() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new(POOL).kid(issuer().key_id()))
}

/// Seeded with the shared test key (see `common::seeded`).
fn seeded() -> CognitoAuthBuilder {
    common::seeded(issuer())
}

fn identity_layer() -> CognitoAuthLayer {
    seeded().build().unwrap()
}

fn scoped_layer() -> CognitoAuthLayer {
    seeded()
        .scopes(["pets/read", "pets/write"])
        .build()
        .unwrap()
}

// ---- 1. Configuration ------------------------------------------------------

#[test]
fn bad_configuration_is_an_error_naming_the_value() {
    let cases: Vec<(CognitoAuthBuilder, &str)> = vec![
        (CognitoAuthLayer::builder(), "at least one user pool"),
        (
            CognitoAuthLayer::builder().user_pool("not-a-pool"),
            "\"not-a-pool\"",
        ),
        (
            CognitoAuthLayer::builder()
                .user_pool("arn:aws:cognito-idp:us-east-1:12:userpool/us-east-1_x"),
            "arn:aws:cognito-idp:us-east-1:12:userpool/us-east-1_x",
        ),
        (
            CognitoAuthLayer::builder()
                .user_pool(POOL)
                .token_validation("(unclosed"),
            "(unclosed",
        ),
        (
            CognitoAuthLayer::builder()
                .user_pool(POOL)
                .jwks_endpoint("ftp://x"),
            "ftp://x",
        ),
        (
            CognitoAuthLayer::builder()
                .user_pool(POOL)
                .token_header("bad header"),
            "bad header",
        ),
        (
            CognitoAuthLayer::builder()
                .user_pool(POOL)
                .scopes(["has space"]),
            "has space",
        ),
        (
            CognitoAuthLayer::builder().user_pool(POOL).jwks(POOL, "{}"),
            POOL,
        ),
        (
            CognitoAuthLayer::builder().user_pools((0..1001).map(|i| format!("us-east-1_p{i}"))),
            "1001",
        ),
    ];
    for (builder, needle) in cases {
        let err = builder.build().unwrap_err();
        assert!(
            err.to_string().contains(needle),
            "{err} should name {needle}"
        );
    }
}

#[test]
fn pools_as_arns_or_ids_and_emulator_ids_with_overrides() {
    let layer = CognitoAuthLayer::builder()
        .user_pool("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC")
        .user_pool("eu-west-1_XyZ")
        .build()
        .unwrap();
    let status = layer.key_store().status();
    assert_eq!(status.pools.len(), 2);
    assert_eq!(
        status.pools[0].issuer,
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC"
    );
    assert_eq!(
        status.pools[1].jwks_url,
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_XyZ/.well-known/jwks.json"
    );
    // Emulator IDs only with an endpoint override.
    assert!(matches!(
        CognitoAuthLayer::builder()
            .user_pool("local_ab12cd34")
            .build(),
        Err(ConfigError::InvalidUserPool { .. })
    ));
    let layer = CognitoAuthLayer::builder()
        .user_pool("local_ab12cd34")
        .jwks_endpoint("http://127.0.0.1:9229/")
        .issuer_endpoint("http://127.0.0.1:9229")
        .build()
        .unwrap();
    let pool = &layer.key_store().status().pools[0];
    assert_eq!(pool.issuer, "http://127.0.0.1:9229/local_ab12cd34");
    assert_eq!(
        pool.jwks_url,
        "http://127.0.0.1:9229/local_ab12cd34/.well-known/jwks.json"
    );
    // Only the JWKS base overridden: iss keeps the AWS form (moto).
    let layer = CognitoAuthLayer::builder()
        .user_pool("us-east-1_0123456789abcdef0123456789abcdef")
        .jwks_endpoint("http://127.0.0.1:5000")
        .build()
        .unwrap();
    let pool = &layer.key_store().status().pools[0];
    assert_eq!(
        pool.issuer,
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_0123456789abcdef0123456789abcdef"
    );
    assert!(pool.jwks_url.starts_with("http://127.0.0.1:5000/"));
}

// ---- 2. Token source --------------------------------------------------------

#[tokio::test]
async fn valid_id_token_passes_bare_or_bearer() {
    let layer = identity_layer();
    let token = issuer().id_token().sign();
    for value in [
        token.clone(),
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("BEARER {token}"),
    ] {
        let out = send_token(&layer, &value).await;
        assert_eq!(out.status, 200, "{out:?}");
        assert_eq!(out.body_str(), "ok");
        assert_eq!(out.claims.unwrap().username(), Some("testuser"));
    }
}

#[tokio::test]
async fn token_source_failures_stop_before_any_key_work() {
    let layer = identity_layer();
    let token = issuer().id_token().sign();
    let out = send(&layer, &[]).await;
    assert_unauthorized(&out);
    assert_eq!(out.kind(), RejectionKind::MissingToken);
    assert_eq!(
        send_token(&layer, "").await.kind(),
        RejectionKind::MissingToken
    );
    assert_eq!(
        send_token(&layer, "Bearer").await.kind(),
        RejectionKind::MissingToken
    );
    let out = send(
        &layer,
        &[("authorization", &token), ("authorization", &token)],
    )
    .await;
    assert_unauthorized(&out);
    assert_eq!(out.kind(), RejectionKind::MultipleTokens);
    let long = "a".repeat(8 * 1024 + 1);
    assert_eq!(
        send_token(&layer, &long).await.kind(),
        RejectionKind::TokenTooLarge
    );
    // The header name is case-insensitive and configurable.
    let custom = seeded().token_header("X-Id-Token").build().unwrap();
    assert_eq!(send(&custom, &[("x-id-token", &token)]).await.status, 200);
    assert_eq!(
        send(&custom, &[("authorization", &token)]).await.kind(),
        RejectionKind::MissingToken
    );
    // The cap is configurable; a valid token over it is refused.
    let small = seeded().max_token_len(100).build().unwrap();
    assert_eq!(
        send_token(&small, &token).await.kind(),
        RejectionKind::TokenTooLarge
    );
}

// ---- 3. Verification --------------------------------------------------------

#[tokio::test]
async fn signature_algorithm_and_key_selection() {
    let layer = identity_layer();
    let i = issuer();
    // Signed by another key that claims the same kid.
    let forged = other_key_same_kid().id_token().sign();
    assert_eq!(
        send_token(&layer, &forged).await.kind(),
        RejectionKind::InvalidSignature
    );
    // Algorithm is pinned, whatever the token says.
    for alg in ["none", "HS256", "RS384", "RS512", "PS256", "ES256"] {
        let t = i.id_token().header("alg", alg).sign();
        assert_eq!(
            send_token(&layer, &t).await.kind(),
            RejectionKind::UnsupportedHeader,
            "{alg}"
        );
    }
    // Key material in the header is never used.
    for (field, value) in [
        ("jku", json!("http://127.0.0.1:1/keys")),
        ("x5u", json!("http://127.0.0.1:1/cert")),
        ("jwk", i.jwk()),
        ("x5c", json!(["MIIB"])),
    ] {
        let t = i.id_token().header(field, value).sign();
        assert_eq!(
            send_token(&layer, &t).await.kind(),
            RejectionKind::UnsupportedHeader,
            "{field}"
        );
    }
    let no_kid = i.sign_raw(
        &json!({"alg": "RS256"}),
        &json!({"iss": i.issuer(), "exp": 9_999_999_999i64, "token_use": "id"}),
    );
    assert_eq!(
        send_token(&layer, &no_kid).await.kind(),
        RejectionKind::MissingKeyId
    );
    // Issuer must match a configured pool exactly.
    for iss in [
        issuer_of(POOL2),
        format!("{}/", i.issuer()),
        i.issuer().replace("https://", "http://"),
        i.issuer().to_uppercase(),
    ] {
        let t = i.id_token().claim("iss", iss.clone()).sign();
        assert_eq!(
            send_token(&layer, &t).await.kind(),
            RejectionKind::UnknownIssuer,
            "{iss}"
        );
    }
    let t = i.id_token().without("iss").sign();
    assert_eq!(
        send_token(&layer, &t).await.kind(),
        RejectionKind::UnknownIssuer
    );
    // Tampered payload.
    let good = i.id_token().sign();
    let parts: Vec<&str> = good.split('.').collect();
    let other = i.id_token().claim("cognito:username", "mallory").sign();
    let spliced = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert_eq!(
        send_token(&layer, &spliced).await.kind(),
        RejectionKind::InvalidSignature
    );
    assert_eq!(
        send_token(&layer, "a.b.c").await.kind(),
        RejectionKind::MalformedToken
    );
}

#[tokio::test]
async fn expiry_and_numeric_claims() {
    let layer = identity_layer();
    let i = issuer();
    let out = send_token(&layer, &i.id_token().expires_in(-1).sign()).await;
    assert_eq!(out.status, 401);
    assert_eq!(
        out.body_str(),
        r#"{"message":"The incoming token has expired"}"#
    );
    assert_eq!(out.headers["content-type"], "application/json");
    assert_eq!(out.headers["x-amzn-errortype"], "UnauthorizedException");
    assert_eq!(out.kind(), RejectionKind::Expired);
    // exp equal to now counts as expired.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(
        send_token(&layer, &i.id_token().claim("exp", now).sign())
            .await
            .kind(),
        RejectionKind::Expired
    );
    for bad in [
        json!("9999999999"),
        json!(9_999_999_999.5f64),
        json!(-1),
        json!(1e300),
        json!(null),
        json!(true),
    ] {
        let t = i.id_token().claim("exp", bad.clone()).sign();
        assert_eq!(
            send_token(&layer, &t).await.kind(),
            RejectionKind::InvalidClaims,
            "exp {bad}"
        );
    }
    assert_eq!(
        send_token(&layer, &i.id_token().without("exp").sign())
            .await
            .kind(),
        RejectionKind::InvalidClaims
    );
    for claim in ["iat", "nbf", "auth_time"] {
        let t = i.id_token().claim(claim, "1544112503").sign();
        assert_eq!(
            send_token(&layer, &t).await.kind(),
            RejectionKind::InvalidClaims,
            "{claim}"
        );
    }
    let t = i.id_token().claim("nbf", now + 3600).sign();
    assert_eq!(
        send_token(&layer, &t).await.kind(),
        RejectionKind::NotYetValid
    );
    let t = i.id_token().claim("iat", now + 3600).sign();
    assert_eq!(
        send_token(&layer, &t).await.kind(),
        RejectionKind::NotYetValid
    );
    // Leeway: configurable, default 0.
    let lenient = seeded().leeway(Duration::from_secs(60)).build().unwrap();
    let t = i.id_token().expires_in(-30).sign();
    assert_eq!(send_token(&lenient, &t).await.status, 200);
    assert_eq!(send_token(&layer, &t).await.kind(), RejectionKind::Expired);
}

/// A token nobody signed: header and payload as given, random signature bytes.
fn unsigned(header: &serde_json::Value, payload: &serde_json::Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let enc = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        enc(header),
        enc(payload),
        URL_SAFE_NO_PAD.encode([0x5a; 256])
    )
}

#[tokio::test]
async fn only_a_configured_issuer_hears_that_its_token_expired() {
    // Expiry is decided before any key work, so a token nobody signed can
    // reach that answer: it must at least name a configured pool, or a
    // forger could pick the "expired" body for any token.
    let layer = identity_layer();
    let i = issuer();
    let header = json!({"alg": "RS256", "kid": i.key_id()});
    let past = json!(1_000_000_000);
    for iss in [
        json!(issuer_of("us-west-2_Unknown1")),
        json!(format!("{}/", i.issuer())),
        json!(5),
        json!(null),
    ] {
        let t = unsigned(
            &header,
            &json!({"iss": iss, "exp": past, "token_use": "id"}),
        );
        let out = send_token(&layer, &t).await;
        assert_unauthorized(&out);
        assert_eq!(out.kind(), RejectionKind::UnknownIssuer, "iss {iss}");
        // A mistyped exp with an unknown issuer is an unknown issuer too.
        let t = unsigned(&header, &json!({"iss": iss, "exp": "1", "token_use": "id"}));
        assert_eq!(
            send_token(&layer, &t).await.kind(),
            RejectionKind::UnknownIssuer
        );
    }
    let t = unsigned(&header, &json!({"exp": past, "token_use": "id"}));
    assert_eq!(
        send_token(&layer, &t).await.kind(),
        RejectionKind::UnknownIssuer
    );
    // A configured issuer: still refused as expired before the key is looked
    // up (the kid is unknown and nothing serves keys, so any key work would
    // answer otherwise).
    let stranger = json!({"alg": "RS256", "kid": "nobody-has-this-kid"});
    let t = unsigned(
        &stranger,
        &json!({"iss": i.issuer(), "exp": past, "token_use": "id"}),
    );
    let out = send_token(&layer, &t).await;
    assert_eq!(out.kind(), RejectionKind::Expired);
    assert_eq!(
        out.body_str(),
        r#"{"message":"The incoming token has expired"}"#
    );
}

// ---- 4. token_use and scopes --------------------------------------------------

#[tokio::test]
async fn routes_without_scopes_take_only_id_tokens() {
    let layer = identity_layer();
    let i = issuer();
    assert_eq!(send_token(&layer, &i.id_token().sign()).await.status, 200);
    let out = send_token(&layer, &i.access_token().sign()).await;
    assert_unauthorized(&out);
    assert_eq!(out.kind(), RejectionKind::WrongTokenUse);
    for bad in [json!("ID"), json!("refresh"), json!(1)] {
        let t = i.id_token().claim("token_use", bad).sign();
        assert_eq!(send_token(&layer, &t).await.status, 401);
    }
    let both = seeded().accept_any_token_use(true).build().unwrap();
    assert_eq!(
        send_token(&both, &i.access_token().sign()).await.status,
        200
    );
    assert_eq!(send_token(&both, &i.id_token().sign()).await.status, 200);
}

#[tokio::test]
async fn routes_with_scopes_take_access_tokens_with_any_listed_scope() {
    let layer = scoped_layer();
    let i = issuer();
    assert_eq!(
        send_token(&layer, &i.access_token().scopes(["pets/read"]).sign())
            .await
            .status,
        200
    );
    assert_eq!(
        send_token(
            &layer,
            &i.access_token().scopes(["x/y", "pets/write"]).sign()
        )
        .await
        .status,
        200
    );
    for scopes in [
        vec!["PETS/READ"],
        vec!["pets/rea"],
        vec!["pets/reads"],
        vec!["pets"],
        vec![],
        vec!["aws.cognito.signin.user.admin"],
    ] {
        let out = send_token(&layer, &i.access_token().scopes(&scopes).sign()).await;
        assert_unauthorized(&out);
        assert_eq!(out.kind(), RejectionKind::InsufficientScope, "{scopes:?}");
    }
    let out = send_token(&layer, &i.id_token().claim("scope", "pets/read").sign()).await;
    assert_unauthorized(&out);
    assert_eq!(out.kind(), RejectionKind::WrongTokenUse);
    // accept_any_token_use does not open scoped routes to ID tokens.
    let both = seeded()
        .scopes(["pets/read"])
        .accept_any_token_use(true)
        .build()
        .unwrap();
    assert_eq!(
        send_token(&both, &i.id_token().sign()).await.kind(),
        RejectionKind::WrongTokenUse
    );
}

#[tokio::test]
async fn token_validation_regex_full_match_on_aud() {
    let i = issuer();
    let layer = seeded()
        .token_validation(i.app_client_id())
        .build()
        .unwrap();
    assert_eq!(send_token(&layer, &i.id_token().sign()).await.status, 200);
    let t = i
        .id_token()
        .claim("aud", format!("{}x", i.app_client_id()))
        .sign();
    assert_eq!(
        send_token(&layer, &t).await.kind(),
        RejectionKind::AudienceMismatch
    );
    let prefix = seeded().token_validation("testclient").build().unwrap();
    assert_eq!(
        send_token(&prefix, &i.id_token().sign()).await.kind(),
        RejectionKind::AudienceMismatch
    );
    // Access tokens have no aud: always refused once the regex is set.
    let any = seeded()
        .token_validation(".*")
        .accept_any_token_use(true)
        .build()
        .unwrap();
    assert_eq!(
        send_token(&any, &i.access_token().sign()).await.kind(),
        RejectionKind::AudienceMismatch
    );
    let scoped = seeded()
        .scopes(["s"])
        .token_validation(".*")
        .build()
        .unwrap();
    assert_eq!(
        send_token(&scoped, &i.access_token().scopes(["s"]).sign())
            .await
            .kind(),
        RejectionKind::AudienceMismatch
    );
}

#[tokio::test]
async fn opt_in_client_ids_groups_and_revocation() {
    let i = issuer();
    let layer = seeded()
        .allowed_client_ids([i.app_client_id()])
        .build()
        .unwrap();
    assert_eq!(send_token(&layer, &i.id_token().sign()).await.status, 200);
    let other = i.id_token().claim("aud", "otherclient").sign();
    assert_eq!(
        send_token(&layer, &other).await.kind(),
        RejectionKind::ClientNotAllowed
    );
    let scoped = seeded()
        .scopes(["s"])
        .allowed_client_ids([i.app_client_id()])
        .build()
        .unwrap();
    assert_eq!(
        send_token(&scoped, &i.access_token().scopes(["s"]).sign())
            .await
            .status,
        200
    );
    let t = i
        .access_token()
        .scopes(["s"])
        .claim("client_id", "otherclient")
        .sign();
    assert_eq!(
        send_token(&scoped, &t).await.kind(),
        RejectionKind::ClientNotAllowed
    );

    let groups = seeded().required_groups(["admin", "ops"]).build().unwrap();
    assert_eq!(
        send_token(&groups, &i.id_token().groups(["ops"]).sign())
            .await
            .status,
        200
    );
    assert_eq!(
        send_token(&groups, &i.id_token().groups(["users"]).sign())
            .await
            .kind(),
        RejectionKind::GroupNotAllowed
    );
    assert_eq!(
        send_token(&groups, &i.id_token().sign()).await.kind(),
        RejectionKind::GroupNotAllowed
    );

    let revoking = seeded()
        .revocation_check(|c| c.username() == Some("mallory"))
        .build()
        .unwrap();
    assert_eq!(
        send_token(&revoking, &i.id_token().sign()).await.status,
        200
    );
    let t = i.id_token().claim("cognito:username", "mallory").sign();
    assert_eq!(
        send_token(&revoking, &t).await.kind(),
        RejectionKind::Revoked
    );
}

#[tokio::test]
async fn public_policy_does_no_token_work() {
    let layer = seeded().policy(RoutePolicy::public()).build().unwrap();
    let out = send(&layer, &[]).await;
    assert_eq!(out.status, 200);
    assert!(out.claims.is_none());
    let out = send_token(&layer, "garbage").await;
    assert_eq!(out.status, 200);
    assert!(out.claims.is_none());
}

// ---- 7. Claims ----------------------------------------------------------------

#[tokio::test]
async fn claims_reach_the_inner_service_rendered_as_api_gateway_does() {
    let layer = identity_layer();
    let i = issuer();
    let t = i
        .id_token()
        .claim("exp", 4_102_444_800i64) // Fri Jan 01 00:00:00 UTC 2100
        .claim("iat", 1_544_112_503)
        .claim("auth_time", 1_544_112_503)
        .claim("custom:role", "admin")
        .claim("custom:level", 3)
        .claim("email_verified", false)
        .groups(["admin", "staging-manager"])
        .sign();
    let out = send_token(&layer, &t).await;
    assert_eq!(out.status, 200);
    let claims = out.claims.unwrap();
    let map = claims.api_gateway();
    assert_eq!(map.get("exp"), Some("Fri Jan 01 00:00:00 UTC 2100"));
    assert_eq!(map.get("iat"), Some("Thu Dec 06 16:08:23 UTC 2018"));
    assert_eq!(map.get("auth_time"), Some("1544112503"));
    assert_eq!(map.get("custom:role"), Some("admin"));
    assert_eq!(map.get("custom:level"), Some("3"));
    assert_eq!(map.get("email_verified"), Some("false"));
    assert_eq!(map.get("cognito:groups"), Some("admin,staging-manager"));
    assert_eq!(map.get("iss"), Some(i.issuer()));
    assert_eq!(map.get("token_use"), Some("id"));
    // Typed accessors next to the map.
    assert_eq!(claims.custom("role"), Some("admin"));
    assert_eq!(
        claims.groups().collect::<Vec<_>>(),
        ["admin", "staging-manager"]
    );
    assert_eq!(claims.exp(), 4_102_444_800);
    assert_eq!(claims.auth_time(), Some(1_544_112_503));
    assert_eq!(claims.client_id(), Some(i.app_client_id()));
    assert_eq!(claims.email(), Some("testuser@example.com"));
    assert_eq!(claims.token_use(), tower_cognito::claims::TokenUse::Id);
    assert_eq!(claims.raw()["custom:level"], 3);

    let scoped = scoped_layer();
    let out = send_token(
        &scoped,
        &i.access_token().scopes(["pets/read", "pets/write"]).sign(),
    )
    .await;
    let claims = out.claims.unwrap();
    assert_eq!(
        claims.api_gateway().get("scope"),
        Some("pets/read pets/write")
    );
    assert_eq!(claims.api_gateway().get("version"), Some("2"));
    assert!(claims.has_scope("pets/write"));
    assert_eq!(claims.username(), Some("testuser"));
    assert_eq!(claims.client_id(), Some(i.app_client_id()));
}

// ---- 8. Rejections -------------------------------------------------------------

#[tokio::test]
async fn each_response_type_is_replaceable() {
    let layer = seeded()
        .gateway_response(
            ResponseType::Unauthorized,
            GatewayResponse::new(http::StatusCode::UNAUTHORIZED)
                .header("access-control-allow-origin", "*")
                .unwrap()
                .body("nope"),
        )
        .gateway_response(
            ResponseType::ExpiredToken,
            GatewayResponse::new(http::StatusCode::FORBIDDEN).body("stale"),
        )
        .build()
        .unwrap();
    let out = send(&layer, &[]).await;
    assert_eq!((out.status.as_u16(), out.body_str()), (401, "nope"));
    assert_eq!(out.headers["access-control-allow-origin"], "*");
    assert_eq!(out.kind(), RejectionKind::MissingToken);
    let out = send_token(&layer, &issuer().id_token().expires_in(-5).sign()).await;
    assert_eq!((out.status.as_u16(), out.body_str()), (403, "stale"));

    let handled = seeded()
        .rejection_handler(|err, req| {
            http::Response::builder()
                .status(418)
                .body(bytes::Bytes::from(format!(
                    "{} {}",
                    req.method(),
                    err.kind()
                )))
                .unwrap()
        })
        .build()
        .unwrap();
    let out = send(&handled, &[]).await;
    assert_eq!(
        (out.status.as_u16(), out.body_str()),
        (418, "GET missing token")
    );
    assert_eq!(out.kind(), RejectionKind::MissingToken);
}

#[tokio::test]
async fn grpc_requests_get_grpc_replies() {
    let layer = scoped_layer();
    let i = issuer();
    let grpc = |t: String| async move {
        send_http2(
            &scoped_layer(),
            &[
                ("content-type", "application/grpc+proto"),
                ("authorization", &t),
            ],
        )
        .await
    };
    let _ = layer;
    let out = grpc("garbage".into()).await;
    assert_eq!(out.status, 200);
    assert_eq!(out.headers["grpc-status"], "16");
    assert_eq!(out.headers["content-type"], "application/grpc");
    assert!(out.body.is_empty());
    let out = grpc(i.access_token().scopes(["other"]).sign()).await;
    assert_eq!(out.headers["grpc-status"], "7");
    let out = grpc(i.access_token().scopes(["pets/read"]).expires_in(-1).sign()).await;
    assert_eq!(out.headers["grpc-status"], "16");
    assert_eq!(
        out.headers["grpc-message"],
        "The incoming token has expired"
    );
    let out = grpc(i.access_token().scopes(["pets/read"]).sign()).await;
    assert_eq!(out.status, 200);
    assert!(out.headers.get("grpc-status").is_none());
    // Off: gRPC requests get the HTTP responses.
    let plain = seeded().grpc_replies(false).build().unwrap();
    let out = send_http2(&plain, &[("content-type", "application/grpc")]).await;
    assert_unauthorized(&out);
}

#[test]
fn public_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CognitoAuthLayer>();
    assert_send_sync::<
        tower_cognito::CognitoAuth<
            tower::util::BoxCloneSyncService<
                http::Request<()>,
                http::Response<String>,
                std::convert::Infallible,
            >,
        >,
    >();
    assert_send_sync::<tower_cognito::claims::CognitoClaims>();
    assert_send_sync::<tower_cognito::KeyStore>();
    assert_send_sync::<tower_cognito::AuthError>();
    assert_send_sync::<ConfigError>();
    fn assert_send<T: Send>() {}
    assert_send::<
        tower_cognito::ResponseFuture<
            tower::util::BoxCloneSyncService<
                http::Request<()>,
                http::Response<String>,
                std::convert::Infallible,
            >,
            (),
        >,
    >();
}
