//! QUERY_MESSAGE (12) and VIEW_MESSAGE_BY_ID (33).

/// extField that marks a QUERY_MESSAGE key as a UNIQ_KEY (`"true"`).
pub const UNIQUE_MSG_QUERY_FLAG: &str = "_UNIQUE_KEY_QUERY";

crate::command_header! {
    /// `QueryMessageRequestHeader`.
    pub struct QueryMessageRequestHeader: "QueryMessageRequestHeader" rpc {
        req topic: String = "topic",
        req key: String = "key",
        req max_num: i32 = "maxNum",
        req begin_timestamp: i64 = "beginTimestamp",
        req end_timestamp: i64 = "endTimestamp",
    }
}

crate::command_header! {
    /// `QueryMessageResponseHeader`.
    pub struct QueryMessageResponseHeader: "QueryMessageResponseHeader" {
        req index_last_update_timestamp: i64 = "indexLastUpdateTimestamp",
        req index_last_update_phyoffset: i64 = "indexLastUpdatePhyoffset",
    }
}

crate::command_header! {
    /// `ViewMessageRequestHeader`: `offset` is the physical offset from an offset msgId.
    pub struct ViewMessageRequestHeader: "ViewMessageRequestHeader" rpc {
        req offset: i64 = "offset",
        opt topic: String = "topic",
    }
}
