//! Concurrent consumption (protocol.md 5.4): pulled messages are split into listener batches and
//! run on blocking threads bounded by a semaphore. Success commits up to the smallest offset
//! still in flight; RECONSUME_LATER sends each message back to the broker (CONSUMER_SEND_MSG_BACK,
//! delay level 0), falling back to sending it as a normal message to `%RETRY%group`, and — if
//! both fail — keeps it and tries again 5 s later locally. A message is never dropped.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::message::keys;
use rmq_common::topic::retry_topic;
use rmq_common::{Message, MessageExt, MessageQueue};

use super::rebalance::QueueHandle;
use super::PushInner;
use crate::consumer::listener::{ConsumeConcurrentlyStatus, Listener};

/// Local retry delay when a failed message could not be handed back to the broker.
const LOCAL_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Hands freshly pulled messages to the consume service of the queue.
pub(crate) fn dispatch(
    inner: &Arc<PushInner>,
    mq: &MessageQueue,
    handle: &QueueHandle,
    msgs: Vec<MessageExt>,
) {
    if inner.is_orderly() {
        handle.pq.put_orderly(msgs);
        handle.wake.notify_one();
        return;
    }
    let fresh = handle.pq.put(msgs);
    let mut fresh = fresh.into_iter().peekable();
    while fresh.peek().is_some() {
        let batch: Vec<MessageExt> = fresh
            .by_ref()
            .take(inner.config.consume_batch_max_size)
            .collect();
        let task = consume_concurrently(inner.clone(), mq.clone(), handle.clone(), batch);
        inner.consume_tasks.spawn(task);
    }
}

async fn consume_concurrently(
    inner: Arc<PushInner>,
    mq: MessageQueue,
    handle: QueueHandle,
    mut msgs: Vec<MessageExt>,
) {
    let Listener::Concurrent(listener) = inner.listener.clone() else {
        return;
    };
    loop {
        let permit = tokio::select! {
            p = inner.permits.clone().acquire_owned() => p,
            _ = handle.cancel.cancelled() => return,
        };
        let Ok(permit) = permit else { return };
        if handle.cancel.is_cancelled() {
            return;
        }
        let l = listener.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let status =
                std::panic::catch_unwind(AssertUnwindSafe(|| l(&msgs))).unwrap_or_else(|_| {
                    tracing::error!("message listener panicked; reconsuming later");
                    ConsumeConcurrentlyStatus::ReconsumeLater
                });
            (status, msgs)
        })
        .await;
        drop(permit);
        let Ok((status, back)) = joined else {
            return; // runtime shutting down
        };
        msgs = back;
        if handle.cancel.is_cancelled() {
            // The queue moved to another member, which re-delivers from the committed offset.
            return;
        }
        let mut done = Vec::with_capacity(msgs.len());
        let mut failed = Vec::new();
        match status {
            ConsumeConcurrentlyStatus::ConsumeSuccess => {
                done.extend(msgs.iter().map(|m| m.queue_offset))
            }
            ConsumeConcurrentlyStatus::ReconsumeLater if !inner.is_clustering() => {
                // Broadcasting has no retry topic: Java only logs the failure.
                tracing::warn!(queue = %mq, count = msgs.len(), "broadcast consumption failed; messages dropped");
                done.extend(msgs.iter().map(|m| m.queue_offset));
            }
            ConsumeConcurrentlyStatus::ReconsumeLater => {
                for m in msgs.drain(..) {
                    if send_back(&inner, &mq, &m).await {
                        done.push(m.queue_offset);
                    } else {
                        failed.push(m);
                    }
                }
            }
        }
        if let Some(offset) = handle.pq.remove(&done) {
            inner.offsets.update(&mq, offset, true);
        }
        if failed.is_empty() {
            return;
        }
        for m in &mut failed {
            m.reconsume_times += 1;
        }
        tracing::warn!(queue = %mq, count = failed.len(), "could not hand failed messages back; consuming them again locally");
        tokio::select! {
            _ = tokio::time::sleep(LOCAL_RETRY_DELAY) => {}
            _ = handle.cancel.cancelled() => return,
        }
        msgs = failed;
    }
}

/// CONSUMER_SEND_MSG_BACK, else a normal send to `%RETRY%group`. False if both failed.
async fn send_back(inner: &PushInner, mq: &MessageQueue, m: &MessageExt) -> bool {
    let group = &inner.config.group;
    let max = inner.config.max_reconsume_times;
    match inner
        .instance
        .send_back(group, &mq.broker_name, m, 0, max)
        .await
    {
        Ok(()) => return true,
        Err(e) => {
            tracing::warn!(queue = %mq, offset = m.queue_offset, error = %e, "send-back failed; re-sending to the retry topic")
        }
    }
    let retry = retry_message(group, m, max);
    let result = match inner.sender.prepare(&retry) {
        Ok(p) => inner.sender.send(&p).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(queue = %mq, offset = m.queue_offset, error = %e, "re-sending to the retry topic failed");
            false
        }
    }
}

/// The message Java's `sendMessageBackAsNormalMessage` sends (protocol.md 5.4 step 3).
pub(crate) fn retry_message(group: &str, m: &MessageExt, max_reconsume_times: i32) -> Message {
    let mut props = m.message.properties.clone();
    props.remove(keys::MIN_OFFSET);
    props.remove(keys::MAX_OFFSET);
    props.remove(keys::TRAN_MSG);
    props.insert(keys::RETRY_TOPIC.to_owned(), m.message.topic.clone());
    props
        .entry(keys::ORIGIN_MESSAGE_ID.to_owned())
        .or_insert_with(|| m.msg_id());
    props.insert(
        keys::RECONSUME_TIME.to_owned(),
        (m.reconsume_times + 1).to_string(),
    );
    props.insert(
        keys::MAX_RECONSUME_TIMES.to_owned(),
        max_reconsume_times.to_string(),
    );
    props.insert(keys::DELAY.to_owned(), (3 + m.reconsume_times).to_string());
    Message {
        topic: retry_topic(group),
        flag: m.message.flag,
        properties: props,
        body: m.message.body.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_message_properties() {
        let mut m = MessageExt {
            message: Message::new("Orig", "body")
                .with_tags("TagA")
                .with_property("UNIQ_KEY", "U1")
                .with_property("MAX_OFFSET", "9"),
            queue_id: 0,
            store_size: 0,
            queue_offset: 3,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp: 0,
            store_host: "127.0.0.1:10911".parse().unwrap(),
            commit_log_offset: 77,
            body_crc: 0,
            reconsume_times: 2,
            prepared_transaction_offset: 0,
        };
        m.message.flag = 5;
        let r = retry_message("G", &m, 16);
        assert_eq!(r.topic, "%RETRY%G");
        assert_eq!(r.flag, 5);
        assert_eq!(r.property("RETRY_TOPIC"), Some("Orig"));
        assert_eq!(r.property("ORIGIN_MESSAGE_ID"), Some("U1"));
        assert_eq!(r.property("RECONSUME_TIME"), Some("3"));
        assert_eq!(r.property("MAX_RECONSUME_TIMES"), Some("16"));
        assert_eq!(r.property("DELAY"), Some("5"));
        assert_eq!(r.property("UNIQ_KEY"), Some("U1"));
        assert_eq!(r.property("TAGS"), Some("TagA"));
        assert_eq!(r.property("MAX_OFFSET"), None);
    }
}
