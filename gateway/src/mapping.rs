//! `requestParameters`: `integration.request.{header|querystring|path}.NAME`
//! filled from the method request, the context (claims included) or
//! literals. Parsed once at startup; an unknown source or a mapping onto
//! `Content-Length` / `Transfer-Encoding` is a startup error.
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
    Context(ContextVar),
    /// `'literal'`, and `stageVariables.NAME` resolved at startup.
    Literal(String),
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
    RequestTimeEpoch,
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
pub(crate) fn parse(
    parameters: Option<&Value>,
    stage_variables: &HashMap<String, String>,
) -> Result<Vec<Mapping>, String> {
    let Some(parameters) = parameters else {
        return Ok(Vec::new());
    };
    let map = parameters
        .as_object()
        .ok_or("requestParameters: expected an object")?;
    let mut out = Vec::with_capacity(map.len());
    for (target, source) in map {
        let source = source
            .as_str()
            .ok_or_else(|| format!("requestParameters.{target}: expected a string"))?;
        let what = format!("requestParameters {target:?}: {source:?}");
        let target = parse_target(target).map_err(|e| format!("{what}: {e}"))?;
        let source = parse_source(source, stage_variables).map_err(|e| format!("{what}: {e}"))?;
        out.push(Mapping { target, source });
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
        "header" => {
            let header =
                HeaderName::try_from(name).map_err(|_| format!("bad header name {name:?}"))?;
            if header == http::header::CONTENT_LENGTH || header == http::header::TRANSFER_ENCODING {
                // AWS answers every such request with 500: refuse it up front.
                return Err(format!("{name} cannot be mapped (it frames the body)"));
            }
            Ok(Target::Header(header))
        }
        "querystring" => Ok(Target::Query(name.to_owned())),
        "path" => Ok(Target::Path(name.to_owned())),
        other => Err(format!("unknown target location {other:?}")),
    }
}

fn parse_source(source: &str, stage_variables: &HashMap<String, String>) -> Result<Source, String> {
    if let Some(literal) = crate::answers::static_value(source) {
        return Ok(Source::Literal(literal.to_owned()));
    }
    if let Some(name) = source.strip_prefix("stageVariables.") {
        return stage_variables
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
    if let Some(var) = source.strip_prefix("context.") {
        let var = match var {
            "requestId" => ContextVar::RequestId,
            "extendedRequestId" => ContextVar::ExtendedRequestId,
            "httpMethod" => ContextVar::HttpMethod,
            "resourcePath" => ContextVar::ResourcePath,
            "path" => ContextVar::Path,
            "stage" => ContextVar::Stage,
            "identity.sourceIp" => ContextVar::SourceIp,
            "requestTimeEpoch" => ContextVar::RequestTimeEpoch,
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
            Source::Context(var) => Some(match var {
                ContextVar::RequestId => Cow::Borrowed(facts.request_id),
                ContextVar::ExtendedRequestId => Cow::Borrowed(facts.extended_request_id),
                ContextVar::HttpMethod => Cow::Borrowed(facts.http_method),
                ContextVar::ResourcePath => Cow::Borrowed(facts.resource_path),
                ContextVar::Path => Cow::Borrowed(facts.path),
                ContextVar::Stage => Cow::Borrowed(facts.stage),
                ContextVar::SourceIp => Cow::Borrowed(facts.source_ip),
                ContextVar::RequestTimeEpoch => Cow::Owned(facts.request_time_epoch.to_string()),
            }),
            Source::Literal(v) => Some(Cow::Borrowed(v.as_str())),
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
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> HashMap<String, String> {
        HashMap::from([("env".to_owned(), "beta".to_owned())])
    }

    #[test]
    fn targets_and_sources_parse() {
        let m = parse(
            Some(&json!({
                "integration.request.header.X-User-Sub": "context.authorizer.claims.sub",
                "integration.request.header.X-Role": "context.authorizer.claims.custom:role",
                "integration.request.querystring.env": "stageVariables.env",
                "integration.request.path.id": "method.request.path.petId",
                "integration.request.header.X-Lit": "'fixed'",
                "integration.request.header.X-Req": "context.requestId"
            })),
            &vars(),
        )
        .unwrap();
        assert_eq!(m.len(), 6);
        assert!(m
            .iter()
            .any(|m| m.source == Source::Claim("custom:role".into())));
        assert!(m.iter().any(|m| m.target == Target::Query("env".into())
            && m.source == Source::Literal("beta".into())));
    }

    #[test]
    fn dot_segments_raw_encoded_cut_or_with_parameters() {
        for text in [
            ".",
            "..",
            "%2e",
            "%2E%2e",
            ".%2E",
            "a/..",
            "../a",
            "a%2F..",
            "a%2f.",
            "a%5C..",
            "a\\..",
            "..\\a",
            "..;",
            "..;jsessionid=1",
            ".;x",
            "..%3Bx",
            "%2e%2e%3b",
            "a/..;x/b",
            "x;y/..",
        ] {
            assert!(has_dot_segment(text), "{text}");
        }
        for text in [
            "",
            "...",
            ".hidden",
            "a..b",
            "..a",
            "a..",
            "...;x",
            "a;..",
            "a%2F..b",
            "%2e%2e%2e",
            "%252e%252e",
            "%",
            ".%2",
            "%zz..",
        ] {
            assert!(!has_dot_segment(text), "{text}");
        }
    }

    #[test]
    fn backend_paths_without_dot_or_empty_segments() {
        for path in ["/", "/a", "/a/", "/a/b%2Fc", "/a;v=1/b", "/a/..."] {
            assert!(is_safe_backend_path(path), "{path}");
        }
        for path in [
            "",
            "a",
            "//",
            "/a//b",
            "/a/..",
            "/a/./b",
            "/a/..;x",
            "/a/%2e%2E/",
        ] {
            assert!(!is_safe_backend_path(path), "{path}");
        }
    }

    #[test]
    fn bad_mappings_are_refused() {
        for (target, source, expected) in [
            (
                "integration.request.header.Content-Length",
                "'1'",
                "frames the body",
            ),
            (
                "integration.request.header.transfer-encoding",
                "'chunked'",
                "frames the body",
            ),
            (
                "integration.request.header.X",
                "method.request.body",
                "unsupported source",
            ),
            (
                "integration.request.header.X",
                "context.nope",
                "unknown context variable",
            ),
            ("integration.request.header.X", "whatever", "unknown source"),
            (
                "integration.request.header.X",
                "stageVariables.missing",
                "not set",
            ),
            ("integration.request.cookie.X", "'1'", "unknown target"),
            ("method.request.header.X", "'1'", "integration.request."),
        ] {
            let err = parse(Some(&json!({ target: source })), &vars()).unwrap_err();
            assert!(err.contains(expected), "{target} <- {source}: {err}");
        }
    }
}
