//! The function's proxy response `{statusCode, headers, multiValueHeaders,
//! body, isBase64Encoded}` as the HTTP response, as AWS reads it
//! (LocalStack's `test_aws_proxy_response_payload_format_validation`,
//! `test_lambda_aws_proxy_response_format` and
//! `test_aws_proxy_binary_response`, recorded against AWS):
//!
//! - every field is optional: no `statusCode` (or `null`) is 200, so `{}` is
//!   an empty 200 (`empty-response`); a string of digits is a status
//!   (`invoke-api-status-code-str`);
//! - any other field, a `statusCode` that is no number, a header value that
//!   is no string or boolean (`true` is sent as `true`), `multiValueHeaders`
//!   values that are no lists, a body that is no string, or no JSON object
//!   at all: 502 `Internal server error`;
//! - `headers` and `multiValueHeaders` naming one header (in any case) are
//!   merged: the `multiValueHeaders` values, then the `headers` one
//!   (`invoke-api-multi-headers-overwrite`: `value-multi, value-solo`);
//! - `isBase64Encoded` with a binary `Accept`: the body is decoded; base64
//!   that does not decode is 500 `Internal server error` (`19-test3`), not
//!   the 502 of a malformed answer;
//! - no `Content-Type`: `application/json`.
//!
//! **[choice]** A header name or value HTTP cannot carry (CR, LF, NUL...)
//! makes the whole response malformed (502): nothing is injected, nothing
//! silently dropped. A 1xx status is malformed too (an interim response the
//! client never asked for). The function's `Content-Length` is renamed
//! `x-amzn-Remapped-Content-Length` (the gateway frames the body itself),
//! then API Gateway's header table ([`headers::from_backend`]) applies.

use axum::body::Body;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};
use serde_json::Value;

use crate::answers::Answer;
use crate::headers;

/// The function's answer as the HTTP response.
pub(crate) fn respond(bytes: &[u8], accept_binary: bool) -> Result<Response<Body>, Answer> {
    const MALFORMED: Answer = Answer::LambdaError;
    let answer: Value = serde_json::from_slice(bytes).map_err(|_| MALFORMED)?;
    let answer = answer.as_object().ok_or(MALFORMED)?;
    const FIELDS: [&str; 5] = [
        "statusCode",
        "headers",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
    ];
    if answer.keys().any(|k| !FIELDS.contains(&k.as_str())) {
        return Err(MALFORMED);
    }
    let status = match answer.get("statusCode") {
        None | Some(Value::Null) => StatusCode::OK,
        Some(code) => {
            let code = match code {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            code.and_then(|c| u16::try_from(c).ok())
                .and_then(super::super::final_status)
                .ok_or(MALFORMED)?
        }
    };
    let base64 = match answer.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(MALFORMED),
    };
    let headers =
        merged_headers(answer.get("multiValueHeaders"), answer.get("headers")).ok_or(MALFORMED)?;
    let body: Bytes = match answer.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if base64 && accept_binary => {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .map_err(|_| Answer::ApiConfigurationError)?
                .into()
        }
        Some(Value::String(s)) => Bytes::copy_from_slice(s.as_bytes()),
        Some(_) => return Err(MALFORMED),
    };

    let mut headers = headers::from_backend(headers);
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let body = super::super::framed_body(status, &mut headers, body);
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    Ok(res)
}

/// `multiValueHeaders`, then `headers` appended under the same name (a
/// `HeaderName` is case-insensitive, so `tesT-Multi` and `test-multi` are one
/// header); the function's `Content-Length` renamed. `None`: malformed.
fn merged_headers(multi: Option<&Value>, single: Option<&Value>) -> Option<HeaderMap> {
    let multi = match multi {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return None,
    };
    let single = match single {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return None,
    };
    let size = multi.map_or(0, |m| m.len()) + single.map_or(0, |m| m.len());
    let mut map = HeaderMap::with_capacity(size);
    for (name, values) in multi.into_iter().flatten() {
        let name = header_name(name)?;
        for value in values.as_array()? {
            map.append(name.clone(), header_value(value)?);
        }
    }
    for (name, value) in single.into_iter().flatten() {
        map.append(header_name(name)?, header_value(value)?);
    }
    if map.contains_key(CONTENT_LENGTH) {
        static REMAPPED: HeaderName = HeaderName::from_static("x-amzn-remapped-content-length");
        let framed: Vec<HeaderValue> = map.get_all(CONTENT_LENGTH).iter().cloned().collect();
        map.remove(CONTENT_LENGTH);
        for v in framed {
            map.append(REMAPPED.clone(), v);
        }
    }
    Some(map)
}

fn header_name(name: &str) -> Option<HeaderName> {
    HeaderName::from_bytes(name.as_bytes()).ok()
}

/// Strings and booleans (`true` as `true`), as AWS reads them.
fn header_value(value: &Value) -> Option<HeaderValue> {
    match value {
        Value::String(s) => HeaderValue::from_str(s).ok(),
        Value::Bool(true) => Some(HeaderValue::from_static("true")),
        Value::Bool(false) => Some(HeaderValue::from_static("false")),
        _ => None,
    }
}
