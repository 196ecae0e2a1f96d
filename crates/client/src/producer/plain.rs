//! [`Producer`] and its builder: the plain (non-transactional) producer. The module doc of
//! [`producer`](super) shows its use; the transaction producer wraps one.

use std::sync::Arc;
use std::time::Duration;

use rmq_common::{Message, MessageExt, MessageQueue};
use rmq_remoting::header::UnregisterClientRequestHeader;
use rmq_remoting::{RemotingCommand, RequestCode};

use super::encode::SendResult;
use super::sender::{SendSettings, Sender};
use crate::compress::Compression;
use crate::error::Result;
use crate::instance::ClientInstance;
use crate::options::{client_option_setters, ClientOptions};
use crate::stop_on_drop::StopOnDrop;

/// Builds a [`Producer`].
#[derive(Debug, Clone, Default)]
pub struct ProducerBuilder {
    pub(super) options: ClientOptions,
    pub(super) settings: SendSettings,
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

    /// Bodies of at least this many bytes are compressed (4096).
    pub fn compress_threshold(mut self, bytes: usize) -> Self {
        self.settings.limits.compress_threshold = bytes;
        self
    }

    /// How large bodies are compressed (Java 5.x's `compressType`): zlib by default, which every
    /// client reads; LZ4 and zstd need 5.x consumers (or rmq's).
    pub fn compression(mut self, c: Compression) -> Self {
        self.settings.limits.compression = c;
        self
    }

    /// Message trace (Java's `enableMsgTrace`): every stored send is recorded to
    /// `RMQ_SYS_TRACE_TOPIC`, in batches off the send path (see [`crate::trace`]).
    pub fn trace(mut self, on: bool) -> Self {
        self.settings.trace_topic = on.then(|| crate::trace::DEFAULT_TRACE_TOPIC.to_owned());
        self
    }

    /// Message trace to `topic` instead of `RMQ_SYS_TRACE_TOPIC` (Java's
    /// `customizedTraceTopic`).
    pub fn trace_topic(mut self, topic: impl Into<String>) -> Self {
        self.settings.trace_topic = Some(topic.into());
        self
    }

    /// Builds and starts the producer: its route refresh and heartbeat tasks run from here on,
    /// so every send may be called at once (there is no separate `start`).
    pub async fn build(self) -> Result<Producer> {
        let producer = self.build_idle()?;
        let instance = &producer.sender.instance;
        instance.register_producer(&producer.sender.settings.group);
        instance.start();
        Ok(producer)
    }

    /// The producer with its tasks not running yet (the transaction producer installs its
    /// check handler before starting them).
    pub(crate) fn build_idle(self) -> Result<Producer> {
        let mut options = self.options;
        options.unique_instance_name();
        let instance = ClientInstance::new(options)?;
        Ok(Producer {
            _stop: StopOnDrop::new(&instance.cancel),
            sender: Sender::new(instance, self.settings),
        })
    }
}

/// A message producer, started by [`ProducerBuilder::build`]. Clones share the connections
/// and routes; dropping the last clone stops its background tasks (call
/// [`shutdown`](Producer::shutdown) first to unregister from the brokers).
#[derive(Debug, Clone)]
pub struct Producer {
    pub(super) sender: Sender,
    _stop: Arc<StopOnDrop>,
}

impl Producer {
    /// A builder; see [`ProducerBuilder::build`] and the module example.
    pub fn builder() -> ProducerBuilder {
        ProducerBuilder::default()
    }

    /// The client id (`ip@instance`) brokers know this producer by.
    pub fn client_id(&self) -> &str {
        &self.sender.instance.client_id
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
        if let Some(t) = &self.sender.tracer {
            t.flush().await;
        }
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
    /// producer and holds only its inner state: shutting down, or dropping the last handle,
    /// drops sends still in flight (the callback is not called).
    pub fn send_with_callback<F>(&self, msg: Message, callback: F)
    where
        F: FnOnce(Result<SendResult>) + Send + 'static,
    {
        // The task holds the sender only, not the user handle: it never keeps the producer alive.
        let sender = self.sender.clone();
        self.sender.instance.spawn(async move {
            let result = match sender.prepare(&msg) {
                Ok(p) => sender.send(&p).await,
                Err(e) => Err(e),
            };
            callback(result);
        });
    }

    /// Request-reply: sends `msg` and waits for the reply a responder sends with
    /// [`create_reply_message`](crate::create_reply_message) (Java's `request(msg, timeout)`).
    /// `timeout` bounds the send and the wait; the error says whether the request was sent
    /// ([`ClientError::RequestTimeout`](crate::ClientError::RequestTimeout)) or not.
    pub async fn request(&self, msg: Message, timeout: Duration) -> Result<MessageExt> {
        self.sender.request(msg, timeout).await
    }

    /// [`request`](Self::request) in the background, calling `callback` with the reply or the
    /// error; like [`send_with_callback`](Self::send_with_callback), the task belongs to the
    /// producer.
    pub fn request_with_callback<F>(&self, msg: Message, timeout: Duration, callback: F)
    where
        F: FnOnce(Result<MessageExt>) + Send + 'static,
    {
        let sender = self.sender.clone();
        self.sender.instance.spawn(async move {
            callback(sender.request(msg, timeout).await);
        });
    }

    /// The responder's half: sends the reply to `request` (a message a consumer received from
    /// [`request`](Self::request) or Java's `request`) with `body`; see
    /// [`create_reply_message`](crate::create_reply_message). The broker pushes it to the
    /// requester and says whether that worked.
    pub async fn reply(
        &self,
        request: &MessageExt,
        body: impl Into<bytes::Bytes>,
    ) -> Result<SendResult> {
        self.send(crate::reply::create_reply_message(request, body)?)
            .await
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
    /// and `offset_msg_id` are comma-joined, one per message. Like [`send`](Self::send) it
    /// takes the messages by value.
    pub async fn send_batch(&self, msgs: Vec<Message>) -> Result<SendResult> {
        let p = self.sender.prepare_batch(&msgs)?;
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
