//! Consumer groups: backlog (now and over the last hour), clients and their running info,
//! reset offset by time, skip the backlog, create/update/delete; producers by group.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::Json;
use futures::StreamExt;
use rmq_client::{QueueReset, SubscriptionGroupConfig};
use rmq_common::time::now_millis;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::validate;
use crate::backlog;
use crate::error::{ApiError, ApiResult};
use crate::state::Console;

/// Groups asked about at once while listing.
const PARALLEL: usize = 8;

pub async fn list(State(console): State<Arc<Console>>) -> ApiResult<Json<Value>> {
    let admin = console.admin();
    let groups = console.groups().await?;
    let rows: Vec<Value> = futures::stream::iter(groups)
        .map(|g| {
            let (admin, console) = (admin.clone(), console.clone());
            async move {
                let backlog = admin
                    .consume_stats_everywhere(&g, None)
                    .await
                    .ok()
                    .map(|s| backlog::total(&s));
                let conn = admin.group_connections(&g).await.ok().flatten();
                json!({
                    "group": g,
                    "backlog": backlog,
                    "tps": console.samples.group_tps(&g),
                    "clients": conn.as_ref().map_or(0, |c| c.connection_set.len()),
                    "consumeType": conn.as_ref().and_then(|c| c.consume_type).map(|t| t.to_string()),
                    "messageModel": conn.as_ref().and_then(|c| c.message_model).map(|m| m.to_string()),
                })
            }
        })
        .buffered(PARALLEL)
        .collect()
        .await;
    Ok(Json(json!({ "groups": rows })))
}

pub async fn detail(
    State(console): State<Arc<Console>>,
    Path(group): Path<String>,
) -> ApiResult<Json<Value>> {
    validate::group_name("group", &group)?;
    let admin = console.admin();
    let stats = admin.consume_stats_everywhere(&group, None).await?;
    let queues: Vec<Value> = stats
        .offset_table
        .iter()
        .map(|(mq, o)| {
            json!({
                "topic": mq.topic, "brokerName": mq.broker_name, "queueId": mq.queue_id,
                "brokerOffset": o.broker_offset, "consumerOffset": o.consumer_offset,
                "backlog": backlog::of_queue(o),
                "lastTimestamp": o.last_timestamp,
            })
        })
        .collect();
    let conn = admin.group_connections(&group).await?;
    let clients: Vec<Value> = conn
        .iter()
        .flat_map(|c| c.connection_set.iter())
        .map(|c| {
            json!({"clientId": c.client_id, "clientAddr": c.client_addr,
                   "language": c.language.to_string(), "version": c.version})
        })
        .collect();
    let subscriptions: Vec<Value> = conn
        .iter()
        .flat_map(|c| c.subscription_table.values())
        .map(|s| json!({"topic": s.topic, "expression": s.sub_string}))
        .collect();
    Ok(Json(json!({
        "group": group,
        "backlog": backlog::total(&stats),
        "tps": console.samples.group_tps(&group),
        "queues": queues,
        "clients": clients,
        "subscriptions": subscriptions,
        "series": console.samples.group_series(&group),
    })))
}

pub async fn client(
    State(console): State<Arc<Console>>,
    Path((group, client_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    validate::group_name("group", &group)?;
    let admin = console.admin();
    // Ask through a master the client is connected to.
    let info = admin.cluster_info().await?;
    let mut last = None;
    for b in info.broker_addr_table.values() {
        let Some(addr) = b.master_addr() else {
            continue;
        };
        match admin
            .consumer_running_info(addr, &group, &client_id, false)
            .await
        {
            Ok(r) => return Ok(Json(serde_json::to_value(r).unwrap_or(Value::Null))),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => ApiError::Cluster(e),
        None => ApiError::NotFound(format!("no master knows client {client_id:?}")),
    })
}

#[derive(Deserialize)]
pub struct ResetForm {
    topic: String,
    timestamp: i64,
}

pub async fn reset(
    State(console): State<Arc<Console>>,
    Path(group): Path<String>,
    Json(f): Json<ResetForm>,
) -> ApiResult<Json<Value>> {
    validate::group_name("group", &group)?;
    validate::topic_name("topic", &f.topic)?;
    validate::past_timestamp("timestamp", f.timestamp)?;
    let r = console
        .admin()
        .reset_offset_by_time(&group, &f.topic, f.timestamp, true)
        .await?;
    Ok(Json(resets(&r)))
}

#[derive(Deserialize)]
pub struct SkipForm {
    topic: String,
}

/// Skip the backlog: every queue's consumer offset moves to its max offset (a reset to now).
pub async fn skip(
    State(console): State<Arc<Console>>,
    Path(group): Path<String>,
    Json(f): Json<SkipForm>,
) -> ApiResult<Json<Value>> {
    validate::group_name("group", &group)?;
    validate::topic_name("topic", &f.topic)?;
    // A millisecond ahead: messages stored in this very millisecond are skipped too.
    let r = console
        .admin()
        .reset_offset_by_time(&group, &f.topic, now_millis() + 1, true)
        .await?;
    Ok(Json(resets(&r)))
}

fn resets(r: &[QueueReset]) -> Value {
    let queues: Vec<Value> = r
        .iter()
        .map(|q| {
            json!({"brokerName": q.queue.broker_name, "queueId": q.queue.queue_id,
                   "oldOffset": q.old_offset, "newOffset": q.new_offset})
        })
        .collect();
    json!({ "queues": queues })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupForm {
    group: String,
    cluster: Option<String>,
    #[serde(default = "sixteen")]
    retry_max_times: i32,
    #[serde(default)]
    consume_broadcast_enable: bool,
    #[serde(default = "yes")]
    consume_enable: bool,
}

fn sixteen() -> i32 {
    16
}

fn yes() -> bool {
    true
}

pub async fn create(
    State(console): State<Arc<Console>>,
    Json(f): Json<GroupForm>,
) -> ApiResult<Json<Value>> {
    let group = f.group.trim();
    validate::group_name("group", group)?;
    if !(0..=64).contains(&f.retry_max_times) {
        return Err(ApiError::bad(
            "retryMaxTimes",
            format!("{}: between 0 and 64 retries", f.retry_max_times),
        ));
    }
    let config = SubscriptionGroupConfig {
        group_name: group.to_owned(),
        retry_max_times: f.retry_max_times,
        consume_broadcast_enable: f.consume_broadcast_enable,
        consume_enable: f.consume_enable,
        ..Default::default()
    };
    let admin = console.admin();
    for addr in masters(&console, f.cluster.as_deref()).await? {
        admin.update_subscription_group(&addr, &config).await?;
    }
    Ok(Json(json!({ "ok": true })))
}

pub async fn delete(
    State(console): State<Arc<Console>>,
    Path(group): Path<String>,
) -> ApiResult<Json<Value>> {
    validate::group_name("group", &group)?;
    let admin = console.admin();
    for addr in masters(&console, None).await? {
        admin.delete_subscription_group(&addr, &group, true).await?;
    }
    Ok(Json(json!({ "ok": true })))
}

/// The master addresses of `cluster`, or of every cluster.
async fn masters(console: &Console, cluster: Option<&str>) -> ApiResult<BTreeSet<String>> {
    let admin = console.admin();
    let info = admin.cluster_info().await?;
    let clusters: Vec<String> = match cluster.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => vec![c.to_owned()],
        None => info.cluster_addr_table.keys().cloned().collect(),
    };
    let mut out = BTreeSet::new();
    for c in clusters {
        out.extend(
            rmq_client::admin::masters_of(&info, &c)?
                .into_iter()
                .map(|m| m.addr),
        );
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct ProducerQuery {
    group: String,
}

pub async fn producers(
    State(console): State<Arc<Console>>,
    Query(q): Query<ProducerQuery>,
) -> ApiResult<Json<Value>> {
    let group = validate::non_empty("group", &q.group)?;
    let admin = console.admin();
    let mut rows = Vec::new();
    for addr in masters(&console, None).await? {
        let Ok(c) = admin.producer_connection(&addr, group).await else {
            continue;
        };
        for c in c.connection_set {
            rows.push(json!({"clientId": c.client_id, "clientAddr": c.client_addr,
                "language": c.language.to_string(), "version": c.version, "broker": addr}));
        }
    }
    Ok(Json(json!({ "connections": rows })))
}
