//! Operations without integration answer with the route they matched and the
//! claims an integration would get, so an export without integrations still
//! shows what a backend would receive.

use axum::body::Body;
use http::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use http::Response;
use serde::Serialize;
use tower_cognito::claims::{ApiGatewayClaims, CognitoClaims};

use crate::cli::EchoMode;

#[derive(Serialize)]
struct Echo<'a> {
    /// `GET /pets/{petId}`.
    route: &'a str,
    /// `$context.authorizer.claims`, or `null` on a public route.
    claims: Option<&'a ApiGatewayClaims>,
}

/// `200 {"route":"GET /pets/{petId}","claims":{...}}` (`{}` in empty mode).
pub(crate) fn respond(
    mode: EchoMode,
    route: &str,
    claims: Option<&CognitoClaims>,
) -> Response<Body> {
    let text = match mode {
        EchoMode::Empty => "{}".to_owned(),
        EchoMode::Full => serde_json::to_string(&Echo {
            route,
            claims: claims.map(CognitoClaims::api_gateway),
        })
        .unwrap_or_else(|_| "{}".to_owned()),
    };
    let length = HeaderValue::from(text.len());
    let mut res = Response::new(Body::from(text));
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res.headers_mut().insert(CONTENT_LENGTH, length);
    res
}
