//! Request processors, one file per request family (protocol.md 2.6):
//!
//! * `broker.rs` — what brokers send: REGISTER_BROKER, UNREGISTER_BROKER, QUERY_DATA_VERSION,
//!   BROKER_HEARTBEAT;
//! * `route.rs` — what clients and admin tools ask: routes, cluster info, topic lists, and the
//!   admin edits of topics (delete, write permission);
//! * `kv.rs` — the KV config commands.
//!
//! Processors are plain functions over [`NamesrvState`]; [`register_all`] binds them to their
//! codes. Every other code is answered REQUEST_CODE_NOT_SUPPORTED by the remoting server.

mod broker;
mod kv;
mod route;

use std::future::Future;
use std::sync::Arc;

use rmq_remoting::{ProcessResult, RemotingCommand, RemotingServer, RequestCode, RequestContext};

use crate::state::NamesrvState;

type SyncProcessor = fn(&NamesrvState, &RequestContext, &RemotingCommand) -> ProcessResult;

/// Binds every name server request code to its processor.
pub(crate) fn register_all(server: &mut RemotingServer, state: &Arc<NamesrvState>) {
    let sync: [(RequestCode, SyncProcessor); 12] = [
        (RequestCode::RegisterBroker, broker::register_broker),
        (RequestCode::UnregisterBroker, broker::unregister_broker),
        (RequestCode::QueryDataVersion, broker::query_data_version),
        (RequestCode::BrokerHeartbeat, broker::broker_heartbeat),
        (RequestCode::GetRouteinfoByTopic, route::get_route_info),
        (RequestCode::GetBrokerClusterInfo, route::get_cluster_info),
        (
            RequestCode::GetAllTopicListFromNameserver,
            route::get_all_topics,
        ),
        (
            RequestCode::GetTopicsByCluster,
            route::get_topics_by_cluster,
        ),
        (RequestCode::DeleteTopicInNamesrv, route::delete_topic),
        (RequestCode::WipeWritePermOfBroker, route::wipe_write_perm),
        (RequestCode::AddWritePermOfBroker, route::add_write_perm),
        (RequestCode::GetKvlistByNamespace, kv::get_kv_list),
    ];
    for (code, processor) in sync {
        let state = state.clone();
        let name = code.name();
        server.register(code, move |ctx: RequestContext, req: RemotingCommand| {
            state.metrics.count(name);
            std::future::ready(processor(&state, &ctx, &req))
        });
    }
    register_async(server, RequestCode::PutKvConfig, state, kv::put_kv_config);
    register_async(
        server,
        RequestCode::DeleteKvConfig,
        state,
        kv::delete_kv_config,
    );
    let state = state.clone();
    server.register(
        RequestCode::GetKvConfig,
        move |_ctx, req: RemotingCommand| std::future::ready(kv::get_kv_config(&state, &req)),
    );
}

/// Registers a processor that awaits (KV changes wait for their file write).
fn register_async<F, Fut>(
    server: &mut RemotingServer,
    code: RequestCode,
    state: &Arc<NamesrvState>,
    processor: F,
) where
    F: Fn(Arc<NamesrvState>, RemotingCommand) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ProcessResult> + Send + 'static,
{
    let state = state.clone();
    server.register(code, move |_ctx, req: RemotingCommand| {
        processor(state.clone(), req)
    });
}
