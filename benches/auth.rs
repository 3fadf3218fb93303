//! The cost of authorizing one request, against the physical floor (one
//! RSA-2048 verification with a pre-parsed key) and against
//! `jsonwebtoken::decode` doing the same checks. `scripts/bench` prints the
//! ratios from one run.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
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

fn bench_verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let issuer = TestIssuer::new(POOL);
    let token = issuer.access_token().scopes(["pets/read"]).sign();
    let (input, sig_b64) = token.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    let jwk = issuer.jwk();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();

    let mut group = c.benchmark_group("verify");
    // (c) The floor: one RSA-2048 PKCS#1 v1.5 SHA-256 verification, key pre-parsed.
    let parsed = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256)
        .unwrap();
    let floor = |b: &mut criterion::Bencher| {
        b.iter(|| {
            parsed
                .verify_sig(black_box(input.as_bytes()), black_box(&sig))
                .unwrap()
        })
    };

    // (a) The whole layer: Service::call on a no-op inner service, cache off.
    let mut svc = seeded(&issuer)
        .no_token_cache()
        .build()
        .unwrap()
        .layer(noop());
    assert_eq!(call(&mut svc, request(&token)), 200);
    // The floor and the uncached layer are measured back to back, in three
    // rounds spread over the group: the report takes the median of the three
    // ratios, so a burst of load on this shared machine during one
    // measurement does not decide the ratio.
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

    // (b) jsonwebtoken::decode with the same key and checks.
    let key = jsonwebtoken::DecodingKey::from_rsa_raw_components(&n, &e);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[issuer.issuer()]);
    validation.set_required_spec_claims(&["exp", "iss"]);
    validation.validate_aud = false;
    validation.leeway = 0;
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
                black_box(&token),
                &key,
                &validation,
            )
            .unwrap();
            let claims = data.claims;
            assert_eq!(claims["token_use"], "access");
            assert!(claims["scope"]
                .as_str()
                .unwrap()
                .split(' ')
                .any(|s| s == "pets/read"));
        })
    });

    // (d) The cached path: the same token again.
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

    // (e) Rejections.
    let mut group = c.benchmark_group("reject");
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
    for (name, req) in cases {
        let template = req;
        let clone = move || {
            let mut r = Request::builder()
                .uri(template.uri().clone())
                .body(())
                .unwrap();
            *r.headers_mut() = template.headers().clone();
            r
        };
        let mut svc = seeded(&issuer)
            .no_token_cache()
            .build()
            .unwrap()
            .layer(noop());
        if name == "unknown_kid_rate_limited" {
            // The first miss fetches (and fails: nothing listens there); later
            // ones inside the rate limit are refused at once, without a fetch.
            rt.block_on(async {
                let _ = tower::ServiceExt::ready(&mut svc)
                    .await
                    .unwrap()
                    .call(clone())
                    .await;
            });
        }
        assert_eq!(call(&mut svc, clone()), 401, "{name}");
        group.bench_function(name, |b| {
            b.iter_batched(&clone, |req| call(&mut svc, req), BatchSize::PerIteration)
        });
    }
    group.finish();

    // (f) Scaling: 1 vs 50 pools, 2 vs 100 keys in the issuing pool.
    let mut group = c.benchmark_group("scale");
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
    let mut svc50 = many_pools.build().unwrap().layer(noop());
    let iss25 = format!("https://cognito-idp.us-east-1.amazonaws.com/{}", pools[25]);
    let token25 = issuer
        .access_token()
        .scopes(["pets/read"])
        .claim("iss", iss25)
        .sign();
    assert_eq!(call(&mut svc50, request(&token25)), 200);
    let mut svc1 = seeded(&issuer)
        .no_token_cache()
        .build()
        .unwrap()
        .layer(noop());
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
    let keys = |count: usize| {
        let mut list: Vec<serde_json::Value> = (0..count - 1)
            .map(|i| {
                let mut k = issuer.jwk();
                k["kid"] = json!(format!("other-{i}"));
                k
            })
            .collect();
        list.push(issuer.jwk());
        json!({ "keys": list }).to_string()
    };
    for count in [2usize, 100] {
        let mut svc = CognitoAuthLayer::builder()
            .user_pool(POOL)
            .jwks_endpoint("http://127.0.0.1:1")
            .jwks(POOL, keys(count))
            .no_token_cache()
            .scopes(["pets/read"])
            .build()
            .unwrap()
            .layer(noop());
        assert_eq!(call(&mut svc, request(&token)), 200);
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

/// Feature `metrics` on the cached path: no recorder (each metric a branch),
/// Prometheus's recorder (each an atomic add), and the two no-op increments
/// a cached request makes on its own. Rounds alternate as above.
fn bench_metrics(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let issuer = TestIssuer::new(POOL);
    let token = issuer.access_token().scopes(["pets/read"]).sign();
    let mut plain = seeded(&issuer).build().unwrap().layer(noop());
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let mut counted = metrics::with_local_recorder(&recorder, || seeded(&issuer).build())
        .unwrap()
        .layer(noop());
    assert_eq!(call(&mut plain, request(&token)), 200);
    assert_eq!(call(&mut counted, request(&token)), 200);
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

criterion_group!(benches, bench_verify, bench_metrics);
criterion_main!(benches);
