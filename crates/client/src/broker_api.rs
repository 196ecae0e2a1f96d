//! Typed broker RPCs used by consumers and admin: offsets, pulls, group membership, queue locks
//! and send-back (protocol.md 2.5). Each wrapper picks the right broker address (the master of
//! the queue's broker), sends one request and turns the answer into a Rust value or a
//! [`ClientError`] naming the broker.

use std::collections::BTreeSet;
use std::time::Duration;

use rmq_common::{MessageExt, MessageQueue};
use rmq_remoting::body::{
    CheckClientRequestBody, GetConsumerListByGroupResponseBody, JsonBody, LockBatchRequestBody,
    LockBatchResponseBody, SubscriptionData, UnlockBatchRequestBody,
};
use rmq_remoting::header::{
    ConsumerSendMsgBackRequestHeader, GetConsumerListByGroupRequestHeader,
    GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader, GetMinOffsetRequestHeader,
    GetMinOffsetResponseHeader, LockBatchMqRequestHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, SearchOffsetRequestHeader, SearchOffsetResponseHeader,
    UnlockBatchMqRequestHeader, UnregisterClientRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::{CommandHeader, RemotingCommand, RequestCode, ResponseCode};

use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;

fn header<H: CommandHeader>(addr: &str, response: &RemotingCommand) -> Result<H> {
    response
        .decode_header()
        .map_err(|e| ClientError::BadResponse {
            addr: addr.to_owned(),
            reason: e.to_string(),
        })
}

fn body<B: JsonBody>(addr: &str, response: &RemotingCommand) -> Result<B> {
    B::from_json_bytes(&response.body).map_err(|e| ClientError::BadResponse {
        addr: addr.to_owned(),
        reason: e.to_string(),
    })
}

impl ClientInstance {
    /// The broker to ask about a queue's offsets: its master, or a slave while the master is
    /// down (slaves copy the master's offsets, and Java falls back to any replica too).
    async fn master_of(&self, mq: &MessageQueue) -> Result<String> {
        self.subscribe_addr_for(&mq.broker_name, &mq.topic)
            .await
            .map(|(a, _)| a)
    }

    /// QUERY_CONSUMER_OFFSET; `None` when the broker has no offset (QUERY_NOT_FOUND).
    pub async fn query_consumer_offset(
        &self,
        group: &str,
        mq: &MessageQueue,
    ) -> Result<Option<i64>> {
        let addr = self.master_of(mq).await?;
        let h = QueryConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            set_zero_if_not_found: Some(false),
            ..Default::default()
        };
        let req = RemotingCommand::request(RequestCode::QueryConsumerOffset, &h);
        let resp = self.invoke(&addr, req, self.options.rpc_timeout).await?;
        match ResponseCode::from(resp.code) {
            ResponseCode::Success => Ok(Some(
                header::<QueryConsumerOffsetResponseHeader>(&addr, &resp)?.offset,
            )),
            ResponseCode::QueryNotFound => Ok(None),
            _ => Err(ClientError::from_response(&addr, &resp)),
        }
    }

    /// UPDATE_CONSUMER_OFFSET.
    pub async fn update_consumer_offset(
        &self,
        group: &str,
        mq: &MessageQueue,
        offset: i64,
    ) -> Result<()> {
        let addr = self.master_of(mq).await?;
        let h = UpdateConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            commit_offset: offset,
            ..Default::default()
        };
        let req = RemotingCommand::request(RequestCode::UpdateConsumerOffset, &h);
        self.invoke_ok(&addr, req, self.options.rpc_timeout).await?;
        Ok(())
    }

    /// GET_MAX_OFFSET: the next offset to be written (exclusive).
    pub async fn max_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let addr = self.master_of(mq).await?;
        let h = GetMaxOffsetRequestHeader {
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            ..Default::default()
        };
        let req = RemotingCommand::request(RequestCode::GetMaxOffset, &h);
        let resp = self.invoke_ok(&addr, req, self.options.rpc_timeout).await?;
        Ok(header::<GetMaxOffsetResponseHeader>(&addr, &resp)?.offset)
    }

    /// GET_MIN_OFFSET: the first offset the queue still holds.
    pub async fn min_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let addr = self.master_of(mq).await?;
        let h = GetMinOffsetRequestHeader {
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            ..Default::default()
        };
        let req = RemotingCommand::request(RequestCode::GetMinOffset, &h);
        let resp = self.invoke_ok(&addr, req, self.options.rpc_timeout).await?;
        Ok(header::<GetMinOffsetResponseHeader>(&addr, &resp)?.offset)
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (first offset stored at or after `timestamp_ms`).
    pub async fn search_offset(&self, mq: &MessageQueue, timestamp_ms: i64) -> Result<i64> {
        let addr = self.master_of(mq).await?;
        let h = SearchOffsetRequestHeader {
            topic: mq.topic.clone(),
            queue_id: mq.queue_id,
            timestamp: timestamp_ms,
            ..Default::default()
        };
        let req = RemotingCommand::request(RequestCode::SearchOffsetByTimestamp, &h);
        let resp = self.invoke_ok(&addr, req, self.options.rpc_timeout).await?;
        Ok(header::<SearchOffsetResponseHeader>(&addr, &resp)?.offset)
    }

    /// GET_CONSUMER_LIST_BY_GROUP from one broker serving `topic`.
    pub async fn consumer_ids(&self, group: &str, topic: &str) -> Result<Vec<String>> {
        let route = self
            .subscribe_route(topic)
            .await?
            .ok_or_else(|| ClientError::NoRoute {
                topic: topic.to_owned(),
                name_servers: self.name_server_list(),
            })?;
        let mut names: Vec<&String> = route.brokers.keys().collect();
        names.sort();
        let mut last = None;
        for name in names {
            let Some(addr) = route.master_addr(name).or_else(|| {
                route
                    .brokers
                    .get(name)
                    .and_then(|a| a.values().next())
                    .map(String::as_str)
            }) else {
                continue;
            };
            let h = GetConsumerListByGroupRequestHeader {
                consumer_group: group.to_owned(),
                ..Default::default()
            };
            let req = RemotingCommand::request(RequestCode::GetConsumerListByGroup, &h);
            match self.invoke_ok(addr, req, self.options.rpc_timeout).await {
                Ok(resp) => {
                    return Ok(
                        body::<GetConsumerListByGroupResponseBody>(addr, &resp)?.consumer_id_list
                    )
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::BrokerNotFound(format!("any broker of {topic}"))))
    }

    /// The group's members as a broker serving `topic` sees them, this client among them. A
    /// broker that does not list this client yet (the topic's route was only just learned, so
    /// no heartbeat has reached it, or the broker restarted) gets a heartbeat at once and is
    /// asked again, rather than the member waiting for the next periodic heartbeat.
    pub async fn group_members(&self, group: &str, topic: &str) -> Result<Vec<String>> {
        let first = self.consumer_ids(group, topic).await;
        if matches!(&first, Ok(ids) if ids.contains(&self.client_id)) {
            return first;
        }
        self.heartbeat_all().await;
        self.consumer_ids(group, topic).await
    }

    /// LOCK_BATCH_MQ on the master of `broker_name`; returns the queues now held.
    pub async fn lock_batch(
        &self,
        group: &str,
        broker_name: &str,
        topic: &str,
        mqs: BTreeSet<MessageQueue>,
    ) -> Result<BTreeSet<MessageQueue>> {
        let addr = self.master_addr_for(broker_name, topic).await?;
        let b = LockBatchRequestBody {
            client_id: self.client_id.clone(),
            consumer_group: group.to_owned(),
            mq_set: mqs,
            only_this_broker: false,
        };
        let req = RemotingCommand::request(
            RequestCode::LockBatchMq,
            &LockBatchMqRequestHeader::default(),
        )
        .with_body(b.to_json_bytes());
        let resp = self.invoke_ok(&addr, req, self.options.rpc_timeout).await?;
        Ok(body::<LockBatchResponseBody>(&addr, &resp)?.lock_ok_mq_set)
    }

    /// CHECK_CLIENT_CONFIG on every master serving `sub`'s topic: an error names the first
    /// broker that cannot serve the subscription and why (a SQL92 one where
    /// `enablePropertyFilter` is off, an expression that does not parse). A topic without a
    /// route yet is not checked.
    pub async fn check_client_config(&self, group: &str, sub: &SubscriptionData) -> Result<()> {
        let Ok(Some(route)) = self.subscribe_route(&sub.topic).await else {
            return Ok(());
        };
        let mut masters: Vec<&String> = route
            .brokers
            .values()
            .filter_map(|ids| ids.get(&rmq_remoting::body::MASTER_ID))
            .collect();
        masters.sort();
        for addr in masters {
            let body = CheckClientRequestBody {
                client_id: self.client_id.clone(),
                group: group.to_owned(),
                subscription_data: Some(sub.clone()),
            };
            let req = RemotingCommand::new_request(RequestCode::CheckClientConfig)
                .with_body(body.to_json_bytes());
            self.invoke_ok(addr, req, self.options.rpc_timeout).await?;
        }
        Ok(())
    }

    /// UNLOCK_BATCH_MQ on the master of `broker_name`.
    pub async fn unlock_batch(
        &self,
        group: &str,
        broker_name: &str,
        topic: &str,
        mqs: BTreeSet<MessageQueue>,
    ) -> Result<()> {
        let addr = self.master_addr_for(broker_name, topic).await?;
        let b = UnlockBatchRequestBody {
            client_id: self.client_id.clone(),
            consumer_group: group.to_owned(),
            mq_set: mqs,
            only_this_broker: false,
        };
        let req = RemotingCommand::request(
            RequestCode::UnlockBatchMq,
            &UnlockBatchMqRequestHeader::default(),
        )
        .with_body(b.to_json_bytes());
        self.invoke_ok(&addr, req, self.options.rpc_timeout).await?;
        Ok(())
    }

    /// CONSUMER_SEND_MSG_BACK to the master of the broker the message came from; the broker
    /// re-delivers it through `%RETRY%group` on the delay schedule (`delay_level` 0) or moves it
    /// to the DLQ after `max_reconsume_times`.
    pub async fn send_back(
        &self,
        group: &str,
        broker_name: &str,
        msg: &MessageExt,
        delay_level: i32,
        max_reconsume_times: i32,
    ) -> Result<()> {
        let addr = match self.master_addr(broker_name) {
            Some(a) => a,
            None => msg.store_host.to_string(),
        };
        let h = ConsumerSendMsgBackRequestHeader {
            offset: msg.commit_log_offset,
            group: group.to_owned(),
            delay_level,
            origin_msg_id: Some(msg.msg_id()),
            origin_topic: Some(msg.message.topic.clone()),
            unit_mode: Some(false),
            max_reconsume_times: Some(max_reconsume_times),
            ..Default::default()
        };
        let req = RemotingCommand::request(RequestCode::ConsumerSendMsgBack, &h);
        self.invoke_ok(&addr, req, self.options.rpc_timeout).await?;
        Ok(())
    }

    /// UNREGISTER_CLIENT of a consumer group to every known broker.
    pub async fn unregister_consumer(&self, group: &str) {
        let h = UnregisterClientRequestHeader {
            client_id: self.client_id.clone(),
            consumer_group: Some(group.to_owned()),
            ..Default::default()
        };
        let addrs: BTreeSet<String> = self
            .brokers()
            .into_values()
            .flat_map(|a| a.into_values())
            .collect();
        let calls = addrs.iter().map(|addr| {
            let req = RemotingCommand::request(RequestCode::UnregisterClient, &h);
            async move {
                if let Err(e) = self.invoke_ok(addr, req, self.options.rpc_timeout).await {
                    tracing::debug!(addr = %addr, error = %e, "unregister failed");
                }
            }
        });
        futures::future::join_all(calls).await;
    }

    /// PULL_MESSAGE with an explicit RPC timeout (long polls need more than the default).
    pub async fn pull(
        &self,
        addr: &str,
        request: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        self.invoke(addr, request, timeout).await
    }
}
