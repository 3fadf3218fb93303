//! API Gateway's access logs: a format of `$context` variables, parsed once
//! (`--access-log-format`), rendered as one line per request on standard
//! output.
//!
//! The variables are those of "API Gateway mapping template and access
//! logging variable reference" that a local gateway can know; the others
//! (`$context.identity.caller`, `$context.wafResponseCode`...) render as `-`,
//! as AWS writes a value it does not have. Values are escaped as in a JSON
//! string (`"`, `\` and control characters), so a line stays one line and
//! AWS's JSON format stays JSON whatever a client sends. No variable reaches
//! the token: claims are the verified claims, by name.
//!
//! Lines are rendered on the serving thread and written by a thread of
//! their own ([`write`]), so a slow or blocked standard output never holds
//! a request: at most [`QUEUE`] lines wait, and past that a line is dropped
//! and counted (`gateway_access_log_dropped_lines_total` on `/metrics`, and
//! a line on standard error at shutdown). [`finish`] writes what waits
//! before the gateway exits. **[choice]** dropping rather than waiting: a
//! log reader that stops must not stop the API.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One variable of the format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Var {
    RequestId,
    ExtendedRequestId,
    SourceIp,
    UserAgent,
    HttpMethod,
    ResourcePath,
    Path,
    Protocol,
    Status,
    ResponseLength,
    RequestTime,
    RequestTimeEpoch,
    Stage,
    DomainName,
    Claim(String),
    ErrorMessage,
    ErrorMessageString,
    ErrorResponseType,
    IntegrationLatency,
    IntegrationStatus,
    ResponseLatency,
    AuthorizeStatus,
    AuthorizeLatency,
    AuthorizeError,
    /// Known to AWS, not available here (or unknown): `-`.
    Absent,
}

impl Var {
    fn parse(name: &str) -> Self {
        if let Some(claim) = name.strip_prefix("authorizer.claims.") {
            return Var::Claim(claim.to_owned());
        }
        match name {
            "requestId" => Var::RequestId,
            "extendedRequestId" => Var::ExtendedRequestId,
            "identity.sourceIp" => Var::SourceIp,
            "identity.userAgent" => Var::UserAgent,
            "httpMethod" => Var::HttpMethod,
            "resourcePath" => Var::ResourcePath,
            "path" => Var::Path,
            "protocol" => Var::Protocol,
            "status" => Var::Status,
            "responseLength" => Var::ResponseLength,
            "requestTime" => Var::RequestTime,
            "requestTimeEpoch" => Var::RequestTimeEpoch,
            "stage" => Var::Stage,
            "domainName" => Var::DomainName,
            "error.message" => Var::ErrorMessage,
            "error.messageString" => Var::ErrorMessageString,
            "error.responseType" => Var::ErrorResponseType,
            "integrationLatency" | "integration.latency" => Var::IntegrationLatency,
            "integrationStatus" | "integration.status" => Var::IntegrationStatus,
            "responseLatency" => Var::ResponseLatency,
            "authorize.status" | "authorizer.status" => Var::AuthorizeStatus,
            "authorize.latency" | "authorizer.latency" => Var::AuthorizeLatency,
            "authorize.error" => Var::AuthorizeError,
            _ => Var::Absent,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// A parsed access-log format.
#[derive(Debug, Clone)]
pub(crate) struct AccessLogFormat {
    parts: Vec<Part>,
    /// Whether any variable needs the claims (they are kept only then).
    pub(crate) uses_claims: bool,
}

/// A verified claim by name (`$context.authorizer.claims.NAME`).
pub(crate) type ClaimLookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// What one request's line is made of.
#[derive(Default)]
pub(crate) struct Entry<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) extended_request_id: &'a str,
    pub(crate) source_ip: &'a str,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) http_method: &'a str,
    /// The route's template, `/pets/{petId}`; `None` for no route.
    pub(crate) resource_path: Option<&'a str>,
    /// `/{stage}/pets/7`.
    pub(crate) path: &'a str,
    pub(crate) protocol: &'a str,
    pub(crate) status: u16,
    pub(crate) response_length: u64,
    /// Milliseconds since the Unix epoch when the request arrived.
    pub(crate) request_time_ms: u128,
    pub(crate) stage: &'a str,
    pub(crate) domain_name: Option<&'a str>,
    pub(crate) claim: Option<&'a ClaimLookup<'a>>,
    /// API Gateway's message for an error answer (`Unauthorized`...).
    pub(crate) error_message: Option<&'a str>,
    pub(crate) error_response_type: Option<&'a str>,
    pub(crate) integration_latency_ms: Option<u128>,
    pub(crate) integration_status: Option<u16>,
    pub(crate) response_latency_ms: u128,
    /// The authorizer's answer: 200, or the rejection's status.
    pub(crate) authorize_status: Option<u16>,
    pub(crate) authorize_latency_ms: Option<u128>,
}

impl AccessLogFormat {
    /// Parses `$context.NAME` variables out of `format`; everything else is
    /// text. Fails on an empty format or one with a line break.
    pub(crate) fn parse(format: &str) -> Result<Self, String> {
        if format.trim().is_empty() {
            return Err("the access log format is empty".into());
        }
        if format.contains(['\n', '\r']) {
            return Err("the access log format must be one line".into());
        }
        const PREFIX: &str = "$context.";
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = format;
        while let Some(at) = rest.find(PREFIX) {
            text.push_str(&rest[..at]);
            let after = &rest[at + PREFIX.len()..];
            let claims = after.starts_with("authorizer.claims.");
            let len = after
                .find(|c: char| {
                    !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || (claims && c == ':'))
                })
                .unwrap_or(after.len());
            // A sentence's full stop is not part of the name.
            let name = after[..len].trim_end_matches('.');
            if name.is_empty() {
                text.push_str(PREFIX);
                rest = after;
                continue;
            }
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Var(Var::parse(name)));
            rest = &after[name.len()..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        let uses_claims = parts.iter().any(|p| matches!(p, Part::Var(Var::Claim(_))));
        Ok(Self { parts, uses_claims })
    }

    /// The line for `entry`, without the line break.
    pub(crate) fn render(&self, entry: &Entry<'_>) -> String {
        let mut out = String::with_capacity(256);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(var) => render_var(&mut out, var, entry),
            }
        }
        out
    }
}

fn render_var(out: &mut String, var: &Var, e: &Entry<'_>) {
    let opt = |out: &mut String, value: Option<&str>| match value {
        Some(v) if !v.is_empty() => escape_into(out, v),
        _ => out.push('-'),
    };
    let num = |out: &mut String, value: Option<u128>| match value {
        Some(v) => {
            let _ = write!(out, "{v}");
        }
        None => out.push('-'),
    };
    match var {
        Var::RequestId => opt(out, Some(e.request_id)),
        Var::ExtendedRequestId => opt(out, Some(e.extended_request_id)),
        Var::SourceIp => opt(out, Some(e.source_ip)),
        Var::UserAgent => opt(out, e.user_agent),
        Var::HttpMethod => opt(out, Some(e.http_method)),
        Var::ResourcePath => opt(out, e.resource_path),
        Var::Path => opt(out, Some(e.path)),
        Var::Protocol => opt(out, Some(e.protocol)),
        Var::Status => num(out, Some(e.status.into())),
        Var::ResponseLength => num(out, Some(e.response_length.into())),
        Var::RequestTime => clf_time(out, e.request_time_ms),
        Var::RequestTimeEpoch => num(out, Some(e.request_time_ms)),
        Var::Stage => opt(out, Some(e.stage)),
        Var::DomainName => opt(out, e.domain_name),
        Var::Claim(name) => {
            let value = e.claim.and_then(|get| get(name));
            opt(out, value.as_deref())
        }
        Var::ErrorMessage => opt(out, e.error_message),
        Var::ErrorMessageString => match e.error_message {
            // AWS's quoted form of the message.
            Some(m) => {
                out.push('"');
                escape_into(out, m);
                out.push('"');
            }
            None => out.push('-'),
        },
        Var::ErrorResponseType => opt(out, e.error_response_type),
        Var::IntegrationLatency => num(out, e.integration_latency_ms),
        Var::IntegrationStatus => num(out, e.integration_status.map(u128::from)),
        Var::ResponseLatency => num(out, Some(e.response_latency_ms)),
        Var::AuthorizeStatus => num(out, e.authorize_status.map(u128::from)),
        Var::AuthorizeLatency => num(out, e.authorize_latency_ms),
        Var::AuthorizeError => opt(
            out,
            e.authorize_status
                .filter(|&s| s != 200)
                .and(e.error_message),
        ),
        Var::Absent => out.push('-'),
    }
}

/// `value` as inside a JSON string: `"`, `\` and control characters escaped.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// `01/Dec/2026:11:43:55 +0000`, the CLF time API Gateway writes (the
/// access log's and `$context.requestTime`).
pub(crate) fn clf_time(out: &mut String, epoch_ms: u128) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = (epoch_ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let _ = write!(
        out,
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
}

/// Year, month (1-12), day of the proleptic Gregorian calendar for days since
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Lines that may wait for the writer thread.
pub(crate) const QUEUE: usize = 16_384;

/// The count of lines dropped because standard output did not keep up.
pub(crate) const DROPPED: &str = "gateway_access_log_dropped_lines_total";

/// How long [`finish`] waits for standard output to take what waits.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);

enum Message {
    Line(String),
    /// Answered once every line sent before it is written.
    Flush(SyncSender<()>),
}

struct Writer {
    lines: SyncSender<Message>,
    dropped: AtomicU64,
    counter: metrics::Counter,
}

static WRITER: OnceLock<Writer> = OnceLock::new();

/// Starts the writer thread (once); after the metrics recorder is
/// installed, so the count is on `/metrics` from the start.
pub(crate) fn start() {
    writer();
}

fn writer() -> &'static Writer {
    WRITER.get_or_init(|| {
        let (lines, queue) = mpsc::sync_channel(QUEUE);
        let spawned = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_lines(&queue));
        if let Err(e) = spawned {
            // Every line is then counted as dropped: the API goes on.
            eprintln!("access log: cannot start its writer thread: {e}");
        }
        metrics::describe_counter!(
            DROPPED,
            "Access-log lines dropped because standard output did not keep up"
        );
        let counter = metrics::counter!(DROPPED);
        counter.absolute(0);
        Writer {
            lines,
            dropped: AtomicU64::new(0),
            counter,
        }
    })
}

/// Queues one line (with its line break) for standard output; drops and
/// counts it when the queue is full.
pub(crate) fn write(line: String) {
    let writer = writer();
    if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
        writer.lines.try_send(Message::Line(line))
    {
        writer.dropped.fetch_add(1, Ordering::Relaxed);
        writer.counter.increment(1);
    }
}

/// The writer thread: whatever waits is written in one go, each batch of
/// whole lines under one lock of standard output.
fn write_lines(queue: &Receiver<Message>) {
    let mut batch = Vec::with_capacity(64 * 1024);
    let mut acks = Vec::new();
    while let Ok(first) = queue.recv() {
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Line(line) => batch.extend_from_slice(line.as_bytes()),
                Message::Flush(ack) => acks.push(ack),
            }
            next = if batch.len() < 64 * 1024 {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        drop(out);
        batch.clear();
        for ack in acks.drain(..) {
            let _ = ack.send(());
        }
    }
}

/// Writes every queued line (waiting at most [`FINISH_TIMEOUT`] for
/// standard output), then reports on standard error how many were dropped.
pub(crate) fn finish() {
    let Some(writer) = WRITER.get() else {
        return;
    };
    let deadline = Instant::now() + FINISH_TIMEOUT;
    let (ack, done) = mpsc::sync_channel(1);
    let mut flush = Message::Flush(ack);
    let flushed = loop {
        match writer.lines.try_send(flush) {
            Ok(()) => {
                break done
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    .is_ok()
            }
            Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                flush = back;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => break false,
        }
    };
    if !flushed {
        eprintln!(
            "access log: standard output did not take the last lines within {FINISH_TIMEOUT:?}"
        );
    }
    let dropped = writer.dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        eprintln!("access log: {dropped} lines dropped (standard output did not keep up)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's CLF example ("Setting up CloudWatch logging for REST APIs").
    const CLF: &str = "$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] \"$context.httpMethod $context.resourcePath $context.protocol\" $context.status $context.responseLength $context.requestId $context.extendedRequestId";

    fn entry() -> Entry<'static> {
        Entry {
            request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            extended_request_id: "Ab1CdEfGhIjKlMn=",
            source_ip: "127.0.0.1",
            user_agent: Some("curl/8.5.0"),
            http_method: "GET",
            resource_path: Some("/pets/{petId}"),
            path: "/prod/pets/7",
            protocol: "HTTP/1.1",
            status: 200,
            response_length: 42,
            // 2026-12-01T11:43:55.123Z
            request_time_ms: 1_796_125_435_123,
            stage: "prod",
            response_latency_ms: 3,
            ..Entry::default()
        }
    }

    #[test]
    fn aws_clf_example_renders_as_aws_writes_it() {
        let format = AccessLogFormat::parse(CLF).unwrap();
        assert_eq!(
            format.render(&entry()),
            "127.0.0.1 - - [01/Dec/2026:11:43:55 +0000] \"GET /pets/{petId} HTTP/1.1\" 200 42 c6af9ac6-7b61-11e6-9a41-93e8deadbeef Ab1CdEfGhIjKlMn="
        );
    }

    #[test]
    fn claims_errors_and_latencies() {
        let format = AccessLogFormat::parse(
            "$context.authorizer.claims.sub $context.authorizer.claims.cognito:username $context.error.message $context.error.messageString $context.integrationLatency $context.responseLatency. $context.wafResponseCode $contextual",
        )
        .unwrap();
        assert!(format.uses_claims);
        let claim = |name: &str| (name == "sub").then(|| "a\"b\nc".to_owned());
        let e = Entry {
            claim: Some(&claim),
            error_message: Some("Unauthorized"),
            integration_latency_ms: Some(17),
            ..entry()
        };
        assert_eq!(
            format.render(&e),
            "a\\\"b\\nc - Unauthorized \"Unauthorized\" 17 3. - $contextual"
        );
    }

    #[test]
    fn formats_are_one_line_and_not_empty() {
        assert!(AccessLogFormat::parse("").is_err());
        assert!(AccessLogFormat::parse("$context.status\n$context.path").is_err());
        assert!(
            !AccessLogFormat::parse("$context.status")
                .unwrap()
                .uses_claims
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let mut s = String::new();
        clf_time(&mut s, 1_709_251_199_000);
        assert_eq!(s, "29/Feb/2024:23:59:59 +0000");
    }
}
