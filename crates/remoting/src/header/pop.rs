//! POP consumption headers (5.x): POP_MESSAGE (200050), ACK_MESSAGE (200051),
//! CHANGE_MESSAGE_INVISIBLETIME (200053), NOTIFICATION (200054) and POLLING_INFO (200055). `extraInfo` is the message's receipt handle as the
//! client builds it from the POP response (`ExtraInfoUtil`).

crate::command_header! {
    /// `PopMessageRequestHeader`.
    pub struct PopMessageRequestHeader: "PopMessageRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        req topic: String = "topic",
        /// -1: every queue of the topic on this broker.
        req queue_id: i32 = "queueId",
        req max_msg_nums: i32 = "maxMsgNums",
        req invisible_time: i64 = "invisibleTime",
        /// How long to wait for messages, ms.
        req poll_time: i64 = "pollTime",
        req born_time: i64 = "bornTime",
        /// 0: from the end of a queue new to the group (`ConsumeInitMode.MAX`), 1: from its start.
        req init_mode: i32 = "initMode",
        opt exp_type: String = "expType",
        opt exp: String = "exp",
        opt order: bool = "order",
        opt attempt_id: String = "attemptId",
    }
}

crate::command_header! {
    /// `PopMessageResponseHeader`.
    pub struct PopMessageResponseHeader: "PopMessageResponseHeader" {
        req pop_time: i64 = "popTime",
        req invisible_time: i64 = "invisibleTime",
        req revive_qid: i32 = "reviveQid",
        /// Messages left in the queues popped.
        req rest_num: i64 = "restNum",
        /// `retryFlag queueId startOffset` per queue, `;`-separated.
        opt start_offset_info: String = "startOffsetInfo",
        /// `retryFlag queueId offset,offset,...` per queue, `;`-separated.
        opt msg_offset_info: String = "msgOffsetInfo",
        /// `retryFlag qo{queueId}%{offset} count` per message of a FIFO pop, `;`-separated.
        opt order_count_info: String = "orderCountInfo",
    }
}

crate::command_header! {
    /// `AckMessageRequestHeader`.
    pub struct AckMessageRequestHeader: "AckMessageRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
        req extra_info: String = "extraInfo",
        req offset: i64 = "offset",
    }
}

crate::command_header! {
    /// `ChangeInvisibleTimeRequestHeader`.
    pub struct ChangeInvisibleTimeRequestHeader: "ChangeInvisibleTimeRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
        req extra_info: String = "extraInfo",
        req offset: i64 = "offset",
        req invisible_time: i64 = "invisibleTime",
    }
}

crate::command_header! {
    /// `ChangeInvisibleTimeResponseHeader`.
    pub struct ChangeInvisibleTimeResponseHeader: "ChangeInvisibleTimeResponseHeader" {
        req pop_time: i64 = "popTime",
        req invisible_time: i64 = "invisibleTime",
        req revive_qid: i32 = "reviveQid",
    }
}

crate::command_header! {
    /// `NotificationRequestHeader`: does the group have messages to pop (waiting `pollTime`)?
    pub struct NotificationRequestHeader: "NotificationRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        req topic: String = "topic",
        /// -1: any queue of the topic on this broker.
        req queue_id: i32 = "queueId",
        req poll_time: i64 = "pollTime",
        req born_time: i64 = "bornTime",
        opt order: bool = "order",
        opt attempt_id: String = "attemptId",
    }
}

crate::command_header! {
    /// `NotificationResponseHeader`.
    pub struct NotificationResponseHeader: "NotificationResponseHeader" {
        req has_msg: bool = "hasMsg",
        /// The broker holds as many waiting requests as it may: answered without waiting.
        req polling_full: bool = "pollingFull",
    }
}

crate::command_header! {
    /// `PollingInfoRequestHeader`: how many receives of the group wait on the queue.
    pub struct PollingInfoRequestHeader: "PollingInfoRequestHeader" rpc {
        req consumer_group: String = "consumerGroup",
        req topic: String = "topic",
        req queue_id: i32 = "queueId",
    }
}

crate::command_header! {
    /// `PollingInfoResponseHeader`.
    pub struct PollingInfoResponseHeader: "PollingInfoResponseHeader" {
        req polling_num: i32 = "pollingNum",
    }
}
