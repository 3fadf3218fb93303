//! A request whose Lambda-authorizer decision is cached against a request
//! with a cached Cognito token: the same token, path and no-op service
//! behind each layer, measured in alternating rounds (`common/paired.rs`).
//! `scripts/bench-report.py` checks the ratio against its budget (1.1x).

use bytes::Bytes;
use http::{Request, Response};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use tower::{Layer, Service};
use tower_cognito::custom_authorizer::{AuthorizerError, CustomAuthorizerLayer};
use tower_cognito::testing::TestIssuer;
use tower_cognito::CognitoAuthLayer;

// Both sides here take per-call requests: `paired::looped` stays unused.
#[allow(dead_code)]
mod common;
use common::paired;

const POOL: &str = "us-east-1_BenchPool1";

type Body = http_body_util::Empty<Bytes>;

type Noop = tower::util::ServiceFn<
    fn(Request<()>) -> std::future::Ready<Result<Response<Body>, Infallible>>,
>;

fn noop() -> Noop {
    fn answer(_: Request<()>) -> std::future::Ready<Result<Response<Body>, Infallible>> {
        std::future::ready(Ok(Response::new(Body::new())))
    }
    tower::service_fn(answer as fn(_) -> _)
}

/// Calls the service once and polls the response future to completion; a
/// cached decision completes on the first poll.
fn call<S>(svc: &mut S, req: Request<()>) -> u16
where
    S: Service<Request<()>, Response = Response<tower_cognito::ResponseBody<Body>>>,
    S::Error: std::fmt::Debug,
{
    let mut cx = Context::from_waker(Waker::noop());
    assert!(svc.poll_ready(&mut cx).is_ready());
    let mut fut = pin!(svc.call(req));
    for _ in 0..100 {
        if let Poll::Ready(res) = fut.as_mut().poll(&mut cx) {
            return res.unwrap().status().as_u16();
        }
    }
    panic!("the layer waits for something no runtime drives here");
}

fn request(token: &str) -> Request<()> {
    Request::builder()
        .uri("/pets/1")
        .header("authorization", token)
        .body(())
        .unwrap()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let issuer = TestIssuer::new(POOL);
    let token = issuer.access_token().scopes(["pets/read"]).sign();

    let mut cognito = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint("http://127.0.0.1:1")
        .jwks(POOL, issuer.jwks())
        .scopes(["pets/read"])
        .build()
        .unwrap()
        .layer(noop());
    assert_eq!(call(&mut cognito, request(&token)), 200);

    // A TOKEN authorizer allowing GET on the API, as a typical one answers;
    // asked once, then every request is a cache hit.
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let authorize = move |_event: Value| {
        counted.fetch_add(1, Ordering::Relaxed);
        async {
            Ok::<_, AuthorizerError>(json!({
                "principalId": "user-1",
                "policyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Action": "execute-api:Invoke", "Effect": "Allow",
                    "Resource": "arn:aws:execute-api:us-east-1:123456789012:local/prod/GET/*"
                }]},
                "context": {"tier": "gold", "quota": 5}
            }))
        }
    };
    let mut lambda = CustomAuthorizerLayer::token(authorize)
        .build()
        .unwrap()
        .layer(noop());
    // The first call waits for the authorizer: driven by the runtime.
    let first = rt.block_on(async {
        let mut svc = lambda.clone();
        std::future::poll_fn(|cx| svc.poll_ready(cx)).await.unwrap();
        svc.call(request(&token)).await.unwrap().status()
    });
    assert_eq!(first, 200);
    assert_eq!(call(&mut lambda, request(&token)), 200);

    paired::ratio(
        "lambda_cached_vs_cognito_cached",
        &mut |n| paired::per_call(n, || request(&token), |req| call(&mut lambda, req)),
        &mut |n| paired::per_call(n, || request(&token), |req| call(&mut cognito, req)),
    );
    // Every measured Lambda request was a cache hit.
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}
