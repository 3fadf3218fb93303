//! Token parsing and verification through the layer, with a seeded key.
//!
//! The first byte picks what the rest is:
//! - 0: the raw `Authorization` header value;
//! - 1: `header JSON \0 payload JSON`, signed with the pool's real key, so the
//!   claim checks and the claims rendering run; a pass must satisfy the rules;
//! - 2: the same with a signature nobody made, which must never pass.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tower::{Layer, ServiceExt};
use tower_cognito::claims::{CognitoClaims, TokenUse};
use tower_cognito::testing::TestIssuer;
use tower_cognito::{AuthError, CognitoAuthLayer};

const POOL: &str = "us-east-1_FuzzPool1";

struct Setup {
    rt: tokio::runtime::Runtime,
    issuer: TestIssuer,
    layer: CognitoAuthLayer,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let issuer = TestIssuer::new(POOL);
        let layer = rt.block_on(async {
            CognitoAuthLayer::builder()
                .user_pool(POOL)
                // A closed loopback port; with these settings it is tried at
                // most once, by the first unknown kid.
                .jwks_endpoint("http://127.0.0.1:1")
                .jwks(POOL, issuer.jwks())
                .refresh_interval(Duration::MAX)
                .retry_interval(Duration::MAX)
                .unknown_kid_rate_limit(Duration::MAX)
                .build()
                .unwrap()
        });
        Setup { rt, issuer, layer }
    })
}

/// Sends `value` as the Authorization header; returns the claims if it passed.
fn send(value: &[u8]) -> Option<CognitoClaims> {
    let s = setup();
    let value = http::HeaderValue::from_bytes(value).ok()?;
    let seen: Arc<Mutex<Option<CognitoClaims>>> = Arc::default();
    let slot = seen.clone();
    let inner = tower::service_fn(move |req: http::Request<()>| {
        let claims = req.extensions().get::<CognitoClaims>().cloned();
        if let Some(c) = &claims {
            // Rendering runs on every passing token.
            let _ = c.api_gateway();
        }
        *slot.lock().unwrap() = claims;
        async { Ok::<_, Infallible>(http::Response::new(String::new())) }
    });
    let req = http::Request::builder()
        .header(http::header::AUTHORIZATION, value)
        .body(())
        .unwrap();
    let res = s.rt.block_on(s.layer.layer(inner).oneshot(req)).unwrap();
    let rejected = res.extensions().get::<AuthError>().is_some();
    let claims = seen.lock().unwrap().take();
    match claims {
        Some(claims) => {
            assert!(!rejected);
            assert_eq!(res.status(), 200);
            Some(claims)
        }
        None => {
            assert!(rejected, "a request neither passed nor was rejected");
            assert_ne!(res.status(), 200);
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let s = setup();
    match mode % 3 {
        0 => {
            if let Some(claims) = send(rest) {
                // Only the issuer's key signs: random bytes cannot pass.
                panic!("arbitrary bytes passed (token_use {:?})", claims.token_use());
            }
        }
        mode => {
            let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let (header, payload) = (&rest[..split], rest.get(split + 1..).unwrap_or(&[]));
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload)
            );
            let token = if mode == 1 {
                s.issuer.sign_input(input)
            } else {
                format!("{input}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]))
            };
            let passed = send(token.as_bytes());
            if mode == 2 {
                assert!(passed.is_none(), "a token with a made-up signature passed");
            }
            if let Some(claims) = passed {
                // Whatever the issuer signs, a pass means the rules held.
                assert_eq!(claims.token_use(), TokenUse::Id);
                assert_eq!(claims.issuer(), Some(s.issuer.issuer()));
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let exp = claims.get("exp").and_then(serde_json::Value::as_i64);
                assert!(exp.is_some_and(|e| e > now), "passed with exp {exp:?}");
                let header: serde_json::Value = serde_json::from_slice(header).unwrap();
                assert_eq!(header["alg"], "RS256");
                assert_eq!(header["kid"], s.issuer.key_id());
            }
        }
    }
});
