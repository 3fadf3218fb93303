//! `http_proxy` integrations through the `cognito-gateway` process to a real
//! backend in its own process (`tests/backend/echo.py`), which reports what it
//! received: method, path, query, headers, body.

mod support;

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::Value;
use support::backend::{closed_port, header, peak_rss_kib, report_headers, Backend};
use support::loopback::{bounded, call, client, Reply};
use support::process::Gateway;
use tower_cognito::testing::TestIssuer;

const FIXTURE: &str = "gateway/tests/fixtures/proxy.json";
const POOL: &str = "us-east-1_Proxy1";

struct Setup {
    backend: Backend,
    gateway: Gateway,
    issuer: TestIssuer,
    _keys: tower_cognito::testing::JwksServer,
}

async fn setup(extra: &[&str]) -> Setup {
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let host = format!("backendHost={}", backend.host());
    let closed = format!("closedPort={}", closed_port());
    let base = format!("http://internal.example.vpc=http://{}", backend.host());
    let jwks = keys.base_url().to_owned();
    let mut args: Vec<String> = [
        "--openapi",
        FIXTURE,
        "--stage",
        "prod",
        "--stage-variable",
        &host,
        "--stage-variable",
        "env=beta",
        "--stage-variable",
        &closed,
        "--integration-base",
        &base,
        "--jwks-endpoint",
        &jwks,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    Setup {
        backend,
        gateway,
        issuer,
        _keys: keys,
    }
}

async fn send(method: Method, url: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Reply {
    call(method, url, token, headers, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_gets_what_api_gateway_would_send() {
    let s = setup(&[]).await;
    let log = s.gateway.startup_text();
    assert!(
        log.contains(&format!(
            "route GET /pets/{{petId}}: identity token (authorizer Pool) -> http_proxy GET http://{}/backend/pets/{{id}}?fixed=1 (timeout 29000 ms)",
            s.backend.host()
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "http_proxy GET http://internal.example.vpc/vpc/path via http://{}",
            s.backend.host()
        )),
        "{log}"
    );

    let token = s
        .issuer
        .id_token()
        .claim("sub", "user-123")
        .claim("custom:role", "admin")
        .sign();
    let reply = send(
        Method::GET,
        &s.gateway.url("/pets/7%20x?color=red%21&a=1&a=2"),
        Some(&token),
        &[
            ("expect", "100-continue"),
            ("via", "1.1 someproxy"),
            ("max-forwards", "5"),
            ("te", "trailers"),
            ("x-custom", "kept"),
            ("content-md5", "abc"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    assert_eq!(report["method"], "GET");
    // The authorized path's parameter, byte for byte, in the URI's place.
    assert_eq!(report["path"], "/backend/pets/7%20x");
    assert_eq!(report["query"], "fixed=1&color=red%21&a=1&a=2&src=gateway");
    let h = report_headers(&report);
    assert_eq!(header(&h, "host"), Some(s.backend.host().as_str()));
    assert_eq!(header(&h, "x-user-sub"), Some("user-123"));
    assert_eq!(
        header(&h, "x-role"),
        Some("admin"),
        "a claim name with a colon"
    );
    assert_eq!(
        header(&h, "x-nickname"),
        None,
        "an absent claim leaves the header out"
    );
    assert_eq!(header(&h, "x-stage"), Some("prod"));
    assert_eq!(header(&h, "x-env"), Some("beta"));
    assert_eq!(header(&h, "x-resource"), Some("/pets/{petId}"));
    assert_eq!(
        header(&h, "x-color"),
        Some("red!"),
        "a query parameter, decoded"
    );
    assert_eq!(header(&h, "x-custom"), Some("kept"));
    assert_eq!(
        header(&h, "authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    for gone in [
        "expect",
        "via",
        "max-forwards",
        "te",
        "content-md5",
        "connection-extra",
    ] {
        assert_eq!(header(&h, gone), None, "{gone} is not sent");
    }
    let request_id = reply.header("x-amzn-RequestId").to_owned();
    assert_eq!(header(&h, "x-request-id"), Some(request_id.as_str()));
    let trace = header(&h, "x-amzn-trace-id").expect("X-Amzn-Trace-Id");
    assert!(trace.starts_with("Root=1-"), "{trace}");
    assert!(
        trace.ends_with(&request_id.replace('-', "")[..24]),
        "{trace} vs {request_id}"
    );
    assert_eq!(header(&h, "x-amzn-apigateway-api-id"), Some("a1b2c3d4e5"));
    assert_eq!(header(&h, "x-forwarded-for"), Some("127.0.0.1"));

    // Back to the client: Server, Date, WWW-Authenticate renamed.
    assert!(
        reply
            .header("x-amzn-Remapped-Server")
            .starts_with("BaseHTTP"),
        "{:?}",
        reply.headers
    );
    assert!(!reply.header("x-amzn-Remapped-Date").is_empty());
    assert_eq!(
        reply.header("x-amzn-Remapped-WWW-Authenticate"),
        r#"Basic realm="backend""#
    );
    assert_eq!(reply.header("www-authenticate"), "");
    assert_eq!(reply.header("x-backend"), "echo");
    assert_eq!(
        reply.headers.get_all("date").iter().count(),
        1,
        "the gateway's own Date"
    );
    assert!(!reply.header("server").starts_with("BaseHTTP"));

    // Greedy path, any method, body passed; VPC_LINK through --integration-base.
    let reply = bounded("PATCH files", async {
        let r = client()
            .patch(s.gateway.url("/files/a/b%2Fc.txt"))
            .body("hello")
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    })
    .await;
    assert_eq!(reply.0, StatusCode::OK, "{}", reply.1);
    let report: Value = serde_json::from_str(&reply.1).unwrap();
    assert_eq!(report["method"], "PATCH");
    assert_eq!(report["path"], "/files/a/b%2Fc.txt");
    assert_eq!(report["body"], "hello");
    let reply = send(Method::GET, &s.gateway.url("/vpc"), None, &[]).await;
    let report = reply.json();
    assert_eq!(report["path"], "/vpc/path");
    assert_eq!(
        header(&report_headers(&report), "host"),
        Some("internal.example.vpc")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_that_are_no_header_value_get_500_and_never_reach_the_backend() {
    let s = setup(&[]).await;
    for bad in ["admin\r\nX-Injected: 1", "a\nb", "nul\0"] {
        let token = s.issuer.id_token().claim("custom:role", bad).sign();
        let reply = send(Method::GET, &s.gateway.url("/pets/1"), Some(&token), &[]).await;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{bad:?}: {}",
            reply.body
        );
        assert_eq!(reply.body, r#"{"message": "Internal server error"}"#);
        assert_eq!(
            reply.header("x-amzn-ErrorType"),
            "InternalServerErrorException"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_past_the_timeout_is_cut_off_not_waited_for() {
    let s = setup(&[]).await;
    let started = std::time::Instant::now();
    let response = client()
        .get(s.gateway.url("/stall"))
        .send()
        .await
        .expect("the head arrives before the timeout");
    assert_eq!(response.status(), StatusCode::OK);
    // The backend sends half its body, then stalls for 3 s: the 300 ms
    // timeout covers the body too, so the stream ends in an error early.
    let body = response.bytes().await;
    assert!(body.is_err(), "the stalled body was waited for: {body:?}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "cut off after {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_closed_ports_are_api_gateways_504s() {
    let s = setup(&[]).await;
    let started = std::time::Instant::now();
    let reply = send(Method::GET, &s.gateway.url("/slow"), None, &[]).await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(reply.body, r#"{"message": "Endpoint request timed out"}"#);
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        "InternalServerErrorException"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "timeoutInMillis 300 honoured"
    );
    let reply = send(Method::GET, &s.gateway.url("/closed"), None, &[]).await;
    assert_eq!(reply.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        reply.body,
        r#"{"message": "Network error communicating with endpoint"}"#
    );
    assert_eq!(
        reply.header("x-amzn-ErrorType"),
        "InternalServerErrorException"
    );
    assert!(!reply.header("x-amzn-RequestId").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_10_mb_limit_answers_413_even_for_chunked_uploads() {
    let s = setup(&[]).await;
    // Declared length over the limit: answered from the headers alone,
    // before any of the body is read (a raw request, so the client does not
    // race the early answer with its upload).
    let addr = s.gateway.url("").trim_start_matches("http://").to_owned();
    let head = tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let request = format!(
            "POST /upload HTTP/1.1\r\nHost: gw\r\nContent-Length: {}\r\n\r\n",
            10 * 1024 * 1024 + 1
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase()
    })
    .await
    .unwrap();
    assert!(head.starts_with("http/1.1 413 payload too large"), "{head}");
    assert!(
        head.contains("x-amzn-errortype: requesttoolargeexception"),
        "{head}"
    );
    // Chunked, no length: cut off while streaming.
    let chunks =
        (0..11).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'b'; 1024 * 1024])));
    let reply = bounded("chunked upload", async {
        let r = client()
            .post(s.gateway.url("/upload"))
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    })
    .await;
    assert_eq!(reply.0, StatusCode::PAYLOAD_TOO_LARGE, "{}", reply.1);
    // Exactly at the limit passes.
    let reply = bounded("10 MB upload", async {
        let r = client()
            .post(s.gateway.url("/upload"))
            .body(vec![b'c'; 10 * 1024 * 1024])
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    })
    .await;
    assert_eq!(reply.0, StatusCode::OK, "{}", reply.1);
    let report: Value = serde_json::from_str(&reply.1).unwrap();
    assert_eq!(report["body_len"], 10 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_megabytes_up_and_down_stream_with_memory_bounded() {
    const SIZE: usize = 100 * 1024 * 1024;
    let s = setup(&["--max-body-bytes", "200000000"]).await;
    let before = peak_rss_kib(s.gateway.pid());
    // Up: streamed from the client in 1 MiB chunks, hashed by the backend.
    let chunk = bytes::Bytes::from(vec![b'u'; 1024 * 1024]);
    let chunks = (0..100).map(move |_| Ok::<_, std::io::Error>(chunk.clone()));
    let reply = tokio::time::timeout(Duration::from_secs(120), async {
        let r = client()
            .post(s.gateway.url("/upload"))
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    })
    .await
    .expect("upload within 120 s");
    assert_eq!(reply.0, StatusCode::OK, "{}", reply.1);
    let report: Value = serde_json::from_str(&reply.1).unwrap();
    assert_eq!(report["body_len"], SIZE);
    // Down: counted as it arrives.
    let received = tokio::time::timeout(Duration::from_secs(120), async {
        use futures_util::StreamExt as _;
        let r = client()
            .get(s.gateway.url(&format!("/download/{SIZE}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let mut stream = r.bytes_stream();
        let mut total = 0usize;
        while let Some(chunk) = stream.next().await {
            total += chunk.unwrap().len();
        }
        total
    })
    .await
    .expect("download within 120 s");
    assert_eq!(received, SIZE);
    let after = peak_rss_kib(s.gateway.pid());
    eprintln!("gateway VmHWM: {before} KiB before, {after} KiB after 100 MB up and down");
    assert!(
        after < before + 40 * 1024,
        "peak RSS grew from {before} KiB to {after} KiB: a body was buffered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_authorizer_off_path_parameters_still_fill_the_uri() {
    let s = setup(&["--auth", "off"]).await;
    let reply = send(Method::GET, &s.gateway.url("/pets/7"), None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report: Value = serde_json::from_str(&reply.body).expect("the backend's report");
    assert_eq!(report["path"], "/backend/pets/7");
    let reply = send(Method::GET, &s.gateway.url("/files/a/b.txt"), None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report: Value = serde_json::from_str(&reply.body).expect("the backend's report");
    assert_eq!(report["path"], "/files/a/b.txt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_connections_are_reused_and_one_the_backend_closed_is_replaced() {
    // One serving thread: every request below uses the same pool.
    let s = setup(&["--workers", "1"]).await;
    let port = |reply: &Reply| {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let report: Value = serde_json::from_str(&reply.body).unwrap();
        report["peer_port"].as_u64().expect("peer_port")
    };
    let first = port(&send(Method::GET, &s.gateway.url("/files/a"), None, &[]).await);
    for _ in 0..5 {
        let again = port(&send(Method::GET, &s.gateway.url("/files/b"), None, &[]).await);
        assert_eq!(again, first, "an idle connection is reused");
    }
    // The backend answers, then hangs up without `Connection: close`.
    let hung_up = port(&send(Method::GET, &s.gateway.url("/files/hangup/1"), None, &[]).await);
    assert_eq!(hung_up, first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fresh = port(&send(Method::GET, &s.gateway.url("/files/c"), None, &[]).await);
    assert_ne!(fresh, first, "a closed connection is not used again");
    let reused = port(&send(Method::GET, &s.gateway.url("/files/d"), None, &[]).await);
    assert_eq!(reused, fresh);
}
