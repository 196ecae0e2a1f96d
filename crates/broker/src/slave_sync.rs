//! A slave's copy of its master's metadata (`SlaveSynchronize`): topic configs, consumer
//! offsets, delay-level progress and subscription groups, fetched from the master's remoting
//! port every 3 s (as 5.x brokers check; and as soon as the master is known), so consumers that move to the slave
//! while the master is down resume where they were.

use std::sync::Arc;
use std::time::Duration;

use rmq_remoting::body::TopicConfigSerializeWrapper;
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode};

use rmq_remoting::RemotingClient;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::delay_offsets::DelayOffsets;
use crate::groups::SubscriptionGroups;
use crate::known_master::KnownMaster;
use crate::offsets::ConsumerOffsets;
use crate::peer_error::PeerError;
use crate::registration_wanted::RegistrationWanted;
use crate::topics::TopicConfigs;

const SYNC_INTERVAL: Duration = Duration::from_secs(3);

/// What a slave copies into, and from where.
pub struct SlaveSync {
    pub outbound: RemotingClient,
    pub master: KnownMaster,
    pub topics: Arc<TopicConfigs>,
    pub offsets: Arc<ConsumerOffsets>,
    pub delay_offsets: Arc<DelayOffsets>,
    pub groups: Arc<SubscriptionGroups>,
    /// Raised when the copied topics differ, so the name servers hear of them.
    pub registration: RegistrationWanted,
}

/// Starts the copy loop, owned by `tasks`.
pub fn start(sync: SlaveSync, tasks: &TaskTracker, shutdown: CancellationToken) {
    let c = sync;
    tasks.spawn(async move {
        let mut master_seen = false;
        loop {
            let master = c.master.master_addr();
            let wait = match master {
                Some(addr) => {
                    if let Err(e) = sync_once(&c, &addr).await {
                        tracing::warn!(master = %addr, error = %e, "could not copy metadata from the master");
                    } else if !master_seen {
                        tracing::info!(master = %addr, "copied topics, offsets and groups from the master");
                    }
                    master_seen = true;
                    SYNC_INTERVAL
                }
                None => Duration::from_millis(500),
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    });
}

async fn fetch(
    ctx: &SlaveSync,
    master: &str,
    code: RequestCode,
) -> Result<bytes::Bytes, PeerError> {
    let resp = ctx
        .outbound
        .invoke(
            master,
            RemotingCommand::new_request(code),
            Duration::from_secs(5),
        )
        .await?;
    if resp.response_code() != ResponseCode::Success {
        return Err(PeerError::Refused {
            request: code,
            code: resp.code,
            remark: resp.remark.unwrap_or_default(),
        });
    }
    Ok(resp.body)
}

/// Copies everything once.
pub async fn sync_once(ctx: &SlaveSync, master: &str) -> Result<(), PeerError> {
    let topics = fetch(ctx, master, RequestCode::GetAllTopicConfig).await?;
    let wrapper = TopicConfigSerializeWrapper::from_json_bytes(&topics).map_err(|source| {
        PeerError::Body {
            request: RequestCode::GetAllTopicConfig,
            source,
        }
    })?;
    if ctx
        .topics
        .replace_all(wrapper.data_version, wrapper.topic_config_table)?
    {
        ctx.registration.request();
    }
    let offsets = fetch(ctx, master, RequestCode::GetAllConsumerOffset).await?;
    ctx.offsets.replace_from_json(&offsets)?;
    let delay = fetch(ctx, master, RequestCode::GetAllDelayOffset).await?;
    ctx.delay_offsets.replace_from_json(&delay)?;
    let groups = fetch(ctx, master, RequestCode::GetAllSubscriptionGroupConfig).await?;
    ctx.groups.replace_from_json(&groups)?;
    Ok(())
}
