//! Cleaning on an operator's request (`mqadmin deleteExpiredCommitLog`, `cleanExpiredCQ`):
//! the store's cleanup run now instead of at its next pass, on a blocking thread (deleting
//! files paces itself), answering with what went in the remark.

use std::sync::Arc;

use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use crate::context::BrokerContext;

/// DELETE_EXPIRED_COMMITLOG: expired CommitLog files (older than `fileReservedTime`) are
/// deleted now, whatever the `deleteWhen` hour, then the consume-queue and index files behind
/// them.
pub async fn delete_expired_commit_log(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let store = ctx.store().clone();
    let r = tokio::task::spawn_blocking(move || store.delete_expired_files_now())
        .await
        .map_err(|e| ProcessError::response(ResponseCode::SystemError, e.to_string()))?;
    tracing::info!(
        commit_log = r.commit_log_files_deleted,
        consume_queue = r.consume_queue_files_deleted,
        index = r.index_files_deleted,
        "expired files deleted on request"
    );
    Ok(Some(req.response_to(ResponseCode::Success).with_remark(
        format!(
            "deleted {} CommitLog, {} consume queue and {} index file(s)",
            r.commit_log_files_deleted, r.consume_queue_files_deleted, r.index_files_deleted
        ),
    )))
}

/// CLEAN_EXPIRED_CONSUMEQUEUE: consume-queue files whose entries all point before the
/// CommitLog's first offset are deleted now. Unlike Apache, a queue left with no file keeps its
/// offsets (Apache drops the queue, and its next message starts again at offset 0).
pub async fn clean_expired_consume_queues(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let store = ctx.store().clone();
    let n = tokio::task::spawn_blocking(move || store.clean_expired_consume_queues())
        .await
        .map_err(|e| ProcessError::response(ResponseCode::SystemError, e.to_string()))?;
    tracing::info!(files = n, "expired consume queue files deleted on request");
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_remark(format!("deleted {n} consume queue file(s)")),
    ))
}
