//! Consumer offsets and queue offsets: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15),
//! GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), SEARCH_OFFSET_BY_TIMESTAMP (29) and
//! GET_EARLIEST_MSG_STORETIME (32).

use std::sync::Arc;

use rmq_remoting::header::{
    GetEarliestMsgStoretimeRequestHeader, GetEarliestMsgStoretimeResponseHeader,
    GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader, GetMinOffsetRequestHeader,
    GetMinOffsetResponseHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, SearchOffsetRequestHeader, SearchOffsetResponseHeader,
    UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};
use rmq_store::BoundaryType;

use crate::context::BrokerContext;

pub async fn query(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: QueryConsumerOffsetRequestHeader = req.decode_header()?;
    let offset = match ctx.offsets().query(&h.consumer_group, &h.topic, h.queue_id) {
        Some(o) => Some(o),
        None if h.set_zero_if_not_found == Some(false) => None,
        // Never committed: start at 0 only while the queue still holds its first message.
        None => (ctx.store().min_offset_in_queue(&h.topic, h.queue_id) <= 0).then_some(0),
    };
    match offset {
        Some(offset) => Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_header(&QueryConsumerOffsetResponseHeader { offset }),
        )),
        None => Err(ProcessError::response(
            ResponseCode::QueryNotFound,
            "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
        )),
    }
}

pub async fn update(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: UpdateConsumerOffsetRequestHeader = req.decode_header()?;
    if ctx.groups().get(&h.consumer_group).is_none() {
        return Err(ProcessError::response(
            ResponseCode::SubscriptionGroupNotExist,
            format!("subscription group [{}] does not exist", h.consumer_group),
        ));
    }
    let Some(queues) = ctx.topics().queue_count(&h.topic) else {
        return Err(ProcessError::response(
            ResponseCode::TopicNotExist,
            format!("topic[{}] not exist", h.topic),
        ));
    };
    // Offsets are kept per queue: a queue the topic does not have would only grow the table.
    if !(0..queues).contains(&h.queue_id) {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!(
                "queueId {} is not a queue of topic {} (it has {queues})",
                h.queue_id, h.topic
            ),
        ));
    }
    if ctx
        .offsets()
        .has_reset(&h.consumer_group, &h.topic, h.queue_id)
    {
        // The consumer still reports its position from before an operator's reset; it learns
        // the reset at its next pull of the queue.
        return Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_remark("Offset has been previously reset"),
        ));
    }
    ctx.offsets()
        .commit(&h.consumer_group, &h.topic, h.queue_id, h.commit_offset);
    Ok(Some(req.response_to(ResponseCode::Success)))
}

pub async fn max(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetMaxOffsetRequestHeader = req.decode_header()?;
    let offset = ctx.store().max_offset_in_queue(&h.topic, h.queue_id);
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_header(&GetMaxOffsetResponseHeader { offset }),
    ))
}

pub async fn min(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetMinOffsetRequestHeader = req.decode_header()?;
    let offset = ctx.store().min_offset_in_queue(&h.topic, h.queue_id);
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_header(&GetMinOffsetResponseHeader { offset }),
    ))
}

pub async fn search_by_time(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: SearchOffsetRequestHeader = req.decode_header()?;
    let boundary = match h.boundary_type {
        Some(rmq_remoting::header::BoundaryType::Upper) => BoundaryType::Upper,
        _ => BoundaryType::Lower,
    };
    let offset = ctx
        .store()
        .offset_by_time(&h.topic, h.queue_id, h.timestamp, boundary);
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_header(&SearchOffsetResponseHeader { offset }),
    ))
}

pub async fn earliest_time(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetEarliestMsgStoretimeRequestHeader = req.decode_header()?;
    match ctx.store().earliest_message_time(&h.topic, h.queue_id) {
        Some(timestamp) => Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_header(&GetEarliestMsgStoretimeResponseHeader { timestamp }),
        )),
        None => Err(ProcessError::response(
            ResponseCode::SystemError,
            format!(
                "no message in topic {} queue {}, so no earliest store time",
                h.topic, h.queue_id
            ),
        )),
    }
}
