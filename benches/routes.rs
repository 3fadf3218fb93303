//! Decision cost with 1 and with 10,000 imported routes: a public-route request
//! through the layer's `Service::call` on a no-op inner service, and the raw
//! table lookup. The lookup takes one step per path segment, hashing among
//! many siblings, so both should be flat in the number of routes.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{Method, Request, Response};
use serde_json::{json, Map, Value};
use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tower::{service_fn, Layer, Service};
use tower_cognito::{openapi::ImportOptions, CognitoAuthLayer};

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

fn bench_routes(c: &mut Criterion) {
    let mut group = c.benchmark_group("routes");
    for n in [1usize, 10_000] {
        let layer = layer(n);
        // The last public resource: deepest in insertion order.
        let public = format!("/svc{}/items/42", (n - 1) / 2 * 2);
        assert!(layer.route_for(&Method::GET, &public).is_some());

        group.bench_function(format!("lookup/{n}"), |b| {
            b.iter(|| black_box(layer.route_for(black_box(&Method::GET), black_box(&public))))
        });

        let mut svc = layer.layer(service_fn(|_req: Request<()>| async {
            Ok::<_, Infallible>(Response::new(()))
        }));
        let mut cx = Context::from_waker(Waker::noop());
        group.bench_function(format!("public_call/{n}"), |b| {
            b.iter_batched(
                || Request::get(public.as_str()).body(()).expect("request"),
                |req| {
                    let fut = pin!(svc.call(req));
                    match fut.poll(&mut cx) {
                        Poll::Ready(res) => black_box(res.map(|r| r.status())),
                        Poll::Pending => unreachable!("the inner service is ready at once"),
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_routes);
criterion_main!(benches);
