//! Mixed clusters: rmq's daemons and Apache RocketMQ's own in one cluster, the way an operator
//! swaps them one at a time. Each test starts real processes (rmq's binaries from this build,
//! Apache's jars from Maven Central through `interop/apache/daemons.sh`) and passes the same
//! check: producers of both kinds (rmq_client and the official Java client) send to one topic,
//! consumers of both kinds each receive every message exactly once.
//!
//! The tests need Java, Maven's cache and Apache's jars, so `cargo test` lists them as ignored;
//! `.ci/apache-interop.sh` runs them for each Apache version:
//!
//! ```text
//! RMQ_APACHE_VERSION=5.5.0 RMQ_JAVA_CP=... cargo test -p rmq-client --test mixed -- --ignored
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apache;
mod compressed;
mod failover;
mod java;
#[path = "../support/until.rs"]
mod poll;
mod request_reply;
mod trace;
mod traffic;

use rmq_testkit::{broker_process, free_port, namesrv_process, test_dir};

use apache::Apache;
use traffic::{admin, both_kinds, create_topic, until, EACH};

/// An rmq broker registered with Apache's name server, beside an Apache broker: one topic over
/// both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Java and Apache's daemons: run .ci/apache-interop.sh"]
async fn rmq_broker_with_apache_name_server() {
    let dir = test_dir("mixed-ns-apache");
    let ns = Apache::namesrv(dir.path(), free_port());
    let a = Apache::broker(dir.path(), &ns.addr, free_port(), "brokerName=broker-a");
    let (_b, b_addr) = broker_process(dir.path(), "broker-b", &ns.addr, "").unwrap();
    let topic = "MixedApacheNamesrv";
    create_topic(&ns.addr, topic, 2).await;
    both_kinds(
        &ns.addr,
        topic,
        &["broker-a", "broker-b"],
        &[&a.addr, &b_addr],
    )
    .await;
}

/// An Apache broker registered with rmq's name server, beside an rmq broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Java and Apache's daemons: run .ci/apache-interop.sh"]
async fn apache_broker_with_rmq_name_server() {
    let dir = test_dir("mixed-ns-rmq");
    let (_ns, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let (_a, a_addr) = broker_process(dir.path(), "broker-a", &ns, "").unwrap();
    let b = Apache::broker(dir.path(), &ns, free_port(), "brokerName=broker-b");
    let topic = "MixedRmqNamesrv";
    create_topic(&ns, topic, 2).await;
    both_kinds(&ns, topic, &["broker-a", "broker-b"], &[&a_addr, &b.addr]).await;
}

/// Waits until the slave at `slave` has the topic and all `2 * EACH` of its messages.
async fn slave_caught_up(namesrv: &str, slave: &str, topic: &str) {
    let admin = admin(namesrv).await;
    until(
        &format!("slave {slave} holding every message of {topic}"),
        || async {
            let stats = admin.topic_stats(slave, topic).await.ok()?;
            let stored: i64 = stats.offset_table.values().map(|o| o.max_offset).sum();
            (stored == 2 * EACH as i64).then_some(())
        },
    )
    .await;
    admin.shutdown().await;
}

/// Classic HA across implementations: an rmq slave replicates an Apache master; once the
/// master is killed, both kinds of consumer read everything from the rmq slave. Master and
/// slave need the same CommitLog file size (rmq's test brokers use 16 MiB), as in Apache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Java and Apache's daemons: run .ci/apache-interop.sh"]
async fn rmq_slave_of_an_apache_master() {
    let dir = test_dir("mixed-ha-rmq-slave");
    let ns = Apache::namesrv(dir.path(), free_port());
    let master = Apache::broker(
        dir.path(),
        &ns.addr,
        free_port(),
        "brokerName=broker-a\nbrokerRole=ASYNC_MASTER\nmappedFileSizeCommitLog=16777216",
    );
    let (_slave, slave) = broker_process(
        dir.path(),
        "broker-a",
        &ns.addr,
        "brokerId=1\nbrokerRole=SLAVE",
    )
    .unwrap();
    let topic = "MixedRmqSlave";
    create_topic(&ns.addr, topic, 1).await;
    replicate_then_lose_master(&ns.addr, topic, &slave, &master.addr, || master.kill()).await;
}

/// Classic HA the other way: an Apache slave replicates an rmq master.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Java and Apache's daemons: run .ci/apache-interop.sh"]
async fn apache_slave_of_an_rmq_master() {
    let dir = test_dir("mixed-ha-apache-slave");
    let (_ns, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let (master, master_addr) =
        broker_process(dir.path(), "broker-a", &ns, "brokerRole=ASYNC_MASTER").unwrap();
    // Apache's 5.x slaves refuse every pull ("[REJECTREQUEST]system busy") unless
    // slaveReadEnable is on, even with the master gone; 4.x ones serve them anyway.
    let slave = Apache::broker(
        dir.path(),
        &ns,
        free_port(),
        "brokerName=broker-a\nbrokerId=1\nbrokerRole=SLAVE\nmappedFileSizeCommitLog=16777216\n\
         slaveReadEnable=true",
    );
    let topic = "MixedApacheSlave";
    create_topic(&ns, topic, 1).await;
    let mut master = Some(master);
    replicate_then_lose_master(&ns, topic, &slave.addr, &master_addr, || {
        if let Some(m) = master.take() {
            m.kill().unwrap();
        }
    })
    .await;
}

/// Both kinds of producer send to the master, the slave catches up, the master is killed, and
/// both kinds of consumer read every message from the slave (each stored by the master).
async fn replicate_then_lose_master(
    namesrv: &str,
    topic: &str,
    slave: &str,
    master: &str,
    kill_master: impl FnOnce(),
) {
    let by_rust = traffic::rmq_produce(namesrv, topic, "rust").await;
    let by_java = java::produce(namesrv, topic, EACH, "java").await;
    assert!(by_rust.iter().chain(&by_java).all(|b| b == "broker-a"));
    slave_caught_up(namesrv, slave, topic).await;
    kill_master();
    let admin = admin(namesrv).await;
    until(
        "the name server routing broker-a to its slave only",
        || async {
            let r = admin.topic_route(topic).await.ok()?;
            let b = r
                .broker_datas
                .iter()
                .find(|b| b.broker_name == "broker-a")?;
            (!b.broker_addrs.contains_key(&0)).then_some(())
        },
    )
    .await;
    admin.shutdown().await;
    let (rust_group, java_group) = (format!("CG-rust-{topic}"), format!("CG-java-{topic}"));
    let (by_rmq, by_java) = tokio::join!(
        traffic::rmq_consume(namesrv, &rust_group, topic, 2 * EACH),
        java::consume(namesrv, &java_group, topic, 2 * EACH)
    );
    for (who, got) in [("rmq_client", &by_rmq), ("Java", &by_java)] {
        assert_eq!(got.len(), 2 * EACH, "{who} consumer: {got:?}");
        assert!(
            got.values().all(|(host, n)| host == master && *n == 1),
            "{who} consumer: each once, stored by the master {master}: {got:?}"
        );
    }
}
