//! Admin bodies read by `mqadmin`: `ConsumeStats` (GET_CONSUME_STATS), `TopicStatsTable`
//! (GET_TOPIC_STATS_INFO), `ConsumerConnection` (GET_CONSUMER_CONNECTION_LIST).
//!
//! The two `offsetTable`s are `Map<MessageQueue, _>`: send them with
//! [`JsonBody::to_fastjson_bytes`] so Java tools get the inline-object keys they can parse.

use std::collections::{BTreeMap, BTreeSet};

use rmq_common::MessageQueue;
use serde::{Deserialize, Serialize};

use super::heartbeat::{ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData};
use super::lenient;
use crate::json::JsonBody;
use crate::protocol::LanguageCode;

/// `OffsetWrapper`: one queue's progress for a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OffsetWrapper {
    #[serde(deserialize_with = "lenient::long")]
    pub broker_offset: i64,
    #[serde(deserialize_with = "lenient::long")]
    pub consumer_offset: i64,
    #[serde(deserialize_with = "lenient::long")]
    pub last_timestamp: i64,
    #[serde(deserialize_with = "lenient::long")]
    pub pull_offset: i64,
}

/// `ConsumeStats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumeStats {
    pub consume_tps: f64,
    #[serde(with = "crate::json::mq_map")]
    pub offset_table: BTreeMap<MessageQueue, OffsetWrapper>,
}
impl JsonBody for ConsumeStats {}

/// `TopicOffset`: one queue's offsets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicOffset {
    #[serde(deserialize_with = "lenient::long")]
    pub last_update_timestamp: i64,
    #[serde(deserialize_with = "lenient::long")]
    pub max_offset: i64,
    #[serde(deserialize_with = "lenient::long")]
    pub min_offset: i64,
}

/// `TopicStatsTable`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicStatsTable {
    #[serde(with = "crate::json::mq_map")]
    pub offset_table: BTreeMap<MessageQueue, TopicOffset>,
    pub topic_put_tps: f64,
}
impl JsonBody for TopicStatsTable {}

/// `Connection`: one client channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Connection {
    pub client_addr: String,
    pub client_id: String,
    pub language: LanguageCode,
    #[serde(deserialize_with = "lenient::int")]
    pub version: i32,
}

/// `ConsumerConnection`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerConnection {
    pub connection_set: BTreeSet<Connection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consume_from_where: Option<ConsumeFromWhere>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consume_type: Option<ConsumeType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_model: Option<MessageModel>,
    pub subscription_table: BTreeMap<String, SubscriptionData>,
}
impl JsonBody for ConsumerConnection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_tables_use_inline_queue_keys() {
        let mut stats = TopicStatsTable::default();
        stats.offset_table.insert(
            MessageQueue::new("T", "broker-a", 0),
            TopicOffset {
                last_update_timestamp: 9,
                max_offset: 3,
                min_offset: 0,
            },
        );
        let fj = stats.to_fastjson_bytes();
        assert_eq!(
            std::str::from_utf8(&fj).unwrap(),
            r#"{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"lastUpdateTimestamp":9,"maxOffset":3,"minOffset":0}},"topicPutTps":0.0}"#
        );
        assert_eq!(TopicStatsTable::from_json_bytes(&fj).unwrap(), stats);
        assert_eq!(
            TopicStatsTable::from_json_bytes(&stats.to_json_bytes()).unwrap(),
            stats
        );

        let mut cs = ConsumeStats::default();
        cs.offset_table
            .insert(MessageQueue::new("T", "b", 1), OffsetWrapper::default());
        let back = ConsumeStats::from_json_bytes(&cs.to_fastjson_bytes()).unwrap();
        assert_eq!(back, cs);
    }

    #[test]
    fn consumer_connection_names() {
        let mut cc = ConsumerConnection::default();
        cc.connection_set.insert(Connection {
            client_addr: "1.2.3.4:5".into(),
            client_id: "id".into(),
            language: LanguageCode::Java,
            version: 479,
        });
        cc.consume_type = Some(ConsumeType::ConsumePassively);
        let s = cc.to_json_bytes();
        assert_eq!(
            std::str::from_utf8(&s).unwrap(),
            r#"{"connectionSet":[{"clientAddr":"1.2.3.4:5","clientId":"id","language":"JAVA","version":479}],"consumeType":"CONSUME_PASSIVELY","subscriptionTable":{}}"#
        );
        assert_eq!(ConsumerConnection::from_json_bytes(&s).unwrap(), cc);
    }
}
