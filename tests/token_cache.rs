//! Correctness of the verified-token cache (its speed is measured in benches).

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tower_cognito::testing::TestIssuer;
use tower_cognito::{
    AuthorizerConfig, CognitoAuthBuilder, CognitoAuthLayer, RejectionKind, RoutePolicy,
};

fn issuer() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new(POOL))
}

/// Seeded with the shared test key.
fn seeded() -> CognitoAuthBuilder {
    common::seeded(issuer())
}

fn entries(layer: &CognitoAuthLayer) -> usize {
    layer.token_cache_stats().unwrap().entries
}

#[tokio::test]
async fn verified_tokens_are_cached_and_served_from_the_cache() {
    let layer = seeded().build().unwrap();
    assert_eq!(entries(&layer), 0);
    let token = issuer().id_token().sign();
    let first = send_token(&layer, &token).await;
    assert_eq!(first.status, 200);
    assert_eq!(entries(&layer), 1);
    let second = send_token(&layer, &token).await;
    assert_eq!(second.status, 200);
    assert_eq!(entries(&layer), 1);
    // The same claims object, not a re-parse.
    assert_eq!(
        second.claims.unwrap().api_gateway(),
        first.claims.unwrap().api_gateway()
    );
    // Bearer or bare: the same token, the same entry.
    assert_eq!(
        send_token(&layer, &format!("Bearer {token}")).await.status,
        200
    );
    assert_eq!(entries(&layer), 1);
    assert!(layer.token_cache_stats().unwrap().bytes > 0);
    // Off: nothing is kept.
    let off = seeded().no_token_cache().build().unwrap();
    assert_eq!(send_token(&off, &token).await.status, 200);
    assert!(off.token_cache_stats().is_none());
}

#[tokio::test]
async fn failures_are_never_cached() {
    let layer = seeded().build().unwrap();
    let forged = TestIssuer::new(POOL)
        .kid(issuer().key_id())
        .id_token()
        .sign();
    for token in [
        forged.clone(),
        issuer().id_token().expires_in(-5).sign(),
        issuer().id_token().claim("exp", "soon").sign(),
        issuer().id_token().claim("iss", issuer_of(POOL2)).sign(),
        "garbage".to_owned(),
    ] {
        assert_eq!(send_token(&layer, &token).await.status, 401);
        assert_eq!(send_token(&layer, &token).await.status, 401);
    }
    assert_eq!(entries(&layer), 0);
    // A token differing in one byte from a cached one is its own (failing) token.
    let token = issuer().id_token().sign();
    assert_eq!(send_token(&layer, &token).await.status, 200);
    let mut bytes = token.into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let out = send_token(&layer, &tampered).await;
    assert_eq!(out.status, 401);
    assert_eq!(entries(&layer), 1);
}

#[tokio::test]
async fn route_policy_is_decided_on_every_request_from_cached_claims() {
    let revoked = Arc::new(AtomicBool::new(false));
    let flag = revoked.clone();
    let identity = seeded()
        .revocation_check(move |_| flag.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let scoped = identity.require_scopes(["pets/read"]).unwrap();
    let id = issuer().id_token().sign();
    let access = issuer().access_token().scopes(["pets/read"]).sign();
    assert_eq!(send_token(&identity, &id).await.status, 200);
    assert_eq!(send_token(&scoped, &access).await.status, 200);
    assert_eq!(entries(&identity), 2);
    // Both cached; each still meets the other route's rules.
    assert_eq!(
        send_token(&scoped, &id).await.kind(),
        RejectionKind::WrongTokenUse
    );
    assert_eq!(
        send_token(&identity, &access).await.kind(),
        RejectionKind::WrongTokenUse
    );
    let other_scope = identity.require_scopes(["pets/write"]).unwrap();
    assert_eq!(
        send_token(&other_scope, &access).await.kind(),
        RejectionKind::InsufficientScope
    );
    // The revocation check runs on cache hits too.
    revoked.store(true, Ordering::SeqCst);
    assert_eq!(
        send_token(&identity, &id).await.kind(),
        RejectionKind::Revoked
    );
    revoked.store(false, Ordering::SeqCst);
    assert_eq!(send_token(&identity, &id).await.status, 200);
}

#[tokio::test]
async fn a_cached_token_is_only_good_for_authorizers_of_its_pool() {
    let two = TestIssuer::new(POOL2);
    let layer = seeded()
        .authorizer(
            "Other",
            AuthorizerConfig::new()
                .user_pool(POOL2)
                .token_validation(two.app_client_id()),
        )
        .jwks(POOL2, two.jwks())
        .route("GET", "/pets", RoutePolicy::identity_token())
        .build()
        .unwrap();
    let other = layer.with_policy(RoutePolicy::identity_token().authorizer("Other"));
    let token = two.id_token().sign();
    for _ in 0..3 {
        assert_eq!(send_token(&other, &token).await.status, 200);
    }
    assert_eq!(entries(&layer), 1);
    // Cached by "Other"; the default authorizer does not take pool two.
    assert_eq!(
        send_token(&layer, &token).await.kind(),
        RejectionKind::UnknownIssuer
    );
    // Token validation of "Other" still applies to hits.
    let wrong_aud = two.id_token().claim("aud", "someoneelse").sign();
    assert_eq!(
        send_token(&other, &wrong_aud).await.kind(),
        RejectionKind::AudienceMismatch
    );
    assert_eq!(
        send_token(&other, &wrong_aud).await.kind(),
        RejectionKind::AudienceMismatch
    );
}

#[tokio::test]
async fn entries_die_with_their_key() {
    let layer = seeded().build().unwrap();
    let token = issuer().id_token().sign();
    // Several hits: the token is then also in this thread's memo.
    for _ in 0..3 {
        assert_eq!(send_token(&layer, &token).await.status, 200);
    }
    assert_eq!(entries(&layer), 1);
    // The pool rotates the key out: the cached token must not outlive it.
    let next = TestIssuer::new(POOL);
    layer.key_store().insert_jwks(POOL, &next.jwks()).unwrap();
    let out = send_token(&layer, &token).await;
    assert_eq!(out.status, 401);
    assert_eq!(entries(&layer), 0);
    // An unchanged re-fetch keeps entries alive (same parsed key).
    let fresh = next.id_token().sign();
    assert_eq!(send_token(&layer, &fresh).await.status, 200);
    layer.key_store().insert_jwks(POOL, &next.jwks()).unwrap();
    assert_eq!(send_token(&layer, &fresh).await.status, 200);
    assert_eq!(entries(&layer), 1);
}

#[tokio::test]
async fn entries_end_at_the_tokens_exp() {
    let layer = seeded().build().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let token = issuer().id_token().claim("exp", now + 2).sign();
    for _ in 0..3 {
        assert_eq!(send_token(&layer, &token).await.status, 200);
    }
    assert_eq!(entries(&layer), 1);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let out = send_token(&layer, &token).await;
    assert_eq!(out.kind(), RejectionKind::Expired);
    assert_eq!(
        out.body_str(),
        r#"{"message":"The incoming token has expired"}"#
    );
    assert_eq!(entries(&layer), 0);
}

#[tokio::test]
async fn the_cache_is_bounded_in_entries_and_bytes() {
    let layer = seeded().token_cache(8, usize::MAX).build().unwrap();
    for i in 0..100 {
        let token = issuer().id_token().claim("n", i).sign();
        assert_eq!(send_token(&layer, &token).await.status, 200);
        assert!(entries(&layer) <= 8, "{} entries", entries(&layer));
    }
    let layer = seeded().token_cache(10_000, 16 * 1024).build().unwrap();
    for i in 0..200 {
        let token = issuer().id_token().claim("n", i).sign();
        assert_eq!(send_token(&layer, &token).await.status, 200);
        assert!(layer.token_cache_stats().unwrap().bytes <= 16 * 1024);
    }
    assert!(entries(&layer) > 0);
    // A token larger than a whole shard's budget is simply not cached.
    let tiny = seeded().token_cache(64, 64).build().unwrap();
    assert_eq!(
        send_token(&tiny, &issuer().id_token().sign()).await.status,
        200
    );
    assert_eq!(entries(&tiny), 0);
}

#[tokio::test]
async fn two_layers_never_share_entries() {
    // Two layers with the same pool but different keys: a token verified by
    // one is unknown to the other, even on the same thread.
    let other_key = TestIssuer::new(POOL);
    let a = seeded().build().unwrap();
    let b = common::seeded(&other_key).build().unwrap();
    let token = issuer().id_token().sign();
    for _ in 0..3 {
        assert_eq!(send_token(&a, &token).await.status, 200);
    }
    assert_eq!(send_token(&b, &token).await.status, 401);
    assert_eq!(entries(&b), 0);
}
