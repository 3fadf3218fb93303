//! `http` (non-proxy) integrations: the backend gets what the integration
//! builds, not the client's request, and the client gets what the chosen
//! integration response builds from the backend's answer.
//!
//! Toward the backend:
//! - the method (`httpMethod`, or the client's for `ANY`), the `uri` with
//!   stage variables substituted at startup and `{name}` filled from
//!   `integration.request.path.name`, and `--integration-base` applied, as
//!   for `http_proxy` (whose client, pool and timeout are shared);
//! - only the headers and query parameters `requestParameters` map, plus
//!   `$context.requestOverride.header|querystring|path.NAME` set by the
//!   request template (an override wins over a mapping of the same name);
//!   the client's own headers and query are not passed, as on AWS; a path
//!   placeholder with no value (its mapping's source absent, no override)
//!   is a 500, and so is a value or filled path with a dot segment
//!   (`mapping.rs`): the request is never sent;
//! - `Host` (the URI's, unless a mapping sets it: recorded),
//!   `X-Amzn-Trace-Id` (the client's trace, completed, else the gateway's:
//!   `headers::trace_header`), `X-Amzn-Apigateway-Api-Id`, `Accept:
//!   application/json` and `User-Agent: AmazonAPIGateway_<api id>` unless a
//!   mapping targets them (recorded, `test_http_integration_method`,
//!   `test_apigateway_header_remapping_http`), and `Content-Type`: the
//!   chosen template's type, or the client's when a non-empty body passes
//!   through (an empty one goes without, as recorded), unless a mapping
//!   targets it (the mapped name is the mapping's);
//! - `{name}` placeholders of the URI's query string filled as in
//!   `http_proxy` (recorded);
//! - the body: the request template's output ([`super::templates`]), the
//!   client's body as it is when it passes through, or 415.
//!
//! Back to the client ([`super::responses`]): the integration response
//! selected by the backend's status code, its status, mapped headers and
//! template; the backend's own headers only through `responseParameters`;
//! and the `X-Amzn-Trace-Id` sent to the backend (AWS answers one on `http`
//! integrations, recorded). No response selected: 500 `{"message":
//! "Internal server error"}`.
//!
//! **[choice]** An override naming `Host`, `Content-Length`,
//! `Transfer-Encoding` or `Connection`, or a value that is no valid header
//! value (CR, LF, NUL), is a 500: the request is never sent. A backend body
//! over 10 MB (API Gateway's payload limit) is a 500 too. The timeout
//! (`timeoutInMillis`) covers the whole exchange, body included.

use std::borrow::Cow;

use axum::body::Body;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderMap, Method, Request, Response, Uri};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;

use super::http_proxy::{
    encode_into, fill_path_into, fill_query_into, path_value, set_empty_length, HttpProxy,
};
use super::responses::{Backend, Responses};
use super::templates::{self, sorted, Choice, Extra, RequestTemplates, Scratch};
use super::ParseContext;
use crate::answers::Answer;
use crate::headers;
use crate::mapping::{Facts, Source, Target};
use crate::template::ErrorKind;

/// API Gateway's payload limit, for the backend's answer.
const MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;

/// Headers a template may not set on the backend request.
const NOT_OVERRIDABLE: [HeaderName; 4] = [
    HOST,
    http::header::CONTENT_LENGTH,
    http::header::TRANSFER_ENCODING,
    http::header::CONNECTION,
];

/// An `http` integration, parsed once at startup.
#[derive(Debug)]
pub(crate) struct Http {
    /// URI, method, timeout and `requestParameters`, parsed as for
    /// `http_proxy`.
    endpoint: HttpProxy,
    templates: RequestTemplates,
    responses: Responses,
    stage_variables: Vec<(String, String)>,
    api_id: String,
    /// `Accept` and `User-Agent` as AWS sends them, but for those a mapping
    /// targets.
    defaults: Vec<(HeaderName, HeaderValue)>,
    /// Whether a mapping targets `Content-Type`.
    content_type_mapped: bool,
}

impl Http {
    /// Parses an `x-amazon-apigateway-integration` of type `http`.
    pub(crate) fn parse(integration: &Value, cx: &ParseContext<'_>) -> Result<Self, String> {
        let endpoint = HttpProxy::parse(integration, cx.stage_variables, cx.bases, cx.api_id)
            .map_err(|e| e.replace("http_proxy: ", "http: "))?;
        let mapped = |name: &HeaderName| {
            endpoint
                .mappings
                .iter()
                .any(|m| matches!(&m.target, Target::Header(n) if n == name))
        };
        let user_agent = HeaderValue::from_str(&format!("AmazonAPIGateway_{}", cx.api_id))
            .unwrap_or(HeaderValue::from_static("AmazonAPIGateway_local"));
        let defaults = [
            (ACCEPT, HeaderValue::from_static("application/json")),
            (USER_AGENT, user_agent),
        ]
        .into_iter()
        .filter(|(name, _)| !mapped(name))
        .collect();
        let content_type_mapped = mapped(&CONTENT_TYPE);
        Ok(Self {
            templates: RequestTemplates::parse(integration)?,
            responses: Responses::parse(integration, cx.stage_variables)?,
            stage_variables: sorted(cx.stage_variables),
            api_id: cx.api_id.to_owned(),
            defaults,
            content_type_mapped,
            endpoint,
        })
    }

    /// What is served otherwise than the export says, for the startup
    /// listing (the response side's: `responses::warnings`).
    pub(crate) fn warnings(&self) -> &[String] {
        &self.endpoint.warnings
    }

    /// For the startup listing: `http GET http://... (timeout 29000 ms, 1 request template)`.
    pub(crate) fn describe(&self) -> String {
        let e = &self.endpoint;
        let method = e.method.as_ref().map_or("ANY", Method::as_str);
        let via = if e.via {
            format!(" via {}", e.target)
        } else {
            String::new()
        };
        let templates = if self.templates.is_empty() {
            "no request template".to_owned()
        } else {
            "request templates".to_owned()
        };
        if e.fails.is_some() {
            return format!(
                "http {method} {}{via} (answers 500: see the warning)",
                e.uri
            );
        }
        format!(
            "http {method} {}{via} (timeout {} ms, {templates})",
            e.uri,
            e.timeout.as_millis()
        )
    }

    /// Builds the backend request, sends it, and makes the method response.
    pub(crate) async fn call(
        &self,
        method: &Method,
        facts: &Facts<'_>,
        body: Bytes,
    ) -> Result<Response<Body>, Answer> {
        let e = &self.endpoint;
        if e.fails.is_some() {
            return Err(Answer::ApiConfigurationError);
        }
        let scratch = Scratch::new(facts);
        let extra = Extra {
            api_id: &self.api_id,
            stage_variables: &self.stage_variables,
            scratch: &scratch,
        };
        let text = String::from_utf8_lossy(&body);
        let (content_type, out_body, overrides) = match self.templates.choose(facts.headers) {
            Choice::Unsupported => return Err(Answer::UnsupportedMediaType),
            // An empty body goes without a type (recorded).
            Choice::PassThrough => (
                facts
                    .headers
                    .get(CONTENT_TYPE)
                    .filter(|_| !body.is_empty())
                    .cloned(),
                body.clone(),
                Default::default(),
            ),
            Choice::Render(key, template) => {
                let ctx = templates::context(facts, &extra, &text);
                let rendered = template.render(&ctx).map_err(|e| match e.kind() {
                    ErrorKind::InvalidBody => Answer::BadRequestBody,
                    _ => Answer::ApiConfigurationError,
                })?;
                (
                    HeaderValue::from_str(key).ok(),
                    Bytes::from(rendered.body),
                    rendered.overrides,
                )
            }
        };

        let mut headers = HeaderMap::new();
        // Mapped path values as they came, and whether from the path.
        let mut path_values: Vec<(&str, Cow<'_, str>, bool)> = Vec::new();
        let mut query: Vec<(String, String)> = Vec::new();
        for m in &e.mappings {
            let Some(value) = m.source.value(facts) else {
                continue; // an absent source leaves the target out
            };
            match &m.target {
                Target::Header(name) => {
                    let value = HeaderValue::from_bytes(value.as_bytes())
                        .map_err(|_| Answer::ApiConfigurationError)?;
                    headers.insert(name.clone(), value);
                }
                Target::Query(name) => query.push((name.clone(), value.into_owned())),
                Target::Path(name) => {
                    let raw = matches!(m.source, Source::PathParam(_));
                    path_values.push((name.as_str(), value, raw));
                }
            }
        }
        for (name, value) in &overrides.request_header {
            let name =
                HeaderName::try_from(name.as_str()).map_err(|_| Answer::ApiConfigurationError)?;
            if NOT_OVERRIDABLE.contains(&name) {
                return Err(Answer::ApiConfigurationError);
            }
            let value =
                HeaderValue::try_from(value.as_str()).map_err(|_| Answer::ApiConfigurationError)?;
            headers.insert(name, value);
        }
        for (name, value) in &overrides.request_querystring {
            query.retain(|(n, _)| n != name);
            query.push((name.clone(), value.clone()));
        }
        // An override wins over a mapping; only the value used is checked
        // and encoded (`path_value`).
        let placeholder = |name: &str| {
            if let Some((_, v)) = overrides.request_path.iter().find(|(n, _)| n == name) {
                return Some((Cow::Borrowed(v.as_str()), false));
            }
            let (_, value, raw) = path_values.iter().find(|(n, _, _)| *n == name)?;
            Some((Cow::Borrowed(value.as_ref()), *raw))
        };
        let mut target = String::with_capacity(e.target.len() + e.path.len() + 16);
        target.push_str(&e.target);
        fill_path_into(&mut target, &e.path, |name| {
            let (value, raw) = placeholder(name)?;
            path_value(value, raw)
        })
        .ok_or(Answer::ApiConfigurationError)?;
        let mut separator = '?';
        if let Some(q) = e.query.as_deref() {
            target.push(separator);
            fill_query_into(&mut target, q, placeholder).ok_or(Answer::ApiConfigurationError)?;
            separator = '&';
        }
        for (n, v) in &query {
            target.push(separator);
            encode_into(&mut target, n);
            target.push('=');
            encode_into(&mut target, v);
            separator = '&';
        }
        let uri: Uri = target.parse().map_err(|_| Answer::ApiConfigurationError)?;

        // A mapped Host wins over the URI's (recorded); an override of Host
        // is refused above.
        if !headers.contains_key(HOST) {
            headers.insert(HOST, e.host.clone());
        }
        for (name, value) in &self.defaults {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        if let Some(content_type) = content_type.filter(|_| !self.content_type_mapped) {
            headers.entry(CONTENT_TYPE).or_insert(content_type);
        }
        let trace = headers::trace_header(
            facts.headers,
            facts.request_id,
            (facts.request_time_epoch / 1000) as u64,
        );
        headers.insert(headers::X_AMZN_TRACE_ID, trace.clone());
        headers.insert(headers::X_AMZN_APIGATEWAY_API_ID, e.api_id.clone());

        let method = e.method.clone().unwrap_or_else(|| method.clone());
        if out_body.is_empty() {
            set_empty_length(&mut headers, &method);
        }
        let mut request = Request::new(Body::from(out_body));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;

        let exchange = async {
            let response = super::backend::send(request)
                .await
                .map_err(|_| Answer::IntegrationFailure)?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|err| {
                    if err.is::<http_body_util::LengthLimitError>() {
                        Answer::ApiConfigurationError
                    } else {
                        Answer::IntegrationFailure
                    }
                })?
                .to_bytes();
            Ok::<_, Answer>((parts, bytes))
        };
        let (parts, bytes) = tokio::time::timeout(e.timeout, exchange)
            .await
            .map_err(|_| Answer::IntegrationTimeout)??;

        let status = parts.status.as_str();
        let chosen = self
            .responses
            .select(status)
            .ok_or(Answer::ApiConfigurationError)?;
        let backend_text = String::from_utf8_lossy(&bytes);
        let mut res = chosen.respond(
            facts.headers,
            &Backend {
                headers: &parts.headers,
                body: &backend_text,
                raw: &bytes,
            },
            || templates::context(facts, &extra, &backend_text),
        )?;
        // AWS answers the trace on `http` integrations (recorded), unless
        // the integration response set the header.
        res.headers_mut()
            .entry(headers::X_AMZN_TRACE_ID)
            .or_insert(trace);
        Ok(res)
    }
}
