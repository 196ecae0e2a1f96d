//! Transactional messages (two-phase "half" messages).
//!
//! A prepared message is stored in `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, invisible to consumers,
//! with its real topic and queue in properties. END_TRANSACTION commits it (the real message is
//! stored) or rolls it back; either way an "op" record naming the half offset goes to
//! `RMQ_SYS_TRANS_OP_HALF_TOPIC`. The check service walks the half queue in order every
//! `transactionCheckInterval`: half messages with an op record are done; those older than
//! `transactionTimeOut` are re-appended with one more check count and their producer group is
//! asked (CHECK_TRANSACTION_STATE); after `transactionCheckMax` checks a message is parked in
//! `TRANS_CHECK_MAX_TIME_TOPIC`. The scan position is stored as the consumer offset of the
//! internal group `CID_RMQ_SYS_TRANS`, so it survives restarts.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use rmq_common::message::{decode_properties, encode_properties, keys, Properties};
use rmq_common::record::{encode_record, peek_record, Peek, RecordFields, RecordView};
use rmq_common::sysflag::message as msg_flag;
use rmq_common::time::now_millis;
use rmq_common::topic::{RMQ_SYS_TRANS_HALF_TOPIC, RMQ_SYS_TRANS_OP_HALF_TOPIC};
use rmq_remoting::header::CheckTransactionStateRequestHeader;
use rmq_remoting::{RemotingCommand, RequestCode};
use rmq_store::{AcceptAll, PutMessage, PutMessageResult};

use crate::context::BrokerContext;

/// Internal group whose offset on the half topic is the check service's progress.
pub const CHECK_GROUP: &str = "CID_RMQ_SYS_TRANS";
/// Where messages go after `transactionCheckMax` unanswered checks.
pub const CHECK_MAX_TIME_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";
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

/// Half offsets that have an op record, and how far the op queue has been read.
#[derive(Default)]
pub struct OpLog {
    inner: Mutex<OpLogInner>,
}

#[derive(Default)]
struct OpLogInner {
    read_offset: i64,
    done: BTreeSet<i64>,
}

impl OpLog {
    /// Reads op records appended since the last call.
    fn catch_up(&self, ctx: &BrokerContext) {
        let mut inner = self.inner.lock();
        loop {
            let got = ctx.store.get_message(
                RMQ_SYS_TRANS_OP_HALF_TOPIC,
                0,
                inner.read_offset,
                64,
                i32::MAX,
                &AcceptAll,
            );
            if got.messages.is_empty() {
                if got.next_begin_offset > inner.read_offset {
                    inner.read_offset = got.next_begin_offset;
                    continue;
                }
                return;
            }
            for (rec, off) in got.messages.iter().zip(&got.queue_offsets) {
                if let Ok(Peek::Record(v)) = peek_record(rec, false) {
                    let text = String::from_utf8_lossy(v.body());
                    inner
                        .done
                        .extend(text.split(',').filter_map(|s| s.trim().parse::<i64>().ok()));
                }
                inner.read_offset = off + 1;
            }
        }
    }

    fn is_done(&self, half_offset: i64) -> bool {
        self.inner.lock().done.contains(&half_offset)
    }

    fn mark(&self, half_offset: i64) {
        self.inner.lock().done.insert(half_offset);
    }

    /// Forgets op entries below the scan position (they can never be asked about again).
    fn prune_below(&self, offset: i64) {
        let mut inner = self.inner.lock();
        inner.done = inner.done.split_off(&offset);
    }
}

/// Writes the op record that closes a half message.
pub async fn write_op(ctx: &BrokerContext, half_queue_offset: i64) -> PutMessageResult {
    let mut props = Properties::new();
    props.insert(keys::TAGS.into(), OP_TAG.into());
    props.insert(keys::WAIT.into(), "false".into());
    let mut msg = PutMessage::new(
        RMQ_SYS_TRANS_OP_HALF_TOPIC,
        0,
        Bytes::from(half_queue_offset.to_string()),
    );
    msg.properties = encode_properties(&props);
    msg.store_host = ctx.store_host;
    msg.born_host = ctx.store_host;
    let r = ctx.store.put_message(msg).await;
    if r.status.is_stored() {
        ctx.op_log.mark(half_queue_offset);
    }
    r
}

/// The real message a committed half message becomes.
pub fn committed_message(ctx: &BrokerContext, half: &RecordView<'_>) -> PutMessage {
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
        store_host: ctx.store_host,
        reconsume_times: half.reconsume_times,
        prepared_transaction_offset: half.physical_offset,
    }
}

/// Starts the check service (masters only).
pub fn start(ctx: &Arc<BrokerContext>) {
    let c = ctx.clone();
    ctx.tasks.spawn(async move {
        let every = Duration::from_millis(c.config.broker.transaction_check_interval.max(100));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = c.shutdown.cancelled() => return,
            }
            check_once(&c).await;
        }
    });
}

/// One pass over the half queue.
pub async fn check_once(ctx: &Arc<BrokerContext>) {
    ctx.op_log.catch_up(ctx);
    let half_topic = RMQ_SYS_TRANS_HALF_TOPIC;
    let min = ctx.store.min_offset_in_queue(half_topic, 0);
    let mut offset = ctx
        .offsets
        .query(CHECK_GROUP, half_topic, 0)
        .unwrap_or(0)
        .max(min);
    let end = ctx.store.max_offset_in_queue(half_topic, 0);
    let timeout_ms = ctx.config.broker.transaction_time_out as i64;
    let check_max = ctx.config.broker.transaction_check_max;
    let started = now_millis();
    'scan: while offset < end && now_millis() - started < 60_000 {
        let got = ctx
            .store
            .get_message(half_topic, 0, offset, 32, i32::MAX, &AcceptAll);
        if got.messages.is_empty() {
            if got.next_begin_offset > offset {
                offset = got.next_begin_offset;
                continue;
            }
            break;
        }
        for (rec, &half_offset) in got.messages.iter().zip(&got.queue_offsets) {
            if half_offset >= end {
                break 'scan;
            }
            if ctx.op_log.is_done(half_offset) {
                offset = half_offset + 1;
                continue;
            }
            let Ok(Peek::Record(half)) = peek_record(rec, false) else {
                offset = half_offset + 1;
                continue;
            };
            let props = decode_properties(half.properties);
            let immunity_ms = props
                .get(keys::CHECK_IMMUNITY_TIME_IN_SECONDS)
                .and_then(|s| s.parse::<i64>().ok())
                .map_or(timeout_ms, |s| (s * 1000).max(timeout_ms));
            if now_millis() - half.born_timestamp.max(half.store_timestamp) < immunity_ms
                && !props.contains_key(keys::TRANSACTION_CHECK_TIMES)
            {
                break 'scan; // younger messages follow
            }
            let times: i32 = props
                .get(keys::TRANSACTION_CHECK_TIMES)
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            if times >= check_max {
                park_unresolved(ctx, &half, half_offset).await;
            } else if let Err(e) = recheck(ctx, &half, props, times + 1).await {
                tracing::warn!(error = %e, "transaction check failed; will retry next round");
                break 'scan;
            }
            offset = half_offset + 1;
        }
    }
    ctx.offsets.commit(CHECK_GROUP, half_topic, 0, offset);
    ctx.op_log.prune_below(offset);
}

/// Re-appends the half message with one more check count and asks its producer group.
async fn recheck(
    ctx: &BrokerContext,
    half: &RecordView<'_>,
    mut props: Properties,
    times: i32,
) -> Result<(), String> {
    props.insert(keys::TRANSACTION_CHECK_TIMES.into(), times.to_string());
    let again = PutMessage {
        topic: RMQ_SYS_TRANS_HALF_TOPIC.into(),
        queue_id: 0,
        flag: half.flag,
        body: Bytes::copy_from_slice(half.body()),
        properties: encode_properties(&props),
        sys_flag: half.sys_flag,
        born_timestamp: half.born_timestamp,
        born_host: half.born_host,
        store_host: ctx.store_host,
        reconsume_times: half.reconsume_times,
        prepared_transaction_offset: 0,
    };
    let r = ctx.store.put_message(again).await;
    let Some(a) = r.append.filter(|_| r.status.is_stored()) else {
        return Err(r
            .error
            .map_or_else(|| r.status.as_str().to_owned(), |e| e.to_string()));
    };
    let Some(group) = props.get(keys::PGROUP) else {
        return Ok(());
    };
    let Some(channel) = ctx.producers.any_channel(group) else {
        tracing::debug!(group = %group, "no live producer to check a transaction with");
        return Ok(());
    };
    // The producer sees the message under its real topic.
    let real_topic = props.get(keys::REAL_TOPIC).cloned().unwrap_or_default();
    let uniq = props.get(keys::UNIQ_KEY).cloned();
    let body_props = encode_properties(&props);
    let mut body = bytes::BytesMut::new();
    encode_record(
        &RecordFields {
            topic: &real_topic,
            queue_id: props
                .get(keys::REAL_QID)
                .and_then(|q| q.parse().ok())
                .unwrap_or(0),
            flag: half.flag,
            queue_offset: a.logics_offset,
            physical_offset: a.wrote_offset,
            sys_flag: half.sys_flag,
            born_timestamp: half.born_timestamp,
            born_host: half.born_host,
            store_timestamp: a.store_timestamp,
            store_host: ctx.store_host,
            reconsume_times: half.reconsume_times,
            prepared_transaction_offset: 0,
            body: half.body(),
            properties: &body_props,
        },
        &mut body,
    )
    .map_err(|e| e.to_string())?;
    let header = CheckTransactionStateRequestHeader {
        topic: Some(real_topic),
        tran_state_table_offset: a.logics_offset,
        commit_log_offset: a.wrote_offset,
        msg_id: uniq.clone(),
        transaction_id: uniq,
        offset_msg_id: Some(a.msg_id.clone()),
        rpc: rmq_remoting::header::RpcFields {
            bname: Some(ctx.broker_name().to_owned()),
            ..Default::default()
        },
    };
    let cmd = RemotingCommand::request(RequestCode::CheckTransactionState, &header)
        .with_body(body.freeze());
    if let Err(e) = channel.handle.send_oneway(cmd).await {
        tracing::debug!(error = %e, "could not send a transaction check");
    }
    Ok(())
}

async fn park_unresolved(ctx: &BrokerContext, half: &RecordView<'_>, half_offset: i64) {
    let msg = PutMessage {
        topic: CHECK_MAX_TIME_TOPIC.into(),
        queue_id: 0,
        flag: half.flag,
        body: Bytes::copy_from_slice(half.body()),
        properties: half.properties.to_owned(),
        sys_flag: half.sys_flag,
        born_timestamp: half.born_timestamp,
        born_host: half.born_host,
        store_host: ctx.store_host,
        reconsume_times: half.reconsume_times,
        prepared_transaction_offset: 0,
    };
    let _ = ctx.ensure_topic(
        CHECK_MAX_TIME_TOPIC,
        1,
        rmq_common::perm::READ | rmq_common::perm::WRITE,
    );
    let r = ctx.store.put_message(msg).await;
    if r.status.is_stored() {
        tracing::warn!(
            half_offset,
            "transaction was never resolved by its producer; parked in TRANS_CHECK_MAX_TIME_TOPIC"
        );
        write_op(ctx, half_offset).await;
    }
}
