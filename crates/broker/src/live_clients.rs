//! Which 5.x clients are connected now: a client counts while it keeps a Telemetry stream open.
//! POP's automatic renewal keeps a message invisible only while its receiver is connected, and
//! a connected consumer is listed with its group (`mqadmin consumerConnection`) like a remoting
//! one. An admin's question for a consumer (its thread dump, or consuming one message on
//! request) reaches a connected 5.x client over its Telemetry stream. A leaf: the gRPC front
//! door updates it, the revive task and the admin processors read it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use rmq_remoting::body::{Connection, SubscriptionData};
use tokio::sync::{mpsc, oneshot};

/// A connected 5.x consumer as the admin requests show it.
#[derive(Debug, Clone)]
pub struct GrpcConsumer {
    pub group: String,
    pub connection: Connection,
    pub subscriptions: Vec<SubscriptionData>,
}

/// What the broker asks a connected 5.x client (Telemetry's PrintThreadStackTraceCommand and
/// VerifyMessageCommand).
#[derive(Debug, Clone)]
pub enum ClientAsk {
    /// Its threads' stack traces.
    ThreadStackTrace,
    /// Consume this stored record with its listener, outside the normal flow.
    VerifyMessage(Bytes),
}

/// A client's answer: its `apache.rocketmq.v2.Code` and message, and the stack traces asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAnswer {
    pub code: i32,
    pub message: String,
    pub thread_stack_trace: Option<String>,
}

/// One question on its way to the task that owns the client's Telemetry stream.
#[derive(Debug)]
pub struct ClientCall {
    pub ask: ClientAsk,
    pub answer: oneshot::Sender<ClientAnswer>,
}

/// Why a question got no answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    #[error("client {0} has no open Telemetry stream")]
    NotConnected(String),
    #[error("client {0} has too many questions waiting; try again")]
    Busy(String),
    #[error("client {0} did not answer within {1:?}")]
    Timeout(String, Duration),
    #[error("client {0} closed its Telemetry stream before answering")]
    Closed(String),
}

/// Questions waiting for one client's Telemetry task, at most this many.
pub const CALLS_QUEUED: usize = 16;

#[derive(Default)]
struct Client {
    streams: usize,
    consumer: Option<GrpcConsumer>,
    /// The newest Telemetry stream's task, which relays questions to the client.
    calls: Option<mpsc::Sender<ClientCall>>,
}

#[derive(Default)]
pub struct LiveClients {
    open: Mutex<HashMap<Arc<str>, Client>>,
}

/// One open stream of a client; the client stops counting when its last guard drops.
pub struct Connected {
    clients: Arc<LiveClients>,
    id: Arc<str>,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut open = self.clients.open.lock();
        if let Some(c) = open.get_mut(&self.id) {
            c.streams -= 1;
            if c.streams == 0 {
                open.remove(&self.id);
            }
        }
    }
}

impl LiveClients {
    /// Counts `id` as connected until the guard drops.
    pub fn connect(self: &Arc<Self>, id: &str) -> Connected {
        let id: Arc<str> = Arc::from(id);
        self.open.lock().entry(id.clone()).or_default().streams += 1;
        Connected {
            clients: self.clone(),
            id,
        }
    }

    pub fn is_connected(&self, id: &str) -> bool {
        self.open.lock().contains_key(id)
    }

    /// Records what a connected client consumes (from its Settings).
    pub fn set_consumer(&self, id: &str, consumer: GrpcConsumer) {
        if let Some(c) = self.open.lock().get_mut(id) {
            c.consumer = Some(consumer);
        }
    }

    /// Questions for `id` go to `calls` from now on (its newest Telemetry stream).
    pub fn serve_calls(&self, id: &str, calls: mpsc::Sender<ClientCall>) {
        if let Some(c) = self.open.lock().get_mut(id) {
            c.calls = Some(calls);
        }
    }

    /// Asks the connected client `id` and waits up to `timeout` for its answer.
    pub async fn call(
        &self,
        id: &str,
        ask: ClientAsk,
        timeout: Duration,
    ) -> Result<ClientAnswer, CallError> {
        let calls = self
            .open
            .lock()
            .get(id)
            .and_then(|c| c.calls.clone())
            .ok_or_else(|| CallError::NotConnected(id.to_owned()))?;
        let (answer, answered) = oneshot::channel();
        calls
            .try_send(ClientCall { ask, answer })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => CallError::Busy(id.to_owned()),
                mpsc::error::TrySendError::Closed(_) => CallError::NotConnected(id.to_owned()),
            })?;
        match tokio::time::timeout(timeout, answered).await {
            Ok(Ok(a)) => Ok(a),
            Ok(Err(_)) => Err(CallError::Closed(id.to_owned())),
            Err(_) => Err(CallError::Timeout(id.to_owned(), timeout)),
        }
    }

    /// The consumer `id` if it is connected and consumes for `group`.
    pub fn consumer(&self, group: &str, id: &str) -> Option<GrpcConsumer> {
        self.open
            .lock()
            .get(id)
            .and_then(|c| c.consumer.clone())
            .filter(|c| c.group == group)
    }

    /// The connected consumers of `group`.
    pub fn consumers_of(&self, group: &str) -> Vec<GrpcConsumer> {
        self.open
            .lock()
            .values()
            .filter_map(|c| c.consumer.clone())
            .filter(|c| c.group == group)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_while_a_stream_is_open() {
        let c = Arc::new(LiveClients::default());
        let a = c.connect("x");
        let b = c.connect("x");
        c.set_consumer(
            "x",
            GrpcConsumer {
                group: "g".into(),
                connection: Connection::default(),
                subscriptions: Vec::new(),
            },
        );
        drop(a);
        assert!(c.is_connected("x"));
        assert_eq!(c.consumers_of("g").len(), 1);
        drop(b);
        assert!(!c.is_connected("x"));
        assert!(c.consumers_of("g").is_empty());
    }

    #[tokio::test]
    async fn a_question_reaches_the_stream_task_and_its_answer_comes_back() {
        let c = Arc::new(LiveClients::default());
        let wait = Duration::from_secs(5);
        assert_eq!(
            c.call("x", ClientAsk::ThreadStackTrace, wait).await,
            Err(CallError::NotConnected("x".into()))
        );
        let _open = c.connect("x");
        let (tx, mut rx) = mpsc::channel(CALLS_QUEUED);
        c.serve_calls("x", tx);
        let task = tokio::spawn(async move {
            let call = rx.recv().await.unwrap();
            assert!(matches!(call.ask, ClientAsk::ThreadStackTrace));
            call.answer
                .send(ClientAnswer {
                    code: 20000,
                    message: "OK".into(),
                    thread_stack_trace: Some("main".into()),
                })
                .unwrap();
            // The next question is dropped unanswered: the stream closed.
            drop(rx.recv().await.unwrap());
        });
        let a = c
            .call("x", ClientAsk::ThreadStackTrace, wait)
            .await
            .unwrap();
        assert_eq!(a.thread_stack_trace.as_deref(), Some("main"));
        assert_eq!(
            c.call("x", ClientAsk::ThreadStackTrace, wait).await,
            Err(CallError::Closed("x".into()))
        );
        task.await.unwrap();
    }
}
