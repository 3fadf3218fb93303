//! The cache's byte accounting is an upper bound of what its entries really
//! take, so its byte limit bounds memory. Measured with a counting allocator.

mod common;

use common::*;
use tower_cognito::testing::TestIssuer;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn live_bytes() -> usize {
    dhat::HeapStats::get().curr_bytes
}

#[tokio::test]
async fn accounted_bytes_cover_real_memory() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let issuer = TestIssuer::new(POOL);
    let layer = seeded(&issuer).build().unwrap();
    let n = 300;
    let tokens: Vec<String> = (0..n)
        .map(|i| {
            issuer
                .id_token()
                .claim("custom:tenant", format!("tenant-{i}"))
                .groups(["admin", "staging-manager"])
                .sign()
        })
        .collect();
    let mut svc = tower::Layer::layer(
        &layer,
        tower::service_fn(|_req: http::Request<()>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        }),
    );
    use tower::{Service, ServiceExt};
    // Warm up allocations that are not per entry (the shards' tables grow).
    let before = live_bytes();
    for token in &tokens {
        let req = http::Request::builder()
            .header("authorization", token)
            .body(())
            .unwrap();
        let res = svc.ready().await.unwrap().call(req).await.unwrap();
        assert_eq!(res.status(), 200);
    }
    let after = live_bytes();
    let stats = layer.token_cache_stats().unwrap();
    assert_eq!(stats.entries, n);
    let real = after - before;
    println!(
        "{n} entries: {real} bytes allocated ({} per entry), {} accounted ({} per entry)",
        real / n,
        stats.bytes,
        stats.bytes / n
    );
    assert!(
        real <= stats.bytes,
        "entries take {real} bytes but only {} are accounted",
        stats.bytes
    );
}
