//! The Python backends of `tests/fixtures/` (`aws_http_backend.py`,
//! `recording_backend.py`), each in its own process.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::loopback::{bounded, client};
use super::process::first_line;

/// A Python backend of `tests/fixtures/` in its own process, killed when
/// dropped: it prints `listening on PORT` first and answers `GET /__seen`
/// with every request it got.
pub(crate) struct PythonBackend {
    child: Child,
    pub(crate) port: u16,
}

impl PythonBackend {
    /// Starts `tests/fixtures/SCRIPT` on a free port and waits (bounded)
    /// for `listening on PORT`.
    pub(crate) fn start(script: &str) -> Self {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(script);
        let mut child = Command::new("python3")
            .arg(script)
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 (the backend needs it)");
        let line = first_line(&mut child, Duration::from_secs(20), "the backend");
        let port = line
            .strip_prefix("listening on ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the backend said {line:?}"));
        Self { child, port }
    }

    /// Every request it got so far, oldest first.
    pub(crate) async fn seen(&self) -> Vec<Value> {
        let url = format!("http://127.0.0.1:{}/__seen", self.port);
        let reply = bounded("GET /__seen", async {
            client()
                .get(&url)
                .send()
                .await
                .expect("GET /__seen")
                .json::<Value>()
                .await
                .expect("the backend's JSON")
        })
        .await;
        reply.as_array().expect("a list").clone()
    }
}

impl Drop for PythonBackend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
