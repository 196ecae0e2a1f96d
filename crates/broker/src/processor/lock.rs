//! LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) for orderly consumers.

use std::sync::Arc;
use std::time::Instant;

use rmq_remoting::body::{LockBatchRequestBody, LockBatchResponseBody, UnlockBatchRequestBody};
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::ProcessResult;
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use crate::context::BrokerContext;

pub async fn lock(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let body = LockBatchRequestBody::from_json_bytes(&req.body)?;
    let held = ctx.locks().try_lock_batch(
        &body.consumer_group,
        &body.mq_set,
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
