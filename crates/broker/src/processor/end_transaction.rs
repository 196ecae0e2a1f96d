//! END_TRANSACTION (37): the producer's decision on a half message — commit stores the real
//! message, rollback discards it; both close the half message with an op record.

use std::sync::Arc;

use rmq_common::message::{decode_properties, keys};
use rmq_common::record::{peek_record, Peek};
use rmq_common::sysflag::message as msg_flag;
use rmq_remoting::header::EndTransactionRequestHeader;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use crate::context::BrokerContext;
use crate::transaction::{committed_message, write_op};

pub async fn process(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: EndTransactionRequestHeader = req.decode_header()?;
    let answer = |r: Result<(), ProcessError>| -> ProcessResult {
        if req.is_oneway() {
            if let Err(e) = r {
                tracing::warn!(error = %e, "END_TRANSACTION failed");
            }
            return Ok(None);
        }
        r.map(|_| Some(req.response_to(ResponseCode::Success)))
    };
    let r = end(
        &ctx,
        &h.producer_group,
        h.commit_log_offset,
        h.tran_state_table_offset,
        h.commit_or_rollback,
    )
    .await;
    answer(r)
}

/// The producer's decision (commit 8, rollback 12, unknown 0) on the half message at
/// `commit_log_offset`, for both front doors.
pub(crate) async fn end(
    ctx: &BrokerContext,
    producer_group: &str,
    commit_log_offset: i64,
    tran_state_table_offset: i64,
    decision: i32,
) -> Result<(), ProcessError> {
    if ctx.is_slave() {
        return Err(ProcessError::response(
            ResponseCode::SlaveNotAvailable,
            "a SLAVE does not end transactions; send END_TRANSACTION to the master",
        ));
    }
    if decision == msg_flag::TRANSACTION_NOT_TYPE {
        return Ok(()); // unknown: the check service will ask again
    }
    if decision != msg_flag::TRANSACTION_COMMIT_TYPE
        && decision != msg_flag::TRANSACTION_ROLLBACK_TYPE
    {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!("commitOrRollback {decision} is neither 8 (commit), 12 (rollback) nor 0"),
        ));
    }
    let Some(rec) = ctx.store().look_message_by_offset(commit_log_offset) else {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            format!(
                "find prepared transaction message failed at offset {}",
                commit_log_offset
            ),
        ));
    };
    let Ok(Peek::Record(half)) = peek_record(&rec, false) else {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            "unreadable half message",
        ));
    };
    let props = decode_properties(half.properties);
    if props.get(keys::PGROUP).map(String::as_str) != Some(producer_group)
        || half.queue_offset != tran_state_table_offset
        || half.topic != rmq_common::topic::RMQ_SYS_TRANS_HALF_TOPIC
    {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            format!(
                "the half message at {} does not match producer group {} and offset {}",
                commit_log_offset, producer_group, tran_state_table_offset
            ),
        ));
    }
    if decision == msg_flag::TRANSACTION_COMMIT_TYPE {
        let r = ctx
            .store()
            .put_message(committed_message(ctx.store_host(), &half))
            .await;
        if !r.status.is_stored() {
            return Err(ProcessError::response(
                ResponseCode::SystemError,
                r.reason(),
            ));
        }
    }
    let r = write_op(
        ctx.store(),
        ctx.op_log(),
        ctx.store_host(),
        half.queue_offset,
    )
    .await;
    if !r.status.is_stored() {
        tracing::warn!(
            half_offset = half.queue_offset,
            "could not write the transaction op record; the check service may ask again"
        );
    }
    Ok(())
}
