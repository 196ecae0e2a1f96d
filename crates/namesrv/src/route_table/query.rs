//! Read side of the [`RouteTable`] (routes, cluster info, topic lists) and the admin edits of
//! topics (delete, write permission), kept apart from registration so each file holds one idea.

use std::collections::BTreeMap;

use rmq_common::perm;
use rmq_remoting::body::{ClusterInfo, TopicList, TopicRouteData};

use super::RouteTable;

impl RouteTable {
    /// The route of `topic` (`pickupTopicRouteData`): its queue data and the brokers holding it.
    /// `None` (TOPIC_NOT_EXIST) unless both queue data and at least one broker are known.
    /// `orderTopicConf` is the caller's (it lives in the KV store).
    pub fn route(&self, topic: &str) -> Option<TopicRouteData> {
        let queues = self.topic_queues.get(topic)?;
        let broker_datas: Vec<_> = queues
            .keys()
            .filter_map(|name| self.brokers.get(name).cloned())
            .collect();
        if broker_datas.is_empty() {
            return None;
        }
        let mut filter_server_table = BTreeMap::new();
        if !self.filter_servers.is_empty() {
            for broker in &broker_datas {
                for addr in broker.broker_addrs.values() {
                    let key = super::BrokerAddrKey::new(&broker.cluster, addr);
                    if let Some(servers) = self.filter_servers.get(&key) {
                        filter_server_table.insert(addr.clone(), servers.clone());
                    }
                }
            }
        }
        Some(TopicRouteData {
            broker_datas,
            filter_server_table,
            order_topic_conf: None,
            queue_datas: queues.values().cloned().collect(),
            topic_queue_mapping_by_broker: None,
        })
    }

    /// Every broker and cluster (GET_BROKER_CLUSTER_INFO).
    pub fn cluster_info(&self) -> ClusterInfo {
        ClusterInfo {
            broker_addr_table: self.brokers.clone(),
            cluster_addr_table: self.clusters.clone(),
        }
    }

    /// Every topic with queue data (GET_ALL_TOPIC_LIST_FROM_NAMESERVER).
    pub fn all_topics(&self) -> TopicList {
        TopicList {
            broker_addr: None,
            topic_list: self.topic_queues.keys().cloned().collect(),
        }
    }

    /// Topics with queues on any broker of `cluster` (GET_TOPICS_BY_CLUSTER).
    pub fn topics_by_cluster(&self, cluster: &str) -> TopicList {
        let mut list = TopicList::default();
        if let Some(names) = self.clusters.get(cluster) {
            for (topic, queues) in &self.topic_queues {
                if names.iter().any(|n| queues.contains_key(n)) {
                    list.topic_list.insert(topic.clone());
                }
            }
        }
        list
    }

    /// Deletes a topic's routes (DELETE_TOPIC_IN_NAMESRV); with a cluster, only that cluster's
    /// brokers are removed from the topic. Returns whether anything was removed.
    pub fn delete_topic(&mut self, topic: &str, cluster: Option<&str>) -> bool {
        match cluster.filter(|c| !c.is_empty()) {
            None => self.topic_queues.remove(topic).is_some(),
            Some(cluster) => {
                let Some(names) = self.clusters.get(cluster) else {
                    return false;
                };
                let Some(queues) = self.topic_queues.get_mut(topic) else {
                    return false;
                };
                let before = queues.len();
                queues.retain(|name, _| !names.contains(name));
                let removed = queues.len() != before;
                if queues.is_empty() {
                    self.topic_queues.remove(topic);
                }
                removed
            }
        }
    }

    /// Clears (`wipe`) or sets the WRITE bit of every queue data of `broker_name`
    /// (WIPE_WRITE_PERM_OF_BROKER / ADD_WRITE_PERM_OF_BROKER). Returns how many topics changed.
    pub fn set_write_perm(&mut self, broker_name: &str, wipe: bool) -> i32 {
        let mut count = 0;
        for queues in self.topic_queues.values_mut() {
            if let Some(qd) = queues.get_mut(broker_name) {
                qd.perm = if wipe {
                    qd.perm & !perm::WRITE
                } else {
                    qd.perm | perm::WRITE
                };
                count += 1;
            }
        }
        count
    }

    /// Number of topics with queue data.
    pub fn topic_count(&self) -> usize {
        self.topic_queues.len()
    }
}
