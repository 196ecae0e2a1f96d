//! PULL_MESSAGE (11) request and response headers, and the pull sysflag bits.

crate::command_header! {
    /// `PullMessageRequestHeader`.
    pub struct PullMessageRequestHeader: "PullMessageRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
        req queue_offset: i64 = "queueOffset",
        req max_msg_nums: i32 = "maxMsgNums",
        /// [`pull_sys_flag`] bits.
        req sys_flag: i32 = "sysFlag",
        req commit_offset: i64 = "commitOffset",
        /// Long-poll hold time (Java push consumers send 15000).
        req suspend_timeout_millis: i64 = "suspendTimeoutMillis",
        /// Subscription expression; present when the SUBSCRIPTION bit is set.
        opt subscription: String = "subscription",
        req sub_version: i64 = "subVersion",
        /// `TAG` (default) or `SQL92`.
        opt expression_type: String = "expressionType",
        opt max_msg_bytes: i32 = "maxMsgBytes",
        opt request_source: i32 = "requestSource",
        /// Misspelled as in Apache's source.
        opt proxy_froward_client_id: String = "proxyFrowardClientId",
    }
}

crate::command_header! {
    /// `PullMessageResponseHeader`.
    pub struct PullMessageResponseHeader: "PullMessageResponseHeader" {
        req suggest_which_broker_id: i64 = "suggestWhichBrokerId",
        req next_begin_offset: i64 = "nextBeginOffset",
        req min_offset: i64 = "minOffset",
        req max_offset: i64 = "maxOffset",
        opt offset_delta: i64 = "offsetDelta",
        opt topic_sys_flag: i32 = "topicSysFlag",
        opt group_sys_flag: i32 = "groupSysFlag",
        opt forbidden_type: i32 = "forbiddenType",
    }
}

/// `PullSysFlag` bits of [`PullMessageRequestHeader::sys_flag`].
pub mod pull_sys_flag {
    /// Piggy-back commit of `commitOffset`.
    pub const COMMIT_OFFSET: i32 = 0x1;
    /// The broker may hold the request (long polling).
    pub const SUSPEND: i32 = 0x2;
    /// The header carries `subscription`.
    pub const SUBSCRIPTION: i32 = 0x4;
    pub const CLASS_FILTER: i32 = 0x8;
    pub const LITE_PULL: i32 = 0x10;
}
