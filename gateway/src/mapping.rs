//! `requestParameters`: `integration.request.{header|querystring|path}.NAME`
//! filled from the method request, the context (claims included) or
//! literals. Parsed once at startup; an unknown source or a mapping onto
//! `Content-Length` / `Transfer-Encoding` is a startup error.

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
