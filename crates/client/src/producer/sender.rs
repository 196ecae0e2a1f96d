//! [`Sender`]: the send pipeline shared by the public [`Producer`](super::Producer) and the
//! consumer's internal producer (which re-sends failed messages to `%RETRY%group`).
//!
//! Sync sends retry on another broker (`retryTimesWhenSendFailed`) after transport failures and
//! after the response codes Java retries on, within one overall send timeout (protocol.md 8.7).

use std::sync::Arc;
use std::time::Duration;

use rmq_common::time::now_millis;
use rmq_common::{Message, MessageQueue};
use rmq_remoting::RemotingCommand;
use tokio::time::Instant;

use super::encode::{
    is_retryable_code, parse_send_response, prepare_batch, prepare_message, request_header,
    EncodeLimits, PreparedMessage, SendResult,
};
use super::select::{queue_for_key, select_queue};
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::route::TopicRoute;
use crate::trace::dispatcher::Tracer;

/// Producer settings (Apache defaults in brackets).
#[derive(Debug, Clone)]
pub struct SendSettings {
    /// Producer group.
    pub group: String,
    /// Overall time for one send including retries (3 s).
    pub send_timeout: Duration,
    /// Extra attempts for sync sends on another broker (2).
    pub retry_times_when_send_failed: usize,
    /// Size limit and compression threshold.
    pub limits: EncodeLimits,
    /// The topic sends are traced to, when message trace is on.
    pub trace_topic: Option<String>,
}

impl Default for SendSettings {
    fn default() -> Self {
        SendSettings {
            group: rmq_common::topic::DEFAULT_PRODUCER_GROUP.to_owned(),
            send_timeout: Duration::from_secs(3),
            retry_times_when_send_failed: 2,
            limits: EncodeLimits {
                max_message_size: 4 * 1024 * 1024,
                compress_threshold: 4096,
                compression: crate::compress::Compression::Zlib,
            },
            trace_topic: None,
        }
    }
}

/// The send pipeline over a client instance.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub instance: Arc<ClientInstance>,
    pub settings: Arc<SendSettings>,
    /// Where sends are traced, when message trace is on.
    pub tracer: Option<Tracer>,
}

impl Sender {
    /// The pipeline for `settings` on `instance`, tracing to `settings.trace_topic` if set
    /// (which starts the client's trace dispatcher).
    pub fn new(instance: Arc<ClientInstance>, settings: SendSettings) -> Sender {
        let tracer = settings.trace_topic.as_deref().map(|topic| {
            let carrier = Sender {
                instance: instance.clone(),
                settings: Arc::new(SendSettings {
                    group: crate::trace::trace_producer_group(topic),
                    trace_topic: None,
                    ..settings.clone()
                }),
                tracer: None,
            };
            Tracer::start(carrier, topic)
        });
        Sender {
            instance,
            settings: Arc::new(settings),
            tracer,
        }
    }

    pub fn prepare(&self, msg: &Message) -> Result<PreparedMessage> {
        prepare_message(msg, &self.instance.ids, self.settings.limits)
    }

    pub fn prepare_batch(&self, msgs: &[Message]) -> Result<PreparedMessage> {
        prepare_batch(msgs, &self.instance.ids, self.settings.limits)
    }

    /// Sync send with retries on other brokers.
    pub async fn send(&self, p: &PreparedMessage) -> Result<SendResult> {
        self.instance.check_running()?;
        let deadline = Instant::now() + self.settings.send_timeout;
        let mut route = self.instance.publish_route(&p.topic).await?;
        let attempts = 1 + self.settings.retry_times_when_send_failed;
        let mut last_broker: Option<String> = None;
        let mut last_error = None;
        let mut tried = 0;
        for _ in 0..attempts {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let mq = select_queue(&route, last_broker.as_deref(), &self.instance.fault)
                .ok_or_else(|| self.no_route(&p.topic))?;
            tried += 1;
            match self.send_to(&route, &mq, p, left).await {
                Ok(r) => return Ok(r),
                Err(e) => {
                    let retry = e.is_transport()
                        || e.response_code()
                            .is_some_and(|c| is_retryable_code(c.code()));
                    if !retry {
                        return Err(e);
                    }
                    tracing::warn!(topic = %p.topic, broker = %mq.broker_name, error = %e, "send failed; retrying on another broker");
                    if e.is_transport() {
                        // The broker may be gone (a new master may have taken its place); the
                        // name servers know by now, and the next attempt uses what they say.
                        self.instance.refresh_route_after_failure(&p.topic).await;
                        if let Ok(fresh) = self.instance.publish_route(&p.topic).await {
                            route = fresh;
                        }
                    }
                    last_broker = Some(mq.broker_name.clone());
                    last_error = Some(e);
                }
            }
        }
        let last = last_error.unwrap_or(ClientError::Timeout {
            addr: "(no attempt left)".into(),
            millis: self.settings.send_timeout.as_millis() as u64,
        });
        if tried <= 1 {
            return Err(last);
        }
        Err(ClientError::SendFailed {
            attempts: tried,
            last: Box::new(last),
        })
    }

    /// One attempt to `mq`, recording the broker's latency for fault tolerance.
    pub async fn send_to(
        &self,
        route: &TopicRoute,
        mq: &MessageQueue,
        p: &PreparedMessage,
        timeout: Duration,
    ) -> Result<SendResult> {
        let addr = match route.master_addr(&mq.broker_name) {
            Some(a) => a.to_owned(),
            None => {
                self.instance
                    .master_addr_for(&mq.broker_name, &p.topic)
                    .await?
            }
        };
        let header = request_header(p, &self.settings.group, mq, now_millis());
        let request = RemotingCommand::request(p.request_code(), &header).with_body(p.body.clone());
        let started = Instant::now();
        let started_ms = now_millis();
        let result = match self.instance.invoke(&addr, request, timeout).await {
            Ok(response) => parse_send_response(&addr, mq, &p.uniq_key, &response),
            Err(e) => Err(e),
        };
        if let (Some(t), Ok(r)) = (&self.tracer, &result) {
            if r.trace_on {
                for record in
                    crate::trace::hooks::published(&self.settings.group, p, r, &addr, started_ms)
                {
                    t.record(record);
                }
            }
        }
        let failed = result.as_ref().is_err_and(ClientError::is_transport);
        self.instance
            .fault
            .record(&mq.broker_name, started.elapsed(), failed);
        result
    }

    /// Sends to one given queue; retried only on busy/transport errors, to the same queue.
    pub async fn send_to_queue(
        &self,
        p: &PreparedMessage,
        mq: &MessageQueue,
    ) -> Result<SendResult> {
        self.instance.check_running()?;
        if mq.topic != p.topic {
            return Err(ClientError::InvalidMessage(format!(
                "queue {mq} is not of the message's topic {:?}",
                p.topic
            )));
        }
        let deadline = Instant::now() + self.settings.send_timeout;
        let route = self.instance.publish_route(&p.topic).await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            let result = self.send_to(&route, mq, p, left).await;
            match result {
                Err(e)
                    if attempt <= self.settings.retry_times_when_send_failed
                        && !deadline.saturating_duration_since(Instant::now()).is_zero()
                        && (e.is_transport()
                            || e.response_code()
                                .is_some_and(|c| is_retryable_code(c.code()))) =>
                {
                    tracing::debug!(queue = %mq, error = %e, "send to queue failed; retrying");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => return other,
            }
        }
    }

    /// Picks a queue with `select(queues, message)` and sends there.
    pub async fn send_with_selector<F>(
        &self,
        p: &PreparedMessage,
        msg: &Message,
        select: F,
    ) -> Result<SendResult>
    where
        F: FnOnce(&[MessageQueue], &Message) -> usize,
    {
        self.instance.check_running()?;
        let route = self.instance.publish_route(&p.topic).await?;
        let queues = &route.publish_queues;
        if queues.is_empty() {
            return Err(self.no_route(&p.topic));
        }
        let idx = select(queues, msg) % queues.len();
        let mq = queues[idx].clone();
        self.send_to_queue(p, &mq).await
    }

    /// Ordered send: the queue is `abs(key.hashCode() % n)`.
    pub async fn send_orderly(
        &self,
        p: &PreparedMessage,
        msg: &Message,
        key: &str,
    ) -> Result<SendResult> {
        self.send_with_selector(p, msg, |qs, _| queue_for_key(key, qs.len()))
            .await
    }

    /// Oneway send: one attempt, no response.
    pub async fn send_oneway(&self, p: &PreparedMessage) -> Result<()> {
        self.instance.check_running()?;
        let route = self.instance.publish_route(&p.topic).await?;
        let mq = select_queue(&route, None, &self.instance.fault)
            .ok_or_else(|| self.no_route(&p.topic))?;
        let addr = match route.master_addr(&mq.broker_name) {
            Some(a) => a.to_owned(),
            None => return Err(ClientError::BrokerNotFound(mq.broker_name.clone())),
        };
        let header = request_header(p, &self.settings.group, &mq, now_millis());
        let request = RemotingCommand::request(p.request_code(), &header)
            .with_body(p.body.clone())
            .with_oneway();
        Ok(self
            .instance
            .remoting
            .invoke_oneway(&addr, request, self.settings.send_timeout)
            .await?)
    }

    fn no_route(&self, topic: &str) -> ClientError {
        ClientError::NoRoute {
            topic: topic.to_owned(),
            name_servers: self.instance.name_server_list(),
        }
    }
}
