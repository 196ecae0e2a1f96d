//! Controller-mode headers (5.x DLedger/JRaft controller, request codes 1001-1013): broker id
//! assignment, registration, master election and the sync state set.
//!
//! Most carry their payload in the header; bodies, where there are any, are in
//! [`crate::body`] (`SyncStateSet`, `ElectMasterResponseBody`, `BrokerReplicasInfo`).

crate::command_header! {
    /// `GetNextBrokerIdRequestHeader` (CONTROLLER_GET_NEXT_BROKER_ID, 1012).
    pub struct GetNextBrokerIdRequestHeader: "GetNextBrokerIdRequestHeader" {
        req cluster_name: String = "clusterName",
        req broker_name: String = "brokerName",
    }
}

crate::command_header! {
    /// `GetNextBrokerIdResponseHeader`.
    pub struct GetNextBrokerIdResponseHeader: "GetNextBrokerIdResponseHeader" {
        opt cluster_name: String = "clusterName",
        opt broker_name: String = "brokerName",
        /// The id the broker should apply for next.
        opt next_broker_id: i64 = "nextBrokerId",
    }
}

crate::command_header! {
    /// `ApplyBrokerIdRequestHeader` (CONTROLLER_APPLY_BROKER_ID, 1013).
    pub struct ApplyBrokerIdRequestHeader: "ApplyBrokerIdRequestHeader" {
        req cluster_name: String = "clusterName",
        req broker_name: String = "brokerName",
        req applied_broker_id: i64 = "appliedBrokerId",
        /// `<brokerAddr>;<millis>`: identifies the applying broker process.
        req register_check_code: String = "registerCheckCode",
    }
}

crate::command_header! {
    /// `ApplyBrokerIdResponseHeader`.
    pub struct ApplyBrokerIdResponseHeader: "ApplyBrokerIdResponseHeader" {
        opt cluster_name: String = "clusterName",
        opt broker_name: String = "brokerName",
    }
}

crate::command_header! {
    /// `RegisterBrokerToControllerRequestHeader` (CONTROLLER_REGISTER_BROKER, 1003).
    pub struct RegisterBrokerToControllerRequestHeader: "RegisterBrokerToControllerRequestHeader" {
        req cluster_name: String = "clusterName",
        req broker_name: String = "brokerName",
        req broker_id: i64 = "brokerId",
        req broker_address: String = "brokerAddress",
        /// Client time of the call, in milliseconds.
        opt invoke_time: i64 = "invokeTime",
    }
}

crate::command_header! {
    /// `RegisterBrokerToControllerResponseHeader`.
    pub struct RegisterBrokerToControllerResponseHeader: "RegisterBrokerToControllerResponseHeader" {
        opt cluster_name: String = "clusterName",
        opt broker_name: String = "brokerName",
        opt master_broker_id: i64 = "masterBrokerId",
        opt master_address: String = "masterAddress",
        opt master_epoch: i32 = "masterEpoch",
        opt sync_state_set_epoch: i32 = "syncStateSetEpoch",
    }
}

crate::command_header! {
    /// `GetReplicaInfoRequestHeader` (CONTROLLER_GET_REPLICA_INFO, 1004).
    pub struct GetReplicaInfoRequestHeader: "GetReplicaInfoRequestHeader" {
        req broker_name: String = "brokerName",
    }
}

crate::command_header! {
    /// `GetReplicaInfoResponseHeader`; the body is a `SyncStateSet`.
    pub struct GetReplicaInfoResponseHeader: "GetReplicaInfoResponseHeader" {
        opt master_broker_id: i64 = "masterBrokerId",
        opt master_address: String = "masterAddress",
        opt master_epoch: i32 = "masterEpoch",
    }
}

crate::command_header! {
    /// `ElectMasterRequestHeader` (CONTROLLER_ELECT_MASTER, 1002).
    pub struct ElectMasterRequestHeader: "ElectMasterRequestHeader" {
        opt cluster_name: String = "clusterName",
        req broker_name: String = "brokerName",
        /// The broker to make master when `designate_elect` is set.
        opt broker_id: i64 = "brokerId",
        /// Elect `broker_id` rather than let the controller choose (admin).
        opt designate_elect: bool = "designateElect",
        /// Client time of the call, in milliseconds.
        opt invoke_time: i64 = "invokeTime",
    }
}

crate::command_header! {
    /// `ElectMasterResponseHeader`; the body is an `ElectMasterResponseBody`.
    pub struct ElectMasterResponseHeader: "ElectMasterResponseHeader" {
        opt master_broker_id: i64 = "masterBrokerId",
        opt master_address: String = "masterAddress",
        opt master_epoch: i32 = "masterEpoch",
        opt sync_state_set_epoch: i32 = "syncStateSetEpoch",
    }
}

crate::command_header! {
    /// `AlterSyncStateSetRequestHeader` (CONTROLLER_ALTER_SYNC_STATE_SET, 1001); the body is the
    /// proposed `SyncStateSet`.
    pub struct AlterSyncStateSetRequestHeader: "AlterSyncStateSetRequestHeader" {
        req broker_name: String = "brokerName",
        req master_broker_id: i64 = "masterBrokerId",
        req master_epoch: i32 = "masterEpoch",
        /// Client time of the call, in milliseconds.
        opt invoke_time: i64 = "invokeTime",
    }
}

crate::command_header! {
    /// `AlterSyncStateSetResponseHeader`; the body is the accepted `SyncStateSet`.
    pub struct AlterSyncStateSetResponseHeader: "AlterSyncStateSetResponseHeader" {
        opt new_sync_state_set_epoch: i32 = "newSyncStateSetEpoch",
    }
}

crate::command_header! {
    /// `GetMetaDataResponseHeader` (answer to CONTROLLER_GET_METADATA_INFO, 1005).
    pub struct GetMetaDataResponseHeader: "GetMetaDataResponseHeader" {
        /// The controller group's name.
        opt group: String = "group",
        opt controller_leader_id: String = "controllerLeaderId",
        opt controller_leader_address: String = "controllerLeaderAddress",
        /// Whether the answering controller is the leader.
        opt is_leader: bool = "isLeader",
        /// The controller peers, as configured (`id-addr;id-addr`).
        opt peers: String = "peers",
    }
}

crate::command_header! {
    /// `NotifyBrokerRoleChangedRequestHeader` (NOTIFY_BROKER_ROLE_CHANGED, 1008); the body is
    /// the new `SyncStateSet`.
    pub struct NotifyBrokerRoleChangedRequestHeader: "NotifyBrokerRoleChangedRequestHeader" {
        opt master_address: String = "masterAddress",
        opt master_epoch: i32 = "masterEpoch",
        opt sync_state_set_epoch: i32 = "syncStateSetEpoch",
        opt master_broker_id: i64 = "masterBrokerId",
    }
}

crate::command_header! {
    /// `CleanControllerBrokerDataRequestHeader` (CLEAN_BROKER_DATA, 1011).
    pub struct CleanControllerBrokerDataRequestHeader: "CleanControllerBrokerDataRequestHeader" {
        opt cluster_name: String = "clusterName",
        req broker_name: String = "brokerName",
        /// Broker ids joined by `;`; absent means every broker of the set.
        opt broker_controller_ids_to_clean: String = "brokerControllerIdsToClean",
        /// Also clean brokers that are still alive.
        opt is_clean_living_broker: bool = "isCleanLivingBroker",
        /// Client time of the call, in milliseconds.
        opt invoke_time: i64 = "invokeTime",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::CommandHeader;
    use crate::protocol::ExtFields;

    /// Round-trips `h` and checks that `java`, the map Java would send, reads as `h`.
    fn check<H: CommandHeader + PartialEq + std::fmt::Debug>(h: H, java: &[(&'static str, &str)]) {
        assert_eq!(H::read(&h.to_ext_fields()).unwrap(), h);
        let mut ext = ExtFields::new();
        for (k, v) in java {
            ext.insert(*k, *v);
        }
        assert_eq!(H::read(&ext).unwrap(), h);
        assert_eq!(h.to_ext_fields(), ext);
    }

    #[test]
    fn get_next_broker_id() {
        let h = GetNextBrokerIdRequestHeader {
            cluster_name: "DefaultCluster".into(),
            broker_name: "broker-a".into(),
        };
        check(
            h,
            &[
                ("clusterName", "DefaultCluster"),
                ("brokerName", "broker-a"),
            ],
        );
        let mut ext = ExtFields::new();
        ext.insert("clusterName", "c");
        assert_eq!(
            GetNextBrokerIdRequestHeader::read(&ext),
            Err(crate::header::HeaderError::Missing {
                header: "GetNextBrokerIdRequestHeader",
                field: "brokerName",
            })
        );
    }

    #[test]
    fn apply_broker_id() {
        let h = ApplyBrokerIdRequestHeader {
            cluster_name: "DefaultCluster".into(),
            broker_name: "broker-a".into(),
            applied_broker_id: 2,
            register_check_code: "127.0.0.1:30921;1700000000000".into(),
        };
        check(
            h,
            &[
                ("clusterName", "DefaultCluster"),
                ("brokerName", "broker-a"),
                ("appliedBrokerId", "2"),
                ("registerCheckCode", "127.0.0.1:30921;1700000000000"),
            ],
        );
    }

    #[test]
    fn register_broker_to_controller() {
        let h = RegisterBrokerToControllerRequestHeader {
            cluster_name: "DefaultCluster".into(),
            broker_name: "broker-a".into(),
            broker_id: 1,
            broker_address: "127.0.0.1:30911".into(),
            invoke_time: Some(1_700_000_000_123),
        };
        check(
            h,
            &[
                ("clusterName", "DefaultCluster"),
                ("brokerName", "broker-a"),
                ("brokerId", "1"),
                ("brokerAddress", "127.0.0.1:30911"),
                ("invokeTime", "1700000000123"),
            ],
        );
    }

    #[test]
    fn get_replica_info() {
        let h = GetReplicaInfoRequestHeader {
            broker_name: "broker-a".into(),
        };
        check(h, &[("brokerName", "broker-a")]);
    }

    #[test]
    fn elect_master() {
        let h = ElectMasterRequestHeader {
            cluster_name: Some("DefaultCluster".into()),
            broker_name: "broker-a".into(),
            broker_id: Some(2),
            designate_elect: Some(true),
            invoke_time: Some(1_700_000_000_000),
        };
        check(
            h,
            &[
                ("clusterName", "DefaultCluster"),
                ("brokerName", "broker-a"),
                ("brokerId", "2"),
                ("designateElect", "true"),
                ("invokeTime", "1700000000000"),
            ],
        );
        // An admin's ElectMasterRequestHeader without a broker id.
        let mut ext = ExtFields::new();
        ext.insert("brokerName", "broker-a");
        ext.insert("designateElect", "false");
        let h = ElectMasterRequestHeader::read(&ext).unwrap();
        assert_eq!((h.broker_id, h.designate_elect), (None, Some(false)));
    }

    #[test]
    fn alter_sync_state_set() {
        let h = AlterSyncStateSetRequestHeader {
            broker_name: "broker-a".into(),
            master_broker_id: 1,
            master_epoch: 3,
            invoke_time: Some(1_700_000_000_000),
        };
        check(
            h,
            &[
                ("brokerName", "broker-a"),
                ("masterBrokerId", "1"),
                ("masterEpoch", "3"),
                ("invokeTime", "1700000000000"),
            ],
        );
    }

    #[test]
    fn get_meta_data_response() {
        let h = GetMetaDataResponseHeader {
            group: Some("group1".into()),
            controller_leader_id: Some("n0".into()),
            controller_leader_address: Some("127.0.0.1:9878".into()),
            is_leader: Some(true),
            peers: Some("n0-127.0.0.1:9877;n1-127.0.0.1:9868".into()),
        };
        check(
            h,
            &[
                ("group", "group1"),
                ("controllerLeaderId", "n0"),
                ("controllerLeaderAddress", "127.0.0.1:9878"),
                ("isLeader", "true"),
                ("peers", "n0-127.0.0.1:9877;n1-127.0.0.1:9868"),
            ],
        );
    }

    #[test]
    fn notify_broker_role_changed() {
        let h = NotifyBrokerRoleChangedRequestHeader {
            master_address: Some("127.0.0.1:30911".into()),
            master_epoch: Some(2),
            sync_state_set_epoch: Some(5),
            master_broker_id: Some(1),
        };
        check(
            h,
            &[
                ("masterAddress", "127.0.0.1:30911"),
                ("masterEpoch", "2"),
                ("syncStateSetEpoch", "5"),
                ("masterBrokerId", "1"),
            ],
        );
    }

    #[test]
    fn clean_controller_broker_data() {
        let h = CleanControllerBrokerDataRequestHeader {
            cluster_name: Some("DefaultCluster".into()),
            broker_name: "broker-a".into(),
            broker_controller_ids_to_clean: Some("1;2".into()),
            is_clean_living_broker: Some(false),
            invoke_time: Some(1_700_000_000_000),
        };
        check(
            h,
            &[
                ("clusterName", "DefaultCluster"),
                ("brokerName", "broker-a"),
                ("brokerControllerIdsToClean", "1;2"),
                ("isCleanLivingBroker", "false"),
                ("invokeTime", "1700000000000"),
            ],
        );
    }

    #[test]
    fn responses_round_trip() {
        fn rt<H: CommandHeader + PartialEq + std::fmt::Debug>(h: H) {
            assert_eq!(H::read(&h.to_ext_fields()).unwrap(), h);
        }
        rt(GetNextBrokerIdResponseHeader {
            cluster_name: Some("c".into()),
            broker_name: Some("b".into()),
            next_broker_id: Some(3),
        });
        rt(ApplyBrokerIdResponseHeader {
            cluster_name: Some("c".into()),
            broker_name: Some("b".into()),
        });
        rt(RegisterBrokerToControllerResponseHeader {
            master_broker_id: Some(1),
            master_address: Some("a:1".into()),
            master_epoch: Some(2),
            sync_state_set_epoch: Some(3),
            ..Default::default()
        });
        rt(GetReplicaInfoResponseHeader {
            master_broker_id: Some(1),
            master_address: Some("a:1".into()),
            master_epoch: Some(2),
        });
        rt(ElectMasterResponseHeader {
            master_broker_id: Some(1),
            master_address: Some("a:1".into()),
            master_epoch: Some(2),
            sync_state_set_epoch: Some(3),
        });
        rt(AlterSyncStateSetResponseHeader {
            new_sync_state_set_epoch: Some(4),
        });
        assert!(ElectMasterResponseHeader::default()
            .to_ext_fields()
            .is_empty());
    }

    #[test]
    fn broker_heartbeat_controller_fields() {
        use crate::header::BrokerHeartbeatRequestHeader;
        let h = BrokerHeartbeatRequestHeader {
            cluster_name: "DefaultCluster".into(),
            broker_addr: "127.0.0.1:30911".into(),
            broker_name: Some("broker-a".into()),
            broker_id: Some(1),
            epoch: Some(2),
            max_offset: Some(1024),
            confirm_offset: Some(1000),
            heartbeat_timeout_mills: Some(10_000),
            election_priority: Some(3),
            ..Default::default()
        };
        check(
            h,
            &[
                ("clusterName", "DefaultCluster"),
                ("brokerAddr", "127.0.0.1:30911"),
                ("brokerName", "broker-a"),
                ("brokerId", "1"),
                ("epoch", "2"),
                ("maxOffset", "1024"),
                ("confirmOffset", "1000"),
                ("heartbeatTimeoutMills", "10000"),
                ("electionPriority", "3"),
            ],
        );
    }
}
