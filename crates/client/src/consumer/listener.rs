//! What a push consumer's application provides and answers: the listener kinds, their statuses,
//! and where a new group starts consuming.

use std::sync::Arc;

use rmq_common::MessageExt;
use rmq_remoting::body::ConsumeFromWhere;

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
pub type ConcurrentListener = Arc<dyn Fn(&[MessageExt]) -> ConsumeConcurrentlyStatus + Send + Sync>;
/// Listener for orderly consumption: one queue's messages in order, one batch at a time.
pub type OrderlyListener = Arc<dyn Fn(&[MessageExt]) -> ConsumeOrderlyStatus + Send + Sync>;

#[derive(Clone)]
pub(crate) enum Listener {
    Concurrent(ConcurrentListener),
    Orderly(OrderlyListener),
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Listener::Concurrent(_) => "Listener::Concurrent",
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
