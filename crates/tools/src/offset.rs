//! Consumer offset commands: `consumerProgress` (how far a group is behind, per queue) and
//! `resetOffsetByTime` (move a group's committed offsets to a point in time).
//!
//! rmq brokers do not yet push offset resets to running consumers (Apache's
//! INVOKE_BROKER_TO_RESET_OFFSET), so the reset writes the committed offsets on each master with
//! UPDATE_CONSUMER_OFFSET; a running consumer would overwrite them with its own on its next
//! commit, hence the advice to stop consumers first.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rmq_common::time::now_millis;
use rmq_common::MessageQueue;
use serde::Serialize;

use crate::output::{emit, format_millis, Table};
use crate::session::{route_masters, Session};

#[derive(Debug, Args)]
pub struct ConsumerProgress {
    /// Consumer group name.
    #[arg(short = 'g', long = "groupName")]
    pub group: String,
    /// Only this topic (default: every topic the group has offsets for).
    #[arg(short = 't', long = "topicName")]
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

pub async fn consumer_progress(s: &Session, a: &ConsumerProgress) -> Result<()> {
    // Ask every master: a group's offsets live where its topics' queues are.
    let info = s.cluster_info().await?;
    let mut table: BTreeMap<MessageQueue, rmq_client::OffsetWrapper> = BTreeMap::new();
    let mut tps = 0.0;
    for b in info.broker_addr_table.values() {
        let Some(addr) = b.master_addr() else {
            continue;
        };
        let stats = s
            .ext
            .consume_stats(addr, &a.group, a.topic.as_deref())
            .await?;
        tps += stats.consume_tps;
        table.extend(stats.offset_table);
    }
    if table.is_empty() {
        bail!(
            "no consume progress for group {}{}: it has committed no offsets — check the group \
             name, and that its consumers have run and committed",
            a.group,
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
        group: a.group.clone(),
        diff_total: queues.iter().map(|q| q.diff).sum(),
        queues,
        consume_tps: tps,
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

pub async fn reset_offset_by_time(s: &Session, a: &ResetOffsetByTime) -> Result<()> {
    let timestamp = parse_timestamp(&a.timestamp)?;
    let route = s.route(&a.topic).await?;
    let mut rows = Vec::new();
    for m in route_masters(&route) {
        let queues = route
            .queue_datas
            .iter()
            .find(|q| q.broker_name == m.broker_name)
            .map_or(0, |q| q.read_queue_nums);
        for queue_id in 0..queues {
            let new_offset = s
                .ext
                .search_offset(&m.addr, &a.topic, queue_id, timestamp)
                .await?;
            let old_offset = s
                .ext
                .query_consumer_offset(&m.addr, &a.group, &a.topic, queue_id)
                .await?;
            s.ext
                .update_consumer_offset(&m.addr, &a.group, &a.topic, queue_id, new_offset)
                .await?;
            rows.push(ResetRow {
                broker_name: m.broker_name.clone(),
                queue_id,
                old_offset,
                new_offset,
            });
        }
    }
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
