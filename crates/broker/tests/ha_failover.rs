//! The synchronous double-write mode end to end with the real binaries and `rmq_client`:
//! `deploy/conf/2m-2s-sync` brokers with SYNC_FLUSH, a producer sending 50,000 messages, a push
//! consumer reading them, and master-a SIGKILLed mid-stream. Every message acknowledged SEND_OK
//! must be consumed (from slave-a while master-a is down), consumption must resume from the
//! slave within 5 s of the kill, sends must go on through broker-b, and once master-a is back
//! writes return to it.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_client::{
    ConsumeConcurrentlyStatus, ConsumeFrom, Message, Producer, PushConsumer, SendStatus,
};
use rmq_remoting::body::TopicConfigSerializeWrapper;
use rmq_remoting::json::JsonBody;
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode, ResponseCode};
use rmq_testkit::Daemon;

mod common;

use common::cluster::{
    broker_process, create_topic, namesrv_process, route, shipped_conf, wait_until,
};

const TOPIC: &str = "HaSyncTopic";
const TOTAL: usize = 50_000;

struct Node {
    port: u16,
    conf: PathBuf,
}

fn node(dir: &Path, name: &str) -> Node {
    let (conf, port) = shipped_conf(
        dir,
        "2m-2s-sync",
        name,
        "flushDiskType=SYNC_FLUSH\nregisterNameServerPeriod=10000",
    );
    Node { port, conf }
}

fn start_broker(dir: &Path, n: &Node, ns: &str, log_name: &str) -> Daemon {
    broker_process(dir, log_name, &n.conf, ns, n.port)
}

/// (broker name, broker id) pairs in the route.
async fn members(c: &RemotingClient, ns: &str) -> HashSet<(String, i64)> {
    route(c, ns, TOPIC)
        .await
        .map(|r| {
            r.broker_datas
                .iter()
                .flat_map(|b| {
                    b.broker_addrs
                        .keys()
                        .map(move |id| (b.broker_name.clone(), *id))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the broker at `addr` has [`TOPIC`] among its topic configs.
async fn has_topic(c: &RemotingClient, addr: &str) -> bool {
    let req = RemotingCommand::new_request(RequestCode::GetAllTopicConfig);
    match c.invoke(addr, req, Duration::from_secs(3)).await {
        Ok(resp) if resp.response_code() == ResponseCode::Success => {
            TopicConfigSerializeWrapper::from_json_bytes(&resp.body)
                .is_ok_and(|w| w.topic_config_table.contains_key(TOPIC))
        }
        _ => false,
    }
}

/// Sends `ids` with 32 in flight; returns (id, broker name) of every SEND_OK.
async fn send_all(p: &Producer, ids: std::ops::Range<usize>) -> Vec<(String, String)> {
    send_all_stored(p, ids)
        .await
        .into_iter()
        .filter(|(_, _, ok)| *ok)
        .map(|(id, b, _)| (id, b))
        .collect()
}

/// Sends `ids` with 32 in flight; returns (id, broker name, SEND_OK?) of every stored message
/// (a SYNC_MASTER whose slave has not reconnected yet stores it but answers SLAVE_NOT_AVAILABLE).
async fn send_all_stored(p: &Producer, ids: std::ops::Range<usize>) -> Vec<(String, String, bool)> {
    let ids: Vec<usize> = ids.collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(32) {
        let sends = chunk.iter().map(|i| {
            let msg =
                Message::new(TOPIC, format!("m{i}").into_bytes()).with_keys([format!("k{i}")]);
            p.send(msg)
        });
        for r in futures::future::join_all(sends).await.into_iter().flatten() {
            let ok = r.status == SendStatus::SendOk;
            out.push((r.msg_id.clone(), r.message_queue.broker_name.clone(), ok));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_double_write_survives_a_master_kill() {
    let dir = rmq_testkit::test_dir("rmq-ha-sync");
    let dir = dir.path();
    let (_ns_daemon, ns) = namesrv_process(dir, "namesrv");
    let (a, a_s, b, b_s) = (
        node(dir, "broker-a"),
        node(dir, "broker-a-s"),
        node(dir, "broker-b"),
        node(dir, "broker-b-s"),
    );
    let master_a = start_broker(dir, &a, &ns, "broker-a");
    let _slave_a = start_broker(dir, &a_s, &ns, "broker-a-s");
    let _master_b = start_broker(dir, &b, &ns, "broker-b");
    let _slave_b = start_broker(dir, &b_s, &ns, "broker-b-s");
    let c = RemotingClient::new(ClientConfig::default());
    for m in [&a, &b] {
        create_topic(&c, &format!("127.0.0.1:{}", m.port), TOPIC, 4).await;
    }
    wait_until(
        "all four brokers in the route",
        Duration::from_secs(20),
        || async { members(&c, &ns).await.len() == 4 },
    )
    .await;
    // The slaves serve the topic once they have copied the master's topic configs.
    for slave in [&a_s, &b_s] {
        let addr = format!("127.0.0.1:{}", slave.port);
        wait_until(
            "the slave copied the topic from its master",
            Duration::from_secs(20),
            || async { has_topic(&c, &addr).await },
        )
        .await;
    }

    let fast = Duration::from_millis(500);
    let producer = Producer::builder()
        .group("HaProducer")
        .name_server(&ns)
        .route_poll_interval(fast)
        .build()
        .await
        .unwrap();

    // Phase 1: 40% of the messages before any consumer runs.
    let mut acked = send_all(&producer, 0..TOTAL * 2 / 5).await;

    // A consumer works through that backlog, throttled (one listener thread, 1 ms a message)
    // so that much of broker-a's share is still unread when master-a dies. It caches at most
    // 100 messages per queue, so anything from broker-a beyond what it had received plus that
    // cache must come from slave-a while master-a is down.
    const CACHE: usize = 100;
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let from_a: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let throttle = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let a_port = a.port;
    let consumer = {
        let (seen, from_a, throttle) = (seen.clone(), from_a.clone(), throttle.clone());
        PushConsumer::builder()
            .group("HaConsumer")
            .name_server(&ns)
            .subscribe(TOPIC, "*")
            .consume_from(ConsumeFrom::FirstOffset)
            .consume_thread_nums(1)
            .pull_threshold_for_queue(CACHE)
            .heartbeat_interval(fast)
            .rebalance_interval(fast)
            .persist_offset_interval(fast)
            .route_poll_interval(fast)
            .pull_error_delay(Duration::from_millis(200))
            .listener_concurrently(move |msgs| {
                if throttle.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(msgs.len() as u64));
                }
                let now = Instant::now();
                let mut s = seen.lock();
                for m in msgs {
                    if s.insert(m.msg_id(), now).is_none() && m.store_host.port() == a_port {
                        from_a.lock().push(now);
                    }
                }
                ConsumeConcurrentlyStatus::ConsumeSuccess
            })
            .build()
            .await
            .unwrap()
    };
    wait_until(
        "the consumer under way",
        Duration::from_secs(20),
        || async { seen.lock().len() >= 500 },
    )
    .await;

    // Master-a dies while sends are in flight.
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let t = Instant::now();
        master_a.kill().unwrap();
        t
    });
    acked.extend(send_all(&producer, TOTAL * 2 / 5..TOTAL * 7 / 10).await);
    let killed = killer.await.unwrap();
    let a_before = from_a.lock().iter().filter(|t| **t <= killed).count();
    throttle.store(false, std::sync::atomic::Ordering::Relaxed);
    let a_acked = acked.iter().filter(|(_, b)| b == "broker-a").count();
    assert!(
        a_acked > a_before + 4 * CACHE + 200,
        "the test needs a backlog on broker-a at the kill: {a_acked} acked, {a_before} read"
    );

    // Reads resume from slave-a within 5 s of the kill: more broker-a messages arrive than the
    // consumer could have held before it.
    wait_until(
        "consumption from slave-a",
        Duration::from_secs(20),
        || async { from_a.lock().len() > a_before + 4 * CACHE + 4 * 32 },
    )
    .await;
    let resumed = from_a.lock()[a_before + 4 * CACHE + 4 * 32].duration_since(killed);
    assert!(
        resumed <= Duration::from_secs(5),
        "consumption resumed from slave-a after {resumed:?}"
    );
    // Everything broker-a acknowledged before dying is read from slave-a.
    let a_ids: Vec<String> = acked
        .iter()
        .filter(|(_, b)| b == "broker-a")
        .map(|(id, _)| id.clone())
        .collect();
    wait_until(
        "broker-a's acknowledged messages read from slave-a",
        Duration::from_secs(60),
        || async {
            let s = seen.lock();
            a_ids.iter().all(|id| s.contains_key(id))
        },
    )
    .await;

    // Phase 2: sends after the kill all land on broker-b.
    let phase2 = send_all(&producer, TOTAL * 7 / 10..TOTAL * 8 / 10).await;
    assert_eq!(
        phase2.len(),
        TOTAL / 10,
        "every send after the kill succeeds"
    );
    assert!(
        phase2.iter().all(|(_, b)| b == "broker-b"),
        "writes move to broker-b"
    );
    acked.extend(phase2);

    // master-a comes back: writes return to it.
    let _master_a = start_broker(dir, &a, &ns, "broker-a-restarted");
    wait_until(
        "master-a back in the route",
        Duration::from_secs(20),
        || async { members(&c, &ns).await.contains(&("broker-a".to_owned(), 0)) },
    )
    .await;
    // Its queues are writable in the route: the producer (polling the route every 500 ms)
    // moves writes to it during phase 3, which lasts many polls.
    wait_until(
        "broker-a's queues writable in the route",
        Duration::from_secs(20),
        || async {
            route(&c, &ns, TOPIC).await.is_some_and(|r| {
                r.queue_datas
                    .iter()
                    .any(|q| q.broker_name == "broker-a" && q.perm & rmq_common::perm::WRITE != 0)
            })
        },
    )
    .await;
    let phase3 = send_all_stored(&producer, TOTAL * 8 / 10..TOTAL).await;
    assert!(
        phase3.iter().any(|(_, b, _)| b == "broker-a"),
        "writes return to master-a"
    );
    acked.extend(
        phase3
            .into_iter()
            .filter(|(_, _, ok)| *ok)
            .map(|(id, b, _)| (id, b)),
    );

    // Nothing acknowledged is lost or stuck.
    let want: HashSet<String> = acked.iter().map(|(id, _)| id.clone()).collect();
    assert!(
        want.len() >= TOTAL * 9 / 10,
        "only {} of {TOTAL} sends acknowledged",
        want.len()
    );
    wait_until(
        "every acknowledged message consumed",
        Duration::from_secs(60),
        || async {
            let s = seen.lock();
            want.iter().all(|id| s.contains_key(id))
        },
    )
    .await;
    consumer.shutdown().await;
    producer.shutdown().await;
}
