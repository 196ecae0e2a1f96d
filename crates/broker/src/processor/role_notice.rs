//! NOTIFY_BROKER_ROLE_CHANGED (1008, oneway, controller mode): a controller elected a new
//! master of this broker's group. The broker asks the controllers for its role at once (the
//! notice's fields are what GET_REPLICA_INFO answers; one path applies both).

use std::sync::Arc;

use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use crate::context::BrokerContext;

pub async fn process(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    if !ctx.config().controller.enable_controller_mode {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            "this broker is not in controller mode (enableControllerMode=false)",
        ));
    }
    ctx.role_changed();
    if req.is_oneway() {
        return Ok(None);
    }
    Ok(Some(req.response_to(ResponseCode::Success)))
}
