//! The key store against a real JWKS server on 127.0.0.1 with a hit counter.

mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tower_cognito::testing::TestIssuer;
use tower_cognito::{CognitoAuthBuilder, CognitoAuthLayer, RejectionKind};

fn builder(server: &JwksServer) -> CognitoAuthBuilder {
    CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint(server.base_url())
}

fn fetches(layer: &CognitoAuthLayer) -> u64 {
    layer.key_store().status().pools[0].fetches
}

async fn wait_fetches(layer: &CognitoAuthLayer, n: u64) {
    let store = layer.key_store().clone();
    wait_until(&format!("{n} fetches"), move || {
        store.status().pools[0].fetches >= n
    })
    .await;
}

#[tokio::test]
async fn fetches_over_http_then_verifies_without_fetching() {
    let server = JwksServer::start();
    let issuer = TestIssuer::new(POOL);
    server.set_jwks(POOL, issuer.jwks());
    let layer = builder(&server).build().unwrap();
    layer.key_store().load().await.unwrap();
    let status = layer.key_store().status();
    assert!(status.ready());
    assert_eq!(status.pools[0].kids, [issuer.key_id()]);
    assert!(status.pools[0].last_success.is_some());
    assert_eq!(status.generation, 1);
    for _ in 0..5 {
        assert_eq!(
            send_token(&layer, &issuer.id_token().sign()).await.status,
            200
        );
    }
    assert_eq!(server.hits(POOL), 1, "known kids must not cause fetches");
}

#[tokio::test]
async fn cold_store_answers_500_until_keys_arrive_then_200_without_restart() {
    let server = JwksServer::start();
    let issuer = TestIssuer::new(POOL);
    server.set_status(POOL, 503);
    let layer = builder(&server)
        .retry_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = layer.key_store().load().await.unwrap_err();
    assert!(err.to_string().contains(POOL), "{err}");
    let out = send_token(&layer, &issuer.id_token().sign()).await;
    assert_eq!(out.status, 500);
    assert_eq!(out.body_str(), r#"{"message":null}"#);
    assert_eq!(out.headers["content-type"], "application/json");
    assert_eq!(
        out.headers["x-amzn-errortype"],
        "AuthorizerConfigurationException"
    );
    assert_eq!(out.kind(), RejectionKind::KeysUnavailable);
    assert!(layer.key_store().status().pools[0].last_error.is_some());

    server.set_jwks(POOL, issuer.jwks());
    let store = layer.key_store().clone();
    wait_until("background retry loads keys", move || {
        store.status().ready()
    })
    .await;
    assert_eq!(
        send_token(&layer, &issuer.id_token().sign()).await.status,
        200
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_kid_one_fetch_for_100_concurrent_requests_then_rate_limited() {
    let server = JwksServer::start();
    let old = TestIssuer::new(POOL);
    let new = TestIssuer::new(POOL);
    server.set_jwks(POOL, old.jwks());
    let layer = builder(&server).build().unwrap();
    wait_fetches(&layer, 1).await;
    assert_eq!(server.hits(POOL), 1);

    // The pool rotates in a new key; 100 requests carrying it arrive at once.
    server.set_jwks(POOL, TestIssuer::jwks_of(&[&old, &new]));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let layer = layer.clone();
        let token = new.id_token().sign();
        set.spawn(async move {
            let o = send_token(&layer, &token).await;
            (o.status, o.error)
        });
    }
    wait_fetches(&layer, 2).await;
    while let Some(status) = set.join_next().await {
        assert_eq!(status.unwrap(), (http::StatusCode::OK, None));
    }
    assert_eq!(
        server.hits(POOL),
        2,
        "concurrent misses must share one fetch"
    );

    // Another unknown kid within the rate limit: refused without a fetch, while
    // known kids keep working.
    let stranger = TestIssuer::new(POOL);
    let out = send_token(&layer, &stranger.id_token().sign()).await;
    assert_eq!(out.kind(), RejectionKind::UnknownKeyId);
    assert_unauthorized(&out);
    assert_eq!(send_token(&layer, &old.id_token().sign()).await.status, 200);
    assert_eq!(server.hits(POOL), 2);

    // After the limit (10 s by default) a miss fetches again.
    tokio::time::advance(Duration::from_secs(11)).await;
    let l = layer.clone();
    let token = stranger.id_token().sign();
    let pending = tokio::spawn(async move { send_token(&l, &token).await.kind() });
    wait_fetches(&layer, 3).await;
    assert_eq!(pending.await.unwrap(), RejectionKind::UnknownKeyId);
    assert_eq!(server.hits(POOL), 3);
}

#[tokio::test]
async fn failed_refresh_keeps_the_last_good_keys() {
    let server = JwksServer::start();
    let issuer = TestIssuer::new(POOL);
    server.set_jwks(POOL, issuer.jwks());
    let layer = builder(&server).max_jwks_bytes(4096).build().unwrap();
    layer.key_store().load().await.unwrap();

    type Breakage<'a> = Box<dyn Fn() + 'a>;
    let failures: Vec<(&str, Breakage)> = vec![
        ("status 500", Box::new(|| server.set_status(POOL, 500))),
        (
            "not a JWKS document",
            Box::new(|| server.set_jwks(POOL, "{not json")),
        ),
        (
            "larger than 4096",
            Box::new(|| {
                server.set_jwks(
                    POOL,
                    format!("{{\"keys\":[],\"x\":\"{}\"}}", "a".repeat(5000)),
                )
            }),
        ),
        (
            "no usable RS256 keys",
            Box::new(|| server.set_jwks(POOL, r#"{"keys":[]}"#)),
        ),
    ];
    for (expect, fail) in failures {
        fail();
        let err = layer.key_store().refresh().await.unwrap_err();
        assert!(
            err.to_string().contains(expect),
            "{err} should say {expect}"
        );
        // load() only waits for pools without keys: this one has keys.
        layer.key_store().load().await.unwrap();
        let status = layer.key_store().status();
        assert_eq!(status.pools[0].keys, 1);
        assert!(status.pools[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains(expect));
        assert_eq!(
            send_token(&layer, &issuer.id_token().sign()).await.status,
            200
        );
    }
    server.set_jwks(POOL, issuer.jwks());
    layer.key_store().refresh().await.unwrap();
    assert!(layer.key_store().status().pools[0].last_error.is_none());
}

#[tokio::test]
async fn a_hanging_server_is_cut_off_by_the_timeout_and_known_kids_keep_working() {
    let server = JwksServer::start();
    let issuer = TestIssuer::new(POOL);
    server.set_jwks(POOL, issuer.jwks());
    let layer = builder(&server)
        .fetch_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    layer.key_store().load().await.unwrap();
    server.set(
        POOL,
        Behaviour {
            status: 200,
            body: issuer.jwks(),
            delay: Duration::from_secs(30),
        },
    );
    let l = layer.clone();
    let loading = tokio::spawn(async move { l.key_store().refresh().await });
    // While the fetch hangs, requests with known kids verify at once.
    assert_eq!(
        send_token(&layer, &issuer.id_token().sign()).await.status,
        200
    );
    let result = tokio::time::timeout(Duration::from_secs(10), loading)
        .await
        .expect("the fetch timeout did not hold")
        .unwrap();
    assert!(result.is_err());
    assert_eq!(
        send_token(&layer, &issuer.id_token().sign()).await.status,
        200
    );
}

#[tokio::test(start_paused = true)]
async fn background_refresh_on_the_interval_rotates_keys() {
    let server = JwksServer::start();
    let old = TestIssuer::new(POOL);
    let new = TestIssuer::new(POOL);
    server.set_jwks(POOL, old.jwks());
    let layer = builder(&server)
        .refresh_interval(Duration::from_secs(60))
        .build()
        .unwrap();
    wait_fetches(&layer, 1).await;
    assert_eq!(send_token(&layer, &old.id_token().sign()).await.status, 200);

    server.set_jwks(POOL, new.jwks());
    tokio::time::advance(Duration::from_secs(30)).await;
    real_sleep(50).await;
    assert_eq!(fetches(&layer), 1, "no refresh before the interval");
    tokio::time::advance(Duration::from_secs(31)).await;
    wait_fetches(&layer, 2).await;
    assert_eq!(send_token(&layer, &new.id_token().sign()).await.status, 200);
    // The removed kid is refused after the refresh: its first miss looks once
    // more (one fetch), later ones within the rate limit do not.
    let l = layer.clone();
    let token = old.id_token().sign();
    let pending = tokio::spawn(async move { send_token(&l, &token).await.kind() });
    wait_fetches(&layer, 3).await;
    assert_eq!(pending.await.unwrap(), RejectionKind::UnknownKeyId);
    let out = send_token(&layer, &old.id_token().sign()).await;
    assert_eq!(out.kind(), RejectionKind::UnknownKeyId);
    assert_eq!(server.hits(POOL), 3);
    assert_eq!(layer.key_store().status().generation, 2);
}

#[tokio::test(start_paused = true)]
async fn background_task_ends_when_the_last_handle_is_dropped() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let server = JwksServer::start();
    let issuer = TestIssuer::new(POOL);
    server.set_jwks(POOL, issuer.jwks());
    let layer = builder(&server)
        .refresh_interval(Duration::from_secs(60))
        .build()
        .unwrap();
    let service = tower::Layer::layer(
        &layer,
        tower::service_fn(|_: http::Request<()>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        }),
    );
    wait_fetches(&layer, 1).await;
    drop(layer);
    // A service made by the layer still holds the store: refreshes go on.
    tokio::time::advance(Duration::from_secs(61)).await;
    wait_until("a refresh while a service is alive", {
        let hits = server.clone_hits();
        move || hits() >= 2
    })
    .await;

    drop(service);
    for _ in 0..1000 {
        if metrics.num_alive_tasks() == baseline {
            break;
        }
        tokio::task::yield_now().await;
        real_sleep(1).await;
    }
    assert_eq!(
        metrics.num_alive_tasks(),
        baseline,
        "the refresh task outlived its handles"
    );
    let hits = server.hits(POOL);
    tokio::time::advance(Duration::from_secs(600)).await;
    real_sleep(50).await;
    assert_eq!(server.hits(POOL), hits);
}

#[tokio::test]
async fn unusable_keys_are_skipped_not_fatal() {
    let server = JwksServer::start();
    let good = TestIssuer::new(POOL);
    let other = TestIssuer::new(POOL);
    let mut jwk = other.jwk();
    let n = jwk["n"].as_str().unwrap().to_owned();
    let mut bad = Vec::new();
    for (field, value) in [
        ("kty", json!("EC")),
        ("use", json!("enc")),
        ("alg", json!("RS512")),
        ("n", json!(&n[..171])), // 1024 bits
        ("kid", json!(null)),
        ("e", json!("AA")),
    ] {
        let mut k = other.jwk();
        k[field] = value;
        k["kid"] = if field == "kid" {
            json!(null)
        } else {
            json!(format!("bad-{field}"))
        };
        bad.push(k);
    }
    jwk["kid"] = json!("dup");
    bad.push(jwk.clone());
    bad.push(jwk);
    let mut keys = bad;
    keys.push(good.jwk());
    server.set_jwks(POOL, json!({ "keys": keys }).to_string());
    let layer = builder(&server).build().unwrap();
    layer.key_store().load().await.unwrap();
    let status = layer.key_store().status();
    let mut kids = vec![good.key_id().to_owned(), "dup".to_owned()];
    kids.sort();
    assert_eq!(status.pools[0].kids, kids);
    assert_eq!(status.pools[0].skipped_keys, 7);
    assert_eq!(
        send_token(&layer, &good.id_token().sign()).await.status,
        200
    );
}

#[tokio::test]
async fn a_kid_is_looked_up_only_in_the_issuing_pool() {
    let server = JwksServer::start();
    let one = TestIssuer::new(POOL).kid("shared");
    let two = TestIssuer::new(POOL2).kid("shared");
    server.set_jwks(POOL, one.jwks());
    server.set_jwks(POOL2, two.jwks());
    let layer = CognitoAuthLayer::builder()
        .user_pools([POOL, POOL2])
        .jwks_endpoint(server.base_url())
        .build()
        .unwrap();
    layer.key_store().load().await.unwrap();
    assert_eq!(send_token(&layer, &one.id_token().sign()).await.status, 200);
    assert_eq!(send_token(&layer, &two.id_token().sign()).await.status, 200);
    // Pool one's key, pool two's issuer: checked against pool two's key only.
    let crossed = one.id_token().claim("iss", two.issuer()).sign();
    assert_eq!(
        send_token(&layer, &crossed).await.kind(),
        RejectionKind::InvalidSignature
    );
    // One pool configured: the other's tokens are refused.
    let only_one = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint(server.base_url())
        .build()
        .unwrap();
    only_one.key_store().load().await.unwrap();
    assert_eq!(
        send_token(&only_one, &two.id_token().sign()).await.kind(),
        RejectionKind::UnknownIssuer
    );
}

#[tokio::test]
async fn inline_seed_and_generation() {
    let a = TestIssuer::new(POOL);
    let b = TestIssuer::new(POOL);
    let layer = seeded(&a).build().unwrap();
    let store = layer.key_store();
    assert!(store.status().ready());
    assert_eq!(store.status().generation, 1);
    assert_eq!(store.insert_jwks(POOL, &a.jwks()).unwrap(), 1);
    assert_eq!(
        store.status().generation,
        1,
        "an unchanged set is not a new generation"
    );
    assert_eq!(
        store
            .insert_jwks(POOL, &TestIssuer::jwks_of(&[&a, &b]))
            .unwrap(),
        2
    );
    assert_eq!(store.status().generation, 2);
    assert!(store.insert_jwks("us-east-1_Nope", &a.jwks()).is_err());
    assert_eq!(send_token(&layer, &b.id_token().sign()).await.status, 200);
    let _ = Arc::new(());
}

/// Issue: the refetch for an unknown kid ran inside the request's future, so a
/// client that hung up cancelled it while the rate-limit slot stayed used, and a
/// key published meanwhile got 401s. Over real TCP: an axum server with the
/// layer, a slow key endpoint, a client that sends an unknown kid and hangs up.
#[tokio::test]
async fn a_client_that_hangs_up_on_an_unknown_kid_cannot_block_a_rotated_key() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower_cognito::testing::JwksServer as SlowJwks;

    let old = TestIssuer::new(POOL);
    let new = TestIssuer::new(POOL);
    let stranger = TestIssuer::new(POOL);
    let jwks = SlowJwks::start(&[&old]).await.unwrap();
    let layer = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint(jwks.base_url())
        .unknown_kid_rate_limit(Duration::from_secs(60))
        .build()
        .unwrap();
    layer.key_store().load().await.unwrap();
    assert_eq!(jwks.requests(), 1);

    let app = axum::Router::new()
        .route("/pets", axum::routing::get(|| async { "ok" }))
        .layer(layer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // The key endpoint becomes slow; a client sends a kid the pool does not
    // have, waits until the layer's fetch has reached the endpoint, hangs up.
    jwks.set_delay(Duration::from_millis(2500));
    let mut attacker = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /pets HTTP/1.1\r\nhost: {addr}\r\nauthorization: {}\r\n\r\n",
        stranger.id_token().sign()
    );
    attacker.write_all(request.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    while jwks.requests() < 2 && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(jwks.requests(), 2, "the unknown kid must cause one fetch");
    attacker.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let _ = attacker.read_to_end(&mut rest).await;
    drop(attacker);
    // Give the server time to notice the hang-up and drop the request.
    tokio::time::sleep(Duration::from_millis(100)).await;

    // The pool rotates in a new key while that fetch is still under way.
    jwks.publish(&[&old, &new]);
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let res = client
        .get(format!("http://{addr}/pets"))
        .header("authorization", new.id_token().sign())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the rotated-in key must pass");
    assert_eq!(res.text().await.unwrap(), "ok");
    assert_eq!(
        jwks.requests(),
        2,
        "the second miss must share the fetch under way"
    );
    let status = layer.key_store().status();
    assert!(status.pools[0].kids.contains(&new.key_id().to_owned()));
    assert_eq!(status.pools[0].fetches, 2);

    // The rate limit now holds: another unknown kid is refused without a fetch.
    let res = client
        .get(format!("http://{addr}/pets"))
        .header("authorization", stranger.id_token().sign())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(jwks.requests(), 2);
    server.abort();
}

/// The unknown-kid rate limit counts from when a fetch completed: misses during
/// a slow fetch share it, and the limit runs from its end, not its start. The
/// fetch takes 4 s and the limit is 3 s, so a miss right after the fetch is
/// past the limit counted from the start and inside it counted from the end,
/// with seconds of slack for a loaded machine.
#[tokio::test]
async fn the_unknown_kid_rate_limit_counts_from_the_completed_fetch() {
    use tower_cognito::testing::JwksServer as SlowJwks;

    let known = TestIssuer::new(POOL);
    let jwks = SlowJwks::start(&[&known]).await.unwrap();
    let layer = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint(jwks.base_url())
        .unknown_kid_rate_limit(Duration::from_secs(3))
        .fetch_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    layer.key_store().load().await.unwrap();
    jwks.set_delay(Duration::from_secs(4));

    let started = std::time::Instant::now();
    let first = {
        let (layer, token) = (layer.clone(), TestIssuer::new(POOL).id_token().sign());
        tokio::spawn(async move { send_token(&layer, &token).await.kind() })
    };
    while jwks.requests() < 2 && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(jwks.requests(), 2);
    // During the fetch: this miss waits for it rather than fetching again.
    let second = send_token(&layer, &TestIssuer::new(POOL).id_token().sign()).await;
    assert_eq!(second.kind(), RejectionKind::UnknownKeyId);
    assert!(started.elapsed() >= Duration::from_secs(4));
    assert_eq!(first.await.unwrap(), RejectionKind::UnknownKeyId);
    assert_eq!(jwks.requests(), 2, "misses during a fetch share it");
    assert_eq!(layer.key_store().status().pools[0].fetches, 2);

    // Over 3 s after the fetch started but within 3 s of its end: limited.
    let limited = send_token(&layer, &TestIssuer::new(POOL).id_token().sign()).await;
    assert_eq!(limited.kind(), RejectionKind::UnknownKeyId);
    assert_eq!(
        jwks.requests(),
        2,
        "the limit runs from the completed fetch"
    );

    // Past the limit from the fetch's end, a miss fetches again.
    jwks.set_delay(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let again = send_token(&layer, &TestIssuer::new(POOL).id_token().sign()).await;
    assert_eq!(again.kind(), RejectionKind::UnknownKeyId);
    assert_eq!(jwks.requests(), 3);
}

#[tokio::test]
async fn a_new_layer_adopts_the_keys_of_unchanged_pools_without_fetching() {
    let server = JwksServer::start();
    let one = TestIssuer::new(POOL);
    let two = TestIssuer::new(POOL2);
    server.set_jwks(POOL, one.jwks());
    server.set_jwks(POOL2, two.jwks());
    let old = builder(&server).build().unwrap();
    old.key_store().load().await.unwrap();
    assert_eq!(server.hits(POOL), 1);

    // A redeployment: one more pool, and pool one's keys already fetched.
    let new = CognitoAuthLayer::builder()
        .user_pools([POOL, POOL2])
        .jwks_endpoint(server.base_url())
        .build()
        .unwrap();
    assert_eq!(new.key_store().adopt_keys(old.key_store()), [POOL]);
    assert_eq!(send_token(&new, &one.id_token().sign()).await.status, 200);
    new.key_store().load().await.unwrap();
    assert_eq!(
        server.hits(POOL),
        1,
        "adopted keys must not be fetched again"
    );
    assert_eq!(server.hits(POOL2), 1);
    assert_eq!(send_token(&new, &two.id_token().sign()).await.status, 200);
    // Already loaded: nothing more is taken over.
    assert!(new.key_store().adopt_keys(old.key_store()).is_empty());

    // Another JWKS URL for the same pool: the keys are not the same keys.
    let elsewhere = JwksServer::start();
    elsewhere.set_jwks(POOL, one.jwks());
    let moved = builder(&elsewhere).build().unwrap();
    assert!(moved.key_store().adopt_keys(old.key_store()).is_empty());
    assert!(!moved.key_store().status().ready());
}
