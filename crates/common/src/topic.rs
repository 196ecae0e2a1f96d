//! Topics, queues and their configuration, with the JSON shapes Apache RocketMQ uses.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::perm;

/// Template topic used for auto-creation.
pub const AUTO_CREATE_TOPIC_KEY: &str = "TBW102";
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";
pub const SELF_TEST_TOPIC: &str = "SELF_TEST_TOPIC";
pub const RMQ_SYS_TRANS_HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
pub const RMQ_SYS_TRANS_OP_HALF_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";
pub const DEFAULT_PRODUCER_GROUP: &str = "DEFAULT_PRODUCER";
pub const DEFAULT_CONSUMER_GROUP: &str = "DEFAULT_CONSUMER";
pub const CLIENT_INNER_PRODUCER_GROUP: &str = "CLIENT_INNER_PRODUCER";
/// Longest topic name a broker accepts.
pub const TOPIC_MAX_LENGTH: usize = 127;

pub fn retry_topic(group: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}")
}

pub fn dlq_topic(group: &str) -> String {
    format!("{DLQ_GROUP_TOPIC_PREFIX}{group}")
}

/// The topic replies travel on in `cluster` (`{cluster}_REPLY_TOPIC`): every broker of the
/// cluster has it from its start.
pub fn reply_topic(cluster: &str) -> String {
    format!("{cluster}_REPLY_TOPIC")
}

pub fn is_retry_topic(topic: &str) -> bool {
    topic.starts_with(RETRY_GROUP_TOPIC_PREFIX)
}

pub fn is_dlq_topic(topic: &str) -> bool {
    topic.starts_with(DLQ_GROUP_TOPIC_PREFIX)
}

/// Topics the broker owns; producers may not send to them directly.
pub fn is_system_topic(topic: &str) -> bool {
    topic == SCHEDULE_TOPIC
        || topic == RMQ_SYS_TRANS_HALF_TOPIC
        || topic == RMQ_SYS_TRANS_OP_HALF_TOPIC
        || topic.starts_with("rmq_sys_")
}

/// Why a topic name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicNameError {
    #[error("the topic name is blank")]
    Blank,
    #[error("the topic name {name:?} is {len} characters long; the limit is {TOPIC_MAX_LENGTH}")]
    TooLong { name: String, len: usize },
    #[error("the topic name {0:?} contains characters other than letters, digits, '%', '|', '-' and '_'")]
    IllegalCharacters(String),
}

/// Validates a topic name as `TopicValidator.validateTopic` does.
pub fn validate_topic(name: &str) -> Result<(), TopicNameError> {
    if name.trim().is_empty() {
        return Err(TopicNameError::Blank);
    }
    let len = name.chars().count();
    if len > TOPIC_MAX_LENGTH {
        return Err(TopicNameError::TooLong {
            name: name.to_owned(),
            len,
        });
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '%' | '|' | '-' | '_'))
    {
        return Err(TopicNameError::IllegalCharacters(name.to_owned()));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TopicFilterType {
    #[default]
    SingleTag,
    MultiTag,
}

impl fmt::Display for TopicFilterType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TopicFilterType::SingleTag => "SINGLE_TAG",
            TopicFilterType::MultiTag => "MULTI_TAG",
        })
    }
}

/// A topic's configuration on one broker (`TopicConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfig {
    pub attributes: BTreeMap<String, String>,
    pub order: bool,
    pub perm: i32,
    pub read_queue_nums: i32,
    pub topic_filter_type: TopicFilterType,
    pub topic_name: String,
    pub topic_sys_flag: i32,
    pub write_queue_nums: i32,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            attributes: BTreeMap::new(),
            order: false,
            perm: perm::READ | perm::WRITE,
            read_queue_nums: 16,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_name: String::new(),
            topic_sys_flag: 0,
            write_queue_nums: 16,
        }
    }
}

impl TopicConfig {
    pub fn new(name: impl Into<String>, read_queues: i32, write_queues: i32, perm: i32) -> Self {
        TopicConfig {
            topic_name: name.into(),
            read_queue_nums: read_queues,
            write_queue_nums: write_queues,
            perm,
            ..Default::default()
        }
    }

    /// `TopicConfig.encode()`: the space-separated form used in compressed registrations.
    pub fn encode_compact(&self) -> String {
        format!(
            "{} {} {} {} {} {}",
            self.topic_name,
            self.read_queue_nums,
            self.write_queue_nums,
            self.perm,
            self.topic_filter_type,
            serde_json::to_string(&self.attributes).unwrap_or_else(|_| "{}".into())
        )
    }
}

/// One queue of a topic on a named broker (`MessageQueue`). Ordered by topic, broker, queue id,
/// as Java's `compareTo`, which allocation strategies depend on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageQueue {
    pub topic: String,
    pub broker_name: String,
    pub queue_id: i32,
}

impl MessageQueue {
    pub fn new(topic: impl Into<String>, broker_name: impl Into<String>, queue_id: i32) -> Self {
        MessageQueue {
            topic: topic.into(),
            broker_name: broker_name.into(),
            queue_id,
        }
    }
}

impl fmt::Display for MessageQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MessageQueue [topic={}, brokerName={}, queueId={}]",
            self.topic, self.broker_name, self.queue_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_config_json_uses_java_names() {
        let t = TopicConfig::new("T", 4, 4, 6);
        let j = serde_json::to_string(&t).unwrap();
        assert_eq!(
            j,
            r#"{"attributes":{},"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"T","topicSysFlag":0,"writeQueueNums":4}"#
        );
        let back: TopicConfig = serde_json::from_str(r#"{"topicName":"T","perm":6}"#).unwrap();
        assert_eq!(back.topic_name, "T");
        assert_eq!(back.read_queue_nums, 16);
        assert_eq!(t.encode_compact(), "T 4 4 6 SINGLE_TAG {}");
    }

    #[test]
    fn topic_names() {
        assert!(validate_topic("TopicTest").is_ok());
        assert!(validate_topic("%RETRY%g-1").is_ok());
        assert_eq!(validate_topic(" "), Err(TopicNameError::Blank));
        assert!(matches!(
            validate_topic(&"a".repeat(128)),
            Err(TopicNameError::TooLong { len: 128, .. })
        ));
        assert!(validate_topic("a b").is_err());
    }

    #[test]
    fn queue_order_is_topic_broker_id() {
        let mut v = [
            MessageQueue::new("T", "b", 0),
            MessageQueue::new("T", "a", 1),
            MessageQueue::new("T", "a", 0),
        ];
        v.sort();
        assert_eq!(v[0], MessageQueue::new("T", "a", 0));
        assert_eq!(v[2], MessageQueue::new("T", "b", 0));
    }
}
