//! Serving threads: `--workers N` threads, each running a single-threaded
//! tokio runtime that accepts on its own listener, all bound to the same
//! address with `SO_REUSEPORT` so the kernel spreads connections across
//! them; each thread also keeps its own backend connection pool
//! (`http_proxy::client`).
//!
//! [choice] Why not one work-stealing runtime: a proxied request hops from
//! the client connection's task to the backend connection's task and back.
//! On a multi-threaded runtime those hops wake another thread more often
//! than not (a futex wake and a context switch each), which on loopback
//! cost more than the gateway's own work; with a connection and its backend
//! connections on one thread they are plain function calls. This is
//! nginx's worker model (BENCHMARKS.md has the numbers). Startup, reloads,
//! key refresh, the admin listener and the dev issuer stay on the main
//! runtime.
//!
//! Outside Linux, `SO_REUSEPORT` does not balance connections, so one
//! serving thread is used whatever `--workers` says.
//!
//! Connections are served by hyper-util's HTTP/1 and HTTP/2 builder
//! directly, as `axum::serve` does it, but calling the gateway through a
//! shared reference: no clone of a boxed service, and no extra future, per
//! request.
//!
//! Every connection is bounded in time and number ([`Limits`]), so slow or
//! idle clients cannot hold the process's file descriptors and buffers:
//!
//! - **header read** (`--header-read-timeout-ms`, 10 s): hyper's own HTTP/1
//!   timer, from the moment the connection waits for a request head until
//!   the head is complete; then the connection is closed without an answer.
//!   hyper starts it as soon as it waits, so it also bounds the wait for the
//!   next request on a keep-alive connection. **[choice]** 10 s: a head is a
//!   few hundred bytes; nginx's `client_header_timeout` is 60 s, a default
//!   from slower networks.
//! - **idle** (`--idle-timeout-ms`, 60 s): a connection with no request in
//!   flight for that long (counted from its last answer, or from its
//!   accept) is shut down gracefully: HTTP/1 closes if between requests,
//!   HTTP/2 sends GOAWAY and lets open streams finish, a connection that has
//!   not sent enough to tell its protocol is closed. HTTP/1's effective idle
//!   time is the shorter of this and the header-read timeout. **[choice]**
//!   under nginx's `keepalive_timeout` of 75 s.
//! - **body read** (`--body-read-timeout-ms`, 30 s): while the gateway waits
//!   for a request body, at most that long between two reads (nginx's
//!   `client_body_timeout` semantics). Then the body reports an error to
//!   whoever reads it, and the request is answered **408**
//!   `{"message":"Request Timeout"}` (HTTP/1 with `Connection: close`, and
//!   the connection is closed as the body was not read to its end).
//!   **[choice]** an answer rather than a silent close: the client (or a
//!   proxy in front) learns why, and the access log and metrics record a
//!   client timeout, not the integration's 500. What API Gateway does with
//!   a stalled body is not documented.
//! - **connections** (`--max-connections`): one permit of a process-wide
//!   semaphore per open connection, held by its task; at the cap, the
//!   serving threads stop accepting until a connection closes (new clients
//!   wait in the kernel's backlog). **[choice]** pausing rather than closing
//!   the oldest idle connection: the timeouts above already close idle ones,
//!   and nothing in flight is cut. Default: (`RLIMIT_NOFILE` − 64) / 2,
//!   since a client connection may hold a backend connection too and the
//!   listeners, admin listener, dev issuer and files need a few.
//! - **HTTP/2**: a PING after 30 s without a frame, the connection closed
//!   when not answered within 20 s; at most 128 concurrent streams per
//!   connection (nginx's `http2_max_concurrent_streams`).
//!
//! What this adds per request: hyper's header timer (HTTP/1), a few atomic
//! updates of the connection's state and one clock read; a request with a
//! body also gets a shared flag, and a timer once its body has to be waited
//! for. No task is added: the connection's own task watches the idle time.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, Version};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::sync::{mpsc, watch, Semaphore};
use tower::util::BoxCloneService;
use tower::ServiceExt;

use crate::pipeline::Gateway;

mod accept;
use self::accept::*;

mod listen;
pub(crate) use self::listen::*;

type AppFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

/// The gateway's service, as every serving thread runs it: the gateway
/// alone, or behind the layers that are on (with [`BodyTimeoutAnswer`]
/// innermost).
#[derive(Clone)]
pub(crate) enum App {
    Gateway(Gateway),
    Layered(BoxCloneService<Request, Response, Infallible>),
}

/// How long connections may wait, and how many there may be.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) header_read: Duration,
    pub(crate) idle: Duration,
    pub(crate) body_read: Duration,
    pub(crate) max_connections: usize,
    /// `None`: no PINGs.
    pub(crate) http2_keep_alive_interval: Option<Duration>,
    pub(crate) http2_keep_alive_timeout: Duration,
    pub(crate) http2_max_concurrent_streams: u32,
}

/// File descriptors kept for everything but client and backend
/// connections: listeners, the admin listener, the dev issuer, files.
const RESERVED_FDS: u64 = 64;

/// What a connection's task needs to know of its requests: how many are in
/// flight and when the last one was answered.
struct ConnState {
    accepted: Instant,
    in_flight: AtomicU32,
    /// Milliseconds after `accepted` when the last answer was ready.
    last_answer_ms: AtomicU64,
}

impl ConnState {
    fn new() -> Self {
        Self {
            accepted: Instant::now(),
            in_flight: AtomicU32::new(0),
            last_answer_ms: AtomicU64::new(0),
        }
    }

    fn answered(&self) {
        let ms = u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_answer_ms.store(ms, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Release);
    }

    /// When the connection counts as idle for `idle`; `None` while a
    /// request is in flight.
    fn idle_at(&self, idle: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_answer_ms.load(Ordering::Relaxed));
        Some(self.accepted + last + idle)
    }
}

/// One client connection's service: the app, the client's address for
/// `$context.identity.sourceIp` and the access log, and what the
/// connection's task watches.
struct Connection {
    app: App,
    peer: SocketAddr,
    state: Arc<ConnState>,
    body_read: Duration,
}

impl hyper::service::Service<http::Request<Incoming>> for Connection {
    type Response = Response;
    type Error = Infallible;
    type Future = Answered;

    fn call(&self, req: http::Request<Incoming>) -> Self::Future {
        self.state.in_flight.fetch_add(1, Ordering::Relaxed);
        let http1 = req.version() < Version::HTTP_2;
        let (parts, incoming) = req.into_parts();
        // A request without a body (most GETs) has nothing to wait for.
        let watch = (!http_body::Body::is_end_stream(&incoming)).then(Arc::<BodyWatch>::default);
        let body = match &watch {
            Some(watch) => Body::new(TimedBody {
                inner: incoming,
                limit: self.body_read,
                timer: None,
                waiting: false,
                watch: Arc::clone(watch),
            }),
            None => Body::new(incoming),
        };
        let mut req = Request::from_parts(parts, body);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let (inner, watch): (AppFuture, _) = match &self.app {
            App::Gateway(gateway) => (gateway.respond(req), watch),
            App::Layered(service) => {
                // Answered inside the layers, so the access log and the
                // metrics see the 408 the client gets.
                if let Some(watch) = watch {
                    req.extensions_mut().insert(WatchedBody(watch));
                }
                (Box::pin(service.clone().oneshot(req)), None)
            }
        };
        Answered {
            inner,
            watch,
            http1,
            conn: Some(Arc::clone(&self.state)),
        }
    }
}

/// Whether a request's body read timed out, shared by the body and the
/// future answering the request.
#[derive(Default)]
struct BodyWatch {
    timed_out: AtomicBool,
}

/// A request extension: the body's watch, for [`BodyTimeoutAnswer`].
#[derive(Clone)]
struct WatchedBody(Arc<BodyWatch>);

/// A request body that fails when no byte arrives for `limit` while it is
/// being read.
struct TimedBody {
    inner: Incoming,
    limit: Duration,
    /// Made the first time the body has to be waited for, then reused.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Whether the timer runs (set on a wait, cleared on each frame).
    waiting: bool,
    watch: Arc<BodyWatch>,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.watch.timed_out.load(Ordering::Relaxed) {
            // Never a clean end after a timeout: whoever reads on fails.
            return Poll::Ready(Some(Err(body_timeout())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    let deadline = tokio::time::Instant::now() + this.limit;
                    match &mut this.timer {
                        Some(timer) => timer.as_mut().reset(deadline),
                        None => this.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
                    }
                }
                let timer = this.timer.as_mut().expect("set above");
                if timer.as_mut().poll(cx).is_ready() {
                    this.watch.timed_out.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(body_timeout())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn body_timeout() -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "request body read timed out",
    ))
}

/// A request's answer: the app's, or 408 when its body read timed out;
/// tells the connection when the request is no longer in flight.
pub(crate) struct Answered {
    inner: AppFuture,
    watch: Option<Arc<BodyWatch>>,
    http1: bool,
    conn: Option<Arc<ConnState>>,
}

impl Future for Answered {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Poll::Ready(Ok(res)) = self.inner.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        let timed_out = self
            .watch
            .as_ref()
            .is_some_and(|w| w.timed_out.load(Ordering::Relaxed));
        if let Some(conn) = self.conn.take() {
            conn.answered();
        }
        if timed_out {
            return Poll::Ready(Ok(request_timeout(self.http1, res)));
        }
        Poll::Ready(Ok(res))
    }
}

impl Drop for Answered {
    fn drop(&mut self) {
        // Dropped unanswered (the client went away).
        if let Some(conn) = self.conn.take() {
            conn.answered();
        }
    }
}

/// 408 in place of `res` (whatever the integration made of the failed
/// body), keeping the request identifiers it carries.
fn request_timeout(http1: bool, res: Response) -> Response {
    let mut timeout = Response::new(Body::from(r#"{"message":"Request Timeout"}"#));
    *timeout.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let headers = timeout.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for name in ["x-amzn-requestid", "x-amz-apigw-id"] {
        if let Some(value) = res.headers().get(name) {
            headers.insert(name, value.clone());
        }
    }
    if http1 {
        // The rest of the body is never read: the connection cannot carry
        // another request.
        headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    timeout
}

/// The innermost layer of [`App::Layered`]: answers 408 for a request whose
/// body read timed out, inside the access log and metrics.
#[derive(Clone)]
pub(crate) struct BodyTimeoutAnswer<S>(pub(crate) S);

impl<S> tower::Service<Request> for BodyTimeoutAnswer<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible, Future = AppFuture>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answered;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let http1 = req.version() < Version::HTTP_2;
        let watch = req.extensions_mut().remove::<WatchedBody>().map(|w| w.0);
        Answered {
            inner: self.0.call(req),
            watch,
            http1,
            conn: None,
        }
    }
}

/// Listening sockets on one address, one per serving thread.
pub(crate) struct Listeners {
    /// The bound address (the real port when port 0 was asked for).
    pub(crate) addr: SocketAddr,
    sockets: Vec<std::net::TcpListener>,
}

impl Listeners {
    /// How many serving threads there will be.
    pub(crate) fn len(&self) -> usize {
        self.sockets.len()
    }
}

/// Serves `app` on every listener, one thread each, until `shutdown`
/// completes; then lets requests in flight finish (graceful shutdown on
/// every thread) and returns. A thread that stops early stops the whole
/// server with an error.
pub(crate) async fn serve(
    listeners: Listeners,
    app: App,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let count = listeners.len();
    // One cap for the process, whichever thread accepts.
    let permits = Arc::new(Semaphore::new(
        limits.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    for (index, socket) in listeners.sockets.into_iter().enumerate() {
        let app = app.clone();
        let stop = stop_rx.clone();
        let permits = Arc::clone(&permits);
        let done = Done(Some(done_tx.clone()));
        std::thread::Builder::new()
            .name(format!("gateway-worker-{index}"))
            .spawn(move || {
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("serving thread {index}: {e}"))
                    .and_then(|runtime| {
                        runtime.block_on(async move {
                            let listener = tokio::net::TcpListener::from_std(socket)
                                .map_err(|e| format!("serving thread {index}: {e}"))?;
                            accept(listener, app, limits, permits, stop).await;
                            Ok(())
                        })
                    });
                done.send(result);
            })
            .map_err(|e| format!("cannot start serving thread {index}: {e}"))?;
    }
    drop(done_tx);
    let mut finished = 0;
    let early = tokio::select! {
        () = shutdown => None,
        result = done_rx.recv() => Some(result),
    };
    if let Some(result) = early {
        finished += 1;
        let _ = stop_tx.send(true);
        // Let the others finish what they serve before reporting.
        while finished < count && done_rx.recv().await.is_some() {
            finished += 1;
        }
        return Err(match result {
            Some(Err(e)) => e,
            _ => "a serving thread stopped".to_owned(),
        });
    }
    let _ = stop_tx.send(true);
    let mut outcome = Ok(());
    while finished < count {
        match done_rx.recv().await {
            Some(result) => {
                finished += 1;
                if outcome.is_ok() {
                    outcome = result;
                }
            }
            None => return Err("a serving thread stopped".to_owned()),
        }
    }
    outcome
}

/// Reports a serving thread's end, also when it panics (then as an error).
struct Done(Option<mpsc::UnboundedSender<Result<(), String>>>);

impl Done {
    fn send(mut self, result: Result<(), String>) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(result);
        }
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(Err("a serving thread panicked".to_owned()));
        }
    }
}

#[cfg(test)]
mod tests;
