//! ACL 1.0 admin headers (UPDATE_AND_CREATE_ACL_CONFIG 50 … GET_BROKER_CLUSTER_ACL_CONFIG 54),
//! which edit and read a broker's `plain_acl.yml` as Apache 4.x's `mqadmin updateAclConfig`
//! and friends do.

crate::command_header! {
    /// `CreateAccessConfigRequestHeader` (UPDATE_AND_CREATE_ACL_CONFIG, 50): one account; the
    /// fields sent replace the account's, the rest stay.
    pub struct CreateAccessConfigRequestHeader: "CreateAccessConfigRequestHeader" {
        opt access_key: String = "accessKey",
        opt secret_key: String = "secretKey",
        opt white_remote_address: String = "whiteRemoteAddress",
        opt admin: bool = "admin",
        opt default_topic_perm: String = "defaultTopicPerm",
        opt default_group_perm: String = "defaultGroupPerm",
        /// `topicA=DENY,topicB=PUB|SUB`.
        opt topic_perms: String = "topicPerms",
        opt group_perms: String = "groupPerms",
    }
}

crate::command_header! {
    /// `DeleteAccessConfigRequestHeader` (DELETE_ACL_CONFIG, 51).
    pub struct DeleteAccessConfigRequestHeader: "DeleteAccessConfigRequestHeader" {
        opt access_key: String = "accessKey",
    }
}

crate::command_header! {
    /// `UpdateGlobalWhiteAddrsConfigRequestHeader` (UPDATE_GLOBAL_WHITE_ADDRS_CONFIG, 53).
    pub struct UpdateGlobalWhiteAddrsConfigRequestHeader: "UpdateGlobalWhiteAddrsConfigRequestHeader" {
        /// `10.10.103.*,192.168.0.*`.
        opt global_white_addrs: String = "globalWhiteAddrs",
        /// Which file, for brokers with several; rmq has one.
        opt acl_file_full_path: String = "aclFileFullPath",
    }
}

crate::command_header! {
    /// `GetBrokerAclConfigResponseHeader` (GET_BROKER_CLUSTER_ACL_INFO, 52): the version of the
    /// rules in force.
    pub struct GetBrokerAclConfigResponseHeader: "GetBrokerAclConfigResponseHeader" {
        /// A `DataVersion` as JSON: `{"counter":N,"timestamp":MS}`.
        opt version: String = "version",
        /// `{"<file>":<DataVersion>}` as JSON.
        opt all_acl_file_version: String = "allAclFileVersion",
        opt broker_name: String = "brokerName",
        opt broker_addr: String = "brokerAddr",
        opt cluster_name: String = "clusterName",
    }
}
