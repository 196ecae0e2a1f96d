//! HEART_BEAT (34), UNREGISTER_CLIENT (35) and GET_CONSUMER_LIST_BY_GROUP (38).
//!
//! A heartbeat registers the client's producer and consumer groups; for consumers it also creates
//! the group config and its `%RETRY%` topic. When a clustering group gains a member or changes
//! what it subscribes to, every member is told (NOTIFY_CONSUMER_IDS_CHANGED) so it rebalances now.

use std::sync::Arc;
use std::time::Instant;

use rmq_common::{perm, topic};
use rmq_remoting::body::{
    CheckClientRequestBody, GetConsumerListByGroupResponseBody, HeartbeatData, MessageModel,
    SubscriptionGroupConfig, EXPRESSION_TYPE_TAG,
};
use rmq_remoting::header::{
    GetConsumerListByGroupRequestHeader, NotifyConsumerIdsChangedRequestHeader,
    UnregisterClientRequestHeader,
};
use rmq_remoting::json::JsonBody;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RequestCode, RequestContext, ResponseCode};
use tokio_util::task::TaskTracker;

use crate::clients::{ClientChannel, ConsumerManager, ConsumerRegistration};
use crate::context::BrokerContext;
use crate::processor::subscription::filter_for_expression;

/// A consumer group a client joins: its config (created when auto-creation allows) and its
/// `%RETRY%` topic, so the group has a route for admin tools and redeliveries.
pub fn join_group(
    ctx: &BrokerContext,
    group: &str,
) -> Result<Option<SubscriptionGroupConfig>, crate::BrokerError> {
    let config = ctx.groups().find_or_create(group)?;
    if let Some(g) = &config {
        if g.retry_queue_nums > 0 {
            let retry = topic::retry_topic(group);
            ctx.ensure_topic(&retry, g.retry_queue_nums, perm::READ | perm::WRITE)?;
        }
    }
    Ok(config)
}

pub async fn heartbeat(
    ctx: Arc<BrokerContext>,
    rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let data = HeartbeatData::from_json_bytes(&req.body)?;
    let channel = ClientChannel {
        handle: rc.connection().clone(),
        client_id: data.client_id.clone(),
        language: req.language,
        version: req.version,
        last_update: Instant::now(),
    };
    let mut sub_changed = false;
    for c in &data.consumer_data_set {
        if c.group_name.is_empty() {
            continue;
        }
        let group = join_group(&ctx, &c.group_name)?;
        let outcome = ctx.consumers().register(ConsumerRegistration {
            group: &c.group_name,
            channel: channel.clone(),
            consume_type: c.consume_type,
            message_model: c.message_model,
            consume_from_where: c.consume_from_where,
            subscriptions: c.subscription_data_set.clone(),
        });
        sub_changed |= outcome.subscription_changed;
        let notify_enabled = ctx.config().broker.notify_consumer_ids_changed_enable
            && group
                .as_ref()
                .is_none_or(|g| g.notify_consumer_ids_changed_enable);
        if (outcome.new_channel || outcome.subscription_changed)
            && c.message_model == MessageModel::Clustering
            && notify_enabled
        {
            tracing::info!(group = %c.group_name, client = %data.client_id, "consumer group changed");
            notify_ids_changed(ctx.consumers(), ctx.tasks(), &c.group_name);
        }
    }
    for p in &data.producer_data_set {
        if !p.group_name.is_empty() {
            ctx.producers().register(&p.group_name, channel.clone());
        }
    }
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_ext_field("IS_SUPPORT_HEART_BEAT_V2", "true")
            .with_ext_field("IS_SUB_CHANGE", sub_changed.to_string()),
    ))
}

/// CHECK_CLIENT_CONFIG: a consumer's non-TAG subscription is accepted only if this broker can
/// serve it (SQL92 with `enablePropertyFilter=true`, and an expression that compiles); the
/// answer names what is wrong, so a Java consumer fails at `start()` rather than later.
pub async fn check_client_config(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let body = CheckClientRequestBody::from_json_bytes(&req.body)?;
    if let Some(sub) = &body.subscription_data {
        if !sub
            .expression_type()
            .eq_ignore_ascii_case(EXPRESSION_TYPE_TAG)
        {
            let enabled = ctx.config().broker.enable_property_filter;
            if let Err(e) =
                filter_for_expression(Some(sub.expression_type()), &sub.sub_string, enabled)
            {
                return Ok(Some(
                    req.response_to(e.response_code())
                        .with_remark(e.message().to_owned()),
                ));
            }
        }
    }
    Ok(Some(req.response_to(ResponseCode::Success)))
}

/// Tells every member of `group` to rebalance (oneway, from a task the broker owns).
pub fn notify_ids_changed(consumers: &ConsumerManager, tasks: &TaskTracker, group: &str) {
    let handles = consumers.handles(group);
    if handles.is_empty() {
        return;
    }
    let header = NotifyConsumerIdsChangedRequestHeader {
        consumer_group: group.to_owned(),
        rpc: Default::default(),
    };
    let cmd = RemotingCommand::request(RequestCode::NotifyConsumerIdsChanged, &header);
    tasks.spawn(async move {
        for h in handles {
            if let Err(e) = h.send_oneway(cmd.clone()).await {
                tracing::debug!(error = %e, "could not notify a consumer of a group change");
            }
        }
    });
}

pub async fn unregister(
    ctx: Arc<BrokerContext>,
    rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: UnregisterClientRequestHeader = req.decode_header()?;
    let id = rc.connection_id();
    if let Some(g) = h.producer_group.as_deref().filter(|g| !g.is_empty()) {
        ctx.producers().unregister(g, id);
    }
    if let Some(g) = h.consumer_group.as_deref().filter(|g| !g.is_empty()) {
        if ctx.consumers().unregister(g, id) {
            tracing::info!(group = %g, client = %h.client_id, "consumer unregistered");
            notify_ids_changed(ctx.consumers(), ctx.tasks(), g);
        }
    }
    Ok(Some(req.response_to(ResponseCode::Success)))
}

pub async fn consumer_list(
    ctx: Arc<BrokerContext>,
    _rc: RequestContext,
    req: RemotingCommand,
) -> ProcessResult {
    let h: GetConsumerListByGroupRequestHeader = req.decode_header()?;
    let ids = ctx.consumers().client_ids(&h.consumer_group);
    if ids.is_empty() {
        return Err(ProcessError::response(
            ResponseCode::SystemError,
            format!("no consumer for this group, {}", h.consumer_group),
        ));
    }
    let body = GetConsumerListByGroupResponseBody {
        consumer_id_list: ids,
    };
    Ok(Some(
        req.response_to(ResponseCode::Success)
            .with_body(body.to_json_bytes()),
    ))
}
