//! The integrations of an export's operations, one module per type, and the
//! pieces `mock` and `http` share: [`templates`] (the request side),
//! [`responses`] (the response side), [`request`] (what a request offers).
//! `aws` (AWS service integrations, signed calls built from templates) is
//! not supported: a startup error naming the operation, or API Gateway's
//! 500 with `--allow-unsupported`.

pub(crate) mod backend;
pub(crate) mod deadline;
pub(crate) mod echo;
pub(crate) mod http;
pub(crate) mod http_proxy;
pub(crate) mod lambda;
pub(crate) mod mock;
pub(crate) mod request;
pub(crate) mod responses;
pub(crate) mod templates;

use std::collections::HashMap;

use ::http::header::{HeaderValue, CONTENT_LENGTH};
use ::http::{HeaderMap, StatusCode};
use axum::body::Body;
use bytes::Bytes;
use serde_json::Value;

use self::http::Http;
use http_proxy::HttpProxy;
use lambda::{BinaryMediaTypes, Lambda, LambdaContext};
use mock::Mock;

/// What parsing an integration needs from the configuration.
pub(crate) struct ParseContext<'a> {
    pub(crate) allow_unsupported: bool,
    pub(crate) stage_variables: &'a HashMap<String, String>,
    pub(crate) bases: &'a http_proxy::Bases,
    pub(crate) api_id: &'a str,
    /// `--lambda-endpoint`, for `aws_proxy`.
    pub(crate) lambda_endpoint: Option<&'a str>,
    pub(crate) binary_media_types: &'a BinaryMediaTypes,
}

/// What an operation does once authorized.
#[derive(Debug)]
pub(crate) enum Integration {
    /// No `x-amazon-apigateway-integration`: the route and claims as JSON.
    Echo,
    /// `type: mock`.
    Mock(Mock),
    /// `type: http_proxy`.
    HttpProxy(HttpProxy),
    /// `type: http`.
    Http(Http),
    /// `type: aws_proxy` with a Lambda function.
    Lambda(Lambda),
    /// A type not supported yet, served as 500 (`--allow-unsupported`).
    Unsupported(String),
}

impl Integration {
    /// Parses an operation's integration; `Err` says what is wrong.
    pub(crate) fn parse(operation: &Value, cx: &ParseContext<'_>) -> Result<Self, String> {
        let Some(integration) = operation.get("x-amazon-apigateway-integration") else {
            return Ok(Integration::Echo);
        };
        let kind = integration
            .get("type")
            .and_then(Value::as_str)
            .ok_or("x-amazon-apigateway-integration: no type")?
            .to_ascii_lowercase();
        match kind.as_str() {
            "mock" => Mock::parse(integration, cx).map(Integration::Mock),
            "http" => Http::parse(integration, cx).map(Integration::Http),
            "http_proxy" => {
                HttpProxy::parse(integration, cx.stage_variables, cx.bases, cx.api_id)
                    .map(Integration::HttpProxy)
            }
            "aws_proxy" => match cx.lambda_endpoint {
                Some(endpoint) => Lambda::parse(
                    integration,
                    &LambdaContext {
                        endpoint,
                        stage_variables: cx.stage_variables,
                        binary: cx.binary_media_types,
                        api_id: cx.api_id,
                    },
                )
                .map(Integration::Lambda),
                None if cx.allow_unsupported => Ok(Integration::Unsupported(kind)),
                None => Err("aws_proxy needs --lambda-endpoint URL (LAMBDA_ENDPOINT): where the Lambda Invoke API is served (--allow-unsupported answers 500 instead)".to_owned()),
            },
            "aws" if cx.allow_unsupported => Ok(Integration::Unsupported(kind)),
            // AWS service integrations (signed calls built from templates)
            // are out of scope: refused by name, or 500 when allowed.
            "aws" => Err(
                "integration type aws (an AWS service integration) is not supported \
                 (--allow-unsupported answers 500 instead)"
                    .to_owned(),
            ),
            other => Err(format!("unknown integration type {other:?}")),
        }
    }

    /// For the startup listing.
    pub(crate) fn describe(&self) -> String {
        match self {
            Integration::Echo => "echo".to_owned(),
            Integration::Mock(mock) => mock.describe(),
            Integration::HttpProxy(proxy) => proxy.describe(),
            Integration::Http(http) => http.describe(),
            Integration::Lambda(lambda) => lambda.describe(),
            Integration::Unsupported(kind) => format!("{kind} (unsupported: answers 500)"),
        }
    }
}

/// The statuses a method response may have: 200 to 599 for a template's
/// override and an integration response (**[choice]**: a 1xx would be an
/// interim response the client never asked for, a 100-199 from a
/// configuration is as malformed as one from a function).
pub(crate) fn final_status(code: u16) -> Option<StatusCode> {
    (200..=599)
        .contains(&code)
        .then(|| StatusCode::from_u16(code).ok())
        .flatten()
}

/// The body of a response the gateway frames itself, with its
/// `Content-Length`: none for 204 and 304, which carry no content (RFC 9110
/// §6.4.1); a length header on them would make clients wait for bytes that
/// never come, or read the next response as this one's body.
pub(crate) fn framed_body(status: StatusCode, headers: &mut HeaderMap, body: Bytes) -> Body {
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        headers.remove(CONTENT_LENGTH);
        return Body::empty();
    }
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    Body::from(body)
}

/// `X-Forwarded-For` toward a backend: the client's own entries, then the
/// connection's address, as one field (AWS appends the address it saw).
/// Only the last entry is the gateway's: a backend may trust that one and
/// nothing before it, which the client wrote **[choice]**. One field, not a
/// second line, so a backend that reads the first line alone still sees the
/// gateway's entry last.
pub(crate) fn forwarded_for(client: &HeaderMap, source_ip: &str) -> Option<HeaderValue> {
    let mut value = String::new();
    for line in client.get_all(crate::headers::X_FORWARDED_FOR) {
        let Ok(line) = line.to_str() else { continue };
        let line = line.trim();
        if !line.is_empty() {
            value.push_str(line);
            value.push_str(", ");
        }
    }
    value.push_str(source_ip);
    HeaderValue::from_str(&value).ok()
}
