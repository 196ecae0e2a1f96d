//! Requests a broker initiates on a client's connection (protocol.md 2.4, 2.5):
//! NOTIFY_CONSUMER_IDS_CHANGED wakes the rebalance, CHECK_TRANSACTION_STATE asks the
//! transaction producer of the group for the outcome of a half message.
//!
//! The handler is built before the client instance (the remoting client needs it), so what it
//! reaches is held here: the rebalance waker, a slot the transaction producer fills with its
//! check callback, and the instance's task tracker and cancellation token — a check runs the
//! application's listener, which may take long, so it runs as a task the client owns rather
//! than on the connection's request task.

use std::sync::Arc;

use futures::future::BoxFuture;
use parking_lot::RwLock;
use rmq_common::record::decode_messages;
use rmq_common::MessageExt;
use rmq_remoting::header::CheckTransactionStateRequestHeader;
use rmq_remoting::{
    ConnectionHandle, ProcessError, ProcessResult, RemotingCommand, RequestCode, RequestContext,
    ResponseCode,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::compress::decompress_message;

/// One CHECK_TRANSACTION_STATE, decoded.
#[derive(Debug)]
pub(crate) struct CheckRequest {
    /// The broker's connection: the answer (END_TRANSACTION) goes back on it.
    pub connection: ConnectionHandle,
    pub header: CheckTransactionStateRequestHeader,
    /// The half message, topic already switched back to the real topic by the broker.
    pub message: MessageExt,
}

/// What a transaction producer does with a check: a future run on the client's tracker.
pub(crate) type TransactionCheck =
    Arc<dyn Fn(CheckRequest) -> BoxFuture<'static, ()> + Send + Sync>;

/// The state the server-request handler reaches.
#[derive(Clone)]
pub(crate) struct ServerRequests {
    pub rebalance: Arc<Notify>,
    transaction_check: Arc<RwLock<Option<TransactionCheck>>>,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

impl ServerRequests {
    pub fn new(rebalance: Arc<Notify>, tracker: TaskTracker, cancel: CancellationToken) -> Self {
        ServerRequests {
            rebalance,
            transaction_check: Arc::default(),
            tracker,
            cancel,
        }
    }

    /// Installs the callback that answers CHECK_TRANSACTION_STATE.
    pub fn set_transaction_check(&self, check: TransactionCheck) {
        *self.transaction_check.write() = Some(check);
    }

    /// Handles one broker-initiated request.
    pub async fn handle(self, ctx: RequestContext, req: RemotingCommand) -> ProcessResult {
        if req.code == i32::from(RequestCode::NotifyConsumerIdsChanged) {
            tracing::debug!("consumer ids changed; rebalancing");
            self.rebalance.notify_one();
            return Ok(None);
        }
        if req.code == i32::from(RequestCode::CheckTransactionState) {
            self.check_transaction_state(ctx, &req);
            return Ok(None); // oneway: the answer is a separate END_TRANSACTION
        }
        Err(ProcessError::response(
            ResponseCode::RequestCodeNotSupported,
            format!(" request type {} not supported", req.code),
        ))
    }

    fn check_transaction_state(&self, ctx: RequestContext, req: &RemotingCommand) {
        let peer = ctx.peer_addr();
        let header: CheckTransactionStateRequestHeader = match req.decode_header() {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "bad CHECK_TRANSACTION_STATE header");
                return;
            }
        };
        let message = match decode_messages(&req.body).map(|v| v.into_iter().next()) {
            Ok(Some(mut m)) => {
                decompress_message(&mut m);
                m
            }
            Ok(None) => {
                tracing::warn!(%peer, "CHECK_TRANSACTION_STATE without a message");
                return;
            }
            Err(e) => {
                tracing::warn!(%peer, error = %e, "bad CHECK_TRANSACTION_STATE body");
                return;
            }
        };
        let Some(check) = self.transaction_check.read().clone() else {
            tracing::debug!(%peer, "transaction check for a client without a transaction producer");
            return;
        };
        let task = check(CheckRequest {
            connection: ctx.connection().clone(),
            header,
            message,
        });
        let cancel = self.cancel.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = task => {}
            }
        });
    }
}
