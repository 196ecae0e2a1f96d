//! GET_BROKER_EPOCH_CACHE (1007, controller mode; Apache's `mqadmin getBrokerEpoch`): this
//! broker's epochs, each with where it ends (the last one open-ended), and its CommitLog end.

use std::sync::Arc;

use rmq_remoting::body::{EpochEntry, EpochEntryCache};
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use crate::context::BrokerContext;

pub async fn process(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let Some(epochs) = ctx.epochs() else {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            "this request only for controllerMode (enableControllerMode=false on this broker)",
        ));
    };
    let max_offset = ctx.store().commit_log_max_offset();
    let list = epochs.with_ends(i64::MAX);
    let config = ctx.config();
    let body = EpochEntryCache {
        broker_id: config.broker.broker_id,
        broker_name: ctx.broker_name().to_owned(),
        cluster_name: ctx.cluster_name().to_owned(),
        epoch_list: list
            .into_iter()
            .map(|(e, end)| EpochEntry {
                end_offset: end,
                epoch: e.epoch,
                start_offset: e.start_offset,
            })
            .collect(),
        max_offset,
    };
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(body.to_json_bytes()),
    ))
}
