//! [`ConsumeConcurrentlyContext`]: what a concurrent listener may say about one call besides its
//! status, as Java's `ConsumeConcurrentlyContext` lets it: how many of the batch it consumed
//! (the rest go back for redelivery) and the delay level of what goes back. A leaf module,
//! shared by the listener kinds and the consume service.

use rmq_common::MessageQueue;

/// Per-call context of a concurrent listener.
///
/// ```
/// use rmq_client::consumer::ConsumeConcurrentlyContext;
/// use rmq_client::{ConsumeConcurrentlyStatus, MessageExt};
///
/// // Consume until the first message that cannot be handled now; retry the rest in 5 s
/// // (delay level 2 with the broker's default levels).
/// fn listener(msgs: &[MessageExt], ctx: &mut ConsumeConcurrentlyContext) -> ConsumeConcurrentlyStatus {
///     let handled = msgs.iter().take_while(|m| !m.body.is_empty()).count();
///     ctx.set_ack_count(handled);
///     ctx.set_delay_level_when_next_consume(2);
///     ConsumeConcurrentlyStatus::ConsumeSuccess
/// }
/// ```
#[derive(Debug, Clone)]
pub struct ConsumeConcurrentlyContext {
    message_queue: MessageQueue,
    ack_count: Option<usize>,
    delay_level: i32,
}

impl ConsumeConcurrentlyContext {
    pub(crate) fn new(message_queue: MessageQueue) -> Self {
        ConsumeConcurrentlyContext {
            message_queue,
            ack_count: None,
            delay_level: 0,
        }
    }

    /// The queue the messages of this call were pulled from.
    pub fn message_queue(&self) -> &MessageQueue {
        &self.message_queue
    }

    /// With [`ConsumeSuccess`](super::ConsumeConcurrentlyStatus::ConsumeSuccess): only the
    /// first `n` messages of this call are consumed; the others are sent back for a later
    /// delivery, as if the call had answered `ReconsumeLater` for them (Java's
    /// `ackIndex = n - 1`). Ignored with `ReconsumeLater`, which sends back every message.
    pub fn set_ack_count(&mut self, n: usize) {
        self.ack_count = Some(n);
    }

    /// What [`set_ack_count`](Self::set_ack_count) set, if anything (all by default).
    pub fn ack_count(&self) -> Option<usize> {
        self.ack_count
    }

    /// The delay level of the messages this call sends back (Java's
    /// `delayLevelWhenNextConsume`): 0, the default, lets the broker choose
    /// `3 + reconsume times`; a negative level sends them straight to the group's DLQ; a
    /// positive level is used as it is.
    pub fn set_delay_level_when_next_consume(&mut self, level: i32) {
        self.delay_level = level;
    }

    /// What [`set_delay_level_when_next_consume`](Self::set_delay_level_when_next_consume)
    /// set (0 by default).
    pub fn delay_level_when_next_consume(&self) -> i32 {
        self.delay_level
    }

    /// How many of `len` messages count as consumed after `success`.
    pub(crate) fn acked(&self, success: bool, len: usize) -> usize {
        if success {
            self.ack_count.unwrap_or(len).min(len)
        } else {
            0
        }
    }
}
