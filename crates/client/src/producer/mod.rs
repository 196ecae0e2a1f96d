//! [`Producer`]: sends messages to the masters of a topic's brokers.
//!
//! Every send method is an `async fn` on a cheaply clonable handle, so an application runs many
//! sends concurrently by spawning them or polling them together (`futures::future::join_all`,
//! `FuturesUnordered`): each request is pipelined on the broker's connection.
//! [`Producer::send_with_callback`] does the same for callers that prefer a callback.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rmq_client::ClientError> {
//! use rmq_client::{Message, Producer};
//! let producer = Producer::builder().group("G").name_server("127.0.0.1:9876").build()?;
//! producer.start().await?;
//! let r = producer.send(Message::new("TopicTest", "hello").with_tags("TagA")).await?;
//! println!("{} stored at {}", r.msg_id, r.queue_offset);
//! producer.shutdown().await;
//! # Ok(()) }
//! ```

pub(crate) mod encode;
pub(crate) mod fault;
pub(crate) mod select;
pub(crate) mod sender;
mod transaction;
mod transaction_check;

use std::sync::Arc;
use std::time::Duration;

use rmq_common::{Message, MessageQueue};
use rmq_remoting::header::UnregisterClientRequestHeader;
use rmq_remoting::{RemotingCommand, RequestCode};

pub use encode::{SendResult, SendStatus};
pub use sender::SendSettings;
pub use transaction::{
    LocalTransactionState, TransactionListener, TransactionProducer, TransactionProducerBuilder,
    TransactionSendResult,
};

use crate::error::Result;
use crate::instance::ClientInstance;
use crate::options::{client_option_setters, ClientOptions};
use sender::Sender;

/// Builds a [`Producer`].
#[derive(Debug, Clone, Default)]
pub struct ProducerBuilder {
    options: ClientOptions,
    settings: SendSettings,
}

impl ProducerBuilder {
    client_option_setters!();

    /// Producer group (`DEFAULT_PRODUCER`).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.settings.group = group.into();
        self
    }

    /// Overall time for one send including retries (3 s).
    pub fn send_timeout(mut self, d: Duration) -> Self {
        self.settings.send_timeout = d;
        self
    }

    /// Extra attempts on another broker after a failed sync send (2).
    pub fn retry_times_when_send_failed(mut self, n: usize) -> Self {
        self.settings.retry_times_when_send_failed = n;
        self
    }

    /// Largest body accepted (4 MiB).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.settings.limits.max_message_size = bytes;
        self
    }

    /// Bodies of at least this many bytes are zlib-compressed (4096).
    pub fn compress_threshold(mut self, bytes: usize) -> Self {
        self.settings.limits.compress_threshold = bytes;
        self
    }

    pub fn build(self) -> Result<Producer> {
        let mut options = self.options;
        options.unique_instance_name();
        let instance = ClientInstance::new(options)?;
        Ok(Producer {
            sender: Sender {
                instance,
                settings: Arc::new(self.settings),
            },
        })
    }
}

/// A message producer. Clones share the connection and routes.
#[derive(Debug, Clone)]
pub struct Producer {
    sender: Sender,
}

impl Producer {
    pub fn builder() -> ProducerBuilder {
        ProducerBuilder::default()
    }

    /// The client id (`ip@instance`) brokers know this producer by.
    pub fn client_id(&self) -> &str {
        &self.sender.instance.client_id
    }

    /// Starts the route refresh and heartbeat tasks. Sends fail with `NotStarted` before this.
    pub async fn start(&self) -> Result<()> {
        let instance = &self.sender.instance;
        match instance.check_running() {
            Err(crate::ClientError::NotStarted) => {}
            other => return other,
        }
        instance.register_producer(&self.sender.settings.group);
        instance.start();
        Ok(())
    }

    /// Unregisters from the brokers and stops every background task.
    pub async fn shutdown(&self) {
        let instance = &self.sender.instance;
        if instance.cancel.is_cancelled() {
            return;
        }
        let header = UnregisterClientRequestHeader {
            client_id: instance.client_id.clone(),
            producer_group: Some(self.sender.settings.group.clone()),
            ..Default::default()
        };
        let masters: Vec<String> = instance
            .brokers()
            .into_values()
            .filter_map(|a| a.get(&0).cloned())
            .collect();
        let unregister = masters.iter().map(|addr| {
            let req = RemotingCommand::request(RequestCode::UnregisterClient, &header);
            instance.invoke(addr, req, instance.options.rpc_timeout)
        });
        futures::future::join_all(unregister).await;
        instance.shutdown().await;
    }

    /// Sends and waits for the broker's answer, retrying on another broker on failure.
    pub async fn send(&self, msg: Message) -> Result<SendResult> {
        let p = self.sender.prepare(&msg)?;
        self.sender.send(&p).await
    }

    /// Sends in the background and calls `callback` with the result. The task belongs to the
    /// producer: shutting down drops sends still in flight (the callback is not called).
    pub fn send_with_callback<F>(&self, msg: Message, callback: F)
    where
        F: FnOnce(Result<SendResult>) + Send + 'static,
    {
        let me = self.clone();
        self.sender.instance.spawn(async move {
            callback(me.send(msg).await);
        });
    }

    /// Sends without waiting for an answer (one attempt; errors only for what fails locally).
    pub async fn send_oneway(&self, msg: Message) -> Result<()> {
        let p = self.sender.prepare(&msg)?;
        self.sender.send_oneway(&p).await
    }

    /// Sends to a given queue.
    pub async fn send_to_queue(&self, msg: Message, mq: &MessageQueue) -> Result<SendResult> {
        let p = self.sender.prepare(&msg)?;
        self.sender.send_to_queue(&p, mq).await
    }

    /// Sends to the queue `select(writable_queues, &msg)` returns (an index, taken modulo the
    /// queue count).
    pub async fn send_with_selector<F>(&self, msg: Message, select: F) -> Result<SendResult>
    where
        F: FnOnce(&[MessageQueue], &Message) -> usize,
    {
        let p = self.sender.prepare(&msg)?;
        self.sender.send_with_selector(&p, &msg, select).await
    }

    /// Ordered send: every message with the same `sharding_key` goes to the same queue
    /// (`abs(key.hashCode() % queue_count)`, Java's `SelectMessageQueueByHash`).
    pub async fn send_orderly(&self, msg: Message, sharding_key: &str) -> Result<SendResult> {
        let p = self.sender.prepare(&msg)?;
        self.sender.send_orderly(&p, &msg, sharding_key).await
    }

    /// Sends messages of one topic in one SEND_BATCH_MESSAGE request. The result's `msg_id`
    /// and `offset_msg_id` are comma-joined, one per message.
    pub async fn send_batch(&self, msgs: &[Message]) -> Result<SendResult> {
        let p = self.sender.prepare_batch(msgs)?;
        self.sender.send(&p).await
    }

    /// The writable queues of `topic` (fetching its route if needed).
    pub async fn publish_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        self.sender.instance.check_running()?;
        Ok(self
            .sender
            .instance
            .publish_route(topic)
            .await?
            .publish_queues
            .clone())
    }
}
