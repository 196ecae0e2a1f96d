//! Request-reply (Apache 4.6+): a requester sends a message and waits for the one reply to it; a
//! responder consumes the request and sends the reply it builds with [`create_reply_message`].
//!
//! The request carries `CORRELATION_ID` (what pairs the reply with it), `REPLY_TO_CLIENT` (the
//! requester's client id) and `TTL` (how long it waits, ms); the broker that stores it adds
//! `CLUSTER`. The reply goes to `{cluster}_REPLY_TOPIC` with `MSG_TYPE=reply` and the same three
//! properties; the broker that receives it pushes it to the requester's connection
//! (PUSH_REPLY_MESSAGE_TO_CLIENT), where [`ReplyWaiters`] hands it to the waiting request.
//!
//! ```no_run
//! # async fn demo(p: rmq_client::Producer, request: rmq_client::MessageExt)
//! #     -> Result<(), rmq_client::ClientError> {
//! // The requester:
//! let reply = p.request(rmq_client::Message::new("RequestTopic", "ping"),
//!     std::time::Duration::from_secs(3)).await?;
//! // The responder, in its consumer's listener:
//! p.send(rmq_client::create_reply_message(&request, "pong")?).await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use rmq_common::message::keys;
use rmq_common::topic::reply_topic;
use rmq_common::{Message, MessageExt};
use tokio::sync::oneshot;

use crate::error::{ClientError, Result};

/// The replies this client's requests wait for, by correlation id.
#[derive(Clone, Default)]
pub(crate) struct ReplyWaiters {
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<MessageExt>>>>,
}

/// One request's place in [`ReplyWaiters`]; leaving it (answered, timed out, dropped) frees it.
pub(crate) struct Waiting {
    waiters: ReplyWaiters,
    correlation_id: String,
    reply: oneshot::Receiver<MessageExt>,
}

impl ReplyWaiters {
    /// Waits for the reply to `correlation_id` from now on.
    pub fn wait_for(&self, correlation_id: String) -> Waiting {
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().insert(correlation_id.clone(), tx);
        Waiting {
            waiters: self.clone(),
            correlation_id,
            reply: rx,
        }
    }

    /// Hands a pushed reply to its request; `false` when no request waits for it (it came late,
    /// or answers another client's request).
    pub fn deliver(&self, reply: MessageExt) -> bool {
        let Some(id) = reply.property(keys::CORRELATION_ID) else {
            return false;
        };
        match self.waiting.lock().remove(id) {
            Some(tx) => tx.send(reply).is_ok(),
            None => false,
        }
    }

    /// How many requests wait (for tests and diagnostics).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.waiting.lock().len()
    }
}

impl Waiting {
    /// The reply, or `None` if none came in `timeout`.
    pub async fn reply(mut self, timeout: std::time::Duration) -> Option<MessageExt> {
        tokio::time::timeout(timeout, &mut self.reply)
            .await
            .ok()
            .and_then(|r| r.ok())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.waiters.waiting.lock().remove(&self.correlation_id);
    }
}

/// The reply to `request` with `body` (Java's `MessageUtil.createReplyMessage`): addressed to the
/// reply topic of the cluster that stored the request, carrying its correlation id, requester
/// and time to live. Send it with any producer.
///
/// Fails when `request` is not a request: it has no `CLUSTER` (every broker adds it on store)
/// or no `REPLY_TO_CLIENT`/`CORRELATION_ID` (set by `Producer::request`).
pub fn create_reply_message(request: &MessageExt, body: impl Into<Bytes>) -> Result<Message> {
    let missing = |key: &str| {
        ClientError::InvalidMessage(format!(
            "create reply message fail, requestMessage error, property[{key}] is null"
        ))
    };
    let cluster = request
        .property(keys::CLUSTER)
        .ok_or_else(|| missing(keys::CLUSTER))?;
    let reply_to = request
        .property(keys::REPLY_TO_CLIENT)
        .ok_or_else(|| missing(keys::REPLY_TO_CLIENT))?;
    let correlation_id = request
        .property(keys::CORRELATION_ID)
        .ok_or_else(|| missing(keys::CORRELATION_ID))?;
    let mut reply = Message::new(reply_topic(cluster), body)
        .with_property(keys::MSG_TYPE, keys::REPLY_MESSAGE_FLAG)
        .with_property(keys::CORRELATION_ID, correlation_id)
        .with_property(keys::REPLY_TO_CLIENT, reply_to);
    if let Some(ttl) = request.property(keys::TTL) {
        reply = reply.with_property(keys::TTL, ttl);
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(props: &[(&str, &str)]) -> MessageExt {
        let mut m = Message::new("Req", "x");
        for (k, v) in props {
            m = m.with_property(*k, *v);
        }
        MessageExt {
            message: m,
            queue_id: 0,
            store_size: 0,
            queue_offset: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp: 0,
            store_host: "127.0.0.1:2".parse().unwrap(),
            commit_log_offset: 0,
            body_crc: 0,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        }
    }

    #[test]
    fn a_reply_goes_to_the_cluster_reply_topic_with_the_request_ids() {
        let req = stored(&[
            (keys::CLUSTER, "DefaultCluster"),
            (keys::REPLY_TO_CLIENT, "10.0.0.1@1"),
            (keys::CORRELATION_ID, "C1"),
            (keys::TTL, "3000"),
        ]);
        let r = create_reply_message(&req, "pong").unwrap();
        assert_eq!(r.topic, "DefaultCluster_REPLY_TOPIC");
        assert_eq!(r.property(keys::MSG_TYPE), Some("reply"));
        assert_eq!(r.property(keys::CORRELATION_ID), Some("C1"));
        assert_eq!(r.property(keys::REPLY_TO_CLIENT), Some("10.0.0.1@1"));
        assert_eq!(r.property(keys::TTL), Some("3000"));
        assert_eq!(&r.body[..], b"pong");
    }

    #[test]
    fn a_message_that_is_no_request_gets_no_reply() {
        let e = create_reply_message(&stored(&[(keys::REPLY_TO_CLIENT, "x")]), "p").unwrap_err();
        assert!(e.to_string().contains("property[CLUSTER] is null"), "{e}");
    }

    #[tokio::test]
    async fn a_reply_reaches_its_request_once_and_a_late_one_nobody() {
        let w = ReplyWaiters::default();
        let waiting = w.wait_for("C1".into());
        let reply = stored(&[(keys::CORRELATION_ID, "C1")]);
        assert!(!w.deliver(stored(&[(keys::CORRELATION_ID, "C2")])));
        assert!(w.deliver(reply.clone()));
        assert!(!w.deliver(reply.clone()), "a second reply finds no request");
        let got = waiting
            .reply(std::time::Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(got, reply);
        let timed_out = w.wait_for("C3".into());
        assert!(timed_out
            .reply(std::time::Duration::from_millis(1))
            .await
            .is_none());
        assert_eq!(
            w.len(),
            0,
            "a request that stopped waiting leaves nothing behind"
        );
    }
}
