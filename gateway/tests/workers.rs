//! `--workers`: serving threads sharing one port, each answering, all
//! finishing cleanly on Ctrl-C (a request in flight answered first); a
//! count of 0 is refused.

mod support;

use std::time::Duration;

use support::backend::Backend;
use support::loopback::{bounded, client, get};
use support::process::{self, Gateway};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_serving_threads_answer_on_one_port_and_stop_cleanly() {
    let gateway = tokio::task::spawn_blocking(|| {
        Gateway::start_with(&[("GATEWAY_DEV_ISSUER", "1")], &["--workers", "3"])
    })
    .await
    .unwrap();
    let expected = if cfg!(target_os = "linux") { 3 } else { 1 };
    let startup = gateway.startup_text();
    assert!(
        startup.contains(&format!("serving threads: {expected} (")),
        "{startup}"
    );
    // A new connection per request, so the kernel spreads them over the
    // threads' listeners; every one gets the gateway's answer.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for i in 0..30 {
        let url = gateway.url(&format!("/no-such-route/{i}"));
        let response = bounded(&url, http.get(&url).send()).await.expect("send");
        assert_eq!(response.status(), 403, "{url}");
        assert!(response.headers().contains_key("x-amzn-requestid"));
        let body = bounded(&url, response.text()).await.unwrap();
        assert_eq!(body, r#"{"message":"Missing Authentication Token"}"#);
    }
    #[cfg(unix)]
    {
        let status = tokio::task::spawn_blocking(move || gateway.interrupt())
            .await
            .unwrap();
        assert!(status.success(), "exit status after Ctrl-C: {status:?}");
    }
}

/// Without `--workers`: one serving thread per CPU but one, at least one
/// (workers/listen.rs, `default_workers`: a CPU left to what runs beside).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_leaves_one_cpu_to_what_runs_beside() {
    let gateway = tokio::task::spawn_blocking(|| Gateway::start(&[("GATEWAY_DEV_ISSUER", "1")]))
        .await
        .unwrap();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let expected = if cfg!(target_os = "linux") {
        cpus.saturating_sub(1).max(1)
    } else {
        1
    };
    let startup = gateway.startup_text();
    assert!(
        startup.contains(&format!("serving threads: {expected} (")),
        "{cpus} CPUs: {startup}"
    );
}

/// Ctrl-C while a proxied request waits for its backend (which sleeps
/// 1.5 s): the request is still answered in full, then the gateway exits
/// cleanly.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_ctrl_c_is_answered_before_the_gateway_stops() {
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let dir = std::env::temp_dir().join(format!("gateway-workers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("export.json");
    let export = serde_json::json!({
        "openapi": "3.0.1",
        "info": {"title": "Shutdown", "version": "1"},
        "paths": {"/slow": {"get": {"x-amazon-apigateway-integration": {
            "type": "http_proxy", "httpMethod": "GET",
            "uri": "http://${stageVariables.backendHost}/sleep/1500"}}}},
        // A pool for the dev issuer; /slow itself is public.
        "components": {"securitySchemes": {"Pool": {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                "providerARNs": ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Stop1"]}
        }}}
    });
    std::fs::write(&file, export.to_string()).unwrap();
    let stage = format!("backendHost={}", backend.host());
    let file = file.display().to_string();
    let gateway = tokio::task::spawn_blocking(move || {
        Gateway::start_with(
            &[("GATEWAY_DEV_ISSUER", "1"), ("STAGE_VARIABLES", &stage)],
            &["--openapi", &file],
        )
    })
    .await
    .unwrap();
    let url = gateway.url("/slow");
    let in_flight = tokio::spawn(async move { get(&client(), &url, None).await });
    // Well inside the backend's sleep.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !in_flight.is_finished(),
        "the request did not wait for the backend"
    );
    let status = tokio::task::spawn_blocking(move || gateway.interrupt())
        .await
        .unwrap();
    assert!(status.success(), "exit status after Ctrl-C: {status:?}");
    let reply = bounded("the request in flight", in_flight).await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let report: serde_json::Value =
        serde_json::from_str(&reply.body).expect("the backend's report");
    assert_eq!(report["path"], "/sleep/1500");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn zero_serving_threads_is_a_usage_error() {
    let mut command = process::command();
    command.args(["--workers", "0"]);
    let output = process::run(command, None, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--workers"), "{stderr}");
}
