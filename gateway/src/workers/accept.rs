//! Each serving thread's accept loop: a permit of the process-wide cap per
//! connection, each connection driven to its end (idle connections closed,
//! graceful shutdown on stop).

use super::*;

/// hyper's HTTP/1 and HTTP/2 settings for `limits`.
pub(super) fn builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    builder
        .http2()
        .timer(TokioTimer::new())
        // The CONNECT protocol, for WebSockets over HTTP/2 (as axum::serve).
        .enable_connect_protocol()
        .keep_alive_interval(limits.http2_keep_alive_interval)
        .keep_alive_timeout(limits.http2_keep_alive_timeout)
        .max_concurrent_streams(limits.http2_max_concurrent_streams);
    builder
}

/// Serves the connections `listener` accepts, one permit of `permits` each,
/// until `stop` turns true; then lets those open finish what they serve
/// (idle ones are closed).
pub(super) async fn accept(
    listener: tokio::net::TcpListener,
    app: App,
    limits: Limits,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let builder = builder(&limits);
    // Each connection's task holds a sender: when all are gone, every
    // connection has ended.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    loop {
        // At the cap, wait here: no accept, so no descriptor, until a
        // connection closes.
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = stop.wait_for(|stop| *stop) => break,
        };
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
        let state = Arc::new(ConnState::new());
        let service = Connection {
            app: app.clone(),
            peer,
            state: Arc::clone(&state),
            body_read: limits.body_read,
        };
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let stop = stop.clone();
        let open = open_tx.clone();
        let idle = limits.idle;
        tokio::spawn(async move {
            drive(conn, &state, idle, stop).await;
            drop(permit);
            drop(open);
        });
    }
    drop(listener);
    drop(open_tx);
    // `None` once every connection's task has ended.
    let _ = open_rx.recv().await;
}

/// Runs one connection to its end, shutting it down gracefully when the
/// server stops or when it has had no request in flight for `idle`.
pub(super) async fn drive(
    conn: auto::UpgradeableConnection<
        'static,
        TokioIo<tokio::net::TcpStream>,
        Connection,
        TokioExecutor,
    >,
    state: &ConnState,
    idle: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut conn = std::pin::pin!(conn);
    let timer = tokio::time::sleep(idle);
    let mut timer = std::pin::pin!(timer);
    let mut closing = false;
    loop {
        tokio::select! {
            // A client that goes away mid-request is no error of ours.
            _ = conn.as_mut() => return,
            _ = stop.wait_for(|stop| *stop), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            () = timer.as_mut(), if !closing => match state.idle_at(idle) {
                Some(at) if at <= Instant::now() => {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
                Some(at) => timer.as_mut().reset(at.into()),
                // Busy: look again an idle period from now.
                None => timer.as_mut().reset(tokio::time::Instant::now() + idle),
            },
        }
    }
}

/// What `axum::serve` does on an accept error: a connection that failed
/// before it was accepted is skipped; anything else (out of file
/// descriptors...) is reported, and accepting resumes a second later.
pub(super) async fn accept_failed(e: std::io::Error) {
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
