//! Admin bodies read by `mqadmin`: `ConsumeStats` (GET_CONSUME_STATS), `TopicStatsTable`
//! (GET_TOPIC_STATS_INFO), `ConsumerConnection` (GET_CONSUMER_CONNECTION_LIST), `BrokerStatsData`
//! (VIEW_BROKER_STATS_DATA).
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

/// `BrokerStatsItem`: one window of a broker statistic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerStatsItem {
    /// Average value per recorded call over the window (messages or bytes per call).
    pub avgpt: f64,
    /// Growth of the value over the window.
    #[serde(deserialize_with = "lenient::long")]
    pub sum: i64,
    /// `sum` per second over the window.
    pub tps: f64,
}

/// `BrokerStatsData`: a statistic over the last minute, hour and day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerStatsData {
    pub stats_day: BrokerStatsItem,
    pub stats_hour: BrokerStatsItem,
    pub stats_minute: BrokerStatsItem,
}
impl JsonBody for BrokerStatsData {}

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

    #[test]
    fn broker_stats_data_names() {
        let d = BrokerStatsData {
            stats_minute: BrokerStatsItem {
                sum: 12,
                tps: 0.2,
                avgpt: 1.0,
            },
            ..Default::default()
        };
        let s = d.to_json_bytes();
        assert_eq!(
            std::str::from_utf8(&s).unwrap(),
            r#"{"statsDay":{"avgpt":0.0,"sum":0,"tps":0.0},"statsHour":{"avgpt":0.0,"sum":0,"tps":0.0},"statsMinute":{"avgpt":1.0,"sum":12,"tps":0.2}}"#
        );
        assert_eq!(BrokerStatsData::from_json_bytes(&s).unwrap(), d);
        // Java may send the long as text.
        let lenient = br#"{"statsMinute":{"sum":"7","tps":1,"avgpt":0}}"#;
        assert_eq!(
            BrokerStatsData::from_json_bytes(lenient)
                .unwrap()
                .stats_minute
                .sum,
            7
        );
    }
}
