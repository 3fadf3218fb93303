//! [`CognitoAuth`]: the middleware service.

use crate::authorizer::{unix_now, Verdict};
use crate::body::ResponseBody;
use crate::future::ResponseFuture;
use crate::layer::CognitoAuthLayer;
use crate::policy::Requirement;
use http::{Request, Response};
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
        let requirement = self.layer.policy.requirement(&req);
        if *requirement == Requirement::Public {
            return ResponseFuture::inner(self.inner.call(req));
        }
        core.keys.ensure_started();
        match core
            .authorizer
            .authorize(&core.keys, req.headers(), requirement, unix_now(), true)
        {
            Verdict::Allow(claims) => {
                req.extensions_mut().insert(claims);
                ResponseFuture::inner(self.inner.call(req))
            }
            Verdict::Deny(kind) => {
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
