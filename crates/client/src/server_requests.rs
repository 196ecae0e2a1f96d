//! Requests a broker initiates on a client's connection (protocol.md 2.4, 2.5):
//! NOTIFY_CONSUMER_IDS_CHANGED wakes the rebalance, CHECK_TRANSACTION_STATE asks the
//! transaction producer of the group for the outcome of a half message, and the admin requests
//! a broker relays to a consumer (GET_CONSUMER_RUNNING_INFO, GET_CONSUMER_STATUS_FROM_CLIENT,
//! RESET_CONSUMER_CLIENT_OFFSET, CONSUME_MESSAGE_DIRECTLY) go to the consumer of this client;
//! PUSH_REPLY_MESSAGE_TO_CLIENT hands a reply to the request waiting for it (reply.rs).
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
use rmq_remoting::body::{GetConsumerStatusBody, JsonBody, ResetOffsetBody};
use rmq_remoting::header::{
    CheckTransactionStateRequestHeader, ConsumeMessageDirectlyResultRequestHeader,
    GetConsumerRunningInfoRequestHeader, GetConsumerStatusRequestHeader, ReplyMessageRequestHeader,
    ResetOffsetRequestHeader,
};
use rmq_remoting::{
    ConnectionHandle, ProcessError, ProcessResult, RemotingCommand, RequestCode, RequestContext,
    ResponseCode,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::compress::decompress_message;
use crate::consumer_control::ConsumerControl;
use crate::reply::ReplyWaiters;

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
    /// The consumer of this client, if it has one (which holds the consumer weakly: the
    /// consumer owns this client).
    consumer: Arc<RwLock<Option<Arc<dyn ConsumerControl>>>>,
    /// The requests of this client waiting for their replies.
    pub replies: ReplyWaiters,
    tracker: TaskTracker,
    cancel: CancellationToken,
    /// The largest body inflated from a compressed message (`ClientOptions.max_message_size`).
    max_body: usize,
}

impl ServerRequests {
    pub fn new(
        rebalance: Arc<Notify>,
        tracker: TaskTracker,
        cancel: CancellationToken,
        max_body: usize,
    ) -> Self {
        ServerRequests {
            rebalance,
            transaction_check: Arc::default(),
            consumer: Arc::default(),
            replies: ReplyWaiters::default(),
            tracker,
            cancel,
            max_body,
        }
    }

    /// Installs the callback that answers CHECK_TRANSACTION_STATE.
    pub fn set_transaction_check(&self, check: TransactionCheck) {
        *self.transaction_check.write() = Some(check);
    }

    /// Installs the consumer that answers relayed admin requests.
    pub fn set_consumer(&self, consumer: Arc<dyn ConsumerControl>) {
        *self.consumer.write() = Some(consumer);
    }

    /// The consumer of `group` on this client, or the answer that there is none.
    fn consumer_of(&self, group: &str) -> Result<Arc<dyn ConsumerControl>, ProcessError> {
        self.consumer
            .read()
            .clone()
            .filter(|c| c.group() == group)
            .ok_or_else(|| {
                ProcessError::response(
                    ResponseCode::SystemError,
                    format!("The Consumer Group <{group}> not exist in this consumer"),
                )
            })
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
        match RequestCode::from(req.code) {
            RequestCode::GetConsumerRunningInfo => {
                let h: GetConsumerRunningInfoRequestHeader = req.decode_header()?;
                let info = self.consumer_of(&h.consumer_group)?.running_info();
                Ok(Some(
                    req.response_to(ResponseCode::Success)
                        .with_body(info.to_fastjson_bytes()),
                ))
            }
            RequestCode::GetConsumerStatusFromClient => {
                let h: GetConsumerStatusRequestHeader = req.decode_header()?;
                let body = GetConsumerStatusBody {
                    message_queue_table: self.consumer_of(&h.group)?.held_offsets(&h.topic),
                    ..Default::default()
                };
                Ok(Some(
                    req.response_to(ResponseCode::Success)
                        .with_body(body.to_fastjson_bytes()),
                ))
            }
            RequestCode::ResetConsumerClientOffset => {
                self.reset_offset(ctx, &req);
                Ok(None) // oneway
            }
            RequestCode::ConsumeMessageDirectly => self.consume_directly(&req).await,
            RequestCode::PushReplyMessageToClient => self.reply_pushed(ctx, req),
            _ => Err(ProcessError::response(
                ResponseCode::RequestCodeNotSupported,
                format!(" request type {} not supported", req.code),
            )),
        }
    }

    /// RESET_CONSUMER_CLIENT_OFFSET (oneway): the consumer moves the queues, on a task the
    /// client owns.
    fn reset_offset(&self, ctx: RequestContext, req: &RemotingCommand) {
        let peer = ctx.peer_addr();
        let parsed = req
            .decode_header::<ResetOffsetRequestHeader>()
            .map_err(|e| e.to_string())
            .and_then(|h| {
                ResetOffsetBody::from_json_bytes(&req.body)
                    .map(|b| (h, b))
                    .map_err(|e| e.to_string())
            });
        let (h, body) = match parsed {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "bad RESET_CONSUMER_CLIENT_OFFSET");
                return;
            }
        };
        let consumer = match self.consumer_of(&h.group) {
            Ok(c) => c,
            Err(_) => {
                tracing::debug!(%peer, group = %h.group, "offset reset for a group this client does not consume");
                return;
            }
        };
        tracing::info!(%peer, group = %h.group, topic = %h.topic, queues = body.offset_table.len(), "offset reset by the broker");
        let offsets = body
            .offset_table
            .into_iter()
            .filter(|(mq, _)| mq.topic == h.topic)
            .collect();
        let task = consumer.reset_offsets(offsets);
        let cancel = self.cancel.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = task => {}
            }
        });
    }

    /// PUSH_REPLY_MESSAGE_TO_CLIENT: a reply to one of this client's requests. Answered SUCCESS
    /// when it could be read, whether or not a request still waits for it (as Java does).
    fn reply_pushed(&self, ctx: RequestContext, req: RemotingCommand) -> ProcessResult {
        let h: ReplyMessageRequestHeader = req.decode_header()?;
        let addr = |s: &str| s.trim_start_matches('/').parse().ok();
        let unknown = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        let mut message = MessageExt {
            message: rmq_common::Message {
                topic: h.topic,
                flag: h.flag,
                properties: rmq_common::message::decode_properties(
                    h.properties.as_deref().unwrap_or(""),
                ),
                body: req.body.clone(),
            },
            queue_id: h.queue_id,
            store_size: 0,
            queue_offset: 0,
            sys_flag: h.sys_flag,
            born_timestamp: h.born_timestamp,
            born_host: addr(&h.born_host).unwrap_or(unknown),
            store_timestamp: h.store_timestamp,
            store_host: addr(&h.store_host).unwrap_or(ctx.peer_addr()),
            commit_log_offset: 0,
            body_crc: 0,
            reconsume_times: h.reconsume_times.unwrap_or(0),
            prepared_transaction_offset: 0,
        };
        decompress_message(&mut message, self.max_body);
        message.message.properties.insert(
            rmq_common::message::keys::REPLY_MESSAGE_ARRIVE_TIME.into(),
            rmq_common::time::now_millis().to_string(),
        );
        let correlation_id = message
            .property(rmq_common::message::keys::CORRELATION_ID)
            .unwrap_or("")
            .to_owned();
        if !self.replies.deliver(message) {
            tracing::warn!(peer = %ctx.peer_addr(), %correlation_id, "a reply matches no request waiting (late, or not this client's)");
        }
        Ok(Some(req.response_to(ResponseCode::Success)))
    }

    /// CONSUME_MESSAGE_DIRECTLY: the listener consumes the message in the body; the answer
    /// says how.
    async fn consume_directly(&self, req: &RemotingCommand) -> ProcessResult {
        let h: ConsumeMessageDirectlyResultRequestHeader = req.decode_header()?;
        let consumer = self.consumer_of(&h.consumer_group)?;
        let mut message = match decode_messages(&req.body).map(|v| v.into_iter().next()) {
            Ok(Some(m)) => m,
            Ok(None) => {
                return Err(ProcessError::response(
                    ResponseCode::SystemError,
                    "CONSUME_MESSAGE_DIRECTLY without a message",
                ))
            }
            Err(e) => {
                return Err(ProcessError::response(
                    ResponseCode::SystemError,
                    format!("CONSUME_MESSAGE_DIRECTLY with an unreadable message: {e}"),
                ))
            }
        };
        decompress_message(&mut message, self.max_body);
        let result = consumer
            .consume_directly(message, h.broker_name.unwrap_or_default())
            .await;
        Ok(Some(
            req.response_to(ResponseCode::Success)
                .with_body(result.to_json_bytes()),
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
                decompress_message(&mut m, self.max_body);
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
