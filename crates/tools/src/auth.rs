//! ACL 2.0 commands, with Apache 5.x's names, flags and output: users (`createUser`,
//! `updateUser`, `deleteUser`, `getUser`, `listUser`, in [`users`]) and ACLs (`createAcl`,
//! `updateAcl`, `deleteAcl`, `getAcl`, `listAcl`, in [`acls`]).
//!
//! Every broker keeps its own users and ACLs, so `-b` acts on one broker and `-c` on every
//! broker of a cluster, masters and slaves alike (Apache's
//! `CommandUtil.fetchMasterAndSlaveAddrByClusterName`). Input is checked before anything is
//! sent; a broker's refusal is reported with its address, its code and its remark.

use anyhow::{anyhow, bail, Result};
use clap::Args;
use rmq_client::{ClientError, ClusterInfo};

use crate::output::print_out;
use crate::session::Session;

mod acls;
mod users;

pub use acls::{
    create_acl, delete_acl, get_acl, list_acl, update_acl, AclArgs, DeleteAcl, GetAcl, ListAcl,
};
pub use users::{
    create_user, delete_user, get_user, list_user, update_user, CreateUser, DeleteUser, GetUser,
    ListUser, UpdateUser,
};

/// Where an ACL 2.0 command acts: one broker (`-b`) or every broker of a cluster (`-c`).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Brokers {
    /// The broker at this address (host:port).
    #[arg(short = 'b', long = "brokerAddr", value_name = "ADDR")]
    pub broker_addr: Option<String>,
    /// Every broker of this cluster, masters and slaves.
    #[arg(short = 'c', long = "clusterName", value_name = "CLUSTER")]
    pub cluster: Option<String>,
}

impl Brokers {
    /// Whether the brokers are looked up by cluster (so each answer is labelled by address).
    pub fn is_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// The broker addresses to send to.
    pub async fn resolve(&self, s: &Session) -> Result<Vec<String>> {
        match (self.broker_addr.as_deref(), self.cluster.as_deref()) {
            (Some(addr), _) => {
                let addr = addr.trim();
                if addr.is_empty() {
                    bail!("-b must be a broker address, host:port");
                }
                Ok(vec![addr.to_owned()])
            }
            (None, Some(cluster)) => {
                let cluster = cluster.trim();
                let info = s.cluster_info().await?;
                cluster_brokers(&info, cluster).map_err(|e| s.explain(e))
            }
            (None, None) => bail!("say where: -b <broker address> or -c <cluster>"),
        }
    }
}

/// Every broker address of `cluster` (masters and slaves), by broker name then broker id.
pub fn cluster_brokers(
    info: &ClusterInfo,
    cluster: &str,
) -> std::result::Result<Vec<String>, ClientError> {
    let Some(names) = info.cluster_addr_table.get(cluster) else {
        return Err(ClientError::UnknownCluster {
            cluster: cluster.to_owned(),
            known: info.cluster_addr_table.keys().cloned().collect(),
        });
    };
    let mut addrs: Vec<String> = Vec::new();
    for b in names.iter().filter_map(|n| info.broker_addr_table.get(n)) {
        for addr in b.broker_addrs.values() {
            if !addrs.contains(addr) {
                addrs.push(addr.clone());
            }
        }
    }
    if addrs.is_empty() {
        return Err(ClientError::BrokerNotFound(format!(
            "a broker of cluster {cluster}"
        )));
    }
    Ok(addrs)
}

/// A client error on the call to `addr` as advice that names the broker.
pub(crate) fn failed_at(s: &Session, addr: &str, e: ClientError) -> anyhow::Error {
    let e = s.explain(e);
    let text = format!("{e:#}");
    if text.contains(addr) {
        e
    } else {
        anyhow!("broker {addr}: {text}")
    }
}

/// Runs `op` on every broker in turn; without `--json` prints `line(addr)` after each success.
/// The first failure ends the command, saying which brokers had already taken the change.
pub(crate) async fn apply(
    s: &Session,
    brokers: &[String],
    line: impl Fn(&str) -> String,
    op: impl AsyncFn(&str) -> rmq_client::Result<()>,
) -> Result<Vec<String>> {
    let mut done: Vec<String> = Vec::with_capacity(brokers.len());
    for addr in brokers {
        if let Err(e) = op(addr).await {
            let e = failed_at(s, addr, e);
            if done.is_empty() {
                return Err(e);
            }
            bail!("{e:#} (it had already succeeded on {})", done.join(", "));
        }
        if !s.json {
            print_out(&line(addr));
        }
        done.push(addr.clone());
    }
    Ok(done)
}

/// `value` (of flag `flag`, a `what`) spelled as in `names`, matched case-insensitively.
pub(crate) fn one_of(flag: &str, what: &str, value: &str, names: &[&str]) -> Result<String> {
    let v = value.trim();
    names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(v))
        .map(|n| (*n).to_owned())
        .ok_or_else(|| {
            anyhow!(
                "{flag}: unknown {what} {v:?}; expected {}",
                names.join(", ")
            )
        })
}

/// A list flag's items: split at `,` (or `;`, as Apache's tools also accept), trimmed, empty
/// items dropped.
pub(crate) fn split_list(value: &str) -> Vec<&str> {
    value
        .split([',', ';'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// A table cell: the value, or `-` when the broker sent none.
fn cell(v: Option<&str>) -> &str {
    v.filter(|v| !v.is_empty()).unwrap_or("-")
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use rmq_client::BrokerData;

    use super::*;

    #[test]
    fn names_match_in_any_case_and_go_out_in_apache_spelling() {
        let types = ["Super", "Normal"];
        assert_eq!(
            one_of("-t", "user type", " super ", &types).ok().as_deref(),
            Some("Super")
        );
        let err = one_of("-t", "user type", "admin", &types).err();
        let err = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.starts_with("-t: unknown user type \"admin\"") && err.contains("Super, Normal"),
            "{err}"
        );
        assert_eq!(split_list(" a, b;;c ,"), ["a", "b", "c"]);
        assert!(split_list(" , ").is_empty());
    }

    #[test]
    fn a_cluster_means_its_masters_and_slaves() {
        let broker = |name: &str, addrs: &[(i64, &str)]| BrokerData {
            broker_name: name.to_owned(),
            cluster: "C".to_owned(),
            broker_addrs: addrs.iter().map(|(i, a)| (*i, (*a).to_owned())).collect(),
            ..Default::default()
        };
        let info = ClusterInfo {
            broker_addr_table: BTreeMap::from([
                ("b".to_owned(), broker("b", &[(0, "h2:1"), (1, "h2:2")])),
                ("a".to_owned(), broker("a", &[(1, "h1:2"), (0, "h1:1")])),
                ("x".to_owned(), broker("x", &[(0, "h9:1")])),
            ]),
            cluster_addr_table: BTreeMap::from([
                (
                    "C".to_owned(),
                    BTreeSet::from(["a".to_owned(), "b".to_owned()]),
                ),
                ("Other".to_owned(), BTreeSet::from(["x".to_owned()])),
                ("Empty".to_owned(), BTreeSet::from(["gone".to_owned()])),
            ]),
        };
        assert_eq!(
            cluster_brokers(&info, "C").ok(),
            Some(vec![
                "h1:1".to_owned(),
                "h1:2".to_owned(),
                "h2:1".to_owned(),
                "h2:2".to_owned()
            ])
        );
        assert!(matches!(
            cluster_brokers(&info, "Nope"),
            Err(ClientError::UnknownCluster { .. })
        ));
        assert!(matches!(
            cluster_brokers(&info, "Empty"),
            Err(ClientError::BrokerNotFound(_))
        ));
    }
}
