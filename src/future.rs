//! The response future of [`CognitoAuth`](crate::CognitoAuth).

use crate::authorizer::unix_now;
use crate::body::ResponseBody;
use crate::error::RejectionKind;
use crate::layer::CognitoAuthLayer;
use bytes::Bytes;
use http::{Request, Response};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tower_service::Service;

type Refresh = Pin<Box<dyn Future<Output = ()> + Send>>;

pin_project! {
    /// Response future of [`CognitoAuth`](crate::CognitoAuth).
    ///
    /// Unboxed when the token's key is known: it is then the inner service's
    /// future or a ready rejection. Only an unknown `kid` awaits a key refresh.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Inner { #[pin] future: S::Future },
        Rejected { response: Option<Response<Bytes>> },
        Refreshing {
            refresh: Refresh,
            inner: Option<S>,
            request: Option<Request<B>>,
            layer: CognitoAuthLayer,
        },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    pub(crate) fn inner(future: S::Future) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(crate) fn rejected(response: Response<Bytes>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    pub(crate) fn refreshing(
        refresh: Refresh,
        inner: S,
        request: Request<B>,
        layer: CognitoAuthLayer,
    ) -> Self {
        Self {
            state: State::Refreshing {
                refresh,
                inner: Some(inner),
                request: Some(request),
                layer,
            },
        }
    }
}

fn rejection<T>(response: Response<Bytes>) -> Response<ResponseBody<T>> {
    response.map(ResponseBody::rejection)
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Inner { future } => {
                    let res = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(res.map(ResponseBody::inner)));
                }
                StateProj::Rejected { response } => {
                    let res = response
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(rejection(res)));
                }
                StateProj::Refreshing {
                    refresh,
                    inner,
                    request,
                    layer,
                } => {
                    ready!(refresh.as_mut().poll(cx));
                    let mut req = request
                        .take()
                        .expect("ResponseFuture polled after completion");
                    let mut svc = inner
                        .take()
                        .expect("ResponseFuture polled after completion");
                    let core = &layer.core;
                    // The rule `call` found: the path is the one it passed on.
                    let rule = layer.policy.resolved_rule(&req);
                    let authorizer = core.authorizers.get(rule.authorizer);
                    let verdict = match authorizer {
                        Some(a) => a.authorize_final(
                            &core.keys,
                            core.cache.as_ref(),
                            req.headers(),
                            &rule.requirement,
                            unix_now(),
                        ),
                        None => Err(RejectionKind::KeysUnavailable),
                    };
                    let metrics = authorizer.map_or(&core.route_metrics, |a| &a.metrics);
                    match verdict {
                        Ok(_) => metrics.allowed(),
                        Err(kind) => metrics.denied(kind),
                    }
                    match verdict {
                        Ok(claims) => {
                            req.extensions_mut().insert(claims);
                            State::Inner {
                                future: svc.call(req),
                            }
                        }
                        Err(kind) => State::Rejected {
                            response: Some(core.responses.reject_request(kind, &req)),
                        },
                    }
                }
            };
            self.as_mut().project().state.set(next);
        }
    }
}
