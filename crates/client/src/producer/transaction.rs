//! [`TransactionProducer`]: two-phase sends (protocol.md 8.8). A *half* message is stored
//! invisible to consumers, the application's local transaction runs, and END_TRANSACTION tells
//! the broker to publish (commit) or drop (rollback) it. When the outcome is unknown — the
//! listener said so, or END_TRANSACTION was lost, or the producer died — the broker later asks
//! any live producer of the group (CHECK_TRANSACTION_STATE) and the listener's
//! `check_local_transaction` decides; see [`check`](super::transaction_check).
//!
//! The group is what the broker asks, so a transaction producer heartbeats every master of
//! the cluster (from the name server's cluster info), not only the brokers it has sent to: a
//! fresh instance of the group is reachable before its first send.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rmq_client::ClientError> {
//! use std::any::Any;
//! use rmq_client::producer::{LocalTransactionState, TransactionListener, TransactionProducer};
//! use rmq_client::{Message, MessageExt};
//!
//! struct Orders;
//! impl TransactionListener for Orders {
//!     fn execute_local_transaction(&self, _: &Message, _: &(dyn Any + Send + Sync)) -> LocalTransactionState {
//!         LocalTransactionState::CommitMessage // e.g. after the database commit
//!     }
//!     fn check_local_transaction(&self, _: &MessageExt) -> LocalTransactionState {
//!         LocalTransactionState::CommitMessage // e.g. look the order up
//!     }
//! }
//!
//! let producer = TransactionProducer::builder()
//!     .group("TxGroup")
//!     .name_server("127.0.0.1:9876")
//!     .transaction_listener(Orders)
//!     .build()?;
//! producer.start().await?;
//! let r = producer.send_message_in_transaction(Message::new("Orders", "order-1"), &()).await?;
//! println!("{} {:?}", r.send_result.msg_id, r.local_state);
//! producer.shutdown().await;
//! # Ok(()) }
//! ```

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::message::keys;
use rmq_common::msg_id::decode_offset_msg_id;
use rmq_common::{Message, MessageExt};
use rmq_remoting::header::EndTransactionRequestHeader;

use super::sender::SendSettings;
use super::transaction_check::{check_handler, end_transaction_request};
use super::{Producer, ProducerBuilder, SendResult, SendStatus};
use crate::error::{ClientError, Result};
use crate::options::{client_option_setters, ClientOptions};

/// The outcome of a local transaction, as the application reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTransactionState {
    /// Publish the half message.
    CommitMessage,
    /// Drop the half message.
    RollbackMessage,
    /// Not known yet (Java's `UNKNOW`): the broker asks again later through
    /// [`TransactionListener::check_local_transaction`].
    Unknown,
}

impl LocalTransactionState {
    /// The `commitOrRollback` value of END_TRANSACTION (MessageSysFlag transaction bits).
    pub(crate) fn wire(self) -> i32 {
        use rmq_remoting::header::transaction_type;
        match self {
            LocalTransactionState::CommitMessage => transaction_type::COMMIT,
            LocalTransactionState::RollbackMessage => transaction_type::ROLLBACK,
            LocalTransactionState::Unknown => transaction_type::NOT_TYPE,
        }
    }
}

/// What the application implements for a [`TransactionProducer`].
///
/// Both methods are synchronous, like the consumers' listeners. `execute_local_transaction`
/// runs on the task that called
/// [`send_message_in_transaction`](TransactionProducer::send_message_in_transaction) (as Java
/// runs it on the sending thread); `check_local_transaction` runs on a blocking thread. A panic
/// in either counts as [`LocalTransactionState::Unknown`].
pub trait TransactionListener: Send + Sync + 'static {
    /// Runs the local transaction of a half message that the broker has stored. `msg` carries
    /// its `UNIQ_KEY` (the message id); `arg` is what was passed to the send.
    fn execute_local_transaction(
        &self,
        msg: &Message,
        arg: &(dyn Any + Send + Sync),
    ) -> LocalTransactionState;

    /// Answers the broker's question about a half message whose outcome it does not know.
    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState;
}

/// The outcome of [`TransactionProducer::send_message_in_transaction`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionSendResult {
    /// Where the half message was stored.
    pub send_result: SendResult,
    /// What the local transaction decided (and what END_TRANSACTION told the broker).
    pub local_state: LocalTransactionState,
}

/// Builds a [`TransactionProducer`].
#[derive(Default)]
pub struct TransactionProducerBuilder {
    options: ClientOptions,
    settings: SendSettings,
    listener: Option<Arc<dyn TransactionListener>>,
}

impl std::fmt::Debug for TransactionProducerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionProducerBuilder")
            .field("options", &self.options)
            .field("settings", &self.settings)
            .finish()
    }
}

impl TransactionProducerBuilder {
    client_option_setters!();

    /// Producer group (`DEFAULT_PRODUCER`): the broker asks a live member of this group about
    /// unresolved transactions, so every instance that may be asked must use the same group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.settings.group = group.into();
        self
    }

    /// Overall time for sending the half message, including retries (3 s).
    pub fn send_timeout(mut self, d: Duration) -> Self {
        self.settings.send_timeout = d;
        self
    }

    /// Extra attempts on another broker after a failed half-message send (2).
    pub fn retry_times_when_send_failed(mut self, n: usize) -> Self {
        self.settings.retry_times_when_send_failed = n;
        self
    }

    /// The application's local transaction and check (required).
    pub fn transaction_listener(mut self, listener: impl TransactionListener) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    pub fn build(self) -> Result<TransactionProducer> {
        let listener = self.listener.ok_or_else(|| {
            ClientError::Config("a transaction producer needs a transaction_listener".into())
        })?;
        let producer = ProducerBuilder {
            options: self.options,
            settings: self.settings,
        }
        .build()?;
        let group = producer.sender.settings.group.clone();
        producer
            .sender
            .instance
            .server_requests
            .set_transaction_check(check_handler(group, listener.clone()));
        Ok(TransactionProducer { producer, listener })
    }
}

/// A producer of transactional messages. Clones share the producer.
#[derive(Clone)]
pub struct TransactionProducer {
    producer: Producer,
    listener: Arc<dyn TransactionListener>,
}

impl std::fmt::Debug for TransactionProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionProducer")
            .field("group", &self.producer.sender.settings.group)
            .field("client_id", &self.producer.client_id())
            .finish()
    }
}

impl TransactionProducer {
    pub fn builder() -> TransactionProducerBuilder {
        TransactionProducerBuilder::default()
    }

    /// The client id (`ip@instance`) brokers know this producer by.
    pub fn client_id(&self) -> &str {
        self.producer.client_id()
    }

    /// The plain producer underneath, for ordinary sends with the same group and connections.
    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// Starts the producer and registers its group with every master of the cluster, so that
    /// the brokers can ask it about unresolved transactions (also those of a previous instance).
    pub async fn start(&self) -> Result<()> {
        let instance = self.producer.sender.instance.clone();
        if instance.check_running().is_ok() {
            return Ok(()); // started before
        }
        self.producer.start().await?;
        if let Err(e) = instance.refresh_cluster_brokers().await {
            tracing::warn!(error = %e, "no cluster info yet; transaction checks reach this producer after its first send");
        }
        instance.heartbeat_all().await;
        let me = instance.clone();
        instance.spawn_periodic(instance.options.route_poll_interval, move || {
            let me = me.clone();
            async move {
                if let Err(e) = me.refresh_cluster_brokers().await {
                    tracing::debug!(error = %e, "cluster info refresh failed");
                }
            }
        });
        Ok(())
    }

    /// Unregisters from the brokers and stops every background task; checks that arrive later
    /// go to another member of the group.
    pub async fn shutdown(&self) {
        self.producer.shutdown().await;
    }

    /// Sends `msg` as a half message, runs the local transaction with `arg`, and ends the
    /// transaction on the broker that stored it. A half message that could not be stored is an
    /// error and the local transaction does not run; a half message stored with a non-OK status
    /// (flush or slave timeout) is rolled back without running it, as Java does. A failed
    /// END_TRANSACTION is only logged: the broker's check resolves the transaction later.
    pub async fn send_message_in_transaction(
        &self,
        mut msg: Message,
        arg: &(dyn Any + Send + Sync),
    ) -> Result<TransactionSendResult> {
        let sender = &self.producer.sender;
        msg.properties.remove(keys::DELAY);
        msg.properties
            .insert(keys::TRAN_MSG.to_owned(), "true".to_owned());
        msg.properties
            .insert(keys::PGROUP.to_owned(), sender.settings.group.clone());
        let prepared = sender.prepare(&msg)?;
        let sent = sender.send(&prepared).await?;
        msg.properties
            .insert(keys::UNIQ_KEY.to_owned(), sent.msg_id.clone());
        if let Some(id) = &sent.transaction_id {
            msg.properties
                .insert(keys::TRANSACTION_ID.to_owned(), id.clone());
        }
        let (local_state, remark) = if sent.status == SendStatus::SendOk {
            self.execute_local(&msg, arg)
        } else {
            tracing::warn!(status = ?sent.status, msg_id = %sent.msg_id, "half message not stored OK; rolling back");
            (LocalTransactionState::RollbackMessage, None)
        };
        if let Err(e) = self.end_transaction(&sent, local_state, remark).await {
            tracing::warn!(msg_id = %sent.msg_id, state = ?local_state, error = %e, "END_TRANSACTION failed; the broker's check will resolve it");
        }
        Ok(TransactionSendResult {
            send_result: sent,
            local_state,
        })
    }

    fn execute_local(
        &self,
        msg: &Message,
        arg: &(dyn Any + Send + Sync),
    ) -> (LocalTransactionState, Option<String>) {
        let run = AssertUnwindSafe(|| self.listener.execute_local_transaction(msg, arg));
        match std::panic::catch_unwind(run) {
            Ok(state) => (state, None),
            Err(panic) => {
                let text = panic_text(panic.as_ref());
                tracing::error!(panic = %text, "execute_local_transaction panicked; the outcome is unknown");
                (
                    LocalTransactionState::Unknown,
                    Some(format!("executeLocalTransactionBranch exception: {text}")),
                )
            }
        }
    }

    /// END_TRANSACTION (oneway) to the master that stored the half message.
    async fn end_transaction(
        &self,
        sent: &SendResult,
        state: LocalTransactionState,
        remark: Option<String>,
    ) -> Result<()> {
        let instance = &self.producer.sender.instance;
        let mq = &sent.message_queue;
        let addr = instance.master_addr_for(&mq.broker_name, &mq.topic).await?;
        let (_, commit_log_offset) =
            decode_offset_msg_id(&sent.offset_msg_id).ok_or_else(|| ClientError::BadResponse {
                addr: addr.clone(),
                reason: format!("undecodable offset msgId {:?}", sent.offset_msg_id),
            })?;
        let header = EndTransactionRequestHeader {
            topic: Some(mq.topic.clone()),
            producer_group: self.producer.sender.settings.group.clone(),
            tran_state_table_offset: sent.queue_offset,
            commit_log_offset,
            commit_or_rollback: state.wire(),
            from_transaction_check: Some(false),
            msg_id: sent.msg_id.clone(),
            transaction_id: Some(
                sent.transaction_id
                    .clone()
                    .unwrap_or_else(|| sent.msg_id.clone()),
            ),
            rpc: Default::default(),
        };
        let mut request = end_transaction_request(&header);
        request.remark = remark;
        instance
            .remoting
            .invoke_oneway(&addr, request, instance.options.rpc_timeout)
            .await?;
        Ok(())
    }
}

/// The text of a caught panic.
pub(crate) fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}
