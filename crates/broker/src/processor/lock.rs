//! LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) for orderly consumers.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use rmq_common::MessageQueue;
use rmq_remoting::body::{LockBatchRequestBody, LockBatchResponseBody, UnlockBatchRequestBody};
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use crate::context::BrokerContext;

/// The queues of `wanted` that exist on this broker: its name, a topic it has, a queue id
/// below the topic's queue count. Others cannot be consumed here, so they are never locked.
fn queues_here(ctx: &BrokerContext, wanted: BTreeSet<MessageQueue>) -> BTreeSet<MessageQueue> {
    wanted
        .into_iter()
        .filter(|mq| {
            (mq.broker_name.is_empty() || mq.broker_name == ctx.broker_name())
                && ctx
                    .topics()
                    .queue_count(&mq.topic)
                    .is_some_and(|queues| (0..queues).contains(&mq.queue_id))
        })
        .collect()
}

pub async fn lock(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let body = LockBatchRequestBody::from_json_bytes(&req.body)?;
    if body.consumer_group.is_empty() || body.client_id.is_empty() {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            "LOCK_BATCH_MQ needs a consumerGroup and a clientId",
        ));
    }
    let wanted = queues_here(&ctx, body.mq_set);
    let held = ctx.locks().try_lock_batch(
        &body.consumer_group,
        &wanted,
        &body.client_id,
        Instant::now(),
    );
    let resp = LockBatchResponseBody {
        lock_ok_mq_set: held,
    };
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(resp.to_json_bytes()),
    ))
}

pub async fn unlock(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let body = UnlockBatchRequestBody::from_json_bytes(&req.body)?;
    ctx.locks()
        .unlock_batch(&body.consumer_group, &body.mq_set, &body.client_id);
    Ok(Some(req.response_to(ResponseCode::Success)))
}
