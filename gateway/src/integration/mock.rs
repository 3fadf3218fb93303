//! `mock` integrations: the request template renders `{"statusCode": N}`,
//! whose `N` selects the integration response; its response template and
//! parameters make the answer (see [`super::responses`]).
//!
//! - The request template is chosen as for `http` ([`super::templates`]):
//!   by `Content-Type`, `passthroughBehavior` `never` (or
//!   `when_no_templates` with templates) refusing other types with 415. It
//!   renders with the request's body, parameters, claims and context, so
//!   the status can depend on them (`#if($input.params('id') == "0")`).
//! - **[choice]** No template for the request's type but passthrough
//!   allowed: the `application/json` template decides, else the status is
//!   200 (a mock has no backend to pass the body to).
//! - **[choice]** A rendered template that is not a JSON object with a
//!   `statusCode` (a number, or a string of digits) of 100 to 599 is API
//!   Gateway's 500 `{"message": "Internal server error"}`; so is a template
//!   that fails to render. A `$input.json` / `$input.path` over a body that
//!   is not JSON is the client's fault: 400.
//! - The object's keys may be bare names, `{statusCode: 200}` (what AWS's
//!   CDK writes for CORS mocks; AWS answered it 200 in LocalStack's recorded
//!   test_integration_mock_with_path_param). **[choice]** Nothing else is
//!   read leniently: single quotes, comments, trailing commas and bare
//!   values stay a 500, as AWS's parser is not documented.
//! - A response template renders with the (empty) integration response as
//!   its payload, so `$input.body` is `{}` as on AWS, the request's
//!   parameters and claims, and what the request template set in
//!   `$context.requestOverride.*` and `$context.responseOverride.*`
//!   (LocalStack's recorded test_integration_mock_with_request_overrides_in_response_template
//!   and test_integration_mock_with_vtl_map_assignation).
//! - `$context.responseOverride.status` and `.header.NAME` set by the request
//!   template apply to the answer (AWS answered 444 with `foo: bar`:
//!   test_integration_mock_with_response_override_in_request_template), with
//!   or without a response template; a response template's own overrides
//!   win. They are checked as a response template's are: a status out of 200
//!   to 599 or a framing header is a 500.

use std::cell::Cell;

use axum::body::Body;
use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Response};
use serde_json::Value;

use super::responses::{Backend, Responses};
use super::templates::{self, sorted, Choice, Extra, RequestTemplates, Scratch};
use super::ParseContext;
use crate::answers::Answer;
use crate::mapping::Facts;
use crate::template::{ErrorKind, Overrides, Template};

/// What a mock integration does, parsed once at startup.
#[derive(Debug)]
pub(crate) struct Mock {
    templates: RequestTemplates,
    responses: Responses,
    stage_variables: Vec<(String, String)>,
    api_id: String,
}

/// What a request gets: an answer of the gateway's own, or a response.
pub(crate) enum MockOutcome {
    Respond(Response<Body>),
    Answer(Answer),
}

impl Mock {
    /// Parses an `x-amazon-apigateway-integration` of type `mock`.
    pub(crate) fn parse(integration: &Value, cx: &ParseContext<'_>) -> Result<Self, String> {
        Ok(Self {
            templates: RequestTemplates::parse(integration)?,
            responses: Responses::parse(integration, cx.stage_variables)?,
            stage_variables: sorted(cx.stage_variables),
            api_id: cx.api_id.to_owned(),
        })
    }

    /// The answer to a request with these facts and body.
    pub(crate) fn respond(&self, facts: &Facts<'_>, body: &str) -> MockOutcome {
        match self.try_respond(facts, body) {
            Ok(res) => MockOutcome::Respond(res),
            Err(answer) => MockOutcome::Answer(answer),
        }
    }

    fn try_respond(&self, facts: &Facts<'_>, body: &str) -> Result<Response<Body>, Answer> {
        let scratch = Scratch::new(facts);
        let extra = Extra {
            api_id: &self.api_id,
            stage_variables: &self.stage_variables,
            scratch: &scratch,
        };
        let template = match self.templates.choose(facts.headers) {
            Choice::Render(_, template) => Some(template),
            Choice::Unsupported => return Err(Answer::UnsupportedMediaType),
            Choice::PassThrough => self.templates.get("application/json"),
        };
        let (status, overrides) = match template {
            None => ("200".to_owned(), Overrides::default()),
            Some(template) => {
                let ctx = templates::context(facts, &extra, body);
                let rendered = template.render(&ctx).map_err(|e| match e.kind() {
                    ErrorKind::InvalidBody => Answer::BadRequestBody,
                    _ => Answer::ApiConfigurationError,
                })?;
                let status = status_of(&rendered.body).ok_or(Answer::ApiConfigurationError)?;
                (status, rendered.overrides)
            }
        };
        // No match and no default: API Gateway's configuration error.
        let chosen = self
            .responses
            .select(&status)
            .ok_or(Answer::ApiConfigurationError)?;
        let empty = HeaderMap::new();
        // A response template starts from the request template's overrides
        // (and its own win); without one, they are applied here.
        let templated = Cell::new(false);
        let mut res = chosen.respond(
            facts.headers,
            &Backend {
                headers: &empty,
                body: "",
                raw: &bytes::Bytes::new(),
            },
            || {
                templated.set(true);
                let mut ctx = templates::context(facts, &extra, "");
                ctx.overrides = overrides.clone();
                ctx
            },
        )?;
        if !templated.get() {
            apply_response_overrides(&mut res, &overrides)?;
        }
        Ok(res)
    }

    /// For the startup listing: `mock 200`, or `mock (templated status)`.
    pub(crate) fn describe(&self) -> String {
        match self.templates.get("application/json").map(Template::source) {
            None => "mock 200".to_owned(),
            Some(text) => match literal_status(text) {
                Some(status) => format!("mock {status}"),
                None => "mock (templated status)".to_owned(),
            },
        }
    }
}

/// A request template's `$context.responseOverride.status` and `.header.NAME`
/// on an answer no response template rendered (its body is empty: a mock's
/// integration response has none).
fn apply_response_overrides(res: &mut Response<Body>, overrides: &Overrides) -> Result<(), Answer> {
    if let Some(code) = &overrides.response_status {
        let status = code
            .trim()
            .parse::<u16>()
            .ok()
            .and_then(super::final_status)
            .ok_or(Answer::ApiConfigurationError)?;
        *res.status_mut() = status;
        // 204 and 304 carry no length; the others an empty body's.
        let mut headers = std::mem::take(res.headers_mut());
        *res.body_mut() = super::framed_body(status, &mut headers, bytes::Bytes::new());
        *res.headers_mut() = headers;
    }
    for (name, value) in &overrides.response_header {
        let name =
            HeaderName::try_from(name.as_str()).map_err(|_| Answer::ApiConfigurationError)?;
        // The gateway frames the body: never the template.
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING || name == CONNECTION {
            return Err(Answer::ApiConfigurationError);
        }
        let value =
            HeaderValue::try_from(value.as_str()).map_err(|_| Answer::ApiConfigurationError)?;
        res.headers_mut().insert(name, value);
    }
    Ok(())
}

/// The `statusCode` of a rendered mock template (blank: 200).
fn status_of(rendered: &str) -> Option<String> {
    if rendered.trim().is_empty() {
        return Some("200".to_owned());
    }
    let value: Value = match serde_json::from_str(rendered) {
        Ok(value) => value,
        Err(_) => serde_json::from_str(&quote_bare_keys(rendered)?).ok()?,
    };
    let code = match value.get("statusCode")? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (100..=599).contains(&code).then(|| code.to_string())
}

/// `text` with the bare names in key position quoted (`{statusCode: 200}`
/// as `{"statusCode": 200}`), for `serde_json` to read the rest strictly.
/// A bare name is ASCII letters, digits, `_` and `$`, not starting with a
/// digit; anything else is left for the JSON parser to refuse. One pass.
fn quote_bare_keys(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 8);
    // Whether each open bracket is an object, and whether a key comes next.
    let mut objects: Vec<bool> = Vec::new();
    let mut key_next = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                // A JSON string, copied as it is (escapes included).
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                out.push_str(text.get(start..=i)?);
                key_next = false;
            }
            b'{' | b'[' => {
                objects.push(b == b'{');
                key_next = b == b'{';
                out.push(char::from(b));
            }
            b'}' | b']' => {
                objects.pop();
                key_next = false;
                out.push(char::from(b));
            }
            b',' => {
                key_next = objects.last() == Some(&true);
                out.push(',');
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'$' if key_next => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
                {
                    i += 1;
                }
                out.push('"');
                out.push_str(text.get(start..i)?);
                out.push('"');
                key_next = false;
                continue;
            }
            _ => {
                if !b.is_ascii_whitespace() {
                    key_next = false;
                }
                // Copy the whole character (text is UTF-8).
                let len = text.get(i..)?.chars().next()?.len_utf8();
                out.push_str(text.get(i..i + len)?);
                i += len;
                continue;
            }
        }
        i += 1;
    }
    Some(out)
}

/// The status of a template that is a literal `{"statusCode": N}`.
fn literal_status(text: &str) -> Option<String> {
    if text.contains('$') || text.contains('#') {
        return None;
    }
    status_of(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{HeaderValue, CONTENT_TYPE};
    use http_body_util::BodyExt;
    use serde_json::json;

    fn mock(v: Value) -> Mock {
        let vars = std::collections::HashMap::new();
        let binary = crate::integration::BinaryMediaTypes::default();
        let cx = ParseContext {
            allow_unsupported: false,
            stage_variables: &vars,
            bases: &[],
            api_id: "local",
            lambda_endpoint: None,
            binary_media_types: &binary,
        };
        Mock::parse(&v, &cx).unwrap()
    }

    fn facts<'a>(headers: &'a HeaderMap, query: &'a [(String, String)]) -> Facts<'a> {
        Facts {
            path_params: &[],
            query,
            headers,
            claims: None,
            authorizer: &[],
            request_id: "r",
            extended_request_id: "e",
            http_method: "GET",
            resource_path: "/",
            path: "/local/",
            stage: "local",
            source_ip: "127.0.0.1",
            request_time_epoch: 0,
        }
    }

    fn status(outcome: MockOutcome) -> u16 {
        match outcome {
            MockOutcome::Respond(res) => res.status().as_u16(),
            MockOutcome::Answer(a) => panic!("answered {a:?}"),
        }
    }

    fn answer(outcome: MockOutcome) -> Answer {
        match outcome {
            MockOutcome::Respond(res) => panic!("responded {}", res.status()),
            MockOutcome::Answer(a) => a,
        }
    }

    #[test]
    fn the_template_selects_the_response_by_pattern_then_default() {
        let mock = mock(json!({
            "type": "mock",
            "requestTemplates": {"application/json": "{\"statusCode\": 404}", "text/plain": "{\"statusCode\": 200}"},
            "responses": {
                "4\\d{2}": {"statusCode": "404", "responseTemplates": {"application/json": "{\"message\":\"nope\"}"}},
                "default": {"statusCode": "200"}
            }
        }));
        assert_eq!(
            status(mock.respond(&facts(&HeaderMap::new(), &[]), "")),
            404
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        assert_eq!(status(mock.respond(&facts(&headers, &[]), "")), 200);
        assert_eq!(mock.describe(), "mock 404");
    }

    #[tokio::test]
    async fn the_status_and_body_come_from_the_request() {
        let mock = mock(json!({
            "requestTemplates": {"application/json": "#if($input.params('code') != \"\"){\"statusCode\": $input.params('code')}#else{\"statusCode\": $input.json('$.s')}#end"},
            "responses": {
                "4\\d{2}": {"statusCode": "404", "responseTemplates": {"application/json": "{\"missing\":\"$input.params('code')\"}"}},
                "default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"body\":\"$input.body\"}"}}
            }
        }));
        assert_eq!(mock.describe(), "mock (templated status)");
        let query = [("code".to_owned(), "418".to_owned())];
        let MockOutcome::Respond(res) = mock.respond(&facts(&HeaderMap::new(), &query), "") else {
            panic!("answered");
        };
        assert_eq!(res.status(), 404);
        let text = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&text[..], br#"{"missing":"418"}"#);
        let h = HeaderMap::new();
        assert_eq!(status(mock.respond(&facts(&h, &[]), r#"{"s": 201}"#)), 200);
        // Not JSON under $input.json: the client's 400.
        assert_eq!(
            answer(mock.respond(&facts(&h, &[]), "nope")),
            Answer::BadRequestBody
        );
        // No statusCode in the output: API Gateway's 500.
        assert_eq!(
            answer(mock.respond(&facts(&h, &[]), r#"{"s": "x"}"#)),
            Answer::ApiConfigurationError
        );
    }

    #[test]
    fn no_match_and_no_default_is_a_500_and_never_is_a_415() {
        let mock = mock(json!({
            "requestTemplates": {"application/json": "{\"statusCode\": 500}"},
            "passthroughBehavior": "NEVER",
            "responses": {"2\\d{2}": {"statusCode": "200"}}
        }));
        let h = HeaderMap::new();
        assert_eq!(
            answer(mock.respond(&facts(&h, &[]), "")),
            Answer::ApiConfigurationError
        );
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        assert_eq!(
            answer(mock.respond(&facts(&headers, &[]), "")),
            Answer::UnsupportedMediaType
        );
    }

    #[test]
    fn status_codes_are_checked() {
        assert_eq!(status_of("{\"statusCode\": 201}").as_deref(), Some("201"));
        assert_eq!(
            status_of("{\"statusCode\": \"302\"}").as_deref(),
            Some("302")
        );
        assert_eq!(status_of("  ").as_deref(), Some("200"));
        // Bare names as keys, as AWS's CDK writes them (LocalStack's
        // recorded test_integration_mock_with_path_param).
        for (lenient, want) in [
            ("{statusCode: 200}", "200"),
            ("\n  { statusCode : \"201\" }\n", "201"),
            ("{a_$1: \"x: y, z\", statusCode: 204}", "204"),
            ("{headers: {b: [1, {c: null}]}, statusCode: 302}", "302"),
            ("{\"k\\\"\": 1, statusCode: 500}", "500"),
        ] {
            assert_eq!(status_of(lenient).as_deref(), Some(want), "{lenient}");
        }
        for bad in [
            "{\"statusCode\": 99}",
            "{\"statusCode\": 600}",
            "{}",
            "[1]",
            "x",
            "{'statusCode': 200}",
            "{statusCode: '200'}",
            "{statusCode: 200,}",
            "{statusCode: 200",
            "{1st: 1, statusCode: 200}",
            "{status Code: 200}",
            "{statusCode: 200} // ok",
            "{\"statusCode: 200}",
            "[statusCode, 200]",
        ] {
            assert_eq!(status_of(bad), None, "{bad}");
        }
    }
}
