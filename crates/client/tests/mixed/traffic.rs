//! The check every mixed cluster must pass: producers of both kinds (rmq_client and the official
//! Java client) send to one topic, consumers of both kinds each receive every message once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{
    Admin, ConsumeConcurrentlyStatus, ConsumeFrom, Message, Producer, PushConsumer, TopicConfig,
    TopicTarget,
};

use crate::java;

/// Messages each kind of producer sends.
pub const EACH: usize = 20;

/// How long a fact may take before the check fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `f` until it returns `Some`, failing after [`PATIENCE`].
pub async fn until<T, Fut: std::future::Future<Output = Option<T>>>(
    what: &str,
    f: impl FnMut() -> Fut,
) -> T {
    crate::poll::until_within(PATIENCE, what, f).await
}

/// Client logs on stderr at the `RUST_LOG` level (none without it), for a failing check.
pub fn logs() {
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
}

pub async fn admin(namesrv: &str) -> Admin {
    Admin::builder().name_server(namesrv).build().await.unwrap()
}

/// Creates `topic` (4 queues) on every master of DefaultCluster and waits until the name server
/// routes it to `brokers` broker names.
pub async fn create_topic(namesrv: &str, topic: &str, brokers: usize) {
    logs();
    let admin = admin(namesrv).await;
    // A broker that listens has not always registered yet: a topic created on the cluster
    // before it has would miss it.
    until(&format!("{brokers} masters in DefaultCluster"), || async {
        let masters = admin.cluster_masters("DefaultCluster").await.ok()?;
        (masters.len() == brokers).then_some(())
    })
    .await;
    admin
        .create_topic(
            TopicTarget::Cluster("DefaultCluster".into()),
            &TopicConfig::new(topic, 4, 4, 6),
        )
        .await
        .unwrap();
    until(&format!("{topic} routed to {brokers} brokers"), || async {
        let r = admin.topic_route(topic).await.ok()?;
        (r.queue_datas.len() == brokers).then_some(())
    })
    .await;
    admin.shutdown().await;
}

/// Sends `EACH` messages `prefix-i` with rmq_client; returns the broker name each went to.
pub async fn rmq_produce(namesrv: &str, topic: &str, prefix: &str) -> Vec<String> {
    let p = Producer::builder()
        .group("PG-rust-mixed")
        .name_server(namesrv)
        .build()
        .await
        .unwrap();
    let mut brokers = Vec::new();
    for i in 0..EACH {
        let r = p
            .send(Message::new(topic, format!("{prefix}-{i}")).with_tags("mixed"))
            .await
            .unwrap();
        brokers.push(r.message_queue.broker_name);
    }
    p.shutdown().await;
    brokers
}

/// What an rmq_client push consumer of `group` received (body -> (store host, deliveries))
/// once `expected` distinct bodies arrived.
pub async fn rmq_consume(
    namesrv: &str,
    group: &str,
    topic: &str,
    expected: usize,
) -> BTreeMap<String, (String, usize)> {
    let got: Arc<Mutex<BTreeMap<String, (String, usize)>>> = Arc::default();
    let sink = got.clone();
    let consumer = PushConsumer::builder()
        .group(group)
        .name_server(namesrv)
        .consume_from(ConsumeFrom::FirstOffset)
        .rebalance_interval(Duration::from_millis(500))
        .subscribe(topic, "*")
        .listener_concurrently(move |msgs| {
            let mut g = sink.lock();
            for m in msgs {
                let body = String::from_utf8_lossy(&m.body).into_owned();
                let e = g.entry(body).or_insert((m.store_host.to_string(), 0));
                e.1 += 1;
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap();
    until(
        &format!("{expected} messages of {topic} in {group}"),
        || {
            let n = got.lock().len();
            async move { (n >= expected).then_some(()) }
        },
    )
    .await;
    consumer.shutdown().await;
    let out = got.lock().clone();
    out
}

/// Every body of both producers, exactly once, and from which stores they came.
fn assert_all_once(who: &str, got: &BTreeMap<String, (String, usize)>) -> BTreeSet<String> {
    let want: BTreeSet<String> = (0..EACH)
        .flat_map(|i| [format!("rust-{i}"), format!("java-{i}")])
        .collect();
    let have: BTreeSet<String> = got.keys().cloned().collect();
    assert_eq!(have, want, "{who}: bodies received");
    let dups: Vec<_> = got.iter().filter(|(_, (_, n))| *n != 1).collect();
    assert!(dups.is_empty(), "{who}: delivered more than once: {dups:?}");
    got.values().map(|(host, _)| host.clone()).collect()
}

/// Both kinds of producer send to `topic`, both kinds of consumer read it all. `brokers` are
/// the broker names the topic's queues are on, `stores` the addresses messages must come from.
pub async fn both_kinds(namesrv: &str, topic: &str, brokers: &[&str], stores: &[&str]) {
    let by_rust = rmq_produce(namesrv, topic, "rust").await;
    let by_java = java::produce(namesrv, topic, EACH, "java").await;
    let brokers: BTreeSet<String> = brokers.iter().map(|b| b.to_string()).collect();
    for (who, sent) in [("rmq_client", &by_rust), ("Java client", &by_java)] {
        let used: BTreeSet<String> = sent.iter().cloned().collect();
        assert_eq!(used, brokers, "{who} producer: brokers it sent to");
    }
    let rust_group = format!("CG-rust-{topic}");
    let java_group = format!("CG-java-{topic}");
    let (by_rmq, by_java) = tokio::join!(
        rmq_consume(namesrv, &rust_group, topic, 2 * EACH),
        java::consume(namesrv, &java_group, topic, 2 * EACH)
    );
    let stores: BTreeSet<String> = stores.iter().map(|s| s.to_string()).collect();
    assert_eq!(assert_all_once("rmq_client consumer", &by_rmq), stores);
    assert_eq!(assert_all_once("Java consumer", &by_java), stores);
}
