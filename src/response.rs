//! Rejection responses: API Gateway's defaults byte for byte, replaceable per
//! response type (API Gateway's "gateway responses"), and gRPC replies.

use crate::error::{AuthError, RejectionKind, ResponseType};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Method, Response, StatusCode, Uri, Version};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const X_AMZN_ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");

/// One rejection response: status, headers and body, as API Gateway's gateway
/// responses configure them.
///
/// ```
/// use tower_cognito::{CognitoAuthLayer, GatewayResponse, ResponseType};
/// use http::StatusCode;
///
/// let layer = CognitoAuthLayer::builder()
///     .user_pool("us-east-1_AbCdEf123")
///     .gateway_response(
///         ResponseType::Unauthorized,
///         GatewayResponse::new(StatusCode::UNAUTHORIZED)
///             .header("content-type", "application/problem+json")
///             .unwrap()
///             .body(r#"{"title":"sign in first"}"#),
///     )
///     .build()
///     .unwrap();
/// # drop(layer);
/// ```
#[derive(Clone, Debug)]
pub struct GatewayResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl GatewayResponse {
    /// A response with this status, no headers and an empty body.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header; fails on an invalid name or value.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, http::Error> {
        let name = HeaderName::try_from(name)?;
        let value = HeaderValue::try_from(value)?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// API Gateway's default for a response type:
    ///
    /// | type | status | `x-amzn-ErrorType` | body |
    /// |---|---|---|---|
    /// | `Unauthorized` | 401 | `UnauthorizedException` | `{"message":"Unauthorized"}` |
    /// | `ExpiredToken` | 401 | `UnauthorizedException` | `{"message":"The incoming token has expired"}` |
    /// | `AuthorizerConfigurationError` | 500 | `AuthorizerConfigurationException` | `{"message":null}` |
    /// | `MissingAuthenticationToken` | 403 | `MissingAuthenticationTokenException` | `{"message":"Missing Authentication Token"}` |
    ///
    /// All with `content-type: application/json`.
    ///
    /// ```
    /// use tower_cognito::{GatewayResponse, ResponseType};
    ///
    /// let res = GatewayResponse::api_gateway_default(ResponseType::MissingAuthenticationToken);
    /// assert_eq!(res.status(), 403);
    /// assert_eq!(res.headers()["x-amzn-errortype"], "MissingAuthenticationTokenException");
    /// assert_eq!(&res.body_bytes()[..], br#"{"message":"Missing Authentication Token"}"#);
    /// ```
    pub fn api_gateway_default(response_type: ResponseType) -> Self {
        let (status, error_type, body): (_, _, &'static [u8]) = match response_type {
            ResponseType::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "UnauthorizedException",
                br#"{"message":"Unauthorized"}"#,
            ),
            ResponseType::ExpiredToken => (
                StatusCode::UNAUTHORIZED,
                "UnauthorizedException",
                br#"{"message":"The incoming token has expired"}"#,
            ),
            ResponseType::AuthorizerConfigurationError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "AuthorizerConfigurationException",
                br#"{"message":null}"#,
            ),
            ResponseType::MissingAuthenticationToken => (
                StatusCode::FORBIDDEN,
                "MissingAuthenticationTokenException",
                br#"{"message":"Missing Authentication Token"}"#,
            ),
        };
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(X_AMZN_ERROR_TYPE, HeaderValue::from_static(error_type));
        Self {
            status,
            headers,
            body: Bytes::from_static(body),
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }

    fn to_response(&self) -> Response<Bytes> {
        let mut res = Response::new(self.body.clone());
        *res.status_mut() = self.status;
        *res.headers_mut() = self.headers.clone();
        res
    }
}

/// What a custom rejection handler sees of the rejected request.
#[derive(Debug, Clone, Copy)]
pub struct RejectedRequest<'a> {
    pub(crate) version: Version,
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
}

impl RejectedRequest<'_> {
    /// The request's HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        self.method
    }

    /// The request URI.
    pub fn uri(&self) -> &Uri {
        self.uri
    }

    /// The request headers (including the token header: do not log them whole).
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }

    /// Whether the request is gRPC: HTTP/2 with the content type
    /// `application/grpc`, `application/grpc+{subtype}` or
    /// `application/grpc;{parameters}` (as grpc-go reads it). Anything else
    /// (`application/grpcXYZ`, `application/grpc-web`, HTTP/1.1) is not.
    pub fn is_grpc(&self) -> bool {
        is_grpc(self.version, self.headers)
    }
}

/// A handler that builds the whole rejection response; see
/// [`CognitoAuthBuilder::rejection_handler`](crate::CognitoAuthBuilder::rejection_handler).
pub(crate) type RejectionHandler =
    Arc<dyn Fn(&AuthError, &RejectedRequest<'_>) -> Response<Bytes> + Send + Sync>;

/// The responses of one layer.
#[derive(Clone)]
pub(crate) struct Responses {
    pub(crate) unauthorized: GatewayResponse,
    pub(crate) expired: GatewayResponse,
    pub(crate) configuration: GatewayResponse,
    pub(crate) missing_token: GatewayResponse,
    pub(crate) grpc: bool,
    pub(crate) handler: Option<RejectionHandler>,
    /// Shared by every clone, so the whole layer logs at most one such WARN
    /// per interval.
    pub(crate) keys_unavailable_log: Arc<LogLimit>,
}

impl fmt::Debug for Responses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responses")
            .field("grpc", &self.grpc)
            .field("custom_handler", &self.handler.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Responses {
    fn default() -> Self {
        Self {
            unauthorized: GatewayResponse::api_gateway_default(ResponseType::Unauthorized),
            expired: GatewayResponse::api_gateway_default(ResponseType::ExpiredToken),
            configuration: GatewayResponse::api_gateway_default(
                ResponseType::AuthorizerConfigurationError,
            ),
            missing_token: GatewayResponse::api_gateway_default(
                ResponseType::MissingAuthenticationToken,
            ),
            grpc: true,
            handler: None,
            keys_unavailable_log: Arc::new(LogLimit::new(KEYS_UNAVAILABLE_WARN_EVERY)),
        }
    }
}

/// gRPC runs over HTTP/2 only, and its content type is `application/grpc`
/// alone or followed by `+subtype` (gRPC's spec) or `;parameters` (which
/// grpc-go also accepts). A looser prefix test would hand gRPC replies (HTTP
/// 200, a status code telling a scope failure from a bad token) to REST
/// clients that merely claim a similar content type.
pub(crate) fn is_grpc(version: Version, headers: &HeaderMap) -> bool {
    version == Version::HTTP_2
        && headers.get(CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes()
                .strip_prefix(b"application/grpc")
                .is_some_and(|rest| matches!(rest.first(), None | Some(b'+' | b';')))
        })
}

impl Responses {
    pub(crate) fn set(&mut self, response_type: ResponseType, response: GatewayResponse) {
        match response_type {
            ResponseType::Unauthorized => self.unauthorized = response,
            ResponseType::ExpiredToken => self.expired = response,
            ResponseType::AuthorizerConfigurationError => self.configuration = response,
            ResponseType::MissingAuthenticationToken => self.missing_token = response,
        }
    }

    /// The response rejecting `req`.
    pub(crate) fn reject_request<B>(
        &self,
        kind: RejectionKind,
        req: &http::Request<B>,
    ) -> Response<Bytes> {
        self.reject(
            kind,
            &RejectedRequest {
                version: req.version(),
                method: req.method(),
                uri: req.uri(),
                headers: req.headers(),
            },
        )
    }

    /// The response for a rejection, with the reason in its extensions.
    pub(crate) fn reject(
        &self,
        kind: RejectionKind,
        request: &RejectedRequest<'_>,
    ) -> Response<Bytes> {
        let error = AuthError::new(kind);
        // A cold pool fails every request: one WARN per interval, with the
        // number of lines held back since the last one; the rest at DEBUG.
        let warn = if kind == RejectionKind::KeysUnavailable {
            self.keys_unavailable_log.admit()
        } else {
            None
        };
        if let Some(suppressed) = warn {
            tracing::warn!(reason = %kind, method = %request.method, path = request.uri.path(), suppressed, "request rejected");
        } else {
            tracing::debug!(reason = %kind, method = %request.method, path = request.uri.path(), "request rejected");
        }
        let mut res = if let Some(handler) = &self.handler {
            handler(&error, request)
        } else if self.grpc && request.is_grpc() {
            grpc_reply(kind)
        } else {
            match kind.response_type() {
                ResponseType::Unauthorized => self.unauthorized.to_response(),
                ResponseType::ExpiredToken => self.expired.to_response(),
                ResponseType::AuthorizerConfigurationError => self.configuration.to_response(),
                ResponseType::MissingAuthenticationToken => self.missing_token.to_response(),
            }
        };
        res.extensions_mut().insert(error);
        res
    }
}

/// How often a layer may log a WARN for requests refused because no keys
/// could be had.
const KEYS_UNAVAILABLE_WARN_EVERY: Duration = Duration::from_secs(10);

/// Lets one event through per interval and counts the ones held back. Lock
/// free: one atomic load on the held-back path.
pub(crate) struct LogLimit {
    every_ms: u64,
    epoch: Instant,
    /// When an event was last let through, in ms since `epoch` plus one
    /// (0: never).
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl LogLimit {
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            every_ms: u64::try_from(every.as_millis()).unwrap_or(u64::MAX),
            epoch: Instant::now(),
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(events held back since the last one let through)` if this event
    /// may be logged, `None` if it is held back.
    pub(crate) fn admit(&self) -> Option<u64> {
        let now = u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1);
        let last = self.last.load(Ordering::Acquire);
        let due = last == 0 || now.saturating_sub(last) >= self.every_ms;
        if due
            && self
                .last
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            Some(self.suppressed.swap(0, Ordering::AcqRel))
        } else {
            self.suppressed.fetch_add(1, Ordering::AcqRel);
            None
        }
    }
}

/// A trailers-only gRPC reply: HTTP 200 with `grpc-status` in the headers.
/// UNAUTHENTICATED (16) for token failures, PERMISSION_DENIED (7) when a valid
/// token lacks a scope, group or client, INTERNAL (13) when keys cannot be had,
/// UNIMPLEMENTED (12) for an unlisted or denied method: what a gRPC server
/// answers for a method it does not have, as API Gateway's 403 is for HTTP.
fn grpc_reply(kind: RejectionKind) -> Response<Bytes> {
    let (code, message) = match kind {
        RejectionKind::UnlistedRoute => ("12", "Missing Authentication Token"),
        RejectionKind::InsufficientScope
        | RejectionKind::GroupNotAllowed
        | RejectionKind::ClientNotAllowed => ("7", "Forbidden"),
        RejectionKind::Expired => ("16", "The incoming token has expired"),
        RejectionKind::KeysUnavailable | RejectionKind::RevocationUnavailable => {
            ("13", "Authorizer configuration error")
        }
        _ => ("16", "Unauthorized"),
    };
    let mut res = Response::new(Bytes::new());
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    h.insert("grpc-status", HeaderValue::from_static(code));
    // Plain ASCII without '%', so no percent-encoding is needed.
    h.insert("grpc-message", HeaderValue::from_static(message));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CognitoAuthLayer, RoutePolicy};
    use tower::ServiceExt;
    use tower_layer::Layer;

    async fn call(layer: &CognitoAuthLayer, req: http::Request<()>) -> Response<Bytes> {
        let inner = tower::service_fn(|_req: http::Request<()>| async {
            Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                Bytes::from_static(b"reached"),
            )))
        });
        let res = layer.layer(inner).oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = http_body_util::BodyExt::collect(body)
            .await
            .unwrap()
            .to_bytes();
        Response::from_parts(parts, body)
    }

    fn table() -> crate::CognitoAuthBuilder {
        CognitoAuthLayer::builder()
            .user_pool("us-east-1_AbCdEf123")
            .jwks_endpoint("http://127.0.0.1:1")
            .route("GET", "/pets", RoutePolicy::identity_token())
    }

    #[tokio::test]
    async fn unlisted_routes_get_api_gateways_403_byte_for_byte() {
        let layer = table().build().unwrap();
        for (method, path) in [("GET", "/dogs"), ("DELETE", "/pets"), ("GET", "/")] {
            let req = http::Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", "anything")
                .body(())
                .unwrap();
            let res = call(&layer, req).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {path}");
            assert_eq!(
                &res.body()[..],
                br#"{"message":"Missing Authentication Token"}"#
            );
            let headers: Vec<_> = res.headers().iter().collect();
            assert_eq!(
                headers,
                [
                    (&CONTENT_TYPE, &HeaderValue::from_static("application/json")),
                    (
                        &X_AMZN_ERROR_TYPE,
                        &HeaderValue::from_static("MissingAuthenticationTokenException")
                    ),
                ]
            );
            assert_eq!(
                res.extensions().get::<AuthError>().map(AuthError::kind),
                Some(RejectionKind::UnlistedRoute)
            );
        }
    }

    #[tokio::test]
    async fn the_403_is_replaceable_and_grpc_gets_unimplemented() {
        let layer = table()
            .gateway_response(
                ResponseType::MissingAuthenticationToken,
                GatewayResponse::new(StatusCode::NOT_FOUND)
                    .header("content-type", "text/plain")
                    .unwrap()
                    .body("no such route"),
            )
            .build()
            .unwrap();
        let res = call(&layer, http::Request::get("/dogs").body(()).unwrap()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()[CONTENT_TYPE], "text/plain");
        assert_eq!(&res.body()[..], b"no such route");
        // The other responses are untouched.
        let res = call(&layer, http::Request::get("/pets").body(()).unwrap()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(&res.body()[..], br#"{"message":"Unauthorized"}"#);

        let grpc = http::Request::post("/pkg.Svc/Method")
            .version(Version::HTTP_2)
            .header("content-type", "application/grpc")
            .body(())
            .unwrap();
        let res = call(&layer, grpc).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["grpc-status"], "12");
        assert_eq!(
            res.headers()["grpc-message"],
            "Missing Authentication Token"
        );
        assert!(res.body().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn log_limit_lets_one_through_per_interval_and_counts_the_rest() {
        let limit = LogLimit::new(Duration::from_secs(10));
        assert_eq!(limit.admit(), Some(0));
        for _ in 0..5 {
            assert_eq!(limit.admit(), None);
        }
        tokio::time::advance(Duration::from_millis(9_990)).await;
        assert_eq!(limit.admit(), None);
        tokio::time::advance(Duration::from_millis(20)).await;
        assert_eq!(limit.admit(), Some(6));
        assert_eq!(limit.admit(), None);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(limit.admit(), Some(1));
    }
}
