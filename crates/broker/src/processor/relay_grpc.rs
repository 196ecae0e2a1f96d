//! GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309) for a consumer connected
//! over gRPC: the broker answers what it knows of the client itself (group, subscriptions,
//! consume type) and asks the client, over its Telemetry stream, for what only the client knows:
//! its thread dump (PrintThreadStackTraceCommand) or how its listener handled a message
//! (VerifyMessageCommand). Apache's proxy answers only the thread dump.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rmq_proto::v2::Code;
use rmq_remoting::body::{
    ConsumeMessageDirectlyResult, ConsumeResult, ConsumerRunningInfo, JsonBody,
};
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, ResponseCode};

use crate::context::BrokerContext;
use crate::live_clients::{CallError, ClientAnswer, ClientAsk, GrpcConsumer};

fn code_name(code: i32) -> &'static str {
    Code::try_from(code).map_or("UNKNOWN_CODE", |c| c.as_str_name())
}

async fn ask(
    ctx: &BrokerContext,
    consumer: &GrpcConsumer,
    what: ClientAsk,
    timeout: Duration,
) -> Result<ClientAnswer, ProcessError> {
    let id = &consumer.connection.client_id;
    ctx.live_clients()
        .call(id, what, timeout)
        .await
        .map_err(|e| match e {
            CallError::Timeout(..) => ProcessError::response(
                ResponseCode::ConsumeMsgTimeout,
                format!("consumer <{}> {e}", consumer.group),
            ),
            CallError::NotConnected(_) | CallError::Closed(_) => ProcessError::response(
                ResponseCode::ConsumerNotOnline,
                format!("consumer <{}> {e}", consumer.group),
            ),
            CallError::Busy(_) => ProcessError::response(
                ResponseCode::SystemBusy,
                format!("consumer <{}> {e}", consumer.group),
            ),
        })
}

/// The running info of a gRPC consumer, with its thread dump if `jstack`.
pub async fn running_info(
    ctx: &BrokerContext,
    req: &RemotingCommand,
    consumer: GrpcConsumer,
    jstack: bool,
    timeout: Duration,
) -> ProcessResult {
    let orderly = ctx
        .groups()
        .get(&consumer.group)
        .is_some_and(|g| g.consume_message_orderly);
    let mut info = ConsumerRunningInfo::default();
    for (k, v) in [
        ("PROP_CONSUME_TYPE", "CONSUME_POP".to_owned()),
        ("PROP_CONSUMEORDERLY", orderly.to_string()),
        ("consumerGroup", consumer.group.clone()),
        ("messageModel", "CLUSTERING".to_owned()),
    ] {
        info.properties.insert(k.to_owned(), v);
    }
    info.subscription_set = consumer.subscriptions.clone();
    if jstack {
        let a = ask(ctx, &consumer, ClientAsk::ThreadStackTrace, timeout).await?;
        if a.code != Code::Ok as i32 {
            return Err(ProcessError::response(
                ResponseCode::SystemError,
                format!(
                    "consumer <{}> <{}> could not give its thread dump: {} {}",
                    consumer.group,
                    consumer.connection.client_id,
                    code_name(a.code),
                    a.message
                ),
            ));
        }
        info.jstack = a.thread_stack_trace;
    }
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(info.to_json_bytes()),
    ))
}

/// Has a gRPC consumer's listener consume the stored `record` and says how it went.
pub async fn consume_directly(
    ctx: &BrokerContext,
    req: &RemotingCommand,
    consumer: GrpcConsumer,
    record: Bytes,
    timeout: Duration,
) -> ProcessResult {
    let started = Instant::now();
    let a = ask(ctx, &consumer, ClientAsk::VerifyMessage(record), timeout).await?;
    let consume_result = match Code::try_from(a.code) {
        Ok(Code::Ok) => ConsumeResult::CrSuccess,
        Ok(Code::FailedToConsumeMessage) => ConsumeResult::CrLater,
        Ok(Code::MessageCorrupted) => ConsumeResult::CrReturnNull,
        _ => ConsumeResult::CrThrowException,
    };
    let remark = if a.message.is_empty() {
        format!("from gRPC client: {}", code_name(a.code))
    } else {
        format!("from gRPC client: {} {}", code_name(a.code), a.message)
    };
    let result = ConsumeMessageDirectlyResult {
        order: false,
        auto_commit: true,
        consume_result,
        remark: Some(remark),
        spent_time_mills: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    };
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(result.to_json_bytes()),
    ))
}
