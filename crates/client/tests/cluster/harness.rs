//! An in-process cluster for the client's tests: name servers and brokers on 127.0.0.1 port 0
//! with temporary stores, spoken to over real TCP. Intervals are shortened so that rebalances
//! and heartbeats happen within a test's patience.
//!
//! External mode: with `RMQ_TEST_NAMESRV=host:port` set, [`Cluster::start`] starts nothing and
//! uses the cluster behind that name server instead (Apache RocketMQ's own daemons, in
//! `.ci/apache-interop.sh`). The cluster is `RMQ_TEST_CLUSTER` (default `DefaultCluster`). A test
//! that needs what an external cluster cannot give fails with the reason instead of passing
//! vacuously: a different number of masters, broker config it did not start with (checked with
//! GET_BROKER_CONFIG), a broker restart, or a topic that already exists (tests share the cluster,
//! so each must use topics of its own).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use rmq_broker::{Broker, BrokerStartupConfig};
use rmq_client::{
    Admin, ConsumeConcurrentlyStatus, ConsumeFrom, MessageExt, Producer, PushConsumerBuilder,
    TopicConfig, TopicTarget,
};
use rmq_namesrv::{NamesrvConfig, NamesrvHandle};
use tempfile::TempDir;
use tokio::net::TcpListener;

pub const FAST: Duration = Duration::from_millis(500);

pub struct Cluster {
    /// The cluster the brokers belong to (`TestCluster` in process).
    pub name: String,
    /// True when the cluster is not ours (external mode): nothing to restart or shut down.
    pub external: bool,
    pub namesrv: Option<NamesrvHandle>,
    pub ns_addr: String,
    pub brokers: Vec<Option<Broker>>,
    pub broker_addrs: Vec<String>,
    pub dir: TempDir,
    /// The extra broker config every broker started with (a restart reuses it).
    pub extra: Vec<(String, String)>,
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
    start_broker_at(dir, name, ns_addr, extra, "127.0.0.1:0").await
}

/// Starts a broker listening on `bind` (a restart binds the address it had before).
pub async fn start_broker_at(
    dir: &std::path::Path,
    name: &str,
    ns_addr: &str,
    extra: &[(&str, &str)],
    bind: &str,
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
    let mut tries = 0;
    let listener = loop {
        match TcpListener::bind(bind).await {
            Ok(l) => break l,
            Err(e) if tries < 50 => {
                tries += 1;
                tracing::debug!(bind, error = %e, "port still taken; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot bind {bind}: {e}"),
        }
    };
    Broker::start(cfg, listener).await.unwrap()
}

impl Cluster {
    /// One name server and `brokers` masters named broker-a, broker-b, ...
    pub async fn start(brokers: usize, extra: &[(&str, &str)]) -> Cluster {
        if let Ok(ns_addr) = std::env::var("RMQ_TEST_NAMESRV") {
            return Cluster::external(ns_addr, brokers, extra).await;
        }
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
            name: "TestCluster".into(),
            external: false,
            namesrv: Some(ns),
            ns_addr,
            brokers: list,
            broker_addrs: addrs,
            dir,
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        c.wait_registered(brokers).await;
        c
    }

    /// The cluster behind `ns_addr` (external mode), checked against what the test needs.
    async fn external(ns_addr: String, brokers: usize, extra: &[(&str, &str)]) -> Cluster {
        let name = std::env::var("RMQ_TEST_CLUSTER").unwrap_or_else(|_| "DefaultCluster".into());
        let admin = Admin::builder()
            .name_server(&ns_addr)
            .build()
            .await
            .unwrap();
        let masters = admin
            .cluster_masters(&name)
            .await
            .unwrap_or_else(|e| panic!("external cluster {name} at {ns_addr}: {e}"));
        assert_eq!(
            masters.len(),
            brokers,
            "this test needs {brokers} master(s); external cluster {name} has {masters:?}"
        );
        for m in &masters {
            let config = admin.broker_config(&m.addr).await.unwrap();
            for (key, want) in extra {
                let have = config.get(*key).map(|v| v.trim());
                assert_eq!(
                    have,
                    Some(want.trim()),
                    "this test needs {key}={want} on every broker; external broker {} has {have:?}",
                    m.broker_name
                );
            }
        }
        admin.shutdown().await;
        Cluster {
            name,
            external: true,
            namesrv: None,
            ns_addr,
            brokers: Vec::new(),
            broker_addrs: masters.into_iter().map(|m| m.addr).collect(),
            dir: tempfile::tempdir().unwrap(),
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
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
        Admin::builder()
            .name_server(&self.ns_addr)
            .build()
            .await
            .unwrap()
    }

    /// Creates `topic` with `queues` queues on every broker and waits for its route.
    pub async fn create_topic(&self, topic: &str, queues: i32) {
        let admin = self.admin().await;
        if self.external {
            assert!(
                admin.topic_route(topic).await.is_err(),
                "topic {topic} already exists on the external cluster: tests sharing a cluster \
                 need topics of their own"
            );
        }
        admin
            .create_topic(
                TopicTarget::Cluster(self.name.clone()),
                &TopicConfig::new(topic, queues, queues, 6),
            )
            .await
            .unwrap();
        for _ in 0..100 {
            if let Ok(r) = admin.topic_route(topic).await {
                if r.queue_datas.len() == self.broker_addrs.len() {
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
            .await
            .unwrap();
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
        assert!(
            !self.external,
            "this test stops a broker: not on an external cluster"
        );
        if let Some(b) = self.brokers[i].take() {
            b.shutdown().await;
        }
    }

    /// Shuts broker `i` down (if running) and starts it again on the same store and address:
    /// what it had stored, pending delays included, must survive.
    pub async fn restart_broker(&mut self, i: usize) {
        assert!(
            !self.external,
            "this test restarts a broker: not on an external cluster"
        );
        self.shutdown_broker(i).await;
        let name = format!("broker-{}", (b'a' + i as u8) as char);
        let extra: Vec<(&str, &str)> = self
            .extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let b = start_broker_at(
            self.dir.path(),
            &name,
            &self.ns_addr,
            &extra,
            &self.broker_addrs[i],
        )
        .await;
        self.brokers[i] = Some(b);
        self.wait_registered(self.brokers.len()).await;
    }

    pub async fn shutdown(mut self) {
        if self.external {
            return;
        }
        for i in 0..self.brokers.len() {
            self.shutdown_broker(i).await;
        }
        if let Some(ns) = self.namesrv.take() {
            ns.shutdown().await;
        }
    }
}

/// Consumes `topic` with a fresh push consumer of `group` from its first offset until `want`
/// messages arrived or `limit` passed; returns what arrived.
pub async fn drain(
    cluster: &Cluster,
    group: &str,
    topic: &str,
    want: usize,
    limit: Duration,
) -> Vec<MessageExt> {
    let got: Arc<Mutex<Vec<MessageExt>>> = Arc::default();
    let sink = got.clone();
    let consumer = cluster
        .consumer(group)
        .subscribe(topic, "*")
        .listener_concurrently(move |msgs| {
            sink.lock().extend(msgs.iter().cloned());
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap();
    eventually(limit, || got.lock().len() >= want).await;
    consumer.shutdown().await;
    let out = got.lock().clone();
    out
}

/// Reads `%DLQ%<group>` (one queue, on `broker`) with a pull consumer from its first offset.
///
/// It reaches the broker through the route of `known_topic` (a topic on the same broker)
/// because the name server does not learn a DLQ topic created by a send-back until the
/// broker's next periodic registration (see `retry::dlq_route_is_announced_at_once`).
pub async fn pull_dlq(
    cluster: &Cluster,
    group: &str,
    broker: &str,
    known_topic: &str,
    want: usize,
    limit: Duration,
) -> Vec<MessageExt> {
    let pull = rmq_client::PullConsumer::builder()
        .group(format!("{group}-dlq-reader"))
        .name_server(&cluster.ns_addr)
        .consume_from(ConsumeFrom::FirstOffset)
        .build()
        .await
        .unwrap();
    pull.fetch_queues(known_topic).await.unwrap();
    pull.assign([rmq_client::MessageQueue::new(
        format!("%DLQ%{group}"),
        broker,
        0,
    )]);
    let deadline = tokio::time::Instant::now() + limit;
    let mut out = Vec::new();
    while out.len() < want && tokio::time::Instant::now() < deadline {
        out.extend(pull.poll(Duration::from_millis(500)).await.unwrap());
    }
    pull.shutdown().await;
    out
}

/// Milliseconds since the epoch (the clock brokers stamp messages with).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
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

/// How long [`until`] polls before failing the test.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `f` until it returns `Some`, failing the test after [`PATIENCE`].
pub async fn until<T, F, Fut>(what: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    crate::poll::until_within(PATIENCE, what, f).await
}
