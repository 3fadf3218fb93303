//! `http_proxy` integrations (also `connectionType: VPC_LINK`): the request
//! passed to the backend with API Gateway's header changes and
//! `requestParameters`, bodies streamed both ways, `timeoutInMillis`
//! honoured for the head and the body (`deadline.rs`), connections kept by
//! each serving thread (`backend.rs`: HTTP/1.1, and HTTP/2 over TLS by ALPN).
//!
//! A header or query parameter a mapping targets carries the mapped value
//! alone: the client's copies are taken out first, whether the source has a
//! value or not; a path placeholder a mapping targets is never filled from
//! the client's path (see `mapping.rs` for these rules and their reasons).
//!
//! As recorded against AWS (LocalStack's `test_apigateway_header_remapping_http`,
//! `test_http_proxy_integration_request_data_mappings`,
//! `test_import_with_stage_variables`):
//! - `{name}` placeholders in the URI's query string are filled as path
//!   ones are, each value percent-encoded as a query component (a raw path
//!   parameter decoded first, so it is encoded once) **[choice]**: a value
//!   can never add a `&name=` pair;
//! - a `Host` mapped by `requestParameters` is sent in place of the URI's
//!   (the connection still goes to the URI's host, or its
//!   `--integration-base`);
//! - a client body sent chunked that turns out empty goes out with
//!   `Content-Length: 0`, not chunked; a longer one is still streamed;
//! - a URI naming a stage variable that is not set answers every request
//!   500 `{"message": "Internal server error"}` (a startup warning).

use std::borrow::Cow;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::backend;
use super::deadline::DeadlineBody;
use axum::body::Body;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, HOST};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, Uri};
use http_body::{Body as _, Frame};
use http_body_util::BodyExt as _;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::answers::Answer;
use crate::headers;
use crate::mapping::{self, Facts, Mapping, Source, Statics, Target};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// API Gateway's maximum and default integration timeout.
const MAX_TIMEOUT_MS: u64 = 29_000;

/// Where integration URIs are sent instead (`--integration-base FROM=TO`).
pub(crate) type Bases = [(String, String)];

/// What follows `from` in `uri` when `from` is a base of it on a URL
/// boundary: `http://api.internal` is a base of `http://api.internal/x` and
/// `http://api.internal?q`, never of `http://api.internal.evil.example/x`
/// or `http://api.internal:8443/x`; `http://h/v1` never of `http://h/v10`.
fn rest_after_base<'u>(uri: &'u str, from: &str) -> Option<&'u str> {
    let rest = uri.strip_prefix(from)?;
    (rest.is_empty() || from.ends_with('/') || rest.starts_with(['/', '?', '#'])).then_some(rest)
}

/// An `http_proxy` integration, parsed once at startup.
#[derive(Debug)]
pub(crate) struct HttpProxy {
    /// `None` for `ANY`: the client's method.
    pub(crate) method: Option<Method>,
    /// `scheme://authority` the request goes to.
    pub(crate) target: String,
    /// The same, parsed once (`None`: not a valid URI, a 500 per request).
    pub(crate) backend: Option<backend::Key>,
    /// `Host`: the authority of the integration URI as written.
    pub(crate) host: HeaderValue,
    /// The URI's path, `{name}` placeholders still in.
    pub(crate) path: String,
    /// The URI's own query, if any, `{name}` placeholders still in.
    pub(crate) query: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) mappings: Vec<Mapping>,
    /// The header names mappings target, once each: the client's copies are
    /// not sent.
    mapped_headers: Vec<HeaderName>,
    /// The query names mappings target (as the client's are decoded).
    mapped_query: Vec<String>,
    pub(crate) api_id: HeaderValue,
    /// For the startup listing.
    pub(crate) uri: String,
    /// Whether `--integration-base` sends it elsewhere.
    pub(crate) via: bool,
    /// Why every request answers 500, when one does: what AWS deploys and
    /// then answers so (an unset stage variable in the URI, a mapping onto
    /// `Content-Length`).
    pub(crate) fails: Option<String>,
    /// What is served otherwise than the export says (startup warnings).
    pub(crate) warnings: Vec<String>,
}

/// What a request brings besides itself.
pub(crate) struct Call<'a> {
    pub(crate) facts: Facts<'a>,
    pub(crate) max_body_bytes: u64,
}

impl HttpProxy {
    /// Parses the integration; stage variables are substituted now.
    pub(crate) fn parse(
        integration: &Value,
        stage_variables: &HashMap<String, String>,
        bases: &Bases,
        api_id: &str,
    ) -> Result<Self, String> {
        let raw = integration
            .get("uri")
            .and_then(Value::as_str)
            .ok_or("http_proxy: no uri")?;
        let method = match integration.get("httpMethod").and_then(Value::as_str) {
            None => None,
            Some(m) if m.eq_ignore_ascii_case("ANY") => None,
            Some(m) => Some(
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| format!("httpMethod {m:?}: not a method"))?,
            ),
        };
        let timeout_ms = match integration.get("timeoutInMillis") {
            None => MAX_TIMEOUT_MS,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .filter(|ms| (50..=MAX_TIMEOUT_MS).contains(ms))
                .ok_or_else(|| format!("timeoutInMillis {v}: expected 50 to {MAX_TIMEOUT_MS}"))?,
        };
        let parsed = mapping::parse(
            integration.get("requestParameters"),
            &Statics {
                stage_variables,
                api_id,
            },
        )?;
        let mappings = parsed.mappings;
        let mut warnings = parsed.warnings;
        let mut mapped_headers: Vec<HeaderName> = Vec::new();
        let mut mapped_query: Vec<String> = Vec::new();
        for m in &mappings {
            match &m.target {
                Target::Header(name) if !mapped_headers.contains(name) => {
                    mapped_headers.push(name.clone());
                }
                Target::Query(name) if !mapped_query.contains(name) => {
                    mapped_query.push(name.clone());
                }
                _ => {}
            }
        }
        let mut proxy = Self {
            via: false,
            method,
            backend: None,
            target: String::new(),
            host: HeaderValue::from_static("invalid"),
            path: "/".to_owned(),
            query: None,
            timeout: Duration::from_millis(timeout_ms),
            mappings,
            mapped_headers,
            mapped_query,
            api_id: HeaderValue::from_str(api_id).unwrap_or(HeaderValue::from_static("local")),
            uri: raw.to_owned(),
            fails: None,
            warnings: Vec::new(),
        };
        let uri = match substitute(raw, stage_variables)? {
            Ok(uri) => uri,
            Err(unset) => {
                // AWS deploys it and answers each request 500.
                let problem = format!(
                    "uri {raw:?}: stage variable {unset} is not set \
                     (--stage-variable {unset}=...): every request answers 500, as on AWS"
                );
                warnings.insert(0, problem.clone());
                proxy.fails = Some(problem);
                proxy.warnings = warnings;
                return Ok(proxy);
            }
        };
        let (scheme, authority, path, query) = split_uri(&uri)?;
        let host =
            HeaderValue::from_str(authority).map_err(|_| format!("uri {uri:?}: bad host"))?;
        // The first base of the URI wins; Host stays the URI's.
        let rewritten = bases
            .iter()
            .find_map(|(from, to)| rest_after_base(&uri, from).map(|rest| format!("{to}{rest}")));
        let (target, path, query) = match &rewritten {
            Some(rewritten) => {
                let (s, a, p, q) =
                    split_uri(rewritten).map_err(|e| format!("after --integration-base: {e}"))?;
                (format!("{s}://{a}"), p.to_owned(), q.map(str::to_owned))
            }
            None => (
                format!("{scheme}://{authority}"),
                path.to_owned(),
                query.map(str::to_owned),
            ),
        };
        // A template path that is unsafe with any value would answer 500 to
        // every request: say so now.
        let mut sample = String::with_capacity(path.len());
        fill_path_into(&mut sample, &path, |_| Some(Cow::Borrowed("x"))).ok_or_else(|| {
            format!("uri {uri:?}: its path has a dot segment, an empty segment or an unclosed {{")
        })?;
        if let Some(query) = &query {
            fill_query_into(&mut sample, query, |_| Some((Cow::Borrowed("x"), false)))
                .ok_or_else(|| format!("uri {uri:?}: its query has an unclosed {{"))?;
        }
        proxy.backend = target
            .parse::<Uri>()
            .ok()
            .as_ref()
            .and_then(backend::key_of);
        proxy.via = rewritten.is_some();
        proxy.target = target;
        proxy.host = host;
        proxy.path = path;
        proxy.query = query;
        proxy.uri = uri;
        proxy.fails = parsed.fails;
        proxy.warnings = warnings;
        Ok(proxy)
    }

    /// For the startup listing: `http_proxy GET http://... (timeout 29000 ms)`.
    pub(crate) fn describe(&self) -> String {
        let method = self.method.as_ref().map_or("ANY", Method::as_str);
        let via = if self.via {
            format!(" via {}", self.target)
        } else {
            String::new()
        };
        match &self.fails {
            Some(_) => format!(
                "http_proxy {method} {}{via} (answers 500: see the warning)",
                self.uri
            ),
            None => format!(
                "http_proxy {method} {}{via} (timeout {} ms)",
                self.uri,
                self.timeout.as_millis()
            ),
        }
    }

    /// The value for the placeholder `{name}` of the URI's path or query,
    /// and whether it is a raw path parameter of the method request:
    /// `integration.request.path.name` (no value: `None`, a 500), else, when
    /// no mapping targets it, the path parameter of the same name (raw, as
    /// authorized).
    pub(crate) fn placeholder<'f>(
        &'f self,
        facts: &Facts<'f>,
        name: &str,
    ) -> Option<(Cow<'f, str>, bool)> {
        let mapped = self
            .mappings
            .iter()
            .find(|m| matches!(&m.target, Target::Path(n) if n == name));
        match mapped {
            Some(m) => Some((
                m.source.value(facts)?,
                matches!(m.source, Source::PathParam(_)),
            )),
            None => Some((param(facts.path_params, name)?, true)),
        }
    }

    /// Sends the request to the backend and streams its answer back.
    pub(crate) async fn call(
        &self,
        parts: &http::request::Parts,
        body: Body,
        call: Call<'_>,
    ) -> Result<Response<Body>, Answer> {
        if self.fails.is_some() {
            return Err(Answer::ApiConfigurationError);
        }
        let facts = &call.facts;
        let method = self.method.clone().unwrap_or(parts.method.clone());

        // Host, X-Amzn-Trace-Id, X-Amzn-Apigateway-Api-Id, X-Forwarded-For
        // and the mapped headers.
        let mut headers = headers::to_backend(&parts.headers, 4 + self.mappings.len());
        // A mapped name is the mapping's alone, even when its source is
        // absent: the client's copies go first.
        for name in &self.mapped_headers {
            headers.remove(name);
        }
        for m in &self.mappings {
            let Target::Header(name) = &m.target else {
                continue;
            };
            let Some(value) = m.source.value(facts) else {
                continue; // an absent claim (or parameter) leaves the target out
            };
            // CR, LF, NUL...: never forwarded.
            let value = HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| Answer::ApiConfigurationError)?;
            headers.insert(name.clone(), value);
        }
        // The origin-form target, written in one string: the path, then the
        // URI's own query, the client's, and the mapped pairs. The backend's
        // scheme and authority were parsed at startup.
        let backend = self.backend.as_ref().ok_or(Answer::ApiConfigurationError)?;
        let client_query = parts.uri.query().filter(|q| !q.is_empty());
        let mut target = String::with_capacity(
            self.path.len()
                + 16
                + self.query.as_ref().map_or(0, |q| q.len() + 1)
                + client_query.map_or(0, |q| q.len() + 1)
                + self.mappings.len() * 16,
        );
        fill_path_into(&mut target, &self.path, |name| {
            let (value, raw) = self.placeholder(facts, name)?;
            path_value(value, raw)
        })
        .ok_or(Answer::ApiConfigurationError)?;
        let mut separator = '?';
        if let Some(q) = self.query.as_deref() {
            target.push(separator);
            fill_query_into(&mut target, q, |name| self.placeholder(facts, name))
                .ok_or(Answer::ApiConfigurationError)?;
            separator = '&';
        }
        if let Some(q) = client_query {
            if self.mapped_query.is_empty() {
                target.push(separator);
                target.push_str(q);
                separator = '&';
            } else {
                // The client's pairs as they came, but for mapped names.
                for pair in q.split('&').filter(|p| !p.is_empty()) {
                    if !names_a_mapped_parameter(pair, &self.mapped_query) {
                        target.push(separator);
                        target.push_str(pair);
                        separator = '&';
                    }
                }
            }
        }
        for m in &self.mappings {
            let Target::Query(name) = &m.target else {
                continue;
            };
            let Some(value) = m.source.value(facts) else {
                continue;
            };
            target.push(separator);
            encode_into(&mut target, name);
            target.push('=');
            encode_into(&mut target, &value);
            separator = '&';
        }
        // From the `String` itself: parsing a `&str` would copy it.
        let uri = PathAndQuery::try_from(target)
            .map(Uri::from)
            .map_err(|_| Answer::ApiConfigurationError)?;

        // A mapped Host wins over the URI's (recorded).
        if !headers.contains_key(HOST) {
            headers.insert(HOST, self.host.clone());
        }
        headers.insert(
            headers::X_AMZN_TRACE_ID,
            headers::trace_header(
                &parts.headers,
                facts.request_id,
                (facts.request_time_epoch / 1000) as u64,
            ),
        );
        headers.insert(headers::X_AMZN_APIGATEWAY_API_ID, self.api_id.clone());
        // The client's entries, then its address: one field, the gateway's
        // entry last (super::forwarded_for).
        if let Some(value) = super::forwarded_for(&headers, facts.source_ip) {
            headers.insert(headers::X_FORWARDED_FOR, value);
        }

        // One deadline for the head and the body (see `deadline.rs`).
        let deadline = tokio::time::Instant::now() + self.timeout;
        let body = match tokio::time::timeout_at(deadline, unless_empty(body)).await {
            Err(_) => return Err(Answer::IntegrationTimeout),
            Ok(Err(_)) => return Err(Answer::IntegrationFailure),
            Ok(Ok(body)) => body,
        };
        if body.is_end_stream() {
            set_empty_length(&mut headers, &method);
        }
        let tripped = Arc::new(AtomicBool::new(false));
        let body = Body::new(LimitedBody {
            inner: body,
            seen: 0,
            limit: call.max_body_bytes,
            tripped: Arc::clone(&tripped),
        });
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;

        let response = match tokio::time::timeout_at(deadline, backend::send_to(backend, request))
            .await
        {
            Err(_) => return Err(Answer::IntegrationTimeout),
            Ok(Err(_)) if tripped.load(Ordering::Relaxed) => return Err(Answer::RequestTooLarge),
            Ok(Err(_)) => return Err(Answer::IntegrationFailure),
            Ok(Ok(response)) => response,
        };
        let (mut parts, body) = response.into_parts();
        parts.headers = headers::from_backend(std::mem::take(&mut parts.headers));
        Ok(Response::from_parts(
            parts,
            Body::new(DeadlineBody::new(body, deadline)),
        ))
    }
}

/// The client's body, or an empty one of known length when a body of
/// unknown length (chunked) turns out empty: AWS sends it with
/// `Content-Length: 0`, as it does any body it has read whole. Only a body
/// of unknown length is waited for (its first frame): one with a length,
/// or none, passes as it is.
async fn unless_empty(mut body: Body) -> Result<Body, axum::Error> {
    if body.is_end_stream() || body.size_hint().exact().is_some() {
        return Ok(body);
    }
    match body.frame().await {
        None => Ok(Body::empty()),
        Some(Err(e)) => Err(e),
        Some(Ok(first)) => Ok(Body::new(Prefixed {
            first: Some(first),
            rest: body,
        })),
    }
}

/// `Content-Length: 0` on a request without a body whose method carries
/// one (POST, PUT, PATCH), unless it has a length already: AWS sends it
/// (recorded), where hyper would send no length at all for an empty body.
pub(crate) fn set_empty_length(headers: &mut http::HeaderMap, method: &Method) {
    if matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
        headers
            .entry(http::header::CONTENT_LENGTH)
            .or_insert(HeaderValue::from_static("0"));
    }
}

/// A body whose first frame was read already.
struct Prefixed {
    first: Option<Frame<Bytes>>,
    rest: Body,
}

impl http_body::Body for Prefixed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.first.take() {
            Some(frame) => Poll::Ready(Some(Ok(frame))),
            None => Pin::new(&mut self.rest).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none() && self.rest.is_end_stream()
    }
}

/// `${stageVariables.NAME}` replaced: `Ok(Err(name))` names the first
/// variable that is not set; `Err` is a malformed reference.
fn substitute(uri: &str, vars: &HashMap<String, String>) -> Result<Result<String, String>, String> {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(at) = rest.find("${stageVariables.") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "${stageVariables.".len()..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("uri {uri:?}: unclosed ${{stageVariables."))?;
        let name = &after[..end];
        let Some(value) = vars.get(name) else {
            return Ok(Err(name.to_owned()));
        };
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Ok(out))
}

/// `${stageVariables.NAME}` replaced; an unset variable is an error (for
/// `aws_proxy` URIs, which name the function).
pub(crate) fn substitute_stage_variables(
    uri: &str,
    vars: &HashMap<String, String>,
) -> Result<String, String> {
    substitute(uri, vars)?.map_err(|name| {
        format!("uri {uri:?}: stage variable {name} is not set (--stage-variable {name}=...)")
    })
}

/// `scheme`, `authority`, `path` (at least `/`) and query of a URI whose path
/// may hold `{name}` placeholders.
fn split_uri(uri: &str) -> Result<(&str, &str, &str, Option<&str>), String> {
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| format!("uri {uri:?}: expected http:// or https://"))?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!("uri {uri:?}: expected http:// or https://"));
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("uri {uri:?}: bad host"));
    }
    let rest = &rest[end..];
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    Ok((scheme, authority, path, query))
}

/// Whether a raw query pair names one of `names`: its name decoded, and
/// every `;`-separated piece of it read as a pair too (backends that still
/// split there would find the name in `x=1;tenant=victim`).
fn names_a_mapped_parameter(pair: &str, names: &[String]) -> bool {
    pair.split(';').any(|piece| {
        let name = piece.split_once('=').map_or(piece, |(n, _)| n);
        if name.contains(['%', '+']) {
            names.contains(&decode(name))
        } else {
            names.iter().any(|n| n == name)
        }
    })
}

/// A value for a path placeholder as it is sent: `None` (a 500) when it
/// holds a dot segment (checked before encoding: see `mapping.rs`);
/// percent-encoded, `/` included, unless it is a path parameter of the
/// method request, which stays as the client encoded it and as it was
/// authorized.
pub(crate) fn path_value(value: Cow<'_, str>, from_the_path: bool) -> Option<Cow<'_, str>> {
    if mapping::has_dot_segment(&value) {
        return None;
    }
    Some(if from_the_path {
        value
    } else {
        Cow::Owned(encode(&value))
    })
}

/// The path with each `{name}` (or `{name+}`) filled from `values` (names
/// first to last, the first of a name wins), each through [`path_value`];
/// `None` when a value is missing or the path is not safe to send.
#[cfg(test)]
pub(crate) fn fill_path(template: &str, values: &[(&str, &str, bool)]) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 16);
    fill_path_into(&mut out, template, |name| {
        let &(_, value, from_the_path) = values.iter().find(|(n, _, _)| *n == name)?;
        path_value(Cow::Borrowed(value), from_the_path)
    })?;
    Some(out)
}

/// The path parameter `name`, as it came.
fn param<'a>(params: &[(&'a str, &'a str)], name: &str) -> Option<Cow<'a, str>> {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, v)| Cow::Borrowed(v))
}

/// The path with each `{name}` (or `{name+}`) filled from `value`, appended
/// to `out`; `None` when a value is missing or the filled path is not safe
/// to send (`mapping::is_safe_backend_path`: a dot or empty segment).
pub(crate) fn fill_path_into<'v>(
    out: &mut String,
    template: &str,
    mut value: impl FnMut(&str) -> Option<Cow<'v, str>>,
) -> Option<()> {
    let start = out.len();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        let name = rest[open + 1..close].trim_end_matches('+');
        out.push_str(&value(name)?);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    mapping::is_safe_backend_path(&out[start..]).then_some(())
}

/// The URI's query with each `{name}` (or `{name+}`) filled from `value` (a
/// value and whether it is a raw path parameter), appended to `out`, each
/// value percent-encoded as a query component (a raw path parameter
/// decoded first, so it is encoded once): a value never adds a pair.
/// `None` when a value is missing or a `{` is unclosed.
pub(crate) fn fill_query_into<'v>(
    out: &mut String,
    template: &str,
    mut value: impl FnMut(&str) -> Option<(Cow<'v, str>, bool)>,
) -> Option<()> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        let name = rest[open + 1..close].trim_end_matches('+');
        let (value, raw) = value(name)?;
        if raw {
            encode_into(out, &percent_decode_str(&value).decode_utf8_lossy());
        } else {
            encode_into(out, &value);
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(())
}

/// RFC 3986's unreserved characters: all that is left as is.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes all but RFC 3986's unreserved characters.
pub(crate) fn encode(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// [`encode`], appending to `out`.
pub(crate) fn encode_into(out: &mut String, text: &str) {
    out.extend(utf8_percent_encode(text, UNRESERVED));
}

/// Decodes `%XX` (and `+` as a space, as query strings write it); a `%`
/// without two hex digits stays as it is.
pub(crate) fn decode(text: &str) -> String {
    // `+` first: an encoded `%2B` is a plus, not a space.
    let spaced: Cow<'_, str> = if text.contains('+') {
        Cow::Owned(text.replace('+', " "))
    } else {
        Cow::Borrowed(text)
    };
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// The request body, cut off past the limit (the flag tells why the send
/// failed).
struct LimitedBody {
    inner: Body,
    seen: u64,
    limit: u64,
    tripped: Arc<AtomicBool>,
}

impl http_body::Body for LimitedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.seen += data.len() as u64;
                    if self.seen > self.limit {
                        self.tripped.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err("request body over the limit".into())));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    /// `--integration-base` matches on a URL boundary, not a string prefix.
    #[test]
    fn integration_bases_match_on_url_boundaries() {
        use super::rest_after_base as rest;
        let base = "http://api.internal";
        assert_eq!(rest("http://api.internal", base), Some(""));
        assert_eq!(rest("http://api.internal/x/y", base), Some("/x/y"));
        assert_eq!(rest("http://api.internal?q=1", base), Some("?q=1"));
        assert_eq!(rest("http://api.internal.evil.example/x", base), None);
        assert_eq!(rest("http://api.internal:8443/x", base), None);
        assert_eq!(rest("http://api.internalx/x", base), None);
        assert_eq!(rest("http://h/v10/x", "http://h/v1"), None);
        assert_eq!(rest("http://h/v1/x", "http://h/v1"), Some("/x"));
        assert_eq!(rest("http://h/v1/x", "http://h/v1/"), Some("x"));
        assert_eq!(rest("http://other/x", base), None);
    }

    use super::*;

    #[test]
    fn uris_split_and_fill() {
        let (s, a, p, q) = split_uri("http://backend:8080/pets/{petId}?x=1").unwrap();
        assert_eq!(
            (s, a, p, q),
            ("http", "backend:8080", "/pets/{petId}", Some("x=1"))
        );
        assert_eq!(split_uri("https://h").unwrap().2, "/");
        assert!(split_uri("ftp://h/").is_err());
        assert!(split_uri("http://user@h/").is_err());
        let values = [
            ("petId", "7", true),
            ("proxy", "a/b%20c", true),
            ("doc", "a/b c", false),
            ("dots", "..", false),
            ("tomcat", "..;x", true),
            ("empty", "", false),
        ];
        assert_eq!(fill_path("/pets/{petId}", &values).unwrap(), "/pets/7");
        assert_eq!(fill_path("/f/{proxy+}", &values).unwrap(), "/f/a/b%20c");
        // A mapped `/` stays inside its segment.
        assert_eq!(fill_path("/d/{doc}", &values).unwrap(), "/d/a%2Fb%20c");
        assert_eq!(fill_path("/x/{nope}", &values), None);
        assert_eq!(fill_path("/x/{petId", &values), None);
        for refused in ["/d/{dots}", "/d/{tomcat}", "/d/{empty}/x", "/d/.{petId}/."] {
            assert_eq!(fill_path(refused, &values), None, "{refused}");
        }
        assert_eq!(fill_path("/d/{empty}", &values).unwrap(), "/d/");
    }

    #[test]
    fn query_placeholders_are_filled_as_one_component_each() {
        let fill = |template: &str, values: &[(&str, &str, bool)]| {
            let mut out = String::new();
            fill_query_into(&mut out, template, |name| {
                let &(_, v, raw) = values.iter().find(|(n, _, _)| *n == name)?;
                Some((Cow::Borrowed(v), raw))
            })
            .map(|()| out)
        };
        let values = [
            ("pathVar", "a%26b%3D1", true),
            ("qsVar", "x&y=1 z", false),
            ("plain", "foobar", true),
        ];
        assert_eq!(
            fill("testVar={pathVar}&testQs={qsVar}&p={plain+}", &values).unwrap(),
            "testVar=a%26b%3D1&testQs=x%26y%3D1%20z&p=foobar"
        );
        assert_eq!(fill("a=1&b=2", &values).unwrap(), "a=1&b=2");
        assert_eq!(fill("a={nope}", &values), None);
        assert_eq!(fill("a={plain", &values), None);
    }

    #[test]
    fn mapped_query_names_are_matched_decoded_and_case_sensitively() {
        let names = ["tenant".to_owned()];
        for pair in [
            "tenant=a",
            "tenant",
            "tenant=",
            "ten%61nt=a",
            "%74enant=a",
            "x=1;tenant=a",
        ] {
            assert!(names_a_mapped_parameter(pair, &names), "{pair}");
        }
        for pair in [
            "Tenant=a",
            "tenants=a",
            "x=tenant",
            "tenant%3D=a",
            "t+enant=a",
        ] {
            assert!(!names_a_mapped_parameter(pair, &names), "{pair}");
        }
    }

    #[test]
    fn a_uri_path_unsafe_with_any_value_is_a_startup_error() {
        let vars = HashMap::new();
        for uri in [
            "http://h/a/../{x}",
            "http://h/a/{x}/.",
            "http://h//a",
            "http://h/a/{x",
        ] {
            let integration = serde_json::json!({ "uri": uri });
            let err = HttpProxy::parse(&integration, &vars, &[], "api").unwrap_err();
            assert!(err.contains("dot segment"), "{uri}: {err}");
        }
        let integration = serde_json::json!({ "uri": "http://h/a/{x}/" });
        assert!(HttpProxy::parse(&integration, &vars, &[], "api").is_ok());
    }

    /// What AWS deploys and answers 500 per request parses, failing, with
    /// its warning (`test_import_with_stage_variables`,
    /// `test_apigateway_header_remapping_http`).
    #[test]
    fn unset_stage_variables_and_framing_mappings_fail_every_request() {
        let vars = HashMap::new();
        let unset =
            serde_json::json!({"uri": "https://${stageVariables.TestHost}/p?${stageVariables.q}"});
        let proxy = HttpProxy::parse(&unset, &vars, &[], "api").unwrap();
        let fails = proxy.fails.as_deref().unwrap();
        assert!(
            fails.contains("stage variable TestHost is not set"),
            "{fails}"
        );
        assert_eq!(proxy.warnings, [fails]);
        assert!(
            proxy.describe().contains("answers 500"),
            "{}",
            proxy.describe()
        );
        let framing = serde_json::json!({
            "uri": "http://h/p",
            "requestParameters": {"integration.request.header.Content-Length": "'0'"}
        });
        let proxy = HttpProxy::parse(&framing, &vars, &[], "api").unwrap();
        assert!(proxy.fails.unwrap().contains("frames the body"));
        let malformed = serde_json::json!({"uri": "http://${stageVariables.h/p"});
        assert!(HttpProxy::parse(&malformed, &vars, &[], "api")
            .unwrap_err()
            .contains("unclosed"));
    }

    #[test]
    fn stage_variables_are_substituted() {
        let vars = HashMap::from([("host".to_owned(), "127.0.0.1:9".to_owned())]);
        assert_eq!(
            substitute_stage_variables("http://${stageVariables.host}/a", &vars).unwrap(),
            "http://127.0.0.1:9/a"
        );
        assert!(
            substitute_stage_variables("http://${stageVariables.nope}/", &vars)
                .unwrap_err()
                .contains("nope")
        );
    }

    #[test]
    fn percent_coding() {
        assert_eq!(encode("a b/ü"), "a%20b%2F%C3%BC");
        assert_eq!(decode("a%20b+c%2f%zz%"), "a b c/%zz%");
    }
}
