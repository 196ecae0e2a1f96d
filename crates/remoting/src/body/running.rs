//! What a client reports about itself: `ConsumerRunningInfo` (GET_CONSUMER_RUNNING_INFO, 307,
//! relayed by the broker from the consumer) and `ProducerConnection`
//! (GET_PRODUCER_CONNECTION_LIST, 204).
//!
//! Java fills `properties` from `java.util.Properties`, so its values are read leniently as
//! text. The `MessageQueue`-keyed tables use fastjson's inline-object keys.

use std::collections::{BTreeMap, BTreeSet};

use rmq_common::MessageQueue;
use serde::{Deserialize, Deserializer, Serialize};

use super::admin::Connection;
use super::heartbeat::SubscriptionData;
use super::lenient;
use crate::json::JsonBody;

/// `ProcessQueueInfo`: a push consumer's view of one queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProcessQueueInfo {
    /// Messages held in the process queue.
    #[serde(deserialize_with = "lenient::int")]
    pub cached_msg_count: i32,
    /// Highest offset held.
    #[serde(deserialize_with = "lenient::long")]
    pub cached_msg_max_offset: i64,
    /// Lowest offset held.
    #[serde(deserialize_with = "lenient::long")]
    pub cached_msg_min_offset: i64,
    /// Size of the held messages in MiB.
    #[serde(rename = "cachedMsgSizeInMiB", deserialize_with = "lenient::int")]
    pub cached_msg_size_in_mib: i32,
    /// The offset the consumer would commit.
    #[serde(deserialize_with = "lenient::long")]
    pub commit_offset: i64,
    /// Whether the queue was taken away from this consumer.
    #[serde(alias = "droped", deserialize_with = "lenient::boolean")]
    pub dropped: bool,
    /// When a message was last consumed (ms).
    #[serde(deserialize_with = "lenient::long")]
    pub last_consume_timestamp: i64,
    /// When the queue lock was last taken (orderly consumers, ms).
    #[serde(deserialize_with = "lenient::long")]
    pub last_lock_timestamp: i64,
    /// When the queue was last pulled (ms).
    #[serde(deserialize_with = "lenient::long")]
    pub last_pull_timestamp: i64,
    /// Whether the consumer holds the broker's lock on the queue.
    #[serde(deserialize_with = "lenient::boolean")]
    pub locked: bool,
    /// Messages of transactions held.
    #[serde(deserialize_with = "lenient::int")]
    pub transaction_msg_count: i32,
    /// Highest transaction offset held.
    #[serde(deserialize_with = "lenient::long")]
    pub transaction_msg_max_offset: i64,
    /// Lowest transaction offset held.
    #[serde(deserialize_with = "lenient::long")]
    pub transaction_msg_min_offset: i64,
    /// Failed unlock attempts.
    #[serde(deserialize_with = "lenient::long")]
    pub try_unlock_times: i64,
}

/// `PopProcessQueueInfo`: a POP consumer's view of one queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PopProcessQueueInfo {
    /// Whether the queue was taken away.
    #[serde(deserialize_with = "lenient::boolean")]
    pub droped: bool,
    /// When the queue was last popped (ms).
    #[serde(deserialize_with = "lenient::long")]
    pub last_pop_timestamp: i64,
    /// Messages popped and not acknowledged yet.
    #[serde(deserialize_with = "lenient::int")]
    pub wait_ack_count: i32,
}

/// `ConsumeStatus`: one topic's consumption rates as a consumer measures them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumeStatus {
    /// Messages that failed in the last hour.
    #[serde(rename = "consumeFailedMsgs", deserialize_with = "lenient::long")]
    pub consume_failed_msgs: i64,
    /// Failed messages per second.
    #[serde(rename = "consumeFailedTPS")]
    pub consume_failed_tps: f64,
    /// Successful messages per second.
    #[serde(rename = "consumeOKTPS")]
    pub consume_ok_tps: f64,
    /// Mean consume time (ms).
    #[serde(rename = "consumeRT")]
    pub consume_rt: f64,
    /// Mean pull time (ms).
    #[serde(rename = "pullRT")]
    pub pull_rt: f64,
    /// Pulled messages per second.
    #[serde(rename = "pullTPS")]
    pub pull_tps: f64,
}

/// `ConsumerRunningInfo`: what one consumer reports about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerRunningInfo {
    /// Thread dump, when asked for with `jstackEnable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jstack: Option<String>,
    /// POP queues of the consumer.
    #[serde(with = "crate::json::mq_map")]
    pub mq_pop_table: BTreeMap<MessageQueue, PopProcessQueueInfo>,
    /// Pulled queues of the consumer.
    #[serde(with = "crate::json::mq_map")]
    pub mq_table: BTreeMap<MessageQueue, ProcessQueueInfo>,
    /// `PROP_*` keys and the consumer's settings, as text.
    #[serde(deserialize_with = "text_map")]
    pub properties: BTreeMap<String, String>,
    /// Topic to its consumption rates.
    pub status_table: BTreeMap<String, ConsumeStatus>,
    /// The consumer's subscriptions.
    pub subscription_set: Vec<SubscriptionData>,
    /// Whatever the application added.
    pub user_consumer_info: BTreeMap<String, String>,
}
impl JsonBody for ConsumerRunningInfo {}

/// `ProducerConnection`: the connected clients of a producer group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerConnection {
    /// One entry per client channel.
    pub connection_set: BTreeSet<Connection>,
}
impl JsonBody for ProducerConnection {}

/// A map whose values may be any JSON scalar (Java `Properties`), kept as text.
fn text_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw: BTreeMap<String, serde_json::Value> = Option::deserialize(d)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

/// `CMResult`: how a consumer's listener handled a message consumed on an admin's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsumeResult {
    CrSuccess,
    CrLater,
    CrRollback,
    CrCommit,
    CrThrowException,
    CrReturnNull,
}

/// `ConsumeMessageDirectlyResult` (CONSUME_MESSAGE_DIRECTLY, 309): what a consumer did with
/// the message an admin asked it to consume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumeMessageDirectlyResult {
    pub order: bool,
    pub auto_commit: bool,
    pub consume_result: ConsumeResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    pub spent_time_mills: i64,
}
impl JsonBody for ConsumeMessageDirectlyResult {}
