//! Receipt handles: what a popped message carries so its consumer can ack it, change its
//! invisibility or send it to the dead letter queue.
//!
//! The text is Apache's (`ReceiptHandle.encode`, space separated): `startOffset retrieveTime
//! invisibleTime reviveQueueId topicType brokerName queueId offset commitLogOffset`, so tools
//! and clients that parse Apache's handles read rmq's too. The handle names the message by the
//! queue it was popped from (the topic, or the group's retry topic when `topicType` is `1`), its
//! queue id and offset; the broker settles by that position, not by the handle's times, so the
//! handle returned by a ChangeInvisibleDuration and the one it replaced both stay valid.

use rmq_common::topic::RETRY_GROUP_TOPIC_PREFIX;

/// `topicType` of a message popped from the topic itself.
pub const NORMAL_TOPIC: &str = "0";
/// `topicType` of a message popped from the group's retry topic for the topic.
pub const RETRY_TOPIC: &str = "1";

/// The fields of a receipt handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptHandle {
    /// First offset of the batch the message was popped in.
    pub start_offset: i64,
    /// When it was popped (or its invisibility last changed), ms since the epoch.
    pub retrieve_time: i64,
    /// How long it stays invisible from `retrieve_time`, ms.
    pub invisible_time: i64,
    pub revive_queue_id: i32,
    /// Whether it came from the topic or the group's retry topic.
    pub retry: bool,
    pub broker_name: String,
    pub queue_id: i32,
    pub offset: i64,
    pub commit_log_offset: i64,
}

/// Why a receipt handle was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("receipt handle {handle:?} is not valid: {reason}")]
pub struct BadHandle {
    pub handle: String,
    pub reason: &'static str,
}

impl ReceiptHandle {
    pub fn encode(&self) -> String {
        format!(
            "{} {} {} {} {} {} {} {} {}",
            self.start_offset,
            self.retrieve_time,
            self.invisible_time,
            self.revive_queue_id,
            if self.retry {
                RETRY_TOPIC
            } else {
                NORMAL_TOPIC
            },
            self.broker_name,
            self.queue_id,
            self.offset,
            self.commit_log_offset
        )
    }

    pub fn decode(text: &str) -> Result<ReceiptHandle, BadHandle> {
        let bad = |reason| BadHandle {
            handle: text.chars().take(200).collect(),
            reason,
        };
        let f: Vec<&str> = text.split(' ').collect();
        if f.len() < 8 {
            return Err(bad("expected at least 8 space-separated fields"));
        }
        let int = |s: &str| {
            s.parse::<i64>()
                .map_err(|_| bad("a numeric field is not a number"))
        };
        let small = |s: &str| {
            s.parse::<i32>()
                .map_err(|_| bad("a queue id is not a number"))
        };
        let retry = match f[4] {
            NORMAL_TOPIC => false,
            RETRY_TOPIC => true,
            _ => return Err(bad("topic type must be 0 (topic) or 1 (retry topic)")),
        };
        Ok(ReceiptHandle {
            start_offset: int(f[0])?,
            retrieve_time: int(f[1])?,
            invisible_time: int(f[2])?,
            revive_queue_id: small(f[3])?,
            retry,
            broker_name: f[5].to_owned(),
            queue_id: small(f[6])?,
            offset: int(f[7])?,
            commit_log_offset: match f.get(8) {
                Some(s) => int(s)?,
                None => -1,
            },
        })
    }

    /// The topic the message was popped from, for a consumer of `topic` in `group`.
    pub fn popped_topic(&self, group: &str, topic: &str) -> String {
        if self.retry {
            pop_retry_topic(group, topic)
        } else {
            topic.to_owned()
        }
    }
}

/// Where a POP consumer group's unacknowledged messages of `topic` are redelivered from:
/// `%RETRY%{group}_{topic}`, Apache's name for it.
pub fn pop_retry_topic(group: &str, topic: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}_{topic}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ReceiptHandle {
        ReceiptHandle {
            start_offset: 10,
            retrieve_time: 1_700_000_000_000,
            invisible_time: 30_000,
            revive_queue_id: 0,
            retry: true,
            broker_name: "broker-a".into(),
            queue_id: 3,
            offset: 12,
            commit_log_offset: 4096,
        }
    }

    #[test]
    fn round_trip_in_apaches_layout() {
        let h = sample();
        let text = h.encode();
        assert_eq!(text, "10 1700000000000 30000 0 1 broker-a 3 12 4096");
        assert_eq!(ReceiptHandle::decode(&text), Ok(h));
    }

    #[test]
    fn apache_handle_without_commit_log_offset() {
        let h = ReceiptHandle::decode("5 1 2 0 0 b 1 7").unwrap();
        assert_eq!((h.queue_id, h.offset, h.commit_log_offset), (1, 7, -1));
        assert!(!h.retry);
    }

    #[test]
    fn garbage_is_refused_by_reason() {
        for bad in [
            "",
            "a b c",
            "1 2 3 0 9 b 1 7",
            "1 2 3 0 0 b x 7",
            "x 2 3 0 0 b 1 7",
        ] {
            assert!(ReceiptHandle::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn retry_topic_name() {
        assert_eq!(sample().popped_topic("g", "t"), "%RETRY%g_t");
        assert_eq!(pop_retry_topic("g", "t"), "%RETRY%g_t");
    }
}
