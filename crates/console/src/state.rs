//! What every handler shares: the admin client of the name servers in use (switchable), a
//! producer for test messages and resends, the sampler's figures, and the login state.

use std::collections::BTreeSet;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rmq_client::{Admin, ClientOptions, ClusterInfo, Producer};
use rmq_common::topic::RETRY_GROUP_TOPIC_PREFIX;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::sampler::Samples;

/// The producer group of the console's test messages and resends.
pub const PRODUCER_GROUP: &str = "mqconsole_producer";

/// Groups every broker has that no user made (Apache's `MixAll` system groups).
const SYSTEM_GROUPS: &[&str] = &[
    "TOOLS_CONSUMER",
    "FILTERSRV_CONSUMER",
    "SELF_TEST_C_GROUP",
    "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PULL",
    "CID_ONSAPI_PERMISSION",
    "CID_ONSAPI_OWNER",
    "CID_SYS_RMQ_TRANS",
    "DEFAULT_CONSUMER",
];

pub fn is_system_group(group: &str) -> bool {
    SYSTEM_GROUPS.contains(&group) || group.starts_with("CID_RMQ_SYS_")
}

pub struct Console {
    pub auth: Auth,
    pub samples: Samples,
    admin: RwLock<Arc<Admin>>,
    /// Every name server address the console was given or switched to.
    known_namesrvs: Mutex<BTreeSet<String>>,
    producer: tokio::sync::Mutex<Option<Arc<Producer>>>,
    /// Credentials and TLS for every client the console makes.
    client: ClientOptions,
}

impl Console {
    pub fn new(auth: Auth, samples: Samples, admin: Admin, client: ClientOptions) -> Console {
        let known = split_list(&admin.name_server_list()).collect();
        Console {
            auth,
            samples,
            admin: RwLock::new(Arc::new(admin)),
            known_namesrvs: Mutex::new(known),
            producer: tokio::sync::Mutex::new(None),
            client,
        }
    }

    /// The admin client of the name servers in use.
    pub fn admin(&self) -> Arc<Admin> {
        self.admin.read().clone()
    }

    pub fn known_namesrvs(&self) -> Vec<String> {
        self.known_namesrvs.lock().iter().cloned().collect()
    }

    /// Uses the name server list `list` from now on (the old clients stop when the last
    /// request holding them ends).
    pub async fn switch_namesrv(&self, list: &str) -> ApiResult<()> {
        let admin = Admin::builder()
            .options(self.client.clone())
            .name_server(list)
            .build()
            .await?;
        // Fail here, not on the next page: the new name servers must answer.
        admin.cluster_info().await?;
        self.known_namesrvs.lock().extend(split_list(list));
        *self.admin.write() = Arc::new(admin);
        *self.producer.lock().await = None;
        Ok(())
    }

    /// The console's producer, started on first use with the name servers in use.
    pub async fn producer(&self) -> ApiResult<Arc<Producer>> {
        let mut slot = self.producer.lock().await;
        if let Some(p) = &*slot {
            return Ok(p.clone());
        }
        let p = Producer::builder()
            .options(self.client.clone())
            .name_server(&self.admin().name_server_list())
            .group(PRODUCER_GROUP)
            .build()
            .await
            .map_err(ApiError::Cluster)?;
        let p = Arc::new(p);
        *slot = Some(p.clone());
        Ok(p)
    }

    /// Every consumer group of the cluster but the system ones: those with a retry topic and
    /// those with a subscription group config on a master.
    pub async fn groups(&self) -> ApiResult<BTreeSet<String>> {
        let info = self.admin().cluster_info().await?;
        self.groups_in(&info).await
    }

    /// [`Console::groups`] of the brokers in `info`.
    pub async fn groups_in(&self, info: &ClusterInfo) -> ApiResult<BTreeSet<String>> {
        let admin = self.admin();
        let mut groups = admin.group_list().await?;
        for b in info.broker_addr_table.values() {
            let Some(addr) = b.master_addr() else {
                continue;
            };
            match admin.all_subscription_groups(addr).await {
                Ok(w) => groups.extend(w.subscription_group_table.into_keys()),
                Err(e) => tracing::debug!(addr, error = %e, "no subscription groups from broker"),
            }
        }
        groups.retain(|g| !is_system_group(g) && !g.starts_with(RETRY_GROUP_TOPIC_PREFIX));
        Ok(groups)
    }
}

pub fn split_list(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
