//! [`AdminExt`]: the admin RPCs `mqadmin` needs that `rmq_client::Admin` does not offer yet,
//! written directly on [`RemotingClient`] with the typed headers and bodies of `rmq_remoting`.
//!
//! Each method is one request to one peer, named after what it asks, so they can move into
//! `rmq_client::Admin` unchanged later. Failures are `anyhow` errors that say which peer failed and
//! what to check, because their only reader is the operator at the terminal.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rmq_common::record::decode_messages;
use rmq_common::MessageExt;
use rmq_remoting::body::{
    ConsumeStats, ConsumerConnection, GroupList, JsonBody, KVTable, TopicList, TopicStatsTable,
};
use rmq_remoting::header::{
    pull_sys_flag, DeleteSubscriptionGroupRequestHeader, GetConsumeStatsRequestHeader,
    GetConsumerConnectionListRequestHeader, GetTopicStatsInfoRequestHeader,
    GetTopicsByClusterRequestHeader, PullMessageRequestHeader, PullMessageResponseHeader,
    PutKVConfigRequestHeader, QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader,
    QueryTopicConsumeByWhoRequestHeader, SearchOffsetRequestHeader, SearchOffsetResponseHeader,
    UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode, ResponseCode};
use serde::{Deserialize, Serialize};

/// `SubscriptionGroupConfig` (the UPDATE_AND_CREATE_SUBSCRIPTIONGROUP body) with Apache's JSON
/// names and defaults (protocol.md 2.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupConfig {
    pub attributes: BTreeMap<String, String>,
    pub broker_id: i64,
    pub consume_broadcast_enable: bool,
    pub consume_enable: bool,
    pub consume_from_min_enable: bool,
    pub consume_message_orderly: bool,
    pub consume_timeout_minute: i32,
    pub group_name: String,
    pub group_sys_flag: i32,
    pub notify_consumer_ids_changed_enable: bool,
    pub retry_max_times: i32,
    pub retry_queue_nums: i32,
    pub which_broker_when_consume_slowly: i64,
}

impl Default for SubscriptionGroupConfig {
    fn default() -> Self {
        SubscriptionGroupConfig {
            attributes: BTreeMap::new(),
            broker_id: 0,
            consume_broadcast_enable: true,
            consume_enable: true,
            consume_from_min_enable: true,
            consume_message_orderly: false,
            consume_timeout_minute: 15,
            group_name: String::new(),
            group_sys_flag: 0,
            notify_consumer_ids_changed_enable: true,
            retry_max_times: 16,
            retry_queue_nums: 1,
            which_broker_when_consume_slowly: 1,
        }
    }
}

impl JsonBody for SubscriptionGroupConfig {}

/// What a one-message pull found.
#[derive(Debug)]
pub enum PullOne {
    Found(Box<MessageExt>),
    /// No message at that offset; the queue's current range.
    NotFound {
        min_offset: i64,
        max_offset: i64,
    },
}

/// Admin RPCs on a bare remoting client.
#[derive(Debug, Clone)]
pub struct AdminExt {
    remoting: RemotingClient,
    name_servers: Vec<String>,
    timeout: Duration,
}

impl AdminExt {
    pub fn new(name_servers: Vec<String>, timeout: Duration) -> Self {
        AdminExt {
            remoting: RemotingClient::new(ClientConfig::default()),
            name_servers,
            timeout,
        }
    }

    /// The name server list as given (`a;b`).
    pub fn name_server_list(&self) -> String {
        self.name_servers.join(";")
    }

    pub async fn shutdown(&self) {
        self.remoting.shutdown().await;
    }

    /// Sends `request` to the first name server that answers.
    async fn namesrv(&self, request: RemotingCommand) -> Result<RemotingCommand> {
        let mut last = None;
        for addr in &self.name_servers {
            match self
                .remoting
                .invoke(addr, request.clone(), self.timeout)
                .await
            {
                Ok(resp) => return Ok(resp),
                Err(e) => {
                    tracing::debug!(addr = %addr, error = %e, "name server unavailable");
                    last = Some(e);
                }
            }
        }
        Err(no_name_server(
            &self.name_server_list(),
            &last.map_or_else(|| "no address given".to_owned(), |e| e.to_string()),
        ))
    }

    /// Sends `request` to every name server; each must answer SUCCESS.
    async fn every_namesrv(&self, request: RemotingCommand) -> Result<()> {
        for addr in &self.name_servers {
            let resp = self
                .remoting
                .invoke(addr, request.clone(), self.timeout)
                .await
                .map_err(|e| no_name_server(addr, &e.to_string()))?;
            expect_success(addr, &resp)?;
        }
        Ok(())
    }

    /// Sends `request` to a broker; the answer must be SUCCESS.
    async fn broker(&self, addr: &str, request: RemotingCommand) -> Result<RemotingCommand> {
        let resp = self.broker_any(addr, request).await?;
        expect_success(addr, &resp)?;
        Ok(resp)
    }

    /// Sends `request` to a broker and returns whatever it answered.
    async fn broker_any(&self, addr: &str, request: RemotingCommand) -> Result<RemotingCommand> {
        self.remoting
            .invoke(addr, request, self.timeout)
            .await
            .map_err(|e| {
                anyhow!(
                    "cannot reach the broker at {addr}: {e} — is mqbroker running there? \
                     (addresses come from -b or from the name servers' registrations)"
                )
            })
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206).
    pub async fn topic_list(&self) -> Result<TopicList> {
        let resp = self
            .namesrv(RemotingCommand::new_request(
                RequestCode::GetAllTopicListFromNameserver,
            ))
            .await?;
        let ns = self.name_server_list();
        expect_success(&ns, &resp)?;
        decode(&ns, &resp)
    }

    /// GET_TOPICS_BY_CLUSTER (224).
    pub async fn topics_by_cluster(&self, cluster: &str) -> Result<TopicList> {
        let h = GetTopicsByClusterRequestHeader {
            cluster: cluster.to_owned(),
            ..Default::default()
        };
        let resp = self
            .namesrv(RemotingCommand::request(
                RequestCode::GetTopicsByCluster,
                &h,
            ))
            .await?;
        let ns = self.name_server_list();
        expect_success(&ns, &resp)?;
        decode(&ns, &resp)
    }

    /// PUT_KV_CONFIG (100) on every name server.
    pub async fn put_kv_config(&self, namespace: &str, key: &str, value: &str) -> Result<()> {
        let h = PutKVConfigRequestHeader {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
            ..Default::default()
        };
        self.every_namesrv(RemotingCommand::request(RequestCode::PutKvConfig, &h))
            .await
    }

    /// GET_BROKER_RUNTIME_INFO (28).
    pub async fn broker_runtime_info(&self, addr: &str) -> Result<KVTable> {
        let resp = self
            .broker(
                addr,
                RemotingCommand::new_request(RequestCode::GetBrokerRuntimeInfo),
            )
            .await?;
        decode(addr, &resp)
    }

    /// GET_TOPIC_STATS_INFO (202).
    pub async fn topic_stats(&self, addr: &str, topic: &str) -> Result<TopicStatsTable> {
        let h = GetTopicStatsInfoRequestHeader {
            topic: topic.to_owned(),
            ..Default::default()
        };
        let resp = self
            .broker(
                addr,
                RemotingCommand::request(RequestCode::GetTopicStatsInfo, &h),
            )
            .await?;
        decode(addr, &resp)
    }

    /// GET_CONSUME_STATS (208) for one topic or, without one, every topic the group consumes.
    pub async fn consume_stats(
        &self,
        addr: &str,
        group: &str,
        topic: Option<&str>,
    ) -> Result<ConsumeStats> {
        let h = GetConsumeStatsRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.map(str::to_owned),
            ..Default::default()
        };
        let resp = self
            .broker(
                addr,
                RemotingCommand::request(RequestCode::GetConsumeStats, &h),
            )
            .await?;
        decode(addr, &resp)
    }

    /// GET_CONSUMER_CONNECTION_LIST (203); `None` when no consumer of the group is connected.
    pub async fn consumer_connection(
        &self,
        addr: &str,
        group: &str,
    ) -> Result<Option<ConsumerConnection>> {
        let h = GetConsumerConnectionListRequestHeader {
            consumer_group: group.to_owned(),
            ..Default::default()
        };
        let resp = self
            .broker_any(
                addr,
                RemotingCommand::request(RequestCode::GetConsumerConnectionList, &h),
            )
            .await?;
        if ResponseCode::from(resp.code) == ResponseCode::ConsumerNotOnline {
            return Ok(None);
        }
        expect_success(addr, &resp)?;
        decode(addr, &resp).map(Some)
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO (300).
    pub async fn topic_consumed_by(&self, addr: &str, topic: &str) -> Result<GroupList> {
        let h = QueryTopicConsumeByWhoRequestHeader {
            topic: topic.to_owned(),
            ..Default::default()
        };
        let resp = self
            .broker(
                addr,
                RemotingCommand::request(RequestCode::QueryTopicConsumeByWho, &h),
            )
            .await?;
        decode(addr, &resp)
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200).
    pub async fn update_subscription_group(
        &self,
        addr: &str,
        config: &SubscriptionGroupConfig,
    ) -> Result<()> {
        let req = RemotingCommand::new_request(RequestCode::UpdateAndCreateSubscriptionGroup)
            .with_body(config.to_json_bytes());
        self.broker(addr, req).await.map(drop)
    }

    /// DELETE_SUBSCRIPTIONGROUP (207).
    pub async fn delete_subscription_group(
        &self,
        addr: &str,
        group: &str,
        clean_offset: bool,
    ) -> Result<()> {
        let h = DeleteSubscriptionGroupRequestHeader {
            group_name: group.to_owned(),
            clean_offset: Some(clean_offset),
            ..Default::default()
        };
        let req = RemotingCommand::request(RequestCode::DeleteSubscriptionGroup, &h);
        self.broker(addr, req).await.map(drop)
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (29): the first offset stored at or after `timestamp` (ms).
    pub async fn search_offset(
        &self,
        addr: &str,
        topic: &str,
        queue_id: i32,
        timestamp: i64,
    ) -> Result<i64> {
        let h = SearchOffsetRequestHeader {
            topic: topic.to_owned(),
            queue_id,
            timestamp,
            ..Default::default()
        };
        let resp = self
            .broker(
                addr,
                RemotingCommand::request(RequestCode::SearchOffsetByTimestamp, &h),
            )
            .await?;
        let h: SearchOffsetResponseHeader = resp
            .decode_header()
            .with_context(|| format!("bad SEARCH_OFFSET_BY_TIMESTAMP answer from {addr}"))?;
        Ok(h.offset)
    }

    /// QUERY_CONSUMER_OFFSET (14); `None` when the group has no offset for the queue.
    pub async fn query_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
    ) -> Result<Option<i64>> {
        let h = QueryConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            set_zero_if_not_found: Some(false),
            ..Default::default()
        };
        let resp = self
            .broker_any(
                addr,
                RemotingCommand::request(RequestCode::QueryConsumerOffset, &h),
            )
            .await?;
        if ResponseCode::from(resp.code) == ResponseCode::QueryNotFound {
            return Ok(None);
        }
        expect_success(addr, &resp)?;
        let h: QueryConsumerOffsetResponseHeader = resp
            .decode_header()
            .with_context(|| format!("bad QUERY_CONSUMER_OFFSET answer from {addr}"))?;
        Ok(Some(h.offset))
    }

    /// UPDATE_CONSUMER_OFFSET (15), waiting for the broker's answer.
    pub async fn update_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Result<()> {
        let h = UpdateConsumerOffsetRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            commit_offset: offset,
            ..Default::default()
        };
        let req = RemotingCommand::request(RequestCode::UpdateConsumerOffset, &h);
        self.broker(addr, req).await.map(drop)
    }

    /// PULL_MESSAGE (11) of one message at `offset`, without suspending or committing.
    pub async fn pull_one(
        &self,
        addr: &str,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Result<PullOne> {
        let h = PullMessageRequestHeader {
            consumer_group: group.to_owned(),
            topic: topic.to_owned(),
            queue_id,
            queue_offset: offset,
            max_msg_nums: 1,
            sys_flag: pull_sys_flag::SUBSCRIPTION,
            commit_offset: 0,
            suspend_timeout_millis: 0,
            subscription: Some("*".to_owned()),
            sub_version: 0,
            expression_type: Some("TAG".to_owned()),
            ..Default::default()
        };
        let resp = self
            .broker_any(addr, RemotingCommand::request(RequestCode::PullMessage, &h))
            .await?;
        match ResponseCode::from(resp.code) {
            ResponseCode::Success => {
                let msgs = decode_messages(&resp.body)
                    .map_err(|e| anyhow!("bad PULL_MESSAGE body from {addr}: {e}"))?;
                match msgs.into_iter().find(|m| m.queue_offset == offset) {
                    Some(m) => Ok(PullOne::Found(Box::new(m))),
                    None => bail!(
                        "the broker at {addr} answered the pull of offset {offset} with other \
                         offsets"
                    ),
                }
            }
            ResponseCode::PullNotFound
            | ResponseCode::PullOffsetMoved
            | ResponseCode::PullRetryImmediately => {
                let (min_offset, max_offset) = resp
                    .decode_header::<PullMessageResponseHeader>()
                    .map_or((-1, -1), |h| (h.min_offset, h.max_offset));
                Ok(PullOne::NotFound {
                    min_offset,
                    max_offset,
                })
            }
            _ => Err(broker_said(addr, &resp)),
        }
    }
}

/// The error for "no name server answered".
pub fn no_name_server(addrs: &str, detail: &str) -> anyhow::Error {
    anyhow!(
        "no name server reachable at {addrs} — is mqnamesrv running? check -n or NAMESRV_ADDR \
         ({detail})"
    )
}

fn expect_success(addr: &str, resp: &RemotingCommand) -> Result<()> {
    if resp.is_success() {
        Ok(())
    } else {
        Err(broker_said(addr, resp))
    }
}

fn broker_said(addr: &str, resp: &RemotingCommand) -> anyhow::Error {
    let code = ResponseCode::from(resp.code);
    let remark = resp.remark.as_deref().unwrap_or("");
    let hint = match code {
        ResponseCode::TopicNotExist => " — create the topic with mqadmin updateTopic",
        ResponseCode::SubscriptionGroupNotExist => {
            " — create the group with mqadmin updateSubGroup, or start a consumer of it"
        }
        ResponseCode::RequestCodeNotSupported => " — this broker version does not support it",
        ResponseCode::NoPermission => " — check the topic's or broker's perm",
        _ => "",
    };
    anyhow!("{addr} answered {code} ({}): {remark}{hint}", resp.code)
}

fn decode<T: JsonBody>(addr: &str, resp: &RemotingCommand) -> Result<T> {
    T::from_json_bytes(&resp.body).map_err(|e| anyhow!("bad response body from {addr}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_group_json_has_apache_names_in_order() {
        let g = SubscriptionGroupConfig {
            group_name: "G".into(),
            ..Default::default()
        };
        let text = String::from_utf8(g.to_json_bytes().to_vec()).unwrap_or_default();
        assert!(text.starts_with(r#"{"attributes":{},"brokerId":0,"consumeBroadcastEnable":true"#));
        assert!(text.contains(r#""groupName":"G""#) && text.contains(r#""retryMaxTimes":16"#));
        let back = SubscriptionGroupConfig::from_json_bytes(br#"{"groupName":"G"}"#).ok();
        assert_eq!(back, Some(g));
    }
}
