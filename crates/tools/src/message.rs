//! Message commands: `queryMsgById`, `queryMsgByKey`, `queryMsgByOffset`, `sendMessage`.
//!
//! Every lookup goes through `rmq_client::Admin`, which returns bodies decompressed.
//! [`MessageView`] is the one shape every lookup prints, as text or `--json`.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rmq_client::{Message, MessageExt, MessageQueue, Producer, PullOne};
use rmq_common::msg_id::decode_offset_msg_id;
use serde::Serialize;

use crate::output::{emit, format_millis, print_out, BodyView, Table};
use crate::session::{route_masters, Session};

/// Bytes of a body shown unless `--max-body` says otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 4096;

/// Producer group of `sendMessage`.
const TOOLS_PRODUCER_GROUP: &str = "TOOLS_PRODUCER";

/// A stored message as the tools show it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// The client id (`UNIQ_KEY`), what Java calls the message id.
    pub msg_id: String,
    /// The broker's offset message id.
    pub offset_msg_id: String,
    /// Topic.
    pub topic: String,
    /// Tags, if any.
    pub tags: Option<String>,
    /// Keys.
    pub keys: Vec<String>,
    /// Queue id.
    pub queue_id: i32,
    /// Offset in the queue.
    pub queue_offset: i64,
    /// Offset in the broker's CommitLog.
    pub commit_log_offset: i64,
    /// Times it was consumed again.
    pub reconsume_times: i32,
    /// When the producer created it (ms).
    pub born_timestamp: i64,
    /// The producer's address.
    pub born_host: String,
    /// When the broker stored it (ms).
    pub store_timestamp: i64,
    /// The broker's address.
    pub store_host: String,
    /// System flag bits.
    pub sys_flag: i32,
    /// CRC32 of the body.
    pub body_crc: u32,
    /// User and system properties.
    pub properties: BTreeMap<String, String>,
    /// The body as shown.
    pub body: BodyView,
}

impl MessageView {
    /// The view of `m`, its body cut at `body_limit` bytes.
    pub fn new(m: &MessageExt, body_limit: usize) -> Self {
        MessageView {
            msg_id: m.msg_id(),
            offset_msg_id: m.offset_msg_id(),
            topic: m.message.topic.clone(),
            tags: m.message.tags().map(str::to_owned),
            keys: m.message.keys().map(str::to_owned).collect(),
            queue_id: m.queue_id,
            queue_offset: m.queue_offset,
            commit_log_offset: m.commit_log_offset,
            reconsume_times: m.reconsume_times,
            born_timestamp: m.born_timestamp,
            born_host: m.born_host.to_string(),
            store_timestamp: m.store_timestamp,
            store_host: m.store_host.to_string(),
            sys_flag: m.sys_flag,
            body_crc: m.body_crc,
            properties: m.message.properties.clone(),
            body: BodyView::new(&m.message.body, body_limit),
        }
    }

    /// Apache's `queryMsgById` layout: one `Label: value` line per field.
    pub fn render(&self, body_limit: usize) -> String {
        let props: Vec<String> = self
            .properties
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let lines = [
            ("Message ID", self.msg_id.clone()),
            ("OffsetID", self.offset_msg_id.clone()),
            ("Topic", self.topic.clone()),
            ("Tags", format!("[{}]", self.tags.as_deref().unwrap_or(""))),
            ("Keys", format!("[{}]", self.keys.join(" "))),
            ("Queue ID", self.queue_id.to_string()),
            ("Queue Offset", self.queue_offset.to_string()),
            ("CommitLog Offset", self.commit_log_offset.to_string()),
            ("Reconsume Times", self.reconsume_times.to_string()),
            ("Born Timestamp", format_millis(self.born_timestamp)),
            ("Store Timestamp", format_millis(self.store_timestamp)),
            ("Born Host", self.born_host.clone()),
            ("Store Host", self.store_host.clone()),
            ("System Flag", self.sys_flag.to_string()),
            ("Properties", format!("{{{}}}", props.join(", "))),
            ("Body Length", self.body.length.to_string()),
            ("Body", self.body.describe(body_limit)),
        ];
        lines
            .iter()
            .map(|(k, v)| format!("{:<20}{v}\n", format!("{k}:")))
            .collect()
    }
}

fn emit_messages(s: &Session, msgs: &[MessageExt], limit: usize) {
    let views: Vec<MessageView> = msgs.iter().map(|m| MessageView::new(m, limit)).collect();
    emit(s.json, &views, |views| {
        views
            .iter()
            .map(|v| v.render(limit))
            .collect::<Vec<_>>()
            .join("\n")
    });
}

/// A failed lookup by message id: "no such message" says what to check, anything else is
/// explained as usual.
fn lookup_error(
    s: &Session,
    e: rmq_client::ClientError,
    id: &str,
    topic: Option<&str>,
) -> anyhow::Error {
    if e.response_code() != Some(rmq_client::ResponseCode::QueryNotFound) {
        return s.explain(e);
    }
    let topic = topic.map(|t| format!(" in topic {t}")).unwrap_or_default();
    anyhow!("no message with id {id}{topic} — check the id and topic; old messages may have been deleted")
}

/// Arguments of `mqadmin queryMsgById`.
#[derive(Debug, Args)]
pub struct QueryMsgById {
    /// Message id(s), comma-separated: offset ids (from the broker) or client ids (UNIQ_KEY).
    #[arg(short = 'i', long = "msgId")]
    pub msg_id: String,
    /// Topic; needed to look up a client id (UNIQ_KEY).
    #[arg(short = 't', long = "topic")]
    pub topic: Option<String>,
    /// Show at most this many body bytes.
    #[arg(long = "max-body", default_value_t = DEFAULT_BODY_LIMIT)]
    pub max_body: usize,
}

/// Runs `mqadmin queryMsgById`.
pub async fn query_msg_by_id(s: &Session, a: &QueryMsgById) -> Result<()> {
    let mut found = Vec::new();
    for id in a.msg_id.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let m = match &a.topic {
            Some(topic) => s.admin.query_message_by_id(topic, id).await,
            None if decode_offset_msg_id(id).is_some() => s.admin.view_message(id).await,
            None => bail!(
                "{id} is not an offset message id; to look it up as a client message id \
                 (UNIQ_KEY) give its topic with -t"
            ),
        };
        found.push(m.map_err(|e| lookup_error(s, e, id, a.topic.as_deref()))?);
    }
    emit_messages(s, &found, a.max_body);
    Ok(())
}

/// Arguments of `mqadmin queryMsgByUniqueKey`.
#[derive(Debug, Args)]
pub struct QueryMsgByUniqueKey {
    /// The client message id (UNIQ_KEY) the producer got back.
    #[arg(short = 'i', long = "msgId")]
    pub msg_id: String,
    /// Topic of the message.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// With -d: the consumer group whose member consumes the message again.
    #[arg(short = 'g', long = "consumerGroup")]
    pub group: Option<String>,
    /// With -g: the client id of the member that consumes it (CONSUME_MESSAGE_DIRECTLY).
    #[arg(short = 'd', long = "clientId")]
    pub client_id: Option<String>,
    /// Show at most this many body bytes.
    #[arg(long = "max-body", default_value_t = DEFAULT_BODY_LIMIT)]
    pub max_body: usize,
}

/// Runs `mqadmin queryMsgByUniqueKey`: the message with that client id; with `-g` and `-d`,
/// the named member of the group consumes it once more and the answer is printed.
pub async fn query_msg_by_unique_key(s: &Session, a: &QueryMsgByUniqueKey) -> Result<()> {
    let (topic, id) = (a.topic.trim(), a.msg_id.trim());
    let m = s
        .admin
        .query_message_by_id(topic, id)
        .await
        .map_err(|e| lookup_error(s, e, id, Some(topic)))?;
    let (group, client) = match (&a.group, &a.client_id) {
        (Some(g), Some(c)) => (g, c),
        (None, None) => {
            emit_messages(s, std::slice::from_ref(&m), a.max_body);
            return Ok(());
        }
        _ => {
            bail!("-g and -d go together: the group and the client id of the member to consume it")
        }
    };
    let r = s
        .admin
        .consume_message_directly(
            &m.store_host.to_string(),
            group,
            client,
            topic,
            &m.offset_msg_id(),
        )
        .await
        .map_err(|e| s.explain(e))?;
    emit(s.json, &r, |r| {
        let result = serde_json::to_value(r.consume_result).unwrap_or_default();
        format!(
            "ConsumeMessageDirectlyResult [order={}, autoCommit={}, consumeResult={}, remark={}, \
             spentTimeMills={}]\n",
            r.order,
            r.auto_commit,
            result.as_str().unwrap_or("?"),
            r.remark.as_deref().unwrap_or("null"),
            r.spent_time_mills
        )
    });
    Ok(())
}

/// Arguments of `mqadmin queryMsgByKey`.
#[derive(Debug, Args)]
pub struct QueryMsgByKey {
    /// Topic.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Message key.
    #[arg(short = 'k', long = "msgKey")]
    pub key: String,
    /// At most this many messages per broker.
    #[arg(short = 'c', long = "maxNum", default_value_t = 64)]
    pub max_num: i32,
    /// Only messages stored at or after this time (ms since the epoch).
    #[arg(short = 'b', long = "beginTimestamp", default_value_t = 0)]
    pub begin: i64,
    /// Only messages stored before this time (ms since the epoch; default: now).
    #[arg(short = 'e', long = "endTimestamp")]
    pub end: Option<i64>,
    /// Print every message in full instead of a table.
    #[arg(long = "full")]
    pub full: bool,
    /// Show at most this many body bytes (with --full or --json).
    #[arg(long = "max-body", default_value_t = DEFAULT_BODY_LIMIT)]
    pub max_body: usize,
}

/// Runs `mqadmin queryMsgByKey`.
pub async fn query_msg_by_key(s: &Session, a: &QueryMsgByKey) -> Result<()> {
    let msgs = s
        .admin
        .query_message_by_key(
            &a.topic,
            &a.key,
            a.max_num,
            a.begin,
            a.end.unwrap_or(i64::MAX),
        )
        .await
        .map_err(|e| s.explain(e))?;
    if msgs.is_empty() {
        bail!(
            "no message with key {} in topic {} — keys are matched exactly; check the key and \
             topic",
            a.key,
            a.topic
        );
    }
    if s.json || a.full {
        emit_messages(s, &msgs, a.max_body);
        return Ok(());
    }
    let mut t = Table::new(["Message ID", "QID", "Offset", "Store Time", "Tags"]);
    for m in &msgs {
        t.row([
            m.msg_id(),
            m.queue_id.to_string(),
            m.queue_offset.to_string(),
            format_millis(m.store_timestamp),
            m.message.tags().unwrap_or("").to_owned(),
        ]);
    }
    print_out(&t.render());
    Ok(())
}

/// Arguments of `mqadmin queryMsgByOffset`.
#[derive(Debug, Args)]
pub struct QueryMsgByOffset {
    /// Topic.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Broker name (as in topicRoute).
    #[arg(short = 'b', long = "brokerName")]
    pub broker_name: String,
    /// Queue id.
    #[arg(short = 'i', long = "queueId")]
    pub queue_id: i32,
    /// Queue offset.
    #[arg(short = 'o', long = "offset")]
    pub offset: i64,
    /// Show at most this many body bytes.
    #[arg(long = "max-body", default_value_t = DEFAULT_BODY_LIMIT)]
    pub max_body: usize,
}

/// Runs `mqadmin queryMsgByOffset`.
pub async fn query_msg_by_offset(s: &Session, a: &QueryMsgByOffset) -> Result<()> {
    let route = s.route(&a.topic).await?;
    let Some(master) = route_masters(&route)
        .into_iter()
        .find(|m| m.broker_name == a.broker_name)
    else {
        let names: Vec<String> = route_masters(&route)
            .into_iter()
            .map(|m| m.broker_name)
            .collect();
        bail!(
            "broker {} does not serve topic {} (its brokers: {}) — check -b",
            a.broker_name,
            a.topic,
            names.join(", ")
        );
    };
    let pulled = s
        .admin
        .pull_one(&master.addr, &a.topic, a.queue_id, a.offset)
        .await
        .map_err(|e| s.explain(e))?;
    let m = match pulled {
        PullOne::Found(m) => *m,
        PullOne::NotFound {
            min_offset,
            max_offset,
        } => {
            let holds = if max_offset > min_offset {
                format!("holds offsets {min_offset} to {}", max_offset - 1)
            } else {
                format!("is empty (the next message gets offset {max_offset})")
            };
            bail!(
                "no message at offset {} of {}:{}:{} — the queue {holds} (see mqadmin \
                 topicStatus)",
                a.offset,
                a.topic,
                a.broker_name,
                a.queue_id
            )
        }
    };
    emit_messages(s, &[m], a.max_body);
    Ok(())
}

/// Arguments of `mqadmin sendMessage`.
#[derive(Debug, Args)]
pub struct SendMessage {
    /// Topic.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Message body (UTF-8 text).
    #[arg(short = 'p', long = "body")]
    pub body: String,
    /// Keys, space-separated.
    #[arg(short = 'k', long = "key")]
    pub keys: Option<String>,
    /// Tags.
    #[arg(short = 'c', long = "tags")]
    pub tags: Option<String>,
    /// Send to this broker name (with -i).
    #[arg(short = 'b', long = "broker", requires = "queue_id")]
    pub broker_name: Option<String>,
    /// Send to this queue id (with -b).
    #[arg(short = 'i', long = "qid", requires = "broker_name")]
    pub queue_id: Option<i32>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SendReport {
    broker_name: String,
    queue_id: i32,
    queue_offset: i64,
    send_status: String,
    msg_id: String,
    offset_msg_id: String,
}

/// Runs `mqadmin sendMessage`.
pub async fn send_message(s: &Session, a: &SendMessage) -> Result<()> {
    let mut msg = Message::new(&a.topic, a.body.clone().into_bytes());
    if let Some(tags) = &a.tags {
        msg = msg.with_tags(tags);
    }
    if let Some(keys) = &a.keys {
        msg = msg.with_keys(keys.split(' ').filter(|k| !k.is_empty()));
    }
    let producer = Producer::builder()
        .group(TOOLS_PRODUCER_GROUP)
        .name_server(&s.name_server_list())
        .build()
        .await
        .map_err(|e| s.explain(e))?;
    let sent = match (&a.broker_name, a.queue_id) {
        (Some(b), Some(q)) => {
            producer
                .send_to_queue(msg, &MessageQueue::new(&a.topic, b, q))
                .await
        }
        _ => producer.send(msg).await,
    };
    producer.shutdown().await;
    let r = sent.map_err(|e| s.explain(e))?;
    let report = SendReport {
        broker_name: r.message_queue.broker_name.clone(),
        queue_id: r.message_queue.queue_id,
        queue_offset: r.queue_offset,
        send_status: r.status.to_string(),
        msg_id: r.msg_id,
        offset_msg_id: r.offset_msg_id,
    };
    emit(s.json, &report, |r| {
        let mut t = Table::new(["Broker Name", "QID", "Send Result", "MsgId", "OffsetMsgId"]);
        t.row([
            r.broker_name.clone(),
            r.queue_id.to_string(),
            r.send_status.clone(),
            r.msg_id.clone(),
            r.offset_msg_id.clone(),
        ]);
        t.render()
    });
    Ok(())
}
