//! CONSUMER_SEND_MSG_BACK (36): a consumer failed a message; store it again in the group's
//! `%RETRY%` topic with a delay level (`3 + reconsumeTimes` when the client leaves it 0), or in
//! the group's `%DLQ%` topic once it has been retried `maxReconsumeTimes` times.

use std::sync::Arc;

use rand::Rng;
use rmq_common::message::{decode_properties, encode_properties, keys};
use rmq_common::record::{peek_record, Peek};
use rmq_common::{perm, topic};
use rmq_remoting::header::ConsumerSendMsgBackRequestHeader;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};
use rmq_store::PutMessage;

use crate::context::BrokerContext;
use crate::schedule::divert_delayed;

/// `MQVersion.Version.V3_4_9`: from this client version on the header's maxReconsumeTimes counts.
const V3_4_9: i32 = 91;

pub async fn process(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: ConsumerSendMsgBackRequestHeader = req.decode_header()?;
    if ctx.is_slave() {
        return Err(ProcessError::response(
            ResponseCode::SystemBusy,
            "[REJECTREQUEST]a SLAVE does not accept send-back; send it to the master",
        ));
    }
    let group = ctx.groups().get(&h.group).ok_or_else(|| {
        ProcessError::response(
            ResponseCode::SubscriptionGroupNotExist,
            format!("subscription group not exist, {}", h.group),
        )
    })?;
    if group.retry_queue_nums <= 0 {
        return Ok(Some(req.response_to(ResponseCode::Success)));
    }
    let rec = ctx
        .store()
        .look_message_by_offset(h.offset)
        .ok_or_else(|| {
            ProcessError::response(
                ResponseCode::SystemError,
                format!("look message by offset failed, {}", h.offset),
            )
        })?;
    let Ok(Peek::Record(old)) = peek_record(&rec, false) else {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            format!("the message at offset {} is unreadable", h.offset),
        ));
    };
    let mut props = decode_properties(old.properties);
    props
        .entry(keys::RETRY_TOPIC.into())
        .or_insert_with(|| old.topic.to_owned());
    let max_reconsume = match h.max_reconsume_times {
        Some(m) if req.version >= V3_4_9 => m,
        _ => group.retry_max_times,
    };
    let perm_rw = perm::READ | perm::WRITE;
    let (target, queue_id) = if old.reconsume_times >= max_reconsume || h.delay_level < 0 {
        let dlq = topic::dlq_topic(&h.group);
        ctx.ensure_topic_announced(&dlq, 1, perm_rw).await?;
        props.remove(keys::DELAY);
        tracing::info!(group = %h.group, topic = %old.topic, reconsume = old.reconsume_times, "message moved to the dead letter queue");
        (dlq, 0)
    } else {
        let retry = topic::retry_topic(&h.group);
        ctx.ensure_topic_announced(&retry, group.retry_queue_nums, perm_rw)
            .await?;
        let level = if h.delay_level == 0 {
            3 + old.reconsume_times
        } else {
            h.delay_level
        };
        props.insert(keys::DELAY.into(), level.to_string());
        let q = rand::thread_rng().gen_range(0..group.retry_queue_nums);
        (retry, q)
    };
    let origin = props
        .get(keys::ORIGIN_MESSAGE_ID)
        .cloned()
        .or_else(|| h.origin_msg_id.clone())
        .or_else(|| props.get(keys::UNIQ_KEY).cloned())
        .unwrap_or_else(|| {
            rmq_common::msg_id::create_offset_msg_id(old.store_host, old.physical_offset)
        });
    props.insert(keys::ORIGIN_MESSAGE_ID.into(), origin);
    props.insert(keys::WAIT.into(), "false".into());
    let (topic, queue_id) =
        divert_delayed(&mut props, target, queue_id, ctx.delay_levels().max_level());
    let mut msg = PutMessage::again(
        &old,
        topic,
        queue_id,
        encode_properties(&props),
        ctx.store_host(),
    );
    msg.reconsume_times = old.reconsume_times + 1;
    msg.prepared_transaction_offset = 0;
    let r = ctx.store().put_message(msg).await;
    if r.status.is_stored() {
        Ok(Some(req.response_to(ResponseCode::Success)))
    } else {
        Err(ProcessError::response(
            ResponseCode::SystemError,
            r.reason(),
        ))
    }
}
