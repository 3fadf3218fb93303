//! The service: identity sources, cache, authorizer call, policy, answer.

use super::cache::{Asked, Key, ResultCache};
use super::event;
use super::flight::{self, Joined};
use super::future::CustomAuthorizerFuture;
use super::output::AuthorizerOutput;
use super::policy::Decision;
use super::{AuthorizerError, AuthorizerType, CustomAuthorizerLayer, IdentitySource, Shared};
use crate::ResponseBody;
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use serde_json::Value;
use std::borrow::Cow;
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

    /// The answer's message (`$context.error.message` for a gateway
    /// response template); `None` for the 500's `null`.
    ///
    /// ```
    /// use tower_cognito::custom_authorizer::AuthorizerRejection;
    ///
    /// assert_eq!(
    ///     AuthorizerRejection::ExplicitDeny.message(),
    ///     Some("User is not authorized to access this resource with an explicit deny")
    /// );
    /// assert_eq!(AuthorizerRejection::Configuration("timeout".into()).message(), None);
    /// ```
    pub fn message(&self) -> Option<&'static str> {
        match self {
            Self::Unauthorized => Some("Unauthorized"),
            Self::ExplicitDeny => {
                Some("User is not authorized to access this resource with an explicit deny")
            }
            Self::NotAuthorized => Some("User is not authorized to access this resource"),
            Self::Configuration(_) => None,
        }
    }

    pub(crate) fn response<B>(&self) -> Response<ResponseBody<B>> {
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
        match decide_now(&self.shared, parts) {
            Now::Decided(decision) => decision,
            Now::Ask(pending) => ask(&self.shared, parts, pending).await,
        }
    }
}

/// What a request gets without waiting: a decision, or the authorizer to ask.
enum Now {
    Decided(Result<AuthorizerOutput, AuthorizerRejection>),
    Ask(Pending),
}

/// A request that missed the cache (or found it off).
struct Pending {
    method_arn: String,
    /// The cache key, with the cache on.
    key: Option<Key>,
    /// `requestContext`, when a `context.X` source needed it already.
    context: Option<Value>,
}

fn request_context(parts: &Parts, api: &super::ApiInfo) -> Value {
    let id = format!("{:016x}", REQUEST_IDS.fetch_add(1, Ordering::Relaxed));
    event::request_context(parts, api, &id)
}

/// Identity sources, validation and the cache: all a cached answer needs.
/// Nothing here builds the event; a header is matched as the bytes it is,
/// and checked to be text only when the authorizer is to be asked (a cached
/// key was text when it was asked for).
fn decide_now(shared: &Shared, parts: &Parts) -> Now {
    let api = &shared.api;
    let (method, path) = (parts.method.as_str(), parts.uri.path());
    let context = shared.reads_context.then(|| request_context(parts, api));
    let raw = |s: &IdentitySource| {
        s.raw(parts, api, context.as_ref())
            .filter(|v| !v.is_empty())
    };
    // One source (every TOKEN authorizer) without a list.
    let one;
    let many: Vec<Option<Cow<'_, [u8]>>>;
    let values: &[Option<Cow<'_, [u8]>>] = match shared.sources.as_slice() {
        [source] => {
            one = [raw(source)];
            &one
        }
        sources => {
            many = sources.iter().map(raw).collect();
            &many
        }
    };
    let unauthorized = Now::Decided(Err(AuthorizerRejection::Unauthorized));
    match shared.kind {
        AuthorizerType::Token => {
            let Some(Some(token)) = values.first() else {
                return unauthorized;
            };
            if let Some(re) = &shared.validation {
                let text = std::str::from_utf8(token)
                    .ok()
                    .filter(|t| event::visible(t.as_bytes()));
                if !text.is_some_and(|t| re.is_match(t)) {
                    return unauthorized;
                }
            }
        }
        _ => {
            if shared.cache.is_some() && values.iter().any(Option::is_none) {
                return unauthorized;
            }
        }
    }
    let mut key = None;
    if let Some(cache) = &shared.cache {
        let one_ref;
        let many_refs: Vec<&[u8]>;
        let refs: &[&[u8]] = match values {
            [v] => {
                one_ref = [bytes(v)];
                &one_ref
            }
            values => {
                many_refs = values.iter().map(bytes).collect();
                &many_refs
            }
        };
        let asked = Asked {
            method,
            path,
            judge: |output: &AuthorizerOutput| {
                output.policy().evaluate(&api.method_arn(method, path))
            },
        };
        if let Some((output, decision)) = cache.get(refs, &mut key, asked) {
            return Now::Decided(verdict(output, decision));
        }
        // A header that is not text is absent, as when it is missing.
        let text_headers = shared.sources.iter().zip(values).all(|(s, v)| {
            !matches!(s, IdentitySource::Header(_)) || v.as_deref().is_none_or(event::visible)
        });
        if !text_headers {
            return unauthorized;
        }
        key = key.or_else(|| Some(ResultCache::key(refs)));
    } else if matches!(shared.kind, AuthorizerType::Token)
        && !values
            .first()
            .and_then(Option::as_deref)
            .is_some_and(event::visible)
    {
        return unauthorized;
    }
    Now::Ask(Pending {
        method_arn: api.method_arn(method, path),
        key,
        context,
    })
}

fn bytes<'a>(value: &'a Option<Cow<'_, [u8]>>) -> &'a [u8] {
    value.as_deref().unwrap_or_default()
}

fn verdict(
    output: AuthorizerOutput,
    decision: Decision,
) -> Result<AuthorizerOutput, AuthorizerRejection> {
    match decision {
        Decision::Allow => Ok(output),
        Decision::ExplicitDeny => Err(AuthorizerRejection::ExplicitDeny),
        Decision::NoAllow => Err(AuthorizerRejection::NotAuthorized),
    }
}

/// The policy of an answer (perhaps cached for another method) judged for
/// this method ARN.
fn judge(
    output: AuthorizerOutput,
    method_arn: &str,
) -> Result<AuthorizerOutput, AuthorizerRejection> {
    let decision = output.policy().evaluate(method_arn);
    verdict(output, decision)
}

/// A cache miss: the authorizer asked, once per key however many requests
/// miss together (see the `flight` module).
async fn ask(
    shared: &Shared,
    parts: &Parts,
    pending: Pending,
) -> Result<AuthorizerOutput, AuthorizerRejection> {
    let (Some(cache), Some(key)) = (&shared.cache, pending.key) else {
        return judge(call(shared, parts, &pending).await?, &pending.method_arn);
    };
    let output = loop {
        match shared.flights.join(key) {
            Joined::Lead(leader) => {
                // Another flight may have landed between the lookup and now.
                let outcome = match cache.get_key(&key) {
                    Some(output) => Ok(output),
                    None => call(shared, parts, &pending).await,
                };
                if let Ok(output) = &outcome {
                    cache.insert(key, output.clone());
                }
                leader.finish(&outcome);
                break outcome?;
            }
            Joined::Follow(rx) => {
                match tokio::time::timeout(shared.timeout, flight::outcome(rx)).await {
                    Err(_) => {
                        return Err(AuthorizerRejection::Configuration(
                            "authorizer timed out (a call in flight for the same identity)".into(),
                        ))
                    }
                    Ok(Some(outcome)) => break outcome?,
                    // The leader went away unfinished: start over.
                    Ok(None) => continue,
                }
            }
        }
    };
    judge(output, &pending.method_arn)
}

/// One call of the authorizer: the event built, the answer read.
async fn call(shared: &Shared, parts: &Parts, pending: &Pending) -> flight::Outcome {
    let api = &shared.api;
    let event = match shared.kind {
        AuthorizerType::Token => {
            let token = shared
                .sources
                .first()
                .and_then(|s| s.value(parts, api, None))
                .unwrap_or_default();
            event::token_event(&token, &pending.method_arn)
        }
        _ => {
            let context = pending
                .context
                .clone()
                .unwrap_or_else(|| request_context(parts, api));
            event::request_event(parts, api, &pending.method_arn, context)
        }
    };
    let answer = tokio::time::timeout(shared.timeout, shared.authorizer.authorize(event)).await;
    let value = match answer {
        Err(_) => {
            return Err(AuthorizerRejection::Configuration(
                "authorizer timed out".into(),
            ))
        }
        Ok(Err(AuthorizerError::Unauthorized)) => return Err(AuthorizerRejection::Unauthorized),
        Ok(Err(e)) => return Err(AuthorizerRejection::Configuration(e.to_string())),
        Ok(Ok(v)) => v,
    };
    AuthorizerOutput::from_json(&value)
        .map_err(|e| AuthorizerRejection::Configuration(e.to_string()))
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

fn refused<B>(rejection: &AuthorizerRejection) -> Response<ResponseBody<B>> {
    if let AuthorizerRejection::Configuration(reason) = rejection {
        tracing::warn!(%reason, "custom authorizer failed");
    }
    rejection.response()
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for CustomAuthorizer<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqB: Send + 'static,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = CustomAuthorizerFuture<S::Future, ResB, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let pending = match decide_now(&self.shared, &parts) {
            Now::Decided(Ok(output)) => {
                parts.extensions.insert(output);
                let future = self.inner.call(Request::from_parts(parts, body));
                return CustomAuthorizerFuture::inner(future);
            }
            Now::Decided(Err(rejection)) => {
                return CustomAuthorizerFuture::rejected(refused(&rejection))
            }
            Now::Ask(pending) => pending,
        };
        // The clone that was made ready is the one called, later.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        CustomAuthorizerFuture::asking(Box::pin(async move {
            match ask(&shared, &parts, pending).await {
                Ok(output) => {
                    parts.extensions.insert(output);
                    let res = inner.call(Request::from_parts(parts, body)).await?;
                    Ok(res.map(ResponseBody::inner))
                }
                Err(rejection) => Ok(refused(&rejection)),
            }
        }))
    }
}
