//! The controllers of controller mode (automatic failover; rmq's `mqcontroller` or Apache's):
//! who leads (CONTROLLER_GET_METADATA_INFO 1005, any controller answers), each group's master,
//! epochs and SyncStateSet (CONTROLLER_GET_SYNC_STATE_DATA 1006), an operator's election
//! (CONTROLLER_ELECT_MASTER 1002), forgetting replicas (CLEAN_BROKER_DATA 1011) and the
//! settings (GET_CONTROLLER_CONFIG 1010); and a broker's own epochs (GET_BROKER_EPOCH_CACHE
//! 1007, asked of the broker). `controllers` is the `;`-separated list brokers have
//! as `controllerAddr`; calls that only the leader answers find it first, as Apache's admin does.

use rmq_remoting::body::{BrokerReplicasInfo, ElectMasterResponseBody, EpochEntryCache};
use rmq_remoting::header::{
    CleanControllerBrokerDataRequestHeader, ElectMasterRequestHeader, ElectMasterResponseHeader,
    GetMetaDataResponseHeader,
};
use rmq_remoting::RequestCode;

use super::rpc::{bad, bare, request};
use super::Admin;
use crate::error::{ClientError, Result};

/// An election's outcome as the controller answered it.
#[derive(Debug, Clone)]
pub struct Elected {
    pub header: ElectMasterResponseHeader,
    pub body: ElectMasterResponseBody,
}

fn addrs(controllers: &str) -> Vec<&str> {
    controllers
        .split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect()
}

impl Admin {
    /// CONTROLLER_GET_METADATA_INFO of the controller at `addr`: its group, the leader it
    /// knows, whether it leads, the peers.
    pub async fn controller_metadata(&self, addr: &str) -> Result<GetMetaDataResponseHeader> {
        self.call(addr, bare(RequestCode::ControllerGetMetadataInfo))
            .await?
            .header()
    }

    /// GET_BROKER_EPOCH_CACHE of the broker at `addr` (controller mode): its group, id, the
    /// master epochs its CommitLog holds and where each starts, and the CommitLog's end.
    pub async fn broker_epoch_cache(&self, addr: &str) -> Result<EpochEntryCache> {
        self.call(addr, bare(RequestCode::GetBrokerEpochCache))
            .await?
            .body()
    }

    /// The leader's address, from the first of `controllers` that knows one.
    pub async fn controller_leader(&self, controllers: &str) -> Result<String> {
        let mut last = None;
        for addr in addrs(controllers) {
            match self.controller_metadata(addr).await {
                Ok(m) => match m.controller_leader_address.filter(|a| !a.is_empty()) {
                    Some(leader) => return Ok(leader),
                    None => last = Some(bad(addr, "it knows no controller leader (no quorum?)")),
                },
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::BadResponse {
            addr: controllers.to_owned(),
            reason: "no controller address given (-a host:port[;host:port])".into(),
        }))
    }

    /// CONTROLLER_GET_SYNC_STATE_DATA at the leader: each named group's master, epochs and
    /// replicas in and out of its SyncStateSet (groups the controller does not know are left
    /// out).
    pub async fn sync_state_data(
        &self,
        controllers: &str,
        broker_names: &[String],
    ) -> Result<BrokerReplicasInfo> {
        let leader = self.controller_leader(controllers).await?;
        let names = serde_json::to_vec(broker_names).map_err(|e| bad(&leader, e))?;
        let req = bare(RequestCode::ControllerGetSyncStateData).with_body(names);
        self.call(&leader, req).await?.body()
    }

    /// CONTROLLER_ELECT_MASTER at the leader, naming the new master (`mqadmin electMaster`).
    pub async fn elect_master(
        &self,
        controllers: &str,
        cluster: &str,
        broker_name: &str,
        broker_id: i64,
    ) -> Result<Elected> {
        let leader = self.controller_leader(controllers).await?;
        let h = ElectMasterRequestHeader {
            cluster_name: Some(cluster.to_owned()),
            broker_name: broker_name.to_owned(),
            broker_id: Some(broker_id),
            designate_elect: Some(true),
            invoke_time: Some(rmq_common::time::now_millis()),
        };
        let reply = self
            .call(&leader, request(RequestCode::ControllerElectMaster, &h))
            .await?;
        Ok(Elected {
            header: reply.header()?,
            body: reply.body()?,
        })
    }

    /// CLEAN_BROKER_DATA at the leader: forgets the replicas `ids` (`1;2`) of a group, or the
    /// whole group; living replicas only with `living`.
    pub async fn clean_broker_metadata(
        &self,
        controllers: &str,
        cluster: Option<&str>,
        broker_name: &str,
        ids: Option<&str>,
        living: bool,
    ) -> Result<()> {
        let leader = self.controller_leader(controllers).await?;
        let h = CleanControllerBrokerDataRequestHeader {
            cluster_name: cluster.map(str::to_owned),
            broker_name: broker_name.to_owned(),
            broker_controller_ids_to_clean: ids.map(str::to_owned),
            is_clean_living_broker: Some(living),
            invoke_time: Some(rmq_common::time::now_millis()),
        };
        self.call(&leader, request(RequestCode::CleanBrokerData, &h))
            .await?;
        Ok(())
    }

    /// GET_CONTROLLER_CONFIG of the controller at `addr`: its settings as `key=value` lines.
    pub async fn controller_config(&self, addr: &str) -> Result<String> {
        let reply = self
            .call(addr, bare(RequestCode::GetControllerConfig))
            .await?;
        Ok(String::from_utf8_lossy(reply.raw()).into_owned())
    }
}
