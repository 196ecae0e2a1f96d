//! Handing a failed message back for a later delivery (protocol.md 5.4).
//!
//! Concurrent consumption asks the broker first (CONSUMER_SEND_MSG_BACK, delay level 0: the
//! broker picks level `3 + reconsumeTimes`, or the DLQ past the maximum) and falls back to
//! sending the message itself, as a normal message, to `%RETRY%group` (Java's
//! `sendMessageBackAsNormalMessage`). Orderly consumption retries locally and only uses the
//! second path, once the maximum is exceeded, with a reconsume count above the maximum so that
//! the broker stores it in `%DLQ%group`. Both keep the properties, so the message keeps its id
//! (`UNIQ_KEY`) and tells where it came from (`RETRY_TOPIC`, `ORIGIN_MESSAGE_ID`).

use rmq_common::message::keys;
use rmq_common::topic::retry_topic;
use rmq_common::{Message, MessageExt, MessageQueue};

use super::inner::PushInner;

/// Concurrent: CONSUMER_SEND_MSG_BACK at `delay_level` (0: the broker's choice, negative: the
/// DLQ), else a normal send to `%RETRY%group`. False if both failed (the caller keeps the
/// message).
pub(crate) async fn send_back(
    inner: &PushInner,
    mq: &MessageQueue,
    m: &MessageExt,
    delay_level: i32,
) -> bool {
    let group = &inner.config.group;
    let max = inner.config.concurrent_max_reconsume_times();
    match inner
        .instance
        .send_back(group, &mq.broker_name, m, delay_level, max)
        .await
    {
        Ok(()) => return true,
        Err(e) => {
            tracing::warn!(queue = %mq, offset = m.queue_offset, error = %e, "send-back failed; re-sending to the retry topic")
        }
    }
    // A negative level means the DLQ: a reconsume count past the maximum gets it there.
    let times = if delay_level < 0 {
        m.reconsume_times.max(max).saturating_add(1)
    } else {
        m.reconsume_times + 1
    };
    let mut msg = retry_message(group, m, times, max);
    if delay_level > 0 {
        msg.properties
            .insert(keys::DELAY.to_owned(), delay_level.to_string());
    }
    resend(inner, mq, msg).await
}

/// Orderly: the message failed `max` times; a normal send to `%RETRY%group` whose reconsume
/// count exceeds `max`, which the broker diverts to `%DLQ%group`. False if it failed.
pub(crate) async fn send_to_dead_letter(
    inner: &PushInner,
    mq: &MessageQueue,
    m: &MessageExt,
    max: i32,
) -> bool {
    let times = m.reconsume_times.max(max).saturating_add(1);
    let sent = resend(inner, mq, retry_message(&inner.config.group, m, times, max)).await;
    if sent {
        tracing::warn!(queue = %mq, offset = m.queue_offset, msg_id = %m.msg_id(), reconsume_times = m.reconsume_times, "orderly consumption failed too often; message sent to the DLQ");
    }
    sent
}

async fn resend(inner: &PushInner, mq: &MessageQueue, msg: Message) -> bool {
    let result = match inner.sender.prepare(&msg) {
        Ok(p) => inner.sender.send(&p).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(queue = %mq, error = %e, "re-sending to the retry topic failed");
            false
        }
    }
}

/// The message Java's `sendMessageBackAsNormalMessage` sends (protocol.md 5.4 step 3):
/// `RECONSUME_TIME = reconsume_time`, delay level `3 + m.reconsume_times`.
pub(crate) fn retry_message(
    group: &str,
    m: &MessageExt,
    reconsume_time: i32,
    max_reconsume_times: i32,
) -> Message {
    let mut props = m.message.properties.clone();
    props.remove(keys::MIN_OFFSET);
    props.remove(keys::MAX_OFFSET);
    props.remove(keys::TRAN_MSG);
    props.insert(keys::RETRY_TOPIC.to_owned(), m.message.topic.clone());
    props
        .entry(keys::ORIGIN_MESSAGE_ID.to_owned())
        .or_insert_with(|| m.msg_id());
    props.insert(keys::RECONSUME_TIME.to_owned(), reconsume_time.to_string());
    props.insert(
        keys::MAX_RECONSUME_TIMES.to_owned(),
        max_reconsume_times.to_string(),
    );
    props.insert(
        keys::DELAY.to_owned(),
        m.reconsume_times.saturating_add(3).to_string(),
    );
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
        let r = retry_message("G", &m, 3, 16);
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
