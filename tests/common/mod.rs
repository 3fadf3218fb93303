//! Shared test support: a real JWKS server on loopback and a recording inner service.
#![allow(dead_code, unreachable_pub)]

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::{Request, Response};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::{Layer, ServiceExt};
use tower_cognito::claims::CognitoClaims;
use tower_cognito::testing::TestIssuer;
use tower_cognito::{AuthError, CognitoAuthBuilder, CognitoAuthLayer, RejectionKind};

pub const POOL: &str = "us-east-1_TestPool1";
pub const POOL2: &str = "eu-west-1_TestPool2";

pub fn issuer_of(pool: &str) -> String {
    let region = pool.split('_').next().unwrap();
    format!("https://cognito-idp.{region}.amazonaws.com/{pool}")
}

/// A builder for [`POOL`] seeded with `issuer`'s key. Its JWKS endpoint is a
/// closed loopback port, so no background fetch ever leaves the machine.
pub fn seeded(issuer: &TestIssuer) -> CognitoAuthBuilder {
    CognitoAuthLayer::builder()
        .user_pool(POOL)
        .jwks_endpoint("http://127.0.0.1:1")
        .jwks(POOL, issuer.jwks())
}

/// What the JWKS server answers.
#[derive(Clone)]
pub struct Behaviour {
    pub status: u16,
    pub body: String,
    /// Sleep this long before answering (a hanging server).
    pub delay: Duration,
}

#[derive(Clone)]
struct ServerState {
    docs: Arc<Mutex<HashMap<String, Behaviour>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    total: Arc<AtomicUsize>,
}

/// A JWKS server on 127.0.0.1, on its own thread and runtime so that tests with
/// paused time do not pause it.
pub struct JwksServer {
    pub addr: SocketAddr,
    state: ServerState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn serve_jwks(
    State(state): State<ServerState>,
    Path(pool): Path<String>,
) -> impl IntoResponse {
    state.total.fetch_add(1, Ordering::SeqCst);
    *state.hits.lock().unwrap().entry(pool.clone()).or_default() += 1;
    let behaviour = state.docs.lock().unwrap().get(&pool).cloned();
    match behaviour {
        Some(b) => {
            if !b.delay.is_zero() {
                tokio::time::sleep(b.delay).await;
            }
            (
                StatusCode::from_u16(b.status).unwrap(),
                [("content-type", "application/json")],
                b.body,
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl JwksServer {
    pub fn start() -> Self {
        let state = ServerState {
            docs: Arc::default(),
            hits: Arc::default(),
            total: Arc::default(),
        };
        let app = Router::new()
            .route("/{pool}/.well-known/jwks.json", get(serve_jwks))
            .with_state(state.clone());
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, pool: &str, behaviour: Behaviour) {
        self.state
            .docs
            .lock()
            .unwrap()
            .insert(pool.to_owned(), behaviour);
    }

    pub fn set_jwks(&self, pool: &str, jwks: impl Into<String>) {
        self.set(
            pool,
            Behaviour {
                status: 200,
                body: jwks.into(),
                delay: Duration::ZERO,
            },
        );
    }

    pub fn set_status(&self, pool: &str, status: u16) {
        self.set(
            pool,
            Behaviour {
                status,
                body: "oops".into(),
                delay: Duration::ZERO,
            },
        );
    }

    pub fn hits(&self, pool: &str) -> usize {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(pool)
            .copied()
            .unwrap_or(0)
    }

    /// A reader of one pool's hit count that can move to another thread.
    pub fn clone_hits(&self) -> impl Fn() -> usize + Send + 'static {
        let hits = self.state.hits.clone();
        move || hits.lock().unwrap().get(POOL).copied().unwrap_or(0)
    }

    pub fn total_hits(&self) -> usize {
        self.state.total.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Graceful shutdown may wait on a hanging handler: do not join then.
        drop(self.thread.take());
    }
}

/// Waits (in real time, at most 10 s) until `cond` holds. Runs on the blocking
/// pool, which keeps a paused clock from auto-advancing meanwhile, so real I/O
/// (a key fetch in flight) completes without its timeouts firing early.
pub async fn wait_until(what: &str, cond: impl Fn() -> bool + Send + 'static) {
    let ok = tokio::task::spawn_blocking(move || {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    })
    .await
    .unwrap();
    assert!(ok, "timed out waiting until {what}");
}

/// Real-time pause without letting a paused clock auto-advance.
pub async fn real_sleep(ms: u64) {
    tokio::task::spawn_blocking(move || std::thread::sleep(Duration::from_millis(ms)))
        .await
        .unwrap();
}

/// What the inner service saw and what the client got.
#[derive(Debug)]
pub struct Outcome {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub error: Option<RejectionKind>,
    pub claims: Option<CognitoClaims>,
}

impl Outcome {
    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    pub fn kind(&self) -> RejectionKind {
        self.error
            .unwrap_or_else(|| panic!("not rejected: {self:?}"))
    }
}

/// Sends one request with these headers through `layer` around an inner service
/// that records the claims it was handed and answers 200 "ok".
pub async fn send(layer: &CognitoAuthLayer, headers: &[(&str, &str)]) -> Outcome {
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect();
    send_values(layer, headers).await
}

/// [`send`] as an HTTP/2 request (gRPC replies need one).
pub async fn send_http2(layer: &CognitoAuthLayer, headers: &[(&str, &str)]) -> Outcome {
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect();
    send_version(layer, http::Version::HTTP_2, headers).await
}

/// [`send`] with header values given as bytes (non-UTF-8, tabs...).
pub async fn send_values(
    layer: &CognitoAuthLayer,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
) -> Outcome {
    send_version(layer, http::Version::HTTP_11, headers).await
}

async fn send_version(
    layer: &CognitoAuthLayer,
    version: http::Version,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
) -> Outcome {
    let seen: Arc<Mutex<Option<CognitoClaims>>> = Arc::default();
    let seen2 = seen.clone();
    let inner = tower::service_fn(move |req: Request<()>| {
        let seen = seen2.clone();
        async move {
            *seen.lock().unwrap() = req.extensions().get::<CognitoClaims>().cloned();
            Ok::<_, Infallible>(Response::new(http_body_util::Full::new(
                Bytes::from_static(b"ok"),
            )))
        }
    });
    let mut req = Request::builder().uri("/pets").version(version);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let res = layer
        .layer(inner)
        .oneshot(req.body(()).unwrap())
        .await
        .unwrap();
    let error = res.extensions().get::<AuthError>().map(AuthError::kind);
    let (parts, body) = res.into_parts();
    let body = http_body_util::BodyExt::collect(body)
        .await
        .unwrap()
        .to_bytes();
    let claims = seen.lock().unwrap().take();
    if error.is_some() {
        assert!(
            claims.is_none(),
            "rejected request reached the inner service"
        );
    }
    Outcome {
        status: parts.status,
        headers: parts.headers,
        body,
        error,
        claims,
    }
}

pub async fn send_token(layer: &CognitoAuthLayer, token: &str) -> Outcome {
    send(layer, &[("authorization", token)]).await
}

/// Asserts API Gateway's 401 Unauthorized, byte for byte.
pub fn assert_unauthorized(out: &Outcome) {
    assert_eq!(out.status, 401, "{out:?}");
    assert_eq!(out.body_str(), r#"{"message":"Unauthorized"}"#);
    assert_eq!(out.headers["content-type"], "application/json");
    assert_eq!(out.headers["x-amzn-errortype"], "UnauthorizedException");
}
