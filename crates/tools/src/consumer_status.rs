//! `mqadmin consumerStatus -g GROUP [-i CLIENT_ID] [-s]`: what a group's members report about
//! themselves (GET_CONSUMER_RUNNING_INFO, relayed by a broker). With `-i`, one member's
//! properties, subscriptions, queue offsets and rates in Apache's sections; without, every
//! member in a table and whether they all subscribe the same way (Apache's "Same
//! subscription in the same group of consumer").

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::{bail, Result};
use clap::Args;
use rmq_client::ConsumerRunningInfo;
use serde::Serialize;

use crate::output::emit;
use crate::session::Session;

/// Arguments of `mqadmin consumerStatus`.
#[derive(Debug, Args)]
pub struct ConsumerStatus {
    /// Consumer group.
    #[arg(short = 'g', long = "consumerGroup")]
    pub group: String,
    /// One member's client id; every member when absent.
    #[arg(short = 'i', long = "clientId")]
    pub client_id: Option<String>,
    /// Ask for a thread dump too (Java consumers; rmq's have none).
    #[arg(short = 's', long = "jstack")]
    pub jstack: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Member {
    client_id: String,
    version: String,
    running_info: ConsumerRunningInfo,
}

/// What a member subscribes to, for comparing members.
fn subscriptions(r: &ConsumerRunningInfo) -> BTreeSet<(String, String, String)> {
    r.subscription_set
        .iter()
        .map(|s| {
            let ty = s.expression_type().to_owned();
            (s.topic.clone(), ty, s.sub_string.clone())
        })
        .collect()
}

/// Apache's `ConsumerRunningInfo.formatString` sections.
fn format_one(r: &ConsumerRunningInfo) -> String {
    let mut out = String::from("#Consumer Properties#\n");
    for (k, v) in &r.properties {
        let _ = writeln!(out, "{k:<40}: {v}");
    }
    out.push_str("\n\n#Consumer Subscription#\n");
    for (i, s) in r.subscription_set.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:03} Topic: {:<40} ClassFilter: {:<8} SubExpression: {}",
            i + 1,
            s.topic,
            s.class_filter_mode,
            s.sub_string
        );
    }
    out.push_str("\n\n#Consumer Offset#\n");
    let _ = writeln!(
        out,
        "{:<64}  {:<32}  {:<4}  {:<20}",
        "#Topic", "#Broker Name", "#QID", "#Consumer Offset"
    );
    for (q, p) in &r.mq_table {
        let _ = writeln!(
            out,
            "{:<64}  {:<32}  {:<4}  {:<20}",
            q.topic, q.broker_name, q.queue_id, p.commit_offset
        );
    }
    out.push_str("\n\n#Consumer RT&TPS#\n");
    let _ = writeln!(
        out,
        "{:<64}  {:<14} {:<14} {:<14} {:<14} {:<18} {:<25}",
        "#Topic",
        "#Pull RT",
        "#Pull TPS",
        "#Consume RT",
        "#ConsumeOK TPS",
        "#ConsumeFailed TPS",
        "#ConsumeFailedMsgsInHour"
    );
    for (topic, st) in &r.status_table {
        let _ = writeln!(
            out,
            "{:<64}  {:<14.2} {:<14.2} {:<14.2} {:<14.2} {:<18.2} {:<25}",
            topic,
            st.pull_rt,
            st.pull_tps,
            st.consume_rt,
            st.consume_ok_tps,
            st.consume_failed_tps,
            st.consume_failed_msgs
        );
    }
    if let Some(j) = &r.jstack {
        let _ = write!(out, "\n\n#Consumer jstack#\n{j}\n");
    }
    out
}

/// Runs `mqadmin consumerStatus`.
pub async fn consumer_status(s: &Session, a: &ConsumerStatus) -> Result<()> {
    let group = a.group.trim();
    let only = a.client_id.as_deref().map(str::trim);
    let found = s
        .admin
        .group_running_info(group, only, a.jstack)
        .await
        .map_err(|e| s.explain(e))?;
    if let Some(client) = only {
        let Some((_, info)) = found.into_iter().next() else {
            bail!("no member {client} of consumer group {group} is connected to a master — check the client id (mqadmin consumerConnection -g {group})");
        };
        emit(s.json, &info, format_one);
        return Ok(());
    }
    if found.is_empty() {
        bail!("consumer group {group} is not online: no broker has a connected consumer of it");
    }
    let members: Vec<Member> = found
        .into_iter()
        .map(|(c, running_info)| Member {
            client_id: c.client_id,
            version: rmq_client::version_desc(c.version),
            running_info,
        })
        .collect();
    emit(s.json, &members, |members| {
        let mut out = format!(
            "{:<5} {:<40} {:<20} {}\n",
            "#Index", "#ClientId", "#Version", "#Queues"
        );
        for (i, m) in members.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:03}   {:<40} {:<20} {}",
                i + 1,
                m.client_id,
                m.version,
                m.running_info.mq_table.len()
            );
        }
        let first = members.first().map(|m| subscriptions(&m.running_info));
        let same = members
            .iter()
            .all(|m| Some(subscriptions(&m.running_info)) == first);
        out.push_str(if same {
            "\n\nSame subscription in the same group of consumer\n"
        } else {
            "\n\nWARN: Different subscription in the same group of consumer!!!\n"
        });
        out
    });
    Ok(())
}
