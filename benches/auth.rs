//! The cost of authorizing one request, against the physical floor (one
//! RSA-2048 verification with a pre-parsed key) and against
//! `jsonwebtoken::decode` doing the same checks. `scripts/bench` prints the
//! ratios from one run.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use criterion::{criterion_group, BatchSize, Criterion};
use http::{Request, Response};
use serde_json::json;
use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use tower::{Layer, Service};
use tower_cognito::testing::TestIssuer;
use tower_cognito::{CognitoAuthBuilder, CognitoAuthLayer};

mod common;
use common::paired;

const POOL: &str = "us-east-1_BenchPool1";

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

/// Calls the service once and polls the response future to completion; a
/// request whose key is known completes on the first poll.
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
    for _ in 0..100 {
        if let Poll::Ready(res) = fut.as_mut().poll(&mut cx) {
            return res.unwrap().status().as_u16();
        }
    }
    panic!("the layer waits for something (a key fetch?) no runtime drives here");
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

/// The floor: one RSA-2048 PKCS#1 v1.5 SHA-256 verification, key pre-parsed.
struct Floor {
    key: aws_lc_rs::signature::ParsedPublicKey,
    input: String,
    sig: Vec<u8>,
}

impl Floor {
    fn new(issuer: &TestIssuer, token: &str) -> Self {
        let (input, sig_b64) = token.rsplit_once('.').unwrap();
        let (n, e) = components(issuer);
        let key = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e }
            .to_parsed_public_key(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256)
            .unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
        Floor {
            key,
            input: input.to_owned(),
            sig,
        }
    }

    fn verify(&self) {
        self.key
            .verify_sig(black_box(self.input.as_bytes()), black_box(&self.sig))
            .unwrap()
    }
}

fn components(issuer: &TestIssuer) -> (Vec<u8>, Vec<u8>) {
    let jwk = issuer.jwk();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    (n, e)
}

/// `jsonwebtoken::decode` with the same key and checks, then `token_use`
/// and the scope checked on the claims: the same work done the common way.
struct Jwt {
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

impl Jwt {
    fn new(issuer: &TestIssuer) -> Self {
        let (n, e) = components(issuer);
        let key = jsonwebtoken::DecodingKey::from_rsa_raw_components(&n, &e);
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_issuer(&[issuer.issuer()]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.validate_aud = false;
        validation.leeway = 0;
        Jwt { key, validation }
    }

    fn decode(&self, token: &str) {
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            black_box(token),
            &self.key,
            &self.validation,
        )
        .unwrap();
        let claims = data.claims;
        assert_eq!(claims["token_use"], "access");
        assert!(claims["scope"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|s| s == "pets/read"));
    }
}

type Layered = tower_cognito::CognitoAuth<Noop>;

/// The uncached layer `builder` makes, having allowed one valid token.
fn allowing(issuer: &TestIssuer, builder: CognitoAuthBuilder) -> Layered {
    let mut svc = builder.no_token_cache().build().unwrap().layer(noop());
    let token = issuer.access_token().scopes(["pets/read"]).sign();
    assert_eq!(call(&mut svc, request(&token)), 200);
    svc
}

fn uncached(issuer: &TestIssuer) -> Layered {
    allowing(issuer, seeded(issuer))
}

/// A copy of `template`'s URI and headers: the rejections' requests.
fn copy(template: &Request<()>) -> Request<()> {
    let mut r = Request::builder()
        .uri(template.uri().clone())
        .body(())
        .unwrap();
    *r.headers_mut() = template.headers().clone();
    r
}

/// Each rejection's request and the uncached layer that refuses it.
fn rejections(
    rt: &tokio::runtime::Runtime,
    issuer: &TestIssuer,
) -> Vec<(&'static str, Request<()>, Layered)> {
    let expired = issuer
        .access_token()
        .scopes(["pets/read"])
        .expires_in(-10)
        .sign();
    let stranger = TestIssuer::new(POOL)
        .access_token()
        .scopes(["pets/read"])
        .sign();
    let cases = [
        (
            "missing_header",
            Request::builder().uri("/pets").body(()).unwrap(),
        ),
        ("garbage", request("not-a-token")),
        ("expired", request(&expired)),
        ("unknown_kid_rate_limited", request(&stranger)),
    ];
    cases
        .into_iter()
        .map(|(name, template)| {
            // Misses inside the rate limit all through the run.
            let mut svc = seeded(issuer)
                .no_token_cache()
                .unknown_kid_rate_limit(std::time::Duration::from_secs(3600))
                .build()
                .unwrap()
                .layer(noop());
            if name == "unknown_kid_rate_limited" {
                // The first miss fetches (and fails: nothing listens there);
                // later ones inside the rate limit are refused at once,
                // without a fetch.
                rt.block_on(async {
                    let _ = tower::ServiceExt::ready(&mut svc)
                        .await
                        .unwrap()
                        .call(copy(&template))
                        .await;
                });
            }
            assert_eq!(call(&mut svc, copy(&template)), 401, "{name}");
            (name, template, svc)
        })
        .collect()
}

/// 50 user pools, and a token from the 26th.
fn fifty_pools(issuer: &TestIssuer) -> (Layered, String) {
    let pools: Vec<String> = (0..50)
        .map(|i| format!("us-east-1_BenchPool{i:02}"))
        .collect();
    let mut many_pools = CognitoAuthLayer::builder()
        .user_pools(pools.clone())
        .jwks_endpoint("http://127.0.0.1:1")
        .no_token_cache()
        .scopes(["pets/read"]);
    for p in &pools {
        many_pools = many_pools.jwks(p.clone(), issuer.jwks());
    }
    let mut svc = many_pools.build().unwrap().layer(noop());
    let iss25 = format!("https://cognito-idp.us-east-1.amazonaws.com/{}", pools[25]);
    let token25 = issuer
        .access_token()
        .scopes(["pets/read"])
        .claim("iss", iss25)
        .sign();
    assert_eq!(call(&mut svc, request(&token25)), 200);
    (svc, token25)
}

/// An uncached layer whose pool has `count` keys, the issuer's last.
fn keyed(issuer: &TestIssuer, count: usize) -> Layered {
    let mut list: Vec<serde_json::Value> = (0..count - 1)
        .map(|i| {
            let mut k = issuer.jwk();
            k["kid"] = json!(format!("other-{i}"));
            k
        })
        .collect();
    list.push(issuer.jwk());
    let builder = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint("http://127.0.0.1:1")
        .jwks(POOL, json!({ "keys": list }).to_string())
        .scopes(["pets/read"]);
    allowing(issuer, builder)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn bench_verify(c: &mut Criterion) {
    let rt = runtime();
    let _guard = rt.enter();
    let issuer = TestIssuer::new(POOL);
    let token = issuer.access_token().scopes(["pets/read"]).sign();

    let mut group = c.benchmark_group("verify");
    let floor = Floor::new(&issuer, &token);
    let floor = |b: &mut criterion::Bencher| b.iter(|| floor.verify());

    // The whole layer: Service::call on a no-op inner service, cache off.
    let mut svc = uncached(&issuer);
    // The floor and the uncached layer are measured back to back, in three
    // rounds spread over the group (their ratios are printed; the checked
    // ratio is the paired one, see `paired_ratios`).
    let mut round = |group: &mut criterion::BenchmarkGroup<_>, suffix: &str| {
        group.bench_function(format!("floor_rsa_verify{suffix}"), floor);
        group.bench_function(format!("layer_uncached{suffix}"), |b| {
            b.iter_batched(
                || request(&token),
                |req| call(&mut svc, req),
                BatchSize::PerIteration,
            )
        });
    };
    round(&mut group, "");

    let jwt = Jwt::new(&issuer);
    group.bench_function("jsonwebtoken_decode", |b| b.iter(|| jwt.decode(&token)));

    // The cached path: the same token again.
    let mut cached = seeded(&issuer).build().unwrap().layer(noop());
    assert_eq!(call(&mut cached, request(&token)), 200);
    group.bench_function("layer_cached", |b| {
        b.iter_batched(
            || request(&token),
            |req| call(&mut cached, req),
            BatchSize::PerIteration,
        )
    });
    // A token seen for the first time with the cache on: verification plus
    // hashing and storing it. Two tokens alternate through a one-entry cache,
    // so every call misses.
    let other = issuer.access_token().scopes(["pets/read"]).sign();
    let mut first_sight = seeded(&issuer)
        .token_cache(1, 1 << 20)
        .build()
        .unwrap()
        .layer(noop());
    let mut flip = false;
    group.bench_function("layer_first_sight", |b| {
        b.iter_batched(
            || {
                flip = !flip;
                request(if flip { &token } else { &other })
            },
            |req| call(&mut first_sight, req),
            BatchSize::PerIteration,
        )
    });
    round(&mut group, "_round2");
    // The same request without the layer: what the harness itself costs.
    let mut bare = noop();
    group.bench_function("no_layer", |b| {
        b.iter_batched(
            || request(&token),
            |req| {
                let mut cx = Context::from_waker(Waker::noop());
                let _ = bare.poll_ready(&mut cx);
                let mut fut = pin!(bare.call(req));
                matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(_)))
            },
            BatchSize::PerIteration,
        )
    });
    round(&mut group, "_round3");
    group.finish();

    // Rejections.
    let mut group = c.benchmark_group("reject");
    for (name, template, mut svc) in rejections(&rt, &issuer) {
        group.bench_function(name, |b| {
            b.iter_batched(
                || copy(&template),
                |req| call(&mut svc, req),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    // Scaling: 1 vs 50 pools, 2 vs 100 keys in the issuing pool.
    let mut group = c.benchmark_group("scale");
    let (mut svc50, token25) = fifty_pools(&issuer);
    let mut svc1 = uncached(&issuer);
    group.bench_function("pools_1", |b| {
        b.iter_batched(
            || request(&token),
            |req| call(&mut svc1, req),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("pools_50", |b| {
        b.iter_batched(
            || request(&token25),
            |req| call(&mut svc50, req),
            BatchSize::PerIteration,
        )
    });
    for count in [2usize, 100] {
        let mut svc = keyed(&issuer, count);
        group.bench_function(format!("keys_{count}"), |b| {
            b.iter_batched(
                || request(&token),
                |req| call(&mut svc, req),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// The checked ratios, each measured in alternating rounds (see
/// `common/paired.rs`): the uncached layer against the floor and against
/// `jsonwebtoken::decode`, the cached call against the uncached one, each
/// rejection against the floor, 50 pools against 1 and 100 keys against 2.
fn paired_ratios() {
    let rt = runtime();
    let _guard = rt.enter();
    let issuer = TestIssuer::new(POOL);
    let token = issuer.access_token().scopes(["pets/read"]).sign();
    let floor = Floor::new(&issuer, &token);
    let mut floor = |n| paired::looped(n, || floor.verify());
    let mut svc = uncached(&issuer);
    let mut uncached_side = |n| paired::per_call(n, || request(&token), |req| call(&mut svc, req));
    paired::ratio("uncached_vs_floor", &mut uncached_side, &mut floor);
    let jwt = Jwt::new(&issuer);
    paired::ratio("uncached_vs_jsonwebtoken", &mut uncached_side, &mut |n| {
        paired::looped(n, || jwt.decode(&token))
    });
    let mut cached = seeded(&issuer).build().unwrap().layer(noop());
    assert_eq!(call(&mut cached, request(&token)), 200);
    paired::ratio(
        "cached_vs_uncached",
        &mut |n| paired::per_call(n, || request(&token), |req| call(&mut cached, req)),
        &mut uncached_side,
    );
    for (name, template, mut svc) in rejections(&rt, &issuer) {
        paired::ratio(
            &format!("reject_{name}_vs_floor"),
            &mut |n| paired::per_call(n, || copy(&template), |req| call(&mut svc, req)),
            &mut floor,
        );
    }
    let (mut svc50, token25) = fifty_pools(&issuer);
    paired::ratio(
        "pools_50_vs_pools_1",
        &mut |n| paired::per_call(n, || request(&token25), |req| call(&mut svc50, req)),
        &mut uncached_side,
    );
    let (mut keys2, mut keys100) = (keyed(&issuer, 2), keyed(&issuer, 100));
    paired::ratio(
        "keys_100_vs_keys_2",
        &mut |n| paired::per_call(n, || request(&token), |req| call(&mut keys100, req)),
        &mut |n| paired::per_call(n, || request(&token), |req| call(&mut keys2, req)),
    );
}

/// Feature `metrics` on the cached path: no recorder (each metric a branch),
/// Prometheus's recorder (each an atomic add), and the two no-op increments
/// a cached request makes on its own. Rounds alternate as above.
/// Cached-path layers without a recorder and with Prometheus's, each having
/// answered `token` once, and the recorder's handle.
fn metered(
    issuer: &TestIssuer,
    token: &str,
) -> (
    Layered,
    Layered,
    metrics_exporter_prometheus::PrometheusHandle,
) {
    let mut plain = seeded(issuer).build().unwrap().layer(noop());
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let mut counted = metrics::with_local_recorder(&recorder, || seeded(issuer).build())
        .unwrap()
        .layer(noop());
    assert_eq!(call(&mut plain, request(token)), 200);
    assert_eq!(call(&mut counted, request(token)), 200);
    (plain, counted, handle)
}

fn bench_metrics(c: &mut Criterion) {
    let rt = runtime();
    let _guard = rt.enter();
    let issuer = TestIssuer::new(POOL);
    let token = issuer.access_token().scopes(["pets/read"]).sign();
    let (mut plain, mut counted, handle) = metered(&issuer, &token);
    let mut group = c.benchmark_group("metrics");
    for round in ["", "_round2", "_round3"] {
        group.bench_function(format!("cached_no_recorder{round}"), |b| {
            b.iter_batched(
                || request(&token),
                |req| call(&mut plain, req),
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("cached_prometheus{round}"), |b| {
            b.iter_batched(
                || request(&token),
                |req| call(&mut counted, req),
                BatchSize::PerIteration,
            )
        });
    }
    let noop = metrics::counter!("bench_noop_total");
    group.bench_function("two_noop_increments", |b| {
        b.iter(|| {
            black_box(&noop).increment(1);
            black_box(&noop).increment(1);
        })
    });
    group.finish();
    // The recorder really counted: one allowed request per call.
    let text = handle.render();
    assert!(
        text.contains(
            r#"tower_cognito_requests_total{authorizer="default",outcome="allowed",reason="none"}"#
        ),
        "{text}"
    );
}

/// The checked metrics ratio: Prometheus's recorder against none, cached
/// path, in alternating rounds.
fn paired_metrics() {
    let rt = runtime();
    let _guard = rt.enter();
    let issuer = TestIssuer::new(POOL);
    let token = issuer.access_token().scopes(["pets/read"]).sign();
    let (mut plain, mut counted, _handle) = metered(&issuer, &token);
    paired::ratio(
        "cached_prometheus_vs_no_recorder",
        &mut |n| paired::per_call(n, || request(&token), |req| call(&mut counted, req)),
        &mut |n| paired::per_call(n, || request(&token), |req| call(&mut plain, req)),
    );
}

criterion_group!(benches, bench_verify, bench_metrics);

fn main() {
    benches();
    paired_ratios();
    paired_metrics();
    Criterion::default().configure_from_args().final_summary();
}
