//! Cluster commands: `clusterList` (the name servers' registry joined with each broker's runtime
//! figures) and `brokerStatus` (every runtime key of one broker).
//!
//! A broker that does not answer GET_BROKER_RUNTIME_INFO still gets its row in `clusterList`, with
//! the error in place of the figures: the listing is most needed when something is down.

use std::collections::BTreeMap;

use anyhow::Result;
use clap::Args;
use rmq_common::time::now_millis;
use serde::Serialize;

use crate::output::{emit, key_values, Table};
use crate::session::Session;

/// Arguments of `mqadmin clusterList`.
#[derive(Debug, Args)]
pub struct ClusterList {
    /// Only this cluster.
    #[arg(short = 'c', long = "clusterName")]
    pub cluster: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BrokerRow {
    cluster: String,
    broker_name: String,
    broker_id: i64,
    addr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// GET_BROKER_RUNTIME_INFO, as the broker sent it.
    runtime_info: BTreeMap<String, String>,
}

impl BrokerRow {
    fn get(&self, key: &str) -> &str {
        self.runtime_info.get(key).map_or("-", String::as_str)
    }

    /// The first of the space-separated figures (`putTps` is "10s 60s 600s").
    fn first(&self, key: &str) -> String {
        let v = self.get(key);
        let f = v.split_whitespace().next().unwrap_or("-");
        match f.parse::<f64>() {
            Ok(x) => format!("{x:.2}"),
            Err(_) => f.to_owned(),
        }
    }

    /// [`Self::first`] of the first of `keys` the broker sent (keys spelt differently by
    /// version).
    fn first_of(&self, keys: &[&str]) -> String {
        let key = keys
            .iter()
            .copied()
            .find(|k| self.runtime_info.contains_key(*k))
            .or(keys.first().copied())
            .unwrap_or_default();
        self.first(key)
    }

    /// Hours since the earliest stored message, as Apache's `#Hour` column.
    fn hours(&self) -> String {
        match self.get("earliestMessageTimeStamp").parse::<i64>() {
            Ok(t) if t > 0 => format!("{:.2}", (now_millis() - t) as f64 / 3_600_000.0),
            _ => "-".to_owned(),
        }
    }

    fn space(&self) -> String {
        match self.get("commitLogDiskRatio").parse::<f64>() {
            Ok(r) => format!("{:.4}", r),
            Err(_) => "-".to_owned(),
        }
    }
}

/// Runs `mqadmin clusterList`.
pub async fn cluster_list(s: &Session, a: &ClusterList) -> Result<()> {
    let info = s.cluster_info().await?;
    let mut rows = Vec::new();
    for (cluster, names) in &info.cluster_addr_table {
        if a.cluster.as_ref().is_some_and(|c| c != cluster) {
            continue;
        }
        for name in names {
            let Some(b) = info.broker_addr_table.get(name) else {
                continue;
            };
            for (id, addr) in &b.broker_addrs {
                let (runtime_info, error) = match s.admin.broker_runtime_info(addr).await {
                    Ok(table) => (table, None),
                    Err(e) => (BTreeMap::new(), Some(format!("{:#}", s.explain(e)))),
                };
                rows.push(BrokerRow {
                    cluster: cluster.clone(),
                    broker_name: name.clone(),
                    broker_id: *id,
                    addr: addr.clone(),
                    error,
                    runtime_info,
                });
            }
        }
    }
    if let Some(c) = &a.cluster {
        if rows.is_empty() {
            s.targets(Some(c), None).await?;
        }
    }
    emit(s.json, &rows, |rows| {
        let mut t = Table::new([
            "Cluster Name",
            "Broker Name",
            "BID",
            "Addr",
            "Version",
            "InTPS",
            "OutTPS",
            "PCWait(ms)",
            "Hour",
            "SPACE",
            "ACTIVATED",
        ]);
        let mut errors = String::new();
        for r in rows {
            t.row([
                r.cluster.clone(),
                r.broker_name.clone(),
                r.broker_id.to_string(),
                r.addr.clone(),
                r.get("brokerVersionDesc").to_owned(),
                r.first("putTps"),
                // 5.x spells it getTransferredTps; 4.x getTransferedTps.
                r.first_of(&["getTransferredTps", "getTransferedTps"]),
                r.get("pageCacheLockTimeMills").to_owned(),
                r.hours(),
                r.space(),
                r.get("brokerActive").to_owned(),
            ]);
            if let Some(e) = &r.error {
                errors.push_str(&format!("{} ({}): {e}\n", r.broker_name, r.addr));
            }
        }
        let mut out = t.render();
        if !errors.is_empty() {
            out.push_str("\nBrokers that did not answer:\n");
            out.push_str(&errors);
        }
        out
    });
    Ok(())
}

/// Arguments of `mqadmin brokerStatus`.
#[derive(Debug, Args)]
pub struct BrokerStatus {
    /// Broker address (host:port).
    #[arg(short = 'b', long = "brokerAddr")]
    pub broker_addr: String,
}

/// Runs `mqadmin brokerStatus`.
pub async fn broker_status(s: &Session, a: &BrokerStatus) -> Result<()> {
    let table = s
        .admin
        .broker_runtime_info(&a.broker_addr)
        .await
        .map_err(|e| s.explain(e))?;
    emit(s.json, &table, |t| {
        key_values(t.iter().map(|(k, v)| (k.as_str(), v.clone())))
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(info: &[(&str, &str)]) -> BrokerRow {
        BrokerRow {
            cluster: "C".into(),
            broker_name: "b".into(),
            broker_id: 0,
            addr: "127.0.0.1:10911".into(),
            error: None,
            runtime_info: info
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// OutTPS from a 5.x broker (getTransferredTps) and a 4.x one (getTransferedTps).
    #[test]
    fn out_tps_under_either_spelling() {
        let keys = ["getTransferredTps", "getTransferedTps"];
        assert_eq!(
            row(&[("getTransferredTps", "2.5 1 1")]).first_of(&keys),
            "2.50"
        );
        assert_eq!(
            row(&[("getTransferedTps", "3 1 1")]).first_of(&keys),
            "3.00"
        );
        assert_eq!(row(&[]).first_of(&keys), "-");
    }
}
