//! [`WriteAck`]: the answer to a queued write, resolved once the write is committed (or failed).

use super::StoreError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::oneshot;

/// Resolves when the write it answers is durable (its transaction committed) or failed.
///
/// The write is queued when the store method returns, whether or not this is awaited: dropping the ack keeps the
/// write but loses its error (the store logs it). Writes from one task are applied in the order they were queued.
#[must_use = "await the ack to know the write is durable, or drop it explicitly for a best-effort write"]
#[derive(Debug)]
pub struct WriteAck<T> {
    state: AckState<T>,
}

#[derive(Debug)]
enum AckState<T> {
    Waiting(oneshot::Receiver<Result<T, StoreError>>),
    Ready(Option<Result<T, StoreError>>),
}

/// The sending side, held by whoever performs the write.
pub type AckSender<T> = oneshot::Sender<Result<T, StoreError>>;

impl<T> WriteAck<T> {
    /// An ack and the sender that resolves it.
    pub fn channel() -> (AckSender<T>, WriteAck<T>) {
        let (sender, receiver) = oneshot::channel();
        (sender, WriteAck { state: AckState::Waiting(receiver) })
    }

    /// An ack that is already resolved (for stores that write synchronously).
    pub fn ready(result: Result<T, StoreError>) -> WriteAck<T> {
        WriteAck { state: AckState::Ready(Some(result)) }
    }
}

impl<T: Unpin> Future for WriteAck<T> {
    type Output = Result<T, StoreError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            AckState::Waiting(receiver) => {
                Pin::new(receiver).poll(cx).map(|answer| answer.unwrap_or(Err(StoreError::WriterStopped)))
            }
            AckState::Ready(result) => Poll::Ready(result.take().unwrap_or(Err(StoreError::WriterStopped))),
        }
    }
}
