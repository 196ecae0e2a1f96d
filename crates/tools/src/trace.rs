//! `mqadmin queryMsgTraceById`: a message's trace, read from the trace topic (Java's
//! `QueryMsgTraceByIdSubCommand`). Trace messages are indexed by the ids of the messages they
//! describe; each holds records in the Java client's format (`rmq_client::trace`), written by
//! Java and rmq clients alike.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{bail, Result};
use clap::Args;
use rmq_client::trace::{decode_traces, TraceRecord, TraceType, DEFAULT_TRACE_TOPIC};
use serde::Serialize;

use crate::output::{emit, format_millis};
use crate::session::Session;

/// Arguments of `mqadmin queryMsgTraceById`.
#[derive(Debug, Args)]
pub struct QueryMsgTraceById {
    /// The message id (UNIQ_KEY) whose trace to show.
    #[arg(short = 'i', long = "msgId")]
    pub msg_id: String,
    /// The trace topic.
    #[arg(short = 't', long = "traceTopic", default_value = DEFAULT_TRACE_TOPIC)]
    pub trace_topic: String,
    /// Only trace messages stored at or after this time (ms since the epoch).
    #[arg(short = 'b', long = "beginTimestamp", default_value_t = 0)]
    pub begin: i64,
    /// Only trace messages stored before this time (ms since the epoch; default: now).
    #[arg(short = 'e', long = "endTimestamp")]
    pub end: Option<i64>,
    /// At most this many trace messages per broker.
    #[arg(short = 'c', long = "maxNum", default_value_t = 64)]
    pub max_num: i32,
}

/// One line of the trace.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TraceLine {
    msg_type: &'static str,
    group_name: String,
    /// The host that sent the trace message: the producer's or the consumer's.
    client_host: String,
    time_stamp: i64,
    cost_time: i64,
    status: &'static str,
    topic: String,
    tags: String,
    keys: String,
    store_host: String,
    offset_msg_id: String,
}

/// Runs `mqadmin queryMsgTraceById`.
pub async fn query_msg_trace_by_id(s: &Session, a: &QueryMsgTraceById) -> Result<()> {
    let msgs = s
        .admin
        .query_message_by_key(
            &a.trace_topic,
            &a.msg_id,
            a.max_num,
            a.begin,
            a.end.unwrap_or(i64::MAX),
        )
        .await
        .map_err(|e| s.explain(e))?;
    let mut records: Vec<(TraceRecord, String)> = Vec::new();
    for m in &msgs {
        let host = m.born_host.ip().to_string();
        let body = String::from_utf8_lossy(&m.body);
        for r in decode_traces(&body) {
            if r.msg_id == a.msg_id {
                records.push((r, host.clone()));
            }
        }
    }
    if records.is_empty() {
        bail!(
            "no trace of message {} in topic {} — is message trace on in its producer or \
             consumer (enableMsgTrace / .trace(true)), and the trace topic on the broker \
             (traceTopicEnable=true)?",
            a.msg_id,
            a.trace_topic
        );
    }
    // Java 4.x writes no group into SubAfter: take it from the SubBefore of the same call.
    let groups: BTreeMap<String, String> = records
        .iter()
        .filter(|(r, _)| r.kind == TraceType::SubBefore)
        .map(|(r, _)| (r.request_id.clone(), r.group.clone()))
        .collect();
    let lines: Vec<TraceLine> = records
        .into_iter()
        .filter(|(r, _)| r.kind != TraceType::SubBefore)
        .map(|(r, host)| TraceLine {
            msg_type: r.kind.name(),
            group_name: if r.group.is_empty() {
                groups.get(&r.request_id).cloned().unwrap_or_default()
            } else {
                r.group
            },
            client_host: host,
            time_stamp: r.timestamp,
            cost_time: r.cost_ms,
            status: if r.success { "success" } else { "failed" },
            topic: r.topic,
            tags: r.tags,
            keys: r.keys,
            store_host: r.store_host,
            offset_msg_id: r.offset_msg_id,
        })
        .collect();
    emit(s.json, &lines, |lines| render(lines));
    Ok(())
}

/// Java's layout: each send under a producer header, then each consumer group's consumptions
/// under a consumer header.
fn render(lines: &[TraceLine]) -> String {
    let mut out = String::new();
    let row = |out: &mut String, cols: [&str; 6]| {
        let _ = writeln!(
            out,
            "{:<10} {:<20} {:<20} {:<20} {:<10} {:<10}",
            cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]
        );
    };
    let time = |ms: i64| {
        let t = format_millis(ms);
        t.split('.').next().unwrap_or(&t).to_owned()
    };
    for l in lines.iter().filter(|l| l.msg_type == "Pub") {
        row(
            &mut out,
            [
                "#Type",
                "#ProducerGroup",
                "#ClientHost",
                "#SendTime",
                "#CostTimes",
                "#Status",
            ],
        );
        row(
            &mut out,
            [
                "Pub",
                &l.group_name,
                &l.client_host,
                &time(l.time_stamp),
                &format!("{}ms", l.cost_time),
                l.status,
            ],
        );
        out.push('\n');
    }
    let mut by_group: BTreeMap<&str, Vec<&TraceLine>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.msg_type == "SubAfter") {
        by_group.entry(&l.group_name).or_default().push(l);
    }
    for (_, group) in by_group {
        row(
            &mut out,
            [
                "#Type",
                "#ConsumerGroup",
                "#ClientHost",
                "#ConsumerTime",
                "#CostTimes",
                "#Status",
            ],
        );
        for l in group {
            row(
                &mut out,
                [
                    "Sub",
                    &l.group_name,
                    &l.client_host,
                    &time(l.time_stamp),
                    &format!("{}ms", l.cost_time),
                    l.status,
                ],
            );
        }
        out.push('\n');
    }
    out
}
