//! Request codes (`RequestCode.java`), by Apache's numbers.
//!
//! Commands carry `code: i32`; this enum names the numbers. Any number without a name converts to
//! [`RequestCode::Unknown`] and back unchanged, so a server can answer "not supported" with the
//! exact code it received.

/// Declares a code enum with an `Unknown(i32)` fallback, `From<i32>`, `From<Enum> for i32` and
/// the Java constant name.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal => $java:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A number this crate has no name for; kept as is.
            Unknown(i32),
        }

        impl $name {
            /// Every named code, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The Java constant name (`"UNKNOWN"` for unnamed numbers).
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $java,)*
                    $name::Unknown(_) => "UNKNOWN",
                }
            }

            /// The wire number.
            pub const fn code(self) -> i32 {
                match self {
                    $($name::$variant => $value,)*
                    $name::Unknown(n) => n,
                }
            }
        }

        impl From<i32> for $name {
            fn from(n: i32) -> Self {
                match n {
                    $($value => $name::$variant,)*
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for i32 {
            fn from(c: $name) -> i32 {
                c.code()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", self.name(), self.code())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum! {
    /// What a request asks for.
    RequestCode {
        SendMessage = 10 => "SEND_MESSAGE",
        PullMessage = 11 => "PULL_MESSAGE",
        QueryMessage = 12 => "QUERY_MESSAGE",
        QueryBrokerOffset = 13 => "QUERY_BROKER_OFFSET",
        QueryConsumerOffset = 14 => "QUERY_CONSUMER_OFFSET",
        UpdateConsumerOffset = 15 => "UPDATE_CONSUMER_OFFSET",
        UpdateAndCreateTopic = 17 => "UPDATE_AND_CREATE_TOPIC",
        UpdateAndCreateTopicList = 18 => "UPDATE_AND_CREATE_TOPIC_LIST",
        GetAllTopicConfig = 21 => "GET_ALL_TOPIC_CONFIG",
        GetTopicConfigList = 22 => "GET_TOPIC_CONFIG_LIST",
        GetTopicNameList = 23 => "GET_TOPIC_NAME_LIST",
        UpdateBrokerConfig = 25 => "UPDATE_BROKER_CONFIG",
        GetBrokerConfig = 26 => "GET_BROKER_CONFIG",
        TriggerDeleteFiles = 27 => "TRIGGER_DELETE_FILES",
        GetBrokerRuntimeInfo = 28 => "GET_BROKER_RUNTIME_INFO",
        SearchOffsetByTimestamp = 29 => "SEARCH_OFFSET_BY_TIMESTAMP",
        GetMaxOffset = 30 => "GET_MAX_OFFSET",
        GetMinOffset = 31 => "GET_MIN_OFFSET",
        GetEarliestMsgStoretime = 32 => "GET_EARLIEST_MSG_STORETIME",
        ViewMessageById = 33 => "VIEW_MESSAGE_BY_ID",
        HeartBeat = 34 => "HEART_BEAT",
        UnregisterClient = 35 => "UNREGISTER_CLIENT",
        ConsumerSendMsgBack = 36 => "CONSUMER_SEND_MSG_BACK",
        EndTransaction = 37 => "END_TRANSACTION",
        GetConsumerListByGroup = 38 => "GET_CONSUMER_LIST_BY_GROUP",
        CheckTransactionState = 39 => "CHECK_TRANSACTION_STATE",
        NotifyConsumerIdsChanged = 40 => "NOTIFY_CONSUMER_IDS_CHANGED",
        LockBatchMq = 41 => "LOCK_BATCH_MQ",
        UnlockBatchMq = 42 => "UNLOCK_BATCH_MQ",
        GetAllConsumerOffset = 43 => "GET_ALL_CONSUMER_OFFSET",
        GetAllDelayOffset = 45 => "GET_ALL_DELAY_OFFSET",
        CheckClientConfig = 46 => "CHECK_CLIENT_CONFIG",
        GetClientConfig = 47 => "GET_CLIENT_CONFIG",
        UpdateAndCreateAclConfig = 50 => "UPDATE_AND_CREATE_ACL_CONFIG",
        DeleteAclConfig = 51 => "DELETE_ACL_CONFIG",
        GetBrokerClusterAclInfo = 52 => "GET_BROKER_CLUSTER_ACL_INFO",
        UpdateGlobalWhiteAddrsConfig = 53 => "UPDATE_GLOBAL_WHITE_ADDRS_CONFIG",
        GetBrokerClusterAclConfig = 54 => "GET_BROKER_CLUSTER_ACL_CONFIG",
        PutKvConfig = 100 => "PUT_KV_CONFIG",
        GetKvConfig = 101 => "GET_KV_CONFIG",
        DeleteKvConfig = 102 => "DELETE_KV_CONFIG",
        RegisterBroker = 103 => "REGISTER_BROKER",
        UnregisterBroker = 104 => "UNREGISTER_BROKER",
        GetRouteinfoByTopic = 105 => "GET_ROUTEINFO_BY_TOPIC",
        GetBrokerClusterInfo = 106 => "GET_BROKER_CLUSTER_INFO",
        UpdateAndCreateSubscriptionGroup = 200 => "UPDATE_AND_CREATE_SUBSCRIPTIONGROUP",
        GetAllSubscriptionGroupConfig = 201 => "GET_ALL_SUBSCRIPTIONGROUP_CONFIG",
        GetTopicStatsInfo = 202 => "GET_TOPIC_STATS_INFO",
        GetConsumerConnectionList = 203 => "GET_CONSUMER_CONNECTION_LIST",
        GetProducerConnectionList = 204 => "GET_PRODUCER_CONNECTION_LIST",
        WipeWritePermOfBroker = 205 => "WIPE_WRITE_PERM_OF_BROKER",
        GetAllTopicListFromNameserver = 206 => "GET_ALL_TOPIC_LIST_FROM_NAMESERVER",
        DeleteSubscriptionGroup = 207 => "DELETE_SUBSCRIPTIONGROUP",
        GetConsumeStats = 208 => "GET_CONSUME_STATS",
        DeleteTopicInBroker = 215 => "DELETE_TOPIC_IN_BROKER",
        DeleteTopicInNamesrv = 216 => "DELETE_TOPIC_IN_NAMESRV",
        RegisterTopicInNamesrv = 217 => "REGISTER_TOPIC_IN_NAMESRV",
        GetKvlistByNamespace = 219 => "GET_KVLIST_BY_NAMESPACE",
        ResetConsumerClientOffset = 220 => "RESET_CONSUMER_CLIENT_OFFSET",
        GetConsumerStatusFromClient = 221 => "GET_CONSUMER_STATUS_FROM_CLIENT",
        InvokeBrokerToResetOffset = 222 => "INVOKE_BROKER_TO_RESET_OFFSET",
        InvokeBrokerToGetConsumerStatus = 223 => "INVOKE_BROKER_TO_GET_CONSUMER_STATUS",
        GetTopicsByCluster = 224 => "GET_TOPICS_BY_CLUSTER",
        QueryTopicConsumeByWho = 300 => "QUERY_TOPIC_CONSUME_BY_WHO",
        GetSystemTopicListFromNs = 304 => "GET_SYSTEM_TOPIC_LIST_FROM_NS",
        CleanExpiredConsumequeue = 306 => "CLEAN_EXPIRED_CONSUMEQUEUE",
        GetConsumerRunningInfo = 307 => "GET_CONSUMER_RUNNING_INFO",
        ConsumeMessageDirectly = 309 => "CONSUME_MESSAGE_DIRECTLY",
        SendMessageV2 = 310 => "SEND_MESSAGE_V2",
        ViewBrokerStatsData = 315 => "VIEW_BROKER_STATS_DATA",
        UpdateNamesrvConfig = 318 => "UPDATE_NAMESRV_CONFIG",
        GetNamesrvConfig = 319 => "GET_NAMESRV_CONFIG",
        SendBatchMessage = 320 => "SEND_BATCH_MESSAGE",
        QueryDataVersion = 322 => "QUERY_DATA_VERSION",
        SendReplyMessage = 324 => "SEND_REPLY_MESSAGE",
        SendReplyMessageV2 = 325 => "SEND_REPLY_MESSAGE_V2",
        PushReplyMessageToClient = 326 => "PUSH_REPLY_MESSAGE_TO_CLIENT",
        AddWritePermOfBroker = 327 => "ADD_WRITE_PERM_OF_BROKER",
        DeleteExpiredCommitlog = 329 => "DELETE_EXPIRED_COMMITLOG",
        GetTopicConfig = 351 => "GET_TOPIC_CONFIG",
        GetSubscriptionGroupConfig = 352 => "GET_SUBSCRIPTIONGROUP_CONFIG",
        /// 5.x DefaultLitePullConsumer's pulls: PULL_MESSAGE's header and answer.
        LitePullMessage = 361 => "LITE_PULL_MESSAGE",
        BrokerHeartbeat = 904 => "BROKER_HEARTBEAT",
        /// Controller mode (5.x): a master reports its new in-sync replica set.
        ControllerAlterSyncStateSet = 1001 => "CONTROLLER_ALTER_SYNC_STATE_SET",
        /// Controller mode: elect (or designate) a broker set's master.
        ControllerElectMaster = 1002 => "CONTROLLER_ELECT_MASTER",
        /// Controller mode: a broker registers its replica with the controller.
        ControllerRegisterBroker = 1003 => "CONTROLLER_REGISTER_BROKER",
        /// Controller mode: the master and sync state set of a broker set.
        ControllerGetReplicaInfo = 1004 => "CONTROLLER_GET_REPLICA_INFO",
        /// Controller mode: the controller group's leader and peers.
        ControllerGetMetadataInfo = 1005 => "CONTROLLER_GET_METADATA_INFO",
        /// Controller mode: the sync state data of some broker sets (admin).
        ControllerGetSyncStateData = 1006 => "CONTROLLER_GET_SYNC_STATE_DATA",
        /// Controller mode: a broker's epoch cache (admin, sent to a broker).
        GetBrokerEpochCache = 1007 => "GET_BROKER_EPOCH_CACHE",
        /// Controller mode: the controller tells a broker its role changed.
        NotifyBrokerRoleChanged = 1008 => "NOTIFY_BROKER_ROLE_CHANGED",
        /// Controller mode: update the controller's configuration (admin).
        UpdateControllerConfig = 1009 => "UPDATE_CONTROLLER_CONFIG",
        /// Controller mode: read the controller's configuration (admin).
        GetControllerConfig = 1010 => "GET_CONTROLLER_CONFIG",
        /// Controller mode: drop a broker set's metadata from the controller (admin).
        CleanBrokerData = 1011 => "CLEAN_BROKER_DATA",
        /// Controller mode: the next free broker id of a broker set.
        ControllerGetNextBrokerId = 1012 => "CONTROLLER_GET_NEXT_BROKER_ID",
        /// Controller mode: claim a broker id for a broker.
        ControllerApplyBrokerId = 1013 => "CONTROLLER_APPLY_BROKER_ID",
        /// 5.x pop consumption (gRPC proxy); too large for the binary header's int16 code.
        PopMessage = 200050 => "POP_MESSAGE",
        AckMessage = 200051 => "ACK_MESSAGE",
        PeekMessage = 200052 => "PEEK_MESSAGE",
        ChangeMessageInvisibleTime = 200053 => "CHANGE_MESSAGE_INVISIBLETIME",
        Notification = 200054 => "NOTIFICATION",
        PollingInfo = 200055 => "POLLING_INFO",
        PopRollback = 200056 => "POP_ROLLBACK",
        BatchAckMessage = 200151 => "BATCH_ACK_MESSAGE",
        /// rmq's own: Raft AppendEntries between controllers (JSON body, openraft's types).
        ControllerRaftAppendEntries = 1901 => "RMQ_CONTROLLER_RAFT_APPEND_ENTRIES",
        /// rmq's own: Raft Vote between controllers.
        ControllerRaftVote = 1902 => "RMQ_CONTROLLER_RAFT_VOTE",
        /// rmq's own: a Raft snapshot chunk between controllers.
        ControllerRaftInstallSnapshot = 1903 => "RMQ_CONTROLLER_RAFT_INSTALL_SNAPSHOT",
        AuthCreateUser = 3001 => "AUTH_CREATE_USER",
        AuthUpdateUser = 3002 => "AUTH_UPDATE_USER",
        AuthDeleteUser = 3003 => "AUTH_DELETE_USER",
        AuthGetUser = 3004 => "AUTH_GET_USER",
        AuthListUser = 3005 => "AUTH_LIST_USER",
        AuthCreateAcl = 3006 => "AUTH_CREATE_ACL",
        AuthUpdateAcl = 3007 => "AUTH_UPDATE_ACL",
        AuthDeleteAcl = 3008 => "AUTH_DELETE_ACL",
        AuthGetAcl = 3009 => "AUTH_GET_ACL",
        AuthListAcl = 3010 => "AUTH_LIST_ACL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in RequestCode::ALL {
            assert!(seen.insert(c.code()), "duplicate {c}");
            assert_eq!(RequestCode::from(c.code()), *c);
        }
        assert_eq!(RequestCode::from(310), RequestCode::SendMessageV2);
        assert_eq!(i32::from(RequestCode::GetRouteinfoByTopic), 105);
        assert_eq!(RequestCode::from(12345), RequestCode::Unknown(12345));
        assert_eq!(i32::from(RequestCode::from(12345)), 12345);
        assert_eq!(RequestCode::HeartBeat.name(), "HEART_BEAT");
        assert_eq!(
            RequestCode::from(1013),
            RequestCode::ControllerApplyBrokerId
        );
        assert_eq!(
            RequestCode::ControllerElectMaster.name(),
            "CONTROLLER_ELECT_MASTER"
        );
    }
}
