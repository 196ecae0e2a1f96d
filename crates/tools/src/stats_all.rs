//! `mqadmin statsAll [-a] [-t TOPIC]`: traffic per topic and consumer group — backlog, rates over
//! the last minute and messages over the last 24 hours — in Apache's `StatsAllSubCommand`
//! columns.
//!
//! For each topic the name servers list, every master of its route is asked VIEW_BROKER_STATS_DATA for `TOPIC_PUT_NUMS` (in) and, for each
//! group consuming it, `GROUP_GET_NUMS` of `topic@group` (out); the backlog comes from
//! GET_CONSUME_STATS. "24 hours" is Apache's `compute24HourSum`: the day window's sum, or the
//! hour's or the minute's when the broker has not filled a longer window yet. A broker that has
//! not counted a key answers "not exist", which counts as zero, as in Apache. `-a` keeps only
//! topics with traffic.
//!
//! Retry and DLQ topics are left out, as Apache does; so are the system topics (`TBW102`,
//! `SCHEDULE_TOPIC_XXXX`, `rmq_sys_*`, the transaction topics, `SELF_TEST_TOPIC`, and the topics
//! named after each cluster and broker, and each cluster's `{cluster}_REPLY_TOPIC`), which Apache lists with a zero line each — unless asked
//! for by name with `-t`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::{bail, Result};
use clap::Args;
use rmq_client::{BrokerStatsData, ClientError, ResponseCode};
use rmq_common::topic::{
    is_system_topic, reply_topic, AUTO_CREATE_TOPIC_KEY, DLQ_GROUP_TOPIC_PREFIX,
    RETRY_GROUP_TOPIC_PREFIX, SELF_TEST_TOPIC,
};
use serde::Serialize;

use crate::output::emit;
use crate::session::{route_masters, Session};

/// Arguments of `mqadmin statsAll`.
#[derive(Debug, Args)]
pub struct StatsAll {
    /// Only topics with messages in or out over the last 24 hours.
    #[arg(short = 'a', long = "activeTopic")]
    pub active: bool,
    /// Only this topic.
    #[arg(short = 't', long = "topic")]
    pub topic: Option<String>,
}

/// One line of the report: a topic and one of its groups, or the topic alone when no group
/// consumes it (`group` and `out_msg_24_hour` absent: Apache's `NO_CONSUMER`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatsRow {
    topic: String,
    group: Option<String>,
    accumulation: i64,
    in_tps: f64,
    out_tps: Option<f64>,
    in_msg_24_hour: i64,
    out_msg_24_hour: Option<i64>,
}

/// A topic the broker or the name servers keep for themselves.
fn is_system(topic: &str) -> bool {
    is_system_topic(topic) || topic == AUTO_CREATE_TOPIC_KEY || topic == SELF_TEST_TOPIC
}

/// Apache's `compute24HourSum`: the longest window that has counted anything.
fn sum_24_hours(d: &BrokerStatsData) -> i64 {
    [d.stats_day.sum, d.stats_hour.sum, d.stats_minute.sum]
        .into_iter()
        .find(|s| *s != 0)
        .unwrap_or(0)
}

/// At most `n` characters (Apache's `frontStringAtLeast`).
fn front(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// Runs `mqadmin statsAll`.
pub async fn stats_all(s: &Session, a: &StatsAll) -> Result<()> {
    let list = s.admin.topic_list().await.map_err(|e| s.explain(e))?;
    let only = a.topic.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if let Some(t) = only {
        if !list.topic_list.contains(t) {
            bail!(
                "topic {t} is not known to the name servers at {} — check the name (mqadmin topicList)",
                s.name_server_list()
            );
        }
    }
    // The topics the name servers keep for each cluster and broker name.
    let names: BTreeSet<String> = match (only, s.admin.cluster_info().await) {
        (None, Ok(info)) => info
            .cluster_addr_table
            .into_iter()
            .flat_map(|(cluster, brokers)| {
                let reply = reply_topic(&cluster);
                [cluster, reply].into_iter().chain(brokers)
            })
            .collect(),
        _ => BTreeSet::new(),
    };
    let mut rows = Vec::new();
    for topic in &list.topic_list {
        if topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) || topic.starts_with(DLQ_GROUP_TOPIC_PREFIX)
        {
            continue;
        }
        match only {
            Some(t) if t != topic => continue,
            None if is_system(topic) || names.contains(topic) => continue,
            _ => {}
        }
        match topic_rows(s, topic, a.active).await {
            Ok(r) => rows.extend(r),
            // As Apache, one topic that cannot be read does not stop the others; say why.
            Err(e) => eprintln!("statsAll: topic {topic} skipped: {e:#}"),
        }
    }
    emit(s.json, &rows, |rows| render(rows));
    Ok(())
}

/// The figure `name` of `key` summed over `masters`: (minute tps, 24-hour sum).
async fn figures(s: &Session, masters: &[String], name: &str, key: &str) -> Result<(f64, i64)> {
    let (mut tps, mut sum) = (0.0, 0);
    for addr in masters {
        match s.admin.broker_stats(addr, name, key).await {
            Ok(d) => {
                tps += d.stats_minute.tps;
                sum += sum_24_hours(&d);
            }
            // Nothing counted for this key on that broker.
            Err(ClientError::Broker {
                code: ResponseCode::SystemError,
                ..
            }) => {}
            Err(e) => return Err(s.explain(e)),
        }
    }
    Ok((tps, sum))
}

async fn topic_rows(s: &Session, topic: &str, active: bool) -> Result<Vec<StatsRow>> {
    let route = s.route(topic).await?;
    let masters: Vec<String> = route
        .broker_datas
        .iter()
        .filter_map(|b| b.master_addr().map(str::to_owned))
        .collect();
    let mut groups = BTreeSet::new();
    for m in route_masters(&route) {
        let list = s
            .admin
            .topic_consumed_by(&m.addr, topic)
            .await
            .map_err(|e| s.explain(e))?;
        groups.extend(list.group_list);
    }
    let (in_tps, in_msg_24_hour) = figures(s, &masters, "TOPIC_PUT_NUMS", topic).await?;
    let mut rows = Vec::new();
    if groups.is_empty() {
        if !active || in_msg_24_hour > 0 {
            rows.push(StatsRow {
                topic: topic.to_owned(),
                group: None,
                accumulation: 0,
                in_tps,
                out_tps: None,
                in_msg_24_hour,
                out_msg_24_hour: None,
            });
        }
        return Ok(rows);
    }
    for group in groups {
        let key = format!("{topic}@{group}");
        let (out_tps, out_msg_24_hour) = figures(s, &masters, "GROUP_GET_NUMS", &key).await?;
        // As Apache: a group whose stats cannot be read has no backlog to show.
        let accumulation = match s.admin.consume_stats(&group, topic).await {
            Ok(cs) => cs
                .offset_table
                .values()
                .map(|o| o.broker_offset - o.consumer_offset)
                .sum::<i64>()
                .max(0),
            Err(_) => 0,
        };
        if !active || in_msg_24_hour > 0 || out_msg_24_hour > 0 {
            rows.push(StatsRow {
                topic: topic.to_owned(),
                group: Some(group),
                accumulation,
                in_tps,
                out_tps: Some(out_tps),
                in_msg_24_hour,
                out_msg_24_hour: Some(out_msg_24_hour),
            });
        }
    }
    Ok(rows)
}

/// Apache's layout: `%-64s  %-64s %12d %11.2f %11.2f %14d %14d`.
fn render(rows: &[StatsRow]) -> String {
    let mut out = format!(
        "{:<64}  {:<64} {:>12} {:>11} {:>11} {:>14} {:>14}\n",
        "#Topic",
        "#Consumer Group",
        "#Accumulation",
        "#InTPS",
        "#OutTPS",
        "#InMsg24Hour",
        "#OutMsg24Hour"
    );
    for r in rows {
        let _ = match (&r.group, r.out_tps, r.out_msg_24_hour) {
            (Some(g), Some(out_tps), Some(out_24)) => writeln!(
                out,
                "{:<64}  {:<64} {:>12} {:>11.2} {:>11.2} {:>14} {:>14}",
                front(&r.topic, 64),
                front(g, 64),
                r.accumulation,
                r.in_tps,
                out_tps,
                r.in_msg_24_hour,
                out_24
            ),
            _ => writeln!(
                out,
                "{:<64}  {:<64} {:>12} {:>11.2} {:>11} {:>14} {:>14}",
                front(&r.topic, 64),
                "",
                0,
                r.in_tps,
                "",
                r.in_msg_24_hour,
                "NO_CONSUMER"
            ),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use rmq_client::BrokerStatsItem;

    use super::*;

    #[test]
    fn the_24_hour_sum_takes_the_longest_filled_window() {
        let item = |sum| BrokerStatsItem {
            sum,
            ..Default::default()
        };
        let mut d = BrokerStatsData::default();
        assert_eq!(sum_24_hours(&d), 0);
        d.stats_minute = item(3);
        assert_eq!(sum_24_hours(&d), 3);
        d.stats_hour = item(30);
        d.stats_day = item(300);
        assert_eq!(sum_24_hours(&d), 300);
    }

    #[test]
    fn lines_follow_apaches_columns() {
        let rows = [
            StatsRow {
                topic: "T".into(),
                group: Some("G".into()),
                accumulation: 4,
                in_tps: 1.5,
                out_tps: Some(0.25),
                in_msg_24_hour: 10,
                out_msg_24_hour: Some(6),
            },
            StatsRow {
                topic: "U".repeat(70),
                group: None,
                accumulation: 0,
                in_tps: 0.0,
                out_tps: None,
                in_msg_24_hour: 2,
                out_msg_24_hour: None,
            },
        ];
        let text = render(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("#Topic ") && lines[0].ends_with("  #OutMsg24Hour"));
        let expected = format!(
            "{:<64}  {:<64} {:>12} {:>11} {:>11} {:>14} {:>14}",
            "T", "G", 4, "1.50", "0.25", 10, 6
        );
        assert_eq!(lines[1], expected);
        // A long topic is cut at 64 characters; no group: "" and NO_CONSUMER.
        assert!(lines[2].starts_with(&format!("{}  ", "U".repeat(64))));
        assert!(lines[2].ends_with(" NO_CONSUMER"), "{}", lines[2]);
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>()[1..],
            ["0", "0.00", "2", "NO_CONSUMER"]
        );
    }
}
