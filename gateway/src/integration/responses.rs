//! The response side of `mock` and `http` integrations: the integration
//! response chosen by `selectionPattern`, its `responseParameters`, and its
//! `responseTemplates` chosen by the request's `Accept`.
//!
//! - The keys of `responses` other than `default` are regular expressions
//!   matched against the whole status code (the backend's, or the one a mock's
//!   request template computed); the first that matches wins (keys in sorted
//!   order, as the export's JSON object holds them), else `default`. Neither:
//!   500 `{"message": "Internal server error"}` (the caller answers it).
//! - `responseParameters`: `method.response.header.NAME` from `'static'`,
//!   `integration.response.header.NAME`, `integration.response.body` (the
//!   whole body) or `integration.response.body.JSONPath` (the value at
//!   `$.JSONPath`; a string as itself, anything else as compact JSON), or
//!   `stageVariables.NAME` (resolved at startup). An absent source leaves the
//!   header out; a value that is no valid header value is a 500 (never sent).
//!   A header the gateway writes itself or that describes the connection
//!   (`Content-Length`, `Date`, `Server`, `Authorization`...) goes out as
//!   `x-amzn-Remapped-<name>`, and `Transfer-Encoding` not at all, as AWS
//!   answers them (recorded: `headers::mapped_response`); each is a startup
//!   warning ([`parameter_warnings`]).
//! - `responseTemplates`: the one for the first media type of `Accept` that
//!   has one; else (no `Accept`, `*/*`, or no match) `application/json`, else
//!   the first by name **[choice]**, as LocalStack does. The response's
//!   `Content-Type` is the chosen template's type, and `application/json`
//!   when the body passes through untemplated **[choice]**; a mapped
//!   `Content-Type` header wins over both (the seed page's `'text/html'`).
//! - A response template renders with `$input.body` the integration's
//!   response body (empty for `mock`), the request's parameters and claims,
//!   and may set `$context.responseOverride.status` and `.header.NAME`, which
//!   win over the integration response's (an override of `Content-Length`,
//!   `Transfer-Encoding` or `Connection` is a 500 **[choice]**).

use std::collections::BTreeMap;

use axum::body::Body;
use http::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};
use regex::Regex;
use serde_json::Value;

use super::templates::parse_templates;
use crate::answers::{static_value, Answer};
use crate::headers::{self, MappedResponse};
use crate::template::{Context, Template};

/// Headers that frame the response, which no override may set.
const FRAMING: [HeaderName; 3] = [
    CONTENT_LENGTH,
    http::header::TRANSFER_ENCODING,
    http::header::CONNECTION,
];

/// An integration's `responses`, parsed once.
#[derive(Debug)]
pub(crate) struct Responses {
    /// Selection patterns other than `default`, in key order.
    selected: Vec<(Regex, IntegrationResponse)>,
    default: Option<IntegrationResponse>,
}

/// One entry of `responses`.
#[derive(Debug)]
pub(crate) struct IntegrationResponse {
    status: StatusCode,
    parameters: Vec<(HeaderName, ResponseSource)>,
    templates: BTreeMap<String, Template>,
}

/// Where a mapped response header comes from.
#[derive(Debug)]
enum ResponseSource {
    Static(HeaderValue),
    Header(HeaderName),
    Body,
    /// `$input.json('$.PATH')`, rendered over the integration's body.
    BodyPath(Template),
}

/// The integration's answer, as the response side reads it.
pub(crate) struct Backend<'a> {
    pub(crate) headers: &'a HeaderMap,
    /// The body as text, for templates and mappings.
    pub(crate) body: &'a str,
    /// The body as it came, passed on untemplated.
    pub(crate) raw: &'a bytes::Bytes,
}

impl Responses {
    /// Parses `responses`.
    pub(crate) fn parse(
        integration: &Value,
        stage_variables: &std::collections::HashMap<String, String>,
    ) -> Result<Self, String> {
        let mut selected = Vec::new();
        let mut default = None;
        if let Some(map) = integration.get("responses") {
            let map = map.as_object().ok_or("responses: expected an object")?;
            for (pattern, entry) in map {
                let response = IntegrationResponse::parse(entry, stage_variables)
                    .map_err(|e| format!("responses.{pattern}: {e}"))?;
                if pattern == "default" {
                    default = Some(response);
                } else {
                    let regex = Regex::new(&format!("^(?:{pattern})$"))
                        .map_err(|e| format!("responses: selection pattern {pattern:?}: {e}"))?;
                    selected.push((regex, response));
                }
            }
        }
        Ok(Self { selected, default })
    }

    /// The integration response for a status code, if any.
    pub(crate) fn select(&self, status: &str) -> Option<&IntegrationResponse> {
        self.selected
            .iter()
            .find(|(regex, _)| regex.is_match(status))
            .map(|(_, r)| r)
            .or(self.default.as_ref())
    }
}

impl IntegrationResponse {
    fn parse(
        entry: &Value,
        stage_variables: &std::collections::HashMap<String, String>,
    ) -> Result<Self, String> {
        let status = match entry.get("statusCode") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            None => "200".to_owned(),
            Some(other) => return Err(format!("statusCode: {other} is no status code")),
        };
        let status = status
            .parse::<u16>()
            .ok()
            .and_then(super::final_status)
            .ok_or_else(|| format!("statusCode: {status:?} is no status code of 200 to 599"))?;
        let mut parameters = Vec::new();
        if let Some(map) = entry.get("responseParameters") {
            let map = map
                .as_object()
                .ok_or("responseParameters: expected an object")?;
            for (target, source) in map {
                let what = format!("responseParameters {target:?}");
                let name = target
                    .strip_prefix("method.response.header.")
                    .ok_or_else(|| {
                        format!("{what}: the target must be method.response.header.NAME")
                    })?;
                let name = HeaderName::try_from(name)
                    .map_err(|_| format!("{what}: bad header name {name:?}"))?;
                let source = source
                    .as_str()
                    .ok_or_else(|| format!("{what}: expected a string"))?;
                let source = parse_source(source, stage_variables)
                    .map_err(|e| format!("{what}: {source:?}: {e}"))?;
                match headers::mapped_response(&name) {
                    MappedResponse::Kept => parameters.push((name, source)),
                    MappedResponse::Remapped(remapped) => parameters.push((remapped, source)),
                    MappedResponse::Dropped => {}
                }
            }
        }
        let templates = parse_templates(entry.get("responseTemplates"), "responseTemplates")?;
        Ok(Self {
            status,
            parameters,
            templates,
        })
    }

    /// The method response: status, mapped headers, the body from the
    /// template `Accept` chooses (rendered with the context `ctx` makes,
    /// only when there is a template; its `body` is the integration's), or
    /// the integration's body as it is.
    pub(crate) fn respond<'c>(
        &self,
        request_headers: &HeaderMap,
        backend: &Backend<'_>,
        ctx: impl FnOnce() -> Context<'c>,
    ) -> Result<Response<Body>, Answer> {
        let mut status = self.status;
        let mut headers = HeaderMap::new();
        let (content_type, body) = match self.choose(request_headers) {
            Some((content_type, template)) => {
                // A backend body the template cannot read is the API's
                // fault, not the client's: 500.
                let rendered = template
                    .render(&ctx())
                    .map_err(|_| Answer::ApiConfigurationError)?;
                if let Some(code) = &rendered.overrides.response_status {
                    status = code
                        .trim()
                        .parse::<u16>()
                        .ok()
                        .and_then(super::final_status)
                        .ok_or(Answer::ApiConfigurationError)?;
                }
                for (name, value) in &rendered.overrides.response_header {
                    let name = HeaderName::try_from(name.as_str())
                        .map_err(|_| Answer::ApiConfigurationError)?;
                    // The gateway frames the body: never the template.
                    if FRAMING.contains(&name) {
                        return Err(Answer::ApiConfigurationError);
                    }
                    let value = HeaderValue::try_from(value.as_str())
                        .map_err(|_| Answer::ApiConfigurationError)?;
                    headers.insert(name, value);
                }
                (content_type, bytes::Bytes::from(rendered.body))
            }
            None => ("application/json", backend.raw.clone()),
        };
        for (name, source) in &self.parameters {
            // Set by the template's override already: the override wins.
            if headers.contains_key(name) {
                continue;
            }
            if let Some(value) = source.value(backend)? {
                headers.insert(name.clone(), value);
            }
        }
        if !headers.contains_key(CONTENT_TYPE) {
            let value =
                HeaderValue::from_str(content_type).map_err(|_| Answer::ApiConfigurationError)?;
            headers.insert(CONTENT_TYPE, value);
        }
        let body = super::framed_body(status, &mut headers, body);
        let mut res = Response::new(body);
        *res.status_mut() = status;
        *res.headers_mut() = headers;
        Ok(res)
    }

    /// The response template for the request's `Accept`.
    fn choose(&self, request_headers: &HeaderMap) -> Option<(&str, &Template)> {
        let accepted = request_headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        for media in accepted {
            if let Some((k, t)) = self.templates.get_key_value(&media) {
                return Some((k, t));
            }
        }
        self.templates
            .get_key_value("application/json")
            .or_else(|| self.templates.iter().next())
            .map(|(k, t)| (k.as_str(), t))
    }
}

/// The startup warnings for an integration's `responses`: each
/// `responseParameters` header that goes out under another name, or not at
/// all (see the module docs).
pub(crate) fn parameter_warnings(integration: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(responses) = integration.get("responses").and_then(Value::as_object) else {
        return out;
    };
    for (pattern, entry) in responses {
        let Some(parameters) = entry.get("responseParameters").and_then(Value::as_object) else {
            continue;
        };
        for target in parameters.keys() {
            let Some(raw) = target.strip_prefix("method.response.header.") else {
                continue;
            };
            let Ok(name) = HeaderName::try_from(raw) else {
                continue;
            };
            let fate = match headers::mapped_response(&name) {
                MappedResponse::Kept => continue,
                MappedResponse::Remapped(_) => format!("goes out as x-amzn-Remapped-{raw}"),
                MappedResponse::Dropped => "is not sent".to_owned(),
            };
            out.push(format!(
                "responses.{pattern}: responseParameters {target:?}: {fate}, as on AWS"
            ));
        }
    }
    out
}

fn parse_source(
    source: &str,
    stage_variables: &std::collections::HashMap<String, String>,
) -> Result<ResponseSource, String> {
    let header_value =
        |v: &str| HeaderValue::try_from(v).map_err(|_| "not a valid header value".to_owned());
    if let Some(literal) = static_value(source) {
        return Ok(ResponseSource::Static(header_value(literal)?));
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        let value = stage_variables.get(name).ok_or_else(|| {
            format!("stage variable {name} is not set (--stage-variable {name}=...)")
        })?;
        return Ok(ResponseSource::Static(header_value(value)?));
    }
    if let Some(name) = source.strip_prefix("integration.response.header.") {
        let name = HeaderName::try_from(name).map_err(|_| format!("bad header name {name:?}"))?;
        return Ok(ResponseSource::Header(name));
    }
    if source == "integration.response.body" {
        return Ok(ResponseSource::Body);
    }
    if let Some(path) = source.strip_prefix("integration.response.body.") {
        if path.contains('\'') || path.is_empty() {
            return Err("bad JSONPath".into());
        }
        let template = Template::parse(&format!("$input.json('$.{path}')"))
            .map_err(|e| format!("JSONPath: {}", e.message()))?;
        return Ok(ResponseSource::BodyPath(template));
    }
    Err(
        "unsupported source (expected 'static', integration.response.header.NAME, \
         integration.response.body[.JSONPath] or stageVariables.NAME)"
            .into(),
    )
}

impl ResponseSource {
    /// The value for this response; `Ok(None)` leaves the header out.
    fn value(&self, backend: &Backend<'_>) -> Result<Option<HeaderValue>, Answer> {
        let text = match self {
            ResponseSource::Static(v) => return Ok(Some(v.clone())),
            ResponseSource::Header(name) => return Ok(backend.headers.get(name).cloned()),
            ResponseSource::Body => backend.body.to_owned(),
            ResponseSource::BodyPath(template) => {
                if backend.body.trim().is_empty() {
                    return Ok(None);
                }
                let ctx = Context {
                    body: backend.body,
                    ..Context::default()
                };
                let json = template
                    .render(&ctx)
                    .map_err(|_| Answer::ApiConfigurationError)?
                    .body;
                match serde_json::from_str::<Value>(&json) {
                    Ok(Value::Null) => return Ok(None),
                    Ok(Value::String(s)) => s,
                    _ => json,
                }
            }
        };
        HeaderValue::try_from(text)
            .map(Some)
            .map_err(|_| Answer::ApiConfigurationError)
    }
}

#[cfg(test)]
mod tests;
