//! Connection limits of the real binary: slow request heads, idle
//! connections and stalled bodies are closed by their timeouts while other
//! clients are served, and the connection cap keeps the gateway's file
//! descriptors bounded. Timeouts are set short by flags so the tests are
//! quick.

mod support;

use std::time::{Duration, Instant};

use support::process::Gateway;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Slow heads, and idle connections, held at once.
const EACH: usize = 1000;

/// Raises this process's soft open-file limit to its hard limit (the
/// gateway, a child, inherits it), and tells how many descriptors there are.
fn raise_fd_limit() -> u64 {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            limit.current = limit.maximum;
            let _ = setrlimit(Resource::Nofile, limit);
        }
        getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
    }
    #[cfg(not(unix))]
    {
        u64::MAX
    }
}

async fn connect(gateway: &Gateway) -> TcpStream {
    let addr = gateway
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    TcpStream::connect(addr)
        .await
        .expect("connect to the gateway")
}

/// Whether the gateway has closed `stream` (EOF or reset), without waiting.
fn is_closed(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match stream.try_read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

/// Reads until the gateway closes `stream` (EOF or reset), at most until
/// `deadline`; returns everything read, or `None` if it stayed open.
async fn read_to_close(stream: &mut TcpStream, deadline: Instant) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends one keep-alive request and reads its whole answer (a
/// `Content-Length` body); returns the status line.
async fn one_request(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.expect("read the answer");
        assert!(n > 0, "closed before answering: {seen:?}");
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .expect("a content-length");
            if seen.len() >= end + 4 + length {
                return text.lines().next().unwrap_or_default().to_owned();
            }
        }
    }
}

/// 1,000 connections that sent part of a request head and stopped, and
/// 1,000 idle ones (half never sent a byte, half had one keep-alive request
/// answered) are all held while a new client gets its 200 within a second;
/// then each is closed by its timeout, none before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_heads_and_idle_connections_are_closed_by_their_timeouts_while_others_are_served() {
    let fds = raise_fd_limit();
    // Each connection is a descriptor here and one in the gateway.
    assert!(
        fds > (2 * EACH + 200) as u64,
        "the open-file limit ({fds}) is too low for {EACH} + {EACH} connections"
    );
    // Long enough to open every connection first on a loaded machine.
    let timeout = Duration::from_millis(6000);
    let gateway = tokio::task::spawn_blocking(move || {
        Gateway::start_with(
            &[("GATEWAY_DEV_ISSUER", "1")],
            &[
                "--workers",
                "2",
                "--max-connections",
                "5000",
                "--header-read-timeout-ms",
                "6000",
                "--idle-timeout-ms",
                "6000",
            ],
        )
    })
    .await
    .unwrap();
    assert!(
        gateway
            .startup_text()
            .contains("connections: at most 5000 open"),
        "{}",
        gateway.startup_text()
    );

    let started = Instant::now();
    let mut slow = Vec::with_capacity(EACH);
    for i in 0..EACH {
        let mut stream = connect(&gateway).await;
        // A head that never ends.
        let part = format!("GET /health HTTP/1.1\r\nHost: gateway\r\nX-Slow-{i}: a");
        stream.write_all(part.as_bytes()).await.unwrap();
        slow.push(stream);
    }
    let mut idle = Vec::with_capacity(EACH);
    for i in 0..EACH {
        let mut stream = connect(&gateway).await;
        if i % 2 == 0 {
            let status = one_request(&mut stream).await;
            assert_eq!(status, "HTTP/1.1 200 OK");
        }
        idle.push(stream);
    }
    let opened = started.elapsed();
    assert!(
        opened < timeout - Duration::from_millis(1500),
        "opening the connections took {opened:?}: too slow to check them before the timeout"
    );

    // A new client is served at once.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let asked = Instant::now();
    let response = http
        .get(gateway.url("/health"))
        .send()
        .await
        .expect("a new client is answered within a second");
    assert_eq!(response.status(), 200);
    assert!(asked.elapsed() < Duration::from_secs(1));

    // All still open: none closed before its time.
    assert!(started.elapsed() < timeout, "checked too late");
    let closed_early = slow.iter().chain(&idle).filter(|s| is_closed(s)).count();
    assert_eq!(closed_early, 0, "connections closed before their timeout");

    // Then every one is closed (without an answer) once its timeout passes.
    let deadline = Instant::now() + timeout + Duration::from_secs(10);
    let mut kept = 0;
    for (i, stream) in slow.iter_mut().chain(idle.iter_mut()).enumerate() {
        match read_to_close(stream, deadline).await {
            Some(answer) => assert!(answer.is_empty(), "connection {i} got {answer:?}"),
            None => kept += 1,
        }
    }
    assert_eq!(kept, 0, "connections still open well after their timeout");
    assert!(
        started.elapsed() >= timeout,
        "closed after {:?}, before the {timeout:?} timeout",
        started.elapsed()
    );

    // And the gateway still serves.
    let response = http.get(gateway.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

/// The client connections the gateway holds open on `port`: its
/// descriptors' sockets that `/proc/net/tcp` lists as connected to that
/// local port (Linux). Counted by inode: the kernel's table is read in
/// pages while other tests open and close thousands of sockets, and a line
/// can then come twice (or be missed).
#[cfg(target_os = "linux")]
fn client_sockets(pid: u32, port: u16) -> usize {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the gateway's descriptors")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let target = std::fs::read_link(e.path()).ok()?;
            let target = target.to_string_lossy();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap();
    let open: std::collections::HashSet<&str> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields[1]
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            // 0A is LISTEN: the listeners are not client connections.
            (local_port == Some(port) && fields[3] != "0A" && inodes.contains(fields[9]))
                .then_some(fields[9])
        })
        .collect();
    open.len()
}

fn port_of(gateway: &Gateway) -> u16 {
    gateway
        .url("")
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// With `--max-connections 50`, 80 idle clients get no more than 50
/// descriptors in the gateway (accepting pauses at the cap); a new client
/// waits in the backlog until idle connections time out, then is answered.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_and_a_client_is_answered_once_idle_ones_time_out() {
    raise_fd_limit();
    let gateway = tokio::task::spawn_blocking(|| {
        Gateway::start_with(
            &[("GATEWAY_DEV_ISSUER", "1")],
            &[
                "--workers",
                "2",
                "--max-connections",
                "50",
                "--idle-timeout-ms",
                "4000",
                "--header-read-timeout-ms",
                "4000",
            ],
        )
    })
    .await
    .unwrap();
    let (pid, port) = (gateway.pid(), port_of(&gateway));

    let started = Instant::now();
    let mut held = Vec::new();
    for _ in 0..80 {
        // Connected once in the backlog, whether accepted or not.
        held.push(connect(&gateway).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The largest of a few readings: a reading of the kernel's table taken
    // while other tests churn sockets can miss a line, never add one.
    let mut open = 0;
    for _ in 0..5 {
        open = open.max(client_sockets(pid, port));
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    // At the cap: the others wait in the backlog. Each serving thread takes
    // a permit before it accepts, so with two threads one permit may wait on
    // a listener whose queue is empty (the kernel spreads connections between
    // the two): 49 or 50 open, never more.
    assert!(
        (49..=50).contains(&open),
        "client sockets open in the gateway with a cap of 50: {open}"
    );
    // Before the 4 s timeouts could have closed any of them.
    assert!(
        started.elapsed() < Duration::from_millis(3800),
        "counted too late"
    );

    // A new client is answered once the idle ones are closed.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let response = http
        .get(gateway.url("/health"))
        .send()
        .await
        .expect("answered once idle connections time out");
    assert_eq!(response.status(), 200);
    assert!(client_sockets(pid, port) <= 50);
    drop(held);
}

/// Which tokens the dev issuer printed: `ACCESS_TOKEN` may `POST /pets`.
fn access_token(gateway: &Gateway) -> String {
    gateway
        .dev_tokens()
        .get("ACCESS_TOKEN")
        .cloned()
        .expect("the dev issuer's access token")
}

/// Sends `Content-Length: 1000` and 10 bytes of a `POST /pets` body, then
/// stalls; returns what the gateway sent before closing, and when.
async fn stalled_body(gateway: &Gateway) -> (String, Duration) {
    let token = access_token(gateway);
    let mut stream = connect(gateway).await;
    let head = format!(
        "POST /pets HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\":\"r"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let sent = Instant::now();
    let answer = read_to_close(&mut stream, Instant::now() + Duration::from_secs(15))
        .await
        .expect("the stalled request is cut off");
    (
        String::from_utf8_lossy(&answer).into_owned(),
        sent.elapsed(),
    )
}

/// A body that stops after 10 of its 1,000 bytes is answered 408 and its
/// connection closed once the body-read timeout passes, with the gateway
/// alone and behind its layers (where the access log records the 408).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_answered_408_after_the_body_read_timeout() {
    let flags = ["--body-read-timeout-ms", "1000", "--workers", "1"];
    let alone = tokio::task::spawn_blocking(move || {
        Gateway::start_with(&[("GATEWAY_DEV_ISSUER", "1")], &flags)
    })
    .await
    .unwrap();
    let logged = tokio::task::spawn_blocking(move || {
        Gateway::start_with(
            &[
                ("GATEWAY_DEV_ISSUER", "1"),
                (
                    "GATEWAY_ACCESS_LOG_FORMAT",
                    "$context.httpMethod $context.resourcePath $context.status",
                ),
            ],
            &flags,
        )
    })
    .await
    .unwrap();
    for gateway in [&alone, &logged] {
        let (answer, after) = stalled_body(gateway).await;
        assert!(
            answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{answer}"
        );
        let lower = answer.to_ascii_lowercase();
        assert!(lower.contains("\r\nconnection: close\r\n"), "{answer}");
        assert!(lower.contains("\r\nx-amzn-requestid: "), "{answer}");
        assert!(
            answer.ends_with("\r\n\r\n{\"message\":\"Request Timeout\"}"),
            "{answer}"
        );
        assert!(
            after >= Duration::from_millis(1000),
            "cut off after {after:?}"
        );
    }
    logged.wait_for_output("POST /pets 408", Duration::from_secs(10));

    // A body sent whole is unaffected.
    let token = access_token(&alone);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let response = http
        .post(alone.url("/pets"))
        .bearer_auth(token)
        .body(r#"{"name":"rex"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// HTTP/2: the stream limit is announced in the server's settings, and a
/// connection whose request was answered gets GOAWAY and is closed once
/// idle for `--idle-timeout-ms` (the client answering the server's PINGs
/// meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_announces_its_stream_limit_and_idle_connections_are_closed() {
    let gateway = tokio::task::spawn_blocking(|| {
        Gateway::start_with(
            &[("GATEWAY_DEV_ISSUER", "1")],
            &[
                "--http2-max-concurrent-streams",
                "7",
                "--idle-timeout-ms",
                "1500",
                "--http2-keep-alive-interval-ms",
                "200",
            ],
        )
    })
    .await
    .unwrap();
    let stream = connect(&gateway).await;
    let (mut send, conn) = h2::client::handshake(stream).await.expect("HTTP/2");
    let mut conn = std::pin::pin!(conn);
    let request = http::Request::get(gateway.url("/health")).body(()).unwrap();
    let (answer, _) = send.send_request(request, true).unwrap();
    let response = tokio::select! {
        response = answer => response.expect("an answer"),
        _ = conn.as_mut() => panic!("the connection ended before answering"),
    };
    let answered = Instant::now();
    assert_eq!(response.status(), 200);
    drop(response);
    assert_eq!(conn.max_concurrent_send_streams(), 7);

    // `send` is kept: only the gateway can end the connection.
    let ended = tokio::time::timeout(Duration::from_secs(10), conn.as_mut()).await;
    assert!(ended.is_ok(), "an idle HTTP/2 connection stayed open");
    let after = answered.elapsed();
    assert!(
        after >= Duration::from_millis(1400),
        "closed {after:?} after its last answer, before the idle timeout"
    );
    drop(send);
}

/// HTTP/2: a client that opens a connection and then answers nothing, not
/// even the server's PINGs, is closed once a PING goes unanswered for
/// `--http2-keep-alive-timeout-ms` (the idle timeout being far off).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_a_client_that_does_not_answer_pings_is_closed() {
    let gateway = tokio::task::spawn_blocking(|| {
        Gateway::start_with(
            &[("GATEWAY_DEV_ISSUER", "1")],
            &[
                "--http2-keep-alive-interval-ms",
                "500",
                "--http2-keep-alive-timeout-ms",
                "500",
                "--idle-timeout-ms",
                "60000",
            ],
        )
    })
    .await
    .unwrap();
    let mut stream = connect(&gateway).await;
    // The client preface and an empty SETTINGS frame; then silence.
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let sent = Instant::now();
    let seen = read_to_close(&mut stream, Instant::now() + Duration::from_secs(15)).await;
    assert!(seen.is_some(), "a silent HTTP/2 client stayed connected");
    let after = sent.elapsed();
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(10),
        "closed after {after:?}"
    );
}

/// A timeout of 0 (waiting forever, or not at all) or past a day (a
/// deadline past the clock's end), and a cap of 0 connections, are usage
/// errors naming the accepted range.
#[test]
fn out_of_range_limits_are_usage_errors() {
    for (flag, value, range) in [
        ("--header-read-timeout-ms", "0", "1..=86400000"),
        ("--idle-timeout-ms", "86400001", "1..=86400000"),
        ("--body-read-timeout-ms", "0", "1..=86400000"),
        ("--http2-keep-alive-timeout-ms", "0", "1..=86400000"),
        (
            "--http2-keep-alive-interval-ms",
            "18446744073709551615",
            "0..=86400000",
        ),
        ("--http2-max-concurrent-streams", "0", "1.."),
        ("--max-connections", "0", "1.."),
    ] {
        let mut command = support::process::command();
        command.args(["--listen", "127.0.0.1:0", flag, value]);
        let out = support::process::run(command, None, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(&format!("invalid value '{value}' for '{flag} "))
                && stderr.contains(range),
            "{flag} {value}: {stderr}"
        );
    }
}
