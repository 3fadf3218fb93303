//! The echo backends (`gateway/tests/backend/echo.py`, Python's standard
//! library; `h2.js`, Node's HTTP/2 over TLS) in their own processes on
//! loopback, killed when dropped.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::process::first_line;

/// The header lines of an echo backend's report, names lower-cased.
pub(crate) fn report_headers(report: &serde_json::Value) -> Vec<(String, String)> {
    report["headers"]
        .as_array()
        .expect("the report's headers")
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap().to_ascii_lowercase(),
                h[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The first value of header `name` (lower-case) among `headers`.
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A running echo backend.
pub(crate) struct Backend {
    child: Child,
    pub(crate) port: u16,
}

impl Backend {
    /// Starts it on a free port and waits (bounded) for `listening on PORT`.
    pub(crate) fn start() -> Self {
        let mut command = Command::new("python3");
        command.arg(script("echo.py")).arg("0");
        Self::spawn(command, "python3 (the echo backend needs it)")
    }

    /// The HTTP/2-only echo backend over TLS (`tests/backend/h2.js`, Node's
    /// `http2` module), serving the PEM certificate chain and key given.
    pub(crate) fn start_h2(cert: &std::path::Path, key: &std::path::Path) -> Self {
        let mut command = Command::new("node");
        command.arg(script("h2.js")).arg(cert).arg(key);
        Self::spawn(
            command,
            "node (the HTTP/2 backend needs it: apt-get install nodejs)",
        )
    }

    fn spawn(mut command: Command, needs: &str) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect(needs);
        let line = first_line(&mut child, Duration::from_secs(20), "the backend");
        let port = line
            .strip_prefix("listening on ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the backend said {line:?}"));
        Self { child, port }
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn script(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/backend")
        .join(name)
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (bound, then released).
pub(crate) fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The gateway's peak resident memory in KiB (`VmHWM`).
pub(crate) fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}
