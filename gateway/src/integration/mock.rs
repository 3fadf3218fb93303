//! `mock` integrations: the request template gives `{"statusCode": N}`, which
//! selects the integration response answered.

use std::collections::BTreeMap;

use axum::body::Body;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};
use regex::Regex;
use serde_json::Value;

use crate::answers::{static_value, Answer};

/// What a mock integration does, parsed once at startup.
#[derive(Debug)]
pub(crate) struct Mock {
    /// Request templates by content type: each one's status code.
    templates: BTreeMap<String, u16>,
    /// `passthroughBehavior: never`: a body type with no template gets 415.
    never_pass_through: bool,
    /// Selection patterns other than `default`, in document order.
    selected: Vec<(Regex, IntegrationResponse)>,
    default: Option<IntegrationResponse>,
}

/// One entry of `responses`.
#[derive(Debug)]
struct IntegrationResponse {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Content type and body of the chosen response template.
    body: Option<(String, String)>,
}

/// What a request gets: an answer of the gateway's own, or a response.
pub(crate) enum MockOutcome {
    Respond(Response<Body>),
    Answer(Answer),
}

impl Mock {
    /// Parses an `x-amazon-apigateway-integration` of type `mock`.
    pub(crate) fn parse(integration: &Value) -> Result<Self, String> {
        let mut templates = BTreeMap::new();
        if let Some(map) = integration.get("requestTemplates") {
            let map = map
                .as_object()
                .ok_or("requestTemplates: expected an object")?;
            for (content_type, template) in map {
                let text = template
                    .as_str()
                    .ok_or_else(|| format!("requestTemplates.{content_type}: expected a string"))?;
                let status = status_of_template(text).ok_or_else(|| {
                    format!(
                        "requestTemplates.{content_type}: {text:?} needs the mapping template \
                         engine (only a literal {{\"statusCode\": N}} is supported)"
                    )
                })?;
                templates.insert(content_type.to_ascii_lowercase(), status);
            }
        }
        let never_pass_through = integration
            .get("passthroughBehavior")
            .and_then(Value::as_str)
            .is_some_and(|b| b.eq_ignore_ascii_case("never"));
        let mut selected = Vec::new();
        let mut default = None;
        if let Some(map) = integration.get("responses") {
            let map = map.as_object().ok_or("responses: expected an object")?;
            for (pattern, entry) in map {
                let response = IntegrationResponse::parse(entry)
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
        Ok(Self {
            templates,
            never_pass_through,
            selected,
            default,
        })
    }

    /// The answer to a request with these headers.
    pub(crate) fn respond(&self, request_headers: &HeaderMap) -> MockOutcome {
        let content_type = request_headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        // API Gateway takes application/json when the request names no type.
        let wanted = content_type.as_deref().unwrap_or("application/json");
        let status = match self.templates.get(wanted) {
            Some(&status) => status,
            None if self.never_pass_through && !self.templates.is_empty() => {
                return MockOutcome::Answer(Answer::UnsupportedMediaType)
            }
            // [choice] No template for the type: the application/json one,
            // else 200, the mock's status when nothing says otherwise.
            None => self
                .templates
                .get("application/json")
                .copied()
                .unwrap_or(200),
        };
        let text = status.to_string();
        let chosen = self
            .selected
            .iter()
            .find(|(regex, _)| regex.is_match(&text))
            .map(|(_, r)| r)
            .or(self.default.as_ref());
        match chosen {
            Some(response) => MockOutcome::Respond(response.to_response()),
            // No match and no default: API Gateway's configuration error.
            None => MockOutcome::Answer(Answer::ApiConfigurationError),
        }
    }

    /// For the startup listing: `mock 200`.
    pub(crate) fn describe(&self) -> String {
        let status = self
            .templates
            .get("application/json")
            .copied()
            .unwrap_or(200);
        format!("mock {status}")
    }
}

impl IntegrationResponse {
    fn parse(entry: &Value) -> Result<Self, String> {
        let status = match entry.get("statusCode") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            None => "200".to_owned(),
            Some(other) => return Err(format!("statusCode: {other} is no status code")),
        };
        let status = status
            .parse::<u16>()
            .ok()
            .and_then(|c| StatusCode::from_u16(c).ok())
            .ok_or_else(|| format!("statusCode: {status:?} is no status code"))?;
        let mut headers = Vec::new();
        if let Some(map) = entry.get("responseParameters").and_then(Value::as_object) {
            for (target, source) in map {
                let name = target
                    .strip_prefix("method.response.header.")
                    .ok_or_else(|| format!("responseParameters: unknown target {target:?}"))?;
                let value = source.as_str().and_then(static_value).ok_or_else(|| {
                    format!("responseParameters.{target}: only static 'values' are supported for mock integrations, got {source}")
                })?;
                let name = HeaderName::try_from(name)
                    .map_err(|_| format!("responseParameters: bad header name {name:?}"))?;
                let value = HeaderValue::try_from(value)
                    .map_err(|_| format!("responseParameters.{target}: bad header value"))?;
                headers.push((name, value));
            }
        }
        let mut body = None;
        if let Some(map) = entry.get("responseTemplates").and_then(Value::as_object) {
            let chosen = map
                .get_key_value("application/json")
                .or_else(|| map.iter().next());
            if let Some((content_type, template)) = chosen {
                let text = template
                    .as_str()
                    .ok_or("responseTemplates: expected a string")?;
                if text.contains('$') || text.contains('#') {
                    return Err(format!(
                        "responseTemplates.{content_type}: needs the mapping template engine \
                         (only literal bodies, without $ or #, are supported)"
                    ));
                }
                body = Some((content_type.clone(), text.to_owned()));
            }
        }
        Ok(Self {
            status,
            headers,
            body,
        })
    }

    fn to_response(&self) -> Response<Body> {
        let (content_type, text) = match &self.body {
            Some((content_type, text)) => (content_type.as_str(), text.as_str()),
            None => ("application/json", ""),
        };
        let mut res = Response::new(Body::from(text.to_owned()));
        *res.status_mut() = self.status;
        let headers = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(CONTENT_TYPE, v);
        }
        headers.insert(CONTENT_LENGTH, HeaderValue::from(text.len()));
        // responseParameters win over the template's type (the seed page's
        // Content-Type: 'text/html').
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        res
    }
}

/// The status of a literal `{"statusCode": N}` template (blank: 200).
fn status_of_template(text: &str) -> Option<u16> {
    if text.trim().is_empty() {
        return Some(200);
    }
    let value: Value = serde_json::from_str(text).ok()?;
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let status = object.get("statusCode")?.as_u64()?;
    u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(outcome: MockOutcome) -> u16 {
        match outcome {
            MockOutcome::Respond(res) => res.status().as_u16(),
            MockOutcome::Answer(a) => panic!("answered {a:?}"),
        }
    }

    #[test]
    fn the_template_selects_the_response_by_pattern_then_default() {
        let mock = Mock::parse(&json!({
            "type": "mock",
            "requestTemplates": {"application/json": "{\"statusCode\": 404}", "text/plain": "{\"statusCode\": 200}"},
            "responses": {
                "4\\d{2}": {"statusCode": "404", "responseTemplates": {"application/json": "{\"message\":\"nope\"}"}},
                "default": {"statusCode": "200"}
            }
        }))
        .unwrap();
        assert_eq!(status(mock.respond(&HeaderMap::new())), 404);
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        assert_eq!(status(mock.respond(&headers)), 200);
    }

    #[test]
    fn templates_beyond_a_literal_status_are_refused() {
        for template in [
            "{\"statusCode\": $input.params('code')}",
            "#set($x = 1){\"statusCode\": 200}",
            "{\"statusCode\": 200, \"other\": 1}",
        ] {
            let err = Mock::parse(&json!({"requestTemplates": {"application/json": template}}))
                .unwrap_err();
            assert!(err.contains("template engine"), "{err}");
        }
        let err = Mock::parse(&json!({
            "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "$input.body"}}}
        }))
        .unwrap_err();
        assert!(err.contains("template engine"), "{err}");
    }

    #[test]
    fn no_match_and_no_default_is_a_500_and_never_is_a_415() {
        let mock = Mock::parse(&json!({
            "requestTemplates": {"application/json": "{\"statusCode\": 500}"},
            "passthroughBehavior": "NEVER",
            "responses": {"2\\d{2}": {"statusCode": "200"}}
        }))
        .unwrap();
        assert!(matches!(
            mock.respond(&HeaderMap::new()),
            MockOutcome::Answer(Answer::ApiConfigurationError)
        ));
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        assert!(matches!(
            mock.respond(&headers),
            MockOutcome::Answer(Answer::UnsupportedMediaType)
        ));
    }
}
