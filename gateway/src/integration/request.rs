//! What an integration reads from the method request besides its body: path
//! parameters, decoded query pairs, headers, claims and the `$context`
//! facts, gathered once per request; and the body, read whole for the
//! integrations that template it.

use std::net::{IpAddr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::{Bytes, BytesMut};
use http::request::Parts;
use http::HeaderMap;
use http_body_util::{BodyExt, Limited};
use tower_cognito::claims::CognitoClaims;
use tower_cognito::{MatchedRoute, PathParams};

use super::http_proxy;
use crate::answers::Answer;
use crate::ids::RequestIds;
use crate::mapping::Facts;

/// The method request's facts, gathered from its head (borrowed where they
/// can be: the headers and claims are not copied); [`RequestData::facts`]
/// lends them.
pub(crate) struct RequestData<'r> {
    path_params: Vec<(&'r str, &'r str)>,
    query: Vec<(String, String)>,
    headers: &'r HeaderMap,
    claims: Option<&'r CognitoClaims>,
    /// A Lambda authorizer's `principalId` and `context`, as strings.
    authorizer: Vec<(String, String)>,
    method: &'r str,
    /// `/{stage}{path}`.
    path: String,
    resource_path: &'r str,
    source_ip: String,
    epoch_ms: u128,
}

impl<'r> RequestData<'r> {
    pub(crate) fn new(req: &'r Parts, route: &'r MatchedRoute, stage: &str) -> Self {
        let path_params = req
            .extensions
            .get::<PathParams>()
            .map(|params| params.iter().collect())
            .unwrap_or_default();
        let query = req
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                (http_proxy::decode(n), http_proxy::decode(v))
            })
            .collect();
        Self {
            path_params,
            query,
            headers: &req.headers,
            claims: req.extensions.get::<CognitoClaims>(),
            authorizer: req
                .extensions
                .get::<tower_cognito::custom_authorizer::AuthorizerOutput>()
                .map(|out| {
                    let principal = ("principalId".to_owned(), out.principal_id().to_owned());
                    std::iter::once(principal)
                        .chain(out.context().map(|(k, v)| (k.to_owned(), v.to_text())))
                        .collect()
                })
                .unwrap_or_default(),
            method: req.method.as_str(),
            // The client's path, not the one the authorizer normalised.
            path: stage_path(
                stage,
                crate::pipeline::client_path(&req.extensions, &req.uri),
            ),
            resource_path: route.template(),
            source_ip: req
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| ip_text(c.0.ip()))
                .unwrap_or_default(),
            epoch_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis()),
        }
    }

    pub(crate) fn facts<'a>(&'a self, ids: &'a RequestIds, stage: &'a str) -> Facts<'a> {
        Facts {
            path_params: &self.path_params,
            query: &self.query,
            headers: self.headers,
            claims: self.claims.map(CognitoClaims::api_gateway),
            authorizer: &self.authorizer,
            request_id: ids.request_id(),
            extended_request_id: ids.apigw_id(),
            http_method: self.method,
            resource_path: self.resource_path,
            path: &self.path,
            stage,
            source_ip: &self.source_ip,
            request_time_epoch: self.epoch_ms,
        }
    }
}

/// `/{stage}{path}`, `$context.path`.
fn stage_path(stage: &str, path: &str) -> String {
    let mut out = String::with_capacity(1 + stage.len() + path.len());
    out.push('/');
    out.push_str(stage);
    out.push_str(path);
    out
}

/// An address as `IpAddr`'s `Display` writes it; IPv4, the common case on
/// every request, without the formatting machinery.
fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut out = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
    out
}

/// The whole body, at most `limit` bytes (over: 413).
///
/// Each chunk is copied into one buffer as it arrives, sized from
/// `Content-Length`, and dropped: collecting every chunk before joining them
/// held the body twice, in chunks (with their buffers' slack) and joined.
pub(crate) async fn read_body(body: Body, limit: u64) -> Result<Bytes, Answer> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut body = Limited::new(body, limit);
    let declared = usize::try_from(http_body::Body::size_hint(&body).lower()).unwrap_or(0);
    let mut joined = BytesMut::with_capacity(declared.min(limit));
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    joined.extend_from_slice(&data);
                }
            }
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(Answer::RequestTooLarge)
            }
            // The client went away mid-body: nobody reads this answer.
            Err(_) => return Err(Answer::IntegrationFailure),
        }
    }
    Ok(joined.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_display_writes_them() {
        for text in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.100.9",
            "192.168.1.20",
            "::1",
            "2001:db8::8a2e:370:7334",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string(), "{text}");
        }
        assert_eq!(stage_path("prod", "/pets/1"), "/prod/pets/1");
    }
}
