//! INVOKE_BROKER_TO_RESET_OFFSET (222): an operator moves a consumer group's offsets on one
//! topic to a point in time (`mqadmin resetOffsetByTime`), or one queue to an offset.
//!
//! Two ways, chosen by `useServerSideResetOffset`, as in Apache:
//! - `true` (default, 5.x): the broker commits the new offsets and answers each queue's next
//!   pull with PULL_OFFSET_MOVED to them; consumers need not be online, and any client version
//!   follows.
//! - `false` (4.x): the broker sends RESET_CONSUMER_CLIENT_OFFSET (220) to every online member
//!   of the group, which moves itself; with nobody online it answers CONSUMER_NOT_ONLINE
//!   (Apache's admin tools then fall back to committing the offsets directly).
//!
//! Bodies keyed by `MessageQueue` go out in fastjson's shape (object keys inline): Java's
//! fastjson2 (5.x clients) refuses them as quoted JSON text.

use std::collections::BTreeMap;
use std::sync::Arc;

use rmq_common::MessageQueue;
use rmq_remoting::body::{JsonBody, ResetOffsetBody};
use rmq_remoting::header::ResetOffsetRequestHeader;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestCode, RequestContext, ResponseCode};
use rmq_store::BoundaryType;

use crate::context::BrokerContext;

pub async fn process(
    ctx: Arc<BrokerContext>,
    rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: ResetOffsetRequestHeader = req.decode_header()?;
    tracing::info!(caller = %rc.peer_addr(), topic = %h.topic, group = %h.group, timestamp = h.timestamp, force = h.is_force, queue = ?h.queue_id, offset = ?h.offset, "reset offset");
    if ctx.is_slave() {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            "can not reset offset in a slave broker; ask its master",
        ));
    }
    let topic = ctx.topics().get(&h.topic).ok_or_else(|| {
        ProcessError::response(
            ResponseCode::TopicNotExist,
            format!(
                "[reset-offset] reset offset failed, no topic in this broker. topic={}",
                h.topic
            ),
        )
    })?;
    let server_side = ctx.config().broker.use_server_side_reset_offset;
    let table = if server_side {
        reset_on_broker(&ctx, &h, topic.read_queue_nums)?
    } else {
        targets(&ctx, &h, topic.write_queue_nums, h.is_force)?
    };
    let body = ResetOffsetBody {
        offset_table: table
            .into_iter()
            .map(|(q, o)| (MessageQueue::new(&h.topic, ctx.broker_name(), q), o))
            .collect(),
    };
    if !server_side {
        tell_consumers(&ctx, &h, &body).await?;
    }
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(body.to_fastjson_bytes()),
    ))
}

/// The offset of the first message stored at or after `timestamp`; -1 means the queue's end.
fn offset_at(ctx: &BrokerContext, topic: &str, queue: i32, timestamp: i64) -> i64 {
    let store = ctx.store();
    if timestamp == -1 {
        store.max_offset_in_queue(topic, queue)
    } else {
        store
            .offset_by_time(topic, queue, timestamp, BoundaryType::Lower)
            .max(0)
    }
}

/// 5.x: commit the new offsets and hold them for each queue's next pull.
fn reset_on_broker(
    ctx: &BrokerContext,
    h: &ResetOffsetRequestHeader,
    queues: i32,
) -> Result<BTreeMap<i32, i64>, ProcessError> {
    if ctx.groups().get(&h.group).is_none() {
        return Err(ProcessError::response(
            ResponseCode::SubscriptionGroupNotExist,
            format!("Group {} does not exist", h.group),
        ));
    }
    let mut table = BTreeMap::new();
    match h.queue_id.filter(|q| *q >= 0) {
        Some(q) => {
            let offset = match h.offset.filter(|o| *o != -1) {
                Some(o) => {
                    let store = ctx.store();
                    let (min, max) = (
                        store.min_offset_in_queue(&h.topic, q),
                        store.max_offset_in_queue(&h.topic, q),
                    );
                    if o < min || o > max {
                        return Err(ProcessError::response(
                            ResponseCode::SystemError,
                            format!("Target offset {o} not in consume queue range [{min}-{max}]"),
                        ));
                    }
                    o
                }
                None => offset_at(ctx, &h.topic, q, h.timestamp),
            };
            table.insert(q, offset);
        }
        None => {
            for q in 0..queues {
                table.insert(q, offset_at(ctx, &h.topic, q, h.timestamp));
            }
        }
    }
    for (q, o) in &table {
        ctx.offsets().assign_reset(&h.group, &h.topic, *q, *o);
        // A pull held on the queue answers now rather than when its long poll ends.
        ctx.arrivals().on_arrival(&h.topic, *q);
    }
    Ok(table)
}

/// 4.x: the offsets to move to; without `force` a queue only moves back.
fn targets(
    ctx: &BrokerContext,
    h: &ResetOffsetRequestHeader,
    queues: i32,
    force: bool,
) -> Result<BTreeMap<i32, i64>, ProcessError> {
    let mut table = BTreeMap::new();
    for q in 0..queues {
        let Some(current) = ctx.offsets().query(&h.group, &h.topic, q) else {
            return Err(ProcessError::response(
                ResponseCode::SystemError,
                format!("THe consumer group <{}> not exist", h.group),
            ));
        };
        let target = offset_at(ctx, &h.topic, q, h.timestamp);
        table.insert(
            q,
            if force || target < current {
                target
            } else {
                current
            },
        );
    }
    Ok(table)
}

/// 4.x: RESET_CONSUMER_CLIENT_OFFSET to every online member of the group.
async fn tell_consumers(
    ctx: &BrokerContext,
    h: &ResetOffsetRequestHeader,
    body: &ResetOffsetBody,
) -> Result<(), ProcessError> {
    let members = ctx.consumers().handles(&h.group);
    if members.is_empty() {
        return Err(ProcessError::response(
            ResponseCode::ConsumerNotOnline,
            format!(
                "Consumer not online, so can not reset offset, Group: {} Topic: {} Timestamp: {}",
                h.group, h.topic, h.timestamp
            ),
        ));
    }
    let header = ResetOffsetRequestHeader {
        topic: h.topic.clone(),
        group: h.group.clone(),
        queue_id: None,
        offset: None,
        timestamp: h.timestamp,
        is_force: h.is_force,
        rpc: Default::default(),
    };
    let request = RemotingCommand::request(RequestCode::ResetConsumerClientOffset, &header)
        .with_body(body.to_fastjson_bytes());
    for m in members {
        if let Err(e) = m.send_oneway(request.clone()).await {
            tracing::warn!(group = %h.group, peer = %m.peer_addr(), error = %e, "[reset-offset] could not tell a consumer");
        }
    }
    Ok(())
}
