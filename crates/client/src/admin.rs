//! [`Admin`]: topic and cluster administration and message lookups, the client side of what
//! `mqadmin` does (protocol.md 2.6 "Admin commands").
//!
//! Message lookup follows Java's `MQAdminImpl`: an id that decodes as an offset message id is
//! read with VIEW_MESSAGE_BY_ID from the store address embedded in it; otherwise (or if that
//! fails) it is taken as a `UNIQ_KEY` and looked up with QUERY_MESSAGE on every broker of the
//! topic. The broker's index matches key hashes only, so results are re-filtered by key here.

use std::collections::BTreeSet;
use std::sync::Arc;

use rmq_common::msg_id::decode_offset_msg_id;
use rmq_common::record::decode_messages;
use rmq_common::time::now_millis;
use rmq_common::topic::AUTO_CREATE_TOPIC_KEY;
use rmq_common::{MessageExt, MessageQueue, TopicConfig};
use rmq_remoting::body::{ClusterInfo, ConsumeStats, JsonBody, OffsetWrapper, TopicRouteData};
use rmq_remoting::header::{
    CreateTopicRequestHeader, DeleteTopicFromNamesrvRequestHeader, DeleteTopicRequestHeader,
    GetConsumeStatsRequestHeader, QueryMessageRequestHeader, ViewMessageRequestHeader,
    UNIQUE_MSG_QUERY_FLAG,
};
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode};

use crate::compress::decompress_message;
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::options::{client_option_setters, ClientOptions};

/// Where [`Admin::create_topic`] creates a topic.
#[derive(Debug, Clone)]
pub enum TopicTarget {
    /// Every master of this cluster.
    Cluster(String),
    /// One broker address.
    Broker(String),
}

/// Builds an [`Admin`].
#[derive(Debug, Default)]
pub struct AdminBuilder {
    options: ClientOptions,
}

impl AdminBuilder {
    client_option_setters!();

    pub fn build(self) -> Result<Admin> {
        let mut options = self.options;
        options.unique_instance_name();
        Ok(Admin {
            instance: ClientInstance::new(options)?,
        })
    }
}

/// Administration client.
#[derive(Debug, Clone)]
pub struct Admin {
    instance: Arc<ClientInstance>,
}

fn bad(addr: &str, e: impl std::fmt::Display) -> ClientError {
    ClientError::BadResponse {
        addr: addr.to_owned(),
        reason: e.to_string(),
    }
}

impl Admin {
    pub fn builder() -> AdminBuilder {
        AdminBuilder::default()
    }

    pub async fn start(&self) -> Result<()> {
        self.instance.start();
        Ok(())
    }

    pub async fn shutdown(&self) {
        self.instance.shutdown().await;
    }

    /// GET_BROKER_CLUSTER_INFO.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        let resp = self
            .instance
            .invoke_namesrv(RemotingCommand::new_request(
                RequestCode::GetBrokerClusterInfo,
            ))
            .await?;
        let ns = self.instance.name_server_list();
        if !resp.is_success() {
            return Err(ClientError::from_response(&ns, &resp));
        }
        ClusterInfo::from_json_bytes(&resp.body).map_err(|e| bad(&ns, e))
    }

    /// GET_ROUTEINFO_BY_TOPIC.
    pub async fn topic_route(&self, topic: &str) -> Result<TopicRouteData> {
        self.instance
            .fetch_route(topic)
            .await?
            .ok_or_else(|| ClientError::NoRoute {
                topic: topic.to_owned(),
                name_servers: self.instance.name_server_list(),
            })
    }

    async fn cluster_masters(&self, cluster: &str) -> Result<Vec<String>> {
        let info = self.cluster_info().await?;
        let names = info
            .cluster_addr_table
            .get(cluster)
            .ok_or_else(|| ClientError::Config(format!("unknown cluster {cluster:?}")))?;
        Ok(names
            .iter()
            .filter_map(|n| info.broker_addr_table.get(n))
            .filter_map(|b| b.master_addr().map(str::to_owned))
            .collect())
    }

    /// UPDATE_AND_CREATE_TOPIC on one broker or every master of a cluster.
    pub async fn create_topic(&self, target: TopicTarget, config: &TopicConfig) -> Result<()> {
        let addrs = match target {
            TopicTarget::Broker(a) => vec![a],
            TopicTarget::Cluster(c) => self.cluster_masters(&c).await?,
        };
        if addrs.is_empty() {
            return Err(ClientError::BrokerNotFound(
                "no master in the target".into(),
            ));
        }
        let header = CreateTopicRequestHeader {
            topic: config.topic_name.clone(),
            default_topic: AUTO_CREATE_TOPIC_KEY.to_owned(),
            read_queue_nums: config.read_queue_nums,
            write_queue_nums: config.write_queue_nums,
            perm: config.perm,
            topic_filter_type: config.topic_filter_type,
            topic_sys_flag: Some(config.topic_sys_flag),
            order: config.order,
            ..Default::default()
        };
        for addr in addrs {
            let req = RemotingCommand::request(RequestCode::UpdateAndCreateTopic, &header);
            self.instance
                .invoke_ok(&addr, req, self.instance.options.rpc_timeout)
                .await?;
        }
        Ok(())
    }

    /// Deletes a topic from the masters of its route (or of `cluster`) and from every name
    /// server.
    pub async fn delete_topic(&self, topic: &str, cluster: Option<&str>) -> Result<()> {
        let addrs: BTreeSet<String> = match cluster {
            Some(c) => self.cluster_masters(c).await?.into_iter().collect(),
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
            let req = RemotingCommand::request(RequestCode::DeleteTopicInBroker, &h);
            self.instance
                .invoke_ok(addr, req, self.instance.options.rpc_timeout)
                .await?;
        }
        let h = DeleteTopicFromNamesrvRequestHeader {
            topic: topic.to_owned(),
            cluster_name: cluster.map(str::to_owned),
            ..Default::default()
        };
        for ns in &self.instance.options.name_servers {
            let req = RemotingCommand::request(RequestCode::DeleteTopicInNamesrv, &h);
            self.instance
                .invoke_ok(ns, req, self.instance.options.rpc_timeout)
                .await?;
        }
        Ok(())
    }

    /// GET_CONSUME_STATS from every master serving `topic`, merged.
    pub async fn consume_stats(&self, group: &str, topic: &str) -> Result<ConsumeStats> {
        let route = self.topic_route(topic).await?;
        let mut out = ConsumeStats::default();
        for b in &route.broker_datas {
            let Some(addr) = b.master_addr() else {
                continue;
            };
            let h = GetConsumeStatsRequestHeader {
                consumer_group: group.to_owned(),
                topic: Some(topic.to_owned()),
                ..Default::default()
            };
            let req = RemotingCommand::request(RequestCode::GetConsumeStats, &h);
            let resp = self
                .instance
                .invoke_ok(addr, req, self.instance.options.rpc_timeout)
                .await?;
            let stats = ConsumeStats::from_json_bytes(&resp.body).map_err(|e| bad(addr, e))?;
            out.consume_tps += stats.consume_tps;
            out.offset_table.extend(stats.offset_table);
        }
        Ok(out)
    }

    /// Consumer progress computed from GET_MAX_OFFSET and QUERY_CONSUMER_OFFSET per queue (works
    /// with brokers that lack GET_CONSUME_STATS). `consumer_offset` is -1 when none is stored.
    pub async fn consumer_progress(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<Vec<(MessageQueue, OffsetWrapper)>> {
        let route =
            self.instance
                .update_route(topic)
                .await?
                .ok_or_else(|| ClientError::NoRoute {
                    topic: topic.to_owned(),
                    name_servers: self.instance.name_server_list(),
                })?;
        let mut out = Vec::with_capacity(route.subscribe_queues.len());
        for mq in &route.subscribe_queues {
            let broker_offset = self.instance.max_offset(mq).await?;
            let consumer_offset = self
                .instance
                .query_consumer_offset(group, mq)
                .await?
                .unwrap_or(-1);
            out.push((
                mq.clone(),
                OffsetWrapper {
                    broker_offset,
                    consumer_offset,
                    ..Default::default()
                },
            ));
        }
        Ok(out)
    }

    /// VIEW_MESSAGE_BY_ID on the store address inside an offset message id.
    pub async fn view_message(&self, offset_msg_id: &str) -> Result<MessageExt> {
        let (store, offset) = decode_offset_msg_id(offset_msg_id).ok_or_else(|| {
            ClientError::InvalidMessage(format!("{offset_msg_id:?} is not an offset message id"))
        })?;
        let addr = store.to_string();
        let h = ViewMessageRequestHeader {
            offset,
            ..Default::default()
        };
        let req = RemotingCommand::request(RequestCode::ViewMessageById, &h);
        let resp = self
            .instance
            .invoke_ok(&addr, req, self.instance.options.rpc_timeout)
            .await?;
        let mut msgs = decode_messages(&resp.body).map_err(|e| bad(&addr, e))?;
        let mut m = msgs
            .pop()
            .ok_or_else(|| bad(&addr, "empty VIEW_MESSAGE_BY_ID body"))?;
        decompress_message(&mut m);
        Ok(m)
    }

    /// A message by id: an offset message id first, else a `UNIQ_KEY` in `topic`.
    pub async fn query_message_by_id(&self, topic: &str, id: &str) -> Result<MessageExt> {
        if decode_offset_msg_id(id).is_some() {
            match self.view_message(id).await {
                Ok(m) => return Ok(m),
                Err(e) => tracing::debug!(id, error = %e, "not an offset id here; trying UNIQ_KEY"),
            }
        }
        let found = self.query(topic, id, 32, 0, i64::MAX, true).await?;
        found.into_iter().next().ok_or_else(|| ClientError::Broker {
            addr: self.instance.name_server_list(),
            code: ResponseCode::QueryNotFound,
            remark: format!("no message {id} in topic {topic}"),
        })
    }

    /// Messages of `topic` whose KEYS contain `key`, stored between the two times (ms).
    pub async fn query_message_by_key(
        &self,
        topic: &str,
        key: &str,
        max_num: i32,
        begin_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<MessageExt>> {
        self.query(topic, key, max_num, begin_ms, end_ms, false)
            .await
    }

    async fn query(
        &self,
        topic: &str,
        key: &str,
        max_num: i32,
        begin: i64,
        end: i64,
        uniq: bool,
    ) -> Result<Vec<MessageExt>> {
        let route = self.topic_route(topic).await?;
        let end = if end == i64::MAX {
            now_millis() + 60_000
        } else {
            end
        };
        let mut out = Vec::new();
        for b in &route.broker_datas {
            let Some(addr) = b
                .master_addr()
                .or_else(|| b.broker_addrs.values().next().map(String::as_str))
            else {
                continue;
            };
            let h = QueryMessageRequestHeader {
                topic: topic.to_owned(),
                key: key.to_owned(),
                max_num,
                begin_timestamp: begin,
                end_timestamp: end,
                ..Default::default()
            };
            let mut req = RemotingCommand::request(RequestCode::QueryMessage, &h);
            if uniq {
                req = req.with_ext_field(UNIQUE_MSG_QUERY_FLAG, "true");
            }
            let resp = self
                .instance
                .invoke(addr, req, self.instance.options.rpc_timeout * 5)
                .await?;
            match ResponseCode::from(resp.code) {
                ResponseCode::Success => {}
                ResponseCode::QueryNotFound => continue,
                _ => return Err(ClientError::from_response(addr, &resp)),
            }
            for mut m in decode_messages(&resp.body).map_err(|e| bad(addr, e))? {
                let hit = if uniq {
                    m.message.uniq_key() == Some(key)
                } else {
                    m.message.keys().any(|k| k == key)
                };
                if hit && m.message.topic == topic {
                    decompress_message(&mut m);
                    out.push(m);
                }
            }
        }
        Ok(out)
    }
}
