//! Group commands: `updateSubGroup`, `deleteSubGroup`, `consumerConnection`,
//! `producerConnection`.
//!
//! Group configs live on each master separately, so create and delete act on one broker (`-b`)
//! or on every master of a cluster (`-c`), like Apache's tools.

use anyhow::{bail, Result};
use clap::{ArgAction, Args};
use rmq_client::SubscriptionGroupConfig;
use serde::Serialize;

use crate::output::{emit, Table};
use crate::session::{route_masters, Session};

/// Arguments of `mqadmin updateSubGroup`.
#[derive(Debug, Args)]
pub struct UpdateSubGroup {
    /// Consumer group name.
    #[arg(short = 'g', long = "groupName")]
    pub group: String,
    /// Create on every master of this cluster.
    #[arg(
        short = 'c',
        long = "clusterName",
        required_unless_present = "broker_addr"
    )]
    pub cluster: Option<String>,
    /// Create on the broker at this address.
    #[arg(short = 'b', long = "brokerAddr", conflicts_with = "cluster")]
    pub broker_addr: Option<String>,
    /// Retry queue count (`-q` as in Apache's mqadmin).
    #[arg(short = 'q', long = "retryQueueNums", default_value_t = 1)]
    pub retry_queue_nums: i32,
    /// Times a message is retried before it goes to the DLQ (`-r` as in Apache's mqadmin).
    #[arg(short = 'r', long = "retryMaxTimes", default_value_t = 16)]
    pub retry_max_times: i32,
    /// Broker id to consume from (0 = master).
    #[arg(short = 'i', long = "brokerId", default_value_t = 0)]
    pub broker_id: i64,
    /// Broker id to consume from when consumption is slow.
    #[arg(
        short = 'w',
        long = "whichBrokerWhenConsumeSlowly",
        default_value_t = 1
    )]
    pub which_broker_when_consume_slowly: i64,
    /// Whether consumers are told when the group's members change.
    #[arg(short = 'a', long = "notifyConsumerIdsChanged", default_value_t = true, action = ArgAction::Set)]
    pub notify_consumer_ids_changed: bool,
    /// Whether the group may consume.
    #[arg(short = 's', long = "consumeEnable", default_value_t = true, action = ArgAction::Set)]
    pub consume_enable: bool,
    /// Whether a new group starts from the queue's minimum offset.
    #[arg(short = 'm', long = "consumeFromMinEnable", default_value_t = true, action = ArgAction::Set)]
    pub consume_from_min_enable: bool,
    /// Whether broadcast consumption is allowed.
    #[arg(short = 'd', long = "consumeBroadcastEnable", default_value_t = true, action = ArgAction::Set)]
    pub consume_broadcast_enable: bool,
    /// Whether the group consumes in order.
    #[arg(short = 'o', long = "consumeMessageOrderly", default_value_t = false, action = ArgAction::Set)]
    pub consume_message_orderly: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupReport {
    group_config: SubscriptionGroupConfig,
    brokers: Vec<String>,
}

/// Runs `mqadmin updateSubGroup`.
pub async fn update_sub_group(s: &Session, a: &UpdateSubGroup) -> Result<()> {
    if a.group.trim().is_empty() {
        bail!("-g must name a group");
    }
    let config = SubscriptionGroupConfig {
        group_name: a.group.clone(),
        retry_queue_nums: a.retry_queue_nums,
        retry_max_times: a.retry_max_times,
        consume_enable: a.consume_enable,
        consume_from_min_enable: a.consume_from_min_enable,
        consume_broadcast_enable: a.consume_broadcast_enable,
        consume_message_orderly: a.consume_message_orderly,
        broker_id: a.broker_id,
        which_broker_when_consume_slowly: a.which_broker_when_consume_slowly,
        notify_consumer_ids_changed_enable: a.notify_consumer_ids_changed,
        ..Default::default()
    };
    let targets = s
        .targets(a.cluster.as_deref(), a.broker_addr.as_deref())
        .await?;
    let mut brokers = Vec::with_capacity(targets.len());
    for t in &targets {
        s.admin
            .update_subscription_group(&t.addr, &config)
            .await
            .map_err(|e| s.explain(e))?;
        brokers.push(t.addr.clone());
    }
    let report = GroupReport {
        group_config: config,
        brokers,
    };
    emit(s.json, &report, |r| {
        let mut out: String = r
            .brokers
            .iter()
            .map(|b| format!("create subscription group to {b} success.\n"))
            .collect();
        let c = &r.group_config;
        out.push_str(&format!(
            "SubscriptionGroupConfig [groupName={}, consumeEnable={}, consumeFromMinEnable={}, \
             consumeBroadcastEnable={}, consumeMessageOrderly={}, retryQueueNums={}, \
             retryMaxTimes={}]\n",
            c.group_name,
            c.consume_enable,
            c.consume_from_min_enable,
            c.consume_broadcast_enable,
            c.consume_message_orderly,
            c.retry_queue_nums,
            c.retry_max_times
        ));
        out
    });
    Ok(())
}

/// Arguments of `mqadmin deleteSubGroup`.
#[derive(Debug, Args)]
pub struct DeleteSubGroup {
    /// Consumer group name.
    #[arg(short = 'g', long = "groupName")]
    pub group: String,
    /// Delete from every master of this cluster.
    #[arg(
        short = 'c',
        long = "clusterName",
        required_unless_present = "broker_addr"
    )]
    pub cluster: Option<String>,
    /// Delete from the broker at this address.
    #[arg(short = 'b', long = "brokerAddr", conflicts_with = "cluster")]
    pub broker_addr: Option<String>,
    /// Also remove the group's committed offsets.
    #[arg(short = 'r', long = "removeOffset", default_value_t = false, action = ArgAction::Set)]
    pub remove_offset: bool,
}

/// Runs `mqadmin deleteSubGroup`.
pub async fn delete_sub_group(s: &Session, a: &DeleteSubGroup) -> Result<()> {
    let targets = s
        .targets(a.cluster.as_deref(), a.broker_addr.as_deref())
        .await?;
    let mut brokers = Vec::with_capacity(targets.len());
    for t in &targets {
        s.admin
            .delete_subscription_group(&t.addr, &a.group, a.remove_offset)
            .await
            .map_err(|e| s.explain(e))?;
        brokers.push(t.addr.clone());
    }
    #[derive(Serialize)]
    struct Deleted<'a> {
        group: &'a str,
        brokers: Vec<String>,
    }
    let report = Deleted {
        group: &a.group,
        brokers,
    };
    emit(s.json, &report, |r| {
        r.brokers
            .iter()
            .map(|b| {
                format!(
                    "delete subscription group [{}] from broker [{b}] success.\n",
                    r.group
                )
            })
            .collect()
    });
    Ok(())
}

/// Arguments of `mqadmin consumerConnection`.
#[derive(Debug, Args)]
pub struct ConsumerConnectionArgs {
    /// Consumer group name.
    #[arg(short = 'g', long = "consumerGroup")]
    pub group: String,
}

/// Runs `mqadmin consumerConnection`.
pub async fn consumer_connection(s: &Session, a: &ConsumerConnectionArgs) -> Result<()> {
    let connections = s.admin.group_connections(&a.group).await;
    let Some(cc) = connections.map_err(|e| s.explain(e))? else {
        bail!(
            "consumer group {} is not online: no broker has a connected consumer of it — is the \
             consumer running, and using the same name servers?",
            a.group
        );
    };
    emit(s.json, &cc, |cc| {
        let mut t = Table::new(["ClientId", "ClientAddr", "Language", "Version"]);
        for c in &cc.connection_set {
            t.row([
                c.client_id.clone(),
                c.client_addr.clone(),
                c.language.to_string(),
                rmq_client::version_desc(c.version),
            ]);
        }
        let mut subs = Table::new(["Topic", "SubExpression"]);
        for (topic, sd) in &cc.subscription_table {
            subs.row([topic.as_str(), &sd.sub_string]);
        }
        let mut out = t.render();
        out.push_str("\nBelow is subscription:\n");
        out.push_str(&subs.render());
        let show = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        out.push_str(&format!(
            "\nConsumeType: {}\nMessageModel: {}\nConsumeFromWhere: {}\n",
            show(cc.consume_type.map(|v| v.to_string())),
            show(cc.message_model.map(|v| v.to_string())),
            show(cc.consume_from_where.map(|v| v.to_string())),
        ));
        out
    });
    Ok(())
}

/// Arguments of `mqadmin producerConnection`.
#[derive(Debug, Args)]
pub struct ProducerConnectionArgs {
    /// Producer group name.
    #[arg(short = 'g', long = "producerGroup")]
    pub group: String,
    /// A topic the group sends to: its first broker is asked, as Java's admin does.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
}

/// Runs `mqadmin producerConnection`: the group's connected producers, in Apache's columns
/// (number, client id, address, language, version).
pub async fn producer_connection(s: &Session, a: &ProducerConnectionArgs) -> Result<()> {
    let route = s.route(a.topic.trim()).await?;
    let Some(target) = route_masters(&route).into_iter().next() else {
        bail!("topic {} has no broker in its route", a.topic.trim());
    };
    let pc = s
        .admin
        .producer_connection(&target.addr, a.group.trim())
        .await
        .map_err(|e| s.explain(e))?;
    emit(s.json, &pc, |pc| {
        pc.connection_set
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!(
                    "{:04}  {:<32} {:<22} {:<8} {}\n",
                    i + 1,
                    c.client_id,
                    c.client_addr,
                    c.language.to_string(),
                    rmq_client::version_desc(c.version)
                )
            })
            .collect()
    });
    Ok(())
}
