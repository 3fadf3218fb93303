//! The cached-token path with 100,000 revocations held against the same path
//! with revocation off (target: ≤ 1.1×), and the list's lookup alone (what a
//! token pays on its first request after each change of the list).
//! `cargo bench --bench revocation`; the ratio is taken from one run.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{Request, Response};
use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tower::{Layer, Service};
use tower_cognito::revocation::{Revocation, RevocationList};
use tower_cognito::testing::TestIssuer;
use tower_cognito::{CognitoAuthBuilder, CognitoAuthLayer};

const POOL: &str = "us-east-1_BenchPool1";
const REVOCATIONS: usize = 100_000;

type Noop = tower::util::ServiceFn<
    fn(
        Request<()>,
    ) -> std::future::Ready<Result<Response<http_body_util::Empty<Bytes>>, Infallible>>,
>;

fn noop() -> Noop {
    fn answer(
        _: Request<()>,
    ) -> std::future::Ready<Result<Response<http_body_util::Empty<Bytes>>, Infallible>> {
        std::future::ready(Ok(Response::new(http_body_util::Empty::new())))
    }
    tower::service_fn(answer as fn(_) -> _)
}

fn call<S>(svc: &mut S, req: Request<()>) -> u16
where
    S: Service<
        Request<()>,
        Response = Response<tower_cognito::ResponseBody<http_body_util::Empty<Bytes>>>,
    >,
    S::Error: std::fmt::Debug,
{
    let mut cx = Context::from_waker(Waker::noop());
    assert!(svc.poll_ready(&mut cx).is_ready());
    let mut fut = pin!(svc.call(req));
    loop {
        if let Poll::Ready(res) = fut.as_mut().poll(&mut cx) {
            return res.unwrap().status().as_u16();
        }
    }
}

fn request(token: &str) -> Request<()> {
    Request::builder()
        .uri("/pets")
        .header("authorization", token)
        .body(())
        .unwrap()
}

fn seeded(issuer: &TestIssuer) -> CognitoAuthBuilder {
    CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint("http://127.0.0.1:1")
        .jwks(POOL, issuer.jwks())
        .scopes(["pets/read"])
}

/// Half token families, half users of the token's pool (not its user).
fn full_list() -> RevocationList {
    let list = RevocationList::new();
    let until = 4_102_444_800;
    for i in 0..REVOCATIONS / 2 {
        list.revoke(Revocation::family(
            format!("{i:08x}-7f1a-4c8e-9d3b-5a6f7e8d9c0b"),
            until,
        ));
        list.revoke(Revocation::user(
            POOL,
            format!("{i:08x}-aaaa-bbbb-cccc-dddddddddddd"),
            until - 86_400,
        ));
    }
    assert_eq!(list.len(), REVOCATIONS);
    list
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let issuer = TestIssuer::new(POOL);
    let token = issuer.access_token().scopes(["pets/read"]).sign();
    let list = full_list();

    let mut off = seeded(&issuer).build().unwrap().layer(noop());
    let mut on = seeded(&issuer)
        .revocation_list(list.clone())
        .build()
        .unwrap()
        .layer(noop());
    assert_eq!(call(&mut off, request(&token)), 200);
    assert_eq!(call(&mut on, request(&token)), 200);

    interleaved_ratio(&mut off, &mut on, &token);

    let mut group = c.benchmark_group("revocation");
    // Alternated, twice each, so drift on a noisy machine hits both.
    for round in ["", "_round2"] {
        group.bench_function(format!("cached_revocation_off{round}"), |b| {
            b.iter_batched(
                || request(&token),
                |req| call(&mut off, req),
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("cached_100k_revocations{round}"), |b| {
            b.iter_batched(
                || request(&token),
                |req| call(&mut on, req),
                BatchSize::PerIteration,
            )
        });
    }
    // The lookup a token pays once after each change of the list: both maps.
    let claims = tower_cognito::claims::CognitoClaims::from_json(serde_json::json!({
        "token_use": "access", "exp": 4_102_444_800_i64,
        "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}"),
        "sub": "not-revoked-sub", "origin_jti": "not-revoked-family", "auth_time": 1,
    }))
    .unwrap();
    group.bench_function("lookup_100k", |b| {
        b.iter(|| black_box(list.is_revoked(black_box(&claims))))
    });
    group.finish();
}

/// The two cached paths timed in alternating blocks of 1,000 calls, 300
/// blocks each, order swapped every block: load on a shared machine drifts
/// over seconds, so both sides see the same load. Prints the medians of the
/// per-call block times and their ratio.
fn interleaved_ratio<S>(off: &mut S, on: &mut S, token: &str)
where
    S: Service<
        Request<()>,
        Response = Response<tower_cognito::ResponseBody<http_body_util::Empty<Bytes>>>,
    >,
    S::Error: std::fmt::Debug,
{
    const CALLS: u32 = 1_000;
    let block = |svc: &mut S| {
        let requests: Vec<_> = (0..CALLS).map(|_| request(token)).collect();
        let start = std::time::Instant::now();
        for req in requests {
            black_box(call(svc, req));
        }
        start.elapsed().as_nanos() as f64 / f64::from(CALLS)
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..300 {
        if i % 2 == 0 {
            a.push(block(off));
            b.push(block(on));
        } else {
            b.push(block(on));
            a.push(block(off));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (off_ns, on_ns) = (median(&mut a), median(&mut b));
    println!(
        "interleaved: cached path, revocation off {off_ns:.0} ns, 100,000 revocations {on_ns:.0} ns, \
         ratio {:.3} (target <= 1.1)",
        on_ns / off_ns
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
