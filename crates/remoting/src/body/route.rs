//! Route bodies from the name server: `TopicRouteData` (GET_ROUTEINFO_BY_TOPIC), `ClusterInfo`
//! (GET_BROKER_CLUSTER_INFO).
//!
//! `brokerAddrs` maps broker id to address. fastjson writes those keys bare; the name server sends
//! standard JSON only to requesters with version >= [`STANDARD_JSON_MIN_VERSION`] or
//! `acceptStandardJsonOnly=true`, and `ClusterInfo` always in fastjson form. Use
//! [`TopicRouteData::encode_for`] to follow that rule.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::lenient;
use crate::json::JsonBody;

/// `MQVersion.V4_9_4`: requesters at or above it get standard route JSON.
pub const STANDARD_JSON_MIN_VERSION: i32 = 401;

/// Broker id of a master.
pub const MASTER_ID: i64 = 0;

/// `QueueData`: one broker's queues for a topic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueData {
    pub broker_name: String,
    #[serde(deserialize_with = "lenient::int")]
    pub perm: i32,
    #[serde(deserialize_with = "lenient::int")]
    pub read_queue_nums: i32,
    #[serde(deserialize_with = "lenient::int")]
    pub topic_sys_flag: i32,
    #[serde(deserialize_with = "lenient::int")]
    pub write_queue_nums: i32,
}

/// `BrokerData`: one broker name (a master and its slaves) and their addresses by broker id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerData {
    pub broker_addrs: BTreeMap<i64, String>,
    pub broker_name: String,
    pub cluster: String,
    #[serde(deserialize_with = "lenient::boolean")]
    pub enable_acting_master: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_name: Option<String>,
}

impl BrokerData {
    /// The master's address, if a master is registered.
    pub fn master_addr(&self) -> Option<&str> {
        self.broker_addrs.get(&MASTER_ID).map(String::as_str)
    }
}

/// `TopicRouteData`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicRouteData {
    pub broker_datas: Vec<BrokerData>,
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_topic_conf: Option<String>,
    pub queue_datas: Vec<QueueData>,
    /// Static-topic mapping; carried opaquely.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_queue_mapping_by_broker: Option<serde_json::Value>,
}

impl JsonBody for TopicRouteData {}

impl TopicRouteData {
    /// Encodes as Apache's name server does for a requester: standard JSON when
    /// `version >= 401` or it asked for standard JSON only, fastjson's bare keys otherwise.
    pub fn encode_for(&self, requester_version: i32, accept_standard_json_only: bool) -> Bytes {
        if accept_standard_json_only || requester_version >= STANDARD_JSON_MIN_VERSION {
            self.to_json_bytes()
        } else {
            self.to_fastjson_bytes()
        }
    }
}

/// `ClusterInfo` (always sent in fastjson form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterInfo {
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    pub cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
}

impl JsonBody for ClusterInfo {}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> TopicRouteData {
        TopicRouteData {
            broker_datas: vec![BrokerData {
                broker_addrs: [
                    (0, "10.0.0.1:10911".to_owned()),
                    (1, "10.0.0.2:10911".to_owned()),
                ]
                .into(),
                broker_name: "broker-a".into(),
                cluster: "DefaultCluster".into(),
                enable_acting_master: false,
                zone_name: None,
            }],
            queue_datas: vec![QueueData {
                broker_name: "broker-a".into(),
                perm: 6,
                read_queue_nums: 4,
                topic_sys_flag: 0,
                write_queue_nums: 4,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn standard_and_fastjson_forms() {
        let r = route();
        let std = r.encode_for(479, false);
        assert_eq!(
            std::str::from_utf8(&std).unwrap(),
            r#"{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#
        );
        let fj = r.encode_for(317, false);
        assert!(std::str::from_utf8(&fj)
            .unwrap()
            .contains(r#""brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"}"#));
        assert_eq!(r.encode_for(317, true), std);
        assert_eq!(TopicRouteData::from_json_bytes(&fj).unwrap(), r);
        assert_eq!(TopicRouteData::from_json_bytes(&std).unwrap(), r);
        assert_eq!(r.broker_datas[0].master_addr(), Some("10.0.0.1:10911"));
    }

    #[test]
    fn cluster_info_decodes_fastjson() {
        let text = r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"1.1.1.1:10911"},"brokerName":"broker-a","cluster":"C","enableActingMaster":false}},"clusterAddrTable":{"C":["broker-a"]}}"#;
        let ci = ClusterInfo::from_json_bytes(text.as_bytes()).unwrap();
        assert_eq!(
            ci.broker_addr_table["broker-a"].broker_addrs[&0],
            "1.1.1.1:10911"
        );
        assert_eq!(&ci.to_fastjson_bytes()[..], text.as_bytes());
    }
}
