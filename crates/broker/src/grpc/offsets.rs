//! UpdateOffset, GetOffset and QueryOffset: the committed offsets of a group (the same table
//! remoting consumers commit to and `mqadmin consumerProgress` shows) and the positions in a
//! queue, for clients that pull by offset.

use rmq_proto::v2::{
    Code, GetOffsetRequest, GetOffsetResponse, QueryOffsetPolicy, QueryOffsetRequest,
    QueryOffsetResponse, Status, UpdateOffsetRequest, UpdateOffsetResponse,
};
use rmq_store::BoundaryType;

use super::metadata::Caller;
use super::queue_ref::{group_name, QueueRef};
use super::status::{ok, status};
use crate::context::BrokerContext;

pub fn update_offset(
    ctx: &BrokerContext,
    caller: &Caller,
    req: &UpdateOffsetRequest,
) -> UpdateOffsetResponse {
    let result = (|| {
        let group = group_name(caller, req.group.as_ref())?;
        let q = QueueRef::parse(ctx, caller, req.message_queue.as_ref())?;
        if ctx.groups().get(&group).is_none() {
            return Err(status(
                Code::ConsumerGroupNotFound,
                format!("consumer group {group} does not exist"),
            ));
        }
        if req.offset < 0 {
            return Err(status(
                Code::IllegalOffset,
                format!("offset {} is negative", req.offset),
            ));
        }
        if ctx.offsets().has_reset(&group, &q.topic, q.queue_id) {
            // An operator's reset wins over a position the client reports from before it.
            return Ok(status(
                Code::Ok,
                "the offset was reset by an operator; kept the reset",
            ));
        }
        ctx.offsets()
            .commit(&group, &q.topic, q.queue_id, req.offset);
        Ok(ok())
    })();
    UpdateOffsetResponse {
        status: Some(result.unwrap_or_else(|s| s)),
    }
}

pub fn get_offset(
    ctx: &BrokerContext,
    caller: &Caller,
    req: &GetOffsetRequest,
) -> GetOffsetResponse {
    let result = (|| -> Result<i64, Status> {
        let group = group_name(caller, req.group.as_ref())?;
        let q = QueueRef::parse(ctx, caller, req.message_queue.as_ref())?;
        ctx.offsets()
            .query(&group, &q.topic, q.queue_id)
            .ok_or_else(|| {
                status(
                    Code::OffsetNotFound,
                    format!(
                        "group {group} has no committed offset for queue {} of topic {}; start from QueryOffset",
                        q.queue_id, q.topic
                    ),
                )
            })
    })();
    match result {
        Ok(offset) => GetOffsetResponse {
            status: Some(ok()),
            offset,
        },
        Err(s) => GetOffsetResponse {
            status: Some(s),
            offset: 0,
        },
    }
}

pub fn query_offset(
    ctx: &BrokerContext,
    caller: &Caller,
    req: &QueryOffsetRequest,
) -> QueryOffsetResponse {
    let result = (|| -> Result<i64, Status> {
        let q = QueueRef::parse(ctx, caller, req.message_queue.as_ref())?;
        let store = ctx.store();
        match QueryOffsetPolicy::try_from(req.query_offset_policy) {
            Ok(QueryOffsetPolicy::Beginning) => Ok(store.min_offset_in_queue(&q.topic, q.queue_id)),
            Ok(QueryOffsetPolicy::End) => Ok(store.max_offset_in_queue(&q.topic, q.queue_id)),
            Ok(QueryOffsetPolicy::Timestamp) => {
                let Some(t) = req.timestamp.as_ref() else {
                    return Err(status(
                        Code::BadRequest,
                        "the TIMESTAMP policy needs a timestamp",
                    ));
                };
                let ms = t
                    .seconds
                    .saturating_mul(1000)
                    .saturating_add(i64::from(t.nanos) / 1_000_000);
                Ok(store.offset_by_time(&q.topic, q.queue_id, ms, BoundaryType::Lower))
            }
            Err(_) => Err(status(
                Code::BadRequest,
                format!("unknown query offset policy {}", req.query_offset_policy),
            )),
        }
    })();
    match result {
        Ok(offset) => QueryOffsetResponse {
            status: Some(ok()),
            offset,
        },
        Err(s) => QueryOffsetResponse {
            status: Some(s),
            offset: 0,
        },
    }
}
