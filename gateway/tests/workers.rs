//! `--workers`: serving threads sharing one port, each answering, all
//! finishing cleanly on Ctrl-C; a count of 0 is refused.

mod support;

use std::time::Duration;

use support::loopback::bounded;
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

#[test]
fn zero_serving_threads_is_a_usage_error() {
    let mut command = process::command();
    command.args(["--workers", "0"]);
    let output = process::run(command, None, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--workers"), "{stderr}");
}
