//! Rejections are logged as tracing events with their reason, never with the
//! token.

mod common;

use common::*;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tower_cognito::testing::TestIssuer;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn rejections_are_logged_with_their_reason_and_without_the_token() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let issuer = TestIssuer::new(POOL);
    let layer = seeded(&issuer).build().unwrap();
    let expired = issuer.id_token().expires_in(-10).sign();
    let forged = TestIssuer::new(POOL).kid(issuer.key_id()).id_token().sign();
    let valid = issuer.id_token().sign();
    assert_eq!(send_token(&layer, &expired).await.status, 401);
    assert_eq!(send_token(&layer, &forged).await.status, 401);
    assert_eq!(
        send_token(&layer, &format!("Bearer {valid}")).await.status,
        200
    );
    assert_eq!(
        send_token(&layer, &issuer.access_token().sign())
            .await
            .status,
        401
    );

    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("request rejected"), "{log}");
    assert!(log.contains("token expired"), "{log}");
    assert!(log.contains("invalid signature"), "{log}");
    assert!(log.contains("wrong token_use"), "{log}");
    for token in [&expired, &forged, &valid] {
        // No part of any token: not the whole, not its signature or payload.
        for part in token.split('.') {
            assert!(!log.contains(part), "a token segment was logged");
        }
    }
}

/// A pool with no keys fails every request; the WARN saying so is logged at
/// most once per interval per layer (clones share it), the lines held back
/// counted on the next one, so no client can flood the log.
#[tokio::test]
async fn keys_unavailable_warnings_are_rate_limited_with_a_count() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let warnings = || {
        let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        log.lines()
            .filter(|l| l.contains("request rejected"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };

    let issuer = TestIssuer::new(POOL);
    // Keys from a closed loopback port: the pool never has any.
    let layer = tower_cognito::CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint("http://127.0.0.1:1")
        .unknown_kid_rate_limit(std::time::Duration::from_secs(3600))
        .retry_interval(std::time::Duration::from_secs(3600))
        .build()
        .unwrap();
    let clone = layer.clone();
    let token = issuer.id_token().sign();
    for i in 0..50 {
        let layer = if i % 2 == 0 { &layer } else { &clone };
        let out = send_token(layer, &token).await;
        assert_eq!(out.kind(), tower_cognito::RejectionKind::KeysUnavailable);
    }
    let lines = warnings();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("WARN"), "{}", lines[0]);
    assert!(
        lines[0].contains("signing keys unavailable"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("suppressed=0"), "{}", lines[0]);

    // After the interval, the next one is logged with the count held back.
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(11)).await;
    let out = send_token(&layer, &token).await;
    assert_eq!(out.kind(), tower_cognito::RejectionKind::KeysUnavailable);
    let lines = warnings();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[1].contains("suppressed=49"), "{}", lines[1]);

    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    for part in token.split('.') {
        assert!(!log.contains(part), "a token segment was logged");
    }
}
