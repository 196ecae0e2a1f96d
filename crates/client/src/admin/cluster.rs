//! Cluster calls: the name servers' registry (GET_BROKER_CLUSTER_INFO), the masters of a
//! cluster, which most "on every broker of the cluster" admin writes start from, and a broker's
//! write permission on one name server (WIPE_WRITE_PERM_OF_BROKER, ADD_WRITE_PERM_OF_BROKER).

use rmq_remoting::body::ClusterInfo;
use rmq_remoting::header::{
    AddWritePermOfBrokerRequestHeader, AddWritePermOfBrokerResponseHeader,
    WipeWritePermOfBrokerRequestHeader, WipeWritePermOfBrokerResponseHeader,
};
use rmq_remoting::RequestCode;
use serde::Serialize;

use super::rpc::{bare, request};
use super::Admin;
use crate::error::{ClientError, Result};

/// One broker an admin call acts on: its name and (master) address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerTarget {
    /// The broker name (`brokerName`), shared by a master and its slaves.
    pub broker_name: String,
    /// The address to send to, `host:port`.
    pub addr: String,
}

impl Admin {
    /// GET_BROKER_CLUSTER_INFO (106): every cluster, broker name and broker address.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        self.call_namesrv(bare(RequestCode::GetBrokerClusterInfo))
            .await?
            .body()
    }

    /// GET_BROKER_CLUSTER_INFO (106) asked of one name server, `addr`: what that name server
    /// knows, and whether it answers at all.
    pub async fn namesrv_cluster_info(&self, addr: &str) -> Result<ClusterInfo> {
        self.call(addr, bare(RequestCode::GetBrokerClusterInfo))
            .await?
            .body()
    }

    /// Every master of `cluster`, sorted by broker name. A cluster the name servers do not know
    /// is [`ClientError::UnknownCluster`]; one without a registered master is
    /// [`ClientError::BrokerNotFound`].
    pub async fn cluster_masters(&self, cluster: &str) -> Result<Vec<BrokerTarget>> {
        masters_of(&self.cluster_info().await?, cluster)
    }

    /// The configured name servers, one address each.
    pub fn name_servers(&self) -> Vec<String> {
        self.instance.options.name_servers.clone()
    }

    /// WIPE_WRITE_PERM_OF_BROKER (205) on the name server `namesrv`: the routes it gives out
    /// stop offering `broker_name` for writes (until the broker registers its own permission
    /// again). Returns how many topics changed.
    pub async fn wipe_write_perm(&self, namesrv: &str, broker_name: &str) -> Result<i32> {
        let h = WipeWritePermOfBrokerRequestHeader {
            broker_name: broker_name.to_owned(),
            ..Default::default()
        };
        let r = self
            .call(namesrv, request(RequestCode::WipeWritePermOfBroker, &h))
            .await?;
        Ok(r.header::<WipeWritePermOfBrokerResponseHeader>()?
            .wipe_topic_count)
    }

    /// ADD_WRITE_PERM_OF_BROKER (327) on the name server `namesrv`: `broker_name` is offered
    /// for writes again. Returns how many topics changed.
    pub async fn add_write_perm(&self, namesrv: &str, broker_name: &str) -> Result<i32> {
        let h = AddWritePermOfBrokerRequestHeader {
            broker_name: broker_name.to_owned(),
            ..Default::default()
        };
        let r = self
            .call(namesrv, request(RequestCode::AddWritePermOfBroker, &h))
            .await?;
        Ok(r.header::<AddWritePermOfBrokerResponseHeader>()?
            .add_topic_count)
    }
}

/// Every master of `cluster` in `info`, sorted by broker name.
pub fn masters_of(info: &ClusterInfo, cluster: &str) -> Result<Vec<BrokerTarget>> {
    let names =
        info.cluster_addr_table
            .get(cluster)
            .ok_or_else(|| ClientError::UnknownCluster {
                cluster: cluster.to_owned(),
                known: info.cluster_addr_table.keys().cloned().collect(),
            })?;
    let mut masters: Vec<BrokerTarget> = names
        .iter()
        .filter_map(|n| info.broker_addr_table.get(n))
        .filter_map(|b| {
            b.master_addr().map(|a| BrokerTarget {
                broker_name: b.broker_name.clone(),
                addr: a.to_owned(),
            })
        })
        .collect();
    if masters.is_empty() {
        return Err(ClientError::BrokerNotFound(format!(
            "a master of cluster {cluster}"
        )));
    }
    masters.sort();
    Ok(masters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_cluster_names_the_known_ones() {
        let info = ClusterInfo::default();
        let err = masters_of(&info, "C").err();
        assert!(matches!(err, Some(ClientError::UnknownCluster { .. })));
    }
}
