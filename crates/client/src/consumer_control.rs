//! What a consumer answers when an operator reaches it through a broker (protocol.md 2.5):
//! its running state (GET_CONSUMER_RUNNING_INFO), the offsets it holds
//! (GET_CONSUMER_STATUS_FROM_CLIENT), an offset reset (RESET_CONSUMER_CLIENT_OFFSET) and a
//! message to consume now (CONSUME_MESSAGE_DIRECTLY).
//!
//! A leaf: the server-request handler (built before any consumer) holds a consumer through this
//! trait, and the push consumer implements it, so neither imports the other.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use rmq_common::{MessageExt, MessageQueue};
use rmq_remoting::body::{ConsumeMessageDirectlyResult, ConsumerRunningInfo};

/// A consumer as the broker's relayed admin requests see it.
pub(crate) trait ConsumerControl: Send + Sync {
    /// The consumer group.
    fn group(&self) -> &str;
    /// Settings, subscriptions and the queues it holds now.
    fn running_info(&self) -> ConsumerRunningInfo;
    /// The offset it holds for each owned queue of `topic`.
    fn held_offsets(&self, topic: &str) -> BTreeMap<MessageQueue, i64>;
    /// Moves the given queues to the given offsets: what it holds of them is dropped and
    /// pulling resumes from there.
    fn reset_offsets(&self, offsets: BTreeMap<MessageQueue, i64>) -> BoxFuture<'static, ()>;
    /// Runs the listener on one message, outside the normal flow (no retry, no commit).
    fn consume_directly(
        &self,
        message: MessageExt,
        broker_name: String,
    ) -> BoxFuture<'static, ConsumeMessageDirectlyResult>;
}
