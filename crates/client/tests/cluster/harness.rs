//! An in-process cluster for the client's tests: name servers and brokers on 127.0.0.1 port 0
//! with temporary stores, spoken to over real TCP. Intervals are shortened so that rebalances
//! and heartbeats happen within a test's patience.

use std::time::Duration;

use rmq_broker::{Broker, BrokerStartupConfig};
use rmq_client::{Admin, ConsumeFrom, Producer, PushConsumerBuilder, TopicConfig, TopicTarget};
use rmq_namesrv::{NamesrvConfig, NamesrvHandle};
use tempfile::TempDir;
use tokio::net::TcpListener;

pub const FAST: Duration = Duration::from_millis(500);

pub struct Cluster {
    pub namesrv: Option<NamesrvHandle>,
    pub ns_addr: String,
    pub brokers: Vec<Option<Broker>>,
    pub broker_addrs: Vec<String>,
    pub dir: TempDir,
}

pub async fn start_namesrv(dir: &std::path::Path) -> NamesrvHandle {
    let config = NamesrvConfig {
        kv_config_path: dir.join("kvConfig.json"),
        bind_address: "127.0.0.1".into(),
        listen_port: 0,
        ..NamesrvConfig::default()
    };
    let listener = rmq_namesrv::bind(&config).await.unwrap();
    rmq_namesrv::start(config, listener).await.unwrap()
}

pub async fn start_broker(
    dir: &std::path::Path,
    name: &str,
    ns_addr: &str,
    extra: &[(&str, &str)],
) -> Broker {
    let mut cfg = BrokerStartupConfig::default();
    let mut pairs: Vec<(String, String)> = vec![
        (
            "storePathRootDir".into(),
            dir.join(name).display().to_string(),
        ),
        (
            "mappedFileSizeCommitLog".into(),
            (16 * 1024 * 1024).to_string(),
        ),
        (
            "mappedFileSizeConsumeQueue".into(),
            (20 * 50_000).to_string(),
        ),
        ("maxIndexNum".into(), "100000".into()),
        ("maxHashSlotNum".into(), "10000".into()),
        ("brokerName".into(), name.into()),
        ("brokerClusterName".into(), "TestCluster".into()),
        ("namesrvAddr".into(), ns_addr.into()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let unknown = cfg.apply(&pairs).unwrap();
    assert!(unknown.is_empty(), "unknown keys {unknown:?}");
    cfg.validate().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Broker::start(cfg, listener).await.unwrap()
}

impl Cluster {
    /// One name server and `brokers` masters named broker-a, broker-b, ...
    pub async fn start(brokers: usize, extra: &[(&str, &str)]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let ns = start_namesrv(dir.path()).await;
        let ns_addr = ns.local_addr().to_string();
        let mut list = Vec::new();
        let mut addrs = Vec::new();
        for i in 0..brokers {
            let name = format!("broker-{}", (b'a' + i as u8) as char);
            let b = start_broker(dir.path(), &name, &ns_addr, extra).await;
            addrs.push(b.local_addr().to_string());
            list.push(Some(b));
        }
        let c = Cluster {
            namesrv: Some(ns),
            ns_addr,
            brokers: list,
            broker_addrs: addrs,
            dir,
        };
        c.wait_registered(brokers).await;
        c
    }

    async fn wait_registered(&self, n: usize) {
        let admin = self.admin().await;
        for _ in 0..100 {
            if let Ok(info) = admin.cluster_info().await {
                if info.broker_addr_table.len() >= n {
                    admin.shutdown().await;
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("brokers did not register");
    }

    pub async fn admin(&self) -> Admin {
        let a = Admin::builder().name_server(&self.ns_addr).build().unwrap();
        a.start().await.unwrap();
        a
    }

    /// Creates `topic` with `queues` queues on every broker and waits for its route.
    pub async fn create_topic(&self, topic: &str, queues: i32) {
        let admin = self.admin().await;
        admin
            .create_topic(
                TopicTarget::Cluster("TestCluster".into()),
                &TopicConfig::new(topic, queues, queues, 6),
            )
            .await
            .unwrap();
        for _ in 0..100 {
            if let Ok(r) = admin.topic_route(topic).await {
                if r.queue_datas.len() == self.brokers.len() {
                    admin.shutdown().await;
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("route of {topic} did not appear");
    }

    pub async fn producer(&self, group: &str) -> Producer {
        let p = Producer::builder()
            .group(group)
            .name_server(&self.ns_addr)
            .build()
            .unwrap();
        p.start().await.unwrap();
        p
    }

    /// A push consumer builder with fast intervals, consuming from the first offset.
    pub fn consumer(&self, group: &str) -> PushConsumerBuilder {
        rmq_client::PushConsumer::builder()
            .group(group)
            .name_server(&self.ns_addr)
            .heartbeat_interval(FAST)
            .rebalance_interval(FAST)
            .persist_offset_interval(FAST)
            .route_poll_interval(FAST)
            .pull_error_delay(Duration::from_millis(200))
            .consume_from(ConsumeFrom::FirstOffset)
    }

    pub async fn shutdown_broker(&mut self, i: usize) {
        if let Some(b) = self.brokers[i].take() {
            b.shutdown().await;
        }
    }

    pub async fn shutdown(mut self) {
        for i in 0..self.brokers.len() {
            self.shutdown_broker(i).await;
        }
        if let Some(ns) = self.namesrv.take() {
            ns.shutdown().await;
        }
    }
}

/// Polls `cond` every 50 ms until it holds or `limit` passes.
pub async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cond()
}
