//! What a client's body can make a mapping template cost, through the
//! `cognito-gateway` process on public routes: a body of many keys is parsed
//! in linear time, and a JSONPath deep scan over a body built to amplify
//! (deep chains of `id` / `a` members, each match repeating the subtree
//! below it) fails at the 10 MiB result limit without first building the
//! whole result. The export is written per test; the `http` route sends to
//! the echo backend (`tests/backend/echo.py`) in its own process.

mod support;

use std::time::Duration;

use http::StatusCode;
use serde_json::{json, Value};
use support::backend::{peak_rss_kib, Backend};
use support::loopback::bounded;
use support::process::Gateway;
use tower_cognito::testing::{JwksServer, TestIssuer};

const POOL: &str = "us-east-1_Limits1";

/// A hang guard, not a timing assertion: the bodies here take a second or
/// two even unoptimised; the quadratic parse and the unbounded deep scans
/// took minutes.
const PROMPT: Duration = Duration::from_secs(10);

/// A mock route answering `default` 200, whose request template is `template`.
fn mock_route(template: &str) -> Value {
    json!({"post": {"x-amazon-apigateway-integration": {
        "type": "mock",
        "requestTemplates": {"application/json": template},
        "passthroughBehavior": "when_no_match",
        "responses": {"default": {"statusCode": "200"}}
    }}})
}

/// Writes an export with these paths to a fresh file; returns its directory
/// and path.
fn export(name: &str, paths: Value) -> (std::path::PathBuf, String) {
    let doc = json!({
        "openapi": "3.0.1",
        "info": {"title": "Template limits", "version": "1"},
        "paths": paths,
    });
    let dir = std::env::temp_dir().join(format!(
        "gateway-template-limits-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("export.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

/// Starts the gateway on an export of public routes; the authorizer's pool
/// (a gateway needs one) has its keys served by a test issuer.
async fn start(mut args: Vec<String>) -> (Gateway, JwksServer) {
    let keys = TestIssuer::new(POOL).serve_jwks().await.unwrap();
    args.extend([
        "--user-pool".into(),
        POOL.into(),
        "--jwks-endpoint".into(),
        keys.base_url().to_owned(),
    ]);
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    (gateway, keys)
}

async fn post_json(client: &reqwest::Client, url: &str, body: Vec<u8>) -> (StatusCode, String) {
    bounded(&format!("POST {url}"), async {
        let r = client
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send");
        (r.status(), r.text().await.expect("body"))
    })
    .await
}

/// A client with no timeout of its own: [`PROMPT`] applies.
fn untimed() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// POSTs `body`, failing if no answer comes within [`PROMPT`].
async fn post_promptly(url: &str, body: String, what: &str) -> (StatusCode, String) {
    tokio::time::timeout(PROMPT, post_json(&untimed(), url, body.into_bytes()))
        .await
        .unwrap_or_else(|_| panic!("no answer within {PROMPT:?}: {what}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_100k_keys_through_input_json_is_answered_promptly_and_exactly() {
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let (dir, path) = export(
        "keys",
        json!({"/wrap": {"post": {"x-amazon-apigateway-integration": {
            "type": "http",
            "httpMethod": "POST",
            "uri": "http://${stageVariables.backendHost}/backend/wrap",
            "requestTemplates": {"application/json": "{\"wrapped\": $input.json('$')}"},
            "passthroughBehavior": "when_no_match",
            "responses": {"default": {"statusCode": "200"}}
        }}}}),
    );
    let (gateway, _keys) = start(vec![
        "--openapi".into(),
        path,
        "--stage-variable".into(),
        format!("backendHost={}", backend.host()),
    ])
    .await;

    // 100,000 keys (about 1.3 MB), then `k0` again: a repeated key keeps
    // its first place and takes its last value (Jayway's LinkedHashMap).
    let n = 100_000;
    let mut body = String::from("{");
    let mut expected = String::from("{\"wrapped\": {\"k0\":\"last\"");
    for i in 0..n {
        body.push_str(&format!("\"k{i}\": {i}, "));
        if i > 0 {
            expected.push_str(&format!(",\"k{i}\":{i}"));
        }
    }
    body.push_str("\"k0\": \"last\"}");
    expected.push_str("}}");

    let url = gateway.url("/wrap");
    let (status, text) =
        post_promptly(&url, body, "a body of 100,000 keys (parsing is not linear)").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["body_len"], expected.len(), "{report}");
    assert_eq!(
        report["body_sha256"].as_str(),
        Some(sha256_hex(expected.as_bytes()).as_str()),
        "the backend did not get the keys in order with k0's last value"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// About 8 MB of `[chain, chain, ...]`, each chain `key` nested 120 deep
/// around a 64 KiB string: a deep scan for `key` yields each chain's 120
/// nested matches, whose JSON repeats the string 120 times (about 1 GB in
/// all), past the 10 MiB limit after the first chain.
fn amplifying_body(key: &str) -> Vec<u8> {
    const DEPTH: usize = 120;
    let pad = "x".repeat(64 * 1024);
    let mut chain = String::new();
    for _ in 0..DEPTH {
        chain.push_str(&format!("{{\"{key}\":"));
    }
    chain.push_str(&format!("\"{pad}\""));
    chain.push_str(&"}".repeat(DEPTH));
    let mut body = String::from("[");
    while body.len() + chain.len() + 2 < 8_000_000 {
        if body.len() > 1 {
            body.push(',');
        }
        body.push_str(&chain);
    }
    body.push(']');
    body.into_bytes()
}

/// Sends the amplifying body to a mock route rendering `template` (a deep
/// scan for `key`) and checks the gateway's peak RSS growth, then the
/// answer: the over-size render's 500.
async fn deep_scan_is_bounded(name: &str, template: &str, key: &str) {
    let (dir, path) = export(name, json!({ "/scan": mock_route(template) }));
    let (gateway, _keys) = start(vec!["--openapi".into(), path]).await;
    let url = gateway.url("/scan");
    // PROMPT applies, then the peak is read.
    let client = untimed();

    // Warm up on a small body of the same shape, so the baseline holds
    // what any request costs.
    let small = format!("[{{\"{key}\": {{\"{key}\": 1}}}}]");
    let (status, text) = post_json(&client, &url, small.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let before = peak_rss_kib(gateway.pid());

    let body = amplifying_body(key);
    let size = body.len() as u64;
    // Unbounded, the scan runs for a minute: the peak is read whether or
    // not it has answered by then.
    let reply = tokio::time::timeout(PROMPT, post_json(&client, &url, body)).await;
    let growth = peak_rss_kib(gateway.pid()).saturating_sub(before) * 1024;
    eprintln!(
        "{name}: peak RSS grew by {:.1} MiB for a body of {:.1} MiB",
        growth as f64 / 1048576.0,
        size as f64 / 1048576.0
    );
    assert!(
        growth <= 4 * size,
        "peak RSS grew by {} MiB for a body of {} MiB ({})",
        growth >> 20,
        size >> 20,
        if reply.is_ok() {
            "answered"
        } else {
            "still rendering"
        }
    );
    let (status, text) = reply.expect("an answer");
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{text}");
    assert_eq!(text, r#"{"message": "Internal server error"}"#);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_path_deep_scan_stops_at_the_limit_instead_of_amplifying_memory() {
    deep_scan_is_bounded(
        "path",
        "{\"statusCode\": 200, \"ids\": $input.path('$..id')}",
        "id",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_json_deep_scan_stops_at_the_limit_instead_of_amplifying_memory() {
    deep_scan_is_bounded(
        "json",
        "#set($a = $input.json('$..a')){\"statusCode\": 200, \"a\": $a}",
        "a",
    )
    .await;
}

/// A body of two lists to loop over, `a` (`outer` items) and `b` (1,000),
/// and `pad`: a string of `pad` bytes.
fn loop_body(outer: usize, pad: usize, extra: &str) -> String {
    let a = vec!["0"; outer].join(",");
    let b = vec![format!("\"{}\"", "y".repeat(100)); 1000].join(",");
    format!(
        "{{\"a\":[{a}],\"b\":[{b}],\"pad\":\"{}\"{extra}}}",
        "x".repeat(pad)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_repeating_work_on_the_body_fail_promptly() {
    // Up to 100,000 iterations, each copying what the earlier ones built
    // (about 500 GB in all), or the 4 MB body (400 GB): each stops at the
    // render's work bound with the 500 of a failed render.
    let loops = |inner: &str| {
        format!(
            "#set($s = \"\")#foreach($a in $input.path('$.a'))#foreach($b in $input.path('$.b')){inner}#end#end{{\"statusCode\": 200}}"
        )
    };
    let (dir, path) = export(
        "work",
        json!({
            "/concat": mock_route(&loops("#set($s = \"$s$b\")")),
            "/rebody": mock_route(&loops("#set($s = \"$input.body\")")),
        }),
    );
    let (gateway, _keys) = start(vec!["--openapi".into(), path]).await;
    for (route, pad, what) in [
        ("/concat", 0, "a string built in nested loops"),
        ("/rebody", 4 << 20, "the body copied in nested loops"),
    ] {
        let (status, text) = post_promptly(&gateway.url(route), loop_body(99, pad, ""), what).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{route}: {text}");
        assert_eq!(text, r#"{"message": "Internal server error"}"#);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_in_a_large_body_object_inside_loops_answer_promptly() {
    // 99,000 lookups of the last of 100,000 keys: one pass to index the
    // object, not one per lookup (10^10 key comparisons).
    let template = "#set($n = 0)#foreach($a in $input.path('$.a'))#foreach($b in $input.path('$.b'))#set($n = $n + $input.path('$.last'))#end#end{\"statusCode\": #if($n == 99000)200#{else}409#end}";
    let (dir, path) = export("lookups", json!({ "/count": mock_route(template) }));
    let (gateway, _keys) = start(vec!["--openapi".into(), path]).await;
    let keys: String = (0..100_000).map(|i| format!(",\"k{i}\":0")).collect();
    let body = loop_body(99, 0, &format!("{keys},\"last\":1"));
    let (status, text) = post_promptly(
        &gateway.url("/count"),
        body,
        "99,000 lookups in an object of 100,000 keys",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let _ = std::fs::remove_dir_all(dir);
}
