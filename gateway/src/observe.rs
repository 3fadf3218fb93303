//! Each request seen from outside the pipeline: its tracing span, its
//! `http_server_request_duration_seconds` sample and its access-log line,
//! all finished when the response body has been sent (or dropped).
//!
//! The pipeline tells what only it sees through [`Seen`] in the request's
//! extensions: the verified claims and the integration's timing
//! ([`integration_started`], [`integration_finished`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::{ArcSwap, ArcSwapOption};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http::{Method, Version};
use http_body::{Frame, SizeHint};
use tower_cognito::claims::CognitoClaims;
use tower_cognito::{AuthError, MatchedRoute, ResponseType};
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::access_log::{AccessLogFormat, ClaimLookup, Entry};
use crate::answers::Answer;
use crate::config::Deployment;
use crate::ids::RequestIds;
use crate::path_safety;

/// The histogram of every request's duration (OpenTelemetry's
/// `http.server.request.duration`, in seconds).
pub(crate) const REQUEST_DURATION: &str = "http_server_request_duration_seconds";

/// What the observation layer needs, shared by every request.
pub(crate) struct Observer {
    pub(crate) current: Arc<ArcSwap<Deployment>>,
    pub(crate) access_log: Option<AccessLogFormat>,
    /// Whether a recorder takes the duration histogram.
    pub(crate) metrics: bool,
    pub(crate) stage: String,
    authorizers: ArcSwapOption<RouteAuthorizers>,
    /// Duration histograms by (method, status), then route template: each
    /// label set's handle is registered once, not looked up per request.
    durations: RwLock<Durations>,
}

/// `http_server_request_duration_seconds` handles by (method label,
/// status), then by route template.
type Durations = HashMap<(&'static str, u16), HashMap<String, metrics::Histogram>>;

/// Each route's authorizer, for the deployment it was made from.
struct RouteAuthorizers {
    deployment: Arc<Deployment>,
    by_route: HashMap<String, Option<String>>,
}

impl Observer {
    pub(crate) fn new(
        current: Arc<ArcSwap<Deployment>>,
        access_log: Option<AccessLogFormat>,
        metrics: bool,
        stage: String,
    ) -> Self {
        Self {
            current,
            access_log,
            metrics,
            stage,
            authorizers: ArcSwapOption::empty(),
            durations: RwLock::default(),
        }
    }

    /// Records one request's duration under its labels.
    fn record_duration(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let key = (method_label(method), status);
        let read = self.durations.read().unwrap_or_else(|e| e.into_inner());
        if let Some(histogram) = read.get(&key).and_then(|by_route| by_route.get(route)) {
            histogram.record(seconds);
            return;
        }
        drop(read);
        let histogram = metrics::histogram!(
            REQUEST_DURATION,
            "http_request_method" => key.0,
            // The resource path template: `/pets/{petId}`, never the path.
            "http_route" => route.to_owned(),
            "http_response_status_code" => status.to_string(),
        );
        histogram.record(seconds);
        self.durations
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .insert(route.to_owned(), histogram);
    }

    /// The authorizer checking `route` (`None` for a public route), rebuilt
    /// once per deployment.
    fn authorizer_of(&self, deployment: &Arc<Deployment>, route: &MatchedRoute) -> Option<String> {
        let cached = self.authorizers.load();
        let table = match &*cached {
            Some(t) if Arc::ptr_eq(&t.deployment, deployment) => Arc::clone(t),
            _ => {
                let summary = &deployment.summary;
                let default = summary.authorizers.iter().find(|a| a.is_default);
                let by_route = summary
                    .routes
                    .iter()
                    .map(|r| {
                        let name = (!r.policy.is_public()).then(|| {
                            r.policy
                                .authorizer_name()
                                .map(str::to_owned)
                                .or_else(|| default.map(|a| a.name.clone()))
                                .unwrap_or_default()
                        });
                        (r.route.as_str().to_owned(), name)
                    })
                    .collect();
                let table = Arc::new(RouteAuthorizers {
                    deployment: Arc::clone(deployment),
                    by_route,
                });
                self.authorizers.store(Some(Arc::clone(&table)));
                table
            }
        };
        table.by_route.get(route.as_str()).cloned().flatten()
    }
}

/// What the pipeline saw of one request.
#[derive(Default)]
pub(crate) struct Seen {
    claims: OnceLock<CognitoClaims>,
    integration_start: OnceLock<Instant>,
    /// Duration and status of the integration's answer.
    integration: OnceLock<(Duration, u16)>,
}

/// Called as the integration starts: notes the time and the claims.
pub(crate) fn integration_started<B>(req: &http::Request<B>) -> Option<Arc<Seen>> {
    let seen = req.extensions().get::<Arc<Seen>>()?;
    let _ = seen.integration_start.set(Instant::now());
    if let Some(claims) = req.extensions().get::<CognitoClaims>() {
        let _ = seen.claims.set(claims.clone());
    }
    Some(Arc::clone(seen))
}

/// Called with the integration's answer.
pub(crate) fn integration_finished<B>(seen: Option<Arc<Seen>>, res: &http::Response<B>) {
    if let Some(seen) = seen {
        if let Some(start) = seen.integration_start.get() {
            let _ = seen
                .integration
                .set((start.elapsed(), res.status().as_u16()));
        }
    }
}

/// The span of an integration call.
pub(crate) fn integration_span(route: Option<&MatchedRoute>) -> Span {
    tracing::info_span!(
        "integration",
        route = route.map_or("", MatchedRoute::as_str)
    )
}

/// The observation layer (`axum::middleware::from_fn_with_state`).
pub(crate) async fn observe(
    State(observer): State<Arc<Observer>>,
    mut req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let epoch_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let deployment = observer.current.load_full();
    let method = req.method().clone();
    let routable = req.uri().scheme().is_none()
        && req.uri().authority().is_none()
        && path_safety::is_safe(req.uri().path());
    let route = routable
        .then(|| deployment.layer.route_for(&method, req.uri().path()))
        .flatten()
        .cloned();
    let authorizer = route
        .as_ref()
        .and_then(|r| observer.authorizer_of(&deployment, r));
    drop(deployment);
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = route.as_ref().map_or("", MatchedRoute::as_str),
        authorizer = authorizer.as_deref().unwrap_or(""),
        outcome = Empty,
        reason = Empty,
        status = Empty,
        verify_us = Empty,
        trace_id = Empty,
    );
    if let Some(trace_id) = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(trace_id)
    {
        span.record("trace_id", trace_id);
    }
    let seen = Arc::new(Seen::default());
    req.extensions_mut().insert(Arc::clone(&seen));
    let log = observer.access_log.as_ref().map(|_| LogFacts::of(&req));

    let res = next.run(req).instrument(span.clone()).await;

    let kind = res.extensions().get::<AuthError>().map(AuthError::kind);
    let answer = res
        .extensions()
        .get::<Answer>()
        .copied()
        .or_else(|| kind.map(answer_of));
    let (outcome, reason) = match kind {
        Some(kind) => ("denied", kind.code()),
        None if seen.claims.get().is_some() => ("allowed", "none"),
        // A public route, `--auth off`, or refused before the authorizer.
        None => ("skipped", "none"),
    };
    let verify = seen
        .integration_start
        .get()
        .map_or_else(|| start.elapsed(), |at| at.duration_since(start));
    span.record("outcome", outcome);
    span.record("reason", reason);
    span.record("status", res.status().as_u16());
    span.record("verify_us", verify.as_micros() as u64);

    let done = Done {
        observer,
        start,
        epoch_ms,
        method,
        route,
        status: res.status().as_u16(),
        answer,
        authorized: authorizer.is_some().then_some(match kind {
            Some(_) => (res.status().as_u16(), verify),
            None => (200, verify),
        }),
        seen,
        log,
        _span: span,
    };
    let (parts, body) = res.into_parts();
    Response::from_parts(
        parts,
        Body::new(Counted {
            inner: body,
            bytes: 0,
            done: Some(done),
        }),
    )
}

/// What the access log takes from the request before it moves on.
struct LogFacts {
    source_ip: String,
    user_agent: Option<String>,
    host: Option<String>,
    path: String,
    protocol: &'static str,
    ids: Option<RequestIds>,
}

impl LogFacts {
    fn of(req: &Request) -> Self {
        let header = |name| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            source_ip: req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default(),
            user_agent: header(http::header::USER_AGENT),
            host: header(http::header::HOST),
            path: req.uri().path().to_owned(),
            protocol: protocol(req.version()),
            ids: req.extensions().get::<RequestIds>().cloned(),
        }
    }
}

fn protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// The trace ID of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), if
/// well formed and not all zeros.
fn trace_id(value: &str) -> Option<&str> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let ok = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && hex(parent, 16)
        && hex(flags, 2);
    ok.then_some(trace)
}

/// The answer a library rejection stands for.
fn answer_of(kind: tower_cognito::RejectionKind) -> Answer {
    match kind.response_type() {
        ResponseType::ExpiredToken => Answer::ExpiredToken,
        ResponseType::AuthorizerConfigurationError => Answer::AuthorizerConfigurationError,
        ResponseType::MissingAuthenticationToken => Answer::MissingAuthenticationToken,
        _ => Answer::Unauthorized,
    }
}

/// OpenTelemetry's `http.request.method`: the known methods, `_OTHER` for
/// the rest (a label a client cannot multiply).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}

/// Everything the end of a request needs.
struct Done {
    observer: Arc<Observer>,
    start: Instant,
    epoch_ms: u128,
    method: Method,
    route: Option<MatchedRoute>,
    status: u16,
    answer: Option<Answer>,
    /// The authorizer's status and the time until its decision.
    authorized: Option<(u16, Duration)>,
    seen: Arc<Seen>,
    log: Option<LogFacts>,
    /// Held until the body ends, so the span covers the whole request.
    _span: Span,
}

impl Done {
    fn finish(self, bytes: u64) {
        let elapsed = self.start.elapsed();
        if self.observer.metrics {
            self.observer.record_duration(
                &self.method,
                self.route.as_ref().map_or("", MatchedRoute::template),
                self.status,
                elapsed.as_secs_f64(),
            );
        }
        let (Some(format), Some(log)) = (&self.observer.access_log, &self.log) else {
            return;
        };
        let ids = log.ids.as_ref();
        let claims = self.seen.claims.get();
        let claim = |name: &str| {
            claims
                .and_then(|c| c.api_gateway().get(name))
                .map(str::to_owned)
        };
        let message = self.answer.and_then(|a| a.message());
        let path = format!("/{}{}", self.observer.stage, log.path);
        let integration = self.seen.integration.get();
        let entry = Entry {
            request_id: ids.map_or("", RequestIds::request_id),
            extended_request_id: ids.map_or("", RequestIds::apigw_id),
            source_ip: &log.source_ip,
            user_agent: log.user_agent.as_deref(),
            http_method: self.method.as_str(),
            resource_path: self.route.as_ref().map(MatchedRoute::template),
            path: &path,
            protocol: log.protocol,
            status: self.status,
            response_length: bytes,
            request_time_ms: self.epoch_ms,
            stage: &self.observer.stage,
            domain_name: log.host.as_deref(),
            claim: format.uses_claims.then_some(&claim as &ClaimLookup<'_>),
            error_message: message,
            error_response_type: self.answer.map(Answer::type_name),
            integration_latency_ms: integration.map(|(d, _)| d.as_millis()),
            integration_status: integration.map(|(_, s)| *s),
            response_latency_ms: elapsed.as_millis(),
            authorize_status: self.authorized.map(|(s, _)| s),
            authorize_latency_ms: self.authorized.map(|(_, d)| d.as_millis()),
        };
        let mut line = format.render(&entry);
        line.push('\n');
        // Written off the serving thread, whole (see `access_log`).
        crate::access_log::write(line);
    }
}

/// The response body, counted; the request is finished when it ends or is
/// dropped (a client gone mid-body).
struct Counted {
    inner: Body,
    bytes: u64,
    done: Option<Done>,
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) => self.end(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Counted {
    fn end(&mut self) {
        if let Some(done) = self.done.take() {
            done.finish(self.bytes);
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.end();
    }
}
