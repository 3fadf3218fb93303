//! `requestParameters`: `integration.request.{header|querystring|path}.NAME`
//! filled from the method request, the context (claims included) or
//! literals. Parsed once at startup; an unknown source is a startup error.
//!
//! What AWS deploys but answers otherwise than written is served as AWS
//! answers it, and named in a startup warning ([`Parsed::warnings`]; with
//! `--strict` each is a startup error instead):
//! - a mapping onto `Content-Length` or `Transfer-Encoding`: every request
//!   answers 500 (recorded, `test_apigateway_header_remapping_http`);
//! - a mapping onto a header AWS does not send (`headers.rs`): left out;
//! - a `context.*` variable AWS has but a local deployment does not
//!   (`accountId`, `deploymentId`, `domainName`, `identity.caller`...): no
//!   value, so the target is left out (a path placeholder: 500).
//!
//! `context.resourceId` is the resource's ID: AWS's is a random 10-character
//! name given when the resource is created, which an export does not carry;
//! here it is [`resource_id`] of the resource path, the same on every
//! gateway and across restarts **[choice]**.
//!
//! A name a mapping targets is the mapping's alone, for `http_proxy` and
//! `http` integrations (and a template's `$context.requestOverride.path`):
//!
//! | rule | what it stops |
//! |---|---|
//! | the client's copies of a mapped header (names compared case-insensitively) or query parameter (case-sensitively, names decoded, as API Gateway reads them; also a pair with a `;`-separated piece of that name, which some backends still split on **[choice]**) are removed before the mapped value is added | `?tenant=victim` read first by a backend, ahead of the mapped `tenant` |
//! | a mapping whose source is absent (a missing claim, a public route) sends no value and still removes the client's copies **[choice]** | the client's own `X-Role` standing in for an absent `custom:role` |
//! | a path placeholder whose mapping has no value answers 500 and calls nothing; only a placeholder no mapping targets is filled from the path parameter of its name **[choice]** | `/tenants/victim/...` sent when the tenant claim is missing |
//! | a value for a path placeholder that holds a dot segment, and a filled backend path with one or with an empty segment, answer 500 and are never sent **[choice]** | `?doc=..` reaching `/tenants/acme/docs/..`, which a backend or proxy normalizes to another tenant's resource |
//! | a `/` in a value mapped from anything but the method request's path is sent as `%2F`, as API Gateway encodes it | a value adding path segments |
//!
//! AWS documents none of those marked **[choice]**: each is the answer
//! that sends nothing the client chose in place of what the configuration
//! meant. An integration URI whose path is unsafe whatever the values is a
//! startup error. 500 is the gateway's configuration-error answer
//! (`{"message": "Internal server error"}`, `x-amzn-ErrorType:
//! InternalServerErrorException`). A dot segment is `.` or `..` with its
//! dots raw or percent-encoded (`%2E`, any case), alone or before a path
//! parameter (`..;x`, `.%3Bx`: Tomcat reads `..;x` as `..`), within parts cut
//! at `/`, `\`, `%2F` and `%5C` (a backend that decodes them sees
//! separators). A value is checked before it is encoded, so a header's
//! literal `%2e%2e` (`..` to a backend that decodes twice) is refused too.
//! The scan is the idea of `path_safety.rs` (which guards the client's own
//! request path), copied and widened to path parameters (`;`).

use std::borrow::Cow;
use std::collections::HashMap;

use http::header::{HeaderMap, HeaderName};
use serde_json::Value;

/// Where a mapped value goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Header(HeaderName),
    Query(String),
    Path(String),
}

/// Where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    PathParam(String),
    Query(String),
    MultiQuery(String),
    Header(HeaderName),
    MultiHeader(HeaderName),
    Claim(String),
    /// `context.authorizer.NAME`: a Lambda authorizer's `principalId` or
    /// `context` value (none behind a Cognito authorizer).
    Authorizer(String),
    Context(ContextVar),
    /// `'literal'`, and `stageVariables.NAME` and `context.apiId` resolved
    /// at startup.
    Literal(String),
    /// A context variable AWS has and the gateway does not: never a value.
    Unavailable,
}

/// The `context.*` variables a mapping can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContextVar {
    RequestId,
    ExtendedRequestId,
    HttpMethod,
    ResourcePath,
    Path,
    Stage,
    SourceIp,
    UserAgent,
    RequestTimeEpoch,
    RequestTime,
    ResourceId,
    Protocol,
}

/// `context.*` variables AWS accepts as a mapping source that have no value
/// in a local deployment (AWS's "$context variables" reference; `authorizer.*`
/// beyond `claims` is a Lambda authorizer's).
const UNAVAILABLE: &[&str] = &[
    "accountId",
    "awsEndpointRequestId",
    "deploymentId",
    "domainName",
    "domainPrefix",
    "error.message",
    "error.messageString",
    "error.responseType",
    "error.validationErrorString",
    "identity.accountId",
    "identity.apiKey",
    "identity.apiKeyId",
    "identity.caller",
    "identity.clientCert.clientCertPem",
    "identity.clientCert.issuerDN",
    "identity.clientCert.serialNumber",
    "identity.clientCert.subjectDN",
    "identity.clientCert.validity.notAfter",
    "identity.clientCert.validity.notBefore",
    "identity.cognitoAuthenticationProvider",
    "identity.cognitoAuthenticationType",
    "identity.cognitoIdentityId",
    "identity.cognitoIdentityPoolId",
    "identity.principalOrgId",
    "identity.user",
    "identity.userArn",
    "identity.vpcId",
    "identity.vpceId",
    "isCanaryRequest",
    "wafResponseCode",
    "webaclArn",
    "xrayTraceId",
];

/// What a deployment gives every mapping: values known at startup.
pub(crate) struct Statics<'a> {
    pub(crate) stage_variables: &'a HashMap<String, String>,
    /// `context.apiId`.
    pub(crate) api_id: &'a str,
}

/// An integration's `requestParameters`, parsed.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) mappings: Vec<Mapping>,
    /// Why every request answers 500, when one does (AWS deploys the
    /// mapping and answers so).
    pub(crate) fails: Option<String>,
    /// What is served otherwise than written, for the startup listing.
    pub(crate) warnings: Vec<String>,
}

/// One `requestParameters` entry.
#[derive(Clone, Debug)]
pub(crate) struct Mapping {
    pub(crate) target: Target,
    pub(crate) source: Source,
}

/// What a request offers to mappings.
pub(crate) struct Facts<'a> {
    pub(crate) path_params: &'a [(&'a str, &'a str)],
    /// Decoded query pairs, in order.
    pub(crate) query: &'a [(String, String)],
    pub(crate) headers: &'a HeaderMap,
    pub(crate) claims: Option<&'a tower_cognito::claims::ApiGatewayClaims>,
    /// A Lambda authorizer's `principalId` and `context`, as strings.
    pub(crate) authorizer: &'a [(String, String)],
    pub(crate) request_id: &'a str,
    pub(crate) extended_request_id: &'a str,
    pub(crate) http_method: &'a str,
    pub(crate) resource_path: &'a str,
    pub(crate) path: &'a str,
    pub(crate) stage: &'a str,
    pub(crate) source_ip: &'a str,
    pub(crate) request_time_epoch: u128,
}

/// Parses an integration's `requestParameters`.
pub(crate) fn parse(parameters: Option<&Value>, statics: &Statics<'_>) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    let Some(parameters) = parameters else {
        return Ok(out);
    };
    let map = parameters
        .as_object()
        .ok_or("requestParameters: expected an object")?;
    out.mappings.reserve(map.len());
    for (raw, source) in map {
        let source = source
            .as_str()
            .ok_or_else(|| format!("requestParameters.{raw}: expected a string"))?;
        let what = format!("requestParameters {raw:?}: {source:?}");
        let target = parse_target(raw).map_err(|e| format!("{what}: {e}"))?;
        let source = parse_source(source, statics).map_err(|e| format!("{what}: {e}"))?;
        if source == Source::Unavailable {
            out.warnings.push(format!(
                "{what}: no value in the gateway, so nothing is sent"
            ));
        }
        if let Target::Header(header) = &target {
            // The header's name as the export spells it.
            let name = raw
                .strip_prefix("integration.request.header.")
                .unwrap_or(raw);
            if *header == http::header::CONTENT_LENGTH || *header == http::header::TRANSFER_ENCODING
            {
                // AWS deploys it and answers every request 500.
                let problem =
                    format!("{what}: {name} frames the body: every request answers 500, as on AWS");
                out.fails.get_or_insert_with(|| problem.clone());
                out.warnings.push(problem);
                continue;
            }
            if crate::headers::mapped_request_dropped(header) {
                out.warnings.push(format!(
                    "{what}: {name} is not sent to the backend, as on AWS"
                ));
                continue;
            }
        }
        out.mappings.push(Mapping { target, source });
    }
    Ok(out)
}

fn parse_target(target: &str) -> Result<Target, String> {
    let rest = target
        .strip_prefix("integration.request.")
        .ok_or("the target must start with integration.request.")?;
    let (kind, name) = rest
        .split_once('.')
        .ok_or("expected integration.request.{header|querystring|path}.NAME")?;
    if name.is_empty() {
        return Err("empty name".into());
    }
    match kind {
        "header" => HeaderName::try_from(name)
            .map(Target::Header)
            .map_err(|_| format!("bad header name {name:?}")),
        "querystring" => Ok(Target::Query(name.to_owned())),
        "path" => Ok(Target::Path(name.to_owned())),
        other => Err(format!("unknown target location {other:?}")),
    }
}

fn parse_source(source: &str, statics: &Statics<'_>) -> Result<Source, String> {
    if let Some(literal) = crate::answers::static_value(source) {
        return Ok(Source::Literal(literal.to_owned()));
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return statics
            .stage_variables
            .get(name)
            .map(|v| Source::Literal(v.clone()))
            .ok_or_else(|| {
                format!("stage variable {name} is not set (--stage-variable {name}=...)")
            });
    }
    if let Some(name) = source.strip_prefix("context.authorizer.claims.") {
        if name.is_empty() {
            return Err("empty claim name".into());
        }
        return Ok(Source::Claim(name.to_owned()));
    }
    if let Some(name) = source.strip_prefix("context.authorizer.") {
        if !name.is_empty() && !name.contains('.') {
            return Ok(Source::Authorizer(name.to_owned()));
        }
    }
    if let Some(var) = source.strip_prefix("context.") {
        let var = match var {
            "requestId" => ContextVar::RequestId,
            "extendedRequestId" => ContextVar::ExtendedRequestId,
            "httpMethod" => ContextVar::HttpMethod,
            "resourcePath" => ContextVar::ResourcePath,
            "resourceId" => ContextVar::ResourceId,
            "path" => ContextVar::Path,
            "stage" => ContextVar::Stage,
            "identity.sourceIp" => ContextVar::SourceIp,
            "identity.userAgent" => ContextVar::UserAgent,
            "requestTimeEpoch" => ContextVar::RequestTimeEpoch,
            "requestTime" => ContextVar::RequestTime,
            "protocol" => ContextVar::Protocol,
            "apiId" => return Ok(Source::Literal(statics.api_id.to_owned())),
            other
                if UNAVAILABLE.contains(&other)
                    || other
                        .strip_prefix("authorizer.")
                        .is_some_and(|n| !n.is_empty()) =>
            {
                return Ok(Source::Unavailable)
            }
            other => return Err(format!("unknown context variable {other:?}")),
        };
        return Ok(Source::Context(var));
    }
    let rest = source.strip_prefix("method.request.").ok_or(
        "unknown source (expected method.request.*, context.*, stageVariables.* or 'literal')",
    )?;
    if rest == "body" || rest.starts_with("body.") {
        return Err("unsupported source: method.request.body is not supported yet".into());
    }
    let (kind, name) = rest
        .split_once('.')
        .ok_or("expected method.request.LOCATION.NAME")?;
    if name.is_empty() {
        return Err("empty name".into());
    }
    let header = || HeaderName::try_from(name).map_err(|_| format!("bad header name {name:?}"));
    Ok(match kind {
        "path" => Source::PathParam(name.to_owned()),
        "querystring" => Source::Query(name.to_owned()),
        "multivaluequerystring" => Source::MultiQuery(name.to_owned()),
        "header" => Source::Header(header()?),
        "multivalueheader" => Source::MultiHeader(header()?),
        other => return Err(format!("unsupported source location {other:?}")),
    })
}

/// `context.resourceId`: 10 lowercase letters and digits, the base-36 FNV-1a
/// (64-bit) hash of the resource path (`/pets/{petId}`), AWS's shape for a
/// resource ID; the same path always gives the same ID (see the module docs).
pub(crate) fn resource_id(resource_path: &str) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in resource_path.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = [b'0'; 10];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(hash % 36) as usize];
        hash /= 36;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

impl Source {
    /// The value for a request; `None` leaves the target out.
    /// Borrowed where the request or the mapping holds it as is (the
    /// common case: a claim, a header, a context value), so forwarding
    /// one costs no copy before the header value's own.
    pub(crate) fn value<'a>(&'a self, facts: &Facts<'a>) -> Option<Cow<'a, str>> {
        match self {
            Source::PathParam(name) => facts
                .path_params
                .iter()
                .find(|(n, _)| *n == name.as_str())
                .map(|&(_, v)| Cow::Borrowed(v)),
            Source::Query(name) => facts
                .query
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| Cow::Borrowed(v.as_str())),
            Source::MultiQuery(name) => {
                let values: Vec<&str> = facts
                    .query
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                (!values.is_empty()).then(|| Cow::Owned(values.join(",")))
            }
            Source::Header(name) => facts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(Cow::Borrowed),
            Source::MultiHeader(name) => {
                let values: Vec<&str> = facts
                    .headers
                    .get_all(name)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                (!values.is_empty()).then(|| Cow::Owned(values.join(",")))
            }
            Source::Claim(name) => facts.claims.and_then(|c| c.get(name)).map(Cow::Borrowed),
            Source::Authorizer(name) => facts
                .authorizer
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Cow::Borrowed(v.as_str())),
            Source::Context(var) => Some(match var {
                ContextVar::RequestId => Cow::Borrowed(facts.request_id),
                ContextVar::ExtendedRequestId => Cow::Borrowed(facts.extended_request_id),
                ContextVar::HttpMethod => Cow::Borrowed(facts.http_method),
                ContextVar::ResourcePath => Cow::Borrowed(facts.resource_path),
                ContextVar::Path => Cow::Borrowed(facts.path),
                ContextVar::Stage => Cow::Borrowed(facts.stage),
                ContextVar::SourceIp => Cow::Borrowed(facts.source_ip),
                ContextVar::UserAgent => facts
                    .headers
                    .get(http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(Cow::Borrowed)?,
                ContextVar::RequestTimeEpoch => Cow::Owned(facts.request_time_epoch.to_string()),
                ContextVar::RequestTime => {
                    let mut out = String::with_capacity(26);
                    crate::access_log::clf_time(&mut out, facts.request_time_epoch);
                    Cow::Owned(out)
                }
                ContextVar::ResourceId => Cow::Owned(resource_id(facts.resource_path)),
                // As `$context.protocol` renders (templates.rs).
                ContextVar::Protocol => Cow::Borrowed("HTTP/1.1"),
            }),
            Source::Literal(v) => Some(Cow::Borrowed(v.as_str())),
            Source::Unavailable => None,
        }
    }
}

/// Whether `text` (a value for a path placeholder, or a filled backend path)
/// holds a part a backend may read as `.` or `..`: see the module docs.
/// Scans the bytes once, without decoding into a copy.
pub(crate) fn has_dot_segment(text: &str) -> bool {
    /// What one byte (or `%XX` triplet) is to a path.
    enum Token {
        Cut,
        Dot,
        Parameter,
        Other,
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    // Dots at the start of the current part; `None` once it holds anything
    // else.
    let mut dots = Some(0u8);
    loop {
        let Some(&byte) = bytes.get(i) else {
            return matches!(dots, Some(1 | 2));
        };
        let (token, width) = match byte {
            b'/' | b'\\' => (Token::Cut, 1),
            b'.' => (Token::Dot, 1),
            b';' => (Token::Parameter, 1),
            b'%' => match (
                bytes.get(i + 1),
                bytes.get(i + 2).map(u8::to_ascii_uppercase),
            ) {
                (Some(b'2'), Some(b'F')) | (Some(b'5'), Some(b'C')) => (Token::Cut, 3),
                (Some(b'2'), Some(b'E')) => (Token::Dot, 3),
                (Some(b'3'), Some(b'B')) => (Token::Parameter, 3),
                _ => (Token::Other, 1),
            },
            _ => (Token::Other, 1),
        };
        match token {
            Token::Cut | Token::Parameter if matches!(dots, Some(1 | 2)) => return true,
            Token::Cut => dots = Some(0),
            // The rest of the part is the parameter, up to the next cut.
            Token::Parameter | Token::Other => dots = None,
            Token::Dot => dots = dots.map(|d| d.saturating_add(1)),
        }
        i += width;
    }
}

/// Whether a filled backend path may be sent: it starts with `/`, has no
/// empty segment (one trailing `/` aside) and no dot segment.
pub(crate) fn is_safe_backend_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    rest.split('/').all(|segment| !segment.is_empty()) && !has_dot_segment(rest)
}

#[cfg(test)]
mod tests;
