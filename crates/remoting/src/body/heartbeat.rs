//! HEART_BEAT body (`HeartbeatData`) and the subscription types it carries.
//!
//! Non-Java clients send enums as ordinals, omit `expressionType`, `classFilterMode` and
//! `unitMode`, send `subVersion` as text and `codeSet` as `[0]`; all of that decodes here. (Brokers
//! should recompute tag codes from `tagsSet` rather than trust `codeSet`.)

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::lenient::{self, java_enum};
use crate::json::JsonBody;

java_enum! {
    /// `ConsumeType`: pull (actively), push (passively) or pop.
    pub enum ConsumeType {
        ConsumeActively = "CONSUME_ACTIVELY",
        ConsumePassively = "CONSUME_PASSIVELY",
        ConsumePop = "CONSUME_POP",
    }
}

java_enum! {
    /// `MessageModel`.
    pub enum MessageModel {
        Broadcasting = "BROADCASTING",
        Clustering = "CLUSTERING",
    }
}

java_enum! {
    /// `ConsumeFromWhere`, Java ordinals included (three deprecated values in the middle).
    pub enum ConsumeFromWhere {
        ConsumeFromLastOffset = "CONSUME_FROM_LAST_OFFSET",
        ConsumeFromLastOffsetAndFromMinWhenBootFirst = "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
        ConsumeFromMinOffset = "CONSUME_FROM_MIN_OFFSET",
        ConsumeFromMaxOffset = "CONSUME_FROM_MAX_OFFSET",
        ConsumeFromFirstOffset = "CONSUME_FROM_FIRST_OFFSET",
        ConsumeFromTimestamp = "CONSUME_FROM_TIMESTAMP",
    }
}

/// Subscription expression that matches every tag.
pub const SUB_ALL: &str = "*";
/// `expressionType` for tag expressions (the default).
pub const EXPRESSION_TYPE_TAG: &str = "TAG";
/// `expressionType` for SQL92 filters.
pub const EXPRESSION_TYPE_SQL92: &str = "SQL92";

/// `SubscriptionData`: one topic subscription of a consumer group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionData {
    #[serde(deserialize_with = "lenient::boolean")]
    pub class_filter_mode: bool,
    /// Java `String.hashCode()` of each tag (untrusted from non-Java clients).
    pub code_set: BTreeSet<i32>,
    #[serde(deserialize_with = "lenient::string")]
    pub expression_type: String,
    #[serde(deserialize_with = "lenient::string")]
    pub sub_string: String,
    #[serde(deserialize_with = "lenient::long")]
    pub sub_version: i64,
    pub tags_set: BTreeSet<String>,
    #[serde(deserialize_with = "lenient::string")]
    pub topic: String,
}

impl Default for SubscriptionData {
    fn default() -> Self {
        SubscriptionData {
            class_filter_mode: false,
            code_set: BTreeSet::new(),
            expression_type: EXPRESSION_TYPE_TAG.to_owned(),
            sub_string: String::new(),
            sub_version: 0,
            tags_set: BTreeSet::new(),
            topic: String::new(),
        }
    }
}

impl SubscriptionData {
    /// Whether this subscription takes every message (`*` or empty).
    pub fn is_sub_all(&self) -> bool {
        let s = self.sub_string.trim();
        s.is_empty() || s == SUB_ALL
    }

    /// The expression type, with an empty one read as `TAG`.
    pub fn expression_type(&self) -> &str {
        if self.expression_type.is_empty() {
            EXPRESSION_TYPE_TAG
        } else {
            &self.expression_type
        }
    }
}

/// `ProducerData`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProducerData {
    #[serde(deserialize_with = "lenient::string")]
    pub group_name: String,
}

/// `ConsumerData`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsumerData {
    pub consume_from_where: ConsumeFromWhere,
    pub consume_type: ConsumeType,
    #[serde(deserialize_with = "lenient::string")]
    pub group_name: String,
    pub message_model: MessageModel,
    pub subscription_data_set: Vec<SubscriptionData>,
    #[serde(deserialize_with = "lenient::boolean")]
    pub unit_mode: bool,
}

/// `HeartbeatData` (HEART_BEAT body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HeartbeatData {
    #[serde(rename = "clientID", deserialize_with = "lenient::string")]
    pub client_id: String,
    pub consumer_data_set: Vec<ConsumerData>,
    /// 0 = a V1 heartbeat.
    #[serde(deserialize_with = "lenient::int")]
    pub heartbeat_fingerprint: i32,
    pub producer_data_set: Vec<ProducerData>,
    #[serde(deserialize_with = "lenient::boolean")]
    pub without_sub: bool,
}

impl JsonBody for HeartbeatData {}

/// `CheckClientRequestBody` (CHECK_CLIENT_CONFIG): a consumer asks, before it starts, whether
/// the broker can serve one of its (non-TAG) subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckClientRequestBody {
    #[serde(deserialize_with = "lenient::string")]
    pub client_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub group: String,
    pub subscription_data: Option<SubscriptionData>,
}

impl JsonBody for CheckClientRequestBody {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_body_round_trips() {
        let text = r#"{"clientID":"10.0.0.5@1234#987654321","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","groupName":"G1","messageModel":"CLUSTERING","subscriptionDataSet":[{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1700000000000,"tagsSet":[],"topic":"T1"}],"unitMode":false}],"heartbeatFingerprint":0,"producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}],"withoutSub":false}"#;
        let hb = HeartbeatData::from_json_bytes(text.as_bytes()).unwrap();
        assert_eq!(
            hb.consumer_data_set[0].consume_type,
            ConsumeType::ConsumePassively
        );
        assert_eq!(&hb.to_json_bytes()[..], text.as_bytes());
    }

    #[test]
    fn lenient_client_body() {
        let text = r#"{"clientID":"c","consumerDataSet":[{"consumeFromWhere":4,"consumeType":1,"groupName":"G","messageModel":1,
            "subscriptionDataSet":[{"codeSet":[0],"subString":"TagA || TagB","subVersion":"1700000000001","tagsSet":["TagA","TagB"],"topic":"T"}]}],
            "producerDataSet":[],"extra":{"x":[1]}}"#;
        let hb = HeartbeatData::from_json_bytes(text.as_bytes()).unwrap();
        let c = &hb.consumer_data_set[0];
        assert_eq!(
            c.consume_from_where,
            ConsumeFromWhere::ConsumeFromFirstOffset
        );
        assert_eq!(c.message_model, MessageModel::Clustering);
        assert!(!c.unit_mode);
        let s = &c.subscription_data_set[0];
        assert_eq!(s.sub_version, 1_700_000_000_001);
        assert_eq!(s.expression_type(), "TAG");
        assert!(!s.class_filter_mode);
        assert!(
            HeartbeatData::from_json_bytes(br#"{"consumerDataSet":[{"consumeType":9}]}"#).is_err()
        );
    }
}
