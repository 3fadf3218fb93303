//! The response future of [`CustomAuthorizer`](super::CustomAuthorizer).

use crate::body::ResponseBody;
use http::Response;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The boxed part: a cache miss, waiting for the authorizer.
pub(crate) type Asking<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody<B>>, E>> + Send>>;

pin_project! {
    /// Response future of [`CustomAuthorizer`](super::CustomAuthorizer).
    ///
    /// Unboxed when the decision is made at once (a cached answer, a missing
    /// identity source): it is then the inner service's future or a ready
    /// rejection. Only a cache miss, which asks the authorizer, is boxed.
    pub struct CustomAuthorizerFuture<F, B, E> {
        #[pin]
        state: State<F, B, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B, E> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<ResponseBody<B>>> },
        Asking { future: Asking<B, E> },
    }
}

impl<F, B, E> CustomAuthorizerFuture<F, B, E> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    pub(crate) fn rejected(response: Response<ResponseBody<B>>) -> Self {
        Self {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    pub(crate) fn asking(future: Asking<B, E>) -> Self {
        Self {
            state: State::Asking { future },
        }
    }
}

impl<F, B, E> std::fmt::Debug for CustomAuthorizerFuture<F, B, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomAuthorizerFuture")
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for CustomAuthorizerFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => {
                let res = ready!(future.poll(cx))?;
                Poll::Ready(Ok(res.map(ResponseBody::inner)))
            }
            StateProj::Rejected { response } => Poll::Ready(Ok(response
                .take()
                .expect("CustomAuthorizerFuture polled after completion"))),
            StateProj::Asking { future } => future.as_mut().poll(cx),
        }
    }
}
