//! API Gateway's TOKEN and REQUEST authorizer events, and the identity
//! sources read from a request.
//!
//! The REQUEST event follows AWS's "Input to an API Gateway Lambda
//! authorizer": `resource` and `pathParameters` of the matched route,
//! `requestContext` the request's `$context`. Its `identity` has the keys of
//! the Lambda proxy event's (recorded against AWS by LocalStack's
//! `test_lambda_aws_proxy_integration`), `sourceIp` the client's address as
//! the connection gives it (axum's `ConnectInfo<SocketAddr>` in the request
//! extensions, which `into_make_service_with_connect_info` adds), empty
//! without one.
//!
//! The route: a [`MatchedRoute`] and [`PathParams`] another layer (a policy
//! table) added, else, behind axum's router, its `MatchedPath` (`{*rest}`
//! written `{rest+}` as API Gateway writes a greedy parameter) with the
//! values read off the path; else the path itself and no parameters.

use crate::{MatchedRoute, PathParams};
use http::request::Parts;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
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
    /// The method ARN of a request: path without its leading `/`. Built
    /// for every request, cached answers included: pushed, not formatted.
    pub(crate) fn method_arn(&self, method: &str, path: &str) -> String {
        let path = path.strip_prefix('/').unwrap_or(path);
        let parts = [
            "arn:aws:execute-api:",
            &self.region,
            ":",
            &self.account_id,
            ":",
            &self.api_id,
            "/",
            &self.stage,
            "/",
            method,
            "/",
            path,
        ];
        let mut arn = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            arn.push_str(part);
        }
        arn
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

    /// The source's value in this request; `None` when absent. Borrowed
    /// where the request holds it as it is (a header, a stage variable).
    /// `request_context` is read only by a `context.X` source.
    pub(crate) fn value<'a>(
        &self,
        parts: &'a Parts,
        api: &'a ApiInfo,
        request_context: Option<&Value>,
    ) -> Option<Cow<'a, str>> {
        match self {
            // A repeated header: API Gateway reads the last one.
            Self::Header(name) => parts
                .headers
                .get_all(name)
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .map(Cow::Borrowed),
            Self::Query(name) => query_pairs(parts.uri.query())
                .into_iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Cow::Owned(v)),
            Self::StageVariable(name) => api
                .stage_variables
                .get(name)
                .map(|v| Cow::Borrowed(v.as_str())),
            // `context.identity.sourceIp` reads into `identity`.
            Self::Context(name) => {
                let mut at = request_context?;
                for key in name.split('.') {
                    at = at.get(key)?;
                }
                at.as_str().map(|s| Cow::Owned(s.to_owned()))
            }
        }
    }
}

impl IdentitySource {
    /// The source's value as bytes, a header's unchecked: what the cache
    /// matches a request on. A header holding more than visible ASCII is
    /// absent to [`value`](Self::value); [`visible`] tells them apart.
    pub(crate) fn raw<'a>(
        &self,
        parts: &'a Parts,
        api: &'a ApiInfo,
        request_context: Option<&Value>,
    ) -> Option<Cow<'a, [u8]>> {
        match self {
            Self::Header(name) => parts
                .headers
                .get_all(name)
                .iter()
                .next_back()
                .map(|v| Cow::Borrowed(v.as_bytes())),
            _ => self.value(parts, api, request_context).map(|v| match v {
                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            }),
        }
    }
}

/// Whether a header value is text as `HeaderValue::to_str` takes it:
/// visible ASCII and tabs.
pub(crate) fn visible(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
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
        "identity": {
            "accessKey": null,
            "accountId": null,
            "caller": null,
            "cognitoAuthenticationProvider": null,
            "cognitoAuthenticationType": null,
            "cognitoIdentityId": null,
            "cognitoIdentityPoolId": null,
            "principalOrgId": null,
            "sourceIp": source_ip(parts),
            "user": null,
            "userAgent": header(parts, "user-agent"),
            "userArn": null,
        },
        "resourcePath": route(parts).0,
        "httpMethod": parts.method.as_str(),
        "apiId": api.api_id,
        "protocol": format!("{:?}", parts.version),
    })
}

/// The client's address, as the connection gives it (see the module docs).
fn source_ip(parts: &Parts) -> String {
    #[cfg(feature = "axum")]
    if let Some(info) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        return info.0.ip().to_string();
    }
    let _ = parts;
    String::new()
}

fn header(parts: &Parts, name: &str) -> Value {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map_or(Value::Null, |v| Value::String(v.to_owned()))
}

/// The route's template and parameters (see the module docs).
fn route(parts: &Parts) -> (String, Map<String, Value>) {
    let text = |(k, v): (&str, &str)| (k.to_owned(), Value::String(v.to_owned()));
    if let Some(r) = parts.extensions.get::<MatchedRoute>() {
        let params = parts
            .extensions
            .get::<PathParams>()
            .map(|p| p.iter().map(text).collect())
            .unwrap_or_default();
        return (r.template().to_owned(), params);
    }
    #[cfg(feature = "axum")]
    if let Some(matched) = parts.extensions.get::<axum::extract::MatchedPath>() {
        return axum_route(matched.as_str(), parts.uri.path());
    }
    (parts.uri.path().to_owned(), Map::new())
}

/// An axum route template as API Gateway writes it, and its parameters'
/// values on `path` (none when the path does not fit it, as behind a
/// nested router whose prefix was stripped).
#[cfg(feature = "axum")]
pub(crate) fn axum_route(template: &str, path: &str) -> (String, Map<String, Value>) {
    let mut resource = String::with_capacity(template.len());
    let mut params = Map::new();
    let mut rest = path.strip_prefix('/').unwrap_or(path);
    let mut fits = true;
    for (i, segment) in template.trim_start_matches('/').split('/').enumerate() {
        if i > 0 || template.starts_with('/') {
            resource.push('/');
        }
        let name = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
        match name {
            Some(greedy) if greedy.starts_with('*') => {
                let greedy = &greedy[1..];
                resource.push_str(&format!("{{{greedy}+}}"));
                params.insert(greedy.to_owned(), Value::String(rest.to_owned()));
                rest = "";
            }
            Some(name) => {
                resource.push_str(segment);
                let (value, after) = rest.split_once('/').unwrap_or((rest, ""));
                fits &= !value.is_empty();
                params.insert(name.to_owned(), Value::String(value.to_owned()));
                rest = after;
            }
            None => {
                resource.push_str(segment);
                let (value, after) = rest.split_once('/').unwrap_or((rest, ""));
                fits &= value == segment;
                rest = after;
            }
        }
    }
    if !fits || !rest.is_empty() {
        params.clear();
    }
    (resource, params)
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
    let (resource, path_params) = route(parts);
    let stage_vars: Map<String, Value> = api
        .stage_variables
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": resource,
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

    #[cfg(feature = "axum")]
    #[test]
    fn axum_routes_as_api_gateway_writes_them() {
        let params = |pairs: &[(&str, &str)]| -> Map<String, Value> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
                .collect()
        };
        assert_eq!(
            axum_route("/pets/{id}/files/{*rest}", "/pets/7/files/a/b%2Fc"),
            (
                "/pets/{id}/files/{rest+}".to_owned(),
                params(&[("id", "7"), ("rest", "a/b%2Fc")])
            )
        );
        assert_eq!(axum_route("/", "/"), ("/".to_owned(), Map::new()));
        assert_eq!(
            axum_route("/pets/{id}", "/pets/7/"),
            ("/pets/{id}".to_owned(), params(&[("id", "7")]))
        );
        // A path that does not fit (a nested router's stripped prefix): no values.
        assert_eq!(
            axum_route("/api/pets/{id}", "/pets/7"),
            ("/api/pets/{id}".to_owned(), Map::new())
        );
        assert_eq!(
            axum_route("/pets/{id}", "/pets//"),
            ("/pets/{id}".to_owned(), Map::new())
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
