//! Loopback HTTP for integration tests: a real server on `127.0.0.1:0`, a
//! reqwest client that never goes through a proxy, and time bounds.
//!
//! Anything that drives a server over HTTP (an axum app built in the test, or
//! an example binary started as a child process) uses [`client`], [`get`] and
//! [`Reply`]; [`TestServer`] serves an axum `Router` in-process.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// Upper bound for one step that talks to the network (a request, a key load,
/// a fixture set-up): generous for a loaded 2-core machine, yet a hung server
/// fails the test instead of hanging the suite.
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Awaits `fut`, failing the test if it takes longer than [`STEP_TIMEOUT`].
pub(crate) async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(STEP_TIMEOUT, fut).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {STEP_TIMEOUT:?}: {what}"),
    }
}

/// A client for loopback servers: short timeouts, no proxy (an `HTTP_PROXY`
/// in the environment must not apply to 127.0.0.1).
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("build reqwest client")
}

/// An axum app served on a free loopback port until dropped.
pub(crate) struct TestServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Binds `127.0.0.1:0` and serves `app` in a background task.
    pub(crate) async fn start(app: axum::Router) -> Self {
        let listener = bounded(
            "bind 127.0.0.1:0",
            tokio::net::TcpListener::bind("127.0.0.1:0"),
        )
        .await
        .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("axum::serve");
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A response read in full.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    /// A header's value as text (`""` if absent or not text).
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body as JSON; panics (showing the body) if it is not.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// GET `url`, with `Authorization: Bearer <token>` when a token is given.
/// Bounded in time; the token itself never appears in a failure message.
pub(crate) async fn get(client: &reqwest::Client, url: &str, token: Option<&str>) -> Reply {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    send(request, &format!("GET {url}")).await
}

/// One request to `url` with these headers and body, through [`client`].
pub(crate) async fn request(
    method: http::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    call(method, url, None, headers, Some(body)).await
}

/// One request to `url` through [`client`]: these headers,
/// `Authorization: Bearer <token>` when a token is given, `body` when one
/// is given (none: no body and no `Content-Length`).
pub(crate) async fn call(
    method: http::Method,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut request = client().request(method.clone(), url);
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (n, v) in headers {
        request = request.header(*n, *v);
    }
    send(request, &format!("{method} {url}")).await
}

/// Sends `request` and reads its reply in full, bounded in time; `what`
/// names it in a failure message.
pub(crate) async fn send(request: reqwest::RequestBuilder, what: &str) -> Reply {
    bounded(what, async {
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{what}: reading the body: {e}"));
        Reply {
            status,
            headers,
            body,
        }
    })
    .await
}

/// Writes `request` as it is on a new connection to `addr` and reads until
/// the server closes it (send `Connection: close`): every byte that came
/// back, so framing shows as it went out. Bounded in time.
pub(crate) async fn raw_exchange(addr: SocketAddr, request: String) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    bounded("raw exchange", async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.expect("read");
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
}
