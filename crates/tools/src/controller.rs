//! Controller-mode commands, by Apache's names and flags: `getControllerMetaData`,
//! `getSyncStateSet`, `electMaster`, `cleanBrokerMetadata`, `getControllerConfig`, and
//! `getBrokerEpoch` (asked of the brokers, found through the name servers). `-a` is the
//! controllers' addresses (`host:port;host:port`, brokers' `controllerAddr`); no name server is
//! needed unless `-c` names a cluster whose groups are to be listed.

use anyhow::{bail, Result};
use clap::Args;
use rmq_client::{BrokerReplicasInfo, ClusterInfo, EpochEntryCache, ReplicaIdentity};
use serde::Serialize;

use crate::output::{emit, print_out};
use crate::session::Session;

/// Arguments of `mqadmin getControllerMetaData`.
#[derive(Debug, Args)]
pub struct GetControllerMetaData {
    /// A controller's address (host:port).
    #[arg(short = 'a', long = "controllerAddress")]
    pub controller: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    group: String,
    leader_id: String,
    leader_address: String,
    is_leader: bool,
    peers: Vec<String>,
}

/// Runs `mqadmin getControllerMetaData`.
pub async fn get_controller_metadata(s: &Session, a: &GetControllerMetaData) -> Result<()> {
    let m = s
        .admin
        .controller_metadata(&a.controller)
        .await
        .map_err(|e| s.explain(e))?;
    let report = Metadata {
        group: m.group.unwrap_or_default(),
        leader_id: m.controller_leader_id.unwrap_or_default(),
        leader_address: m.controller_leader_address.unwrap_or_default(),
        is_leader: m.is_leader.unwrap_or(false),
        peers: m
            .peers
            .unwrap_or_default()
            .split(';')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    emit(s.json, &report, |m| {
        let mut out = format!(
            "#ControllerGroup\t{}\n#ControllerLeaderId\t{}\n#ControllerLeaderAddress\t{}\n",
            m.group, m.leader_id, m.leader_address
        );
        for p in &m.peers {
            out.push_str(&format!("#Peer:\t{p}\n"));
        }
        out
    });
    Ok(())
}

/// Arguments of `mqadmin getSyncStateSet`.
#[derive(Debug, Args)]
pub struct GetSyncStateSet {
    /// The controllers' addresses (host:port;host:port).
    #[arg(short = 'a', long = "controllerAddress")]
    pub controllers: String,
    /// Every broker group of this cluster (its names from the name servers).
    #[arg(short = 'c', long = "clusterName", conflicts_with = "broker_name")]
    pub cluster: Option<String>,
    /// One broker group.
    #[arg(short = 'b', long = "brokerName")]
    pub broker_name: Option<String>,
}

/// The broker group `-b` names, or every group of the cluster `-c` names (from `info`, or
/// from the name servers when not given).
async fn group_names(
    s: &Session,
    broker_name: Option<&str>,
    cluster: Option<&str>,
    info: Option<&ClusterInfo>,
) -> Result<Vec<String>> {
    let c = match (broker_name, cluster) {
        (Some(b), _) => return Ok(vec![b.to_owned()]),
        (None, Some(c)) => c,
        (None, None) => {
            bail!("name the broker group (-b brokerName) or the cluster (-c clusterName)")
        }
    };
    let fetched;
    let info = match info {
        Some(i) => i,
        None => {
            fetched = s.cluster_info().await?;
            &fetched
        }
    };
    match info.cluster_addr_table.get(c) {
        Some(names) => Ok(names.iter().cloned().collect()),
        None => bail!(
            "cluster {c} is not known to the name servers at {}",
            s.name_server_list()
        ),
    }
}

fn identity(r: &ReplicaIdentity) -> String {
    format!(
        "ReplicaIdentity{{brokerName='{}', brokerId={}, brokerAddress='{}', alive={}}}",
        r.broker_name, r.broker_id, r.broker_address, r.alive
    )
}

/// Runs `mqadmin getSyncStateSet`.
pub async fn get_sync_state_set(s: &Session, a: &GetSyncStateSet) -> Result<()> {
    let names = group_names(s, a.broker_name.as_deref(), a.cluster.as_deref(), None).await?;
    let info: BrokerReplicasInfo = s
        .admin
        .sync_state_data(&a.controllers, &names)
        .await
        .map_err(|e| s.explain(e))?;
    for n in &names {
        if !info.replicas_info_table.contains_key(n) {
            eprintln!("broker group {n} is not registered with the controllers");
        }
    }
    emit(s.json, &info, |info| {
        let mut out = String::new();
        for (name, g) in &info.replicas_info_table {
            out.push_str(&format!(
                "\n#brokerName\t{name}\n#MasterBrokerId\t{}\n#MasterAddr\t{}\n#MasterEpoch\t{}\n\
                 #SyncStateSetEpoch\t{}\n#SyncStateSetNums\t{}\n",
                g.master_broker_id.map_or("-".into(), |m| m.to_string()),
                g.master_address.as_deref().unwrap_or("-"),
                g.master_epoch,
                g.sync_state_set_epoch,
                g.in_sync_replicas.len()
            ));
            for r in &g.in_sync_replicas {
                out.push_str(&format!("\nInSyncReplica:\t{}\n", identity(r)));
            }
            for r in &g.not_in_sync_replicas {
                out.push_str(&format!("\nNotInSyncReplica:\t{}\n", identity(r)));
            }
        }
        out
    });
    Ok(())
}

/// Arguments of `mqadmin getBrokerEpoch`.
#[derive(Debug, Args)]
pub struct GetBrokerEpoch {
    /// Every broker of this cluster.
    #[arg(short = 'c', long = "clusterName", conflicts_with = "broker_name")]
    pub cluster: Option<String>,
    /// Every replica (master and slaves) of one broker group.
    #[arg(short = 'b', long = "brokerName")]
    pub broker_name: Option<String>,
    /// Print again every this many seconds until interrupted.
    #[arg(short = 'i', long = "interval")]
    pub interval: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BrokerEpochs {
    broker_addr: String,
    #[serde(flatten)]
    cache: EpochEntryCache,
}

/// Runs `mqadmin getBrokerEpoch`: each replica's epochs, Apache's layout (the last epoch ends
/// at the CommitLog's end).
pub async fn get_broker_epoch(s: &Session, a: &GetBrokerEpoch) -> Result<()> {
    loop {
        let info = s.cluster_info().await?;
        let groups = group_names(
            s,
            a.broker_name.as_deref(),
            a.cluster.as_deref(),
            Some(&info),
        )
        .await?;
        let mut report = Vec::new();
        for g in &groups {
            let Some(data) = info.broker_addr_table.get(g) else {
                bail!(
                    "broker group {g} is not known to the name servers at {}",
                    s.name_server_list()
                );
            };
            for addr in data.broker_addrs.values() {
                let cache = s
                    .admin
                    .broker_epoch_cache(addr)
                    .await
                    .map_err(|e| s.explain(e))?;
                report.push(BrokerEpochs {
                    broker_addr: addr.clone(),
                    cache,
                });
            }
        }
        emit(s.json, &report, |report| {
            let mut out = String::new();
            for b in report {
                let c = &b.cache;
                out.push_str(&format!(
                    "\n#clusterName\t{}\n#brokerName\t{}\n#brokerAddr\t{}\n#brokerId\t{}",
                    c.cluster_name, c.broker_name, b.broker_addr, c.broker_id
                ));
                let last = c.epoch_list.len().saturating_sub(1);
                for (i, e) in c.epoch_list.iter().enumerate() {
                    let end = if i == last {
                        c.max_offset
                    } else {
                        e.end_offset
                    };
                    out.push_str(&format!(
                        "\n#Epoch: EpochEntry{{epoch={}, startOffset={}, endOffset={end}}}",
                        e.epoch, e.start_offset
                    ));
                }
                out.push('\n');
            }
            out
        });
        match a.interval {
            Some(secs) => tokio::time::sleep(std::time::Duration::from_secs(secs.max(1))).await,
            None => return Ok(()),
        }
    }
}

/// Arguments of `mqadmin electMaster`.
#[derive(Debug, Args)]
pub struct ElectMaster {
    /// The controllers' addresses (host:port;host:port).
    #[arg(short = 'a', long = "controllerAddress")]
    pub controllers: String,
    /// The replica to make master: its broker id from the controller (1, 2, ...).
    #[arg(short = 'b', long = "brokerId")]
    pub broker_id: i64,
    /// The broker group (Apache's `-bn`).
    #[arg(long = "brokerName")]
    pub broker_name: String,
    /// The cluster.
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: String,
}

/// Runs `mqadmin electMaster`: the controllers make the named replica master when it is alive
/// and in the SyncStateSet (or unclean elections are enabled).
pub async fn elect_master(s: &Session, a: &ElectMaster) -> Result<()> {
    let e = s
        .admin
        .elect_master(&a.controllers, &a.cluster, &a.broker_name, a.broker_id)
        .await
        .map_err(|e| s.explain(e))?;
    let mut out = format!(
        "\n#ClusterName\t{}\n#BrokerName\t{}\n#BrokerMasterAddr\t{}\n#MasterEpoch\t{}\n\
         #SyncStateSetEpoch\t{}\n",
        a.cluster,
        a.broker_name,
        e.header.master_address.as_deref().unwrap_or("-"),
        e.header.master_epoch.unwrap_or_default(),
        e.header.sync_state_set_epoch.unwrap_or_default()
    );
    if let Some(g) = &e.body.broker_member_group {
        for (id, addr) in &g.broker_addrs {
            out.push_str(&format!("\t#Broker\t{id}\t{addr}\n"));
        }
    }
    print_out(&out);
    Ok(())
}

/// Arguments of `mqadmin cleanBrokerMetadata`.
#[derive(Debug, Args)]
pub struct CleanBrokerMetadata {
    /// The controllers' addresses (host:port;host:port).
    #[arg(short = 'a', long = "controllerAddress")]
    pub controllers: String,
    /// The broker group (Apache's `-bn`).
    #[arg(long = "brokerName")]
    pub broker_name: String,
    /// The replicas to forget, `1;2` (default: the whole group).
    #[arg(short = 'b', long = "brokerControllerIdsToClean")]
    pub ids: Option<String>,
    /// The cluster (required unless -l).
    #[arg(short = 'c', long = "clusterName", required_unless_present = "living")]
    pub cluster: Option<String>,
    /// Forget replicas that are alive too.
    #[arg(short = 'l', long = "cleanLivingBroker")]
    pub living: bool,
}

/// Runs `mqadmin cleanBrokerMetadata`.
pub async fn clean_broker_metadata(s: &Session, a: &CleanBrokerMetadata) -> Result<()> {
    s.admin
        .clean_broker_metadata(
            &a.controllers,
            a.cluster.as_deref(),
            &a.broker_name,
            a.ids.as_deref(),
            a.living,
        )
        .await
        .map_err(|e| s.explain(e))?;
    print_out(&format!(
        "clear broker {} metadata from controller success!\n",
        a.broker_name
    ));
    Ok(())
}

/// Arguments of `mqadmin getControllerConfig`.
#[derive(Debug, Args)]
pub struct GetControllerConfig {
    /// The controllers' addresses (host:port;host:port): each is asked.
    #[arg(short = 'a', long = "controllerAddress")]
    pub controllers: String,
}

/// Runs `mqadmin getControllerConfig`.
pub async fn get_controller_config(s: &Session, a: &GetControllerConfig) -> Result<()> {
    for addr in a
        .controllers
        .split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        let text = s
            .admin
            .controller_config(addr)
            .await
            .map_err(|e| s.explain(e))?;
        let mut out = format!("============{addr}============\n");
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                out.push_str(&format!("{k:<50}=  {v}\n"));
            }
        }
        print_out(&out);
    }
    Ok(())
}
