//! The REST API proxy event (payload format 1.0) a Lambda function gets, and
//! the export's `x-amazon-apigateway-binary-media-types`.
//!
//! - `headers` / `queryStringParameters`: the last value of a repeated name;
//!   `multiValueHeaders` / `multiValueQueryStringParameters`: all of them, in
//!   order; each `null` when empty, as AWS sends them. Query names and values
//!   and path parameters are URL-decoded (REST APIs decode request
//!   parameters before passing them on).
//! - `requestContext.authorizer.claims`: the library's API Gateway rendering
//!   of the claims ([`ApiGatewayClaims`](tower_cognito::claims::ApiGatewayClaims)),
//!   every value a string; no `authorizer` without a verified token.
//! - `body`: `null` without one; base64 with `isBase64Encoded: true` when the
//!   request's `Content-Type` is a binary media type.
//! - **[choice]** Header names are lowercase (HTTP/2 has no other case, and
//!   hyper does not keep the client's); `X-Amzn-Trace-Id` and
//!   `X-Forwarded-For` are added as for `http_proxy`.
//! - **[choice]** A body that is not UTF-8 and not of a binary media type goes
//!   as base64 with `isBase64Encoded: true` rather than with replaced bytes.
//! - **[choice]** `requestContext.accountId` is the function ARN's account
//!   (`000000000000` for a bare name); `resourceId` is six characters derived
//!   from the resource path, stable across restarts.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ConnectInfo;
use base64::Engine as _;
use http::header::{CONTENT_TYPE, HOST, USER_AGENT};
use serde_json::{json, Map, Value};
use tower_cognito::claims::CognitoClaims;
use tower_cognito::{MatchedRoute, PathParams};

use crate::headers;
use crate::ids::RequestIds;
use crate::integration::http_proxy;

/// `x-amazon-apigateway-binary-media-types`: media types (`image/png`,
/// `image/*`, `*/*`) whose bodies are binary.
#[derive(Clone, Debug, Default)]
pub(crate) struct BinaryMediaTypes {
    /// Lowercase `(type, subtype)`; `*` matches anything.
    types: Vec<(String, String)>,
}

impl BinaryMediaTypes {
    /// Reads the list at the document's root; exports write `/` as `~1`.
    pub(crate) fn from_document(document: &Value) -> Result<Self, String> {
        let Some(list) = document.get("x-amazon-apigateway-binary-media-types") else {
            return Ok(Self::default());
        };
        let list = list
            .as_array()
            .ok_or("x-amazon-apigateway-binary-media-types: expected a list")?;
        let mut types = Vec::with_capacity(list.len());
        for entry in list {
            let text = entry.as_str().ok_or_else(|| {
                format!("x-amazon-apigateway-binary-media-types: {entry} is no string")
            })?;
            let text = text.replace("~1", "/").to_ascii_lowercase();
            let (t, s) = text
                .split_once('/')
                .filter(|(t, s)| !t.is_empty() && !s.is_empty())
                .ok_or_else(|| {
                    format!("x-amazon-apigateway-binary-media-types: {text:?} is no media type")
                })?;
            types.push((t.trim().to_owned(), s.trim().to_owned()));
        }
        Ok(Self { types })
    }

    /// Whether a `Content-Type` or `Accept` value (parameters ignored) is binary.
    pub(crate) fn matches(&self, media_type: &str) -> bool {
        let essence = media_type.split(';').next().unwrap_or("").trim();
        let Some((t, s)) = essence.split_once('/') else {
            return false;
        };
        let (t, s) = (t.to_ascii_lowercase(), s.to_ascii_lowercase());
        self.types
            .iter()
            .any(|(bt, bs)| (bt == "*" || *bt == t) && (bs == "*" || *bs == s))
    }
}

/// What the event is built from.
pub(crate) struct Request<'a> {
    pub(crate) parts: &'a http::request::Parts,
    pub(crate) body: &'a [u8],
    pub(crate) route: &'a MatchedRoute,
    pub(crate) ids: &'a RequestIds,
    pub(crate) stage: &'a str,
    pub(crate) stage_variables: &'a Value,
    pub(crate) binary: &'a BinaryMediaTypes,
    pub(crate) api_id: &'a str,
    pub(crate) account_id: &'a str,
}

/// The proxy event for one request.
pub(crate) fn build(r: &Request<'_>) -> Value {
    let parts = r.parts;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let epoch_ms = now.as_millis() as u64;
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();

    // Headers: the client's, and what API Gateway adds.
    let mut header_map = parts.headers.clone();
    header_map.insert(
        headers::X_AMZN_TRACE_ID,
        headers::trace_id(r.ids.request_id(), now.as_secs()),
    );
    if let Some(value) = super::super::forwarded_for(&parts.headers, &source_ip) {
        header_map.insert(headers::X_FORWARDED_FOR, value);
    }
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in &header_map {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        push_multi(&mut multi, name.as_str(), &value);
        single.insert(name.as_str().to_owned(), Value::String(value));
    }

    let mut query = Map::new();
    let mut multi_query: Map<String, Value> = Map::new();
    for pair in parts.uri.query().unwrap_or("").split('&') {
        if pair.is_empty() {
            continue;
        }
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (n, v) = (http_proxy::decode(n), http_proxy::decode(v));
        push_multi(&mut multi_query, &n, &v);
        query.insert(n, Value::String(v));
    }

    let path_params: Map<String, Value> = parts
        .extensions
        .get::<PathParams>()
        .map(|params| {
            params
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_owned(),
                        Value::String(
                            percent_encoding::percent_decode_str(v)
                                .decode_utf8_lossy()
                                .into_owned(),
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default();

    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (body, base64) = if r.body.is_empty() {
        (Value::Null, false)
    } else {
        match std::str::from_utf8(r.body) {
            Ok(text) if !r.binary.matches(content_type) => (Value::String(text.to_owned()), false),
            _ => (
                Value::String(base64::engine::general_purpose::STANDARD.encode(r.body)),
                true,
            ),
        }
    };

    let host = parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let domain_prefix = host.split('.').next().unwrap_or(host);
    let user_agent = parts
        .headers
        .get(USER_AGENT)
        .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .unwrap_or(Value::Null);
    let method = parts.method.as_str();
    let resource = r.route.template();
    let protocol = match parts.version {
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };

    let mut context = json!({
        "accountId": r.account_id,
        "apiId": r.api_id,
        "domainName": host,
        "domainPrefix": domain_prefix,
        "extendedRequestId": r.ids.apigw_id(),
        "httpMethod": method,
        "identity": {
            "accessKey": null,
            "accountId": null,
            "caller": null,
            "cognitoAuthenticationProvider": null,
            "cognitoAuthenticationType": null,
            "cognitoIdentityId": null,
            "cognitoIdentityPoolId": null,
            "principalOrgId": null,
            "sourceIp": source_ip,
            "user": null,
            "userAgent": user_agent,
            "userArn": null,
        },
        "path": format!("/{}{}", r.stage, parts.uri.path()),
        "protocol": protocol,
        "requestId": r.ids.request_id(),
        "requestTime": request_time(now.as_secs()),
        "requestTimeEpoch": epoch_ms,
        "resourceId": resource_id(resource),
        "resourcePath": resource,
        "stage": r.stage,
    });
    if let Some(claims) = parts.extensions.get::<CognitoClaims>() {
        let claims = serde_json::to_value(claims.api_gateway()).unwrap_or(Value::Null);
        context["authorizer"] = json!({ "claims": claims });
    }

    let or_null = |m: Map<String, Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };
    json!({
        "resource": resource,
        "path": parts.uri.path(),
        "httpMethod": method,
        "headers": or_null(single),
        "multiValueHeaders": or_null(multi),
        "queryStringParameters": or_null(query),
        "multiValueQueryStringParameters": or_null(multi_query),
        "pathParameters": or_null(path_params),
        "stageVariables": r.stage_variables,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": base64,
    })
}

fn push_multi(map: &mut Map<String, Value>, name: &str, value: &str) {
    match map.get_mut(name) {
        Some(Value::Array(values)) => values.push(Value::String(value.to_owned())),
        _ => {
            map.insert(
                name.to_owned(),
                Value::Array(vec![Value::String(value.to_owned())]),
            );
        }
    }
}

/// `$context.requestTime`: `01/Dec/2026:11:47:14 +0000`.
pub(crate) fn request_time(secs: u64) -> String {
    let mut out = String::with_capacity(26);
    crate::access_log::clf_time(&mut out, u128::from(secs) * 1000);
    out
}

/// Six lowercase letters and digits from the resource path (FNV-1a).
fn resource_id(resource: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in resource.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|i| ALPHABET[((hash >> (i * 8)) % 36) as usize] as char)
        .collect()
}
