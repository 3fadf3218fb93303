//! The REST API proxy event (payload format 1.0) a Lambda function gets,
//! checked against LocalStack's `test_lambda_aws_proxy_integration`,
//! `test_lambda_aws_proxy_integration_request_data_mapping` and
//! `test_apigateway_header_remapping_aws[AWS_PROXY]` (recorded against AWS).
//!
//! - `headers` / `queryStringParameters`: the last value of a repeated name;
//!   `multiValueHeaders` / `multiValueQueryStringParameters`: all of them, in
//!   order; each `null` when empty, as AWS sends them. Query names and values
//!   are URL-decoded (`+` a space, `%2B` a plus).
//! - `path` and `pathParameters` are as the client sent them, percent-encoding
//!   kept: AWS gave `{proxy+}` the value `.../test%2Balias@gmail.com/...`
//!   (`invocation-payload-with-path-encoded-email`). `path` keeps a trailing
//!   slash (`/proxy-value/`) and has a leading `//` as one `/`;
//!   `requestContext.path` is the client's path as it came, after the stage
//!   (`/stage//proxy-value`), as AWS sent them (`invocation-payload-with-*`).
//! - Headers a function never gets (AWS's, recorded): `Connection`,
//!   `Content-Length`, `Content-MD5`, `Expect`, `Max-Forwards`,
//!   `Proxy-Authenticate`, `Server`, `TE`, `Trailer`, `Transfer-Encoding`,
//!   `Upgrade`, `WWW-Authenticate`; also `Keep-Alive`, `Proxy-Connection`
//!   and the headers the client's `Connection` names (hop-by-hop, RFC 9110
//!   §7.6.1) **[choice]**. Every other header goes as it came, `Via` and
//!   `Content-Encoding` included.
//! - Headers API Gateway writes, replacing the client's: `X-Amzn-Trace-Id`
//!   (the [`trace`](super::trace) also sent back to the client),
//!   `X-Forwarded-For` (the client's entries, then the connection's address),
//!   `X-Forwarded-Proto` and `X-Forwarded-Port`. AWS's are `https` and `443`;
//!   **[choice]** here `http` (the gateway serves plain HTTP) and the port
//!   the client addressed (the `Host` header's, or HTTP/2's `:authority`;
//!   80 when it names none), so a function that rebuilds its URL from them
//!   gets one that reaches it, also behind a port mapping.
//! - **[choice]** Header names are title-cased (`Content-Type`,
//!   `X-Custom-Header`). AWS spells `Authorization` and `User-Agent` so
//!   whatever the client wrote (`aUThorization` arrived as `Authorization`)
//!   and keeps other names as the client spelled them (`tEsT-HEADeR`), but
//!   hyper gives the gateway lowercase names only: its HTTP/1 case map
//!   (`preserve_header_case`) is crate-private in hyper 1.x, and HTTP/2 has
//!   no case at all. Title case is how HTTP/1.1 clients send the headers
//!   they share with AWS's examples, and what mapping templates see.
//! - `requestContext.authorizer.claims`: the library's API Gateway rendering
//!   of the claims ([`ApiGatewayClaims`](tower_cognito::claims::ApiGatewayClaims)),
//!   every value a string; no `authorizer` without a verified token.
//! - `body`: `null` without one; base64 with `isBase64Encoded: true` when the
//!   request's `Content-Type` is a binary media type.
//! - **[choice]** A body that is not UTF-8 and not of a binary media type goes
//!   as base64 with `isBase64Encoded: true` rather than with replaced bytes.
//! - **[choice]** `requestContext.accountId` is the function ARN's account
//!   (`000000000000` for a bare name); `resourceId` is six characters derived
//!   from the resource path, stable across restarts; `deploymentId` is six
//!   characters drawn when the gateway starts (a reload keeps it).

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use base64::Engine as _;
use http::header::{HeaderMap, HeaderValue, CONNECTION, CONTENT_TYPE, HOST, USER_AGENT};
use serde_json::{json, Map, Value};
use tower_cognito::claims::CognitoClaims;
use tower_cognito::{MatchedRoute, PathParams};

use super::BinaryMediaTypes;
use crate::ids::RequestIds;
use crate::integration::http_proxy;
use crate::pipeline::ClientUri;

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
    pub(crate) deployment_id: &'a str,
    /// Since the Unix epoch.
    pub(crate) now: Duration,
    /// `X-Amzn-Trace-Id`.
    pub(crate) trace: &'a HeaderValue,
}

/// The proxy event for one request.
pub(crate) fn build(r: &Request<'_>) -> Value {
    let parts = r.parts;
    let epoch_ms = r.now.as_millis() as u64;
    let source_ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let authority = authority(parts);
    let (single, multi) = headers(r, authority, &source_ip);

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

    // As sent: AWS does not decode them (see the module docs).
    let path_params: Map<String, Value> = parts
        .extensions
        .get::<PathParams>()
        .map(|params| {
            params
                .iter()
                .map(|(n, v)| (n.to_owned(), Value::String(v.to_owned())))
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

    let host = authority.unwrap_or("localhost");
    let domain_prefix = host.split('.').next().unwrap_or(host);
    let user_agent = parts
        .headers
        .get(USER_AGENT)
        .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .unwrap_or(Value::Null);
    let method = parts.method.as_str();
    let client = parts.extensions.get::<ClientUri>();
    let resource = r.route.template();
    let protocol = match parts.version {
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };

    let mut context = json!({
        "accountId": r.account_id,
        "apiId": r.api_id,
        "deploymentId": r.deployment_id,
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
        "path": format!("/{}{}", r.stage, client.map_or(parts.uri.path(), ClientUri::path)),
        "protocol": protocol,
        "requestId": r.ids.request_id(),
        "requestTime": request_time(r.now.as_secs()),
        "requestTimeEpoch": epoch_ms,
        "resourceId": resource_id(resource),
        "resourcePath": resource,
        "stage": r.stage,
    });
    if let Some(claims) = parts.extensions.get::<CognitoClaims>() {
        let claims = serde_json::to_value(claims.api_gateway()).unwrap_or(Value::Null);
        context["authorizer"] = json!({ "claims": claims });
    }
    // A Lambda authorizer's principalId and context, every value a string
    // as in REST API events (crate::authorizers).
    if let Some(out) = parts
        .extensions
        .get::<tower_cognito::custom_authorizer::AuthorizerOutput>()
    {
        let mut map: Map<String, Value> = out
            .context()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_text())))
            .collect();
        map.insert("principalId".into(), out.principal_id().into());
        context["authorizer"] = Value::Object(map);
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
        "path": client.map_or(parts.uri.path(), ClientUri::routed_path),
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

/// The host the client addressed: `Host`, or HTTP/2's `:authority`.
fn authority(parts: &http::request::Parts) -> Option<&str> {
    parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(http::uri::Authority::as_str))
}

/// The port in an authority (`host:port`, `[v6]:port`); 80, plain HTTP's,
/// when it names none or no valid one.
fn port_of(authority: Option<&str>) -> u16 {
    authority
        .filter(|a| !a.ends_with(']'))
        .and_then(|a| a.rsplit_once(':'))
        .map(|(_, port)| port)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse().ok())
        .unwrap_or(80)
}

/// Request headers a function never gets, and those API Gateway writes
/// itself (see the module docs). A `match`: it runs for every header.
fn dropped(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "content-length"
            | "content-md5"
            | "expect"
            | "max-forwards"
            | "proxy-authenticate"
            | "server"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "www-authenticate"
            | "keep-alive"
            | "proxy-connection"
            | "x-amzn-trace-id"
            | "x-forwarded-for"
            | "x-forwarded-port"
            | "x-forwarded-proto"
    )
}

/// Whether the client's `Connection` names `name` (a hop-by-hop header).
fn named_by_connection(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case(name))
}

/// `headers` and `multiValueHeaders`: the client's, less the dropped ones,
/// and API Gateway's own.
fn headers(
    r: &Request<'_>,
    authority: Option<&str>,
    source_ip: &str,
) -> (Map<String, Value>, Map<String, Value>) {
    let client = &r.parts.headers;
    let connection = client.contains_key(CONNECTION);
    let mut single = Map::new();
    let mut multi = Map::new();
    let mut add = |name: String, value: String| {
        push_multi(&mut multi, &name, &value);
        single.insert(name, Value::String(value));
    };
    for (name, value) in client {
        let n = name.as_str();
        if dropped(n) || (connection && named_by_connection(client, n)) {
            continue;
        }
        add(
            title_case(n),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    if !client.contains_key(HOST) {
        if let Some(authority) = authority {
            add("Host".to_owned(), authority.to_owned());
        }
    }
    let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    add("X-Amzn-Trace-Id".to_owned(), text(r.trace));
    if let Some(value) = super::super::forwarded_for(client, source_ip) {
        add("X-Forwarded-For".to_owned(), text(&value));
    }
    add(
        "X-Forwarded-Port".to_owned(),
        port_of(authority).to_string(),
    );
    add("X-Forwarded-Proto".to_owned(), "http".to_owned());
    (single, multi)
}

/// `x-user-sub` as `X-User-Sub` (header names are ASCII).
fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_from_the_authority() {
        assert_eq!(port_of(Some("127.0.0.1:8080")), 8080);
        assert_eq!(port_of(Some("example.com")), 80);
        assert_eq!(port_of(Some("[::1]:9000")), 9000);
        assert_eq!(port_of(Some("[::1]")), 80);
        assert_eq!(port_of(Some("host:")), 80);
        assert_eq!(port_of(Some("host:99999")), 80);
        assert_eq!(port_of(Some("host:+1")), 80);
        assert_eq!(port_of(None), 80);
    }

    #[test]
    fn names_are_title_cased() {
        assert_eq!(title_case("x-amzn-trace-id"), "X-Amzn-Trace-Id");
        assert_eq!(title_case("user-agent"), "User-Agent");
        assert_eq!(title_case("te"), "Te");
        assert_eq!(title_case("a--b-"), "A--B-");
    }
}
