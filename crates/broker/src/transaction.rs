//! Transactional messages (two-phase "half" messages), the parts the request path uses.
//!
//! A prepared message is stored in `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, invisible to consumers,
//! with its real topic and queue in properties. END_TRANSACTION commits it (the real message is
//! stored) or rolls it back; either way an "op" record naming the half offset goes to
//! `RMQ_SYS_TRANS_OP_HALF_TOPIC`. Half messages nobody resolves are asked about by the check
//! service in `transaction_check.rs`.

use std::net::SocketAddr;

use bytes::Bytes;
use rmq_common::message::{decode_properties, encode_properties, keys, Properties};
use rmq_common::record::RecordView;
use rmq_common::sysflag::message as msg_flag;
use rmq_common::topic::{RMQ_SYS_TRANS_HALF_TOPIC, RMQ_SYS_TRANS_OP_HALF_TOPIC};
use rmq_store::{MessageStore, PutMessage, PutMessageResult};

use crate::op_log::OpLog;

/// Tag of op records (`REMOVE_TAG`).
const OP_TAG: &str = "d";

/// Rewrites a prepared message for the half topic; returns the (topic, queue) to store under.
pub fn divert_half(props: &mut Properties, topic: String, queue_id: i32) -> (String, i32) {
    if let Some(uniq) = props.get(keys::UNIQ_KEY).cloned() {
        props.insert(keys::TRANSACTION_ID.into(), uniq);
    }
    props.remove(keys::DELAY);
    props.insert(keys::REAL_TOPIC.into(), topic);
    props.insert(keys::REAL_QID.into(), queue_id.to_string());
    (RMQ_SYS_TRANS_HALF_TOPIC.to_owned(), 0)
}

/// Writes the op record that closes a half message.
pub async fn write_op(
    store: &MessageStore,
    op_log: &OpLog,
    store_host: SocketAddr,
    half_queue_offset: i64,
) -> PutMessageResult {
    let mut props = Properties::new();
    props.insert(keys::TAGS.into(), OP_TAG.into());
    props.insert(keys::WAIT.into(), "false".into());
    let mut msg = PutMessage::new(
        RMQ_SYS_TRANS_OP_HALF_TOPIC,
        0,
        Bytes::from(half_queue_offset.to_string()),
    );
    msg.properties = encode_properties(&props);
    msg.store_host = store_host;
    msg.born_host = store_host;
    let r = store.put_message(msg).await;
    if r.status.is_stored() {
        op_log.mark(half_queue_offset);
    }
    r
}

/// The real message a committed half message becomes.
pub fn committed_message(store_host: SocketAddr, half: &RecordView<'_>) -> PutMessage {
    let mut props = decode_properties(half.properties);
    let topic = props.remove(keys::REAL_TOPIC).unwrap_or_default();
    let queue_id = props
        .remove(keys::REAL_QID)
        .and_then(|q| q.parse().ok())
        .unwrap_or(0);
    props.remove(keys::TRAN_MSG);
    props.remove(keys::TRANSACTION_CHECK_TIMES);
    PutMessage {
        topic,
        queue_id,
        flag: half.flag,
        body: Bytes::copy_from_slice(half.body()),
        properties: encode_properties(&props),
        sys_flag: msg_flag::reset_transaction_value(
            half.sys_flag,
            msg_flag::TRANSACTION_COMMIT_TYPE,
        ),
        born_timestamp: half.born_timestamp,
        born_host: half.born_host,
        store_host,
        reconsume_times: half.reconsume_times,
        prepared_transaction_offset: half.physical_offset,
    }
}
