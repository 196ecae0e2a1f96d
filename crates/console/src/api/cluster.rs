//! Overview, cluster, broker config and name servers.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::validate::non_empty;
use crate::error::{ApiError, ApiResult};
use crate::state::{split_list, Console};

/// How many entries each "top" list of the overview has.
const TOP: usize = 5;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BrokerUp {
    cluster: String,
    broker_name: String,
    broker_id: i64,
    addr: String,
    up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// (cluster, broker name, id, address) of every registered broker.
async fn registered(console: &Console) -> ApiResult<Vec<(String, String, i64, String)>> {
    let info = console.admin().cluster_info().await?;
    Ok(info
        .broker_addr_table
        .values()
        .flat_map(|b| {
            b.broker_addrs.iter().map(move |(id, addr)| {
                (b.cluster.clone(), b.broker_name.clone(), *id, addr.clone())
            })
        })
        .collect())
}

pub async fn overview(State(console): State<Arc<Console>>) -> ApiResult<Json<Value>> {
    let admin = console.admin();
    let mut brokers = Vec::new();
    for (cluster, broker_name, broker_id, addr) in registered(&console).await? {
        let r = admin.broker_runtime_info(&addr).await;
        brokers.push(BrokerUp {
            cluster,
            broker_name,
            broker_id,
            up: r.is_ok(),
            error: r.err().map(|e| e.to_string()),
            addr,
        });
    }
    let mut namesrvs = Vec::new();
    for addr in split_list(&admin.name_server_list()) {
        let r = admin.namesrv_cluster_info(&addr).await;
        namesrvs
            .push(json!({"addr": addr, "up": r.is_ok(), "error": r.err().map(|e| e.to_string())}));
    }
    let f = console.samples.figures();
    Ok(Json(json!({
        "brokers": brokers,
        "namesrvs": namesrvs,
        "series": {"put": f.put, "get": f.get},
        "topTopicsByTraffic": top(&f.topic_tps),
        "topTopicsByBacklog": top(&f.topic_backlog),
        "topGroupsByTraffic": top(&f.group_tps),
        "topGroupsByBacklog": top(&f.group_backlog),
        "sampleIntervalSecs": console.samples.interval().as_secs(),
        "samples": f.samples,
    })))
}

fn top<V: Copy + PartialOrd + Serialize>(m: &BTreeMap<String, V>) -> Vec<Value> {
    let mut v: Vec<(&String, &V)> = m.iter().collect();
    v.sort_by(|a, b| b.1.partial_cmp(a.1).unwrap_or(std::cmp::Ordering::Equal));
    v.into_iter()
        .take(TOP)
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect()
}

pub async fn cluster(State(console): State<Arc<Console>>) -> ApiResult<Json<Value>> {
    let admin = console.admin();
    let mut out = Vec::new();
    for (cluster, broker_name, broker_id, addr) in registered(&console).await? {
        let mut row = json!({
            "cluster": cluster, "brokerName": broker_name, "brokerId": broker_id, "addr": addr,
        });
        match admin.broker_runtime_info(&addr).await {
            Ok(t) => {
                let text = |k: &str| t.get(k).cloned();
                // "putTps" is "10s 60s 600s" averages: the first is the latest.
                let tps = |k: &str| {
                    t.get(k)
                        .and_then(|v| v.split_whitespace().next())
                        .and_then(|v| v.parse::<f64>().ok())
                };
                row["role"] = json!(text("brokerRole"));
                row["version"] = json!(text("brokerVersionDesc"));
                row["putTps"] = json!(tps("putTps"));
                row["getTps"] = json!(tps("getTransferredTps").or_else(|| tps("getTransferedTps")));
                row["diskRatio"] =
                    json!(text("commitLogDiskRatio").and_then(|v| v.parse::<f64>().ok()));
                row["runtime"] = json!(text("runtime"));
            }
            Err(e) => row["error"] = json!(e.to_string()),
        }
        if let Ok(config) = admin.broker_config(&addr).await {
            // Apache's runtime info has no role before 5.x: its config does.
            if row["role"].is_null() {
                row["role"] = json!(config.get("brokerRole"));
            }
            controller_figures(&console, &addr, &broker_name, &config, &mut row).await;
        }
        out.push(row);
    }
    Ok(Json(json!({ "brokers": out })))
}

/// Epoch and SyncStateSet, for a broker in controller mode (its config names the controllers).
async fn controller_figures(
    console: &Console,
    addr: &str,
    name: &str,
    config: &BTreeMap<String, String>,
    row: &mut Value,
) {
    let admin = console.admin();
    if config.get("enableControllerMode").map(String::as_str) != Some("true") {
        return;
    }
    if let Ok(cache) = admin.broker_epoch_cache(addr).await {
        row["epoch"] = json!(cache.epoch_list.last().map(|e| e.epoch));
    }
    let Some(controllers) = config.get("controllerAddr") else {
        return;
    };
    if let Ok(info) = admin.sync_state_data(controllers, &[name.to_owned()]).await {
        if let Some(r) = info.replicas_info_table.get(name) {
            let ids: Vec<i64> = r.in_sync_replicas.iter().map(|m| m.broker_id).collect();
            row["syncStateSet"] = json!(ids);
            row["masterBrokerId"] = json!(r.master_broker_id);
        }
    }
}

#[derive(Deserialize)]
pub struct AddrQuery {
    addr: String,
}

pub async fn broker_config(
    State(console): State<Arc<Console>>,
    Query(q): Query<AddrQuery>,
) -> ApiResult<Json<Value>> {
    let addr = non_empty("addr", &q.addr)?;
    let config = console.admin().broker_config(addr).await?;
    Ok(Json(json!({ "config": config })))
}

#[derive(Deserialize)]
pub struct ConfigChange {
    addr: String,
    changes: BTreeMap<String, String>,
}

pub async fn update_broker_config(
    State(console): State<Arc<Console>>,
    Json(c): Json<ConfigChange>,
) -> ApiResult<Json<Value>> {
    let addr = non_empty("addr", &c.addr)?;
    if c.changes.is_empty() {
        return Err(ApiError::bad("changes", "nothing to change"));
    }
    if let Some(k) = c
        .changes
        .keys()
        .find(|k| k.trim().is_empty() || k.contains(['=', '\n']))
    {
        return Err(ApiError::bad(
            "changes",
            format!("{k:?} is not a config key"),
        ));
    }
    console
        .admin()
        .update_broker_config(addr, &c.changes)
        .await?;
    Ok(Json(json!({ "ok": true })))
}

pub async fn namesrv(State(console): State<Arc<Console>>) -> Json<Value> {
    Json(json!({
        "current": console.admin().name_server_list(),
        "list": console.known_namesrvs(),
    }))
}

#[derive(Deserialize)]
pub struct Switch {
    addr: String,
}

pub async fn switch_namesrv(
    State(console): State<Arc<Console>>,
    Json(s): Json<Switch>,
) -> ApiResult<Json<Value>> {
    let addr = non_empty("addr", &s.addr)?;
    if split_list(addr).any(|a| a.parse::<std::net::SocketAddr>().is_err() && !a.contains(':')) {
        return Err(ApiError::bad(
            "addr",
            format!("{addr:?} is not host:port[;host:port]"),
        ));
    }
    console.switch_namesrv(addr).await?;
    Ok(namesrv(State(console)).await)
}
