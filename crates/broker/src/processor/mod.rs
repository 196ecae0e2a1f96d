//! Request processors, one file per request family, and the table that routes codes to them.

mod admin;
mod client_manage;
mod end_transaction;
mod lock;
mod offsets;
mod pull;
mod query;
mod send;
mod send_back;
mod subscription;

use std::future::Future;
use std::sync::Arc;

use rmq_remoting::transport::ProcessResult;
use rmq_remoting::{RemotingCommand, RemotingServer, RequestCode, RequestContext};

use crate::context::BrokerContext;

pub use client_manage::notify_ids_changed;

/// Registers `f` for `code`, handing it the broker context.
fn route<F, Fut>(server: &mut RemotingServer, ctx: &Arc<BrokerContext>, code: RequestCode, f: F)
where
    F: Fn(Arc<BrokerContext>, RequestContext, RemotingCommand) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ProcessResult> + Send + 'static,
{
    let ctx = ctx.clone();
    let name = code.name();
    server.register(code, move |rc: RequestContext, req: RemotingCommand| {
        let started = std::time::Instant::now();
        let ctx2 = ctx.clone();
        let fut = f(ctx.clone(), rc, req);
        async move {
            let r = fut.await;
            ctx2.metrics.record_request(name, started.elapsed());
            r
        }
    });
}

/// Every request code this broker answers; the rest get REQUEST_CODE_NOT_SUPPORTED.
pub fn register_all(server: &mut RemotingServer, ctx: &Arc<BrokerContext>) {
    use RequestCode as C;
    route(server, ctx, C::SendMessage, send::process);
    route(server, ctx, C::SendMessageV2, send::process);
    route(server, ctx, C::SendBatchMessage, send::process);
    route(server, ctx, C::ConsumerSendMsgBack, send_back::process);
    route(server, ctx, C::PullMessage, pull::process);
    route(server, ctx, C::EndTransaction, end_transaction::process);
    route(server, ctx, C::HeartBeat, client_manage::heartbeat);
    route(server, ctx, C::UnregisterClient, client_manage::unregister);
    route(
        server,
        ctx,
        C::GetConsumerListByGroup,
        client_manage::consumer_list,
    );
    route(server, ctx, C::QueryConsumerOffset, offsets::query);
    route(server, ctx, C::UpdateConsumerOffset, offsets::update);
    route(server, ctx, C::GetMaxOffset, offsets::max);
    route(server, ctx, C::GetMinOffset, offsets::min);
    route(
        server,
        ctx,
        C::SearchOffsetByTimestamp,
        offsets::search_by_time,
    );
    route(
        server,
        ctx,
        C::GetEarliestMsgStoretime,
        offsets::earliest_time,
    );
    route(server, ctx, C::LockBatchMq, lock::lock);
    route(server, ctx, C::UnlockBatchMq, lock::unlock);
    route(server, ctx, C::QueryMessage, query::query_message);
    route(server, ctx, C::ViewMessageById, query::view_by_id);
    route(server, ctx, C::UpdateAndCreateTopic, admin::create_topic);
    route(server, ctx, C::DeleteTopicInBroker, admin::delete_topic);
    route(server, ctx, C::GetAllTopicConfig, admin::all_topic_config);
    route(
        server,
        ctx,
        C::UpdateAndCreateSubscriptionGroup,
        admin::update_group,
    );
    route(server, ctx, C::DeleteSubscriptionGroup, admin::delete_group);
    route(
        server,
        ctx,
        C::GetAllSubscriptionGroupConfig,
        admin::all_groups,
    );
    route(
        server,
        ctx,
        C::GetAllConsumerOffset,
        admin::all_consumer_offsets,
    );
    route(server, ctx, C::GetAllDelayOffset, admin::all_delay_offsets);
    route(server, ctx, C::GetBrokerRuntimeInfo, admin::runtime_info);
    route(server, ctx, C::GetConsumeStats, admin::consume_stats);
    route(
        server,
        ctx,
        C::GetConsumerConnectionList,
        admin::consumer_connections,
    );
    route(server, ctx, C::GetTopicStatsInfo, admin::topic_stats);
    route(
        server,
        ctx,
        C::QueryTopicConsumeByWho,
        admin::topic_consumed_by,
    );
    route(server, ctx, C::GetBrokerConfig, admin::broker_config);
}
