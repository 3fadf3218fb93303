//! The access log never holds a request: with standard output not read at
//! all (a stalled log shipper), requests are still answered, the lines that
//! do not fit are dropped and counted (on `/metrics` and on standard error
//! at shutdown), and those queued are written before the gateway exits.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::process;

/// More than the pipe and the gateway's queue (16,384 lines) hold.
const REQUESTS: usize = 20_000;

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_standard_output_does_not_stall_requests_and_dropped_lines_are_counted() {
    let mut command = process::command();
    command
        .args([
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--dev-issuer",
            "1",
        ])
        .env(
            "GATEWAY_ACCESS_LOG_FORMAT",
            "$context.requestId $context.httpMethod $context.resourcePath $context.status",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start cognito-gateway");
    let stderr = Arc::new(Mutex::new(String::new()));
    let pipe = child.stderr.take().unwrap();
    let sink = Arc::clone(&stderr);
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    // Read the startup lines, then stop reading: the pipe fills.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut base, mut admin) = (String::new(), String::new());
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                return stdout;
            }
            let _ = tx.send(line.trim_end().to_owned());
            if line.starts_with("listening on ") {
                return stdout;
            }
        }
    });
    let deadline = Instant::now() + process::START_TIMEOUT;
    while base.is_empty() {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the gateway starts");
        if let Some(rest) = line.strip_prefix("admin: listening on ") {
            admin = rest.split_whitespace().next().unwrap().to_owned();
        }
        if let Some(rest) = line.strip_prefix("listening on ") {
            base = rest.split_whitespace().next().unwrap().to_owned();
        }
    }
    let mut stdout = reader.join().unwrap();

    // Every request is answered, each well within its bound.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let url = format!("{base}/health");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move {
                for _ in 0..REQUESTS / 8 {
                    let response = http.get(&url).send().await.expect("answered");
                    assert_eq!(response.status(), 200);
                    response.bytes().await.expect("the body");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await
            .expect("requests answered while standard output is stalled");
    }

    let metrics = http
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dropped: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("gateway_access_log_dropped_lines_total "))
        .unwrap_or_else(|| panic!("no dropped-lines count on /metrics:\n{metrics}"))
        .trim()
        .parse()
        .unwrap();
    assert!(
        dropped > 0,
        "nothing dropped: the test did not fill the queue"
    );

    // Stop, and read standard output again: the queued lines come out, then
    // the gateway exits cleanly and reports what it dropped.
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let rest = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the gateway did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let rest = rest.join().unwrap();
    let logged = rest
        .lines()
        .filter(|l| l.ends_with(" GET /health 200"))
        .count() as u64;
    // Nothing lost but what was counted.
    assert_eq!(
        logged + dropped,
        REQUESTS as u64,
        "{logged} logged, {dropped} dropped"
    );
    assert!(rest.ends_with("stopped\n"), "{rest:.2000}");
    std::thread::sleep(Duration::from_millis(100));
    let stderr = stderr.lock().unwrap().clone();
    assert!(
        stderr.contains(&format!(
            "access log: {dropped} lines dropped (standard output did not keep up)"
        )),
        "{stderr}"
    );
}
