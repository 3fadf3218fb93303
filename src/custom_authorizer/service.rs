//! The service: identity sources, cache, authorizer call, policy, answer.

use super::event;
use super::output::AuthorizerOutput;
use super::policy::Decision;
use super::{AuthorizerError, AuthorizerType, CustomAuthorizerLayer, Shared};
use crate::ResponseBody;
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Why a request was refused: one of API Gateway's four answers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizerRejection {
    /// 401 `{"message":"Unauthorized"}`.
    Unauthorized,
    /// 403 `{"Message":"User is not authorized to access this resource with an explicit deny"}`.
    ExplicitDeny,
    /// 403 `{"Message":"User is not authorized to access this resource"}`.
    NotAuthorized,
    /// 500 `{"message":null}`; the reason is for logs, never sent.
    Configuration(String),
}

impl AuthorizerRejection {
    /// Status, `x-amzn-ErrorType` and body, byte for byte as API Gateway.
    pub fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "UnauthorizedException",
                r#"{"message":"Unauthorized"}"#,
            ),
            Self::ExplicitDeny => (
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
            ),
            Self::NotAuthorized => (
                StatusCode::FORBIDDEN,
                "AccessDeniedException",
                r#"{"Message":"User is not authorized to access this resource"}"#,
            ),
            Self::Configuration(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "AuthorizerConfigurationException",
                r#"{"message":null}"#,
            ),
        }
    }

    fn response<B>(&self) -> Response<ResponseBody<B>> {
        let (status, kind, body) = self.parts();
        let mut res = Response::new(ResponseBody::rejection(Bytes::from_static(body.as_bytes())));
        *res.status_mut() = status;
        let h = res.headers_mut();
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        h.insert("x-amzn-errortype", http::HeaderValue::from_static(kind));
        res
    }
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

impl CustomAuthorizerLayer {
    /// Decides on one request as API Gateway would, without an inner service:
    /// for a server that has its own pipeline.
    pub async fn authorize_request(
        &self,
        parts: &Parts,
    ) -> Result<AuthorizerOutput, AuthorizerRejection> {
        decide(&self.shared, parts).await
    }
}

async fn decide(shared: &Shared, parts: &Parts) -> Result<AuthorizerOutput, AuthorizerRejection> {
    let api = &shared.api;
    let method_arn = api.method_arn(parts.method.as_str(), parts.uri.path());
    let id = format!("{:016x}", REQUEST_IDS.fetch_add(1, Ordering::Relaxed));
    let ctx = event::request_context(parts, api, &id);
    let values: Vec<Option<String>> = shared
        .sources
        .iter()
        .map(|s| s.value(parts, api, &ctx).filter(|v| !v.is_empty()))
        .collect();
    let event = match shared.kind {
        AuthorizerType::Token => {
            let Some(Some(token)) = values.first() else {
                return Err(AuthorizerRejection::Unauthorized);
            };
            if shared
                .validation
                .as_ref()
                .is_some_and(|re| !re.is_match(token))
            {
                return Err(AuthorizerRejection::Unauthorized);
            }
            event::token_event(token, &method_arn)
        }
        _ => {
            if shared.cache.is_some() && values.iter().any(Option::is_none) {
                return Err(AuthorizerRejection::Unauthorized);
            }
            event::request_event(parts, api, &method_arn, ctx)
        }
    };
    let key = shared
        .cache
        .as_ref()
        .map(|_| super::cache::ResultCache::key(values.iter().map(|v| v.as_deref().unwrap_or(""))));
    let cached = match (&shared.cache, &key) {
        (Some(c), Some(k)) => c.get(k),
        _ => None,
    };
    let output = match cached {
        Some(out) => out,
        None => {
            let answer =
                tokio::time::timeout(shared.timeout, shared.authorizer.authorize(event)).await;
            let value = match answer {
                Err(_) => {
                    return Err(AuthorizerRejection::Configuration(
                        "authorizer timed out".into(),
                    ))
                }
                Ok(Err(AuthorizerError::Unauthorized)) => {
                    return Err(AuthorizerRejection::Unauthorized)
                }
                Ok(Err(e)) => return Err(AuthorizerRejection::Configuration(e.to_string())),
                Ok(Ok(v)) => v,
            };
            let out = AuthorizerOutput::from_json(&value)
                .map_err(|e| AuthorizerRejection::Configuration(e.to_string()))?;
            if let (Some(c), Some(k)) = (&shared.cache, key) {
                c.insert(k, out.clone());
            }
            out
        }
    };
    match output.policy().evaluate(&method_arn) {
        Decision::Allow => Ok(output),
        Decision::ExplicitDeny => Err(AuthorizerRejection::ExplicitDeny),
        Decision::NoAllow => Err(AuthorizerRejection::NotAuthorized),
    }
}

/// The service [`CustomAuthorizerLayer`] wraps around an inner one.
#[derive(Clone)]
pub struct CustomAuthorizer<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for CustomAuthorizer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomAuthorizer").finish_non_exhaustive()
    }
}

impl<S> CustomAuthorizer<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }
}

/// The future of [`CustomAuthorizer`].
pub type CustomAuthorizerFuture<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody<B>>, E>> + Send>>;

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for CustomAuthorizer<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqB: Send + 'static,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = CustomAuthorizerFuture<ResB, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        // The clone that was made ready is the one called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            match decide(&shared, &parts).await {
                Ok(output) => {
                    parts.extensions.insert(output);
                    let res = inner.call(Request::from_parts(parts, body)).await?;
                    Ok(res.map(ResponseBody::inner))
                }
                Err(rejection) => {
                    if let AuthorizerRejection::Configuration(reason) = &rejection {
                        tracing::warn!(%reason, "custom authorizer failed");
                    }
                    Ok(rejection.response())
                }
            }
        })
    }
}
