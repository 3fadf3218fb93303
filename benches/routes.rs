//! Decision cost with 1 and with 10,000 imported routes: a public-route request
//! through the layer's `Service::call` on a no-op inner service, and the table
//! lookup (matchit). Beside them, in the same run, a cached-token call (the
//! same token again through a layer with one policy), the cost a lookup is
//! held against: `scripts/bench-report.py` checks lookup at 10,000 routes
//! <= 0.5x a cached-token call, and a public-route call at 10,000 routes
//! <= 1.2x one route.

use criterion::{criterion_group, BatchSize, Criterion};
use http::{Method, Request, Response};
use serde_json::{json, Map, Value};
use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tower::{service_fn, Layer, Service};
use tower_cognito::testing::TestIssuer;
use tower_cognito::{openapi::ImportOptions, CognitoAuthLayer};

mod common;
use common::paired;

const ARN: &str = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEf123";

/// An OpenAPI export with `n` resources: even ones public, odd ones needing an
/// ID token, as `/svc{i}/items/{itemId}`.
fn document(n: usize) -> String {
    let mut paths = Map::new();
    for i in 0..n {
        let op = if i % 2 == 0 {
            json!({})
        } else {
            json!({"security": [{"Pool": []}]})
        };
        paths.insert(format!("/svc{i}/items/{{itemId}}"), json!({ "get": op }));
    }
    json!({
        "openapi": "3.0.1",
        "components": {"securitySchemes": {"Pool": {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": [ARN]},
        }}},
        "paths": Value::Object(paths),
    })
    .to_string()
}

fn layer(n: usize) -> CognitoAuthLayer {
    CognitoAuthLayer::builder()
        .openapi(&document(n), &ImportOptions::new())
        .expect("import")
        .build()
        .expect("layer")
}

/// Calls the service and polls its future once: every request here is
/// answered without waiting.
fn status<S, B>(svc: &mut S, req: Request<()>) -> Option<http::StatusCode>
where
    S: Service<Request<()>, Response = Response<B>>,
{
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(svc.call(req)).poll(&mut cx) {
        Poll::Ready(res) => res.ok().map(|r| r.status()),
        Poll::Pending => unreachable!("answered at once"),
    }
}

type Answer = Response<()>;

/// A cached-token call's layer, having answered the token once, and a
/// request with that token.
fn cached() -> (
    impl Service<Request<()>, Response = Response<tower_cognito::ResponseBody<()>>>,
    impl Fn() -> Request<()>,
) {
    let pool = "us-east-1_BenchPool1";
    let issuer = TestIssuer::new(pool);
    let token = issuer.access_token().scopes(["pets/read"]).sign();
    let mut svc = CognitoAuthLayer::builder()
        .user_pool(pool)
        .jwks_endpoint("http://127.0.0.1:1")
        .jwks(pool, issuer.jwks())
        .scopes(["pets/read"])
        .build()
        .expect("layer")
        .layer(inner());
    let request = move || {
        Request::get("/pets")
            .header("authorization", token.as_str())
            .body(())
            .expect("request")
    };
    assert_eq!(status(&mut svc, request()), Some(http::StatusCode::OK));
    (svc, request)
}

fn inner() -> impl Service<Request<()>, Response = Answer, Error = Infallible> + Clone {
    service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) })
}

/// The layer over `n` routes and the path of its last public resource
/// (deepest in insertion order).
fn public(n: usize) -> (CognitoAuthLayer, String) {
    let layer = layer(n);
    let public = format!("/svc{}/items/42", (n - 1) / 2 * 2);
    assert!(layer.route_for(&Method::GET, &public).is_some());
    (layer, public)
}

fn bench_routes(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let mut group = c.benchmark_group("routes");

    // A cached-token call: one verification first, then the cache answers.
    let (mut cached, request) = cached();
    group.bench_function("cached_call", |b| {
        b.iter_batched(
            &request,
            |req| black_box(status(&mut cached, req)),
            BatchSize::PerIteration,
        )
    });
    for n in [1usize, 10_000] {
        let (layer, public) = public(n);
        group.bench_function(format!("lookup/{n}"), |b| {
            b.iter(|| black_box(layer.route_for(black_box(&Method::GET), black_box(&public))))
        });

        let mut svc = layer.layer(inner());
        group.bench_function(format!("public_call/{n}"), |b| {
            b.iter_batched(
                || Request::get(public.as_str()).body(()).expect("request"),
                |req| black_box(status(&mut svc, req)),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// The checked ratios in alternating rounds (see `common/paired.rs`): a
/// public-route call at 10,000 routes against one route, and the lookup at
/// 10,000 routes against a cached-token call.
fn paired_routes() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let (small, small_path) = public(1);
    let (large, large_path) = public(10_000);
    let (mut one, mut many) = (small.layer(inner()), large.layer(inner()));
    let call = |svc: &mut _, path: &str, n| {
        paired::per_call(
            n,
            || Request::get(path).body(()).expect("request"),
            |req| black_box(status(svc, req)),
        )
    };
    paired::ratio(
        "public_call_10000_vs_1",
        &mut |n| call(&mut many, &large_path, n),
        &mut |n| call(&mut one, &small_path, n),
    );
    let (mut cached, request) = cached();
    paired::ratio(
        "lookup_10000_vs_cached_call",
        &mut |n| {
            paired::looped(n, || {
                large.route_for(black_box(&Method::GET), black_box(&large_path))
            })
        },
        &mut |n| paired::per_call(n, &request, |req| black_box(status(&mut cached, req))),
    );
}

criterion_group!(benches, bench_routes);

fn main() {
    benches();
    paired_routes();
    Criterion::default().configure_from_args().final_summary();
}
