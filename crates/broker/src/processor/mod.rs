//! Request processors, one file per request family, and the table that routes codes to them.

mod admin;
mod broker_config;
mod broker_stats;
mod client_manage;
pub(crate) mod end_transaction;
mod epoch_cache;
mod lock;
mod offsets;
pub(crate) mod plain_acl;
mod pop;
mod pull;
mod query;
mod relay;
mod relay_grpc;
mod reply;
mod reset_offset;
mod role_notice;
mod runtime_info;
pub(crate) mod send;
mod send_back;
mod store_admin;
pub(crate) mod subscription;

use std::future::Future;
use std::sync::Arc;

use rmq_remoting::transport::ProcessResult;
use rmq_remoting::{RemotingCommand, RemotingServer, RequestCode, RequestContext};

use crate::context::BrokerContext;

pub use client_manage::{join_group, notify_ids_changed};

/// Registers `f` for `code`, handing it the broker context.
pub(crate) fn route<F, Fut>(
    server: &mut RemotingServer,
    ctx: &Arc<BrokerContext>,
    code: RequestCode,
    f: F,
) where
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
            ctx2.metrics().record_request(name, started.elapsed());
            r
        }
    });
}

/// Binds each `Code => processor` pair with [`route`].
macro_rules! routes {
    ($server:expr, $ctx:expr, { $($code:ident => $f:path),* $(,)? }) => {
        $( route($server, $ctx, RequestCode::$code, $f); )*
    };
}

/// Every request code this broker answers; the rest get REQUEST_CODE_NOT_SUPPORTED.
pub fn register_all(server: &mut RemotingServer, ctx: &Arc<BrokerContext>) {
    routes!(server, ctx, {
        SendMessage => send::process,
        SendMessageV2 => send::process,
        SendBatchMessage => send::process,
        SendReplyMessage => reply::process,
        SendReplyMessageV2 => reply::process,
        ConsumerSendMsgBack => send_back::process,
        PullMessage => pull::process,
        NotifyBrokerRoleChanged => role_notice::process,
        GetBrokerEpochCache => epoch_cache::process,
        LitePullMessage => pull::process,
        PopMessage => pop::pop_message,
        AckMessage => pop::ack_message,
        BatchAckMessage => pop::batch_ack_message,
        Notification => pop::notification,
        PollingInfo => pop::polling_info,
        ChangeMessageInvisibleTime => pop::change_invisible_time,
        EndTransaction => end_transaction::process,
        HeartBeat => client_manage::heartbeat,
        CheckClientConfig => client_manage::check_client_config,
        UnregisterClient => client_manage::unregister,
        GetConsumerListByGroup => client_manage::consumer_list,
        QueryConsumerOffset => offsets::query,
        UpdateConsumerOffset => offsets::update,
        GetMaxOffset => offsets::max,
        GetMinOffset => offsets::min,
        SearchOffsetByTimestamp => offsets::search_by_time,
        GetEarliestMsgStoretime => offsets::earliest_time,
        LockBatchMq => lock::lock,
        UnlockBatchMq => lock::unlock,
        QueryMessage => query::query_message,
        ViewMessageById => query::view_by_id,
        UpdateAndCreateTopic => admin::create_topic,
        DeleteTopicInBroker => admin::delete_topic,
        DeleteExpiredCommitlog => store_admin::delete_expired_commit_log,
        CleanExpiredConsumequeue => store_admin::clean_expired_consume_queues,
        GetAllTopicConfig => admin::all_topic_config,
        UpdateAndCreateSubscriptionGroup => admin::update_group,
        DeleteSubscriptionGroup => admin::delete_group,
        GetAllSubscriptionGroupConfig => admin::all_groups,
        GetAllConsumerOffset => admin::all_consumer_offsets,
        GetAllDelayOffset => admin::all_delay_offsets,
        GetBrokerRuntimeInfo => runtime_info::process,
        ViewBrokerStatsData => broker_stats::view,
        GetConsumeStats => admin::consume_stats,
        GetConsumerConnectionList => admin::consumer_connections,
        GetTopicStatsInfo => admin::topic_stats,
        QueryTopicConsumeByWho => admin::topic_consumed_by,
        GetTopicConfig => admin::topic_config,
        GetProducerConnectionList => admin::producer_connections,
        GetBrokerConfig => broker_config::get,
        UpdateBrokerConfig => broker_config::update,
        InvokeBrokerToResetOffset => reset_offset::process,
        GetConsumerRunningInfo => relay::running_info,
        ConsumeMessageDirectly => relay::consume_directly,
        InvokeBrokerToGetConsumerStatus => relay::consumer_status,
    });
}
