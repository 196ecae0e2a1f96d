//! Consumer offset commands: `consumerProgress` (how far a group is behind, per queue) and
//! `resetOffsetByTime` (move a group's committed offsets to a point in time).
//!
//! The reset asks each master with INVOKE_BROKER_TO_RESET_OFFSET first, as Apache's does; rmq
//! brokers do not push resets to running consumers yet, so against them `Admin` writes the
//! committed offsets with UPDATE_CONSUMER_OFFSET, which a running consumer would overwrite on its
//! next commit — hence the advice to stop consumers first.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rmq_client::{MessageQueue, OffsetWrapper};
use rmq_common::time::now_millis;
use serde::Serialize;

use crate::output::{emit, format_millis, Table};
use crate::session::Session;

/// Arguments of `mqadmin consumerProgress`.
#[derive(Debug, Args)]
pub struct ConsumerProgress {
    /// Consumer group name (default: every group, one line each, as Apache's mqadmin).
    #[arg(short = 'g', long = "groupName")]
    pub group: Option<String>,
    /// Only this topic (default: every topic the group has offsets for).
    #[arg(short = 't', long = "topicName", requires = "group")]
    pub topic: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressRow {
    topic: String,
    broker_name: String,
    queue_id: i32,
    broker_offset: i64,
    consumer_offset: i64,
    diff: i64,
    last_timestamp: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ProgressReport {
    group: String,
    queues: Vec<ProgressRow>,
    consume_tps: f64,
    diff_total: i64,
}

/// One line of `consumerProgress` without `-g`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupRow {
    group: String,
    count: usize,
    version: Option<i32>,
    consume_type: Option<String>,
    message_model: Option<String>,
    consume_tps: f64,
    diff_total: i64,
}

/// Runs `mqadmin consumerProgress`.
pub async fn consumer_progress(s: &Session, a: &ConsumerProgress) -> Result<()> {
    let Some(group) = &a.group else {
        return every_group_progress(s).await;
    };
    // Ask every master: a group's offsets live where its topics' queues are.
    let stats = s
        .admin
        .consume_stats_everywhere(group, a.topic.as_deref())
        .await
        .map_err(|e| s.explain(e))?;
    let table: BTreeMap<MessageQueue, OffsetWrapper> = stats.offset_table;
    if table.is_empty() {
        bail!(
            "no consume progress for group {group}{}: it has committed no offsets — check the \
             group name, and that its consumers have run and committed",
            a.topic
                .as_deref()
                .map(|t| format!(" on topic {t}"))
                .unwrap_or_default()
        );
    }
    let queues: Vec<ProgressRow> = table
        .into_iter()
        .map(|(mq, o)| ProgressRow {
            topic: mq.topic,
            broker_name: mq.broker_name,
            queue_id: mq.queue_id,
            broker_offset: o.broker_offset,
            consumer_offset: o.consumer_offset,
            diff: (o.broker_offset - o.consumer_offset).max(0),
            last_timestamp: o.last_timestamp,
        })
        .collect();
    let report = ProgressReport {
        group: group.clone(),
        diff_total: queues.iter().map(|q| q.diff).sum(),
        queues,
        consume_tps: stats.consume_tps,
    };
    emit(s.json, &report, |r| {
        let mut t = Table::new([
            "Topic",
            "Broker Name",
            "QID",
            "Broker Offset",
            "Consumer Offset",
            "Diff",
            "LastTime",
        ]);
        for q in &r.queues {
            t.row([
                q.topic.clone(),
                q.broker_name.clone(),
                q.queue_id.to_string(),
                q.broker_offset.to_string(),
                q.consumer_offset.to_string(),
                q.diff.to_string(),
                format_millis(q.last_timestamp),
            ]);
        }
        let mut out = t.render();
        out.push_str(&format!(
            "\nConsume TPS: {:.2}\nConsume Diff Total: {}\n",
            r.consume_tps, r.diff_total
        ));
        out
    });
    Ok(())
}

/// Every group (each has a `%RETRY%` topic), its clients and its total lag.
async fn every_group_progress(s: &Session) -> Result<()> {
    let groups = s.admin.group_list().await.map_err(|e| s.explain(e))?;
    let mut rows = Vec::with_capacity(groups.len());
    for group in groups {
        let stats = s
            .admin
            .consume_stats_everywhere(&group, None)
            .await
            .map_err(|e| s.explain(e))?;
        let connections = s
            .admin
            .group_connections(&group)
            .await
            .map_err(|e| s.explain(e))?;
        let first = connections
            .as_ref()
            .and_then(|c| c.connection_set.iter().next());
        rows.push(GroupRow {
            count: connections.as_ref().map_or(0, |c| c.connection_set.len()),
            version: first.map(|c| c.version),
            consume_type: connections
                .as_ref()
                .and_then(|c| c.consume_type.map(|t| t.to_string())),
            message_model: connections
                .as_ref()
                .and_then(|c| c.message_model.map(|m| m.to_string())),
            consume_tps: stats.consume_tps,
            diff_total: stats
                .offset_table
                .values()
                .map(|o| (o.broker_offset - o.consumer_offset).max(0))
                .sum(),
            group,
        });
    }
    emit(s.json, &rows, |rows| {
        let mut t = Table::new([
            "Group",
            "Count",
            "Version",
            "Type",
            "Model",
            "TPS",
            "Diff Total",
        ]);
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        for r in rows {
            t.row([
                r.group.clone(),
                r.count.to_string(),
                r.version.map_or_else(|| "-".to_owned(), |v| v.to_string()),
                dash(&r.consume_type),
                dash(&r.message_model),
                format!("{:.2}", r.consume_tps),
                r.diff_total.to_string(),
            ]);
        }
        t.render()
    });
    Ok(())
}

/// Arguments of `mqadmin resetOffsetByTime`.
#[derive(Debug, Args)]
#[command(
    after_help = "Stop the group's consumers before resetting: rmq brokers do not yet push \
                  offset resets to running clients, so a running consumer would overwrite the \
                  reset offsets with its own on its next commit. Start them again afterwards."
)]
pub struct ResetOffsetByTime {
    /// Consumer group name.
    #[arg(short = 'g', long = "group")]
    pub group: String,
    /// Topic name.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Time to reset to: milliseconds since the epoch, or `now` (skip everything stored so far).
    #[arg(short = 's', long = "timestamp")]
    pub timestamp: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResetRow {
    broker_name: String,
    queue_id: i32,
    /// The committed offset before the reset; `None` if there was none.
    old_offset: Option<i64>,
    new_offset: i64,
}

/// Parses `-s`: `now` or milliseconds since the epoch.
pub fn parse_timestamp(s: &str) -> Result<i64> {
    if s.eq_ignore_ascii_case("now") {
        return Ok(now_millis());
    }
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|t| *t >= 0)
        .ok_or_else(|| anyhow!("-s {s:?} is neither `now` nor milliseconds since the epoch"))
}

/// Runs `mqadmin resetOffsetByTime`.
pub async fn reset_offset_by_time(s: &Session, a: &ResetOffsetByTime) -> Result<()> {
    let timestamp = parse_timestamp(&a.timestamp)?;
    let reset = s
        .admin
        .reset_offset_by_time(&a.group, &a.topic, timestamp, true)
        .await
        .map_err(|e| s.explain(e))?;
    let rows: Vec<ResetRow> = reset
        .into_iter()
        .map(|r| ResetRow {
            broker_name: r.queue.broker_name,
            queue_id: r.queue.queue_id,
            old_offset: r.old_offset,
            new_offset: r.new_offset,
        })
        .collect();
    emit(s.json, &rows, |rows| {
        let mut t = Table::new(["Broker Name", "QID", "Old Offset", "New Offset"]);
        for r in rows {
            t.row([
                r.broker_name.clone(),
                r.queue_id.to_string(),
                r.old_offset
                    .map_or_else(|| "-".to_owned(), |o| o.to_string()),
                r.new_offset.to_string(),
            ]);
        }
        let mut out = t.render();
        out.push_str(&format!(
            "\nReset group {} on topic {} to {} ({}). Restart its consumers to pick it up.\n",
            a.group,
            a.topic,
            timestamp,
            format_millis(timestamp)
        ));
        out
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse() {
        assert_eq!(
            parse_timestamp("1700000000000").ok(),
            Some(1_700_000_000_000)
        );
        assert!(parse_timestamp("NOW").is_ok_and(|t| t > 0));
        assert!(parse_timestamp("yesterday").is_err());
        assert!(parse_timestamp("-5").is_err());
    }
}
