//! What a push consumer's application provides and answers: the listener kinds, their statuses,
//! and where a new group starts consuming.
//!
//! A concurrent listener is either blocking (a closure, run on a blocking thread) or async (an
//! [`AsyncConcurrentListener`], run as a task of the consumer); both get a
//! [`ConsumeConcurrentlyContext`]. Internally every kind becomes one `Listener` value so the
//! consume service has a single call site per kind.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use rmq_common::MessageExt;
use rmq_remoting::body::ConsumeFromWhere;

use super::context::ConsumeConcurrentlyContext;

/// A concurrent listener's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsumeConcurrentlyStatus {
    /// Done: the offset may advance past these messages.
    ConsumeSuccess,
    /// Failed: the broker redelivers them later through `%RETRY%<group>` (clustering).
    ReconsumeLater,
}

/// An orderly listener's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsumeOrderlyStatus {
    /// Done: the offset may advance past these messages.
    Success,
    /// Failed: the queue pauses (1 s by default) and the same messages are delivered again, in
    /// order.
    SuspendCurrentQueueAMoment,
}

/// Listener for concurrent consumption, called on a bounded pool of blocking threads.
pub type ConcurrentListener = Arc<
    dyn Fn(&[MessageExt], &mut ConsumeConcurrentlyContext) -> ConsumeConcurrentlyStatus
        + Send
        + Sync,
>;
/// Listener for orderly consumption: one queue's messages in order, one batch at a time.
pub type OrderlyListener = Arc<dyn Fn(&[MessageExt]) -> ConsumeOrderlyStatus + Send + Sync>;

/// An async concurrent listener: for consumers whose work is I/O (a database, an HTTP call),
/// run as a task of the consumer instead of on a blocking thread. Calls in progress are
/// bounded by `consume_thread_nums` like blocking ones.
///
/// ```
/// use rmq_client::consumer::{AsyncConcurrentListener, ConsumeConcurrentlyContext};
/// use rmq_client::{ConsumeConcurrentlyStatus, MessageExt};
///
/// struct Store;
/// impl AsyncConcurrentListener for Store {
///     async fn consume(&self, msgs: &[MessageExt], _ctx: &mut ConsumeConcurrentlyContext) -> ConsumeConcurrentlyStatus {
///         for m in msgs {
///             tokio::task::yield_now().await; // e.g. write m.body somewhere
///             let _ = &m.body;
///         }
///         ConsumeConcurrentlyStatus::ConsumeSuccess
///     }
/// }
/// ```
pub trait AsyncConcurrentListener: Send + Sync + 'static {
    /// Consumes one batch; see [`ConsumeConcurrentlyContext`] for acking part of it.
    fn consume(
        &self,
        msgs: &[MessageExt],
        ctx: &mut ConsumeConcurrentlyContext,
    ) -> impl Future<Output = ConsumeConcurrentlyStatus> + Send;
}

/// One async listener call: messages and context go in and come back with the status.
pub(crate) type AsyncCall = BoxFuture<
    'static,
    (
        ConsumeConcurrentlyStatus,
        Vec<MessageExt>,
        ConsumeConcurrentlyContext,
    ),
>;

/// An [`AsyncConcurrentListener`] with its type erased.
pub(crate) type AsyncConcurrent =
    Arc<dyn Fn(Vec<MessageExt>, ConsumeConcurrentlyContext) -> AsyncCall + Send + Sync>;

/// Erases the type of an async listener.
pub(crate) fn erase_async<L: AsyncConcurrentListener>(listener: L) -> AsyncConcurrent {
    let listener = Arc::new(listener);
    Arc::new(move |msgs, mut ctx| {
        let l = listener.clone();
        async move {
            let status = l.consume(&msgs, &mut ctx).await;
            (status, msgs, ctx)
        }
        .boxed()
    })
}

#[derive(Clone)]
pub(crate) enum Listener {
    Concurrent(ConcurrentListener),
    ConcurrentAsync(AsyncConcurrent),
    Orderly(OrderlyListener),
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Listener::Concurrent(_) => "Listener::Concurrent",
            Listener::ConcurrentAsync(_) => "Listener::ConcurrentAsync",
            Listener::Orderly(_) => "Listener::Orderly",
        })
    }
}

/// Where a group without a stored offset for a queue starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConsumeFrom {
    /// The queue's current end: only messages sent from now on (retry topics start at 0).
    #[default]
    LastOffset,
    /// The queue's beginning.
    FirstOffset,
    /// The first message stored at or after this time (ms since the epoch).
    Timestamp(i64),
}

impl ConsumeFrom {
    pub(crate) fn wire(self) -> ConsumeFromWhere {
        match self {
            ConsumeFrom::LastOffset => ConsumeFromWhere::ConsumeFromLastOffset,
            ConsumeFrom::FirstOffset => ConsumeFromWhere::ConsumeFromFirstOffset,
            ConsumeFrom::Timestamp(_) => ConsumeFromWhere::ConsumeFromTimestamp,
        }
    }
}
