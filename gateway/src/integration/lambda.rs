//! `aws_proxy` integrations with Lambda: the request as the REST API proxy
//! event (payload format 1.0, built in [`event`]), sent with the Lambda
//! Invoke API (`POST {endpoint}/2015-03-31/functions/{name}/invocations`) to
//! `--lambda-endpoint` (a local Lambda emulator), and the function's
//! `{statusCode, headers, multiValueHeaders, body, isBase64Encoded}` as the
//! HTTP response ([`response`]), with the request's `X-Amzn-Trace-Id`
//! ([`trace`]).
//!
//! A function error (`X-Amz-Function-Error`, or an emulator's non-2xx
//! answer), an invoke that fails (endpoint unreachable, connection reset), a
//! malformed response, or one over [`MAX_INVOKE_RESPONSE`]: 502
//! `{"message": "Internal server error"}` with
//! `x-amzn-ErrorType: InternalServerErrorException`, as API Gateway answers.
//! Past `timeoutInMillis`: 504 `Endpoint request timed out`, API Gateway's
//! integration timeout (a timeout *inside* Lambda is a function error: 502).
//!
//! Integrations AWS accepts but fails at every request (LocalStack's
//! recordings against AWS), served the same way: 500 `Internal server
//! error`, the function never invoked, the startup listing saying why:
//! - an integration `httpMethod` other than `POST`
//!   (`test_lambda_aws_proxy_integration_non_post_method`);
//! - `requestParameters` onto `integration.request.header.` `Authorization`,
//!   `Connection`, `Content-Length`, `Expect`, `Proxy-Authenticate`, `TE` or
//!   `Transfer-Encoding` (`test_apigateway_header_remapping_aws[AWS_PROXY]`).
//!
//! Other `requestParameters` are ignored, as AWS does for `aws_proxy` (the
//! event carries the client's request, not the mapped one: same recording).
//!
//! `Connection: keep-alive` on HTTP/1.1 answers is the pipeline's, as for
//! every answer ([`crate::pipeline`]).
//!
//! Choices where AWS documents nothing:
//! - **[choice]** The Invoke API gets the function's *name* (and its alias or
//!   version as `?Qualifier=`), not the whole ARN: local emulators
//!   (`cargo lambda watch`, among others) know functions by name only.
//! - **[choice]** No `--lambda-endpoint`: a startup error naming the
//!   operation (the gateway does not sign calls to AWS's Lambda service);
//!   with `--allow-unsupported`, 500 as for other unsupported integrations.
//! - The body is decoded from base64 only when `isBase64Encoded` is true and
//!   the request's first `Accept` type is one of the export's
//!   `x-amazon-apigateway-binary-media-types` (AWS: "API Gateway uses the
//!   first Accept header from clients to determine if a response should
//!   return binary media"); otherwise the base64 text is the body.

mod binary;
pub(crate) mod event;
mod response;
mod trace;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use http::{Method, Request, Response, Uri};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use tower_cognito::MatchedRoute;

use crate::answers::Answer;
use crate::headers;
use crate::ids::RequestIds;
use crate::integration::http_proxy;

pub(crate) use binary::BinaryMediaTypes;

/// API Gateway's maximum and default integration timeout.
const MAX_TIMEOUT_MS: u64 = 29_000;

/// The largest Invoke answer read: API Gateway's 10 MB payload limit in
/// base64, plus room for headers. Beyond: 502.
pub(crate) const MAX_INVOKE_RESPONSE: usize = 14 * 1024 * 1024;

/// An `aws_proxy` integration, parsed once per deployment.
#[derive(Debug)]
pub(crate) struct Lambda {
    /// `{endpoint}/2015-03-31/functions/{name}/invocations[?Qualifier=...]`.
    invoke: Uri,
    /// The function as the uri names it (for the listing).
    function: String,
    account_id: String,
    timeout: Duration,
    stage_variables: Value,
    binary: BinaryMediaTypes,
    api_id: String,
    /// Why AWS would answer every request 500 (see the module docs).
    refused: Option<String>,
}

/// What parsing needs besides the integration object.
pub(crate) struct LambdaContext<'a> {
    pub(crate) endpoint: &'a str,
    pub(crate) stage_variables: &'a HashMap<String, String>,
    pub(crate) binary: &'a BinaryMediaTypes,
    pub(crate) api_id: &'a str,
}

impl Lambda {
    /// Parses the integration; stage variables in the uri are resolved now.
    pub(crate) fn parse(integration: &Value, cx: &LambdaContext<'_>) -> Result<Self, String> {
        let raw = integration
            .get("uri")
            .and_then(Value::as_str)
            .ok_or("aws_proxy: no uri")?;
        let uri = http_proxy::substitute_stage_variables(raw, cx.stage_variables)?;
        let function = function_of(&uri)?;
        let (name, qualifier, account) = split_function(function).ok_or_else(|| {
            format!("aws_proxy uri {uri:?}: {function:?} is no Lambda function name or ARN")
        })?;
        let endpoint = cx.endpoint.trim_end_matches('/');
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(format!(
                "--lambda-endpoint {endpoint:?}: expected an http:// or https:// URL"
            ));
        }
        let mut target = format!("{endpoint}/2015-03-31/functions/{name}/invocations");
        if let Some(q) = qualifier {
            target.push_str("?Qualifier=");
            target.push_str(q);
        }
        let invoke: Uri = target
            .parse()
            .map_err(|_| format!("--lambda-endpoint {endpoint:?}: not a URL"))?;
        if invoke.authority().is_none() {
            return Err(format!("--lambda-endpoint {endpoint:?}: no host"));
        }
        let timeout_ms = match integration.get("timeoutInMillis") {
            None => MAX_TIMEOUT_MS,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .filter(|ms| (50..=MAX_TIMEOUT_MS).contains(ms))
                .ok_or_else(|| format!("timeoutInMillis {v}: expected 50 to {MAX_TIMEOUT_MS}"))?,
        };
        let stage_variables = if cx.stage_variables.is_empty() {
            Value::Null
        } else {
            let mut vars: Vec<_> = cx.stage_variables.iter().collect();
            vars.sort();
            Value::Object(
                vars.into_iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            )
        };
        Ok(Self {
            invoke,
            function: function.to_owned(),
            account_id: account.unwrap_or("000000000000").to_owned(),
            timeout: Duration::from_millis(timeout_ms),
            stage_variables,
            binary: cx.binary.clone(),
            api_id: cx.api_id.to_owned(),
            refused: refusal(integration)?,
        })
    }

    /// For the startup listing.
    pub(crate) fn describe(&self) -> String {
        let mut out = format!(
            "aws_proxy lambda {} via {} (timeout {} ms)",
            self.function,
            self.invoke,
            self.timeout.as_millis()
        );
        if let Some(why) = &self.refused {
            out.push_str(" (answers 500 as AWS does: ");
            out.push_str(why);
            out.push(')');
        }
        out
    }

    /// Invokes the function with the request's event and maps its answer.
    pub(crate) async fn call(
        &self,
        req: Request<Body>,
        route: &MatchedRoute,
        ids: &RequestIds,
        stage: &str,
        max_body_bytes: u64,
    ) -> Result<Response<Body>, Answer> {
        if self.refused.is_some() {
            return Err(Answer::ApiConfigurationError);
        }
        let accept_binary = req
            .headers()
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|first| self.binary.matches(first));
        let (parts, body) = req.into_parts();
        let limit = usize::try_from(max_body_bytes).unwrap_or(usize::MAX);
        let body = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|_| Answer::RequestTooLarge)?
            .to_bytes();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let trace = trace::trace(
            parts.headers.get(headers::X_AMZN_TRACE_ID),
            ids,
            now.as_secs(),
        );
        let event = event::build(&event::Request {
            parts: &parts,
            body: &body,
            route,
            ids,
            stage,
            stage_variables: &self.stage_variables,
            binary: &self.binary,
            api_id: &self.api_id,
            account_id: &self.account_id,
            deployment_id: deployment_id(),
            now,
            trace: &trace,
        });
        let payload = serde_json::to_vec(&event).map_err(|_| Answer::ApiConfigurationError)?;

        let mut request = Request::new(Body::from(payload));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.invoke.clone();
        let h = request.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(
            "x-amz-invocation-type",
            HeaderValue::from_static("RequestResponse"),
        );
        let invoke = async {
            let response = super::backend::send(request)
                .await
                .map_err(|_| Answer::LambdaError)?;
            let failed = !response.status().is_success()
                || response.headers().contains_key("x-amz-function-error");
            let bytes = Limited::new(response.into_body(), MAX_INVOKE_RESPONSE)
                .collect()
                .await
                .map_err(|_| Answer::LambdaError)?
                .to_bytes();
            if failed {
                return Err(Answer::LambdaError);
            }
            Ok(bytes)
        };
        let bytes = match tokio::time::timeout(self.timeout, invoke).await {
            Err(_) => return Err(Answer::IntegrationTimeout),
            Ok(result) => result?,
        };
        let mut res = response::respond(&bytes, accept_binary)?;
        res.headers_mut().insert(headers::X_AMZN_TRACE_ID, trace);
        Ok(res)
    }
}

/// `requestContext.deploymentId`: six lowercase letters and digits, drawn
/// once per process.
fn deployment_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        uuid::Uuid::new_v4().as_bytes()[..6]
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % 36] as char)
            .collect()
    })
}

/// Headers a `requestParameters` mapping may not target on `aws_proxy`
/// (AWS answers every request 500), lowercase.
const UNMAPPABLE: [&str; 7] = [
    "authorization",
    "connection",
    "content-length",
    "expect",
    "proxy-authenticate",
    "te",
    "transfer-encoding",
];

/// Why AWS fails every request of this integration, if it does.
fn refusal(integration: &Value) -> Result<Option<String>, String> {
    match integration.get("httpMethod") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if m.eq_ignore_ascii_case("POST") => {}
        Some(Value::String(m)) => {
            return Ok(Some(format!(
                "integration httpMethod {m}, Lambda is invoked with POST only"
            )))
        }
        Some(other) => return Err(format!("httpMethod {other}: expected a string")),
    }
    let Some(params) = integration.get("requestParameters") else {
        return Ok(None);
    };
    let params = match params {
        Value::Null => return Ok(None),
        Value::Object(params) => params,
        _ => return Err("requestParameters: expected an object".to_owned()),
    };
    for target in params.keys() {
        let Some(header) = target.strip_prefix("integration.request.header.") else {
            continue;
        };
        if UNMAPPABLE.iter().any(|h| h.eq_ignore_ascii_case(header)) {
            return Ok(Some(format!(
                "requestParameters map onto the {header} header"
            )));
        }
    }
    Ok(None)
}

/// `{functionArn}` out of
/// `arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations`.
fn function_of(uri: &str) -> Result<&str, String> {
    let bad = || {
        format!(
            "aws_proxy uri {uri:?}: expected arn:aws:apigateway:{{region}}:lambda:path/2015-03-31/functions/{{functionArn}}/invocations"
        )
    };
    let mut fields = uri.splitn(6, ':');
    let (arn, _partition, service, region, lambda, rest) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    );
    if arn != Some("arn")
        || service != Some("apigateway")
        || region.is_none_or(str::is_empty)
        || lambda != Some("lambda")
    {
        return Err(bad());
    }
    rest.and_then(|r| r.strip_prefix("path/2015-03-31/functions/"))
        .and_then(|r| r.strip_suffix("/invocations"))
        .filter(|f| !f.is_empty())
        .ok_or_else(bad)
}

/// A function name or ARN as `(name, qualifier, account)`: `my-fn`,
/// `my-fn:alias`, `arn:aws:lambda:us-east-1:123456789012:function:my-fn[:alias]`.
/// Only Lambda's characters pass, so nothing else reaches the Invoke path.
pub(crate) fn split_function(function: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 140
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let qualifier_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$'))
    };
    let (name, qualifier, account) = match function.strip_prefix("arn:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.split(':').collect();
            match parts.as_slice() {
                [_partition, "lambda", _region, account, "function", name] => {
                    (*name, None, Some(*account))
                }
                [_partition, "lambda", _region, account, "function", name, qualifier] => {
                    (*name, Some(*qualifier), Some(*account))
                }
                _ => return None,
            }
        }
        None => match function.split_once(':') {
            Some((name, qualifier)) => (name, Some(qualifier), None),
            None => (function, None, None),
        },
    };
    let account_ok = account.is_none_or(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    (name_ok(name) && qualifier.is_none_or(qualifier_ok) && account_ok)
        .then_some((name, qualifier, account))
}

#[cfg(test)]
mod tests;
