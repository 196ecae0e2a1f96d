//! GET_BROKER_CONFIG (26) and UPDATE_BROKER_CONFIG (25): the broker's effective configuration,
//! and the keys an operator may change while it runs (`live_config.rs`).

use std::sync::Arc;

use rmq_common::config::parse_properties;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use super::admin::ok_with_body;
use crate::context::BrokerContext;

pub async fn get(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    ok_with_body(&req, ctx.config().render())
}

pub async fn update(
    ctx: Arc<BrokerContext>,
    rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let text = std::str::from_utf8(&req.body).map_err(|_| {
        ProcessError::response(
            ResponseCode::InvalidParameter,
            "the body must be key=value lines in UTF-8",
        )
    })?;
    let pairs = parse_properties(text);
    let changed = ctx.live_config().update(&pairs).map_err(|e| {
        tracing::warn!(caller = %rc.peer_addr(), error = %e, "broker config update refused");
        ProcessError::response(ResponseCode::InvalidParameter, e.to_string())
    })?;
    tracing::info!(caller = %rc.peer_addr(), changed = ?changed, "broker config updated until restart");
    if changed.iter().any(|k| k == "maxMessageSize") {
        // The store checks each message too; it keeps its own copy of the limit.
        ctx.store()
            .set_max_message_size(ctx.config().store.max_message_size);
    }
    if changed.iter().any(|k| k == "brokerPermission") {
        // Name servers must see the topics' new permissions: producers route by them.
        ctx.topics().touch();
        ctx.announce_new_topic().await;
    }
    Ok(Some(req.response_to(ResponseCode::Success)))
}
