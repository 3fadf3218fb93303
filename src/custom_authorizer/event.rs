//! API Gateway's TOKEN and REQUEST authorizer events, and the identity
//! sources read from a request.

use crate::{MatchedRoute, PathParams};
use http::request::Parts;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Where the API lives: the parts of the method ARN
/// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{VERB}/{path}`,
/// and the stage's variables.
#[derive(Clone, Debug)]
pub struct ApiInfo {
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) api_id: String,
    pub(crate) stage: String,
    pub(crate) stage_variables: BTreeMap<String, String>,
}

impl Default for ApiInfo {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            api_id: "local".into(),
            stage: "prod".into(),
            stage_variables: BTreeMap::new(),
        }
    }
}

impl ApiInfo {
    /// The method ARN of a request: path without its leading `/`.
    pub(crate) fn method_arn(&self, method: &str, path: &str) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
            self.region,
            self.account_id,
            self.api_id,
            self.stage,
            method,
            path.strip_prefix('/').unwrap_or(path)
        )
    }
}

/// One identity source, as written in `identitySource`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IdentitySource {
    Header(http::HeaderName),
    Query(String),
    StageVariable(String),
    Context(String),
}

impl IdentitySource {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        if let Some(h) = text.strip_prefix("method.request.header.") {
            return http::HeaderName::try_from(h).ok().map(Self::Header);
        }
        if let Some(q) = text.strip_prefix("method.request.querystring.") {
            return nonempty(q).map(Self::Query);
        }
        if let Some(s) = text.strip_prefix("stageVariables.") {
            return nonempty(s).map(Self::StageVariable);
        }
        text.strip_prefix("context.")
            .and_then(nonempty)
            .map(Self::Context)
    }

    /// The source's value in this request; `None` when absent.
    pub(crate) fn value(
        &self,
        parts: &Parts,
        api: &ApiInfo,
        request_context: &Value,
    ) -> Option<String> {
        match self {
            // A repeated header: API Gateway reads the last one.
            Self::Header(name) => parts
                .headers
                .get_all(name)
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            Self::Query(name) => query_pairs(parts.uri.query())
                .into_iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v),
            Self::StageVariable(name) => api.stage_variables.get(name).cloned(),
            Self::Context(name) => match request_context.get(name) {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            },
        }
    }
}

/// The TOKEN event.
pub(crate) fn token_event(token: &str, method_arn: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn})
}

/// `requestContext` of a REQUEST event.
pub(crate) fn request_context(parts: &Parts, api: &ApiInfo, request_id: &str) -> Value {
    let path = parts.uri.path();
    json!({
        "path": format!("/{}{}", api.stage, path),
        "accountId": api.account_id,
        "resourceId": "",
        "stage": api.stage,
        "requestId": request_id,
        "identity": {"sourceIp": "", "userAgent": header(parts, "user-agent")},
        "resourcePath": resource(parts),
        "httpMethod": parts.method.as_str(),
        "apiId": api.api_id,
        "protocol": format!("{:?}", parts.version),
    })
}

fn header(parts: &Parts, name: &str) -> Value {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map_or(Value::Null, |v| Value::String(v.to_owned()))
}

/// The route template when a route table matched one, else the path.
fn resource(parts: &Parts) -> String {
    parts
        .extensions
        .get::<MatchedRoute>()
        .map_or_else(|| parts.uri.path().to_owned(), |r| r.template().to_owned())
}

/// The REQUEST event.
pub(crate) fn request_event(
    parts: &Parts,
    api: &ApiInfo,
    method_arn: &str,
    request_context: Value,
) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: Map<String, Value> = Map::new();
    for (name, value) in &parts.headers {
        // Bytes that are not text: passed as Latin-1 would be guessing; skipped.
        let Ok(value) = value.to_str() else { continue };
        headers.insert(name.as_str().to_owned(), Value::String(value.to_owned()));
        push(&mut multi_headers, name.as_str(), value);
    }
    let mut query = Map::new();
    let mut multi_query: Map<String, Value> = Map::new();
    for (k, v) in query_pairs(parts.uri.query()) {
        push(&mut multi_query, &k, &v);
        query.insert(k, Value::String(v));
    }
    let path_params: Map<String, Value> = parts
        .extensions
        .get::<PathParams>()
        .map(|p| {
            p.iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let stage_vars: Map<String, Value> = api
        .stage_variables
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": resource(parts),
        "path": parts.uri.path(),
        "httpMethod": parts.method.as_str(),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_params,
        "stageVariables": stage_vars,
        "requestContext": request_context,
    })
}

fn push(map: &mut Map<String, Value>, key: &str, value: &str) {
    let entry = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = entry {
        list.push(Value::String(value.to_owned()));
    }
}

/// `a=1&b=%20x` as decoded pairs; `+` is a space, as in forms.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse() {
        assert_eq!(
            IdentitySource::parse(" method.request.header.Authorization"),
            Some(IdentitySource::Header(http::header::AUTHORIZATION))
        );
        assert_eq!(
            IdentitySource::parse("method.request.querystring.t"),
            Some(IdentitySource::Query("t".into()))
        );
        assert_eq!(IdentitySource::parse("method.request.querystring."), None);
        assert_eq!(IdentitySource::parse("method.request.path.id"), None);
        assert_eq!(
            IdentitySource::parse("stageVariables.v"),
            Some(IdentitySource::StageVariable("v".into()))
        );
    }

    #[test]
    fn query_decoding() {
        assert_eq!(
            query_pairs(Some("a=1&b=%20x+y&a=2&c&%zz=%4")),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), " x y".into()),
                ("a".into(), "2".into()),
                ("c".into(), "".into()),
                ("%zz".into(), "%4".into()),
            ]
        );
    }
}
