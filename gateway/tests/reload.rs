//! Redeploying without a restart: `--watch` and `SIGHUP` swap the deployment
//! atomically; requests in flight finish on the old one; a bad document keeps
//! the one in force; keys are kept while the authorizers are unchanged.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use http::StatusCode;
use serde_json::{json, Value};
use support::backend::{closed_port, Backend};
use support::loopback::{bounded, client, get};
use support::process::Gateway;
use tower_cognito::testing::TestIssuer;

const POOL: &str = "us-east-1_Reload1";
const WAIT: Duration = Duration::from_secs(20);

/// An export: `GET /a` a mock answering `a_body`, `GET /slow` either a proxy
/// to the backend's sleep or a mock, `GET /b` a proxy, `GET /private` an
/// identity route (with `scopes`: an access-token route).
fn export(a_body: &str, slow_is_proxy: bool, scopes: &[&str]) -> String {
    let mock = |body: &str| {
        json!({"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
               "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": body}}}})
    };
    let slow = if slow_is_proxy {
        json!({"type": "http_proxy", "httpMethod": "GET", "uri": "http://${stageVariables.backendHost}/sleep/1500"})
    } else {
        mock(r#"{"slow":"new"}"#)
    };
    json!({
        "openapi": "3.0.1",
        "info": {"title": "Reload", "version": "1"},
        "paths": {
            "/a": {"get": {"x-amazon-apigateway-integration": mock(a_body)}},
            "/slow": {"get": {"x-amazon-apigateway-integration": slow}},
            "/b": {"get": {"x-amazon-apigateway-integration":
                {"type": "http_proxy", "httpMethod": "GET", "uri": "http://${stageVariables.backendHost}/b"}}},
            "/private": {"get": {"security": [{"Pool": scopes}], "x-amazon-apigateway-integration": mock(r#"{"private":true}"#)}}
        },
        "components": {"securitySchemes": {"Pool": {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                "providerARNs": [format!("arn:aws:cognito-idp:us-east-1:123456789012:userpool/{POOL}")]}
        }}}
    })
    .to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gateway-reload-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replaces a file in one step (a watcher never sees half of it).
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn body_of(url: &str, token: Option<&str>) -> (StatusCode, String) {
    let reply = get(&client(), url, token).await;
    (reply.status, reply.body)
}

async fn wait_for(gateway: &std::sync::Arc<Gateway>, text: &'static str) -> String {
    let g = std::sync::Arc::clone(gateway);
    tokio::task::spawn_blocking(move || g.wait_for_output(text, WAIT))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_swaps_atomically_and_keeps_the_old_deployment_on_errors() {
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let backend = tokio::task::spawn_blocking(Backend::start).await.unwrap();
    let dir = temp_dir("watch");
    let file = dir.join("export.json");
    let vars = dir.join("stage.env");
    write(&file, &export(r#"{"v":1}"#, true, &[]));
    write(
        &vars,
        &format!("# the backend\nbackendHost={}\n", backend.host()),
    );
    let args = vec![
        "--openapi".to_owned(),
        file.display().to_string(),
        "--stage-variables-file".to_owned(),
        vars.display().to_string(),
        "--watch".to_owned(),
        "--watch-interval-ms".to_owned(),
        "50".to_owned(),
        "--jwks-endpoint".to_owned(),
        keys.base_url().to_owned(),
    ];
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    let gateway = std::sync::Arc::new(gateway);
    assert!(gateway
        .startup_text()
        .contains("reload: on SIGHUP, and when the files change"));
    assert_eq!(body_of(&gateway.url("/a"), None).await.1, r#"{"v":1}"#);

    // A request in flight on the old deployment (the backend sleeps 1.5 s)...
    let url = gateway.url("/slow");
    let in_flight = tokio::spawn(async move { body_of(&url, None).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...while the document changes: /a answers 2, /slow becomes a mock.
    write(&file, &export(r#"{"v":2}"#, false, &[]));
    let line = wait_for(&gateway, "reload (file changed)").await;
    assert!(line.contains("in force"), "{line}");
    assert_eq!(body_of(&gateway.url("/a"), None).await.1, r#"{"v":2}"#);
    assert_eq!(
        body_of(&gateway.url("/slow"), None).await.1,
        r#"{"slow":"new"}"#
    );
    let (status, old) = bounded("the request in flight", in_flight).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{old}");
    let report: Value = serde_json::from_str(&old).expect("the backend's report");
    assert_eq!(
        report["path"], "/sleep/1500",
        "finished on the old deployment"
    );

    // A broken document: logged, the deployment in force stays.
    write(&file, "{ \"openapi\": \"3.0.1\", broken");
    let line = wait_for(&gateway, "the previous deployment stays in force").await;
    assert!(line.contains("export.json"), "{line}");
    assert_eq!(body_of(&gateway.url("/a"), None).await.1, r#"{"v":2}"#);
    // An operation the gateway refuses: the same.
    write(
        &file,
        &export(r#"{"v":3}"#, false, &[]).replace("\"type\":\"mock\"", "\"type\":\"aws\""),
    );
    tokio::task::spawn_blocking({
        let g = std::sync::Arc::clone(&gateway);
        move || {
            let deadline = std::time::Instant::now() + WAIT;
            while g.count_output("the previous deployment stays in force") < 2 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "second failure not logged"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(body_of(&gateway.url("/a"), None).await.1, r#"{"v":2}"#);

    // Stage variables reload too: the backend moves to a closed port.
    let done = gateway.count_output("reload (file changed): ");
    write(&file, &export(r#"{"v":4}"#, false, &[]));
    tokio::task::spawn_blocking({
        let g = std::sync::Arc::clone(&gateway);
        move || {
            let deadline = std::time::Instant::now() + WAIT;
            while g.count_output("reload (file changed): ") <= done {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the v4 reload not logged"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(body_of(&gateway.url("/a"), None).await.1, r#"{"v":4}"#);
    assert_eq!(body_of(&gateway.url("/b"), None).await.0, StatusCode::OK);
    write(&vars, &format!("backendHost=127.0.0.1:{}\n", closed_port()));
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (status, body) = body_of(&gateway.url("/b"), None).await;
        if status == StatusCode::GATEWAY_TIMEOUT {
            assert_eq!(
                body,
                r#"{"message": "Network error communicating with endpoint"}"#
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stage variable change not applied"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_keeps_keys_of_unchanged_authorizers() {
    let issuer = TestIssuer::new(POOL);
    let keys = issuer.serve_jwks().await.unwrap();
    let dir = temp_dir("hup");
    let file = dir.join("export.json");
    write(&file, &export(r#"{"v":1}"#, false, &[]));
    let args = [
        "--openapi".to_owned(),
        file.display().to_string(),
        "--stage-variable".to_owned(),
        "backendHost=127.0.0.1:9".to_owned(),
        "--jwks-endpoint".to_owned(),
        keys.base_url().to_owned(),
    ];
    let gateway = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Gateway::start_with(&[], &args)
    })
    .await
    .unwrap();
    let gateway = std::sync::Arc::new(gateway);
    let id = issuer.id_token().sign();
    assert_eq!(
        body_of(&gateway.url("/private"), Some(&id)).await.0,
        StatusCode::OK
    );
    let fetched = keys.hits();
    assert!(fetched >= 1);

    // Integrations change, authorizers do not: keys kept, no fetch.
    write(&file, &export(r#"{"v":2}"#, false, &[]));
    gateway.hangup();
    let line = wait_for(&gateway, "reload (SIGHUP)").await;
    assert!(line.contains("authorizers unchanged, keys kept"), "{line}");
    assert_eq!(body_of(&gateway.url("/a"), None).await.1, r#"{"v":2}"#);
    assert_eq!(
        body_of(&gateway.url("/private"), Some(&id)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        keys.hits(),
        fetched,
        "no key fetch for an unchanged authorizer"
    );

    // A policy change: a new layer, which takes over the unchanged pool's
    // keys instead of fetching them again.
    write(&file, &export(r#"{"v":3}"#, false, &["petstore/read"]));
    gateway.hangup();
    let line = wait_for(&gateway, "authorizers changed").await;
    assert!(line.contains("reload (SIGHUP)"), "{line}");
    assert!(line.contains(&format!("keys kept for {POOL}")), "{line}");
    assert_eq!(keys.hits(), fetched, "no key fetch for an unchanged pool");
    assert_eq!(
        body_of(&gateway.url("/private"), Some(&id)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let access = issuer.access_token().scopes(["petstore/read"]).sign();
    assert_eq!(
        body_of(&gateway.url("/private"), Some(&access)).await.0,
        StatusCode::OK
    );
    let _ = std::fs::remove_dir_all(dir);
}
