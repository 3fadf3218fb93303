//! The axum extractor for [`CognitoClaims`] (feature `axum`).

use crate::claims::CognitoClaims;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::StatusCode;
use std::convert::Infallible;
use std::fmt;

/// Rejection of the [`CognitoClaims`] extractor when the request carries no
/// claims: the route is not behind [`CognitoAuthLayer`](crate::CognitoAuthLayer),
/// or the route is public. Answers 500, since it is a server bug, not a client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MissingClaims;

impl MissingClaims {
    /// The status of the response: 500.
    pub fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    /// The text of the response.
    pub fn body_text(&self) -> &'static str {
        "Missing Cognito claims: is `CognitoAuthLayer` applied to this route, and is the route protected?"
    }
}

impl fmt::Display for MissingClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.body_text())
    }
}

impl std::error::Error for MissingClaims {}

impl IntoResponse for MissingClaims {
    fn into_response(self) -> Response {
        (self.status(), self.body_text()).into_response()
    }
}

/// Extracts the claims the layer verified. Use `Option<CognitoClaims>` on routes
/// that may be public.
///
/// ```
/// use axum::{routing::get, Router};
/// use tower_cognito::{claims::CognitoClaims, CognitoAuthLayer};
///
/// async fn me(claims: CognitoClaims) -> String {
///     claims.username().unwrap_or("?").to_owned()
/// }
///
/// async fn maybe(claims: Option<CognitoClaims>) -> &'static str {
///     if claims.is_some() { "signed in" } else { "anonymous" }
/// }
///
/// let auth = CognitoAuthLayer::builder().user_pool("us-east-1_AbCdEf123").build().unwrap();
/// let app: Router = Router::new()
///     .route("/me", get(me))
///     .route_layer(auth)
///     .route("/maybe", get(maybe));
/// # drop(app);
/// ```
impl<S: Send + Sync> FromRequestParts<S> for CognitoClaims {
    type Rejection = MissingClaims;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CognitoClaims>()
            .cloned()
            .ok_or(MissingClaims)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for CognitoClaims {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<CognitoClaims>().cloned())
    }
}
