//! An in-process name server and broker on 127.0.0.1 port 0 for the tools' tests, and a runner
//! for the real `mqadmin` binary against them.

#![allow(dead_code)]

use std::process::Output;
use std::time::Duration;

use rmq_broker::{Broker, BrokerStartupConfig};
use rmq_client::Admin;
use rmq_namesrv::{NamesrvConfig, NamesrvHandle};
use tempfile::TempDir;
use tokio::net::TcpListener;

pub const CLUSTER: &str = "ToolsCluster";
pub const BROKER: &str = "broker-tools";

pub struct Cluster {
    pub namesrv: Option<NamesrvHandle>,
    pub ns_addr: String,
    pub broker: Option<Broker>,
    pub broker_addr: String,
    pub dir: TempDir,
}

impl Cluster {
    pub async fn start() -> Cluster {
        Cluster::start_with(&[]).await
    }

    /// A cluster whose broker also gets `extra` (later keys win).
    pub async fn start_with(extra: &[(&str, &str)]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let config = NamesrvConfig {
            kv_config_path: dir.path().join("kvConfig.json"),
            bind_address: "127.0.0.1".into(),
            listen_port: 0,
            ..NamesrvConfig::default()
        };
        let listener = rmq_namesrv::bind(&config).await.unwrap();
        let ns = rmq_namesrv::start(config, listener).await.unwrap();
        let ns_addr = ns.local_addr().to_string();

        let mut cfg = BrokerStartupConfig::default();
        let pairs: Vec<(String, String)> = [
            (
                "storePathRootDir",
                dir.path().join("store").display().to_string(),
            ),
            ("mappedFileSizeCommitLog", (16 * 1024 * 1024).to_string()),
            ("mappedFileSizeConsumeQueue", (20 * 50_000).to_string()),
            ("maxIndexNum", "100000".into()),
            ("maxHashSlotNum", "10000".into()),
            ("brokerName", BROKER.into()),
            ("brokerClusterName", CLUSTER.into()),
            ("namesrvAddr", ns_addr.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
        let unknown = cfg.apply(&pairs).unwrap();
        assert!(unknown.is_empty(), "unknown keys {unknown:?}");
        cfg.validate().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let broker = Broker::start(cfg, listener).await.unwrap();
        let broker_addr = broker.local_addr().to_string();
        let c = Cluster {
            namesrv: Some(ns),
            ns_addr,
            broker: Some(broker),
            broker_addr,
            dir,
        };
        let admin = c.admin().await;
        let registered = eventually(Duration::from_secs(10), || {
            let admin = admin.clone();
            async move {
                admin
                    .cluster_info()
                    .await
                    .is_ok_and(|i| i.broker_addr_table.contains_key(BROKER))
            }
        })
        .await;
        assert!(registered, "the broker did not register");
        admin.shutdown().await;
        c
    }

    pub async fn admin(&self) -> Admin {
        Admin::builder()
            .name_server(&self.ns_addr)
            .build()
            .await
            .unwrap()
    }

    /// Runs `mqadmin <args> -n <this name server>`.
    pub async fn mqadmin(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-n", &self.ns_addr]);
        mqadmin(&all).await
    }

    pub async fn shutdown(mut self) {
        if let Some(b) = self.broker.take() {
            b.shutdown().await;
        }
        if let Some(ns) = self.namesrv.take() {
            ns.shutdown().await;
        }
    }
}

/// The outcome of one `mqadmin` run.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "mqadmin {:?} failed: {self:#?}",
            self.args
        );
        &self.stdout
    }

    /// Asserts success and parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("mqadmin {:?} printed no JSON ({e}): {self:#?}", self.args))
    }
}

/// Runs the `mqadmin` binary with exactly `args` (NAMESRV_ADDR unset).
pub async fn mqadmin(args: &[&str]) -> Run {
    let out: Output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_mqadmin"))
            .args(args)
            .env_remove("NAMESRV_ADDR")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("mqadmin hung")
    .expect("mqadmin did not start");
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Polls `cond` every 100 ms until it holds or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if cond().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
