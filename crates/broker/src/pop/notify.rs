//! NOTIFICATION: whether a group has messages to pop from a topic (any queue, or one), waiting
//! up to the poll time for some to arrive. A queue has messages to pop when its end is past the
//! group's position there (the filter is not applied, as in Apache); the group's retry topic
//! counts too. A FIFO queue whose messages in flight are due again is not announced: its
//! redelivery waits for the consumer's next pop.

use std::time::Duration;

use rmq_remoting::transport::ProcessError;
use tokio::time::Instant;

use super::handle::pop_retry_topic;
use super::receive::{check, position};
use crate::context::BrokerContext;

/// The answer to a NOTIFICATION.
pub struct Notice {
    pub has_msg: bool,
    /// The broker already holds as many waiting requests as it may; answered without waiting.
    pub polling_full: bool,
}

pub async fn notification(
    ctx: &BrokerContext,
    group: &str,
    topic: &str,
    queue_id: Option<i32>,
    poll: Duration,
) -> Result<Notice, ProcessError> {
    let fifo = check(ctx, group, topic, queue_id)?;
    let retry_topic = (!fifo).then(|| pop_retry_topic(group, topic));
    let has = || {
        poppable(ctx, group, topic, queue_id, false)
            || retry_topic
                .as_deref()
                .is_some_and(|r| poppable(ctx, group, r, None, true))
    };
    if has() || poll.is_zero() {
        return Ok(Notice {
            has_msg: has(),
            polling_full: false,
        });
    }
    let Some(_permit) = ctx.arrivals().try_hold() else {
        return Ok(Notice {
            has_msg: false,
            polling_full: true,
        });
    };
    let _waiting = ctx.pop().waiting.enter(group, topic, queue_id);
    let deadline = Instant::now() + poll;
    let retry_wake = ctx
        .arrivals()
        .topic(retry_topic.as_deref().unwrap_or(topic));
    loop {
        let topic_wake = ctx.arrivals().topic(topic);
        let arrived = topic_wake.notified();
        let retried = retry_wake.notified();
        tokio::pin!(arrived, retried);
        arrived.as_mut().enable();
        retried.as_mut().enable();
        if has() || Instant::now() >= deadline {
            return Ok(Notice {
                has_msg: has(),
                polling_full: false,
            });
        }
        tokio::select! {
            _ = &mut arrived => {}
            _ = &mut retried => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = ctx.shutting_down() => {
                return Ok(Notice { has_msg: false, polling_full: false });
            }
        }
    }
}

/// Whether a queue of `topic` (`queue_id`, or any) is past the group's position.
fn poppable(
    ctx: &BrokerContext,
    group: &str,
    topic: &str,
    queue_id: Option<i32>,
    from_min: bool,
) -> bool {
    let Some(config) = ctx.topics().get(topic) else {
        return false;
    };
    let store = ctx.store();
    let queues: Vec<i32> = match queue_id {
        Some(q) => vec![q],
        None => (0..config.read_queue_nums.max(0)).collect(),
    };
    queues
        .into_iter()
        .any(|q| store.max_offset_in_queue(topic, q) > position(ctx, group, topic, q, from_min))
}
