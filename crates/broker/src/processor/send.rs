//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320).
//!
//! The checks follow Apache's `msgCheck` in order — role, broker permission, topic name, topic
//! existence or auto-creation from the template, queue id — then the message is handed to the
//! store and the put status becomes the response code. Sends beyond `sendThreadPoolQueueCapacity`
//! in flight are answered SYSTEM_BUSY at once rather than queued without bound.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use rand::Rng;
use rmq_common::batch::decode_batch;
use rmq_common::message::properties::{find_property, NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR};
use rmq_common::message::{decode_properties, encode_properties, keys, Properties};
use rmq_common::sysflag::message as msg_flag;
use rmq_common::topic::{self, TopicConfig};
use rmq_common::{perm, time::now_millis};
use rmq_remoting::header::{SendMessageRequestHeader, SendMessageResponseHeader};
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestCode, RequestContext, ResponseCode};
use rmq_store::{PutMessage, PutMessageResult, PutMessageStatus};

use crate::context::BrokerContext;
use crate::schedule::divert_delayed;
use crate::timer::{divert_timer, is_timer};
use crate::topics::TopicLookup;

pub async fn process(
    ctx: Arc<BrokerContext>,
    rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let header = SendMessageRequestHeader::from_command(&req)?;
    let batch = req.request_code() == RequestCode::SendBatchMessage || header.batch == Some(true);
    let sent = send(&ctx, &header, req.body.clone(), rc.peer_addr(), batch).await?;
    Ok(Some(respond(
        &ctx,
        &req,
        sent.queue_id,
        sent.result,
        sent.transaction_id,
    )))
}

/// What one send stored: the queue, the store's answer and, for a half message, its
/// transaction id.
pub(crate) struct Sent {
    pub queue_id: i32,
    pub result: PutMessageResult,
    pub transaction_id: Option<String>,
}

/// The send path both front doors share (remoting SEND_MESSAGE* and gRPC SendMessage): flow
/// control, role and topic checks, queue choice, the store, metrics.
pub(crate) async fn send(
    ctx: &Arc<BrokerContext>,
    header: &SendMessageRequestHeader,
    body: Bytes,
    born_host: SocketAddr,
    batch: bool,
) -> Result<Sent, ProcessError> {
    let Some(_permit) = ctx.try_send_permit() else {
        return Err(ProcessError::response(
            ResponseCode::SystemBusy,
            "[OVERLOAD]system busy, start flow control for a while",
        ));
    };
    if ctx.is_slave() {
        return Err(ProcessError::response(
            ResponseCode::SystemBusy,
            format!(
                "[REJECTREQUEST]the broker[{}] is a SLAVE and does not accept sends; send to the master",
                ctx.broker_addr()
            ),
        ));
    }
    let (config, created) = check_and_resolve_topic(ctx, header)?;
    // The topic's config is on disk before its first message is acknowledged, so a crash
    // cannot leave stored messages under a topic the broker forgot (immediate when no topic
    // change is pending).
    ctx.topics().persisted().await?;
    if created {
        ctx.announce_new_topic().await;
    }
    let queue_id = choose_queue(header, &config)?;
    let started = std::time::Instant::now();
    let len = body.len() as u64;
    let (result, transaction_id) = if batch {
        (
            put_batch(ctx, header, queue_id, &body, born_host).await?,
            None,
        )
    } else {
        put_single(ctx, header, queue_id, body, born_host).await?
    };
    ctx.metrics()
        .put_latency
        .observe(started.elapsed().as_secs_f64());
    if let Some(a) = result.append.as_ref().filter(|_| result.status.is_stored()) {
        let messages = a.msg_num.max(1) as u64;
        ctx.metrics().record_in(&header.topic, messages, len);
        ctx.stats()
            .record_put(&header.topic, messages, len, started.elapsed());
    } else {
        ctx.stats().record_put_failed();
    }
    Ok(Sent {
        queue_id,
        result,
        transaction_id,
    })
}

/// Checks the broker and topic, auto-creating the topic when allowed; returns its config and
/// whether it was created here (so that it is announced to the name servers before answering).
fn check_and_resolve_topic(
    ctx: &BrokerContext,
    h: &SendMessageRequestHeader,
) -> Result<(TopicConfig, bool), ProcessError> {
    if !perm::is_writeable(ctx.config().broker.broker_permission) {
        return Err(ProcessError::response(
            ResponseCode::NoPermission,
            format!(
                "the broker[{}] sending message is forbidden",
                ctx.broker_addr()
            ),
        ));
    }
    if let Err(e) = topic::validate_topic(&h.topic) {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            e.to_string(),
        ));
    }
    if topic::is_system_topic(&h.topic) {
        return Err(ProcessError::response(
            ResponseCode::NoPermission,
            format!("Sending message to topic[{}] is forbidden.", h.topic),
        ));
    }
    let lookup = if topic::is_retry_topic(&h.topic) {
        let queues = ctx
            .groups()
            .get(&h.topic[topic::RETRY_GROUP_TOPIC_PREFIX.len()..])
            .map_or(1, |g| g.retry_queue_nums.max(1));
        Some(
            ctx.topics()
                .get_or_create_simple(&h.topic, queues, perm::READ | perm::WRITE)?,
        )
    } else {
        ctx.topics().get_or_create_for_send(
            &h.topic,
            &h.default_topic,
            h.default_topic_queue_nums,
            0,
        )?
    };
    match lookup {
        Some(TopicLookup::Created(c)) => {
            tracing::info!(topic = %c.topic_name, queues = c.write_queue_nums, "auto-created topic on send");
            Ok((c, true))
        }
        Some(TopicLookup::Existing(c)) => {
            if !perm::is_writeable(c.perm) {
                return Err(ProcessError::response(
                    ResponseCode::NoPermission,
                    format!("the topic[{}] sending message is forbidden", c.topic_name),
                ));
            }
            Ok((c, false))
        }
        None => Err(ProcessError::response(
            ResponseCode::TopicNotExist,
            format!(
                "topic[{}] not exist, apply first please! (autoCreateTopicEnable={})",
                h.topic,
                ctx.config().broker.auto_create_topic_enable
            ),
        )),
    }
}

fn choose_queue(h: &SendMessageRequestHeader, c: &TopicConfig) -> Result<i32, ProcessError> {
    let max = c.write_queue_nums.max(c.read_queue_nums);
    if h.queue_id < 0 {
        return Ok(rand::thread_rng().gen_range(0..c.write_queue_nums.max(1)));
    }
    if h.queue_id >= max {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!(
                "request queueId[{}] is illegal, topic {} has {} queues",
                h.queue_id, c.topic_name, max
            ),
        ));
    }
    Ok(h.queue_id)
}

fn check_size(ctx: &BrokerContext, len: usize) -> Result<(), ProcessError> {
    let max = ctx.config().store.max_message_size;
    if len > max {
        return Err(ProcessError::response(
            ResponseCode::MessageIllegal,
            format!("the message body size {len} bytes exceeds maxMessageSize {max} bytes"),
        ));
    }
    Ok(())
}

/// Adds what the broker stamps on every message: a UNIQ_KEY when the client sent none, and the
/// cluster name.
fn stamp_properties(ctx: &BrokerContext, props: &mut Properties) {
    if !props.contains_key(keys::UNIQ_KEY) {
        props.insert(keys::UNIQ_KEY.into(), ctx.next_unique_id());
    }
    props.insert(keys::CLUSTER.into(), ctx.cluster_name().to_owned());
}

/// The common case without decoding the properties: the message already has a UNIQ_KEY and is
/// neither delayed nor transactional, so the broker only appends `CLUSTER`. Returns `None` when
/// the properties need a full rewrite.
fn append_cluster_fast(cluster: &str, raw: &str) -> Option<String> {
    let (mut uniq, mut plain) = (false, true);
    for segment in raw.split(PROPERTY_SEPARATOR) {
        let Some((k, v)) = segment.split_once(NAME_VALUE_SEPARATOR) else {
            continue;
        };
        match k {
            keys::UNIQ_KEY => uniq = !v.is_empty(),
            keys::CLUSTER => plain = false,
            keys::TRAN_MSG => plain &= v != "true",
            keys::DELAY => plain &= v.parse::<i32>().map_or(true, |d| d <= 0),
            keys::TIMER_DELIVER_MS | keys::TIMER_DELAY_SEC | keys::TIMER_DELAY_MS => plain = false,
            _ => {}
        }
    }
    if !(uniq && plain) || (!raw.is_empty() && !raw.ends_with(PROPERTY_SEPARATOR)) {
        return None;
    }
    let mut out = String::with_capacity(raw.len() + cluster.len() + 10);
    out.push_str(raw);
    out.push_str(keys::CLUSTER);
    out.push(NAME_VALUE_SEPARATOR);
    out.push_str(cluster);
    out.push(PROPERTY_SEPARATOR);
    Some(out)
}

async fn put_single(
    ctx: &BrokerContext,
    h: &SendMessageRequestHeader,
    queue_id: i32,
    body: Bytes,
    born_host: SocketAddr,
) -> Result<(PutMessageResult, Option<String>), ProcessError> {
    check_size(ctx, body.len())?;
    let raw = h.properties.as_deref().unwrap_or("");
    if !topic::is_retry_topic(&h.topic) {
        if let Some(properties) = append_cluster_fast(ctx.cluster_name(), raw) {
            let msg = PutMessage {
                topic: h.topic.clone(),
                queue_id,
                flag: h.flag,
                body,
                properties,
                sys_flag: h.sys_flag,
                born_timestamp: h.born_timestamp,
                born_host,
                store_host: ctx.store_host(),
                reconsume_times: h.reconsume_times.unwrap_or(0),
                prepared_transaction_offset: 0,
            };
            let wait = msg.wait_store_msg_ok();
            check_in_sync(ctx, wait)?;
            let r = ctx.store().put_message(msg).await;
            return Ok((ctx.ha().after_put(r, wait).await, None));
        }
    }
    let mut props = decode_properties(raw);
    stamp_properties(ctx, &mut props);
    let mut topic = h.topic.clone();
    let mut queue_id = queue_id;
    let reconsume_times = h.reconsume_times.unwrap_or(0);
    if topic::is_retry_topic(&topic) {
        let max = h
            .max_reconsume_times
            .or_else(|| {
                ctx.groups()
                    .get(&topic[topic::RETRY_GROUP_TOPIC_PREFIX.len()..])
                    .map(|g| g.retry_max_times)
            })
            .unwrap_or(16);
        if reconsume_times > max {
            let group = topic[topic::RETRY_GROUP_TOPIC_PREFIX.len()..].to_owned();
            topic = topic::dlq_topic(&group);
            queue_id = 0;
            ctx.ensure_topic(&topic, 1, perm::READ | perm::WRITE)?;
            ctx.topics().persisted().await?;
            props.insert(keys::DELAY.into(), "-1".into());
            tracing::info!(group = %group, "message exceeded max reconsume times, sent to DLQ");
        }
    }
    let mut sys_flag = h.sys_flag;
    let is_half = props.get(keys::TRAN_MSG).is_some_and(|v| v == "true");
    let (topic, queue_id) = if is_half {
        // A transaction's half message: parked in the half topic until END_TRANSACTION.
        sys_flag = msg_flag::reset_transaction_value(sys_flag, msg_flag::TRANSACTION_NOT_TYPE);
        crate::transaction::divert_half(&mut props, topic, queue_id)
    } else if is_timer(&props) {
        divert_timer(
            &mut props,
            topic,
            queue_id,
            ctx.config().broker.timer_max_delay_sec,
        )
        .map_err(|e| ProcessError::response(ResponseCode::MessageIllegal, e.to_string()))?
    } else {
        divert_delayed(&mut props, topic, queue_id, ctx.delay_levels().max_level())
    };
    let transaction_id = is_half
        .then(|| props.get(keys::UNIQ_KEY).cloned())
        .flatten();
    let msg = PutMessage {
        topic,
        queue_id,
        flag: h.flag,
        body,
        properties: encode_properties(&props),
        sys_flag,
        born_timestamp: h.born_timestamp,
        born_host,
        store_host: ctx.store_host(),
        reconsume_times,
        prepared_transaction_offset: 0,
    };
    let wait = msg.wait_store_msg_ok();
    check_in_sync(ctx, wait)?;
    let r = ctx.store().put_message(msg).await;
    Ok((ctx.ha().after_put(r, wait).await, transaction_id))
}

async fn put_batch(
    ctx: &BrokerContext,
    h: &SendMessageRequestHeader,
    queue_id: i32,
    body: &Bytes,
    born_host: SocketAddr,
) -> Result<PutMessageResult, ProcessError> {
    if topic::is_retry_topic(&h.topic) {
        return Err(ProcessError::response(
            ResponseCode::MessageIllegal,
            "batch messages cannot be sent to a retry topic",
        ));
    }
    let entries = decode_batch(body).map_err(|e| {
        ProcessError::response(ResponseCode::MessageIllegal, format!("bad batch body: {e}"))
    })?;
    if entries.is_empty() {
        return Err(ProcessError::response(
            ResponseCode::MessageIllegal,
            "the batch holds no messages",
        ));
    }
    let mut batch = Vec::with_capacity(entries.len());
    let now = now_millis();
    for e in entries {
        check_size(ctx, e.body.len())?;
        if find_property(&e.properties, keys::DELAY).is_some_and(|d| d != "0") {
            return Err(ProcessError::response(
                ResponseCode::MessageIllegal,
                "batch messages cannot carry a delay level",
            ));
        }
        let properties =
            append_cluster_fast(ctx.cluster_name(), &e.properties).unwrap_or_else(|| {
                let mut props = decode_properties(&e.properties);
                stamp_properties(ctx, &mut props);
                encode_properties(&props)
            });
        batch.push(PutMessage {
            topic: h.topic.clone(),
            queue_id,
            flag: e.flag,
            body: e.body,
            properties,
            sys_flag: h.sys_flag & !msg_flag::COMPRESSED,
            born_timestamp: if h.born_timestamp > 0 {
                h.born_timestamp
            } else {
                now
            },
            born_host,
            store_host: ctx.store_host(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        });
    }
    let wait = batch.first().is_none_or(PutMessage::wait_store_msg_ok);
    check_in_sync(ctx, wait)?;
    let r = ctx.store().put_messages(batch).await;
    Ok(ctx.ha().after_put(r, wait).await)
}

/// Controller mode: a send that would wait for replicas is refused before it is stored while
/// the SyncStateSet is smaller than `minInSyncReplicas` (Apache answers SYSTEM_ERROR "in-sync
/// replicas not enough" too).
fn check_in_sync(ctx: &BrokerContext, wait_store_msg_ok: bool) -> Result<(), ProcessError> {
    match ctx.ha().in_sync_shortfall(wait_store_msg_ok) {
        Some((members, min)) => Err(ProcessError::response(
            ResponseCode::SystemError,
            format!(
                "in-sync replicas not enough: the SyncStateSet has {members} member(s), \
                 minInSyncReplicas is {min}; the message was not stored (retry once a slave \
                 has caught up)"
            ),
        )),
        None => Ok(()),
    }
}

/// The response code of a put's status.
pub(crate) fn response_code(status: PutMessageStatus) -> ResponseCode {
    match status {
        PutMessageStatus::PutOk => ResponseCode::Success,
        PutMessageStatus::FlushDiskTimeout => ResponseCode::FlushDiskTimeout,
        PutMessageStatus::FlushSlaveTimeout => ResponseCode::FlushSlaveTimeout,
        PutMessageStatus::SlaveNotAvailable => ResponseCode::SlaveNotAvailable,
        PutMessageStatus::MessageIllegal | PutMessageStatus::PropertiesSizeExceeded => {
            ResponseCode::MessageIllegal
        }
        PutMessageStatus::ServiceNotAvailable => ResponseCode::ServiceNotAvailable,
        PutMessageStatus::OsPageCacheBusy => ResponseCode::SystemBusy,
        _ => ResponseCode::SystemError,
    }
}

fn respond(
    ctx: &BrokerContext,
    req: &RemotingCommand,
    queue_id: i32,
    r: PutMessageResult,
    transaction_id: Option<String>,
) -> RemotingCommand {
    let code = response_code(r.status);
    let mut resp = req.response_to(code);
    match &r.append {
        Some(a) if r.status.is_stored() => {
            let header = SendMessageResponseHeader {
                msg_id: a.msg_id.clone(),
                queue_id,
                queue_offset: a.logics_offset,
                transaction_id,
                batch_uniq_id: None,
                recall_handle: None,
            };
            resp = resp
                .with_header(&header)
                .with_ext_field(
                    rmq_remoting::header::MSG_REGION,
                    ctx.config().broker.region_id.clone(),
                )
                .with_ext_field(
                    rmq_remoting::header::TRACE_ON,
                    ctx.config().broker.trace_on.to_string(),
                );
            if code != ResponseCode::Success {
                // Stored but degraded (FLUSH_DISK_TIMEOUT, ...): say why when the store knows.
                let remark = match &r.error {
                    Some(e) => format!("{}: {e}", r.status.as_str()),
                    None => r.status.as_str().to_owned(),
                };
                resp = resp.with_remark(remark);
            }
        }
        _ => {
            let remark = match &r.error {
                Some(e) => e.to_string(),
                None => format!("put message failed: {}", r.status.as_str()),
            };
            if code == ResponseCode::SystemError || code == ResponseCode::ServiceNotAvailable {
                tracing::warn!(status = r.status.as_str(), %remark, "send failed in the store");
            }
            resp = resp.with_remark(remark);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::append_cluster_fast;

    #[test]
    fn fast_path_only_for_plain_messages() {
        let plain = "TAGS\u{1}A\u{2}UNIQ_KEY\u{1}ID\u{2}";
        assert_eq!(
            append_cluster_fast("C", plain).as_deref(),
            Some("TAGS\u{1}A\u{2}UNIQ_KEY\u{1}ID\u{2}CLUSTER\u{1}C\u{2}")
        );
        assert_eq!(
            append_cluster_fast("C", "TAGS\u{1}A\u{2}"),
            None,
            "no UNIQ_KEY"
        );
        assert_eq!(
            append_cluster_fast("C", "UNIQ_KEY\u{1}I\u{2}DELAY\u{1}3\u{2}"),
            None
        );
        assert!(append_cluster_fast("C", "UNIQ_KEY\u{1}I\u{2}DELAY\u{1}0\u{2}").is_some());
        assert_eq!(
            append_cluster_fast("C", "UNIQ_KEY\u{1}I\u{2}TRAN_MSG\u{1}true\u{2}"),
            None
        );
        assert_eq!(
            append_cluster_fast("C", "UNIQ_KEY\u{1}I\u{2}CLUSTER\u{1}X\u{2}"),
            None
        );
        assert_eq!(
            append_cluster_fast("C", "UNIQ_KEY\u{1}I"),
            None,
            "unterminated"
        );
    }
}
