//! Client management: UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38),
//! CONSUMER_SEND_MSG_BACK (36), NOTIFY_CONSUMER_IDS_CHANGED (40, broker to client).
//! HEART_BEAT and LOCK/UNLOCK_BATCH_MQ carry only [`RpcFields`](super::RpcFields).

crate::command_header! {
    /// `UnregisterClientRequestHeader`.
    pub struct UnregisterClientRequestHeader: "UnregisterClientRequestHeader" rpc {
        req client_id: String = "clientID",
        opt producer_group: String = "producerGroup",
        opt consumer_group: String = "consumerGroup",
    }
}

crate::command_header! {
    /// `GetConsumerListByGroupRequestHeader`.
    pub struct GetConsumerListByGroupRequestHeader: "GetConsumerListByGroupRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
    }
}

crate::command_header! {
    /// `ConsumerSendMsgBackRequestHeader`.
    pub struct ConsumerSendMsgBackRequestHeader: "ConsumerSendMsgBackRequestHeader" rpc {
        /// Commit-log physical offset of the failed message.
        req offset: i64 = "offset",
        req group: String = "group",
        /// 0: the broker picks `3 + reconsumeTimes`; negative: straight to the DLQ.
        req delay_level: i32 = "delayLevel",
        opt origin_msg_id: String = "originMsgId",
        opt origin_topic: String = "originTopic",
        opt unit_mode: bool = "unitMode",
        opt max_reconsume_times: i32 = "maxReconsumeTimes",
    }
}

crate::command_header! {
    /// `NotifyConsumerIdsChangedRequestHeader` (broker to client, oneway).
    pub struct NotifyConsumerIdsChangedRequestHeader: "NotifyConsumerIdsChangedRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
    }
}
