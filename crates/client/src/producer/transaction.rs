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
//! The producer is generic over its listener so that the argument of each send is the
//! listener's own type ([`TransactionListener::Arg`]) rather than a `&dyn Any` to downcast.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rmq_client::ClientError> {
//! use rmq_client::producer::{LocalTransactionState, TransactionListener, TransactionProducer};
//! use rmq_client::{Message, MessageExt};
//!
//! struct Orders;
//! impl TransactionListener for Orders {
//!     type Arg = u64;
//!     fn execute_local_transaction(&self, _: &Message, _order: &u64) -> LocalTransactionState {
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
//!     .build()
//!     .await?;
//! let r = producer.send_message_in_transaction(Message::new("Orders", "order-1"), 1).await?;
//! println!("{} {:?}", r.send_result.msg_id, r.local_state);
//! producer.shutdown().await;
//! # Ok(()) }
//! ```

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::message::keys;
use rmq_common::msg_id::decode_offset_msg_id;
use rmq_common::Message;
use rmq_remoting::header::EndTransactionRequestHeader;

use super::encode::{SendResult, SendStatus};
use super::plain::{Producer, ProducerBuilder};
use super::sender::SendSettings;
use super::transaction_check::{check_handler, end_transaction_request};
use super::transaction_listener::{panic_text, LocalTransactionState, TransactionListener};
use crate::error::{ClientError, Result};
use crate::options::{client_option_setters, ClientOptions};

/// The outcome of [`TransactionProducer::send_message_in_transaction`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionSendResult {
    /// Where the half message was stored.
    pub send_result: SendResult,
    /// What the local transaction decided (and what END_TRANSACTION told the broker).
    pub local_state: LocalTransactionState,
}

/// Builds a [`TransactionProducer`] for listener type `L`.
pub struct TransactionProducerBuilder<L> {
    options: ClientOptions,
    settings: SendSettings,
    listener: Option<Arc<L>>,
}

impl<L> Default for TransactionProducerBuilder<L> {
    fn default() -> Self {
        TransactionProducerBuilder {
            options: ClientOptions::default(),
            settings: SendSettings::default(),
            listener: None,
        }
    }
}

impl<L> std::fmt::Debug for TransactionProducerBuilder<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionProducerBuilder")
            .field("options", &self.options)
            .field("settings", &self.settings)
            .finish()
    }
}

impl<L: TransactionListener> TransactionProducerBuilder<L> {
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
    pub fn transaction_listener(mut self, listener: L) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Builds and starts the producer: it answers transaction checks and is registered with
    /// every master of the cluster (from the name server's cluster info) when this returns, so
    /// the brokers can ask it about unresolved transactions, also those of a previous instance.
    pub async fn build(self) -> Result<TransactionProducer<L>> {
        let listener = self.listener.ok_or_else(|| {
            ClientError::Config("a transaction producer needs a transaction_listener".into())
        })?;
        let producer = ProducerBuilder {
            options: self.options,
            settings: self.settings,
        }
        .build_idle()?;
        let group = producer.sender.settings.group.clone();
        let instance = producer.sender.instance.clone();
        instance
            .server_requests
            .set_transaction_check(check_handler(group.clone(), listener.clone()));
        instance.register_producer(&group);
        instance.start();
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
        Ok(TransactionProducer { producer, listener })
    }
}

/// A producer of transactional messages, started by [`TransactionProducerBuilder::build`].
/// Clones share the producer; dropping the last clone stops its background tasks.
pub struct TransactionProducer<L> {
    producer: Producer,
    listener: Arc<L>,
}

impl<L> Clone for TransactionProducer<L> {
    fn clone(&self) -> Self {
        TransactionProducer {
            producer: self.producer.clone(),
            listener: self.listener.clone(),
        }
    }
}

impl<L> std::fmt::Debug for TransactionProducer<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionProducer")
            .field("group", &self.producer.sender.settings.group)
            .field("client_id", &self.producer.client_id())
            .finish()
    }
}

impl<L: TransactionListener> TransactionProducer<L> {
    /// A builder; the listener type is inferred from
    /// [`transaction_listener`](TransactionProducerBuilder::transaction_listener).
    pub fn builder() -> TransactionProducerBuilder<L> {
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

    /// Unregisters from the brokers and stops every background task; checks that arrive later
    /// go to another member of the group.
    pub async fn shutdown(&self) {
        self.producer.shutdown().await;
    }

    /// Sends `msg` as a half message, runs the local transaction with `arg` on a blocking
    /// thread, and ends the transaction on the broker that stored it. A half message that could
    /// not be stored is an error and the local transaction does not run; a half message stored
    /// with a non-OK status (flush or slave timeout) is rolled back without running it, as Java
    /// does. A failed END_TRANSACTION is only logged: the broker's check resolves the
    /// transaction later.
    pub async fn send_message_in_transaction(
        &self,
        mut msg: Message,
        arg: L::Arg,
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
            self.execute_local(msg, arg).await
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

    /// Runs the listener on a blocking thread; a panic (or a runtime shutting down under it)
    /// leaves the outcome unknown, for the broker's check to resolve.
    async fn execute_local(
        &self,
        msg: Message,
        arg: L::Arg,
    ) -> (LocalTransactionState, Option<String>) {
        let listener = self.listener.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let run = AssertUnwindSafe(|| listener.execute_local_transaction(&msg, &arg));
            std::panic::catch_unwind(run).map_err(|panic| panic_text(panic.as_ref()))
        })
        .await;
        let text = match joined {
            Ok(Ok(state)) => return (state, None),
            Ok(Err(text)) => text,
            Err(e) => e.to_string(),
        };
        tracing::error!(panic = %text, "execute_local_transaction panicked; the outcome is unknown");
        (
            LocalTransactionState::Unknown,
            Some(format!("executeLocalTransactionBranch exception: {text}")),
        )
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
