//! The revocation list shared through a real `redis-server` (feature
//! `redis`, on for this crate's tests): announcements, reconcile, load
//! before ready, outages.

mod common;
#[path = "support/redis.rs"]
mod redis_server;

use common::*;
use redis_server::RedisServer;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tower_cognito::revocation::{OnOutage, Revocation, RevocationList, RevocationStore};
use tower_cognito::testing::TestIssuer;
use tower_cognito::RejectionKind;

fn issuer() -> &'static TestIssuer {
    static ISSUER: OnceLock<TestIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| TestIssuer::new(POOL))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn list(url: &str, on_outage: OnOutage) -> RevocationList {
    RevocationList::builder()
        .redis(url)
        .reconcile_interval(Duration::from_millis(200))
        .command_timeout(Duration::from_millis(500))
        .on_outage(on_outage)
        .build()
        .unwrap()
}

async fn loaded(list: &RevocationList) {
    tokio::time::timeout(Duration::from_secs(10), list.loaded())
        .await
        .expect("list loaded from Redis within 10 s");
}

/// Waits (bounded) until `cond` holds, returning how long it took.
async fn within(what: &str, limit: Duration, cond: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: not within {limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_reaches_every_list_and_redis_expires_it() {
    let server = RedisServer::start();
    let a = list(&server.url(), OnOutage::Serve);
    let b = list(&server.url(), OnOutage::Serve);
    loaded(&a).await;
    loaded(&b).await;
    let store = RevocationStore::connect(&server.url()).await.unwrap();
    let until = now() + 3600;
    assert!(store
        .revoke(&Revocation::family("fam-1", until))
        .await
        .unwrap());
    assert!(store
        .revoke(&Revocation::user(POOL, "u1", now()))
        .await
        .unwrap());
    // An entry already over is not written.
    assert!(!store
        .revoke(&Revocation::family("old", now() - 1))
        .await
        .unwrap());
    for l in [&a, &b] {
        within("both entries applied", Duration::from_secs(1), || {
            l.len() == 2
        })
        .await;
    }
    // Stored with PXAT at the entry's expiry.
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let at: i64 = redis::cmd("PEXPIRETIME")
        .arg("{tower-cognito}:family:fam-1")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(at, until * 1000);
    let loaded_back = store.load().await.unwrap();
    assert_eq!(loaded_back.len(), 2);
    assert!(loaded_back.contains(&Revocation::family("fam-1", until)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_started_later_loads_before_it_serves() {
    let server = RedisServer::start();
    let store = RevocationStore::connect(&server.url()).await.unwrap();
    store
        .revoke(&Revocation::family("early", now() + 3600))
        .await
        .unwrap();
    let list = list(&server.url(), OnOutage::Serve);
    let layer = seeded(issuer())
        .revocation_list(list.clone())
        .build()
        .unwrap();
    let revoked = issuer().id_token().claim("origin_jti", "early").sign();
    let other = issuer().id_token().sign();
    loaded(&list).await;
    assert_eq!(
        send_token(&layer, &revoked).await.kind(),
        RejectionKind::Revoked
    );
    assert_eq!(send_token(&layer, &other).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_announcement_is_made_up_by_the_reconcile() {
    let server = RedisServer::start();
    let list = list(&server.url(), OnOutage::Serve);
    loaded(&list).await;
    // Written behind the list's back: in the store, never announced.
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let r = Revocation::family("silent", now() + 3600);
    let key = "{tower-cognito}:family:silent";
    let at = (now() + 3600) * 1000;
    let _: () = redis::pipe()
        .cmd("SET")
        .arg(key)
        .arg(r.to_json())
        .arg("PXAT")
        .arg(at)
        .ignore()
        .cmd("ZADD")
        .arg("{tower-cognito}:index")
        .arg(at)
        .arg(key)
        .ignore()
        .cmd("INCR")
        .arg("{tower-cognito}:version")
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();
    within("reconciled", Duration::from_secs(2), || list.len() == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_restarted_keeps_serving_and_converges() {
    let mut server = RedisServer::start();
    let serve = list(&server.url(), OnOutage::Serve);
    let deny = list(&server.url(), OnOutage::Deny);
    loaded(&serve).await;
    loaded(&deny).await;
    let store = RevocationStore::connect(&server.url()).await.unwrap();
    store
        .revoke(&Revocation::family("before-outage", now() + 3600))
        .await
        .unwrap();
    within("applied", Duration::from_secs(1), || {
        serve.len() == 1 && deny.len() == 1
    })
    .await;
    let serving = seeded(issuer())
        .revocation_list(serve.clone())
        .build()
        .unwrap();
    let denying = seeded(issuer())
        .revocation_list(deny.clone())
        .build()
        .unwrap();
    let good = issuer().id_token().sign();
    let revoked = issuer()
        .id_token()
        .claim("origin_jti", "before-outage")
        .sign();

    server.stop();
    within("outage seen", Duration::from_secs(3), || {
        !serve.status().fresh && !deny.status().fresh
    })
    .await;
    // Serve: the last list holds, with no stall; Deny: every token refused.
    let start = Instant::now();
    assert_eq!(send_token(&serving, &good).await.status, 200);
    assert_eq!(
        send_token(&serving, &revoked).await.kind(),
        RejectionKind::Revoked
    );
    let out = send_token(&denying, &good).await;
    assert_eq!(out.status, 500);
    assert_eq!(out.body_str(), r#"{"message":null}"#);
    assert_eq!(out.kind(), RejectionKind::RevocationUnavailable);
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "requests stalled: {:?}",
        start.elapsed()
    );
    assert!(serve.status().loaded);

    server.restart();
    // A write after the restart, and the one before it kept on disk.
    let store = RevocationStore::connect(&server.url()).await.unwrap();
    assert_eq!(
        store.load().await.unwrap().len(),
        1,
        "data kept across the restart"
    );
    store
        .revoke(&Revocation::family("after-outage", now() + 3600))
        .await
        .unwrap();
    for l in [&serve, &deny] {
        within("converged", Duration::from_secs(10), || {
            l.status().fresh && l.len() == 2
        })
        .await;
    }
    assert_eq!(send_token(&denying, &good).await.status, 200);
    let after = issuer()
        .id_token()
        .claim("origin_jti", "after-outage")
        .sign();
    assert_eq!(
        send_token(&denying, &after).await.kind(),
        RejectionKind::Revoked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_never_loaded_refuses_every_token() {
    let mut server = RedisServer::start();
    let url = server.url();
    server.stop();
    for mode in [OnOutage::Serve, OnOutage::Deny] {
        let list = list(&url, mode);
        let layer = seeded(issuer())
            .revocation_list(list.clone())
            .build()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!list.status().loaded);
        let out = send_token(&layer, &issuer().id_token().sign()).await;
        assert_eq!(out.status, 500);
        assert_eq!(out.kind(), RejectionKind::RevocationUnavailable);
    }
}

#[tokio::test]
async fn bad_urls_are_refused_up_front() {
    assert!(RevocationList::builder().redis("http://x").build().is_err());
    assert!(RevocationList::builder().build().is_err());
    assert!(RevocationStore::connect("not a url").await.is_err());
}
