//! Name server headers: broker registration, routes, topics and the KV config store.

crate::command_header! {
    /// `RegisterBrokerRequestHeader` (REGISTER_BROKER, 103).
    pub struct RegisterBrokerRequestHeader: "RegisterBrokerRequestHeader" rpc {
        req broker_name: String = "brokerName",
        /// `brokerIP1:listenPort`.
        req broker_addr: String = "brokerAddr",
        req cluster_name: String = "clusterName",
        /// `brokerIP2:haListenPort`.
        req ha_server_addr: String = "haServerAddr",
        /// 0 = master.
        req broker_id: i64 = "brokerId",
        opt heartbeat_timeout_millis: i64 = "heartbeatTimeoutMillis",
        opt enable_acting_master: bool = "enableActingMaster",
        /// The body is the zlib form of `RegisterBrokerBody`.
        opt compressed: bool = "compressed",
        /// `crc32_masked` of the body; 0 = not checked.
        opt body_crc32: i32 = "bodyCrc32",
        /// Extra extField `__ZONE_NAME` some brokers send.
        opt zone_name: String = "__ZONE_NAME",
    }
}

crate::command_header! {
    /// `RegisterBrokerResponseHeader`: filled for slaves when their master is registered.
    pub struct RegisterBrokerResponseHeader: "RegisterBrokerResponseHeader" {
        opt ha_server_addr: String = "haServerAddr",
        opt master_addr: String = "masterAddr",
    }
}

crate::command_header! {
    /// `UnRegisterBrokerRequestHeader` (UNREGISTER_BROKER, 104).
    pub struct UnRegisterBrokerRequestHeader: "UnRegisterBrokerRequestHeader" rpc {
        req broker_name: String = "brokerName",
        req broker_addr: String = "brokerAddr",
        req cluster_name: String = "clusterName",
        req broker_id: i64 = "brokerId",
    }
}

crate::command_header! {
    /// `GetRouteInfoRequestHeader` (GET_ROUTEINFO_BY_TOPIC, 105).
    pub struct GetRouteInfoRequestHeader: "GetRouteInfoRequestHeader" rpc {
        req topic: String = "topic",
        /// Ask for standard JSON (quoted numeric keys) regardless of version.
        opt accept_standard_json_only: bool = "acceptStandardJsonOnly",
    }
}

crate::command_header! {
    /// `DeleteTopicFromNamesrvRequestHeader` (DELETE_TOPIC_IN_NAMESRV, 216).
    pub struct DeleteTopicFromNamesrvRequestHeader: "DeleteTopicFromNamesrvRequestHeader" rpc {
        req topic: String = "topic",
        /// When set, only this cluster's brokers are removed from the topic.
        opt cluster_name: String = "clusterName",
    }
}

crate::command_header! {
    /// `RegisterTopicRequestHeader` (REGISTER_TOPIC_IN_NAMESRV, 217).
    pub struct RegisterTopicRequestHeader: "RegisterTopicRequestHeader" rpc {
        req topic: String = "topic",
    }
}

crate::command_header! {
    /// `PutKVConfigRequestHeader` (PUT_KV_CONFIG, 100).
    pub struct PutKVConfigRequestHeader: "PutKVConfigRequestHeader" rpc {
        req namespace: String = "namespace",
        req key: String = "key",
        req value: String = "value",
    }
}

crate::command_header! {
    /// `GetKVConfigRequestHeader` (GET_KV_CONFIG, 101).
    pub struct GetKVConfigRequestHeader: "GetKVConfigRequestHeader" rpc {
        req namespace: String = "namespace",
        req key: String = "key",
    }
}

crate::command_header! {
    /// `GetKVConfigResponseHeader`.
    pub struct GetKVConfigResponseHeader: "GetKVConfigResponseHeader" {
        opt value: String = "value",
    }
}

crate::command_header! {
    /// `DeleteKVConfigRequestHeader` (DELETE_KV_CONFIG, 102).
    pub struct DeleteKVConfigRequestHeader: "DeleteKVConfigRequestHeader" rpc {
        req namespace: String = "namespace",
        req key: String = "key",
    }
}

crate::command_header! {
    /// `GetKVListByNamespaceRequestHeader` (GET_KVLIST_BY_NAMESPACE, 219).
    pub struct GetKVListByNamespaceRequestHeader: "GetKVListByNamespaceRequestHeader" rpc {
        req namespace: String = "namespace",
    }
}

crate::command_header! {
    /// `GetTopicsByClusterRequestHeader` (GET_TOPICS_BY_CLUSTER, 224).
    pub struct GetTopicsByClusterRequestHeader: "GetTopicsByClusterRequestHeader" rpc {
        req cluster: String = "cluster",
    }
}

crate::command_header! {
    /// `WipeWritePermOfBrokerRequestHeader` (WIPE_WRITE_PERM_OF_BROKER, 205).
    pub struct WipeWritePermOfBrokerRequestHeader: "WipeWritePermOfBrokerRequestHeader" rpc {
        req broker_name: String = "brokerName",
    }
}

crate::command_header! {
    /// `WipeWritePermOfBrokerResponseHeader`.
    pub struct WipeWritePermOfBrokerResponseHeader: "WipeWritePermOfBrokerResponseHeader" {
        req wipe_topic_count: i32 = "wipeTopicCount",
    }
}

crate::command_header! {
    /// `AddWritePermOfBrokerRequestHeader` (ADD_WRITE_PERM_OF_BROKER, 327).
    pub struct AddWritePermOfBrokerRequestHeader: "AddWritePermOfBrokerRequestHeader" rpc {
        req broker_name: String = "brokerName",
    }
}

crate::command_header! {
    /// `AddWritePermOfBrokerResponseHeader`.
    pub struct AddWritePermOfBrokerResponseHeader: "AddWritePermOfBrokerResponseHeader" {
        req add_topic_count: i32 = "addTopicCount",
    }
}

crate::command_header! {
    /// `QueryDataVersionRequestHeader` (QUERY_DATA_VERSION, 322); body is a `DataVersion`.
    pub struct QueryDataVersionRequestHeader: "QueryDataVersionRequestHeader" rpc {
        req broker_name: String = "brokerName",
        req broker_addr: String = "brokerAddr",
        req cluster_name: String = "clusterName",
        req broker_id: i64 = "brokerId",
    }
}

crate::command_header! {
    /// `QueryDataVersionResponseHeader`.
    pub struct QueryDataVersionResponseHeader: "QueryDataVersionResponseHeader" {
        req changed: bool = "changed",
    }
}

crate::command_header! {
    /// `BrokerHeartbeatRequestHeader` (BROKER_HEARTBEAT, 904): refreshes a broker's liveness
    /// (used by slave-acting-master and controller deployments).
    pub struct BrokerHeartbeatRequestHeader: "BrokerHeartbeatRequestHeader" rpc {
        req cluster_name: String = "clusterName",
        req broker_addr: String = "brokerAddr",
        opt broker_name: String = "brokerName",
        opt broker_id: i64 = "brokerId",
        /// Controller mode: the broker's master epoch.
        opt epoch: i32 = "epoch",
        /// Controller mode: the broker's max commit log offset.
        opt max_offset: i64 = "maxOffset",
        /// Controller mode: the broker's confirmed commit log offset.
        opt confirm_offset: i64 = "confirmOffset",
        /// Controller mode: how long the controller waits for the next heartbeat (Apache's
        /// spelling).
        opt heartbeat_timeout_mills: i64 = "heartbeatTimeoutMills",
        /// Controller mode: lower is preferred when electing a master.
        opt election_priority: i32 = "electionPriority",
    }
}
