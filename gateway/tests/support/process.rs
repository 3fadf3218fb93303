//! The `cognito-gateway` binary, run as a child process.
//!
//! Cargo builds the binary for this package's integration tests and names it
//! in `CARGO_BIN_EXE_cognito-gateway`; these helpers start it with a clean
//! environment (from the workspace root, so fixture paths are the
//! repository's) and kill it when the handle is dropped. Every wait is
//! bounded.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an example may take to start listening (RSA key generation in
/// an unoptimised build on a loaded machine included).
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Variables the binary reads; removed from the child's environment so the
/// caller's shell cannot change a test's outcome.
const GATEWAY_VARS: [&str; 46] = [
    "GATEWAY_ADDR",
    "GATEWAY_WORKERS",
    "GATEWAY_DEV_ISSUER",
    "GATEWAY_CORS_ORIGIN",
    "OPENAPI_FILE",
    "COGNITO_USER_POOL_ARNS",
    "COGNITO_JWKS_ENDPOINT",
    "COGNITO_ISSUER_ENDPOINT",
    "COGNITO_TOKEN_VALIDATION",
    "STAGE_VARIABLES",
    "GATEWAY_STAGE",
    "INTEGRATION_BASES",
    "GATEWAY_MAX_BODY_BYTES",
    "GATEWAY_ALLOW_UNSUPPORTED",
    "GATEWAY_AUTH",
    "GATEWAY_ECHO",
    "GATEWAY_TOKEN_CACHE",
    "GATEWAY_KEY_REFRESH_SECS",
    "GATEWAY_DEV_TOKENS_FILE",
    "GATEWAY_DEV_EXPIRED_TOKENS_FILE",
    "GATEWAY_DEV_TOKENS",
    "GATEWAY_DEV_ROTATE_SECS",
    "GATEWAY_ADMIN_ADDR",
    "GATEWAY_ACCESS_LOG_FORMAT",
    "GATEWAY_WATCH",
    "GATEWAY_WATCH_MILLIS",
    "LAMBDA_ENDPOINT",
    "GATEWAY_AUTHORIZER_TIMEOUT_MS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "RUST_LOG",
    "REDIS_URL",
    "GATEWAY_REVOCATION_OUTAGE",
    "GATEWAY_REVOCATION_RECONCILE_MS",
    "GATEWAY_STRICT",
    "GATEWAY_REFUSE_UNSUPPORTED_AUTH",
    "GATEWAY_HEADER_READ_TIMEOUT_MS",
    "GATEWAY_IDLE_TIMEOUT_MS",
    "GATEWAY_BODY_READ_TIMEOUT_MS",
    "GATEWAY_MAX_CONNECTIONS",
    "GATEWAY_HTTP2_KEEP_ALIVE_INTERVAL_MS",
    "GATEWAY_HTTP2_KEEP_ALIVE_TIMEOUT_MS",
    "GATEWAY_HTTP2_MAX_CONCURRENT_STREAMS",
    "TEMPLATE_FILE",
    "TEMPLATE_PARAMETER_OVERRIDES",
    "TEMPLATE_API",
];

/// The repository's root, the children's working directory.
pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("gateway/ inside the workspace")
        .to_path_buf()
}

/// A command for the binary with its variables removed.
pub(crate) fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cognito-gateway"));
    for var in GATEWAY_VARS {
        command.env_remove(var);
    }
    command.current_dir(workspace_root());
    command
}

/// The first line a spawned child (stdout piped) prints, within `timeout`;
/// the rest of its output is drained, so it never blocks on a full pipe.
/// A child that says nothing in time is killed and the test fails, naming
/// `what`.
pub(crate) fn first_line(child: &mut Child, timeout: Duration, what: &str) -> String {
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        for _ in lines {}
    });
    rx.recv_timeout(timeout).unwrap_or_else(|_| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{what} did not start within {timeout:?}");
    })
}

/// Runs a short-lived command to completion, failing after `timeout`.
pub(crate) fn run(mut command: Command, stdin: Option<&str>, timeout: Duration) -> Output {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start cognito-gateway");
    if let Some(text) = stdin {
        use std::io::Write as _;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for cognito-gateway") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cognito-gateway did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// A running gateway, killed when dropped.
pub(crate) struct Gateway {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    base_url: String,
    /// Its standard output up to the `listening on` line.
    startup: Vec<String>,
    stderr: Arc<Mutex<String>>,
    /// Standard output after the `listening on` line.
    later: Arc<Mutex<Vec<String>>>,
}

impl Gateway {
    /// Starts the gateway on a free loopback port with these extra
    /// variables and waits (bounded) until it says it is listening.
    pub(crate) fn start(vars: &[(&str, &str)]) -> Self {
        Self::start_with(vars, &[])
    }

    /// The same with command-line arguments too.
    pub(crate) fn start_with(vars: &[(&str, &str)], args: &[&str]) -> Self {
        let mut command = command();
        command.args(args);
        command.env("GATEWAY_ADDR", "127.0.0.1:0");
        for (name, value) in vars {
            command.env(name, value);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start cognito-gateway");

        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });

        let mut gateway = Self {
            child,
            base_url: String::new(),
            startup: Vec::new(),
            stderr,
            later: Arc::new(Mutex::new(Vec::new())),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("listening on ") {
                        let url = rest.split_whitespace().next().unwrap_or_default();
                        gateway.base_url = url.to_owned();
                        gateway.startup.push(line);
                        break;
                    }
                    gateway.startup.push(line);
                }
                Err(_) => gateway.fail("did not say `listening on` in time, or exited"),
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        let later = Arc::clone(&gateway.later);
        std::thread::spawn(move || {
            while let Ok(line) = rx.recv() {
                later.lock().unwrap().push(line);
            }
        });
        gateway
    }

    fn fail(&mut self, what: &str) -> ! {
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        std::thread::sleep(Duration::from_millis(100));
        panic!(
            "cognito-gateway {what} (status {status:?})\nstdout:\n{}\nstderr:\n{}",
            self.startup_text(),
            self.stderr.lock().unwrap()
        );
    }

    /// The process ID.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to standard error so far.
    pub(crate) fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (bounded) until standard output after startup, or standard
    /// error, has a line containing `text`; returns that line.
    pub(crate) fn wait_for_output(&self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.later.lock().unwrap().iter().find(|l| l.contains(text)) {
                return line.clone();
            }
            if let Some(line) = self
                .stderr
                .lock()
                .unwrap()
                .lines()
                .find(|l| l.contains(text))
            {
                return line.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no output line with {text:?} within {timeout:?}; stdout after startup: {:?}; stderr: {}",
                self.later.lock().unwrap(),
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many lines after startup (and of stderr) contain `text`.
    pub(crate) fn count_output(&self, text: &str) -> usize {
        self.later
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(text))
            .count()
            + self
                .stderr
                .lock()
                .unwrap()
                .lines()
                .filter(|l| l.contains(text))
                .count()
    }

    /// Standard output after startup, line by line.
    pub(crate) fn later_lines(&self) -> Vec<String> {
        self.later.lock().unwrap().clone()
    }

    /// The `admin: listening on http://ADDR ...` startup line's base URL.
    pub(crate) fn admin_url(&self, path: &str) -> String {
        let line = self
            .startup
            .iter()
            .find_map(|l| l.strip_prefix("admin: listening on "))
            .unwrap_or_else(|| panic!("no admin listener:\n{}", self.startup_text()));
        let base = line.split_whitespace().next().unwrap_or_default();
        format!("{base}{path}")
    }

    /// Sends SIGHUP.
    #[cfg(unix)]
    pub(crate) fn hangup(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -HUP {pid} failed");
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The startup output, shell variable lines (dev tokens) left out.
    pub(crate) fn startup_text(&self) -> String {
        self.startup
            .iter()
            .filter(|l| !l.contains("_TOKEN"))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The startup output's lines, tokens included.
    pub(crate) fn startup_lines(&self) -> &[String] {
        &self.startup
    }

    /// The dev issuer's `NAME='token'` lines as a map.
    pub(crate) fn dev_tokens(&self) -> HashMap<String, String> {
        self.startup
            .iter()
            .filter_map(|l| {
                let (name, rest) = l.split_once("='")?;
                let token = rest.strip_suffix('\'')?;
                name.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
                    .then(|| (name.to_owned(), token.to_owned()))
            })
            .collect()
    }

    /// Sends SIGINT (Ctrl-C) and waits, bounded, for the exit status.
    #[cfg(unix)]
    pub(crate) fn interrupt(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -INT {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                self.fail("did not stop within 20 s of Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
