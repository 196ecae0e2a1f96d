//! [`Session`]: what one `mqadmin` run talks through — one `rmq_client::Admin` — plus the
//! lookups every command family shares (the brokers a command targets) and the translation of
//! the client's typed errors into advice for the operator at the terminal.
//!
//! The library reports what failed ([`ClientError`]); what to check next is the tool's
//! business, so the hints live here and nowhere else.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use rmq_client::{
    Admin, BrokerTarget, ClientError, ClusterInfo, Credentials, RemotingError, ResponseCode,
    TopicRouteData,
};

/// How long one request may take.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(5);

/// The client of one `mqadmin` run.
#[derive(Debug)]
pub struct Session {
    /// The admin client every command goes through.
    pub admin: Admin,
    /// Print `--json` instead of tables.
    pub json: bool,
}

impl Session {
    /// A client for the `;`-separated name server list `namesrv`; each address must be
    /// `host:port`.
    pub async fn new(
        namesrv: &str,
        json: bool,
        credentials: Option<Credentials>,
        use_tls: bool,
    ) -> Result<Self> {
        let list = parse_name_servers(namesrv)?;
        let mut builder = Admin::builder()
            .name_server(&list.join(";"))
            .rpc_timeout(RPC_TIMEOUT)
            .use_tls(use_tls);
        if let Some(c) = credentials {
            builder = builder.credentials(c.access_key, c.secret_key);
        }
        let admin = builder.build().await.map_err(|e| anyhow!("{e}"))?;
        Ok(Session { admin, json })
    }

    /// A client that knows no name server, for commands that ask only the controllers.
    pub async fn without_name_server(
        json: bool,
        credentials: Option<Credentials>,
        use_tls: bool,
    ) -> Result<Self> {
        let mut builder = Admin::builder().rpc_timeout(RPC_TIMEOUT).use_tls(use_tls);
        if let Some(c) = credentials {
            builder = builder.credentials(c.access_key, c.secret_key);
        }
        let admin = builder.build().await.map_err(|e| anyhow!("{e}"))?;
        Ok(Session { admin, json })
    }

    /// Closes the client's connections.
    pub async fn close(self) {
        self.admin.shutdown().await;
    }

    /// The name server list as given (`a;b`).
    pub fn name_server_list(&self) -> String {
        self.admin.name_server_list()
    }

    /// A client error as advice: what failed and what to check.
    pub fn explain(&self, e: ClientError) -> anyhow::Error {
        let ns = self.name_server_list();
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
            ClientError::UnknownCluster { .. } => {
                anyhow!("{e} — check -c, or whether its brokers are running and registered")
            }
            ClientError::BrokerNotFound(what) => {
                anyhow!("no address is registered for {what} — are its master brokers running?")
            }
            ClientError::Broker { addr, code, remark } => {
                let hint = match code {
                    ResponseCode::TopicNotExist => " — create the topic with mqadmin updateTopic",
                    ResponseCode::SubscriptionGroupNotExist => {
                        " — create the group with mqadmin updateSubGroup, or start a consumer of it"
                    }
                    ResponseCode::RequestCodeNotSupported => {
                        " — this broker version does not support it"
                    }
                    ResponseCode::NoPermission => {
                        " — check the topic's or broker's perm, and the ACL account \
                         (--access-key/--secret-key or $ROCKETMQ_HOME/conf/tools.yml)"
                    }
                    _ => "",
                };
                anyhow!("{addr} answered {code}: {remark}{hint}")
            }
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
                let info = self.admin.cluster_info().await.ok();
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
            (Some(cluster), None) => self
                .admin
                .cluster_masters(cluster)
                .await
                .map_err(|e| self.explain(e)),
            (None, None) => bail!("say where: -c <cluster> or -b <broker address>"),
        }
    }
}

/// The error for "no name server answered".
pub fn no_name_server(addrs: &str, detail: &str) -> anyhow::Error {
    anyhow!(
        "no name server reachable at {addrs} — is mqnamesrv running? check -n or NAMESRV_ADDR \
         ({detail})"
    )
}

/// Splits `-n a;b` and checks each address is `host:port`, so a typo is reported as such and
/// not as an unreachable name server.
pub fn parse_name_servers(namesrv: &str) -> Result<Vec<String>> {
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
    for addr in &list {
        let well_formed = addr
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !well_formed {
            bail!(
                "malformed name server address {addr:?}: expected host:port, e.g. \
                 127.0.0.1:9876 (several separated by ';')"
            );
        }
    }
    Ok(list)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_server_addresses_must_be_host_port() {
        assert_eq!(
            parse_name_servers("127.0.0.1:9876; ns2:9876").ok(),
            Some(vec!["127.0.0.1:9876".to_owned(), "ns2:9876".to_owned()])
        );
        for bad in ["bogus", "host:", ":9876", "host:port", "host:99999"] {
            let err = parse_name_servers(bad).err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("malformed") && e.contains("host:port")),
                "{bad}: {err:?}"
            );
        }
        assert!(parse_name_servers(" ; ").is_err());
    }
}
