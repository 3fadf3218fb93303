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

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::{mpsc, watch};
use tower::util::BoxCloneService;
use tower::ServiceExt;

use crate::pipeline::Gateway;

type AppFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

/// The gateway's service, as every serving thread runs it: the gateway
/// alone, or behind the layers that are on.
#[derive(Clone)]
pub(crate) enum App {
    Gateway(Gateway),
    Layered(BoxCloneService<Request, Response, Infallible>),
}

impl App {
    fn call(&self, req: Request) -> AppFuture {
        match self {
            App::Gateway(gateway) => gateway.respond(req),
            App::Layered(service) => Box::pin(service.clone().oneshot(req)),
        }
    }
}

/// One client connection's service: the app, and the client's address
/// for `$context.identity.sourceIp` and the access log.
struct Connection {
    app: App,
    peer: SocketAddr,
}

impl hyper::service::Service<http::Request<Incoming>> for Connection {
    type Response = Response;
    type Error = Infallible;
    type Future = AppFuture;

    fn call(&self, req: http::Request<Incoming>) -> Self::Future {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        self.app.call(req)
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

/// The default for `--workers`: one serving thread per CPU.
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Binds `workers` sockets to `addr` (the first picks the port when it is 0;
/// the others join it).
pub(crate) fn bind(addr: SocketAddr, workers: usize) -> std::io::Result<Listeners> {
    let workers = if cfg!(target_os = "linux") {
        workers.max(1)
    } else {
        1
    };
    let first = socket(addr)?;
    let addr = first.local_addr()?;
    let mut sockets = vec![first];
    for _ in 1..workers {
        sockets.push(socket(addr)?);
    }
    Ok(Listeners { addr, sockets })
}

fn socket(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    // What `TcpListener::bind` does on Unix: a restarted gateway can bind
    // while old connections sit in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    #[cfg(target_os = "linux")]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Serves `app` on every listener, one thread each, until `shutdown`
/// completes; then lets requests in flight finish (graceful shutdown on
/// every thread) and returns. A thread that stops early stops the whole
/// server with an error.
pub(crate) async fn serve(
    listeners: Listeners,
    app: App,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let count = listeners.len();
    for (index, socket) in listeners.sockets.into_iter().enumerate() {
        let app = app.clone();
        let stop = stop_rx.clone();
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
                            accept(listener, app, stop).await;
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

/// Serves the connections `listener` accepts until `stop` turns true, then
/// lets those open finish what they serve (idle ones are closed).
async fn accept(listener: tokio::net::TcpListener, app: App, mut stop: watch::Receiver<bool>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The CONNECT protocol, for WebSockets over HTTP/2 (as axum::serve).
    builder.http2().enable_connect_protocol();
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let service = Connection {
            app: app.clone(),
            peer,
        };
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            // A client that goes away mid-request is no error of ours.
            let _ = conn.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// What `axum::serve` does on an accept error: a connection that failed
/// before it was accepted is skipped; anything else (out of file
/// descriptors...) is reported, and accepting resumes a second later.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept error: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
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
mod tests {
    use super::*;

    #[test]
    fn the_sockets_share_one_port_even_when_port_0_was_asked_for() {
        let listeners = bind("127.0.0.1:0".parse().unwrap(), 3).unwrap();
        assert_ne!(listeners.addr.port(), 0);
        let expected = if cfg!(target_os = "linux") { 3 } else { 1 };
        assert_eq!(listeners.len(), expected);
        for socket in &listeners.sockets {
            assert_eq!(socket.local_addr().unwrap(), listeners.addr);
        }
    }

    #[test]
    fn zero_workers_means_one() {
        assert_eq!(bind("127.0.0.1:0".parse().unwrap(), 0).unwrap().len(), 1);
    }

    #[test]
    fn a_taken_address_is_an_error_not_a_shared_port() {
        // A plain listener (no SO_REUSEPORT) on the port: joining it fails.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(bind(taken.local_addr().unwrap(), 2).is_err());
    }
}
