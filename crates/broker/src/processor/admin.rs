//! Admin requests used by `mqadmin` and by slaves: topics, subscription groups, runtime info,
//! consume progress, connections and topic statistics.

use std::collections::BTreeMap;
use std::sync::Arc;

use rmq_common::topic;
use rmq_common::MessageQueue;
use rmq_remoting::body::{
    Connection, ConsumeStats, ConsumeType, ConsumerConnection, GroupList, MessageModel,
    OffsetWrapper, ProducerConnection, SubscriptionGroupConfig, TopicConfigSerializeWrapper,
    TopicOffset, TopicStatsTable,
};
use rmq_remoting::header::{
    CreateTopicRequestHeader, DeleteSubscriptionGroupRequestHeader, DeleteTopicRequestHeader,
    GetConsumeStatsRequestHeader, GetConsumerConnectionListRequestHeader,
    GetProducerConnectionListRequestHeader, GetTopicConfigRequestHeader,
    GetTopicStatsInfoRequestHeader, QueryTopicConsumeByWhoRequestHeader,
};
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestContext, ResponseCode};

use crate::context::BrokerContext;

/// SUCCESS carrying `body` (the metadata slaves and admin tools fetch whole).
pub(super) fn ok_with_body(req: &RemotingCommand, body: impl Into<bytes::Bytes>) -> ProcessResult {
    Ok(Some(req.response_to(ResponseCode::Success).with_body(body)))
}

/// Parses `+key=value,+key2=value2,-key3` (`AttributeParser`): additions and removals.
fn apply_attributes(attrs: &mut BTreeMap<String, String>, spec: &str) -> Result<(), ProcessError> {
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || {
            ProcessError::response(
                ResponseCode::InvalidParameter,
                format!("attribute {item:?} must look like +key=value or -key"),
            )
        };
        if let Some(kv) = item.strip_prefix('+') {
            let (k, v) = kv.split_once('=').ok_or_else(bad)?;
            attrs.insert(k.to_owned(), v.to_owned());
        } else if let Some(k) = item.strip_prefix('-') {
            attrs.remove(k);
        } else {
            return Err(bad());
        }
    }
    Ok(())
}

pub async fn create_topic(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: CreateTopicRequestHeader = req.decode_header()?;
    if let Err(e) = topic::validate_topic(&h.topic) {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            e.to_string(),
        ));
    }
    if topic::is_system_topic(&h.topic) || h.topic == topic::AUTO_CREATE_TOPIC_KEY {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!("the topic[{}] is reserved for the broker", h.topic),
        ));
    }
    if h.read_queue_nums <= 0 || h.write_queue_nums <= 0 {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!(
                "readQueueNums {} and writeQueueNums {} must be positive",
                h.read_queue_nums, h.write_queue_nums
            ),
        ));
    }
    let mut config = ctx.topics().get(&h.topic).unwrap_or_default();
    config.topic_name = h.topic.clone();
    config.read_queue_nums = h.read_queue_nums;
    config.write_queue_nums = h.write_queue_nums;
    config.perm = h.perm;
    config.topic_filter_type = h.topic_filter_type;
    config.topic_sys_flag = h.topic_sys_flag.unwrap_or(0);
    config.order = h.order;
    if let Some(spec) = &h.attributes {
        apply_attributes(&mut config.attributes, spec)?;
    }
    ctx.topics().put(config)?;
    // Apache writes topics.json before answering: a crash right after cannot lose the topic.
    ctx.topics().persisted().await?;
    tracing::info!(topic = %h.topic, read = h.read_queue_nums, write = h.write_queue_nums, perm = h.perm, "topic created or updated");
    // As Apache's broker: the name servers know the topic before the tool is answered, so a
    // route lookup right after `updateTopic` finds it.
    ctx.announce_new_topic().await;
    Ok(Some(req.response_to(ResponseCode::Success)))
}

pub async fn delete_topic(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: DeleteTopicRequestHeader = req.decode_header()?;
    if topic::is_system_topic(&h.topic) {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            format!(
                "the topic[{}] is a system topic and cannot be deleted",
                h.topic
            ),
        ));
    }
    ctx.topics().remove(&h.topic)?;
    ctx.topics().persisted().await?;
    ctx.offsets().remove_topic(&h.topic);
    ctx.metrics().forget_topic(&h.topic);
    ctx.stats().keyed().forget_topic(&h.topic);
    let store = ctx.store().clone();
    let t = h.topic.clone();
    let _ = tokio::task::spawn_blocking(move || store.delete_topics(&[t.as_str()])).await;
    tracing::info!(topic = %h.topic, "topic deleted");
    ctx.topics_changed();
    Ok(Some(req.response_to(ResponseCode::Success)))
}

pub async fn all_topic_config(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let (data_version, topic_config_table) = ctx.topics().snapshot();
    let wrapper = TopicConfigSerializeWrapper {
        data_version,
        topic_config_table,
        ..Default::default()
    };
    ok_with_body(&req, wrapper.to_json_bytes())
}

pub async fn update_group(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let g: SubscriptionGroupConfig = rmq_remoting::json::from_slice(&req.body)?;
    if g.group_name.trim().is_empty() {
        return Err(ProcessError::response(
            ResponseCode::InvalidParameter,
            "the subscription group config has no groupName",
        ));
    }
    tracing::info!(group = %g.group_name, "subscription group created or updated");
    ctx.groups().put(g);
    ctx.groups().persisted().await?;
    Ok(Some(req.response_to(ResponseCode::Success)))
}

pub async fn delete_group(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: DeleteSubscriptionGroupRequestHeader = req.decode_header()?;
    ctx.groups().remove(&h.group_name);
    if h.clean_offset == Some(true) {
        ctx.offsets().remove_group(&h.group_name);
        ctx.pull_offsets().remove_group(&h.group_name);
    }
    ctx.groups().persisted().await?;
    Ok(Some(req.response_to(ResponseCode::Success)))
}

pub async fn all_groups(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    ok_with_body(&req, ctx.groups().encode())
}

pub async fn all_consumer_offsets(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    ok_with_body(&req, ctx.offsets().encode())
}

pub async fn all_delay_offsets(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    ok_with_body(&req, ctx.delay_offsets().encode())
}

pub async fn consume_stats(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetConsumeStatsRequestHeader = req.decode_header()?;
    let topics: Vec<String> = match (&h.topic, &h.topic_list) {
        (Some(t), _) if !t.is_empty() => vec![t.clone()],
        (_, Some(list)) if !list.is_empty() => list.split(';').map(str::to_owned).collect(),
        _ => ctx.offsets().topics_of_group(&h.consumer_group),
    };
    let mut stats = ConsumeStats::default();
    for t in topics {
        let Some(config) = ctx.topics().get(&t) else {
            continue;
        };
        let committed = ctx.offsets().queues(&h.consumer_group, &t);
        for q in 0..config.read_queue_nums {
            let broker_offset = ctx.store().max_offset_in_queue(&t, q);
            let consumer_offset = committed.get(&q).copied().unwrap_or(0);
            let last_timestamp = if consumer_offset > 0 {
                ctx.store()
                    .message_store_time(&t, q, consumer_offset - 1)
                    .unwrap_or(0)
            } else {
                0
            };
            stats.offset_table.insert(
                MessageQueue::new(t.clone(), ctx.broker_name(), q),
                OffsetWrapper {
                    broker_offset,
                    consumer_offset,
                    last_timestamp,
                    // The committed offset stands in until the group pulls here.
                    pull_offset: ctx
                        .pull_offsets()
                        .get(&h.consumer_group, &t, q)
                        .unwrap_or(consumer_offset),
                },
            );
        }
    }
    ok_with_body(&req, stats.to_fastjson_bytes())
}

pub async fn consumer_connections(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetConsumerConnectionListRequestHeader = req.decode_header()?;
    // 5.x consumers connected over gRPC are members too.
    let grpc = ctx.live_clients().consumers_of(&h.consumer_group);
    let mut body = match ctx.consumers().group(&h.consumer_group) {
        Some(g) => ConsumerConnection {
            connection_set: g
                .channels
                .values()
                .map(|c| Connection {
                    client_addr: c.handle.peer_addr().to_string(),
                    client_id: c.client_id.clone(),
                    language: c.language,
                    version: c.version,
                })
                .collect(),
            consume_from_where: Some(g.consume_from_where),
            consume_type: Some(g.consume_type),
            message_model: Some(g.message_model),
            subscription_table: g.subscriptions.into_iter().collect(),
        },
        None if !grpc.is_empty() => ConsumerConnection {
            consume_type: Some(ConsumeType::ConsumePop),
            message_model: Some(MessageModel::Clustering),
            ..ConsumerConnection::default()
        },
        None => {
            return Err(ProcessError::response(
                ResponseCode::ConsumerNotOnline,
                format!("the consumer group[{}] not online", h.consumer_group),
            ))
        }
    };
    for c in grpc {
        body.connection_set.insert(c.connection);
        for s in c.subscriptions {
            body.subscription_table.entry(s.topic.clone()).or_insert(s);
        }
    }
    ok_with_body(&req, body.to_json_bytes())
}

pub async fn topic_stats(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetTopicStatsInfoRequestHeader = req.decode_header()?;
    let Some(config) = ctx.topics().get(&h.topic) else {
        return Err(ProcessError::response(
            ResponseCode::TopicNotExist,
            format!("topic[{}] not exist", h.topic),
        ));
    };
    let mut table = TopicStatsTable::default();
    for q in 0..config.read_queue_nums.max(config.write_queue_nums) {
        let max_offset = ctx.store().max_offset_in_queue(&h.topic, q);
        let last_update_timestamp = if max_offset > 0 {
            ctx.store()
                .message_store_time(&h.topic, q, max_offset - 1)
                .unwrap_or(0)
        } else {
            0
        };
        table.offset_table.insert(
            MessageQueue::new(h.topic.clone(), ctx.broker_name(), q),
            TopicOffset {
                last_update_timestamp,
                max_offset,
                min_offset: ctx.store().min_offset_in_queue(&h.topic, q),
            },
        );
    }
    ok_with_body(&req, table.to_fastjson_bytes())
}

pub async fn topic_consumed_by(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: QueryTopicConsumeByWhoRequestHeader = req.decode_header()?;
    let mut groups: std::collections::BTreeSet<String> = ctx
        .consumers()
        .groups_subscribing(&h.topic)
        .into_iter()
        .collect();
    groups.extend(ctx.offsets().groups_of_topic(&h.topic));
    Ok(Some(req.response_to(ResponseCode::Success).with_body(
        GroupList { group_list: groups }.to_json_bytes(),
    )))
}

pub async fn producer_connections(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetProducerConnectionListRequestHeader = req.decode_header()?;
    let Some(channels) = ctx.producers().channels(&h.producer_group) else {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            format!("the producer group[{}] not exist", h.producer_group),
        ));
    };
    let body = ProducerConnection {
        connection_set: channels
            .into_iter()
            .map(|c| Connection {
                client_addr: c.handle.peer_addr().to_string(),
                client_id: c.client_id,
                language: c.language,
                version: c.version,
            })
            .collect(),
    };
    ok_with_body(&req, body.to_json_bytes())
}

/// GET_TOPIC_CONFIG (351): one topic's config (`TopicConfigAndQueueMapping` without a mapping).
pub async fn topic_config(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetTopicConfigRequestHeader = req.decode_header()?;
    let config = ctx.topics().get(&h.topic).ok_or_else(|| {
        ProcessError::response(
            ResponseCode::TopicNotExist,
            format!("No topic in this broker. topic: {}", h.topic),
        )
    })?;
    let body = serde_json::to_vec(&config)
        .map_err(|e| ProcessError::response(ResponseCode::SystemError, e.to_string()))?;
    ok_with_body(&req, body)
}
