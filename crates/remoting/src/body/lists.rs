//! Small list and table bodies: `TopicList`, `KVTable`, `GroupList`,
//! `GetConsumerListByGroupResponseBody`, and the queue lock bodies.

use std::collections::{BTreeMap, BTreeSet};

use rmq_common::MessageQueue;
use serde::{Deserialize, Serialize};

use super::lenient;
use crate::json::JsonBody;

/// `TopicList` (GET_ALL_TOPIC_LIST_FROM_NAMESERVER, GET_TOPICS_BY_CLUSTER).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicList {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_addr: Option<String>,
    pub topic_list: BTreeSet<String>,
}
impl JsonBody for TopicList {}

/// `KVTable` (GET_KVLIST_BY_NAMESPACE, GET_BROKER_RUNTIME_INFO, REGISTER_BROKER response).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KVTable {
    pub table: BTreeMap<String, String>,
}
impl JsonBody for KVTable {}

/// `GroupList` (QUERY_TOPIC_CONSUME_BY_WHO).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupList {
    pub group_list: BTreeSet<String>,
}
impl JsonBody for GroupList {}

/// `GetConsumerListByGroupResponseBody` (GET_CONSUMER_LIST_BY_GROUP).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetConsumerListByGroupResponseBody {
    pub consumer_id_list: Vec<String>,
}
impl JsonBody for GetConsumerListByGroupResponseBody {}

/// `LockBatchRequestBody` (LOCK_BATCH_MQ).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LockBatchRequestBody {
    #[serde(deserialize_with = "lenient::string")]
    pub client_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub consumer_group: String,
    pub mq_set: BTreeSet<MessageQueue>,
    #[serde(deserialize_with = "lenient::boolean")]
    pub only_this_broker: bool,
}
impl JsonBody for LockBatchRequestBody {}

/// `UnlockBatchRequestBody` (UNLOCK_BATCH_MQ).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UnlockBatchRequestBody {
    #[serde(deserialize_with = "lenient::string")]
    pub client_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub consumer_group: String,
    pub mq_set: BTreeSet<MessageQueue>,
    #[serde(deserialize_with = "lenient::boolean")]
    pub only_this_broker: bool,
}
impl JsonBody for UnlockBatchRequestBody {}

/// `LockBatchResponseBody`: the queues now held by the requesting client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockBatchResponseBody {
    #[serde(rename = "lockOKMQSet")]
    pub lock_ok_mq_set: BTreeSet<MessageQueue>,
}
impl JsonBody for LockBatchResponseBody {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_java() {
        let t = TopicList {
            broker_addr: None,
            topic_list: ["A".to_owned()].into(),
        };
        assert_eq!(&t.to_json_bytes()[..], br#"{"topicList":["A"]}"#);
        let l = LockBatchResponseBody {
            lock_ok_mq_set: [MessageQueue::new("T", "b", 1)].into(),
        };
        let s = l.to_json_bytes();
        assert!(std::str::from_utf8(&s)
            .unwrap()
            .starts_with(r#"{"lockOKMQSet":[{"#));
        assert_eq!(LockBatchResponseBody::from_json_bytes(&s).unwrap(), l);
        let req = LockBatchRequestBody::from_json_bytes(
            br#"{"clientId":"c","consumerGroup":"g","mqSet":[{"brokerName":"b","queueId":0,"topic":"T"}],"onlyThisBroker":false}"#,
        )
        .unwrap();
        assert_eq!(req.mq_set.len(), 1);
        assert_eq!(
            &KVTable {
                table: [("k".to_owned(), "v".to_owned())].into()
            }
            .to_json_bytes()[..],
            br#"{"table":{"k":"v"}}"#
        );
    }
}
