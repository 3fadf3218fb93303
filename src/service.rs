//! [`CognitoAuth`]: the middleware service.

use crate::authorizer::{unix_now, Verdict};
use crate::body::ResponseBody;
use crate::error::RejectionKind;
use crate::future::ResponseFuture;
use crate::layer::CognitoAuthLayer;
use crate::policy::Requirement;
use crate::routes::Resolved;
use http::uri::PathAndQuery;
use http::{Request, Response, Uri};
use std::fmt;
use std::task::{Context, Poll};
use tower_service::Service;

/// The service made by [`CognitoAuthLayer`]; see the [crate docs](crate).
///
/// Verifies the request's token and passes the request on with its
/// [`CognitoClaims`](crate::claims::CognitoClaims) in the extensions, or answers
/// with the rejection response. `Error` is the inner service's: a rejection is a
/// response, never an error.
#[derive(Clone)]
pub struct CognitoAuth<S> {
    inner: S,
    layer: CognitoAuthLayer,
}

impl<S> fmt::Debug for CognitoAuth<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoAuth").finish_non_exhaustive()
    }
}

impl<S> CognitoAuth<S> {
    pub(crate) fn new(inner: S, layer: CognitoAuthLayer) -> Self {
        Self { inner, layer }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, B, ResBody> Service<Request<B>> for CognitoAuth<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let core = &self.layer.core;
        let Resolved {
            rule,
            route,
            params,
            normalised,
        } = self.layer.policy.resolve(&req);
        if let Some(path) = normalised {
            // The inner service routes on the path the policy was decided for.
            match with_path(req.uri(), &path) {
                Some(uri) => *req.uri_mut() = uri,
                None => {
                    core.route_metrics.denied(RejectionKind::UnlistedRoute);
                    return ResponseFuture::rejected(
                        core.responses
                            .reject_request(RejectionKind::UnlistedRoute, &req),
                    );
                }
            }
        }
        if let Some(route) = route {
            let extensions = req.extensions_mut();
            extensions.insert(route.clone());
            extensions.insert(params.unwrap_or_default());
        }
        let requirement = &rule.requirement;
        match requirement {
            Requirement::Public => {
                return ResponseFuture::inner(self.inner.call(req));
            }
            Requirement::Deny => {
                core.route_metrics.denied(RejectionKind::UnlistedRoute);
                return ResponseFuture::rejected(
                    core.responses
                        .reject_request(RejectionKind::UnlistedRoute, &req),
                );
            }
            Requirement::Identity | Requirement::Scopes(_) => {}
        }
        // Indices come from the builder; a miss would be a bug, so fail closed.
        let Some(authorizer) = core.authorizers.get(rule.authorizer) else {
            core.route_metrics.denied(RejectionKind::KeysUnavailable);
            return ResponseFuture::rejected(
                core.responses
                    .reject_request(RejectionKind::KeysUnavailable, &req),
            );
        };
        core.keys.ensure_started();
        match authorizer.authorize(
            &core.keys,
            core.cache.as_ref(),
            req.headers(),
            requirement,
            unix_now(),
            true,
        ) {
            Verdict::Allow(claims) => {
                authorizer.metrics.allowed();
                req.extensions_mut().insert(claims);
                ResponseFuture::inner(self.inner.call(req))
            }
            Verdict::Deny(kind) => {
                authorizer.metrics.denied(kind);
                ResponseFuture::rejected(core.responses.reject_request(kind, &req))
            }
            Verdict::Miss { slot, kid } => {
                // The inner service was made ready for this request: take it and
                // leave a clone in its place (tower's clone-and-swap).
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let keys = core.keys.clone();
                let refresh = Box::pin(async move {
                    keys.refresh_for_miss(slot, &kid).await;
                });
                ResponseFuture::refreshing(refresh, inner, req, self.layer.clone())
            }
        }
    }
}

/// `uri` with its path replaced (query kept); `None` if that is not a URI.
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => PathAndQuery::try_from(format!("{path}?{query}")),
        None => PathAndQuery::try_from(path),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.ok()?);
    Uri::from_parts(parts).ok()
}
