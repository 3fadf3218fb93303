//! A backend's response body that must end by the integration's deadline.
//!
//! API Gateway's `timeoutInMillis` bounds the whole integration call: it
//! buffers the backend's response, so a body still arriving at the deadline
//! is a 504. The gateway streams bodies instead, and its answer's head is
//! already on its way when the body stalls; so **[choice]** a body not done
//! by the deadline (counted from when the request was sent) ends in an error,
//! which aborts the response to the client (the connection or HTTP/2 stream
//! is reset, never a truncated body passed off as whole), rather than holding
//! the client for as long as the backend stalls.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `inner`, failing once `deadline` passes before its end.
pub(crate) struct DeadlineBody<B> {
    inner: B,
    deadline: Instant,
    /// Made the first time `inner` is not ready: a body that is (most small
    /// answers, read with the head) never allocates or registers a timer.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> DeadlineBody<B> {
    pub(crate) fn new(inner: B, deadline: Instant) -> Self {
        Self {
            inner,
            deadline,
            timer: None,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        // Data that is ready is passed on even at the deadline.
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let deadline = self.deadline;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(
                "the backend's body did not end within timeoutInMillis".into(),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn frames_before_the_deadline_pass_and_a_stall_past_it_fails() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(4);
        let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let deadline = Instant::now() + Duration::from_millis(300);
        let mut body = DeadlineBody::new(StreamBody::new(stream), deadline);
        tx.send(Ok(Frame::data(Bytes::from_static(b"hello"))))
            .await
            .unwrap();
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "hello");
        // Nothing more, and the clock passes the deadline.
        let next = body.frame().await.unwrap();
        assert!(next.is_err());
        assert!(Instant::now() >= deadline);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_done_in_time_ends_normally() {
        let deadline = Instant::now() + Duration::from_millis(300);
        let body = DeadlineBody::new(
            http_body_util::Full::new(Bytes::from_static(b"ok")),
            deadline,
        );
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes, "ok");
    }
}
