//! Feature `metrics`: what the layer counts, read back from a real recorder
//! (metrics-util's `DebuggingRecorder`), with exact values.

mod common;

use common::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;
use std::time::Duration;
use tower_cognito::testing::TestIssuer;
use tower_cognito::{CognitoAuthBuilder, CognitoAuthLayer, RejectionKind, RoutePolicy};

/// Builds the layer under a fresh recorder: its handles are registered there,
/// so this test's counts are its own whatever other tests run meanwhile.
fn build(builder: CognitoAuthBuilder) -> (CognitoAuthLayer, Snapshotter) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let layer = metrics::with_local_recorder(&recorder, || builder.build().unwrap());
    (layer, snapshotter)
}

type Row = (MetricKind, String, Vec<(String, String)>, DebugValue);

fn rows(snapshotter: &Snapshotter) -> Vec<Row> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (kind, key) = key.into_parts();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (kind, key.name().to_owned(), labels, value)
        })
        .collect()
}

/// The value of the one metric with this name and exactly these labels.
fn value<'a>(rows: &'a [Row], name: &str, labels: &[(&str, &str)]) -> &'a DebugValue {
    let mut want: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    want.sort();
    let found: Vec<&Row> = rows
        .iter()
        .filter(|(_, n, l, _)| {
            let mut l = l.clone();
            l.sort();
            n == name && l == want
        })
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?} in {rows:#?}");
    &found[0].3
}

fn counter(rows: &[Row], name: &str, labels: &[(&str, &str)]) -> u64 {
    match value(rows, name, labels) {
        DebugValue::Counter(n) => *n,
        other => panic!("{name} is not a counter: {other:?}"),
    }
}

fn gauge(rows: &[Row], name: &str, labels: &[(&str, &str)]) -> f64 {
    match value(rows, name, labels) {
        DebugValue::Gauge(g) => g.into_inner(),
        other => panic!("{name} is not a gauge: {other:?}"),
    }
}

fn requests(rows: &[Row], outcome: &str, reason: &str) -> u64 {
    counter(
        rows,
        "tower_cognito_requests_total",
        &[
            ("authorizer", "default"),
            ("outcome", outcome),
            ("reason", reason),
        ],
    )
}

#[tokio::test]
async fn requests_are_counted_by_outcome_and_reason() {
    let issuer = TestIssuer::new(POOL);
    let (layer, snapshotter) = build(seeded(&issuer).token_cache(100, 1 << 20));
    let valid = issuer.id_token().claim("sub", "user-sub-1234").sign();
    let expired = issuer.id_token().expires_in(-10).sign();
    let forged = TestIssuer::new(POOL).kid(issuer.key_id()).id_token().sign();
    for _ in 0..3 {
        assert_eq!(send_token(&layer, &valid).await.status, 200);
    }
    for _ in 0..2 {
        assert_eq!(send_token(&layer, &expired).await.status, 401);
    }
    assert_eq!(send_token(&layer, &forged).await.status, 401);
    assert_eq!(send(&layer, &[]).await.status, 401);
    assert_eq!(
        send_token(&layer, &issuer.access_token().sign())
            .await
            .status,
        401
    );

    let rows = rows(&snapshotter);
    assert_eq!(requests(&rows, "allowed", "none"), 3);
    assert_eq!(requests(&rows, "denied", "expired"), 2);
    assert_eq!(requests(&rows, "denied", "invalid_signature"), 1);
    assert_eq!(requests(&rows, "denied", "missing_token"), 1);
    assert_eq!(requests(&rows, "denied", "wrong_token_use"), 1);
    // Every reason is there from the start, at zero until it happens.
    assert_eq!(requests(&rows, "denied", "unknown_issuer"), 0);
    assert_eq!(requests(&rows, "denied", "keys_unavailable"), 0);
    let total: u64 = rows
        .iter()
        .filter(|(_, n, _, _)| n == "tower_cognito_requests_total")
        .map(|(_, _, _, v)| match v {
            DebugValue::Counter(n) => *n,
            _ => 0,
        })
        .sum();
    assert_eq!(total, 8, "one count per request");

    // Labels come from configuration only: no token part, no claim.
    for (_, name, labels, _) in &rows {
        for (_, v) in labels {
            assert_ne!(v, "user-sub-1234", "{name}");
            for token in [&valid, &expired, &forged] {
                for part in token.split('.') {
                    assert!(!v.contains(part), "{name} label {v:?} holds a token part");
                }
            }
        }
    }
}

#[tokio::test]
async fn route_denials_are_counted_without_an_authorizer() {
    let issuer = TestIssuer::new(POOL);
    let (layer, snapshotter) =
        build(seeded(&issuer).route("GET", "/cats", RoutePolicy::identity_token()));
    // The requests go to /pets, an unlisted route: API Gateway's 403.
    let out = send(&layer, &[]).await;
    assert_eq!(out.status, 403);
    assert_eq!(out.kind(), RejectionKind::UnlistedRoute);
    let rows = rows(&snapshotter);
    let labels = [
        ("authorizer", "none"),
        ("outcome", "denied"),
        ("reason", "unlisted_route"),
    ];
    assert_eq!(counter(&rows, "tower_cognito_requests_total", &labels), 1);
}

#[tokio::test]
async fn the_token_cache_counts_hits_misses_evictions_and_entries() {
    let issuer = TestIssuer::new(POOL);
    // One entry: two tokens in turn evict each other.
    let (layer, snapshotter) = build(seeded(&issuer).token_cache(1, 1 << 20));
    let first = issuer.id_token().sign();
    let second = issuer.id_token().claim("sub", "another").sign();
    for token in [&first, &first, &first, &second, &first] {
        assert_eq!(send_token(&layer, token).await.status, 200);
    }
    // The last `first` is still a hit: this thread's memo keeps what it
    // verified while its key stays, even once the shared map evicted it.
    let rows = rows(&snapshotter);
    assert_eq!(
        counter(&rows, "tower_cognito_token_cache_misses_total", &[]),
        2
    );
    assert_eq!(
        counter(&rows, "tower_cognito_token_cache_hits_total", &[]),
        3
    );
    assert_eq!(
        counter(&rows, "tower_cognito_token_cache_evictions_total", &[]),
        1
    );
    assert_eq!(gauge(&rows, "tower_cognito_token_cache_entries", &[]), 1.0);
    assert_eq!(layer.token_cache_stats().unwrap().entries, 1);
}

#[tokio::test]
async fn key_fetches_are_counted_and_timed_per_pool() {
    let issuer = TestIssuer::new(POOL);
    let server = JwksServer::start();
    server.set_jwks(POOL, issuer.jwks());
    let (layer, snapshotter) = build(
        CognitoAuthLayer::builder()
            .user_pool(POOL)
            .jwks_endpoint(server.base_url())
            .refresh_interval(Duration::from_secs(3600)),
    );
    layer.key_store().load().await.unwrap();
    // Later fetches fail: the count says so, the keys (and their gauge) stay.
    server.set_status(POOL, 500);
    assert!(layer.key_store().refresh().await.is_err());
    assert!(layer.key_store().refresh().await.is_err());

    let rows = rows(&snapshotter);
    let fetches = |result| {
        counter(
            &rows,
            "tower_cognito_jwks_fetches_total",
            &[("pool", POOL), ("result", result)],
        )
    };
    assert_eq!(fetches("success"), 1);
    assert_eq!(fetches("failure"), 2);
    assert_eq!(gauge(&rows, "tower_cognito_keys", &[("pool", POOL)]), 1.0);
    match value(
        &rows,
        "tower_cognito_jwks_fetch_duration_seconds",
        &[("pool", POOL)],
    ) {
        DebugValue::Histogram(samples) => {
            assert_eq!(samples.len(), 3, "one sample per fetch");
            assert!(samples
                .iter()
                .all(|s| s.into_inner() >= 0.0 && s.into_inner() < 10.0));
        }
        other => panic!("not a histogram: {other:?}"),
    }
}

#[test]
fn without_a_recorder_nothing_is_recorded_and_nothing_breaks() {
    // Handles registered with no recorder are no-ops; requests still pass.
    let issuer = TestIssuer::new(POOL);
    let layer = seeded(&issuer).build().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = issuer.id_token().sign();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // A recorder installed after the layer was built sees nothing of it.
    metrics::with_local_recorder(&recorder, || {
        assert_eq!(rt.block_on(send_token(&layer, &token)).status, 200);
    });
    assert!(rows(&snapshotter).is_empty());
}

#[test]
fn the_revocation_list_reports_its_size() {
    use tower_cognito::revocation::{Revocation, RevocationList};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let list = metrics::with_local_recorder(&recorder, RevocationList::new);
    assert_eq!(
        gauge(&rows(&snapshotter), "tower_cognito_revocations", &[]),
        0.0
    );
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 3600;
    list.revoke(Revocation::family("family-1", later));
    list.revoke(Revocation::user(POOL, "sub-1", later - 3600));
    // The same family again changes nothing.
    list.revoke(Revocation::family("family-1", later - 10));
    assert_eq!(
        gauge(&rows(&snapshotter), "tower_cognito_revocations", &[]),
        2.0
    );
    assert_eq!(list.len(), 2);
}
