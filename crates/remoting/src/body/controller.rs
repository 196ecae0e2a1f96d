//! Controller-mode bodies (5.x): the sync state set, election results, replica tables and a
//! broker's epoch cache.
//!
//! Apache writes `BrokerMemberGroup.brokerAddrs` with bare integer keys (`{1:"addr"}`);
//! [`JsonBody::from_json_bytes`] accepts that and [`JsonBody::to_fastjson_bytes`] writes it. Java
//! `null`s are omitted, as fastjson does.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::lenient;
use crate::json::JsonBody;

/// `SyncStateSet`: the broker ids in sync with the master, and the set's epoch (the body of
/// CONTROLLER_ALTER_SYNC_STATE_SET and of CONTROLLER_GET_REPLICA_INFO's answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SyncStateSet {
    /// Broker ids in sync, the master included.
    pub sync_state_set: BTreeSet<i64>,
    #[serde(deserialize_with = "lenient::int")]
    pub sync_state_set_epoch: i32,
}
impl JsonBody for SyncStateSet {}

/// `BrokerMemberGroup`: the brokers of one broker set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerMemberGroup {
    /// Broker id to address; written with bare integer keys by fastjson.
    pub broker_addrs: BTreeMap<i64, String>,
    pub broker_name: String,
    /// The cluster name.
    pub cluster: String,
}
impl JsonBody for BrokerMemberGroup {}

/// `ElectMasterResponseBody`: the body of CONTROLLER_ELECT_MASTER's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ElectMasterResponseBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_member_group: Option<BrokerMemberGroup>,
    /// Broker ids in sync after the election.
    pub sync_state_set: BTreeSet<i64>,
}
impl JsonBody for ElectMasterResponseBody {}

/// `BrokerReplicasInfo.ReplicaIdentity`: one replica of a broker set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicaIdentity {
    /// Whether the controller sees the broker as alive.
    #[serde(deserialize_with = "lenient::boolean")]
    pub alive: bool,
    pub broker_address: String,
    #[serde(deserialize_with = "lenient::long")]
    pub broker_id: i64,
    pub broker_name: String,
}
impl JsonBody for ReplicaIdentity {}

/// `BrokerReplicasInfo.ReplicasInfo`: the master and replicas of one broker set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicasInfo {
    pub in_sync_replicas: Vec<ReplicaIdentity>,
    /// Absent when the set has no master.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_address: Option<String>,
    /// Absent when the set has no master.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_broker_id: Option<i64>,
    #[serde(deserialize_with = "lenient::int")]
    pub master_epoch: i32,
    pub not_in_sync_replicas: Vec<ReplicaIdentity>,
    #[serde(deserialize_with = "lenient::int")]
    pub sync_state_set_epoch: i32,
}
impl JsonBody for ReplicasInfo {}

/// `BrokerReplicasInfo`: the body of CONTROLLER_GET_SYNC_STATE_DATA's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerReplicasInfo {
    /// Broker name to its replicas.
    pub replicas_info_table: BTreeMap<String, ReplicasInfo>,
}
impl JsonBody for BrokerReplicasInfo {}

/// `EpochEntry`: the commit log range written under one master epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EpochEntry {
    /// Exclusive end; `i64::MAX` for the current (open) epoch, and when absent.
    #[serde(deserialize_with = "lenient::long")]
    pub end_offset: i64,
    #[serde(deserialize_with = "lenient::int")]
    pub epoch: i32,
    #[serde(deserialize_with = "lenient::long")]
    pub start_offset: i64,
}
impl JsonBody for EpochEntry {}

impl Default for EpochEntry {
    fn default() -> Self {
        EpochEntry {
            end_offset: i64::MAX,
            epoch: 0,
            start_offset: 0,
        }
    }
}

/// `EpochEntryCache`: the body of GET_BROKER_EPOCH_CACHE's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EpochEntryCache {
    #[serde(deserialize_with = "lenient::long")]
    pub broker_id: i64,
    pub broker_name: String,
    pub cluster_name: String,
    pub epoch_list: Vec<EpochEntry>,
    #[serde(deserialize_with = "lenient::long")]
    pub max_offset: i64,
}
impl JsonBody for EpochEntryCache {}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    #[test]
    fn sync_state_set() {
        let java = r#"{"syncStateSet":[1,2],"syncStateSetEpoch":3}"#;
        let s = SyncStateSet::from_json_bytes(java.as_bytes()).unwrap();
        assert_eq!(s.sync_state_set, BTreeSet::from([1, 2]));
        assert_eq!(s.sync_state_set_epoch, 3);
        assert_eq!(text(&s.to_json_bytes()), java);
        assert_eq!(text(&s.to_fastjson_bytes()), java);
        // Lenient: the epoch as text, missing set.
        let s = SyncStateSet::from_json_bytes(br#"{"syncStateSetEpoch":"4"}"#).unwrap();
        assert_eq!(
            s,
            SyncStateSet {
                sync_state_set: BTreeSet::new(),
                sync_state_set_epoch: 4,
            }
        );
    }

    #[test]
    fn elect_master_response_body() {
        let java = r#"{"brokerMemberGroup":{"brokerAddrs":{1:"127.0.0.1:30911",2:"127.0.0.1:30921"},"brokerName":"broker-a","cluster":"DefaultCluster"},"syncStateSet":[1]}"#;
        let b = ElectMasterResponseBody::from_json_bytes(java.as_bytes()).unwrap();
        let group = b.broker_member_group.as_ref().unwrap();
        assert_eq!(group.broker_addrs[&1], "127.0.0.1:30911");
        assert_eq!(group.broker_addrs[&2], "127.0.0.1:30921");
        assert_eq!(group.broker_name, "broker-a");
        assert_eq!(group.cluster, "DefaultCluster");
        assert_eq!(b.sync_state_set, BTreeSet::from([1]));
        assert_eq!(text(&b.to_fastjson_bytes()), java);
        let standard = text(&b.to_json_bytes()).to_owned();
        assert!(standard.contains(r#"{"1":"127.0.0.1:30911","2":"127.0.0.1:30921"}"#));
        assert_eq!(
            ElectMasterResponseBody::from_json_bytes(standard.as_bytes()).unwrap(),
            b
        );
        // No member group (e.g. an election that failed): omitted, as fastjson omits null.
        let empty = ElectMasterResponseBody::default();
        assert_eq!(text(&empty.to_fastjson_bytes()), r#"{"syncStateSet":[]}"#);
    }

    #[test]
    fn broker_replicas_info() {
        let java = r#"{"replicasInfoTable":{"broker-a":{"inSyncReplicas":[{"alive":true,"brokerAddress":"127.0.0.1:30911","brokerId":1,"brokerName":"broker-a"}],"masterAddress":"127.0.0.1:30911","masterBrokerId":1,"masterEpoch":2,"notInSyncReplicas":[{"alive":false,"brokerAddress":"127.0.0.1:30921","brokerId":2,"brokerName":"broker-a"}],"syncStateSetEpoch":3}}}"#;
        let b = BrokerReplicasInfo::from_json_bytes(java.as_bytes()).unwrap();
        let r = &b.replicas_info_table["broker-a"];
        assert_eq!(r.master_broker_id, Some(1));
        assert_eq!(r.master_address.as_deref(), Some("127.0.0.1:30911"));
        assert_eq!((r.master_epoch, r.sync_state_set_epoch), (2, 3));
        assert!(r.in_sync_replicas[0].alive);
        assert_eq!(r.not_in_sync_replicas[0].broker_id, 2);
        assert_eq!(text(&b.to_json_bytes()), java);
        // No master: fastjson omits the null master fields.
        let java = r#"{"replicasInfoTable":{"broker-b":{"inSyncReplicas":[],"masterEpoch":0,"notInSyncReplicas":[],"syncStateSetEpoch":0}}}"#;
        let b = BrokerReplicasInfo::from_json_bytes(java.as_bytes()).unwrap();
        assert_eq!(b.replicas_info_table["broker-b"], ReplicasInfo::default());
        assert_eq!(text(&b.to_json_bytes()), java);
    }

    #[test]
    fn epoch_entry_cache() {
        let java = r#"{"brokerId":1,"brokerName":"broker-a","clusterName":"DefaultCluster","epochList":[{"endOffset":1024,"epoch":1,"startOffset":0},{"endOffset":9223372036854775807,"epoch":2,"startOffset":1024}],"maxOffset":2048}"#;
        let c = EpochEntryCache::from_json_bytes(java.as_bytes()).unwrap();
        assert_eq!(c.epoch_list.len(), 2);
        assert_eq!(c.epoch_list[1].end_offset, i64::MAX);
        assert_eq!(c.max_offset, 2048);
        assert_eq!(text(&c.to_json_bytes()), java);
        // A missing endOffset is Java's initial Long.MAX_VALUE.
        let e = EpochEntry::from_json_bytes(br#"{"epoch":3,"startOffset":"5"}"#).unwrap();
        assert_eq!(
            e,
            EpochEntry {
                end_offset: i64::MAX,
                epoch: 3,
                start_offset: 5,
            }
        );
    }
}
