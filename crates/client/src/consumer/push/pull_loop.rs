//! One long-polling pull loop per owned queue (protocol.md 8.4): PULL_MESSAGE with SUSPEND (and
//! COMMIT_OFFSET when there is an offset to piggy-back), flow control on the queue's cached
//! messages, `nextBeginOffset` adopted on every answer, and errors retried after a pause.

use std::sync::Arc;
use std::time::Duration;

use rmq_common::sysflag::pull as pull_flag;
use rmq_common::MessageQueue;
use rmq_remoting::body::SubscriptionData;
use rmq_remoting::header::PullMessageRequestHeader;
use rmq_remoting::{RemotingCommand, RequestCode};

use super::consume;
use super::inner::PushInner;
use super::queue_handle::QueueHandle;
use crate::consumer::pull_result::{process_pull_response, restore_retry_topic, PullStatus};

/// Pause when the queue's cache is full (Java's `PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL`).
const FLOW_CONTROL_DELAY: Duration = Duration::from_millis(50);
/// Extra time the RPC gets beyond the broker's hold.
const LONG_POLL_SLACK: Duration = Duration::from_secs(15);

pub(crate) async fn run(
    inner: Arc<PushInner>,
    mq: MessageQueue,
    handle: QueueHandle,
    sub: SubscriptionData,
    mut next_offset: i64,
) {
    let cfg = &inner.config;
    let instance = &inner.instance;
    loop {
        if handle.pq.count() >= cfg.pull_threshold_for_queue
            || handle.pq.size() >= cfg.pull_threshold_size_for_queue
        {
            tokio::time::sleep(FLOW_CONTROL_DELAY).await;
            continue;
        }
        let (addr, from_master) = match instance
            .subscribe_addr_for(&mq.broker_name, &mq.topic)
            .await
        {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!(queue = %mq, error = %e, "no broker address for pulling");
                tokio::time::sleep(cfg.pull_error_delay).await;
                continue;
            }
        };
        // A slave does not take offset commits (Java clears the flag when pulling from one).
        let commit_offset = if inner.is_clustering() && from_master {
            inner.offsets.read_memory(&mq).filter(|o| *o > 0)
        } else {
            None
        };
        let mut sys_flag = pull_flag::SUSPEND | pull_flag::SUBSCRIPTION;
        if commit_offset.is_some() {
            sys_flag |= pull_flag::COMMIT_OFFSET;
        }
        let header = PullMessageRequestHeader {
            consumer_group: cfg.group.clone(),
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            queue_offset: next_offset,
            max_msg_nums: cfg.pull_batch_size,
            sys_flag,
            commit_offset: commit_offset.unwrap_or(0),
            suspend_timeout_millis: cfg.long_poll_suspend.as_millis() as i64,
            subscription: Some(sub.sub_string.clone()),
            sub_version: sub.sub_version,
            expression_type: Some(sub.expression_type().to_owned()),
            ..Default::default()
        };
        let request = RemotingCommand::request(RequestCode::PullMessage, &header);
        let timeout = cfg.long_poll_suspend + LONG_POLL_SLACK;
        let result = instance
            .pull(&addr, request, timeout)
            .await
            .and_then(|resp| {
                process_pull_response(&addr, &resp, &sub, instance.options.max_inflated_body)
            });
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(queue = %mq, offset = next_offset, error = %e, "pull failed");
                // The broker may be gone: learn the current route (a slave may serve it now).
                instance.refresh_route_after_failure(&mq.topic).await;
                tokio::time::sleep(cfg.pull_error_delay).await;
                continue;
            }
        };
        match r.status {
            PullStatus::Found if !r.messages.is_empty() => {
                next_offset = r.next_begin_offset;
                let mut msgs = r.messages;
                restore_retry_topic(&cfg.group, &mut msgs);
                consume::dispatch(&inner, &mq, &handle, msgs);
            }
            PullStatus::Found | PullStatus::NoNewMsg | PullStatus::NoMatchedMsg => {
                next_offset = r.next_begin_offset;
                // Nothing in flight: everything up to here is consumed (filtered messages too).
                if handle.pq.is_empty() {
                    inner.offsets.update(&mq, next_offset, true);
                }
            }
            PullStatus::OffsetIllegal => {
                tracing::warn!(queue = %mq, from = next_offset, to = r.next_begin_offset, "pull offset moved");
                next_offset = r.next_begin_offset;
                handle.pq.clear();
                inner.offsets.update(&mq, next_offset, false);
                inner.offsets.persist(Some(std::slice::from_ref(&mq))).await;
            }
        }
    }
}
