//! Which message properties are RocketMQ's own, for the 5.x clients: a sender may not set the
//! reserved ones as user properties, and a receiver sees none of the system ones among its user
//! properties. A leaf: SendMessage and the message view both read it.

use rmq_common::message::keys;

/// Property keys the broker and clients own; an application may not set them.
pub const RESERVED: &[&str] = &[
    keys::KEYS,
    keys::TAGS,
    keys::WAIT,
    keys::DELAY,
    keys::RETRY_TOPIC,
    keys::REAL_TOPIC,
    keys::REAL_QID,
    keys::TRAN_MSG,
    keys::PGROUP,
    keys::MIN_OFFSET,
    keys::MAX_OFFSET,
    keys::UNIQ_KEY,
    keys::MAX_RECONSUME_TIMES,
    keys::RECONSUME_TIME,
    keys::TRANSACTION_ID,
    keys::CLUSTER,
    keys::SHARDING_KEY,
    keys::TIMER_DELIVER_MS,
    keys::TIMER_DELAY_SEC,
    keys::TIMER_DELAY_MS,
];

/// Further keys the broker, the remoting clients or the store write, shown to no receiver as
/// user properties.
const BROKER_WRITTEN: &[&str] = &[
    keys::BUYER_ID,
    keys::ORIGIN_MESSAGE_ID,
    keys::TRANSFER_FLAG,
    keys::CORRECTION_FLAG,
    keys::MQ2_FLAG,
    keys::MSG_REGION,
    keys::TRACE_SWITCH,
    keys::CONSUME_START_TIMESTAMP,
    keys::TRANSACTION_PREPARED_QUEUE_OFFSET,
    keys::TRANSACTION_CHECK_TIMES,
    keys::CHECK_IMMUNITY_TIME_IN_SECONDS,
    keys::DLQ_ORIGIN_TOPIC,
    keys::DLQ_ORIGIN_MESSAGE_ID,
    keys::CRC32,
    "POP_CK",
    "1ST_POP_TIME",
    "TRACE_CONTEXT",
    "BORN_HOST",
];

/// Whether `key` is a system property (not shown to a receiver as the user's).
pub fn is_system_key(key: &str) -> bool {
    RESERVED.contains(&key) || BROKER_WRITTEN.contains(&key)
}
