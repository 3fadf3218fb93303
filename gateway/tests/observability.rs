//! The running `cognito-gateway`'s admin listener (`/metrics` scraped over
//! HTTP after known traffic, `/ready`, `/live`), its access log and its
//! tracing, against a real JWKS server and a real backend on loopback.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde_json::Value;
use support::backend::{closed_port, Backend};
use support::loopback::{call, client, get, Reply};
use support::process::Gateway;
use tower_cognito::testing::{JwksServer, TestIssuer};

const PETSTORE_POOL: &str = "us-east-1_PetStore1";
const ECHO_EXPORT: &str = "gateway/tests/fixtures/petstore-echo.json";
const AUTHORIZER: &str = "PetStoreUserPool";

/// AWS's CLF example ("Set up CloudWatch logging for REST APIs in API
/// Gateway"), as given.
const AWS_CLF: &str = "$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] \"$context.httpMethod $context.resourcePath $context.protocol\" $context.status $context.responseLength $context.requestId $context.extendedRequestId";

/// AWS's JSON example from the same page, as given.
const AWS_JSON: &str = r#"{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user","requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath", "status":"$context.status","protocol":"$context.protocol", "responseLength":"$context.responseLength" }"#;

async fn start(vars: Vec<(String, String)>, args: Vec<String>) -> Gateway {
    tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&vars, &args)
    })
    .await
    .unwrap()
}

fn echo_vars(server: &JwksServer) -> Vec<(String, String)> {
    vec![
        ("COGNITO_JWKS_ENDPOINT".into(), server.base_url().into()),
        ("OPENAPI_FILE".into(), ECHO_EXPORT.into()),
    ]
}

/// One sample of the Prometheus text: the value of `name` with exactly
/// these labels; `None` when there is no such series.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let pair = regex::Regex::new(r#"(\w+)="((?:[^"\\]|\\.)*)""#).unwrap();
    let mut want: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    want.sort();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (n, labels) = series.split_once('{').unwrap_or((series, ""));
            let mut got: Vec<(String, String)> = pair
                .captures_iter(labels)
                .map(|c| (c[1].to_owned(), c[2].to_owned()))
                .collect();
            got.sort();
            (n == name && got == want).then(|| value.parse().ok())?
        })
}

async fn scrape(gateway: &Gateway) -> String {
    let reply = get(&client(), &gateway.admin_url("/metrics"), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.header("content-type").starts_with("text/plain"),
        "{:?}",
        reply.headers
    );
    reply.body
}

async fn send(url: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Reply {
    call(Method::GET, url, token, headers, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_known_traffic_exactly() {
    let issuer = TestIssuer::new(PETSTORE_POOL);
    let server = issuer.serve_jwks().await.unwrap();
    let gateway = start(
        echo_vars(&server),
        vec!["--admin-listen".into(), "127.0.0.1:0".into()],
    )
    .await;
    let admin = gateway.admin_url("");
    assert!(
        admin != gateway.url(""),
        "the admin listener is not the public one"
    );
    // The public listener serves no admin route.
    let public = send(&gateway.url("/metrics"), None, &[]).await;
    assert_eq!(public.status, StatusCode::FORBIDDEN, "{}", public.body);

    let valid = issuer.id_token().claim("sub", "sub-never-a-label").sign();
    let expired = issuer.id_token().expires_in(-30).sign();
    let forged = TestIssuer::new(PETSTORE_POOL)
        .kid(issuer.key_id())
        .id_token()
        .sign();
    let access = issuer.access_token().sign();
    let pet = gateway.url("/pets/7");
    for _ in 0..3 {
        assert_eq!(send(&pet, Some(&valid), &[]).await.status, 200);
    }
    for _ in 0..2 {
        assert_eq!(send(&pet, Some(&expired), &[]).await.status, 401);
    }
    assert_eq!(send(&pet, Some(&forged), &[]).await.status, 401);
    assert_eq!(send(&pet, None, &[]).await.status, 401);
    assert_eq!(send(&pet, Some(&access), &[]).await.status, 401);
    // A public route and an unknown one: no authorizer looks at them.
    assert_eq!(send(&gateway.url("/health"), None, &[]).await.status, 200);
    assert_eq!(send(&gateway.url("/nowhere"), None, &[]).await.status, 403);

    let text = scrape(&gateway).await;
    let requests = |outcome, reason| {
        sample(
            &text,
            "tower_cognito_requests_total",
            &[
                ("authorizer", AUTHORIZER),
                ("outcome", outcome),
                ("reason", reason),
            ],
        )
    };
    assert_eq!(requests("allowed", "none"), Some(3.0), "{text}");
    assert_eq!(requests("denied", "expired"), Some(2.0), "{text}");
    assert_eq!(requests("denied", "invalid_signature"), Some(1.0));
    assert_eq!(requests("denied", "missing_token"), Some(1.0));
    assert_eq!(requests("denied", "wrong_token_use"), Some(1.0));
    assert_eq!(requests("denied", "unknown_issuer"), Some(0.0));
    let counted: f64 = text
        .lines()
        .filter(|l| l.starts_with("tower_cognito_requests_total{"))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum();
    assert_eq!(counted, 8.0, "one count per authorized request:\n{text}");

    // The token cache: the valid token verified once, then found twice; the
    // access token verified (and kept) before its token_use was refused.
    assert_eq!(
        sample(&text, "tower_cognito_token_cache_hits_total", &[]),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, "tower_cognito_token_cache_misses_total", &[]),
        Some(5.0)
    );
    assert_eq!(
        sample(&text, "tower_cognito_token_cache_entries", &[]),
        Some(2.0)
    );
    let pool = [("pool", PETSTORE_POOL)];
    assert_eq!(sample(&text, "tower_cognito_keys", &pool), Some(1.0));
    assert_eq!(
        sample(
            &text,
            "tower_cognito_jwks_fetches_total",
            &[("pool", PETSTORE_POOL), ("result", "success")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "tower_cognito_jwks_fetch_duration_seconds_count",
            &pool
        ),
        Some(1.0)
    );

    // OpenTelemetry's request duration, by method, route template and status.
    let duration = |route, status| {
        sample(
            &text,
            "http_server_request_duration_seconds_count",
            &[
                ("http_request_method", "GET"),
                ("http_route", route),
                ("http_response_status_code", status),
            ],
        )
    };
    assert_eq!(duration("/pets/{petId}", "200"), Some(3.0), "{text}");
    assert_eq!(duration("/pets/{petId}", "401"), Some(5.0));
    assert_eq!(duration("/health", "200"), Some(1.0));
    // `/metrics` asked of the public listener, and `/nowhere`.
    assert_eq!(duration("", "403"), Some(2.0));
    assert!(
        !text.contains("/pets/7"),
        "a path, not its template:\n{text}"
    );

    // No label from a token or a claim.
    for token in [&valid, &expired, &forged, &access] {
        for part in token.split('.') {
            assert!(!text.contains(part), "token material in /metrics");
        }
    }
    assert!(!text.contains("sub-never-a-label"));

    // Every series the Grafana dashboard queries is one the gateway exports.
    let dashboard = std::fs::read_to_string(
        support::process::workspace_root().join("docs/grafana-dashboard.json"),
    )
    .unwrap();
    let names = regex::Regex::new(r"\b(?:tower_cognito|http_server)_[a-z_]+").unwrap();
    let mut queried: Vec<&str> = names.find_iter(&dashboard).map(|m| m.as_str()).collect();
    queried.sort();
    queried.dedup();
    assert!(queried.len() >= 8, "{queried:?}");
    for name in queried {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "the dashboard queries {name}, not in /metrics"
        );
    }

    let live = get(&client(), &gateway.admin_url("/live"), None).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json(), serde_json::json!({"live": true}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_waits_for_slow_keys_and_stays_ready_when_refreshes_fail() {
    let issuer = TestIssuer::new(PETSTORE_POOL);
    let server = issuer.serve_jwks().await.unwrap();
    // Slower than startup's first polls, faster than the 5 s fetch timeout.
    server.set_delay(Duration::from_millis(2500));
    let port = closed_port();
    let admin = format!("http://127.0.0.1:{port}");
    let mut vars = echo_vars(&server);
    vars.push(("GATEWAY_KEY_REFRESH_SECS".into(), "1".into()));
    vars.push(("GATEWAY_ADMIN_ADDR".into(), format!("127.0.0.1:{port}")));
    // Started in the background: it says `listening` only once keys are in.
    let starting = tokio::spawn(start(vars, Vec::new()));

    let http = client();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut statuses = Vec::new();
    let mut not_ready_body = None;
    loop {
        assert!(
            Instant::now() < deadline,
            "ready never answered 200: {statuses:?}"
        );
        if let Ok(res) = http.get(format!("{admin}/ready")).send().await {
            let status = res.status();
            let body: Value = res.json().await.expect("JSON body");
            if statuses.last() != Some(&status) {
                statuses.push(status);
            }
            if status == StatusCode::SERVICE_UNAVAILABLE {
                not_ready_body = Some(body);
            } else if status == StatusCode::OK {
                assert_eq!(
                    body,
                    serde_json::json!({"ready": true, "checks": [{"name": "keys", "ready": true, "pools": 1}]})
                );
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        statuses,
        [StatusCode::SERVICE_UNAVAILABLE, StatusCode::OK],
        "503 while the keys load, then 200"
    );
    let body = not_ready_body.unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["checks"][0]["name"], "keys");
    assert_eq!(body["checks"][0]["ready"], false);
    assert_eq!(
        body["checks"][0]["missing_pools"][0]["pool"], PETSTORE_POOL,
        "{body}"
    );
    let gateway = starting.await.unwrap();

    // The key endpoint now fails (404, at once): refreshes fail, the last
    // keys stay, and so does readiness.
    server.set_delay(Duration::ZERO);
    server.publish(&[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape(&gateway).await;
        let failures = sample(
            &text,
            "tower_cognito_jwks_fetches_total",
            &[("pool", PETSTORE_POOL), ("result", "failure")],
        );
        if failures.is_some_and(|n| n >= 1.0) {
            assert_eq!(
                sample(&text, "tower_cognito_keys", &[("pool", PETSTORE_POOL)]),
                Some(1.0)
            );
            break;
        }
        assert!(Instant::now() < deadline, "no failed refresh seen:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = get(&http, &format!("{admin}/ready"), None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    let token = issuer.id_token().sign();
    assert_eq!(
        send(&gateway.url("/pets/1"), Some(&token), &[])
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_is_refused_on_the_public_address() {
    let port = closed_port().to_string();
    let addr = format!("127.0.0.1:{port}");
    let mut command = support::process::command();
    command.args(["--listen", &addr, "--admin-listen", &addr]);
    let out = support::process::run(command, None, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the admin listener cannot be the public one"),
        "{stderr}"
    );
}

/// The log lines after startup that are access-log lines.
fn access_lines(
    gateway: &Gateway,
    expected: usize,
    is_entry: impl Fn(&str) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines: Vec<String> = gateway
            .later_lines()
            .into_iter()
            .filter(|l| is_entry(l))
            .collect();
        if lines.len() >= expected || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_lines_follow_awss_clf_example() {
    let issuer = TestIssuer::new(PETSTORE_POOL);
    let server = issuer.serve_jwks().await.unwrap();
    let mut vars = echo_vars(&server);
    vars.push(("GATEWAY_ACCESS_LOG_FORMAT".into(), AWS_CLF.into()));
    let gateway = start(vars, Vec::new()).await;
    let valid = issuer.id_token().sign();
    let expired = issuer.id_token().expires_in(-30).sign();
    let replies = [
        send(&gateway.url("/pets/7"), Some(&valid), &[]).await,
        send(&gateway.url("/pets/8"), Some(&expired), &[]).await,
        send(&gateway.url("/health"), None, &[]).await,
        send(&gateway.url("/nowhere"), None, &[]).await,
    ];
    let lines = access_lines(&gateway, replies.len(), |l| l.starts_with("127.0.0.1 "));
    assert_eq!(
        lines.len(),
        replies.len(),
        "one line per request: {lines:#?}"
    );
    let clf = regex::Regex::new(
        r#"^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET (\S+) HTTP/1\.1" (\d{3}) (\d+) ([0-9a-f-]{36}) (\S+)$"#,
    )
    .unwrap();
    let expected = [
        ("/pets/{petId}", 200),
        ("/pets/{petId}", 401),
        ("/health", 200),
        ("-", 403),
    ];
    for (reply, (resource, status)) in replies.iter().zip(expected) {
        let id = reply.header("x-amzn-requestid");
        let line = lines
            .iter()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("no line for {id}: {lines:#?}"));
        let caps = clf
            .captures(line)
            .unwrap_or_else(|| panic!("not AWS's CLF: {line}"));
        assert_eq!(&caps[1], resource, "{line}");
        assert_eq!(caps[2].parse::<u16>().unwrap(), status, "{line}");
        assert_eq!(reply.status.as_u16(), status);
        assert_eq!(
            caps[3].parse::<usize>().unwrap(),
            reply.body.len(),
            "{line}"
        );
        assert_eq!(&caps[4], id);
        assert_eq!(&caps[5], reply.header("x-amz-apigw-id"), "{line}");
    }
    for token in [&valid, &expired] {
        for part in token.split('.') {
            assert!(lines.iter().all(|l| !l.contains(part)), "token in the log");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_lines_follow_awss_json_example_and_more_variables() {
    let issuer = TestIssuer::new(PETSTORE_POOL);
    let server = issuer.serve_jwks().await.unwrap();
    let mut vars = echo_vars(&server);
    let format = AWS_JSON.replace(
        " }",
        r#", "sub":"$context.authorizer.claims.sub", "error":"$context.error.message", "type":"$context.error.responseType", "integrationLatency":"$context.integrationLatency", "responseLatency":"$context.responseLatency", "agent":"$context.identity.userAgent" }"#,
    );
    vars.push(("GATEWAY_ACCESS_LOG_FORMAT".into(), format));
    let gateway = start(vars, Vec::new()).await;
    let valid = issuer.id_token().claim("sub", "user-42").sign();
    let expired = issuer.id_token().expires_in(-30).sign();
    let agent = "tricky \"agent\"\nsecond line";
    let ok = send(&gateway.url("/pets/7"), Some(&valid), &[]).await;
    let late = send(
        &gateway.url("/pets/8"),
        Some(&expired),
        &[("user-agent", "plain")],
    )
    .await;
    // A header value with a quote (a line break cannot be sent in one).
    let odd = send(
        &gateway.url("/health"),
        None,
        &[("user-agent", &agent.replace('\n', " "))],
    )
    .await;
    let lines = access_lines(&gateway, 3, |l| l.starts_with("{ \"requestId\""));
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let entries: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of = |reply: &Reply| -> &Value {
        entries
            .iter()
            .find(|e| e["requestId"] == reply.header("x-amzn-requestid"))
            .expect("a line per request")
    };
    let e = of(&ok);
    assert_eq!(e["ip"], "127.0.0.1");
    assert_eq!(e["caller"], "-");
    assert_eq!(e["user"], "-");
    assert_eq!(e["httpMethod"], "GET");
    assert_eq!(e["resourcePath"], "/pets/{petId}");
    assert_eq!(e["status"], "200");
    assert_eq!(e["protocol"], "HTTP/1.1");
    assert_eq!(e["responseLength"], ok.body.len().to_string());
    assert_eq!(e["sub"], "user-42");
    assert_eq!(e["error"], "-");
    assert!(e["integrationLatency"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());
    assert!(e["responseLatency"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());
    let e = of(&late);
    assert_eq!(e["status"], "401");
    assert_eq!(e["sub"], "-");
    assert_eq!(e["error"], "The incoming token has expired");
    assert_eq!(e["type"], "EXPIRED_TOKEN");
    assert_eq!(e["integrationLatency"], "-");
    assert_eq!(e["agent"], "plain");
    let e = of(&odd);
    assert_eq!(e["agent"], "tricky \"agent\" second line");
    let ids: HashSet<&str> = entries
        .iter()
        .map(|e| e["requestId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traceparent_reaches_the_backend_and_spans_name_the_request() {
    const POOL: &str = "us-east-1_Proxy1";
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let args: Vec<String> = [
        "--openapi".to_owned(),
        "gateway/tests/fixtures/proxy.json".to_owned(),
        "--stage".to_owned(),
        "prod".to_owned(),
        "--stage-variable".to_owned(),
        format!("backendHost={}", backend.host()),
        "--stage-variable".to_owned(),
        format!("closedPort={}", closed_port()),
        "--stage-variable".to_owned(),
        "env=beta".to_owned(),
        "--jwks-endpoint".to_owned(),
        keys.base_url().to_owned(),
    ]
    .into();
    let vars = vec![("RUST_LOG".into(), "tower_cognito_gateway=info".into())];
    let gateway = start(vars, args).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let token = issuer.id_token().sign();
    let reply = send(
        &gateway.url("/pets/7"),
        Some(&token),
        &[("traceparent", traceparent), ("tracestate", "vendor=1")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    let headers: Vec<(String, String)> = report["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap().to_ascii_lowercase(),
                h[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        headers.contains(&("traceparent".into(), traceparent.into())),
        "{headers:?}"
    );
    assert!(headers.contains(&("tracestate".into(), "vendor=1".into())));

    // RUST_LOG on: the request's span closes with its route, authorizer,
    // outcome, reason and trace ID; the integration call has its own.
    let line = gateway.wait_for_output("outcome=\"allowed\"", Duration::from_secs(10));
    for field in [
        "request{",
        "route=\"GET /pets/{petId}\"",
        "authorizer=\"Pool\"",
        "trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"",
        "reason=\"none\"",
        "status=200",
        "verify_us=",
        "close",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    let integration = gateway.wait_for_output(
        "}:integration{route=\"GET /pets/{petId}\"}",
        Duration::from_secs(10),
    );
    assert!(integration.contains("close"), "{integration}");
    let denied = send(&gateway.url("/pets/7"), None, &[]).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    let line = gateway.wait_for_output("reason=\"missing_token\"", Duration::from_secs(10));
    assert!(line.contains("outcome=\"denied\""), "{line}");
    assert!(
        !gateway.stderr_text().contains(&token),
        "no token in the log"
    );
}
