//! Connections to backends (`http_proxy`, `http`, the Lambda Invoke API):
//! hyper's client connections, HTTP/1.1, or HTTP/2 when TLS's ALPN picks it,
//! kept per scheme and authority for reuse by the serving thread that opened
//! them.
//!
//! [choice] Why not hyper-util's pooled `Client`: every serving thread has
//! its own runtime (`workers.rs`), so its pool needs no lock, no waiting list
//! shared across threads and no race between a checkout and a new connection;
//! and a connection still streaming a body stays in the list, marked busy by
//! hyper itself (`SendRequest::is_ready`), instead of a task spawned per
//! request to put it back. That client's per-request work was about a
//! seventh of a proxied request's instructions (BENCHMARKS.md). What it
//! does that matters here is kept: connectors from hyper-rustls (system
//! roots, HTTP/2 by ALPN), `Host` from the URI when the caller set none,
//! origin-form targets on HTTP/1, a request retried on a fresh connection
//! when a reused one closed before taking it, idle connections dropped after
//! 90 s.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::header::{HeaderValue, HOST};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tower::{Service, ServiceExt};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long an unused connection is kept (hyper-util's default too).
const IDLE: Duration = Duration::from_secs(90);

/// A backend's scheme and authority: what its connections are kept by.
pub(crate) type Key = (Scheme, Authority);

/// The key of an absolute URI.
pub(crate) fn key_of(uri: &Uri) -> Option<Key> {
    Some((uri.scheme()?.clone(), uri.authority()?.clone()))
}

/// Sends `req` (an absolute URI) to its backend and returns the response
/// head; the body streams from the connection as it is read.
pub(crate) async fn send(mut req: Request<Body>) -> Result<Response<Incoming>, BoxError> {
    let key = key_of(req.uri()).ok_or("backend URI without a scheme or authority")?;
    *req.uri_mut() = origin_form(req.uri());
    send_to(&key, req).await
}

/// Sends `req`, whose URI is origin-form (path and query), to the backend
/// at `key`: what [`send`] does, for a caller that knows the backend
/// before the request (`http_proxy` parses it once, at startup).
pub(crate) async fn send_to(
    key: &Key,
    mut req: Request<Body>,
) -> Result<Response<Incoming>, BoxError> {
    if !req.headers().contains_key(HOST) {
        req.headers_mut().insert(HOST, host_header(key)?);
    }
    // A reused connection that turns out closed is dropped and the request
    // tried again; the last attempt always opens a fresh connection, whose
    // answer ends the loop either way.
    for attempt in 1..=ATTEMPTS {
        let pooled = if attempt < ATTEMPTS {
            checkout(key)
        } else {
            None
        };
        let (sender, reused) = match pooled {
            Some(sender) => (sender, true),
            // Boxed: the connect future (TLS, HTTP/2 handshake) is large and
            // rarely needed; inline, every request would carry its space.
            None => (Box::pin(connect(key)).await?, false),
        };
        let outcome = match sender {
            Sender::H1(mut sender) => {
                // Back to origin form when an HTTP/2 attempt made it absolute.
                if req.uri().scheme().is_some() {
                    *req.uri_mut() = origin_form(req.uri());
                }
                let sent = sender.try_send_request(req).await;
                if sent.is_ok() {
                    give_back(key, Sender::H1(sender));
                }
                sent
            }
            Sender::H2(mut sender) => {
                *req.uri_mut() = absolute(key, req.uri())?;
                let sent = sender.try_send_request(req).await;
                if sent.is_err() {
                    // Shared, so still listed: not to be picked again.
                    forget_h2(key);
                }
                sent
            }
        };
        match outcome {
            Ok(res) => return Ok(res),
            Err(mut error) => match error.take_message() {
                Some(unsent) if reused => req = unsent,
                _ => return Err(error.into_error().into()),
            },
        }
    }
    Err("backend connection closed before taking the request".into())
}

/// Tries per request: reused connections, then a fresh one.
const ATTEMPTS: usize = 3;

enum Sender {
    H1(http1::SendRequest<Body>),
    H2(http2::SendRequest<Body>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }
}

struct Idle {
    sender: Sender,
    since: Instant,
}

/// Whether two keys name the same backend, byte for byte: `Authority`'s own
/// `==` ignores ASCII case byte by byte, and this runs twice per request. A
/// backend spelled in two cases merely gets two lists.
fn same(a: &Key, b: &Key) -> bool {
    a.1.as_str() == b.1.as_str() && a.0 == b.0
}

thread_local! {
    /// This thread's connections, by backend: a short list searched in
    /// order (a gateway talks to a handful of backends; comparing two
    /// authorities costs less than hashing one). Never borrowed across an
    /// await.
    static POOL: RefCell<Vec<(Key, Vec<Idle>)>> = const { RefCell::new(Vec::new()) };
    /// This thread's connector (TLS configuration loaded once per thread).
    static CONNECTOR: HttpsConnector<HttpConnector> = new_connector();
}

/// A connection that can take a request now: an HTTP/1 one that hyper says
/// is idle (taken out while in use), or the HTTP/2 one (shared).
fn checkout(key: &Key) -> Option<Sender> {
    POOL.with_borrow_mut(|pool| {
        let (_, list) = pool.iter_mut().find(|(k, _)| same(k, key))?;
        let now = Instant::now();
        list.retain(|c| !c.sender.is_closed() && now.duration_since(c.since) < IDLE);
        let found = list.iter().rposition(|c| match &c.sender {
            Sender::H1(s) => s.is_ready(),
            Sender::H2(s) => s.is_ready(),
        })?;
        match &list[found].sender {
            Sender::H2(s) => Some(Sender::H2(s.clone())),
            Sender::H1(_) => Some(list.swap_remove(found).sender),
        }
    })
}

/// Drops the HTTP/2 connections listed for `key` (one failed to take a
/// request; HTTP/2 has one connection per backend anyway).
fn forget_h2(key: &Key) {
    POOL.with_borrow_mut(|pool| {
        if let Some((_, list)) = pool.iter_mut().find(|(k, _)| same(k, key)) {
            list.retain(|c| !matches!(c.sender, Sender::H2(_)));
        }
    });
}

/// Puts a connection (back) in the list; an HTTP/1 one still busy with its
/// response body is skipped by `checkout` until hyper marks it idle.
fn give_back(key: &Key, sender: Sender) {
    let idle = Idle {
        sender,
        since: Instant::now(),
    };
    POOL.with_borrow_mut(|pool| match pool.iter_mut().find(|(k, _)| same(k, key)) {
        Some((_, list)) => list.push(idle),
        None => pool.push((key.clone(), vec![idle])),
    });
}

async fn connect(key: &Key) -> Result<Sender, BoxError> {
    let mut connector = CONNECTOR.with(Clone::clone);
    let uri = absolute(key, &Uri::from_static("/"))?;
    let io = connector.ready().await?.call(uri).await?;
    if io.connected().is_negotiated_h2() {
        let (sender, conn) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .handshake(io)
            .await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        give_back(key, Sender::H2(sender.clone()));
        Ok(Sender::H2(sender))
    } else {
        let (sender, conn) = http1::Builder::new().handshake(io).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Sender::H1(sender))
    }
}

/// `Host` for the backend (the port only when not the scheme's default).
fn host_header((scheme, authority): &Key) -> Result<HeaderValue, BoxError> {
    let host = authority.host();
    let default = match scheme.as_str() {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    };
    let value = match authority.port_u16().filter(|p| Some(*p) != default) {
        Some(port) => HeaderValue::from_str(&format!("{host}:{port}")),
        None => HeaderValue::from_str(host),
    };
    Ok(value?)
}

/// `uri`'s path and query at the backend of `key`: the target HTTP/2 sends.
fn absolute((scheme, authority): &Key, uri: &Uri) -> Result<Uri, BoxError> {
    let mut parts = http::uri::Parts::default();
    parts.scheme = Some(scheme.clone());
    parts.authority = Some(authority.clone());
    parts.path_and_query = Some(
        uri.path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/")),
    );
    Ok(Uri::from_parts(parts)?)
}

fn origin_form(uri: &Uri) -> Uri {
    let path = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Uri::from(path)
}

/// http and https (system roots; with none, https backends fail), HTTP/1.1
/// and HTTP/2 by ALPN.
fn new_connector() -> HttpsConnector<HttpConnector> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(Arc::clone(&provider))
    {
        Ok(builder) => builder,
        // No system roots: https backends fail (504), http ones work.
        Err(_) => {
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| {
                    b.with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth()
                });
            match config {
                Ok(config) => hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config),
                Err(_) => hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(
                    rustls::ClientConfig::builder()
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth(),
                ),
            }
        }
    };
    builder
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_leaves_out_the_default_port() {
        let host = |u: &str| host_header(&key_of(&u.parse().unwrap()).unwrap()).unwrap();
        assert_eq!(host("http://a.example/x"), "a.example");
        assert_eq!(host("http://a.example:80/x"), "a.example");
        assert_eq!(host("http://127.0.0.1:8080/x"), "127.0.0.1:8080");
        assert_eq!(host("https://a.example:443/"), "a.example");
        assert_eq!(host("https://a.example:8443/"), "a.example:8443");
    }

    #[test]
    fn http1_targets_are_origin_form() {
        let target = |u: &str| origin_form(&u.parse().unwrap()).to_string();
        assert_eq!(target("http://a.example/p/q?x=1"), "/p/q?x=1");
        assert_eq!(target("http://a.example"), "/");
    }

    #[test]
    fn http2_targets_are_absolute() {
        let key = key_of(&"https://a.example:8443/ignored".parse().unwrap()).unwrap();
        let uri = absolute(&key, &"/p/q?x=1".parse().unwrap()).unwrap();
        assert_eq!(uri.to_string(), "https://a.example:8443/p/q?x=1");
        assert_eq!(
            absolute(&key, &Uri::from_static("/")).unwrap().to_string(),
            "https://a.example:8443/"
        );
    }

    #[tokio::test]
    async fn a_uri_without_authority_is_an_error_not_a_panic() {
        let req = Request::builder()
            .uri("/relative")
            .body(Body::empty())
            .unwrap();
        assert!(send(req).await.is_err());
    }
}
