//! Topics: list by kind, create/update, delete, route, queue offsets, consumers, test message.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::Json;
use bytes::Bytes;
use rmq_client::{Message, TopicConfig, TopicRouteData, TopicTarget};
use rmq_common::topic::{is_dlq_topic, is_system_topic, RETRY_GROUP_TOPIC_PREFIX};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::validate;
use crate::backlog;
use crate::error::{ApiError, ApiResult};
use crate::kind::{kind, own_names, KINDS};
use crate::state::Console;

/// The largest test message body the console sends.
const MAX_TEST_BODY: usize = 1024 * 1024;

#[derive(Deserialize)]
pub struct KindQuery {
    kind: Option<String>,
}

pub async fn list(
    State(console): State<Arc<Console>>,
    Query(q): Query<KindQuery>,
) -> ApiResult<Json<Value>> {
    let want = q.kind.unwrap_or_else(|| "all".into()).to_ascii_lowercase();
    if !KINDS.contains(&want.as_str()) {
        return Err(ApiError::bad(
            "kind",
            format!("kind {want:?}: one of {}", KINDS.join(", ")),
        ));
    }
    let admin = console.admin();
    let topics = admin.topic_list().await?.topic_list;
    let info = admin.cluster_info().await?;
    let own = own_names(&info);
    let mut configs: BTreeMap<String, TopicConfig> = BTreeMap::new();
    for b in info.broker_addr_table.values() {
        if let Some(addr) = b.master_addr() {
            if let Ok(w) = admin.all_topic_config(addr).await {
                configs.extend(w.topic_config_table);
            }
        }
    }
    let rows: Vec<Value> = topics
        .iter()
        .map(|t| (t, kind(t, configs.get(t), &own)))
        .filter(|(_, k)| want == "all" || *k == want)
        .map(|(t, k)| json!({"name": t, "kind": k}))
        .collect();
    Ok(Json(json!({ "topics": rows })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicForm {
    name: String,
    cluster: Option<String>,
    read_queues: i32,
    write_queues: i32,
    #[serde(default = "rw")]
    perm: i32,
    message_type: Option<String>,
}

fn rw() -> i32 {
    6
}

pub async fn create(
    State(console): State<Arc<Console>>,
    Json(f): Json<TopicForm>,
) -> ApiResult<Json<Value>> {
    let name = f.name.trim();
    validate::topic_name("name", name)?;
    if name.starts_with(RETRY_GROUP_TOPIC_PREFIX) || is_dlq_topic(name) || is_system_topic(name) {
        return Err(ApiError::bad(
            "name",
            format!("{name:?} is a name the broker keeps for itself"),
        ));
    }
    validate::queue_count("readQueues", f.read_queues)?;
    validate::queue_count("writeQueues", f.write_queues)?;
    validate::perm("perm", f.perm)?;
    let message_type = f
        .message_type
        .unwrap_or_else(|| "NORMAL".into())
        .to_ascii_uppercase();
    if !["NORMAL", "FIFO", "DELAY", "TRANSACTION"].contains(&message_type.as_str()) {
        return Err(ApiError::bad(
            "messageType",
            format!("{message_type:?}: NORMAL, FIFO, DELAY or TRANSACTION"),
        ));
    }
    let mut config = TopicConfig {
        topic_name: name.to_owned(),
        read_queue_nums: f.read_queues,
        write_queue_nums: f.write_queues,
        perm: f.perm,
        order: message_type == "FIFO",
        ..Default::default()
    };
    config
        .attributes
        .insert("message.type".into(), message_type);
    let admin = console.admin();
    let clusters: Vec<String> = match f.cluster.as_deref().map(str::trim) {
        Some(c) if !c.is_empty() => vec![c.to_owned()],
        _ => admin
            .cluster_info()
            .await?
            .cluster_addr_table
            .into_keys()
            .collect(),
    };
    for c in clusters {
        admin.create_topic(TopicTarget::Cluster(c), &config).await?;
    }
    Ok(Json(json!({ "ok": true })))
}

pub async fn delete(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    validate::topic_name("name", &name)?;
    console.admin().delete_topic(&name, None).await?;
    Ok(Json(json!({ "ok": true })))
}

pub async fn route(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    validate::topic_name("name", &name)?;
    let route = console.admin().topic_route(&name).await?;
    Ok(Json(serde_json::to_value(route).unwrap_or(Value::Null)))
}

/// The master address of each broker group serving the topic.
fn masters(route: &TopicRouteData) -> impl Iterator<Item = &str> {
    route.broker_datas.iter().filter_map(|b| b.master_addr())
}

pub async fn stats(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    validate::topic_name("name", &name)?;
    let admin = console.admin();
    let route = admin.topic_route(&name).await?;
    let mut queues = Vec::new();
    for addr in masters(&route) {
        let stats = admin.topic_stats(addr, &name).await?;
        for (mq, o) in stats.offset_table {
            queues.push(json!({
                "brokerName": mq.broker_name, "queueId": mq.queue_id,
                "minOffset": o.min_offset, "maxOffset": o.max_offset,
                "lastUpdateTimestamp": o.last_update_timestamp,
            }));
        }
    }
    Ok(Json(json!({ "queues": queues })))
}

pub async fn consumers(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    validate::topic_name("name", &name)?;
    let admin = console.admin();
    let route = admin.topic_route(&name).await?;
    let mut groups = BTreeSet::new();
    for addr in masters(&route) {
        groups.extend(admin.topic_consumed_by(addr, &name).await?.group_list);
    }
    let mut rows = Vec::new();
    for g in groups {
        let backlog = admin
            .consume_stats(&g, &name)
            .await
            .ok()
            .map(|s| backlog::total(&s));
        rows.push(json!({"group": g, "backlog": backlog}));
    }
    Ok(Json(json!({ "groups": rows })))
}

#[derive(Deserialize)]
pub struct SendForm {
    tag: Option<String>,
    key: Option<String>,
    body: String,
}

pub async fn send(
    State(console): State<Arc<Console>>,
    Path(name): Path<String>,
    Json(f): Json<SendForm>,
) -> ApiResult<Json<Value>> {
    validate::topic_name("name", &name)?;
    if f.body.is_empty() {
        return Err(ApiError::bad("body", "the message body is empty"));
    }
    if f.body.len() > MAX_TEST_BODY {
        return Err(ApiError::bad(
            "body",
            format!(
                "{} bytes: a test message body is at most {MAX_TEST_BODY} bytes",
                f.body.len()
            ),
        ));
    }
    let mut msg = Message::new(name, Bytes::from(f.body));
    if let Some(tag) = f.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        msg = msg.with_tags(tag);
    }
    if let Some(key) = f.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        msg = msg.with_keys([key]);
    }
    let r = console.producer().await?.send(msg).await?;
    Ok(Json(json!({
        "status": r.status.to_string(),
        "msgId": r.msg_id,
        "offsetMsgId": r.offset_msg_id,
        "brokerName": r.message_queue.broker_name,
        "queueId": r.message_queue.queue_id,
        "queueOffset": r.queue_offset,
    })))
}
