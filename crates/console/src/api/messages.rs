//! Messages by topic and time (paged), by key, by id; resend to a group; a group's dead
//! letters: list, export as JSON lines, resend a selection.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rmq_client::{Message, MessageExt};
use rmq_common::message::keys;
use rmq_common::time::now_millis;
use rmq_common::topic::{DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::validate;
use crate::api::view::{detail, summary};
use crate::error::{ApiError, ApiResult};
use crate::state::Console;

/// A page has at most this many messages.
const MAX_PAGE_SIZE: usize = 100;
/// Time queries read at most this many messages (newest pages beyond it are not reachable:
/// narrow the time range).
const MAX_SCAN: usize = 2000;
/// Key queries answer at most this many messages.
const MAX_BY_KEY: i32 = 64;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeQuery {
    topic: Option<String>,
    group: Option<String>,
    begin: Option<i64>,
    end: Option<i64>,
    #[serde(default)]
    page: usize,
    page_size: Option<usize>,
}

/// Where a time query starts when it names no beginning.
#[derive(Clone, Copy)]
enum Since {
    /// The last hour (messages).
    LastHour,
    /// The first message (dead letters wait for an operator).
    Start,
}

/// The time range asked for; begin must be before end.
fn range(q: &TimeQuery, since: Since) -> ApiResult<(i64, i64)> {
    let end = q.end.unwrap_or_else(now_millis);
    let begin = q.begin.unwrap_or(match since {
        Since::LastHour => end - 3_600_000,
        Since::Start => 0,
    });
    if begin < 0 {
        return Err(ApiError::bad("begin", format!("{begin} is before 1970")));
    }
    if begin >= end {
        return Err(ApiError::bad(
            "begin",
            "the range's beginning is not before its end",
        ));
    }
    Ok((begin, end))
}

async fn by_time(
    console: &Console,
    topic: &str,
    q: &TimeQuery,
    since: Since,
) -> ApiResult<Json<Value>> {
    let (begin, end) = range(q, since)?;
    let size = q.page_size.unwrap_or(20).clamp(1, MAX_PAGE_SIZE);
    let want = (q.page + 1) * size + 1;
    if want > MAX_SCAN {
        return Err(ApiError::bad(
            "page",
            format!(
                "page {} is beyond the first {MAX_SCAN} messages: narrow the time range",
                q.page
            ),
        ));
    }
    let mut found = console
        .admin()
        .query_message_by_time(topic, begin, end, MAX_SCAN)
        .await?;
    found.sort_by_key(|m| std::cmp::Reverse(m.store_timestamp));
    let more = found.len() > (q.page + 1) * size;
    let rows: Vec<_> = found
        .iter()
        .skip(q.page * size)
        .take(size)
        .map(summary)
        .collect();
    Ok(Json(
        json!({"messages": rows, "page": q.page, "pageSize": size, "more": more}),
    ))
}

pub async fn list(
    State(console): State<Arc<Console>>,
    Query(q): Query<TimeQuery>,
) -> ApiResult<Json<Value>> {
    let topic = q.topic.clone().unwrap_or_default();
    validate::topic_name("topic", &topic)?;
    by_time(&console, &topic, &q, Since::LastHour).await
}

#[derive(Deserialize)]
pub struct KeyQuery {
    topic: String,
    key: String,
}

pub async fn by_key(
    State(console): State<Arc<Console>>,
    Query(q): Query<KeyQuery>,
) -> ApiResult<Json<Value>> {
    validate::topic_name("topic", &q.topic)?;
    let key = validate::non_empty("key", &q.key)?;
    let found = console
        .admin()
        .query_message_by_key(&q.topic, key, MAX_BY_KEY, 0, i64::MAX)
        .await?;
    let rows: Vec<_> = found.iter().map(summary).collect();
    Ok(Json(json!({ "messages": rows })))
}

#[derive(Deserialize)]
pub struct IdQuery {
    topic: String,
    id: String,
}

async fn find(console: &Console, topic: &str, id: &str) -> ApiResult<MessageExt> {
    validate::topic_name("topic", topic)?;
    let id = validate::non_empty("id", id)?;
    console
        .admin()
        .query_message_by_id(topic, id)
        .await
        .map_err(|e| match e {
            rmq_client::ClientError::InvalidMessage(m) => ApiError::bad("id", m),
            e => ApiError::NotFound(format!("no message {id:?} in topic {topic:?}: {e}")),
        })
}

pub async fn by_id(
    State(console): State<Arc<Console>>,
    Query(q): Query<IdQuery>,
) -> ApiResult<Json<Value>> {
    let m = find(&console, &q.topic, &q.id).await?;
    Ok(Json(
        serde_json::to_value(detail(&m)).unwrap_or(Value::Null),
    ))
}

#[derive(Deserialize)]
pub struct ResendForm {
    topic: String,
    id: String,
    group: String,
}

pub async fn resend(
    State(console): State<Arc<Console>>,
    Json(f): Json<ResendForm>,
) -> ApiResult<Json<Value>> {
    validate::group_name("group", &f.group)?;
    let m = find(&console, &f.topic, &f.id).await?;
    let r = resend_to_group(&console, &m, &f.group).await?;
    Ok(Json(r))
}

/// Sends a copy of `m` to `group`'s retry topic, so that only that group consumes it again;
/// the consumer sees the original topic (`RETRY_TOPIC`), keys, tags and body.
async fn resend_to_group(console: &Console, m: &MessageExt, group: &str) -> ApiResult<Value> {
    let original = m
        .property(keys::RETRY_TOPIC)
        .or_else(|| m.property(keys::DLQ_ORIGIN_TOPIC))
        .map(str::to_owned)
        .unwrap_or_else(|| m.topic().to_owned());
    let mut copy = Message::new(format!("{RETRY_GROUP_TOPIC_PREFIX}{group}"), m.body.clone());
    for (k, v) in &m.properties {
        // The broker gives the copy its own id, queue and delay.
        let broker_set = [
            keys::UNIQ_KEY,
            keys::DELAY,
            keys::MIN_OFFSET,
            keys::MAX_OFFSET,
            keys::REAL_TOPIC,
            keys::REAL_QID,
        ];
        if !broker_set.contains(&k.as_str()) {
            copy.properties.insert(k.clone(), v.clone());
        }
    }
    copy.properties.insert(keys::RETRY_TOPIC.into(), original);
    copy.properties
        .entry(keys::ORIGIN_MESSAGE_ID.into())
        .or_insert_with(|| m.msg_id());
    let r = console.producer().await?.send(copy).await?;
    Ok(json!({"status": r.status.to_string(), "msgId": r.msg_id}))
}

fn dlq_topic(group: &str) -> ApiResult<String> {
    validate::group_name("group", group)?;
    Ok(format!("{DLQ_GROUP_TOPIC_PREFIX}{group}"))
}

pub async fn dlq(
    State(console): State<Arc<Console>>,
    Query(q): Query<TimeQuery>,
) -> ApiResult<Json<Value>> {
    let topic = dlq_topic(q.group.as_deref().unwrap_or(""))?;
    by_time(&console, &topic, &q, Since::Start).await
}

pub async fn dlq_export(
    State(console): State<Arc<Console>>,
    Query(q): Query<TimeQuery>,
) -> ApiResult<Response> {
    let group = q.group.clone().unwrap_or_default();
    let topic = dlq_topic(&group)?;
    let (begin, end) = range(&q, Since::Start)?;
    let found = console
        .admin()
        .query_message_by_time(&topic, begin, end, MAX_SCAN)
        .await?;
    let mut out = String::new();
    for m in &found {
        out.push_str(&serde_json::to_string(&detail(m)).unwrap_or_default());
        out.push('\n');
    }
    let disposition = format!("attachment; filename=\"dlq-{group}.jsonl\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct DlqResend {
    group: String,
    ids: Vec<String>,
}

pub async fn dlq_resend(
    State(console): State<Arc<Console>>,
    Json(f): Json<DlqResend>,
) -> ApiResult<Json<Value>> {
    let topic = dlq_topic(&f.group)?;
    if f.ids.is_empty() {
        return Err(ApiError::bad("ids", "no message selected"));
    }
    if f.ids.len() > MAX_PAGE_SIZE {
        return Err(ApiError::bad(
            "ids",
            format!(
                "{} messages: resend at most {MAX_PAGE_SIZE} at once",
                f.ids.len()
            ),
        ));
    }
    let mut results = Vec::new();
    for id in &f.ids {
        let r = match find(&console, &topic, id).await {
            Ok(m) => resend_to_group(&console, &m, &f.group).await,
            Err(e) => Err(e),
        };
        results.push(match r {
            Ok(v) => json!({"id": id, "ok": true, "msgId": v["msgId"]}),
            Err(e) => json!({"id": id, "ok": false, "error": e.message()}),
        });
    }
    Ok(Json(json!({ "results": results })))
}
