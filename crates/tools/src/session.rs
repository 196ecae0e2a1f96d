//! [`Session`]: what one `mqadmin` run talks through — `rmq_client::Admin` for the calls it has,
//! [`AdminExt`] for the rest — plus the lookups every command family shares (a cluster's masters,
//! the broker behind an address) and the translation of client errors into advice.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use rmq_client::{Admin, ClientError, ClusterInfo, TopicRouteData};
use rmq_remoting::RemotingError;
use serde::Serialize;

use crate::admin_ext::{no_name_server, AdminExt};

/// How long one request may take.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(5);

/// One broker a command acts on: its name and master address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerTarget {
    pub broker_name: String,
    pub addr: String,
}

/// The clients of one `mqadmin` run.
#[derive(Debug)]
pub struct Session {
    pub admin: Admin,
    pub ext: AdminExt,
    /// Print `--json` instead of tables.
    pub json: bool,
}

impl Session {
    /// Clients for the `;`-separated name server list `namesrv`.
    pub fn new(namesrv: &str, json: bool) -> Result<Self> {
        let list: Vec<String> = namesrv
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if list.is_empty() {
            bail!(
                "no name server address: give -n host:port[;host:port] or set NAMESRV_ADDR \
                 (e.g. -n 127.0.0.1:9876)"
            );
        }
        let admin = Admin::builder()
            .name_server(&list.join(";"))
            .rpc_timeout(RPC_TIMEOUT)
            .build()
            .map_err(|e| anyhow!("{e}"))?;
        Ok(Session {
            admin,
            ext: AdminExt::new(list, RPC_TIMEOUT),
            json,
        })
    }

    pub async fn close(self) {
        self.admin.shutdown().await;
        self.ext.shutdown().await;
    }

    /// A client error as advice: what failed and what to check.
    pub fn explain(&self, e: ClientError) -> anyhow::Error {
        let ns = self.ext.name_server_list();
        match e {
            ClientError::NameServerUnavailable { last_error, .. } => {
                no_name_server(&ns, &last_error)
            }
            ClientError::NoRoute { topic, .. } => anyhow!(
                "topic {topic} has no route on the name servers at {ns}: create it with \
                 mqadmin updateTopic -t {topic} -c <cluster>"
            ),
            ClientError::Remoting(RemotingError::Connect { addr, source }) => {
                anyhow!("cannot reach {addr}: {source} — is the broker at that address running?")
            }
            ClientError::Timeout { addr, millis } => anyhow!(
                "{addr} did not answer within {millis} ms — is it overloaded or unreachable?"
            ),
            other => anyhow!("{other}"),
        }
    }

    /// GET_BROKER_CLUSTER_INFO.
    pub async fn cluster_info(&self) -> Result<ClusterInfo> {
        self.admin.cluster_info().await.map_err(|e| self.explain(e))
    }

    /// GET_ROUTEINFO_BY_TOPIC.
    pub async fn route(&self, topic: &str) -> Result<TopicRouteData> {
        self.admin
            .topic_route(topic)
            .await
            .map_err(|e| self.explain(e))
    }

    /// The masters a command acts on: the one at `broker_addr`, or every master of `cluster`.
    pub async fn targets(
        &self,
        cluster: Option<&str>,
        broker_addr: Option<&str>,
    ) -> Result<Vec<BrokerTarget>> {
        match (cluster, broker_addr) {
            (_, Some(addr)) => {
                // The name is only for display; an unregistered broker can still be addressed.
                let info = self.cluster_info().await.ok();
                let broker_name = info
                    .as_ref()
                    .and_then(|i| {
                        i.broker_addr_table
                            .values()
                            .find(|b| b.broker_addrs.values().any(|a| a == addr))
                    })
                    .map_or_else(|| "-".to_owned(), |b| b.broker_name.clone());
                Ok(vec![BrokerTarget {
                    broker_name,
                    addr: addr.to_owned(),
                }])
            }
            (Some(cluster), None) => {
                let info = self.cluster_info().await?;
                masters_of(&info, cluster)
            }
            (None, None) => bail!("say where: -c <cluster> or -b <broker address>"),
        }
    }
}

/// Every master of `cluster` in `info`.
pub fn masters_of(info: &ClusterInfo, cluster: &str) -> Result<Vec<BrokerTarget>> {
    let Some(names) = info.cluster_addr_table.get(cluster) else {
        let known: Vec<&str> = info.cluster_addr_table.keys().map(String::as_str).collect();
        bail!(
            "cluster {cluster} is not known to the name servers (known: {}) — check -c, or \
             whether its brokers are running and registered",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
    };
    let masters: Vec<BrokerTarget> = names
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
        bail!("cluster {cluster} has no master registered — are its master brokers running?");
    }
    Ok(masters)
}

/// Every master in the route of a topic, by broker name.
pub fn route_masters(route: &TopicRouteData) -> Vec<BrokerTarget> {
    let mut out: Vec<BrokerTarget> = route
        .broker_datas
        .iter()
        .filter_map(|b| {
            b.master_addr()
                .or_else(|| b.broker_addrs.values().next().map(String::as_str))
                .map(|a| BrokerTarget {
                    broker_name: b.broker_name.clone(),
                    addr: a.to_owned(),
                })
        })
        .collect();
    out.sort();
    out
}
