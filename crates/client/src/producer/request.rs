//! [`Sender::request`]: the requester's half of request-reply (crate::reply).

use std::time::Duration;

use rmq_common::message::keys;
use rmq_common::{Message, MessageExt};
use tokio::time::Instant;

use super::sender::Sender;
use crate::error::{ClientError, Result};

impl Sender {
    /// Sends `msg` as a request and waits for its reply; `timeout` bounds both.
    pub async fn request(&self, mut msg: Message, timeout: Duration) -> Result<MessageExt> {
        let started = Instant::now();
        let instance = &self.instance;
        instance.check_running()?;
        let correlation_id = instance.ids.next_id();
        msg.properties
            .insert(keys::CORRELATION_ID.into(), correlation_id.clone());
        msg.properties
            .insert(keys::REPLY_TO_CLIENT.into(), instance.client_id.clone());
        msg.properties
            .insert(keys::TTL.into(), timeout.as_millis().to_string());
        let p = self.prepare(&msg)?;
        if instance.cached_route(&msg.topic).is_none() {
            // A broker pushes the reply only to a producer it knows: before the first request
            // to a topic, this client makes itself known to that topic's brokers (Java does the
            // same).
            instance.publish_route(&msg.topic).await?;
            instance.heartbeat_all().await;
        }
        let waiting = instance
            .server_requests
            .replies
            .wait_for(correlation_id.clone());
        let timed_out = || ClientError::RequestTimeout {
            topic: msg.topic.clone(),
            millis: timeout.as_millis() as u64,
            correlation_id: correlation_id.clone(),
        };
        let left = timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, self.send(&p)).await {
            Ok(sent) => {
                sent?;
            }
            Err(_) => return Err(timed_out()),
        }
        let left = timeout.saturating_sub(started.elapsed());
        waiting.reply(left).await.ok_or_else(timed_out)
    }
}
