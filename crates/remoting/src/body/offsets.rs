//! Offset tables on the wire: `ConsumerOffsetSerializeWrapper` (GET_ALL_CONSUMER_OFFSET, 43),
//! `DelayOffsetSerializeWrapper` (GET_ALL_DELAY_OFFSET, 45) and `ResetOffsetBody` (the answer
//! to INVOKE_BROKER_TO_RESET_OFFSET, 222).
//!
//! Apache writes the integer keys of the first two bare (`{0:12}`); decoding through
//! [`JsonBody::from_json_bytes`] accepts that, and encoding writes quoted keys, which fastjson
//! reads back. `ResetOffsetBody` is keyed by `MessageQueue` and must go out with
//! [`JsonBody::to_fastjson_bytes`] to Java.

use std::collections::BTreeMap;

use rmq_common::MessageQueue;
use serde::{Deserialize, Serialize};

use super::register::DataVersion;
use crate::json::JsonBody;

/// Separator of the `topic@group` keys of [`ConsumerOffsetSerializeWrapper::offset_table`].
pub const TOPIC_GROUP_SEPARATOR: char = '@';

/// `ConsumerOffsetSerializeWrapper`: `topic@group -> queueId -> committed offset`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerOffsetSerializeWrapper {
    /// Version of the table (5.x); absent from 4.x brokers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_version: Option<DataVersion>,
    /// `topic@group` to queue id to offset.
    pub offset_table: BTreeMap<String, BTreeMap<i32, i64>>,
}
impl JsonBody for ConsumerOffsetSerializeWrapper {}

impl ConsumerOffsetSerializeWrapper {
    /// The entries as `(topic, group, queue offsets)`; keys without `@` are skipped.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &str, &BTreeMap<i32, i64>)> {
        self.offset_table.iter().filter_map(|(k, q)| {
            k.split_once(TOPIC_GROUP_SEPARATOR)
                .map(|(topic, group)| (topic, group, q))
        })
    }
}

/// `DelayOffsetSerializeWrapper`: delay level to the next offset to deliver in its queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DelayOffsetSerializeWrapper {
    /// Version of the table (5.x); absent from 4.x brokers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_version: Option<DataVersion>,
    /// Delay level to offset.
    pub offset_table: BTreeMap<i32, i64>,
}
impl JsonBody for DelayOffsetSerializeWrapper {}

/// `ResetOffsetBody`: the offset each queue was reset to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ResetOffsetBody {
    /// Queue to its new offset.
    #[serde(with = "crate::json::mq_map")]
    pub offset_table: BTreeMap<MessageQueue, i64>,
}
impl JsonBody for ResetOffsetBody {}

/// Queue to offset, as a value inside another map (`GetConsumerStatusBody.consumerTable`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueOffsets(#[serde(with = "crate::json::mq_map")] pub BTreeMap<MessageQueue, i64>);

/// `GetConsumerStatusBody`: what a consumer answers GET_CONSUMER_STATUS_FROM_CLIENT (221) with
/// (`messageQueueTable`, the offsets it holds for one topic), and what the broker answers
/// INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223) with (`consumerTable`, per client id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetConsumerStatusBody {
    #[serde(with = "crate::json::mq_map")]
    pub message_queue_table: BTreeMap<MessageQueue, i64>,
    pub consumer_table: BTreeMap<String, QueueOffsets>,
}
impl JsonBody for GetConsumerStatusBody {}
