//! The cache's byte accounting is an upper bound of what its entries really
//! take, so its byte limit bounds memory: also when the service reads the
//! claims map and their API Gateway rendering (kept in the entry once made),
//! and for claims of unusual shapes. Measured with a counting allocator.

mod common;

use common::*;
use serde_json::json;
use tower::{Service, ServiceExt};
use tower_cognito::claims::CognitoClaims;
use tower_cognito::testing::TestIssuer;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// The allocator's counts are process-wide: one measurement at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn live_bytes() -> usize {
    dhat::HeapStats::get().curr_bytes
}

/// What the inner service does with the claims it is handed.
#[derive(Clone, Copy, Debug)]
enum Reads {
    Nothing,
    /// `raw()` and `api_gateway()`, as the gateway does on every request.
    RawAndApiGateway,
}

/// Sends each token twice through a layer with the cache on and checks
/// that the bytes the entries really hold are within those accounted.
async fn assert_accounted(tokens: &[String], reads: Reads) {
    let _one = ONE_AT_A_TIME.lock().await;
    let _profiler = dhat::Profiler::builder().testing().build();
    let issuer = TestIssuer::new(POOL);
    // Room for every entry: the accounting is checked, not the limits.
    let layer = seeded(&issuer)
        .token_cache(10_000, 256 << 20)
        .build()
        .unwrap();
    let tokens: Vec<String> = tokens
        .iter()
        .map(|claims| {
            let claims: serde_json::Value = serde_json::from_str(claims).unwrap();
            let mut token = issuer.id_token();
            for (k, v) in claims.as_object().unwrap() {
                token = token.claim(k, v.clone());
            }
            token.sign()
        })
        .collect();
    let mut svc = tower::Layer::layer(
        &layer,
        tower::service_fn(move |req: http::Request<()>| async move {
            let claims = req.extensions().get::<CognitoClaims>().unwrap();
            if let Reads::RawAndApiGateway = reads {
                assert!(!claims.raw().is_empty());
                assert!(!claims.api_gateway().is_empty());
            }
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        }),
    );
    let before = live_bytes();
    // Twice: the second time from the cache, which is where a service's
    // reads are kept.
    for _ in 0..2 {
        for token in &tokens {
            let req = http::Request::builder()
                .header("authorization", token)
                .body(())
                .unwrap();
            let res = svc.ready().await.unwrap().call(req).await.unwrap();
            assert_eq!(res.status(), 200);
        }
    }
    let after = live_bytes();
    let n = tokens.len();
    let stats = layer.token_cache_stats().unwrap();
    assert_eq!(stats.entries, n);
    let real = after - before;
    println!(
        "{reads:?}: {n} entries: {real} bytes allocated ({} per entry), {} accounted ({} per entry)",
        real / n,
        stats.bytes,
        stats.bytes / n
    );
    assert!(
        real <= stats.bytes,
        "{reads:?}: entries take {real} bytes but only {} are accounted",
        stats.bytes
    );
}

/// Typical ID tokens: a custom attribute and two groups.
fn typical() -> Vec<String> {
    (0..300)
        .map(|i| {
            json!({"custom:tenant": format!("tenant-{i}"), "cognito:groups": ["admin", "staging-manager"]})
                .to_string()
        })
        .collect()
}

/// Claims whose parsed and rendered forms are large against their text:
/// many one-character members, arrays of small numbers, nested objects.
fn dense() -> Vec<String> {
    (0..100)
        .map(|i| {
            let mut claims = serde_json::Map::new();
            for m in 0..300 {
                claims.insert(format!("{m}"), json!(m % 10));
            }
            claims.insert("n".into(), json!(vec![i % 10; 400]));
            claims.insert(
                "o".into(),
                json!([{"a": [1, {"b": 2}]}, {"c": {"d": [3, 4]}}, [5, [6]]]),
            );
            claims.insert("e".into(), json!([{}, [], null, true, 1.5e300, "x"]));
            serde_json::Value::Object(claims).to_string()
        })
        .collect()
}

#[tokio::test]
async fn accounted_bytes_cover_real_memory() {
    assert_accounted(&typical(), Reads::Nothing).await;
}

#[tokio::test]
async fn accounted_bytes_cover_claims_the_service_reads() {
    assert_accounted(&typical(), Reads::RawAndApiGateway).await;
}

#[tokio::test]
async fn accounted_bytes_cover_dense_claims() {
    assert_accounted(&dense(), Reads::Nothing).await;
    assert_accounted(&dense(), Reads::RawAndApiGateway).await;
}
