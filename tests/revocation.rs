//! The revocation list through the layer: revoked tokens get the 401, cache
//! hits included; a signed-out user's old tokens are refused, a new sign-in
//! passes; gRPC requests get UNAUTHENTICATED.

mod common;

use common::*;
use std::sync::OnceLock;
use tower_cognito::revocation::{Revocation, RevocationList};
use tower_cognito::testing::TestIssuer;
use tower_cognito::RejectionKind;

fn issuer() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new(POOL))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_revoked_family_is_refused_on_cache_hits_too() {
    for cache in [true, false] {
        let list = RevocationList::new();
        let mut builder = seeded(issuer()).revocation_list(list.clone());
        if !cache {
            builder = builder.no_token_cache();
        }
        let layer = builder.build().unwrap();
        let id = issuer().id_token().claim("origin_jti", "family-1").sign();
        let sibling = issuer()
            .id_token()
            .claim("origin_jti", "family-1")
            .claim("jti", "another")
            .sign();
        let other = issuer().id_token().claim("origin_jti", "family-2").sign();
        assert_eq!(send_token(&layer, &id).await.status, 200);
        assert_eq!(send_token(&layer, &id).await.status, 200);
        if cache {
            assert_eq!(layer.token_cache_stats().unwrap().entries, 1);
        }
        list.revoke(Revocation::family("family-1", now() + 3600));
        for token in [&id, &sibling] {
            let out = send_token(&layer, token).await;
            assert_unauthorized(&out);
            assert_eq!(out.kind(), RejectionKind::Revoked);
        }
        assert_eq!(send_token(&layer, &other).await.status, 200);
    }
}

#[tokio::test]
async fn a_token_without_origin_jti_is_revoked_by_its_jti() {
    let list = RevocationList::new();
    let layer = seeded(issuer())
        .revocation_list(list.clone())
        .build()
        .unwrap();
    let token = issuer()
        .access_token()
        .without("origin_jti")
        .claim("jti", "lone-jti")
        .scopes(["pets/read"])
        .sign();
    let layer = layer.require_scopes(["pets/read"]).unwrap();
    assert_eq!(send_token(&layer, &token).await.status, 200);
    list.revoke(Revocation::family("lone-jti", now() + 3600));
    assert_eq!(
        send_token(&layer, &token).await.kind(),
        RejectionKind::Revoked
    );
}

#[tokio::test]
async fn a_signed_out_user_is_refused_until_a_new_sign_in() {
    let list = RevocationList::new();
    let layer = seeded(issuer())
        .revocation_list(list.clone())
        .build()
        .unwrap();
    let t = now();
    let sub = "user-signed-out";
    let old = issuer()
        .id_token()
        .claim("sub", sub)
        .claim("auth_time", t - 60)
        .sign();
    // Refreshed from the old sign-in: a later iat, the same auth_time.
    let refreshed = issuer()
        .id_token()
        .claim("sub", sub)
        .claim("auth_time", t - 60)
        .claim("iat", t)
        .sign();
    let someone_else = issuer()
        .id_token()
        .claim("sub", "another-user")
        .claim("auth_time", t - 60)
        .sign();
    assert_eq!(send_token(&layer, &old).await.status, 200);
    list.revoke(Revocation::user(POOL, sub, t - 10));
    for token in [&old, &refreshed] {
        let out = send_token(&layer, token).await;
        assert_unauthorized(&out);
        assert_eq!(out.kind(), RejectionKind::Revoked);
    }
    assert_eq!(send_token(&layer, &someone_else).await.status, 200);
    let new_sign_in = issuer()
        .id_token()
        .claim("sub", sub)
        .claim("auth_time", t - 10)
        .sign();
    assert_eq!(send_token(&layer, &new_sign_in).await.status, 200);
}

#[tokio::test]
async fn grpc_requests_get_unauthenticated() {
    let list = RevocationList::new();
    let layer = seeded(issuer())
        .revocation_list(list.clone())
        .build()
        .unwrap();
    let token = issuer()
        .id_token()
        .claim("origin_jti", "grpc-family")
        .sign();
    list.revoke(Revocation::family("grpc-family", now() + 3600));
    let out = send_http2(
        &layer,
        &[
            ("authorization", &token),
            ("content-type", "application/grpc"),
        ],
    )
    .await;
    assert_eq!(out.kind(), RejectionKind::Revoked);
    assert_eq!(out.headers["grpc-status"], "16");
}

#[tokio::test]
async fn off_by_default_and_the_closure_still_works() {
    // No list: a token some list would hold passes, as on API Gateway.
    let layer = seeded(issuer()).build().unwrap();
    let token = issuer().id_token().claim("origin_jti", "family-x").sign();
    assert_eq!(send_token(&layer, &token).await.status, 200);
    // The closure and the list together: either refuses.
    let list = RevocationList::new();
    let layer = seeded(issuer())
        .revocation_check(|c| c.email() == Some("blocked@example.com"))
        .revocation_list(list.clone())
        .build()
        .unwrap();
    let blocked = issuer()
        .id_token()
        .claim("email", "blocked@example.com")
        .sign();
    assert_eq!(
        send_token(&layer, &blocked).await.kind(),
        RejectionKind::Revoked
    );
    assert_eq!(send_token(&layer, &token).await.status, 200);
    list.revoke(Revocation::family("family-x", now() + 60));
    assert_eq!(
        send_token(&layer, &token).await.kind(),
        RejectionKind::Revoked
    );
}
