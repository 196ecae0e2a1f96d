//! SendMessage: each `apache.rocketmq.v2.Message` becomes the remoting send it stands for and
//! takes the broker's one send path (`processor::send::send`), so a message sent over gRPC is
//! stored, indexed and consumed exactly like one sent over remoting.

use std::sync::Arc;

use bytes::Bytes;
use rmq_common::message::{encode_properties, keys, Properties};
use rmq_common::sysflag::message as msg_flag;
use rmq_proto::v2::{
    Code, Encoding, Message, MessageType, SendMessageRequest, SendMessageResponse, SendResultEntry,
    Status,
};
use rmq_remoting::header::SendMessageRequestHeader;

use super::metadata::Caller;
use super::property_keys::RESERVED;
use super::status::{from_process_error, from_response_code, ok, status};
use crate::context::BrokerContext;
use crate::processor::send::{response_code, send};

pub async fn send_message(
    ctx: &Arc<BrokerContext>,
    caller: &Caller,
    req: SendMessageRequest,
) -> SendMessageResponse {
    if req.messages.is_empty() {
        return SendMessageResponse {
            status: Some(status(Code::BadRequest, "no message to send")),
            entries: Vec::new(),
        };
    }
    let mut entries = Vec::with_capacity(req.messages.len());
    for m in req.messages {
        entries.push(send_one(ctx, caller, m).await);
    }
    let overall = if entries.len() == 1 {
        entries[0].status.clone()
    } else if entries
        .iter()
        .all(|e| e.status.as_ref().is_some_and(|s| s.code == Code::Ok as i32))
    {
        Some(ok())
    } else {
        Some(status(Code::MultipleResults, "see each entry's status"))
    };
    SendMessageResponse {
        status: overall,
        entries,
    }
}

fn failed(s: Status) -> SendResultEntry {
    SendResultEntry {
        status: Some(s),
        ..SendResultEntry::default()
    }
}

async fn send_one(ctx: &Arc<BrokerContext>, caller: &Caller, m: Message) -> SendResultEntry {
    let (header, body, message_id) = match to_remoting(ctx, caller, m) {
        Ok(v) => v,
        Err(s) => return failed(s),
    };
    let born_host = caller
        .peer
        .unwrap_or_else(|| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
    match send(ctx, &header, body, born_host, false).await {
        Ok(sent) => {
            let code = response_code(sent.result.status);
            match &sent.result.append {
                Some(a) if sent.result.status.is_stored() => SendResultEntry {
                    status: Some(if sent.result.is_ok() {
                        ok()
                    } else {
                        from_response_code(code.into(), sent.result.status.as_str())
                    }),
                    transaction_id: sent
                        .transaction_id
                        .map(|_| {
                            super::transaction::encode_id(
                                a.wrote_offset,
                                a.logics_offset,
                                &message_id,
                            )
                        })
                        .unwrap_or_default(),
                    message_id,
                    offset: a.logics_offset,
                    recall_handle: String::new(),
                },
                _ => failed(from_response_code(
                    code.into(),
                    sent.result
                        .error
                        .as_ref()
                        .map_or_else(|| sent.result.status.as_str().to_owned(), |e| e.to_string()),
                )),
            }
        }
        Err(e) => failed(from_process_error(&e)),
    }
}

/// The remoting send header and body a gRPC message stands for, and its message id.
fn to_remoting(
    ctx: &BrokerContext,
    caller: &Caller,
    m: Message,
) -> Result<(SendMessageRequestHeader, Bytes, String), Status> {
    let topic = m
        .topic
        .as_ref()
        .map(|t| t.name.clone())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| status(Code::IllegalTopic, "the message names no topic"))?;
    let plain_topic = topic.clone();
    let topic = caller.namespaced(&topic);
    let sp = m
        .system_properties
        .ok_or_else(|| status(Code::BadRequest, "the message has no system_properties"))?;
    if sp.message_id.is_empty() {
        return Err(status(
            Code::IllegalMessageId,
            "system_properties.message_id is required",
        ));
    }
    if m.body.is_empty() {
        return Err(status(Code::MessageBodyEmpty, "the message body is empty"));
    }
    let mut props = Properties::new();
    let mut transactional = false;
    for (k, v) in m.user_properties {
        if RESERVED.contains(&k.as_str()) {
            return Err(status(
                Code::IllegalMessagePropertyKey,
                format!("user property {k} is reserved by RocketMQ"),
            ));
        }
        props.insert(k, v);
    }
    props.insert(keys::UNIQ_KEY.into(), sp.message_id.clone());
    props.insert(keys::WAIT.into(), "true".into());
    if let Some(tag) = sp.tag.filter(|t| !t.is_empty()) {
        props.insert(keys::TAGS.into(), tag);
    }
    if !sp.keys.is_empty() {
        props.insert(keys::KEYS.into(), sp.keys.join(keys::KEY_SEPARATOR));
    }
    let message_type = match MessageType::try_from(sp.message_type) {
        Ok(MessageType::Unspecified) | Err(_) => MessageType::Normal,
        Ok(t) => t,
    };
    // As Apache's proxy: a topic that declares a type takes only that type (MIXED: any).
    if let Some(declared) = ctx
        .topics()
        .get(&topic)
        .and_then(|c| super::route::declared_type(&c))
    {
        if declared != message_type {
            return Err(status(
                Code::MessagePropertyConflictWithType,
                format!(
                    "TopicMessageType validate failed, the expected type is {}, but actual type is {}",
                    declared.as_str_name(),
                    message_type.as_str_name()
                ),
            ));
        }
    }
    // The broker picks the queue, as Apache's proxy does (clients may leave queue_id 0): a
    // message group always maps to the same queue, anything else goes to a random one.
    let write_queues = ctx
        .topics()
        .get(&topic)
        .map_or(1, |c| c.write_queue_nums.max(1));
    let mut queue_id = rand::Rng::gen_range(&mut rand::thread_rng(), 0..write_queues);
    match message_type {
        MessageType::Normal | MessageType::Unspecified => {}
        MessageType::Fifo => {
            let group = sp
                .message_group
                .clone()
                .filter(|g| !g.is_empty())
                .ok_or_else(|| {
                    status(
                        Code::IllegalMessageGroup,
                        "a FIFO message needs a message_group",
                    )
                })?;
            queue_id = rmq_common::java::string_hash_code(&group).rem_euclid(write_queues);
            props.insert(keys::SHARDING_KEY.into(), group);
        }
        MessageType::Transaction => {
            props.insert(keys::TRAN_MSG.into(), "true".into());
            props.insert(
                keys::PGROUP.into(),
                super::transaction::producer_group(caller, &plain_topic),
            );
            if let Some(d) = sp.orphaned_transaction_recovery_duration {
                props.insert(
                    keys::CHECK_IMMUNITY_TIME_IN_SECONDS.into(),
                    d.seconds.max(0).to_string(),
                );
            }
            transactional = true;
        }
        MessageType::Delay => {
            let at = sp.delivery_timestamp.as_ref().ok_or_else(|| {
                status(
                    Code::IllegalDeliveryTime,
                    "a DELAY message needs a delivery_timestamp",
                )
            })?;
            let ms = at.seconds.saturating_mul(1000) + i64::from(at.nanos) / 1_000_000;
            props.insert(keys::TIMER_DELIVER_MS.into(), ms.to_string());
        }
        other => {
            return Err(status(
                Code::Unsupported,
                format!(
                    "{} messages are not supported over gRPC by this broker yet",
                    other.as_str_name()
                ),
            ))
        }
    }
    if message_type != MessageType::Delay && sp.delivery_timestamp.is_some() {
        return Err(status(
            Code::IllegalDeliveryTime,
            format!(
                "a delivery_timestamp needs message type DELAY, not {}",
                message_type.as_str_name()
            ),
        ));
    }
    let mut sys_flag = 0;
    if transactional {
        sys_flag |= msg_flag::TRANSACTION_PREPARED_TYPE;
    }
    if sp.body_encoding == Encoding::Gzip as i32 {
        sys_flag |= msg_flag::COMPRESSED;
    }
    let born = sp
        .born_timestamp
        .map(|t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
        .unwrap_or_else(rmq_common::time::now_millis);
    let header = SendMessageRequestHeader {
        producer_group: String::new(),
        topic,
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id,
        sys_flag,
        born_timestamp: born,
        flag: 0,
        properties: Some(encode_properties(&props)),
        reconsume_times: None,
        unit_mode: None,
        batch: None,
        max_reconsume_times: None,
        rpc: Default::default(),
    };
    Ok((header, Bytes::from(m.body), sp.message_id))
}
