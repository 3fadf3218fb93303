//! A misbehaving key endpoint must not take the service down: redirects are not
//! followed, oversized and slow bodies are cut off, garbage keeps the last good
//! keys, a server down at start is picked up without a restart, and a flood of
//! unknown kids costs fetches only at the configured rate and leaves nothing
//! behind. `key_store.rs` covers 500s, hangs, rotation and the basics; this
//! file adds a raw HTTP/1.1 server on 127.0.0.1 for faults a framework would
//! not produce (lying lengths, endless chunked bodies, slow drips).

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_cognito::testing::TestIssuer;
use tower_cognito::{CognitoAuthLayer, RejectionKind};

/// How the raw server answers every request.
#[derive(Clone)]
enum Reply {
    /// A status line, extra header lines and a body. `Content-Length` is added
    /// unless the header lines carry one.
    Fixed {
        status: &'static str,
        headers: Vec<String>,
        body: Vec<u8>,
    },
    /// `Transfer-Encoding: chunked`, these chunks, then (unless `endless`) the
    /// last chunk; `endless` repeats the chunks until the client goes away.
    Chunked { chunks: Vec<Vec<u8>>, endless: bool },
    /// The full `Content-Length`, then the body one byte per `every`.
    Drip { body: Vec<u8>, every: Duration },
}

/// A blocking HTTP/1.1 server on 127.0.0.1, one thread per connection, with
/// no runtime: paused Tokio time cannot touch it.
struct RawServer {
    addr: SocketAddr,
    reply: Arc<Mutex<Reply>>,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    fn start(reply: Reply) -> Self {
        Self::on(TcpListener::bind("127.0.0.1:0").unwrap(), reply)
    }

    fn on(listener: TcpListener, reply: Reply) -> Self {
        let addr = listener.local_addr().unwrap();
        let reply = Arc::new(Mutex::new(reply));
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, h, s) = (reply.clone(), hits.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let reply = r.lock().unwrap().clone();
                let (h, s) = (h.clone(), s.clone());
                std::thread::spawn(move || serve(conn, reply, &h, &s));
            }
        });
        Self {
            addr,
            reply,
            hits,
            stop,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn set(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut conn: TcpStream, reply: Reply, hits: &AtomicUsize, stop: &AtomicBool) {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    if stop.load(Ordering::SeqCst) {
        return;
    }
    hits.fetch_add(1, Ordering::SeqCst);
    let _ = match reply {
        Reply::Fixed {
            status,
            headers,
            body,
        } => {
            let mut out = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
            if !headers
                .iter()
                .any(|h| h.to_ascii_lowercase().starts_with("content-length"))
            {
                out.push_str(&format!("content-length: {}\r\n", body.len()));
            }
            for h in headers {
                out.push_str(&h);
                out.push_str("\r\n");
            }
            out.push_str("\r\n");
            conn.write_all(out.as_bytes())
                .and_then(|()| conn.write_all(&body))
        }
        Reply::Chunked { chunks, endless } => (|| {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
            )?;
            loop {
                for c in &chunks {
                    conn.write_all(format!("{:x}\r\n", c.len()).as_bytes())?;
                    conn.write_all(c)?;
                    conn.write_all(b"\r\n")?;
                }
                if !endless || stop.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            conn.write_all(b"0\r\n\r\n")
        })(),
        Reply::Drip { body, every } => (|| {
            conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )?;
            for b in body {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                conn.write_all(&[b])?;
                conn.flush()?;
                std::thread::sleep(every);
            }
            Ok(())
        })(),
    };
}

fn ok(body: impl Into<Vec<u8>>) -> Reply {
    Reply::Fixed {
        status: "200 OK",
        headers: vec!["content-type: application/json".into()],
        body: body.into(),
    }
}

/// A layer for POOL, seeded with `issuer`'s key, fetching from `base`.
fn seeded(base: &str, issuer: &TestIssuer) -> tower_cognito::CognitoAuthBuilder {
    CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint(base)
        .jwks(POOL, issuer.jwks())
}

/// After a failed refresh the seeded key still verifies and is the only key.
async fn assert_keys_kept(layer: &CognitoAuthLayer, issuer: &TestIssuer) {
    let status = layer.key_store().status();
    assert_eq!(status.pools[0].kids, [issuer.key_id()]);
    let out = send_token(layer, &issuer.id_token().sign()).await;
    assert_eq!(out.status, 200, "{:?}", out.error);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let issuer = TestIssuer::new(POOL);
    let target = JwksServer::start();
    target.set_jwks(POOL, issuer.jwks());
    let location = format!("{}/{POOL}/.well-known/jwks.json", target.base_url());
    let server = RawServer::start(ok(""));
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "303 See Other",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        server.set(Reply::Fixed {
            status,
            headers: vec![format!("location: {location}")],
            body: Vec::new(),
        });
        let layer = CognitoAuthLayer::builder()
            .user_pool(POOL)
            .jwks_endpoint(server.base_url())
            .build()
            .unwrap();
        let err = layer.key_store().load().await.unwrap_err();
        assert!(err.to_string().contains(&status[..3]), "{err}");
        assert!(!layer.key_store().status().ready());
        let out = send_token(&layer, &issuer.id_token().sign()).await;
        assert_eq!(out.status, 500);
        assert_eq!(out.kind(), RejectionKind::KeysUnavailable);
    }
    assert!(server.hits() >= 5);
    assert_eq!(target.total_hits(), 0, "a redirect was followed");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_or_without_a_length() {
    let issuer = TestIssuer::new(POOL);
    let rotated = TestIssuer::new(POOL);
    // A document that would be accepted if the cap did not hold: a usable key,
    // then padding past 4 KiB.
    let big = format!(
        r#"{{"keys":[{}],"pad":"{}"}}"#,
        rotated.jwk(),
        "x".repeat(8 * 1024)
    )
    .into_bytes();
    let server = RawServer::start(ok(big.clone()));
    let layer = seeded(&server.base_url(), &issuer)
        .max_jwks_bytes(4096)
        .build()
        .unwrap();
    let chunks: Vec<Vec<u8>> = big.chunks(512).map(<[u8]>::to_vec).collect();
    let faults: Vec<(&str, Reply, &str)> = vec![
        ("with Content-Length", ok(big.clone()), "larger than 4096"),
        (
            "chunked, no Content-Length",
            Reply::Chunked {
                chunks: chunks.clone(),
                endless: false,
            },
            "larger than 4096",
        ),
        (
            "chunked and endless",
            Reply::Chunked {
                chunks: vec![b"[[[[[[[[".repeat(128)],
                endless: true,
            },
            "larger than 4096",
        ),
        (
            "Content-Length claiming a terabyte",
            Reply::Fixed {
                status: "200 OK",
                headers: vec!["content-length: 1000000000000".into()],
                body: b"{".to_vec(),
            },
            "larger than 4096",
        ),
        (
            "Content-Length shorter than the body",
            Reply::Fixed {
                status: "200 OK",
                headers: vec!["content-length: 100".into()],
                body: big.clone(),
            },
            "not a JWKS document",
        ),
        (
            "Content-Length longer than the body",
            Reply::Fixed {
                status: "200 OK",
                headers: vec!["content-length: 4000".into()],
                body: rotated.jwks().into_bytes(),
            },
            "GET",
        ),
    ];
    for (what, reply, expect) in faults {
        server.set(reply);
        let started = Instant::now();
        let err = layer.key_store().refresh().await.unwrap_err();
        assert!(err.to_string().contains(expect), "{what}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{what}: took {:?}",
            started.elapsed()
        );
        assert_keys_kept(&layer, &issuer).await;
    }
    // The same document within the cap is taken.
    let small = seeded(&server.base_url(), &issuer)
        .max_jwks_bytes(16 * 1024)
        .build()
        .unwrap();
    server.set(Reply::Chunked {
        chunks,
        endless: false,
    });
    small.key_store().refresh().await.unwrap();
    assert_eq!(small.key_store().status().pools[0].kids, [rotated.key_id()]);
}

#[tokio::test]
async fn a_slow_drip_is_cut_off_by_the_total_timeout() {
    let issuer = TestIssuer::new(POOL);
    let rotated = TestIssuer::new(POOL);
    // A valid document, one byte per 50 ms: about 30 s in all.
    let server = RawServer::start(Reply::Drip {
        body: rotated.jwks().into_bytes(),
        every: Duration::from_millis(50),
    });
    let layer = seeded(&server.base_url(), &issuer)
        .fetch_timeout(Duration::from_millis(600))
        .build()
        .unwrap();
    let started = Instant::now();
    let l = layer.clone();
    let refreshing = tokio::spawn(async move { l.key_store().refresh().await });
    // Known kids verify while the fetch drips.
    for _ in 0..5 {
        assert_eq!(
            send_token(&layer, &issuer.id_token().sign()).await.status,
            200
        );
    }
    let result = tokio::time::timeout(Duration::from_secs(10), refreshing)
        .await
        .expect("the total timeout did not hold")
        .unwrap();
    assert!(result.is_err());
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_keys_kept(&layer, &issuer).await;
    assert!(layer.key_store().status().pools[0].last_error.is_some());
}

#[tokio::test]
async fn a_server_down_at_start_is_picked_up_without_a_restart() {
    let issuer = TestIssuer::new(POOL);
    // A port nobody listens on yet.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let layer = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint(format!("http://127.0.0.1:{port}"))
        .retry_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = layer.key_store().load().await.unwrap_err();
    assert!(err.to_string().contains(POOL), "{err}");
    let out = send_token(&layer, &issuer.id_token().sign()).await;
    assert_eq!(out.status, 500);
    assert_eq!(out.body_str(), r#"{"message":null}"#);
    assert_eq!(out.kind(), RejectionKind::KeysUnavailable);

    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = RawServer::on(listener, ok(issuer.jwks()));
    let store = layer.key_store().clone();
    wait_until("the background retry loads keys", move || {
        store.status().ready()
    })
    .await;
    assert_eq!(
        send_token(&layer, &issuer.id_token().sign()).await.status,
        200
    );
    assert!(server.hits() >= 1);
}

/// A key of `issuer` with one member replaced (or removed, for `null`).
fn altered(issuer: &TestIssuer, kid: &str, member: &str, value: Value) -> Value {
    let mut jwk = issuer.jwk();
    jwk["kid"] = json!(kid);
    if value.is_null() {
        jwk.as_object_mut().unwrap().remove(member);
    } else {
        jwk[member] = value;
    }
    jwk
}

#[tokio::test]
async fn garbage_and_unusable_keys_keep_the_last_good_keys() {
    let issuer = TestIssuer::new(POOL);
    let other = TestIssuer::new(POOL);
    let server = JwksServer::start();
    let layer = seeded(&server.base_url(), &issuer).build().unwrap();
    let n = URL_SAFE_NO_PAD
        .decode(other.jwk()["n"].as_str().unwrap())
        .unwrap();
    let mut n2047 = n.clone();
    n2047[0] = 0x7f;
    let mut n8193 = vec![1u8];
    n8193.extend(vec![0xff; 1024]);
    let unusable = [
        altered(&other, "oct", "kty", json!("oct")),
        json!({"kty": "oct", "kid": "hmac", "alg": "HS256", "k": URL_SAFE_NO_PAD.encode(issuer.jwks())}),
        altered(&other, "hs256", "alg", json!("HS256")),
        altered(&other, "none", "alg", json!("none")),
        altered(&other, "ps256", "alg", json!("PS256")),
        altered(&other, "enc", "use", json!("enc")),
        altered(&other, "2047", "n", json!(URL_SAFE_NO_PAD.encode(&n2047))),
        altered(&other, "8193", "n", json!(URL_SAFE_NO_PAD.encode(&n8193))),
        altered(&other, "n-empty", "n", json!("")),
        altered(&other, "n-missing", "n", Value::Null),
        altered(&other, "n-number", "n", json!(5)),
        altered(
            &other,
            "n-standard",
            "n",
            json!(base64::engine::general_purpose::STANDARD.encode(&n)),
        ),
        altered(&other, "e-one", "e", json!("AQ")),
        altered(&other, "e-even", "e", json!("AQAA")),
        altered(
            &other,
            "e-huge",
            "e",
            json!(URL_SAFE_NO_PAD.encode([1u8; 16])),
        ),
        altered(&other, "kty-missing", "kty", Value::Null),
        json!({"kid": "ec", "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}),
    ];
    let mut bodies: Vec<(String, String)> = vec![
        ("empty".into(), String::new()),
        ("not JSON".into(), "<html>502 Bad Gateway</html>".into()),
        ("null".into(), "null".into()),
        ("an array".into(), "[]".into()),
        ("keys an object".into(), r#"{"keys":{}}"#.into()),
        ("keys numbers".into(), r#"{"keys":[1,2]}"#.into()),
        (
            "keys twice, second usable".into(),
            format!(r#"{{"keys":[],"keys":[{}]}}"#, other.jwk()),
        ),
        (
            "20,000 nested arrays".into(),
            format!(r#"{{"keys":{}{}}}"#, "[".repeat(20_000), "]".repeat(20_000)),
        ),
        (
            "only unusable keys".into(),
            json!({ "keys": unusable }).to_string(),
        ),
    ];
    for key in &unusable {
        bodies.push((
            format!("only key {}", key["kid"]),
            json!({ "keys": [key] }).to_string(),
        ));
    }
    for (what, body) in bodies {
        server.set_jwks(POOL, body);
        let err = layer.key_store().refresh().await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("not a JWKS document") || text.contains("no usable RS256 keys"),
            "{what}: {text}"
        );
        assert_keys_kept(&layer, &issuer).await;
        // A token signed by the key the document tried to bring is refused.
        let out = send_token(&layer, &other.id_token().sign()).await;
        assert_eq!(out.kind(), RejectionKind::UnknownKeyId, "{what}");
    }
    // Unusable keys beside a usable one are skipped, the usable one taken.
    let mut keys = unusable.to_vec();
    keys.push(other.jwk());
    server.set_jwks(POOL, json!({ "keys": keys }).to_string());
    layer.key_store().refresh().await.unwrap();
    let status = layer.key_store().status();
    assert_eq!(status.pools[0].kids, [other.key_id()]);
    assert_eq!(status.pools[0].skipped_keys, unusable.len());
}

/// A cheap pseudo-random sequence for kids (splitmix64).
fn splitmix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A token with this kid and issuer and a signature nobody made: an unknown
/// kid is looked up before the signature is checked, so a flood needs no key.
fn flood_token(kid: &str, iss: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD
            .encode(json!({"iss": iss, "exp": now + 3600, "token_use": "id"}).to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    )
}

/// Joins every request while keeping the paused clock from auto-advancing
/// (real I/O may be in flight), returning how many got each outcome.
async fn join_all(
    mut set: tokio::task::JoinSet<(u16, Option<RejectionKind>)>,
) -> Vec<(u16, Option<RejectionKind>)> {
    let mut out = Vec::new();
    while !set.is_empty() {
        while let Some(res) = set.try_join_next() {
            out.push(res.unwrap());
        }
        if !set.is_empty() {
            real_sleep(1).await;
        }
    }
    out
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_kid_flood_fetches_at_the_configured_rate_and_leaves_nothing_behind() {
    const RATE: Duration = Duration::from_secs(5);
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    let server = JwksServer::start();
    let issuer = TestIssuer::new(POOL);
    server.set_jwks(POOL, issuer.jwks());
    let layer = CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint(server.base_url())
        .unknown_kid_rate_limit(RATE)
        .build()
        .unwrap();
    let store = layer.key_store().clone();
    wait_until("the first load", move || store.status().ready()).await;
    assert_eq!(server.hits(POOL), 1);
    let generation = layer.key_store().status().generation;

    // 10,000 requests with random kids: 2,000 at once, then 1,000 every 1.25 s
    // for 10 s of (paused) time. Valid tokens go through meanwhile.
    let mut seq = 0u64;
    let mut sent = 0;
    let round_sizes = std::iter::once(2_000).chain(std::iter::repeat_n(1_000, 8));
    for (round, size) in round_sizes.enumerate() {
        if round > 0 {
            tokio::time::advance(RATE / 4).await;
        }
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..size {
            seq += 1;
            let token = flood_token(&format!("{:016x}", splitmix(seq)), issuer.issuer());
            let layer = layer.clone();
            set.spawn(async move {
                let out = send_token(&layer, &token).await;
                (out.status.as_u16(), out.error)
            });
        }
        sent += size;
        for (status, kind) in join_all(set).await {
            assert_eq!(status, 401);
            assert_eq!(kind, Some(RejectionKind::UnknownKeyId));
        }
        assert_eq!(
            send_token(&layer, &issuer.id_token().sign()).await.status,
            200
        );
    }
    assert_eq!(sent, 10_000);
    // Misses at t = 0, 5 s and 10 s fetched; the 7 rounds between did not:
    // over 10 s at one fetch per 5 s, at most 10/5 + 1.
    let miss_fetches = server.hits(POOL) - 1;
    assert_eq!(miss_fetches, 3, "fetches caused by the flood");

    // Random issuers cost nothing at all.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..1_000u64 {
        let token = flood_token(
            issuer.key_id(),
            &issuer_of(&format!("us-east-1_{:x}", splitmix(i))),
        );
        let layer = layer.clone();
        set.spawn(async move {
            let out = send_token(&layer, &token).await;
            (out.status.as_u16(), out.error)
        });
    }
    for (status, kind) in join_all(set).await {
        assert_eq!((status, kind), (401, Some(RejectionKind::UnknownIssuer)));
    }
    assert_eq!(server.hits(POOL), 4);

    // Nothing retained per kid: the same single key, the same generation.
    let status = layer.key_store().status();
    assert_eq!(status.pools[0].kids, [issuer.key_id()]);
    assert_eq!(status.pools[0].skipped_keys, 0);
    assert_eq!(status.generation, generation);
    // No task per request survives: the refresh task and at most a pooled
    // connection or two, then nothing once the layer is gone.
    assert!(
        metrics.num_alive_tasks() <= baseline + 3,
        "{} tasks alive",
        metrics.num_alive_tasks()
    );
    drop(layer);
    for _ in 0..2000 {
        if metrics.num_alive_tasks() == baseline {
            break;
        }
        tokio::task::yield_now().await;
        real_sleep(1).await;
    }
    assert_eq!(
        metrics.num_alive_tasks(),
        baseline,
        "tasks outlived the layer"
    );
}
