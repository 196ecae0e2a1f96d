//! Topic calls: routes and lists from the name servers, per-broker stats and config, and
//! topic create/update/delete across a cluster's masters and every name server.

use std::collections::{BTreeMap, BTreeSet};

use rmq_common::topic::AUTO_CREATE_TOPIC_KEY;
use rmq_common::{MessageQueue, TopicConfig};
use rmq_remoting::body::{
    GroupList, TopicConfigSerializeWrapper, TopicList, TopicRouteData, TopicStatsTable,
};
use rmq_remoting::header::{
    CreateTopicRequestHeader, DeleteTopicFromNamesrvRequestHeader, DeleteTopicRequestHeader,
    GetTopicStatsInfoRequestHeader, GetTopicsByClusterRequestHeader,
    QueryTopicConsumeByWhoRequestHeader,
};
use rmq_remoting::RequestCode;

use super::rpc::{bare, request};
use super::Admin;
use crate::consumer::allocate::allocate_averagely;
use crate::error::{ClientError, Result};

/// Where [`Admin::create_topic`] creates a topic.
#[derive(Debug, Clone)]
pub enum TopicTarget {
    /// Every master of this cluster.
    Cluster(String),
    /// One broker address.
    Broker(String),
}

impl Admin {
    /// GET_ROUTEINFO_BY_TOPIC (105); a topic the name servers do not know is
    /// [`ClientError::NoRoute`].
    pub async fn topic_route(&self, topic: &str) -> Result<TopicRouteData> {
        self.instance
            .fetch_route(topic)
            .await?
            .ok_or_else(|| ClientError::NoRoute {
                topic: topic.to_owned(),
                name_servers: self.instance.name_server_list(),
            })
    }

    /// What each of `client_ids` would own of `topic`'s readable queues as members of one
    /// consumer group allocating averagely (`mqadmin allocateMQ`): queues and members sorted, as
    /// the consumers themselves sort them.
    pub async fn allocate_queues(
        &self,
        topic: &str,
        client_ids: &[String],
    ) -> Result<BTreeMap<String, Vec<MessageQueue>>> {
        let route = crate::route::TopicRoute::new(topic, self.topic_route(topic).await?);
        Ok(client_ids
            .iter()
            .map(|c| {
                let owned = allocate_averagely(c, &route.subscribe_queues, client_ids);
                (c.clone(), owned)
            })
            .collect())
    }

    /// The clusters serving `topic`: those whose broker names include a broker of its route
    /// (Java's `getTopicClusterList`).
    pub async fn topic_clusters(&self, topic: &str) -> Result<BTreeSet<String>> {
        let route = self.topic_route(topic).await?;
        let info = self.cluster_info().await?;
        let mut out = BTreeSet::new();
        for b in &route.broker_datas {
            for (cluster, names) in &info.cluster_addr_table {
                if names.contains(&b.broker_name) {
                    out.insert(cluster.clone());
                }
            }
        }
        Ok(out)
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206): every topic registered.
    pub async fn topic_list(&self) -> Result<TopicList> {
        self.call_namesrv(bare(RequestCode::GetAllTopicListFromNameserver))
            .await?
            .body()
    }

    /// GET_TOPICS_BY_CLUSTER (224): the topics of one cluster.
    pub async fn topics_by_cluster(&self, cluster: &str) -> Result<TopicList> {
        let h = GetTopicsByClusterRequestHeader {
            cluster: cluster.to_owned(),
            ..Default::default()
        };
        let req = request(RequestCode::GetTopicsByCluster, &h);
        self.call_namesrv(req).await?.body()
    }

    /// GET_TOPIC_STATS_INFO (202) from one broker: min/max offset per queue.
    pub async fn topic_stats(&self, addr: &str, topic: &str) -> Result<TopicStatsTable> {
        let h = GetTopicStatsInfoRequestHeader {
            topic: topic.to_owned(),
            ..Default::default()
        };
        let req = request(RequestCode::GetTopicStatsInfo, &h);
        self.call(addr, req).await?.body()
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO (300): the groups one broker knows to consume `topic`.
    pub async fn topic_consumed_by(&self, addr: &str, topic: &str) -> Result<GroupList> {
        let h = QueryTopicConsumeByWhoRequestHeader {
            topic: topic.to_owned(),
            ..Default::default()
        };
        let req = request(RequestCode::QueryTopicConsumeByWho, &h);
        self.call(addr, req).await?.body()
    }

    /// GET_ALL_TOPIC_CONFIG (21): every topic config of one broker.
    pub async fn all_topic_config(&self, addr: &str) -> Result<TopicConfigSerializeWrapper> {
        self.call(addr, bare(RequestCode::GetAllTopicConfig))
            .await?
            .body()
    }

    /// UPDATE_AND_CREATE_TOPIC (17) on one broker or every master of a cluster; the config's
    /// attributes (`message.type` = FIFO, ...) are set on the broker's topic.
    pub async fn create_topic(&self, target: TopicTarget, config: &TopicConfig) -> Result<()> {
        let addrs = match target {
            TopicTarget::Broker(a) => vec![a],
            TopicTarget::Cluster(c) => self
                .cluster_masters(&c)
                .await?
                .into_iter()
                .map(|m| m.addr)
                .collect(),
        };
        let header = CreateTopicRequestHeader {
            topic: config.topic_name.clone(),
            default_topic: AUTO_CREATE_TOPIC_KEY.to_owned(),
            read_queue_nums: config.read_queue_nums,
            write_queue_nums: config.write_queue_nums,
            perm: config.perm,
            topic_filter_type: config.topic_filter_type,
            topic_sys_flag: Some(config.topic_sys_flag),
            order: config.order,
            attributes: attributes_spec(&config.attributes),
            ..Default::default()
        };
        for addr in addrs {
            let req = request(RequestCode::UpdateAndCreateTopic, &header);
            self.call(&addr, req).await?;
        }
        Ok(())
    }

    /// DELETE_TOPIC_IN_BROKER (215) on the brokers of the topic's route (or every master of
    /// `cluster`), then DELETE_TOPIC_IN_NAMESRV (216) on every name server.
    pub async fn delete_topic(&self, topic: &str, cluster: Option<&str>) -> Result<()> {
        let addrs: BTreeSet<String> = match cluster {
            Some(c) => self
                .cluster_masters(c)
                .await?
                .into_iter()
                .map(|m| m.addr)
                .collect(),
            None => self
                .topic_route(topic)
                .await?
                .broker_datas
                .iter()
                .flat_map(|b| b.broker_addrs.values().cloned())
                .collect(),
        };
        let h = DeleteTopicRequestHeader {
            topic: topic.to_owned(),
            ..Default::default()
        };
        for addr in &addrs {
            self.call(addr, request(RequestCode::DeleteTopicInBroker, &h))
                .await?;
        }
        let h = DeleteTopicFromNamesrvRequestHeader {
            topic: topic.to_owned(),
            cluster_name: cluster.map(str::to_owned),
            ..Default::default()
        };
        self.call_every_namesrv(request(RequestCode::DeleteTopicInNamesrv, &h))
            .await
    }
}

/// Topic attributes as the create header carries them: `+key=value,+key2=value2`.
fn attributes_spec(attrs: &std::collections::BTreeMap<String, String>) -> Option<String> {
    (!attrs.is_empty()).then(|| {
        attrs
            .iter()
            .map(|(k, v)| format!("+{}={v}", k.trim_start_matches('+')))
            .collect::<Vec<_>>()
            .join(",")
    })
}
