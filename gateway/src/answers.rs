//! API Gateway's own answers (Missing Authentication Token, integration
//! timeouts...), byte for byte, and the export's
//! `x-amazon-apigateway-gateway-responses` applied to them and to the
//! authorizers' rejections, Cognito's and Lambda authorizers' alike: a
//! type's own entry, else `DEFAULT_4XX` / `DEFAULT_5XX` by status (AWS's
//! "Gateway response types").
//!
//! A Lambda authorizer's refusals are `UNAUTHORIZED` (401), `ACCESS_DENIED`
//! (403, both denials) and `AUTHORIZER_CONFIGURATION_ERROR` (500, whatever
//! failed: AWS answers a function error, a malformed answer and a timeout
//! with `AuthorizerConfigurationException`). **\[choice\]** AWS documents
//! no Lambda authorizer case for `AUTHORIZER_FAILURE`, nor a Cognito one the
//! gateway meets, so an export's `AUTHORIZER_FAILURE` entry changes nothing.
//! An `ACCESS_DENIED` entry without a template keeps the denial's own body
//! (`{"Message":...}`, AWS's capital M) **\[choice\]**; its template reads
//! the denial's text as `$context.error.message`.

use std::collections::HashMap;

use axum::body::Body;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Response, StatusCode};
use serde_json::Value;

use crate::ids::RequestIds;

/// `x-amzn-ErrorType`.
pub(crate) const X_AMZN_ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");

/// The answers the gateway itself gives, by gateway response type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Answer {
    /// Unknown resource or method, or an unsafe path.
    MissingAuthenticationToken,
    /// The authorizer's 401.
    Unauthorized,
    /// The authorizer's 401 for an expired token.
    ExpiredToken,
    /// A Lambda authorizer's policy denied the method (403).
    AccessDenied,
    /// The authorizer could not get keys.
    AuthorizerConfigurationError,
    /// The integration did not answer within `timeoutInMillis`.
    IntegrationTimeout,
    /// The backend could not be reached.
    IntegrationFailure,
    /// A gateway-side failure (a claim that is no valid header value...).
    ApiConfigurationError,
    /// A request body over the limit.
    RequestTooLarge,
    /// No request template for the body's type with `passthroughBehavior: never`.
    UnsupportedMediaType,
    /// A mapping template's `$input.json` / `$input.path` met a body that is
    /// not JSON.
    BadRequestBody,
    /// A Lambda function error, a failed invoke or a malformed proxy response.
    LambdaError,
    /// A request validator found required parameters missing (the message
    /// names them: [`Detail`]).
    BadRequestParameters,
    /// A request validator found the body does not match its model.
    InvalidRequestBody,
    /// A method that requires an API key, which the gateway cannot check.
    InvalidApiKey,
    /// A signed request to an IAM method, whose signature the gateway cannot
    /// check.
    InvalidSignature,
}

/// What a validator says besides the answer's type: `$context.error.message`
/// and `$context.error.validationErrorString`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Detail<'a> {
    pub(crate) message: &'a str,
    pub(crate) validation_error_string: &'a str,
}

impl Answer {
    /// The gateway response type's name in an export.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Answer::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            Answer::Unauthorized => "UNAUTHORIZED",
            Answer::ExpiredToken => "EXPIRED_TOKEN",
            Answer::AccessDenied => "ACCESS_DENIED",
            Answer::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            Answer::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            Answer::IntegrationFailure => "INTEGRATION_FAILURE",
            Answer::ApiConfigurationError => "API_CONFIGURATION_ERROR",
            Answer::RequestTooLarge => "REQUEST_TOO_LARGE",
            Answer::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Answer::BadRequestBody => "BAD_REQUEST_BODY",
            // [choice] AWS names no type of its own for it: DEFAULT_5XX applies.
            Answer::LambdaError => "DEFAULT_5XX",
            Answer::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            Answer::InvalidRequestBody => "BAD_REQUEST_BODY",
            Answer::InvalidApiKey => "INVALID_API_KEY",
            Answer::InvalidSignature => "INVALID_SIGNATURE",
        }
    }

    /// `$context.error.message`: the message without quotes (`None` for
    /// the authorizer configuration error's `null`).
    pub(crate) fn message(self) -> Option<&'static str> {
        let quoted = self.defaults().2.trim_start();
        quoted.strip_prefix('"')?.strip_suffix('"')
    }

    /// Status, `x-amzn-ErrorType` and `$context.error.messageString` (the
    /// quoted message, with the leading space AWS writes for integration
    /// errors).
    fn defaults(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Answer::MissingAuthenticationToken => (
                StatusCode::FORBIDDEN,
                "MissingAuthenticationTokenException",
                "\"Missing Authentication Token\"",
            ),
            Answer::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "UnauthorizedException",
                "\"Unauthorized\"",
            ),
            Answer::ExpiredToken => (
                StatusCode::UNAUTHORIZED,
                "UnauthorizedException",
                "\"The incoming token has expired\"",
            ),
            // The policy without a matching Allow; an explicit Deny's text
            // comes with the refusal (`respond_refusal`).
            Answer::AccessDenied => (
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                "\"User is not authorized to access this resource\"",
            ),
            Answer::AuthorizerConfigurationError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "AuthorizerConfigurationException",
                "null",
            ),
            Answer::IntegrationTimeout => (
                StatusCode::GATEWAY_TIMEOUT,
                "InternalServerErrorException",
                " \"Endpoint request timed out\"",
            ),
            Answer::IntegrationFailure => (
                StatusCode::GATEWAY_TIMEOUT,
                "InternalServerErrorException",
                " \"Network error communicating with endpoint\"",
            ),
            Answer::ApiConfigurationError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerErrorException",
                " \"Internal server error\"",
            ),
            // [choice] AWS documents neither body; these follow its wording.
            Answer::RequestTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                "\"Request Too Long\"",
            ),
            Answer::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BadRequestException",
                "\"Unsupported Media Type\"",
            ),
            // [choice] AWS's message goes on with the JSON parser's own
            // detail, which names Java classes; the first part is kept.
            Answer::BadRequestBody => (
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                " \"Could not parse request body into json\"",
            ),
            Answer::LambdaError => (
                StatusCode::BAD_GATEWAY,
                "InternalServerErrorException",
                " \"Internal server error\"",
            ),
            // LocalStack's test_api_gateway_request_validator, recorded
            // against AWS; the names come with the Detail.
            Answer::BadRequestParameters => (
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                " \"Missing required request parameters\"",
            ),
            Answer::InvalidRequestBody => (
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                " \"Invalid request body\"",
            ),
            // LocalStack's api_key_validation handler (Forbidden,
            // ForbiddenException).
            Answer::InvalidApiKey => (StatusCode::FORBIDDEN, "ForbiddenException", "\"Forbidden\""),
            // [choice] AWS's answer to an access key it does not know.
            Answer::InvalidSignature => (
                StatusCode::FORBIDDEN,
                "UnrecognizedClientException",
                "\"The security token included in the request is invalid.\"",
            ),
        }
    }
}

/// One `x-amazon-apigateway-gateway-responses` entry.
#[derive(Clone, Debug, Default)]
struct Custom {
    status: Option<StatusCode>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The `application/json` template (or the only one).
    template: Option<String>,
}

/// The export's gateway responses, ready to apply.
#[derive(Clone, Debug, Default)]
pub(crate) struct Answers {
    by_type: HashMap<String, Custom>,
    stage: String,
}

/// What the templates may read besides the error.
pub(crate) struct AnswerContext<'a> {
    pub(crate) ids: &'a RequestIds,
}

impl Answers {
    /// Reads `x-amazon-apigateway-gateway-responses` from the document's root.
    pub(crate) fn from_document(document: &Value, stage: &str) -> Result<Self, String> {
        let mut by_type = HashMap::new();
        let Some(map) = document.get("x-amazon-apigateway-gateway-responses") else {
            return Ok(Self {
                by_type,
                stage: stage.to_owned(),
            });
        };
        let map = map
            .as_object()
            .ok_or("x-amazon-apigateway-gateway-responses: expected an object")?;
        for (name, entry) in map {
            let what = format!("x-amazon-apigateway-gateway-responses.{name}");
            let mut custom = Custom::default();
            if let Some(status) = entry.get("statusCode") {
                let text = match status {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(format!("{what}.statusCode: expected a status code")),
                };
                let code = text
                    .parse::<u16>()
                    .ok()
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .ok_or_else(|| format!("{what}.statusCode: {text:?} is no status code"))?;
                custom.status = Some(code);
            }
            if let Some(params) = entry.get("responseParameters").and_then(Value::as_object) {
                for (target, source) in params {
                    let header = target
                        .strip_prefix("gatewayresponse.header.")
                        .ok_or_else(|| format!("{what}: unknown target {target:?}"))?;
                    let value = source.as_str().and_then(static_value).ok_or_else(|| {
                        format!(
                            "{what}: {target}: only static 'values' are supported, got {source}"
                        )
                    })?;
                    let name = HeaderName::try_from(header)
                        .map_err(|_| format!("{what}: bad header name {header:?}"))?;
                    let value = HeaderValue::try_from(value)
                        .map_err(|_| format!("{what}: bad header value for {header}"))?;
                    custom.headers.push((name, value));
                }
            }
            if let Some(templates) = entry.get("responseTemplates").and_then(Value::as_object) {
                let chosen = templates
                    .get("application/json")
                    .or_else(|| templates.values().next());
                if let Some(template) = chosen {
                    let text = template
                        .as_str()
                        .ok_or_else(|| format!("{what}.responseTemplates: expected a string"))?;
                    custom.template = Some(text.to_owned());
                }
            }
            by_type.insert(name.clone(), custom);
        }
        Ok(Self {
            by_type,
            stage: stage.to_owned(),
        })
    }

    /// The entry for a type: its own, or `DEFAULT_4XX` / `DEFAULT_5XX`.
    fn custom(&self, answer: Answer, status: StatusCode) -> Option<&Custom> {
        self.by_type.get(answer.type_name()).or_else(|| {
            let class = if status.is_client_error() {
                "DEFAULT_4XX"
            } else {
                "DEFAULT_5XX"
            };
            self.by_type.get(class)
        })
    }

    /// Whether the export changes this answer.
    pub(crate) fn is_customized(&self, answer: Answer) -> bool {
        self.custom(answer, answer.defaults().0).is_some()
    }

    /// The answer as a response, the export's gateway response applied.
    pub(crate) fn respond(&self, answer: Answer, context: &AnswerContext<'_>) -> Response<Body> {
        self.respond_detailed(answer, None, context)
    }

    /// The same, with a validator's message and errors.
    pub(crate) fn respond_detailed(
        &self,
        answer: Answer,
        detail: Option<Detail<'_>>,
        context: &AnswerContext<'_>,
    ) -> Response<Body> {
        // The detail's message quoted as JSON, with the leading space AWS
        // writes for these answers.
        let detailed = detail.map(|d| format!(" {}", Value::String(d.message.to_owned())));
        // Escaped for a JSON string **[choice]**: templates quote it
        // (`"$context.error.validationErrorString"`), and AWS's own output
        // shows the model's quotes escaped (`[\"name\"]`).
        let escaped = detail.map(|d| {
            let quoted = Value::String(d.validation_error_string.to_owned()).to_string();
            quoted[1..quoted.len() - 1].to_owned()
        });
        let validation = escaped.as_deref().unwrap_or("");
        self.respond_with(answer, detailed.as_deref(), validation, None, context)
    }

    /// An authorizer's refusal as the export's gateway response for
    /// `answer` makes it: `message` its text when it is not the type's
    /// default, `body` what it answers when the entry has no template.
    pub(crate) fn respond_refusal(
        &self,
        answer: Answer,
        message: Option<&str>,
        body: &str,
        context: &AnswerContext<'_>,
    ) -> Response<Body> {
        let quoted = message.map(|m| Value::String(m.to_owned()).to_string());
        self.respond_with(answer, quoted.as_deref(), "", Some(body), context)
    }

    fn respond_with(
        &self,
        answer: Answer,
        message_string: Option<&str>,
        validation: &str,
        default_body: Option<&str>,
        context: &AnswerContext<'_>,
    ) -> Response<Body> {
        let (default_status, error_type, default_message) = answer.defaults();
        let message_string = message_string.unwrap_or(default_message);
        let custom = self.custom(answer, default_status);
        let status = custom.and_then(|c| c.status).unwrap_or(default_status);
        let body = match (custom.and_then(|c| c.template.as_deref()), default_body) {
            (Some(template), _) => {
                self.render(template, answer, message_string, validation, context)
            }
            (None, Some(body)) => body.to_owned(),
            (None, None) => format!("{{\"message\":{message_string}}}"),
        };
        let mut res = Response::new(Body::from(body.clone()));
        *res.status_mut() = status;
        // Which answer this is, for the access log's `$context.error.*`.
        res.extensions_mut().insert(answer);
        let headers = res.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        headers.insert(X_AMZN_ERROR_TYPE, HeaderValue::from_static(error_type));
        if let Some(custom) = custom {
            for (name, value) in &custom.headers {
                headers.insert(name.clone(), value.clone());
            }
        }
        res
    }

    /// Gateway response templates are not VTL: `$context.*` substitution only;
    /// an unknown variable renders as nothing, as in API Gateway.
    fn render(
        &self,
        template: &str,
        answer: Answer,
        message_string: &str,
        validation_error_string: &str,
        context: &AnswerContext<'_>,
    ) -> String {
        let message = match message_string {
            "null" => "",
            quoted => quoted.trim_start().trim_matches('"'),
        };
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(at) = rest.find("$context.") {
            out.push_str(&rest[..at]);
            let after = &rest[at + "$context.".len()..];
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(after.len());
            let name = after[..len].trim_end_matches('.');
            let value: &str = match name {
                "error.messageString" => message_string,
                "error.message" => message,
                "error.responseType" => answer.type_name(),
                "error.validationErrorString" => validation_error_string,
                "requestId" => context.ids.request_id(),
                "extendedRequestId" => context.ids.apigw_id(),
                "stage" => &self.stage,
                _ => "",
            };
            out.push_str(value);
            rest = &after[name.len()..];
        }
        out.push_str(rest);
        out
    }
}

/// `'value'` as `value`; anything else is not static.
pub(crate) fn static_value(source: &str) -> Option<&str> {
    source.strip_prefix('\'').and_then(|s| s.strip_suffix('\''))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(res: Response<Body>) -> String {
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn defaults_are_api_gateways_bytes() {
        let answers = Answers::default();
        let ids = RequestIds::new();
        let cx = AnswerContext { ids: &ids };
        let cases = [
            (
                Answer::MissingAuthenticationToken,
                403,
                r#"{"message":"Missing Authentication Token"}"#,
                "MissingAuthenticationTokenException",
            ),
            (
                Answer::IntegrationTimeout,
                504,
                r#"{"message": "Endpoint request timed out"}"#,
                "InternalServerErrorException",
            ),
            (
                Answer::IntegrationFailure,
                504,
                r#"{"message": "Network error communicating with endpoint"}"#,
                "InternalServerErrorException",
            ),
            (
                Answer::ApiConfigurationError,
                500,
                r#"{"message": "Internal server error"}"#,
                "InternalServerErrorException",
            ),
        ];
        for (answer, status, text, error_type) in cases {
            let res = answers.respond(answer, &cx);
            assert_eq!(res.status().as_u16(), status);
            assert_eq!(res.headers()["x-amzn-errortype"], error_type);
            assert_eq!(res.headers()["content-type"], "application/json");
            assert_eq!(body(res).await, text);
        }
    }

    #[tokio::test]
    async fn gateway_responses_apply_by_type_then_class() {
        let doc = serde_json::json!({
            "x-amazon-apigateway-gateway-responses": {
                "MISSING_AUTHENTICATION_TOKEN": {
                    "statusCode": "404",
                    "responseTemplates": {"application/json": "{\"error\":$context.error.messageString,\"id\":\"$context.requestId\"}"}
                },
                "DEFAULT_5XX": {
                    "responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}
                }
            }
        });
        let answers = Answers::from_document(&doc, "local").unwrap();
        let ids = RequestIds::new();
        let cx = AnswerContext { ids: &ids };
        let res = answers.respond(Answer::MissingAuthenticationToken, &cx);
        assert_eq!(res.status(), 404);
        let expected = format!(
            "{{\"error\":\"Missing Authentication Token\",\"id\":\"{}\"}}",
            ids.request_id()
        );
        assert_eq!(body(res).await, expected);
        let res = answers.respond(Answer::IntegrationTimeout, &cx);
        assert_eq!(res.status(), 504);
        assert_eq!(res.headers()["access-control-allow-origin"], "*");
        assert!(!answers.is_customized(Answer::Unauthorized));
    }

    #[test]
    fn non_static_gateway_response_parameters_are_refused() {
        let doc = serde_json::json!({
            "x-amazon-apigateway-gateway-responses": {
                "UNAUTHORIZED": {
                    "responseParameters": {"gatewayresponse.header.X": "method.request.header.Origin"}
                }
            }
        });
        let err = Answers::from_document(&doc, "local").unwrap_err();
        assert!(err.contains("UNAUTHORIZED"), "{err}");
    }
}
