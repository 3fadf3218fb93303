//! Recorded conformance: LocalStack's API Gateway tests that were validated
//! against real AWS (`tests/aws/services/apigateway/*.py`, marked
//! `@markers.aws.validated`, with their `*.snapshot.json` recordings),
//! replayed against the `cognito-gateway` process.
//!
//! Each file in `tests/conformance/cases/` is one LocalStack test function:
//! the APIs it set up through the API Gateway API, rebuilt as OpenAPI exports
//! (`tests/conformance/exports/`), and its cases: the request the test sent
//! (byte for byte as Python's `requests` put it on the wire), how the test
//! turned the answer into its snapshot (`observe`), and what AWS answered
//! (`expect`, copied from the recording, or from the test's assertions where
//! it recorded none). The backends are the recording's, reproduced by
//! `tests/conformance/backends/backends.py` in its own process: httpbin, the
//! Lambda function URLs and the Lambda Invoke API.
//!
//! What is not compared is only what the recording itself does not fix:
//! values its transformers replaced (`<name:N>` placeholders, the same `N`
//! binding the same value within a test, and the literal replacements a case
//! lists), the paths its unconditional `skip_snapshot_verify` markers name,
//! and the case of response header names (HTTP field names are
//! case-insensitive; a difference in case is reported once, as the case
//! `response-header-name-case`).
//!
//! Every case either matches or is listed in
//! `tests/conformance/known-differences.json` with the difference seen; the
//! test fails when an unlisted case differs, when a listed case now matches
//! (so the list stays true), and when the list names a case that does not
//! exist. See `tests/conformance/README.md`.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};
use support::process::first_line;

/// The synthetic case that collects header names answered in another case
/// than AWS's.
const HEADER_CASE_ID: &str = "response-header-name-case";
/// How long one request may take (backends answer at once).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the gateway or the backends may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// A response larger than this is a failure, not something to buffer.
const MAX_RESPONSE: usize = 16 << 20;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    /// `tests/aws/services/apigateway/FILE.py::[Class::]function`.
    test: String,
    apis: Vec<Api>,
    #[serde(default)]
    skip_paths: Vec<String>,
    /// Values a transformer replaced without `<...>`: at `key`, the recorded
    /// `value` stands for any non-empty value.
    #[serde(default)]
    literal_placeholders: Vec<LiteralPlaceholder>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Api {
    name: String,
    export: String,
    stage: String,
    #[serde(default)]
    stage_variables: BTreeMap<String, String>,
    /// Placeholders standing for this API's ID within its scope.
    #[serde(default)]
    api_id_placeholders: Vec<String>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct LiteralPlaceholder {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    /// The snapshot scope: `FILE.py::[Class::]function[params]`.
    scope: String,
    /// The snapshot key, or `None` for an expectation from an assertion.
    snapshot_key: Option<String>,
    /// For expectations from assertions: which ones.
    #[serde(default)]
    assertion: Option<String>,
    api: String,
    /// One request, or several named ones (`@NAME` in `observe` picks one).
    #[serde(default)]
    request: Option<WireRequest>,
    #[serde(default)]
    requests: BTreeMap<String, WireRequest>,
    observe: Value,
    expect: Value,
    #[serde(default = "yes")]
    placeholders: bool,
    /// Paths skipped for this case only (a scope's own markers).
    #[serde(default)]
    skip_paths: Vec<String>,
    /// The test's assertions beyond its snapshot: an extractor and the
    /// text its value must contain (or, with `absent`, not contain).
    #[serde(default)]
    checks: Vec<Check>,
    /// Why the case is built as it is, where that needs saying.
    #[serde(default)]
    #[allow(dead_code)] // read by people
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Check {
    observe: String,
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    not_contains: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRequest {
    method: String,
    /// The request target, as sent (path and query, stage removed).
    target: String,
    /// Header lines in order, `Host` first, as `requests` sent them.
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
    /// `Transfer-Encoding: chunked` framing (the body as one chunk).
    #[serde(default)]
    chunked: bool,
}

/// An answer as read off the wire.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

// ---------------------------------------------------------------- processes

/// `backends.py` in its own process; ends when its stdin closes (dropped).
struct Backends {
    child: Child,
    _stdin: ChildStdin,
    ports: HashMap<String, u16>,
}

impl Backends {
    fn start() -> Self {
        let script = dir().join("backends/backends.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 (the conformance backends need it)");
        let stdin = child.stdin.take().expect("stdin");
        let line = first_line(&mut child, START_TIMEOUT, &script.display().to_string());
        let ports: HashMap<String, u16> = line
            .strip_prefix("listening on ")
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_else(|| panic!("the backends said {line:?}"));
        Self {
            child,
            _stdin: stdin,
            ports,
        }
    }

    fn base(&self, name: &str) -> String {
        let port = self
            .ports
            .get(name)
            .unwrap_or_else(|| panic!("no backend {name}"));
        format!("http://127.0.0.1:{port}")
    }
}

impl Drop for Backends {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the recordings' backends were, and which local backend answers
/// for them (`--integration-base`, so `Host` stays the recorded one).
const BACKEND_HOSTS: [(&str, &str); 5] = [
    ("https://httpbin.org", "httpbin"),
    ("https://echo.lambda-url.us-east-1.on.aws", "fnurl-echo"),
    (
        "https://echo-trim.lambda-url.us-east-1.on.aws",
        "fnurl-echo-trim",
    ),
    ("https://status.lambda-url.us-east-1.on.aws", "fnurl-status"),
    ("https://body.lambda-url.us-east-1.on.aws", "fnurl-body"),
];

/// The user pool the gateway requires; no case sends a token.
const POOL: &str = "us-east-1_Conform01";

/// A gateway serving one export, killed when dropped.
struct Gateway {
    child: Child,
    port: u16,
}

impl Gateway {
    /// Starts it, or says why it would not start.
    fn start(api: &Api, backends: &Backends) -> Result<Self, String> {
        let export = dir().join(&api.export);
        let mut command = support::process::command();
        command
            .arg("--openapi")
            .arg(&export)
            .args(["--listen", "127.0.0.1:0", "--workers", "1", "--stage"])
            .arg(&api.stage)
            .args(["--user-pool", POOL, "--jwks-endpoint"])
            .arg(backends.base("lambda"))
            .arg("--lambda-endpoint")
            .arg(backends.base("lambda"));
        for (from, name) in BACKEND_HOSTS {
            command
                .arg("--integration-base")
                .arg(format!("{from}={}", backends.base(name)));
        }
        for (name, value) in &api.stage_variables {
            command
                .arg("--stage-variable")
                .arg(format!("{name}={value}"));
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start cognito-gateway");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    // Keep draining so the child never blocks on a full pipe.
                    continue;
                }
            }
        });
        let errors = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut text);
            text
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("listening on http://127.0.0.1:") {
                        let port = rest.split_whitespace().next().unwrap_or_default();
                        match port.parse::<u16>() {
                            Ok(port) => break port,
                            Err(_) => {
                                let _ = child.kill();
                                let _ = child.wait();
                                return Err(format!("the gateway said {line:?}"));
                            }
                        }
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let text = errors.join().unwrap_or_default();
                    let reason = text.lines().last().unwrap_or("no message").trim();
                    return Err(format!(
                        "the gateway did not start with {}: {reason}",
                        api.export
                    ));
                }
            }
        };
        Ok(Self { child, port })
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- the wire

/// Sends the request as recorded on a new connection and reads the answer.
fn send(port: u16, request: &WireRequest) -> Result<Answer, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(REQUEST_TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(REQUEST_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let body = match (&request.body, &request.body_base64) {
        (Some(text), None) => text.clone().into_bytes(),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("body_base64: {e}"))?,
        (None, None) => Vec::new(),
        (Some(_), Some(_)) => return Err("both body and body_base64".into()),
    };
    let mut wire = format!("{} {} HTTP/1.1\r\n", request.method, request.target).into_bytes();
    for (name, value) in &request.headers {
        wire.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    wire.extend_from_slice(b"\r\n");
    if request.chunked {
        if !body.is_empty() {
            wire.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
            wire.extend_from_slice(&body);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"0\r\n\r\n");
    } else {
        wire.extend_from_slice(&body);
    }
    stream.write_all(&wire).map_err(|e| format!("write: {e}"))?;
    read_answer(&mut BufReader::new(stream), request.method == "HEAD")
}

/// Every request of a case, named (`""` for the single one).
fn send_all(port: u16, case: &Case) -> Result<BTreeMap<String, Answer>, String> {
    let mut answers = BTreeMap::new();
    if let Some(request) = &case.request {
        answers.insert(String::new(), send(port, request)?);
    }
    for (name, request) in &case.requests {
        answers.insert(
            name.clone(),
            send(port, request).map_err(|e| format!("{name}: {e}"))?,
        );
    }
    if answers.is_empty() {
        return Err("the case sends no request".into());
    }
    Ok(answers)
}

/// The assertions' findings, one line per failed one.
fn check(checks: &[Check], answers: &BTreeMap<String, Answer>) -> Vec<String> {
    let mut failed = Vec::new();
    for c in checks {
        let value = observe(&Value::String(c.observe.clone()), answers);
        let text = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let Some(want) = &c.contains {
            if !text.contains(want.as_str()) {
                failed.push(format!(
                    "{}: {text:?} does not contain {want:?} (AWS's did)",
                    c.observe
                ));
            }
        }
        if let Some(unwanted) = &c.not_contains {
            if text.contains(unwanted.as_str()) {
                failed.push(format!(
                    "{}: {text:?} contains {unwanted:?} (AWS's did not)",
                    c.observe
                ));
            }
        }
    }
    failed
}

fn read_line(reader: &mut impl BufRead) -> Result<String, String> {
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(64 * 1024)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("read: {e}"))?;
    if !line.ends_with(b"\n") {
        return Err("connection closed mid-line".into());
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

fn read_answer(reader: &mut impl BufRead, head_only: bool) -> Result<Answer, String> {
    // Interim answers (`100 Continue` to an `Expect`) come first; a client
    // reads past them, as Python's does.
    for _ in 0..10 {
        let answer = read_head(reader, head_only)?;
        if !(100..200).contains(&answer.status) || answer.status == 101 {
            return Ok(answer);
        }
    }
    Err("more than 10 interim answers".into())
}

fn read_head(reader: &mut impl BufRead, head_only: bool) -> Result<Answer, String> {
    let status_line = read_line(reader)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((name.to_owned(), value.trim().to_owned()));
        if headers.len() > 500 {
            return Err("too many header lines".into());
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        // no body
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let size_line = read_line(reader)?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {size_line:?}"))?;
            if size == 0 {
                while !read_line(reader)?.is_empty() {}
                break;
            }
            if body.len() + size > MAX_RESPONSE {
                return Err("response too large".into());
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader
                .read_exact(&mut body[start..])
                .map_err(|e| format!("read chunk: {e}"))?;
            read_line(reader)?;
        }
    } else if let Some(length) = find("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| format!("bad Content-Length {length:?}"))?;
        if length > MAX_RESPONSE {
            return Err("response too large".into());
        }
        body.resize(length, 0);
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("read body: {e}"))?;
    } else {
        reader
            .take(MAX_RESPONSE as u64)
            .read_to_end(&mut body)
            .map_err(|e| format!("read body: {e}"))?;
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

// ------------------------------------------------ what the test snapshotted

/// `dict(response.headers)` in Python: repeated names joined with ", ",
/// the first spelling kept.
fn header_map(answer: &Answer, lower: bool) -> Value {
    let mut map: Vec<(String, String)> = Vec::new();
    for (name, value) in &answer.headers {
        let name = if lower {
            name.to_ascii_lowercase()
        } else {
            name.clone()
        };
        match map.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(value);
            }
            None => map.push((name, value.clone())),
        }
    }
    Value::Object(
        map.into_iter()
            .map(|(n, v)| (n, Value::String(v)))
            .collect(),
    )
}

/// Python's `repr(bytes)`, which is how a snapshot records raw content.
fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

/// Builds the snapshot object the test built, from the answer.
fn observe(spec: &Value, answers: &BTreeMap<String, Answer>) -> Value {
    match spec {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), observe(v, answers)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| observe(v, answers)).collect()),
        Value::String(s) if s.starts_with('$') => {
            let (s, name) = s.split_once('@').unwrap_or((s, ""));
            let Some(answer) = answers.get(name) else {
                return Value::String(format!("<no answer named {name:?}>"));
            };
            let s = &s.to_owned();
            let text = || String::from_utf8_lossy(&answer.body).into_owned();
            match s.as_str() {
                "$status" => Value::from(answer.status),
                "$json" => serde_json::from_slice(&answer.body)
                    .unwrap_or_else(|e| Value::String(format!("<not JSON ({e}): {}>", text()))),
                "$text" => Value::String(text()),
                "$json_or_text" => {
                    serde_json::from_slice(&answer.body).unwrap_or_else(|_| Value::String(text()))
                }
                "$bytes" => Value::String(python_bytes_repr(&answer.body)),
                "$body_base64" => {
                    Value::String(base64::engine::general_purpose::STANDARD.encode(&answer.body))
                }
                "$headers" => header_map(answer, false),
                "$headers:lower" => header_map(answer, true),
                other => {
                    if let Some(name) = other.strip_prefix("$header:") {
                        answer
                            .headers
                            .iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case(name))
                            .map_or(Value::Null, |(_, v)| Value::String(v.clone()))
                    } else if let Some(pointer) = other.strip_prefix("$json:") {
                        serde_json::from_slice::<Value>(&answer.body)
                            .ok()
                            .and_then(|v| v.pointer(pointer).cloned())
                            .unwrap_or(Value::Null)
                    } else {
                        panic!("unknown extractor {other:?}")
                    }
                }
            }
        }
        other => other.clone(),
    }
}

/// Where `observe` put a response header map: there, names equal but for
/// case take the recorded spelling, each such name noted.
fn align_header_case(spec: &Value, expect: &Value, actual: &mut Value, notes: &mut Vec<String>) {
    match (spec, expect, actual) {
        (Value::String(s), Value::Object(exp), Value::Object(act)) if s.starts_with("$headers") => {
            let renames: Vec<(String, String)> = act
                .keys()
                .filter(|k| !exp.contains_key(*k))
                .filter_map(|k| {
                    exp.keys()
                        .find(|e| e.eq_ignore_ascii_case(k))
                        .map(|e| (k.clone(), e.clone()))
                })
                .collect();
            for (from, to) in renames {
                if let Some(v) = act.remove(&from) {
                    notes.push(format!("{from} (AWS: {to})"));
                    act.insert(to, v);
                }
            }
        }
        (Value::Object(spec), Value::Object(exp), Value::Object(act)) => {
            for (k, s) in spec {
                if let (Some(e), Some(a)) = (exp.get(k), act.get_mut(k)) {
                    align_header_case(s, e, a, notes);
                }
            }
        }
        _ => {}
    }
}

/// The snapshot library parses a dict's string values that start with `{`.
fn parse_json_strings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                if let Value::String(s) = v {
                    if s.starts_with('{') {
                        if let Ok(parsed) = serde_json::from_str::<Value>(s) {
                            *v = parsed;
                        }
                    }
                }
                parse_json_strings(v);
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut().filter(|i| i.is_object()) {
                parse_json_strings(item);
            }
        }
        _ => {}
    }
}

// ------------------------------------------------------------- skip paths

#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// `.name` / `['name']`
    Child(String),
    /// `..name`
    Descendant(String),
    /// `.*` / `[*]`
    Any,
    /// `[N]`
    Index(usize),
}

/// The JSONPath subset the markers use: `$`, `.name`, `..name`, `.*`,
/// `[*]`, `[N]`.
fn parse_path(path: &str) -> Vec<Step> {
    let rest = path
        .strip_prefix('$')
        .unwrap_or_else(|| panic!("skip path {path:?}: no $"));
    let token = Regex::new(r"^(\.\.|\.|\[)([^.\[\]]*)\]?").expect("regex");
    let mut steps = Vec::new();
    let mut at = rest;
    while !at.is_empty() {
        let c = token
            .captures(at)
            .unwrap_or_else(|| panic!("skip path {path:?}: cannot read {at:?}"));
        let (sep, name) = (&c[1], c[2].to_owned());
        steps.push(match (sep, name.as_str()) {
            (_, "*") => Step::Any,
            ("..", _) => Step::Descendant(name),
            ("[", n) if n.chars().all(|c| c.is_ascii_digit()) => {
                Step::Index(n.parse().expect("index"))
            }
            ("[", n) => Step::Child(n.trim_matches('\'').to_owned()),
            _ => Step::Child(name),
        });
        at = &at[c[0].len()..];
    }
    steps
}

/// Removes what `steps` matches from `value`.
fn remove_path(value: &mut Value, steps: &[Step]) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    match first {
        Step::Descendant(name) => {
            let mut direct = vec![Step::Child(name.clone())];
            direct.extend_from_slice(rest);
            remove_path(value, &direct);
            match value {
                Value::Object(map) => map.values_mut().for_each(|v| remove_path(v, steps)),
                Value::Array(items) => items.iter_mut().for_each(|v| remove_path(v, steps)),
                _ => {}
            }
        }
        Step::Child(name) => {
            if let Value::Object(map) = value {
                if rest.is_empty() {
                    map.remove(name);
                } else if let Some(v) = map.get_mut(name) {
                    remove_path(v, rest);
                }
            }
        }
        Step::Any => match value {
            Value::Object(map) if rest.is_empty() => map.clear(),
            Value::Object(map) => map.values_mut().for_each(|v| remove_path(v, rest)),
            Value::Array(items) if rest.is_empty() => items.clear(),
            Value::Array(items) => items.iter_mut().for_each(|v| remove_path(v, rest)),
            _ => {}
        },
        Step::Index(i) => {
            if let Value::Array(items) = value {
                if rest.is_empty() {
                    if *i < items.len() {
                        items.remove(*i);
                    }
                } else if let Some(v) = items.get_mut(*i) {
                    remove_path(v, rest);
                }
            }
        }
    }
}

// -------------------------------------------------------------- comparison

/// The recorded value's placeholders: `<name>` or `<name:N>`.
fn placeholder_regex() -> Regex {
    Regex::new(r"<[A-Za-z][A-Za-z0-9_.-]*(?::\d+)?>").expect("regex")
}

struct Compare<'a> {
    placeholders: bool,
    literal: &'a [LiteralPlaceholder],
    pattern: Regex,
    /// `<name:N>` -> the value it stands for, per scope.
    bindings: &'a mut HashMap<String, String>,
    diffs: Vec<String>,
}

impl Compare<'_> {
    fn value(&mut self, path: &str, key: &str, expect: &Value, actual: &Value) {
        match (expect, actual) {
            (Value::Object(e), Value::Object(a)) => {
                for (k, ev) in e {
                    let p = format!("{path}.{k}");
                    match a.get(k) {
                        Some(av) => self.value(&p, k, ev, av),
                        None => self.diffs.push(format!("{p}: missing (AWS: {ev})")),
                    }
                }
                for (k, av) in a {
                    if !e.contains_key(k) {
                        self.diffs
                            .push(format!("{path}.{k}: not in AWS's answer (got {av})"));
                    }
                }
            }
            (Value::Array(e), Value::Array(a)) => {
                if e.len() != a.len() {
                    self.diffs.push(format!(
                        "{path}: {} items (AWS: {}): {actual} (AWS: {expect})",
                        a.len(),
                        e.len()
                    ));
                    return;
                }
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    self.value(&format!("{path}[{i}]"), key, ev, av);
                }
            }
            (Value::String(e), _) if self.placeholders && self.is_placeholder(key, e) => {
                if !self.matches(e, actual) {
                    self.diffs.push(format!("{path}: {actual} (AWS: {e:?})"));
                }
            }
            _ => {
                if expect != actual {
                    self.diffs.push(format!("{path}: {actual} (AWS: {expect})"));
                }
            }
        }
    }

    fn is_placeholder(&self, key: &str, expect: &str) -> bool {
        self.pattern.is_match(expect)
            || self
                .literal
                .iter()
                .any(|l| l.key.eq_ignore_ascii_case(key) && l.value == expect)
    }

    /// Whether `actual` fits the recorded string with its placeholders,
    /// binding numbered ones.
    fn matches(&mut self, expect: &str, actual: &Value) -> bool {
        let text = match actual {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            // A key transformer replaces a key's whole value, a list too
            // (`multiValueHeaders.X-Forwarded-For: "<X-Forwarded-For>"`):
            // an unnumbered placeholder standing alone takes any value.
            Value::Array(_) | Value::Object(_) => {
                return !expect.contains(':')
                    && self
                        .pattern
                        .find(expect)
                        .is_some_and(|m| m.as_str() == expect);
            }
            Value::Null => return false,
        };
        if !self.pattern.is_match(expect) {
            // A literal replacement: any non-empty value.
            return !text.is_empty();
        }
        let mut regex = String::from("^");
        let mut names = Vec::new();
        let mut last = 0;
        for m in self.pattern.find_iter(expect) {
            regex.push_str(&regex::escape(&expect[last..m.start()]));
            let name = m.as_str();
            match self.bindings.get(name) {
                Some(bound) => regex.push_str(&format!("({})", regex::escape(bound))),
                None if name.starts_with("<uuid") => regex.push_str(
                    "([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})",
                ),
                None => regex.push_str("(.+?)"),
            }
            names.push(name.to_owned());
            last = m.end();
        }
        regex.push_str(&regex::escape(&expect[last..]));
        regex.push('$');
        let Some(c) = Regex::new(&regex).ok().and_then(|r| r.captures(&text)) else {
            return false;
        };
        // Same `<name:N>` twice in one string: the same text.
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            let got = c.get(i + 1).map_or("", |m| m.as_str());
            if let Some(prev) = seen.insert(name, got) {
                if prev != got {
                    return false;
                }
            }
        }
        for (name, got) in seen {
            if name.contains(':') {
                self.bindings.insert(name.to_owned(), got.to_owned());
            }
        }
        true
    }
}

// ----------------------------------------------------------------- the run

enum Outcome {
    Match,
    Differ(Vec<String>),
}

struct Ran {
    id: String,
    source: String,
    outcome: Outcome,
}

fn load_files() -> Vec<(PathBuf, TestFile)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir().join("cases"))
        .expect("tests/conformance/cases")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read case file");
            let file: TestFile =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, file)
        })
        .collect()
}

/// The API ID in the export's `servers` URL.
fn api_id(export: &str) -> String {
    let text = std::fs::read_to_string(dir().join(export)).expect("read export");
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{export}: {e}"));
    doc.pointer("/servers/0/url")
        .and_then(Value::as_str)
        .and_then(|u| u.strip_prefix("https://"))
        .and_then(|u| u.split_once(".execute-api."))
        .map(|(id, _)| id.to_owned())
        .unwrap_or_else(|| panic!("{export}: no https://ID.execute-api. server URL"))
}

fn run_file(file: &TestFile, backends: &Backends, header_notes: &mut Vec<String>) -> Vec<Ran> {
    let pattern = placeholder_regex();
    let mut bindings: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut ran = Vec::new();
    for api in &file.apis {
        let cases: Vec<&Case> = file.cases.iter().filter(|c| c.api == api.name).collect();
        let id = api_id(&api.export);
        let gateway = Gateway::start(api, backends);
        for case in cases {
            let source = format!(
                "{} (snapshot {}, {})",
                file.test,
                case.scope,
                match (&case.snapshot_key, &case.assertion) {
                    (Some(key), _) => format!("key {key:?}"),
                    (None, Some(a)) => format!("assertions: {a}"),
                    (None, None) => "no key".into(),
                }
            );
            let scope = bindings.entry(case.scope.clone()).or_default();
            for p in &api.api_id_placeholders {
                scope.insert(p.clone(), id.clone());
            }
            let outcome = match &gateway {
                Err(reason) => Outcome::Differ(vec![reason.clone()]),
                Ok(gateway) => match send_all(gateway.port, case) {
                    Err(e) => Outcome::Differ(vec![format!("no answer: {e}")]),
                    Ok(answers) => {
                        let mut actual = observe(&case.observe, &answers);
                        let checked = check(&case.checks, &answers);
                        let mut notes = Vec::new();
                        align_header_case(&case.observe, &case.expect, &mut actual, &mut notes);
                        header_notes.extend(notes.into_iter().map(|n| format!("{}: {n}", case.id)));
                        if let Value::String(s) = &actual {
                            if s.starts_with('{') {
                                if let Ok(parsed) = serde_json::from_str(s) {
                                    actual = parsed;
                                }
                            }
                        }
                        parse_json_strings(&mut actual);
                        // The paths are rooted at the snapshot's keys.
                        let key = case.snapshot_key.clone().unwrap_or_else(|| "_".into());
                        let mut e =
                            Value::Object(Map::from_iter([(key.clone(), case.expect.clone())]));
                        let mut a = Value::Object(Map::from_iter([(key.clone(), actual)]));
                        for path in file.skip_paths.iter().chain(&case.skip_paths) {
                            let steps = parse_path(path);
                            remove_path(&mut e, &steps);
                            remove_path(&mut a, &steps);
                        }
                        let expect = e[&key].take();
                        let actual = a[&key].take();
                        let mut compare = Compare {
                            placeholders: case.placeholders,
                            literal: &file.literal_placeholders,
                            pattern: pattern.clone(),
                            bindings: scope,
                            diffs: Vec::new(),
                        };
                        compare.value("$", "", &expect, &actual);
                        compare.diffs.extend(checked);
                        if compare.diffs.is_empty() {
                            Outcome::Match
                        } else {
                            Outcome::Differ(compare.diffs)
                        }
                    }
                },
            };
            ran.push(Ran {
                id: case.id.clone(),
                source,
                outcome,
            });
        }
    }
    ran
}

#[test]
fn recorded_answers_match_or_are_listed() {
    let files = load_files();
    assert!(!files.is_empty(), "no case files");
    let known: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(dir().join("known-differences.json"))
            .expect("known-differences.json"),
    )
    .expect("known-differences.json: a JSON object of case id -> description");

    let backends = Backends::start();
    let mut header_notes = Vec::new();
    let mut ran = Vec::new();
    let mut functions = std::collections::BTreeSet::new();
    for (path, file) in &files {
        for case in &file.cases {
            assert!(
                file.apis.iter().any(|a| a.name == case.api),
                "{}: case {} names no API {}",
                path.display(),
                case.id,
                case.api
            );
        }
        functions.insert(file.test.clone());
        ran.extend(run_file(file, &backends, &mut header_notes));
    }
    header_notes.sort();
    header_notes.dedup();
    ran.push(Ran {
        id: HEADER_CASE_ID.into(),
        source: "every case that records response header names".into(),
        outcome: if header_notes.is_empty() {
            Outcome::Match
        } else {
            Outcome::Differ(header_notes)
        },
    });

    let mut ids = std::collections::HashSet::new();
    let mut failures = Vec::new();
    let (mut matched, mut listed) = (0, 0);
    for r in &ran {
        assert!(ids.insert(r.id.clone()), "case id {} used twice", r.id);
        match (&r.outcome, known.get(&r.id)) {
            (Outcome::Match, None) => matched += 1,
            (Outcome::Match, Some(said)) => failures.push(format!(
                "{} now matches AWS's recorded answer: remove it from known-differences.json (it said: {said})\n  from {}",
                r.id, r.source
            )),
            (Outcome::Differ(diffs), None) => failures.push(format!(
                "{} differs from AWS's recorded answer and is not in known-differences.json\n  from {}\n    {}",
                r.id,
                r.source,
                diffs.join("\n    ")
            )),
            (Outcome::Differ(diffs), Some(_)) => {
                listed += 1;
                if std::env::var_os("CONFORMANCE_VERBOSE").is_some() {
                    eprintln!("known difference {}:\n    {}", r.id, diffs.join("\n    "));
                }
            }
        }
    }
    for id in known.keys() {
        if !ids.contains(id) {
            failures.push(format!(
                "known-differences.json names {id}, which is no case"
            ));
        }
    }
    eprintln!(
        "conformance: {} LocalStack test functions, {} cases: {matched} match, {listed} known differences",
        functions.len(),
        ran.len()
    );
    assert!(
        failures.is_empty(),
        "{} conformance failures:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
