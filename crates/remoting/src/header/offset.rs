//! Offset queries and updates: QUERY/UPDATE_CONSUMER_OFFSET (14/15), GET_MAX/MIN_OFFSET (30/31),
//! SEARCH_OFFSET_BY_TIMESTAMP (29), GET_EARLIEST_MSG_STORETIME (32).

use super::BoundaryType;

crate::command_header! {
    /// `QueryConsumerOffsetRequestHeader`.
    pub struct QueryConsumerOffsetRequestHeader: "QueryConsumerOffsetRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
        opt set_zero_if_not_found: bool = "setZeroIfNotFound",
    }
}

crate::command_header! {
    /// `QueryConsumerOffsetResponseHeader`.
    pub struct QueryConsumerOffsetResponseHeader: "QueryConsumerOffsetResponseHeader" {
        req offset: i64 = "offset",
    }
}

crate::command_header! {
    /// `UpdateConsumerOffsetRequestHeader` (often sent oneway).
    pub struct UpdateConsumerOffsetRequestHeader: "UpdateConsumerOffsetRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
        req commit_offset: i64 = "commitOffset",
    }
}

crate::command_header! {
    /// `GetMaxOffsetRequestHeader`.
    pub struct GetMaxOffsetRequestHeader: "GetMaxOffsetRequestHeader" rpc {
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
        /// Only committed (replicated) data; Java's default is true.
        opt committed: bool = "committed",
    }
}

crate::command_header! {
    /// `GetMaxOffsetResponseHeader`: the next logical offset to be written (exclusive).
    pub struct GetMaxOffsetResponseHeader: "GetMaxOffsetResponseHeader" {
        req offset: i64 = "offset",
    }
}

crate::command_header! {
    /// `GetMinOffsetRequestHeader`.
    pub struct GetMinOffsetRequestHeader: "GetMinOffsetRequestHeader" rpc {
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
    }
}

crate::command_header! {
    /// `GetMinOffsetResponseHeader`.
    pub struct GetMinOffsetResponseHeader: "GetMinOffsetResponseHeader" {
        req offset: i64 = "offset",
    }
}

crate::command_header! {
    /// `SearchOffsetRequestHeader`.
    pub struct SearchOffsetRequestHeader: "SearchOffsetRequestHeader" rpc {
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
        /// Milliseconds since the epoch.
        req timestamp: i64 = "timestamp",
        /// `LOWER` when absent.
        opt boundary_type: BoundaryType = "boundaryType",
    }
}

crate::command_header! {
    /// `SearchOffsetResponseHeader`.
    pub struct SearchOffsetResponseHeader: "SearchOffsetResponseHeader" {
        req offset: i64 = "offset",
    }
}

crate::command_header! {
    /// `GetEarliestMsgStoretimeRequestHeader`.
    pub struct GetEarliestMsgStoretimeRequestHeader: "GetEarliestMsgStoretimeRequestHeader" rpc {
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
    }
}

crate::command_header! {
    /// `GetEarliestMsgStoretimeResponseHeader`.
    pub struct GetEarliestMsgStoretimeResponseHeader: "GetEarliestMsgStoretimeResponseHeader" {
        req timestamp: i64 = "timestamp",
    }
}
