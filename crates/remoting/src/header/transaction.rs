//! END_TRANSACTION (37, producer to broker, oneway) and CHECK_TRANSACTION_STATE (39, broker to
//! producer, oneway).

crate::command_header! {
    /// `EndTransactionRequestHeader`.
    pub struct EndTransactionRequestHeader: "EndTransactionRequestHeader" rpc {
        opt topic: String = "topic",
        req producer_group: String = "producerGroup",
        /// Queue offset of the half message (from the send response).
        req tran_state_table_offset: i64 = "tranStateTableOffset",
        /// Physical offset of the half message (from the offset msgId).
        req commit_log_offset: i64 = "commitLogOffset",
        /// [`transaction_type`] value: 0 unknown, 8 commit, 12 rollback.
        req commit_or_rollback: i32 = "commitOrRollback",
        opt from_transaction_check: bool = "fromTransactionCheck",
        /// The message's UNIQ_KEY.
        req msg_id: String = "msgId",
        opt transaction_id: String = "transactionId",
    }
}

crate::command_header! {
    /// `CheckTransactionStateRequestHeader`; the body is the half message in commit-log format.
    pub struct CheckTransactionStateRequestHeader: "CheckTransactionStateRequestHeader" rpc {
        opt topic: String = "topic",
        req tran_state_table_offset: i64 = "tranStateTableOffset",
        req commit_log_offset: i64 = "commitLogOffset",
        opt msg_id: String = "msgId",
        opt transaction_id: String = "transactionId",
        opt offset_msg_id: String = "offsetMsgId",
    }
}

/// Values of [`EndTransactionRequestHeader::commit_or_rollback`] (MessageSysFlag transaction bits).
pub mod transaction_type {
    pub const NOT_TYPE: i32 = 0;
    pub const PREPARED: i32 = 0x4;
    pub const COMMIT: i32 = 0x8;
    pub const ROLLBACK: i32 = 0xC;
}
