//! Admin headers used by `mqadmin` against brokers: topic creation and deletion, statistics,
//! connections.

use rmq_common::topic::TopicFilterType;

crate::command_header! {
    /// `CreateTopicRequestHeader` (UPDATE_AND_CREATE_TOPIC, 17).
    pub struct CreateTopicRequestHeader: "CreateTopicRequestHeader" rpc {
        req topic: String = "topic",
        /// Java sends `TBW102`.
        req default_topic: String = "defaultTopic",
        req read_queue_nums: i32 = "readQueueNums",
        req write_queue_nums: i32 = "writeQueueNums",
        req perm: i32 = "perm",
        req topic_filter_type: TopicFilterType = "topicFilterType",
        opt topic_sys_flag: i32 = "topicSysFlag",
        req order: bool = "order",
        /// `+key=value,+key2=value2,-key3`.
        opt attributes: String = "attributes",
        opt force: bool = "force",
    }
}

crate::command_header! {
    /// `DeleteTopicRequestHeader` (DELETE_TOPIC_IN_BROKER, 215).
    pub struct DeleteTopicRequestHeader: "DeleteTopicRequestHeader" rpc {
        req topic: String = "topic",
    }
}

crate::command_header! {
    /// `GetConsumeStatsRequestHeader` (GET_CONSUME_STATS, 208).
    pub struct GetConsumeStatsRequestHeader: "GetConsumeStatsRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        /// All subscribed topics when absent.
        opt topic: String = "topic",
        /// `;`-separated topics.
        opt topic_list: String = "topicList",
    }
}

crate::command_header! {
    /// `GetConsumerConnectionListRequestHeader` (GET_CONSUMER_CONNECTION_LIST, 203).
    pub struct GetConsumerConnectionListRequestHeader: "GetConsumerConnectionListRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
    }
}

crate::command_header! {
    /// `GetProducerConnectionListRequestHeader` (GET_PRODUCER_CONNECTION_LIST, 204).
    pub struct GetProducerConnectionListRequestHeader: "GetProducerConnectionListRequestHeader" rpc {
        req producer_group: String = "producerGroup",
    }
}

crate::command_header! {
    /// `GetTopicStatsInfoRequestHeader` (GET_TOPIC_STATS_INFO, 202).
    pub struct GetTopicStatsInfoRequestHeader: "GetTopicStatsInfoRequestHeader" rpc {
        req topic: String = "topic",
    }
}

crate::command_header! {
    /// `QueryTopicConsumeByWhoRequestHeader` (QUERY_TOPIC_CONSUME_BY_WHO, 300).
    pub struct QueryTopicConsumeByWhoRequestHeader: "QueryTopicConsumeByWhoRequestHeader" rpc {
        req topic: String = "topic",
    }
}

crate::command_header! {
    /// `ViewBrokerStatsDataRequestHeader` (VIEW_BROKER_STATS_DATA, 315): one figure of the
    /// broker's stats, e.g. `TOPIC_PUT_NUMS` of a topic or `GROUP_GET_NUMS` of `topic@group`.
    pub struct ViewBrokerStatsDataRequestHeader: "ViewBrokerStatsDataRequestHeader" rpc {
        req stats_name: String = "statsName",
        req stats_key: String = "statsKey",
    }
}

crate::command_header! {
    /// `DeleteSubscriptionGroupRequestHeader` (DELETE_SUBSCRIPTIONGROUP, 207).
    pub struct DeleteSubscriptionGroupRequestHeader: "DeleteSubscriptionGroupRequestHeader" rpc {
        req group_name: String = "groupName",
        opt clean_offset: bool = "cleanOffset",
    }
}

crate::command_header! {
    /// `GetConsumerRunningInfoRequestHeader` (GET_CONSUMER_RUNNING_INFO, 307).
    pub struct GetConsumerRunningInfoRequestHeader: "GetConsumerRunningInfoRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        req client_id: String = "clientId",
        opt jstack_enable: bool = "jstackEnable",
    }
}

crate::command_header! {
    /// `GetBrokerConfigResponseHeader` (GET_BROKER_CONFIG, 26): the config's data version as
    /// JSON text; the body is the config in `.properties` form.
    pub struct GetBrokerConfigResponseHeader: "GetBrokerConfigResponseHeader" {
        opt version: String = "version",
    }
}

crate::command_header! {
    /// `ResetOffsetRequestHeader` (INVOKE_BROKER_TO_RESET_OFFSET, 222): move `group`'s offsets
    /// on `topic` to the first message stored at or after `timestamp` (ms), or to `offset` for
    /// one `queueId`.
    pub struct ResetOffsetRequestHeader: "ResetOffsetRequestHeader" rpc {
        req topic: String = "topic",
        req group: String = "group",
        /// -1 (Java's default) for every queue.
        opt queue_id: i32 = "queueId",
        opt offset: i64 = "offset",
        req timestamp: i64 = "timestamp",
        req is_force: bool = "isForce",
    }
}

crate::command_header! {
    /// `GetTopicConfigRequestHeader` (GET_TOPIC_CONFIG, 351): one topic's config, as 5.x admin
    /// tools read it before updating a topic.
    pub struct GetTopicConfigRequestHeader: "GetTopicConfigRequestHeader" rpc {
        req topic: String = "topic",
        /// Logical queue mapping wanted (static topics); rmq has none.
        opt lo: bool = "lo",
    }
}

crate::command_header! {
    /// `ConsumeMessageDirectlyResultRequestHeader` (CONSUME_MESSAGE_DIRECTLY, 309): an admin
    /// asks one consumer to consume one stored message now; the broker adds the message as the
    /// body and relays the request to the consumer.
    pub struct ConsumeMessageDirectlyResultRequestHeader: "ConsumeMessageDirectlyResultRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        opt client_id: String = "clientId",
        /// The offset msgId of the message.
        req msg_id: String = "msgId",
        opt broker_name: String = "brokerName",
        opt topic: String = "topic",
        opt topic_sys_flag: i32 = "topicSysFlag",
        opt group_sys_flag: i32 = "groupSysFlag",
    }
}

crate::command_header! {
    /// `GetConsumerStatusRequestHeader` (INVOKE_BROKER_TO_GET_CONSUMER_STATUS, 223, and
    /// GET_CONSUMER_STATUS_FROM_CLIENT, 221): the offsets a group's clients hold for a topic.
    pub struct GetConsumerStatusRequestHeader: "GetConsumerStatusRequestHeader" rpc {
        req topic: String = "topic",
        req group: String = "group",
        /// One client's address; every client of the group when absent.
        opt client_addr: String = "clientAddr",
    }
}
