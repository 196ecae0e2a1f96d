//! Consumer and producer group calls: group configs (create/update, delete, list), consume
//! stats, and who is connected (consumer and producer connections, a consumer's running info,
//! which the broker fetches from the client itself).
//!
//! Group configs live on each master separately, so the writes take one address and callers
//! loop over [`Admin::cluster_masters`]; the reads that span a cluster merge what every master
//! answers.

use std::collections::BTreeSet;

use rmq_common::topic::RETRY_GROUP_TOPIC_PREFIX;
use rmq_remoting::body::{
    Connection, ConsumeMessageDirectlyResult, ConsumeStats, ConsumerConnection,
    ConsumerRunningInfo, ProducerConnection, SubscriptionGroupConfig, SubscriptionGroupWrapper,
};
use rmq_remoting::header::{
    ConsumeMessageDirectlyResultRequestHeader, DeleteSubscriptionGroupRequestHeader,
    GetConsumeStatsRequestHeader, GetConsumerConnectionListRequestHeader,
    GetConsumerRunningInfoRequestHeader, GetProducerConnectionListRequestHeader,
};
use rmq_remoting::{RequestCode, ResponseCode};

use super::rpc::{bare, request};
use super::Admin;
use crate::error::Result;

impl Admin {
    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200) on one broker.
    pub async fn update_subscription_group(
        &self,
        addr: &str,
        config: &SubscriptionGroupConfig,
    ) -> Result<()> {
        let req = bare(RequestCode::UpdateAndCreateSubscriptionGroup)
            .with_body(rmq_remoting::body::JsonBody::to_json_bytes(config));
        self.call(addr, req).await.map(drop)
    }

    /// DELETE_SUBSCRIPTIONGROUP (207) on one broker; `clean_offset` also drops its offsets.
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
        let req = request(RequestCode::DeleteSubscriptionGroup, &h);
        self.call(addr, req).await.map(drop)
    }

    /// GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201): every group config of one broker.
    pub async fn all_subscription_groups(&self, addr: &str) -> Result<SubscriptionGroupWrapper> {
        let req = bare(RequestCode::GetAllSubscriptionGroupConfig);
        self.call(addr, req).await?.body()
    }

    /// Every consumer group of the cluster, found as Apache's `consumerProgress` finds them:
    /// each group has a `%RETRY%<group>` topic registered with the name servers.
    pub async fn group_list(&self) -> Result<BTreeSet<String>> {
        let topics = self.topic_list().await?;
        Ok(topics
            .topic_list
            .iter()
            .filter_map(|t| t.strip_prefix(RETRY_GROUP_TOPIC_PREFIX))
            .map(str::to_owned)
            .collect())
    }

    /// GET_CONSUME_STATS (208) from one broker, for `topic` or every topic the group consumes.
    pub async fn consume_stats_at(
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
        self.call(addr, request(RequestCode::GetConsumeStats, &h))
            .await?
            .body()
    }

    /// GET_CONSUME_STATS from every master serving `topic`, merged.
    pub async fn consume_stats(&self, group: &str, topic: &str) -> Result<ConsumeStats> {
        let route = self.topic_route(topic).await?;
        let mut out = ConsumeStats::default();
        for b in &route.broker_datas {
            let Some(addr) = b.master_addr() else {
                continue;
            };
            let stats = self.consume_stats_at(addr, group, Some(topic)).await?;
            out.consume_tps += stats.consume_tps;
            out.offset_table.extend(stats.offset_table);
        }
        Ok(out)
    }

    /// GET_CONSUME_STATS from every master of every cluster, for `topic` or every topic the
    /// group consumes, merged.
    pub async fn consume_stats_everywhere(
        &self,
        group: &str,
        topic: Option<&str>,
    ) -> Result<ConsumeStats> {
        let info = self.cluster_info().await?;
        let mut out = ConsumeStats::default();
        for b in info.broker_addr_table.values() {
            let Some(addr) = b.master_addr() else {
                continue;
            };
            let stats = self.consume_stats_at(addr, group, topic).await?;
            out.consume_tps += stats.consume_tps;
            out.offset_table.extend(stats.offset_table);
        }
        Ok(out)
    }

    /// GET_CONSUMER_CONNECTION_LIST (203) from one broker; `None` when no consumer of the
    /// group is connected to it (CONSUMER_NOT_ONLINE).
    pub async fn consumer_connection(
        &self,
        addr: &str,
        group: &str,
    ) -> Result<Option<ConsumerConnection>> {
        let h = GetConsumerConnectionListRequestHeader {
            consumer_group: group.to_owned(),
            ..Default::default()
        };
        let req = request(RequestCode::GetConsumerConnectionList, &h);
        match self
            .call_or_absent(addr, req, &[ResponseCode::ConsumerNotOnline])
            .await?
        {
            Some(reply) => reply.body().map(Some),
            None => Ok(None),
        }
    }

    /// The group's consumer connections as every master sees them, merged; `None` when no
    /// broker has one.
    pub async fn group_connections(&self, group: &str) -> Result<Option<ConsumerConnection>> {
        let info = self.cluster_info().await?;
        let mut merged: Option<ConsumerConnection> = None;
        for b in info.broker_addr_table.values() {
            let Some(addr) = b.master_addr() else {
                continue;
            };
            let Some(cc) = self.consumer_connection(addr, group).await? else {
                continue;
            };
            match &mut merged {
                None => merged = Some(cc),
                Some(m) => {
                    m.connection_set.extend(cc.connection_set);
                    m.subscription_table.extend(cc.subscription_table);
                }
            }
        }
        Ok(merged)
    }

    /// GET_CONSUMER_RUNNING_INFO (307): the broker asks the consumer `client_id` of `group`
    /// for its queues, offsets and rates (and a thread dump if `jstack`).
    pub async fn consumer_running_info(
        &self,
        addr: &str,
        group: &str,
        client_id: &str,
        jstack: bool,
    ) -> Result<ConsumerRunningInfo> {
        let h = GetConsumerRunningInfoRequestHeader {
            consumer_group: group.to_owned(),
            client_id: client_id.to_owned(),
            jstack_enable: Some(jstack),
            ..Default::default()
        };
        self.call(addr, request(RequestCode::GetConsumerRunningInfo, &h))
            .await?
            .body()
    }

    /// The running info of `group`'s members (only `client_id`'s when given), with their
    /// connections: one pass over the masters, each member asked through the first master it
    /// is connected to.
    pub async fn group_running_info(
        &self,
        group: &str,
        client_id: Option<&str>,
        jstack: bool,
    ) -> Result<Vec<(Connection, ConsumerRunningInfo)>> {
        let info = self.cluster_info().await?;
        let mut seen = std::collections::BTreeSet::new();
        let mut members = Vec::new();
        for b in info.broker_addr_table.values() {
            let Some(addr) = b.master_addr() else {
                continue;
            };
            let Some(cc) = self.consumer_connection(addr, group).await? else {
                continue;
            };
            for c in cc.connection_set {
                if client_id.is_some_and(|id| id != c.client_id)
                    || !seen.insert(c.client_id.clone())
                {
                    continue;
                }
                let running = self
                    .consumer_running_info(addr, group, &c.client_id, jstack)
                    .await?;
                members.push((c, running));
            }
        }
        Ok(members)
    }

    /// GET_PRODUCER_CONNECTION_LIST (204): the producers of `group` connected to one broker.
    pub async fn producer_connection(&self, addr: &str, group: &str) -> Result<ProducerConnection> {
        let h = GetProducerConnectionListRequestHeader {
            producer_group: group.to_owned(),
            ..Default::default()
        };
        self.call(addr, request(RequestCode::GetProducerConnectionList, &h))
            .await?
            .body()
    }

    /// CONSUME_MESSAGE_DIRECTLY (309): the consumer `client_id` of `group` runs its listener on
    /// the message stored at `offset_msg_id` on the broker at `addr`, outside the normal flow
    /// (nothing is committed or retried), and says how it went.
    pub async fn consume_message_directly(
        &self,
        addr: &str,
        group: &str,
        client_id: &str,
        topic: &str,
        offset_msg_id: &str,
    ) -> Result<ConsumeMessageDirectlyResult> {
        let h = ConsumeMessageDirectlyResultRequestHeader {
            consumer_group: group.to_owned(),
            client_id: Some(client_id.to_owned()),
            msg_id: offset_msg_id.to_owned(),
            topic: Some(topic.to_owned()),
            ..Default::default()
        };
        self.call(addr, request(RequestCode::ConsumeMessageDirectly, &h))
            .await?
            .body()
    }
}
