//! `mqadmin getBrokerConfig`, `updateBrokerConfig`, `updateKvConfig` and `deleteKvConfig`: a
//! broker's configuration and the name servers' KV config, with Apache's flags and layout.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::output::{emit, print_out};
use crate::session::Session;

/// Arguments of `mqadmin getBrokerConfig`.
#[derive(Debug, Args)]
pub struct GetBrokerConfig {
    /// Broker address (host:port).
    #[arg(short = 'b', long = "brokerAddr", conflicts_with = "cluster")]
    pub broker_addr: Option<String>,
    /// Every master of this cluster.
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: Option<String>,
}

#[derive(Debug, Serialize)]
struct BrokerConfigReport {
    broker_name: String,
    addr: String,
    config: BTreeMap<String, String>,
}

/// Runs `mqadmin getBrokerConfig`: per broker a `====addr====` line, then `key = value`.
pub async fn get_broker_config(s: &Session, a: &GetBrokerConfig) -> Result<()> {
    let targets = s
        .targets(a.cluster.as_deref(), a.broker_addr.as_deref())
        .await?;
    let mut reports = Vec::new();
    for t in targets {
        let config = s
            .admin
            .broker_config(&t.addr)
            .await
            .map_err(|e| s.explain(e))?;
        reports.push(BrokerConfigReport {
            broker_name: t.broker_name,
            addr: t.addr,
            config,
        });
    }
    emit(s.json, &reports, |reports| {
        let mut out = String::new();
        for r in reports {
            let _ = writeln!(out, "============{}============", r.addr);
            let width = r.config.keys().map(String::len).max().unwrap_or(0);
            for (k, v) in &r.config {
                let _ = writeln!(out, "{k:<width$} = {v}");
            }
        }
        out
    });
    Ok(())
}

/// Arguments of `mqadmin updateBrokerConfig`.
#[derive(Debug, Args)]
pub struct UpdateBrokerConfig {
    /// Broker address (host:port).
    #[arg(short = 'b', long = "brokerAddr", conflicts_with = "cluster")]
    pub broker_addr: Option<String>,
    /// Every master of this cluster.
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: Option<String>,
    /// The config key.
    #[arg(short = 'k', long = "key")]
    pub key: String,
    /// Its new value.
    #[arg(short = 'v', long = "value")]
    pub value: String,
}

/// Runs `mqadmin updateBrokerConfig`. A broker refuses keys it cannot change while running and
/// says which; the first refusal ends the command.
pub async fn update_broker_config(s: &Session, a: &UpdateBrokerConfig) -> Result<()> {
    let targets = s
        .targets(a.cluster.as_deref(), a.broker_addr.as_deref())
        .await?;
    let change = BTreeMap::from([(a.key.clone(), a.value.clone())]);
    for t in targets {
        s.admin
            .update_broker_config(&t.addr, &change)
            .await
            .map_err(|e| s.explain(e))?;
        print_out(&format!(
            "update broker config success, {} ({}): {} = {}\n",
            t.broker_name, t.addr, a.key, a.value
        ));
    }
    Ok(())
}

/// Arguments of `mqadmin updateKvConfig`.
#[derive(Debug, Args)]
pub struct UpdateKvConfig {
    /// The namespace (e.g. ORDER_TOPIC_CONFIG).
    #[arg(short = 's', long = "namespace")]
    pub namespace: String,
    /// The key.
    #[arg(short = 'k', long = "key")]
    pub key: String,
    /// The value.
    #[arg(short = 'v', long = "value")]
    pub value: String,
}

/// Runs `mqadmin updateKvConfig` (every name server of the list).
pub async fn update_kv_config(s: &Session, a: &UpdateKvConfig) -> Result<()> {
    s.admin
        .put_kv_config(&a.namespace, &a.key, &a.value)
        .await
        .map_err(|e| s.explain(e))?;
    print_out("update kv config in namespace success.\n");
    Ok(())
}

/// Arguments of `mqadmin deleteKvConfig`.
#[derive(Debug, Args)]
pub struct DeleteKvConfig {
    /// The namespace.
    #[arg(short = 's', long = "namespace")]
    pub namespace: String,
    /// The key.
    #[arg(short = 'k', long = "key")]
    pub key: String,
}

/// Runs `mqadmin deleteKvConfig` (every name server of the list).
pub async fn delete_kv_config(s: &Session, a: &DeleteKvConfig) -> Result<()> {
    s.admin
        .delete_kv_config(&a.namespace, &a.key)
        .await
        .map_err(|e| s.explain(e))?;
    print_out("delete kv config from namespace success.\n");
    Ok(())
}
