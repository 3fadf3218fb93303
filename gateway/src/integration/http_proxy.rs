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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod body;
mod uri;

use self::body::{LimitedBody, Prefixed};
pub(crate) use self::uri::*;
use super::backend;
use super::deadline::DeadlineBody;
use axum::body::Body;
use http::header::{HeaderName, HeaderValue, HOST};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, Uri};
use http_body::Body as _;
use http_body_util::BodyExt as _;
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

#[cfg(test)]
mod tests;
