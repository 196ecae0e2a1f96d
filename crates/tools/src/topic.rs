//! Topic commands: `updateTopic`, `deleteTopic`, `topicList`, `topicRoute`, `topicStatus`.
//!
//! Creation goes to each target master one by one (not through `Admin::create_topic`'s loop) so
//! the report can say which broker took it and which refused.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use clap::Args;
use rmq_client::{TopicConfig, TopicTarget};
use rmq_common::perm;
use serde::Serialize;

use crate::output::{emit, format_millis, Table};
use crate::session::{route_masters, Session};

/// Namespace of the name servers' order-topic KV entries (`NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG`).
const ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

/// Arguments of `mqadmin updateTopic`.
#[derive(Debug, Args)]
pub struct UpdateTopic {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Create on every master of this cluster.
    #[arg(
        short = 'c',
        long = "clusterName",
        required_unless_present = "broker_addr"
    )]
    pub cluster: Option<String>,
    /// Create on the broker at this address (host:port).
    #[arg(short = 'b', long = "brokerAddr", conflicts_with = "cluster")]
    pub broker_addr: Option<String>,
    /// Read queue count.
    #[arg(short = 'r', long = "readQueueNums", default_value_t = 8)]
    pub read_queues: i32,
    /// Write queue count.
    #[arg(short = 'w', long = "writeQueueNums", default_value_t = 8)]
    pub write_queues: i32,
    /// Permission bits: 2 write, 4 read, 6 read+write.
    #[arg(short = 'p', long = "perm", default_value_t = 6)]
    pub perm: i32,
    /// Ordered topic (also recorded in the name servers' ORDER_TOPIC_CONFIG).
    #[arg(short = 'o', long = "order", default_value_t = false, action = clap::ArgAction::Set)]
    pub order: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateReport {
    topic_config: TopicConfig,
    created_on: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_topic_config: Option<String>,
}

/// Runs `mqadmin updateTopic`.
pub async fn update_topic(s: &Session, a: &UpdateTopic) -> Result<()> {
    if a.read_queues <= 0 || a.write_queues <= 0 {
        bail!("-r and -w must be at least 1");
    }
    if a.perm & !(perm::READ | perm::WRITE | perm::INHERIT | perm::PRIORITY) != 0 {
        bail!("-p {} is not a permission (2 = W, 4 = R, 6 = RW)", a.perm);
    }
    rmq_common::topic::validate_topic(&a.topic)
        .map_err(|e| anyhow::anyhow!("invalid topic name {:?}: {e}", a.topic))?;
    let targets = s
        .targets(a.cluster.as_deref(), a.broker_addr.as_deref())
        .await?;
    let mut config = TopicConfig::new(&a.topic, a.read_queues, a.write_queues, a.perm);
    config.order = a.order;
    let mut created_on = Vec::with_capacity(targets.len());
    for t in &targets {
        s.admin
            .create_topic(TopicTarget::Broker(t.addr.clone()), &config)
            .await
            .map_err(|e| {
                s.explain(e)
                    .context(format!("creating {} on {}", a.topic, t.addr))
            })?;
        created_on.push(t.addr.clone());
    }
    let order_topic_config = if a.order {
        let conf = targets
            .iter()
            .map(|t| format!("{}:{}", t.broker_name, a.write_queues))
            .collect::<Vec<_>>()
            .join(";");
        s.admin
            .put_kv_config(ORDER_TOPIC_CONFIG, &a.topic, &conf)
            .await
            .map_err(|e| s.explain(e))?;
        Some(conf)
    } else {
        None
    };
    let report = CreateReport {
        topic_config: config,
        created_on,
        order_topic_config,
    };
    emit(s.json, &report, |r| {
        let mut out = String::new();
        for addr in &r.created_on {
            out.push_str(&format!("create topic to {addr} success.\n"));
        }
        if let Some(c) = &r.order_topic_config {
            out.push_str(&format!("set cluster orderConf. orderConf=[{c}]\n"));
        }
        let c = &r.topic_config;
        out.push_str(&format!(
            "TopicConfig [topicName={}, readQueueNums={}, writeQueueNums={}, perm={}, \
             topicFilterType={}, topicSysFlag={}, order={}]\n",
            c.topic_name,
            c.read_queue_nums,
            c.write_queue_nums,
            perm::to_display(c.perm),
            c.topic_filter_type,
            c.topic_sys_flag,
            c.order
        ));
        out
    });
    Ok(())
}

/// Arguments of `mqadmin deleteTopic`.
#[derive(Debug, Args)]
pub struct DeleteTopic {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Delete from every master of this cluster (default: the brokers of the topic's route).
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: Option<String>,
}

/// Runs `mqadmin deleteTopic`.
pub async fn delete_topic(s: &Session, a: &DeleteTopic) -> Result<()> {
    s.admin
        .delete_topic(&a.topic, a.cluster.as_deref())
        .await
        .map_err(|e| match e {
            rmq_client::ClientError::NoRoute { .. } => anyhow::anyhow!(
                "topic {} has no route, so there is nothing to delete from its brokers; give \
                 -c <cluster> to delete it from every master of a cluster anyway",
                a.topic
            ),
            other => s.explain(other),
        })?;
    #[derive(Serialize)]
    struct Deleted<'a> {
        deleted: &'a str,
        cluster: Option<&'a str>,
    }
    let report = Deleted {
        deleted: &a.topic,
        cluster: a.cluster.as_deref(),
    };
    emit(s.json, &report, |r| match r.cluster {
        Some(c) => format!("delete topic [{}] from cluster [{c}] success.\n", r.deleted),
        None => format!("delete topic [{}] success.\n", r.deleted),
    });
    Ok(())
}

/// Arguments of `mqadmin topicList`.
#[derive(Debug, Args)]
pub struct TopicList {
    /// Only this cluster's topics, with the groups consuming them.
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TopicRow {
    cluster: String,
    topic: String,
    consumer_groups: BTreeSet<String>,
}

/// Runs `mqadmin topicList`.
pub async fn topic_list(s: &Session, a: &TopicList) -> Result<()> {
    let Some(cluster) = &a.cluster else {
        let list = s.admin.topic_list().await.map_err(|e| s.explain(e))?;
        emit(s.json, &list.topic_list, |topics| {
            topics.iter().map(|t| format!("{t}\n")).collect()
        });
        return Ok(());
    };
    let masters = s.targets(Some(cluster), None).await?;
    let topics = s
        .admin
        .topics_by_cluster(cluster)
        .await
        .map_err(|e| s.explain(e))?;
    let mut rows = Vec::with_capacity(topics.topic_list.len());
    for topic in topics.topic_list {
        let mut groups = BTreeSet::new();
        for m in &masters {
            match s.admin.topic_consumed_by(&m.addr, &topic).await {
                Ok(g) => groups.extend(g.group_list),
                Err(e) => tracing::debug!(addr = %m.addr, error = %e, "consumers unknown"),
            }
        }
        rows.push(TopicRow {
            cluster: cluster.clone(),
            topic,
            consumer_groups: groups,
        });
    }
    emit(s.json, &rows, |rows| {
        let mut t = Table::new(["Cluster Name", "Topic", "Consumer Group"]);
        for r in rows {
            let groups: Vec<&str> = r.consumer_groups.iter().map(String::as_str).collect();
            t.row([r.cluster.as_str(), r.topic.as_str(), &groups.join(",")]);
        }
        t.render()
    });
    Ok(())
}

/// Arguments of `mqadmin topicRoute`.
#[derive(Debug, Args)]
pub struct TopicRoute {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
}

/// Runs `mqadmin topicRoute`.
pub async fn topic_route(s: &Session, a: &TopicRoute) -> Result<()> {
    let route = s.route(&a.topic).await?;
    emit(s.json, &route, |r| {
        let mut brokers = Table::new(["Cluster", "Broker Name", "BID", "Addr"]);
        for b in &r.broker_datas {
            for (id, addr) in &b.broker_addrs {
                brokers.row([b.cluster.as_str(), &b.broker_name, &id.to_string(), addr]);
            }
        }
        let mut queues = Table::new(["Broker Name", "Read Queues", "Write Queues", "Perm"]);
        for q in &r.queue_datas {
            queues.row([
                q.broker_name.clone(),
                q.read_queue_nums.to_string(),
                q.write_queue_nums.to_string(),
                perm::to_display(q.perm),
            ]);
        }
        let mut out = brokers.render();
        out.push('\n');
        out.push_str(&queues.render());
        if let Some(conf) = &r.order_topic_conf {
            out.push_str(&format!("\nOrder topic config: {conf}\n"));
        }
        out
    });
    Ok(())
}

/// Arguments of `mqadmin topicClusterList`.
#[derive(Debug, Args)]
pub struct TopicClusterList {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
}

/// Runs `mqadmin topicClusterList`: the clusters whose brokers serve the topic, one per line.
pub async fn topic_cluster_list(s: &Session, a: &TopicClusterList) -> Result<()> {
    let clusters = s
        .admin
        .topic_clusters(a.topic.trim())
        .await
        .map_err(|e| s.explain(e))?;
    emit(s.json, &clusters, |c| {
        c.iter().map(|name| format!("{name}\n")).collect()
    });
    Ok(())
}

/// Arguments of `mqadmin allocateMQ`.
#[derive(Debug, Args)]
pub struct AllocateMq {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Client ids of the group's members, comma separated (`ip@instance,...`).
    #[arg(short = 'i', long = "ipList")]
    pub ip_list: String,
}

/// Apache's `RebalanceResult`.
#[derive(Debug, Serialize)]
struct RebalanceResult {
    result: BTreeMap<String, Vec<rmq_client::MessageQueue>>,
}

/// Runs `mqadmin allocateMQ`: the queues each listed member would own allocating averagely,
/// as Apache's JSON (one line, both with and without `--json`).
pub async fn allocate_mq(s: &Session, a: &AllocateMq) -> Result<()> {
    let members: Vec<String> = a
        .ip_list
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect();
    if members.is_empty() {
        anyhow::bail!("-i names no member: give client ids separated by commas");
    }
    let result = s
        .admin
        .allocate_queues(a.topic.trim(), &members)
        .await
        .map_err(|e| s.explain(e))?;
    println!("{}", serde_json::to_string(&RebalanceResult { result })?);
    Ok(())
}

/// Arguments of `mqadmin topicStatus`.
#[derive(Debug, Args)]
pub struct TopicStatus {
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct QueueStatus {
    broker_name: String,
    queue_id: i32,
    min_offset: i64,
    max_offset: i64,
    last_update_timestamp: i64,
}

/// Runs `mqadmin topicStatus`.
pub async fn topic_status(s: &Session, a: &TopicStatus) -> Result<()> {
    let route = s.route(&a.topic).await?;
    let mut rows: BTreeMap<(String, i32), QueueStatus> = BTreeMap::new();
    for m in route_masters(&route) {
        let stats = s
            .admin
            .topic_stats(&m.addr, &a.topic)
            .await
            .map_err(|e| s.explain(e))?;
        for (mq, o) in stats.offset_table {
            rows.insert(
                (mq.broker_name.clone(), mq.queue_id),
                QueueStatus {
                    broker_name: mq.broker_name,
                    queue_id: mq.queue_id,
                    min_offset: o.min_offset,
                    max_offset: o.max_offset,
                    last_update_timestamp: o.last_update_timestamp,
                },
            );
        }
    }
    let rows: Vec<QueueStatus> = rows.into_values().collect();
    emit(s.json, &rows, |rows| {
        let mut t = Table::new([
            "Broker Name",
            "QID",
            "Min Offset",
            "Max Offset",
            "Last Updated",
        ]);
        for r in rows {
            t.row([
                r.broker_name.clone(),
                r.queue_id.to_string(),
                r.min_offset.to_string(),
                r.max_offset.to_string(),
                format_millis(r.last_update_timestamp),
            ]);
        }
        t.render()
    });
    Ok(())
}
