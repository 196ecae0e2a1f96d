//! Controller mode under a network fault a machine really has: each broker in its own network
//! namespace with its own address (`rmq_testkit::netns`), the controllers and the name server
//! on the bridge, four producers (SYNC sends, `allAckInSyncStateSet=true`) and two consumers.
//!
//! The master is cut off from everyone, not killed: it must stop taking writes on its own
//! (fenced), the controllers elect its in-sync slave (a clean election), the producers follow
//! the new master, and once the network is back the old master cuts away what it stored alone
//! and rejoins as a slave with exactly the new master's log. Every SEND_OK message is consumed
//! from the new master, each queue offset holding one message.
//!
//! Needs root (network namespaces); it fails, never skips, without.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/until.rs"]
mod poll;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_client::{
    Admin, ConsumeConcurrentlyStatus, ConsumeFrom, Message, Producer, PushConsumer, SendStatus,
    TopicConfig, TopicTarget,
};
use rmq_testkit::netns::Net;
use rmq_testkit::{binary, controller_group_at, namesrv_process, test_dir};

const TOPIC: &str = "NetFaultTopic";
const PORT: u16 = 10911;

async fn until<T, Fut: std::future::Future<Output = Option<T>>>(
    what: &str,
    f: impl FnMut() -> Fut,
) -> T {
    poll::until_within(Duration::from_secs(90), what, f).await
}

async fn master_of(admin: &Admin) -> Option<String> {
    let info = admin.cluster_info().await.ok()?;
    info.broker_addr_table
        .get("broker-a")?
        .broker_addrs
        .get(&0)
        .cloned()
}

async fn sync_state_set(admin: &Admin, controllers: &str) -> Vec<i64> {
    let Ok(info) = admin
        .sync_state_data(controllers, &["broker-a".to_owned()])
        .await
    else {
        return Vec::new();
    };
    info.replicas_info_table
        .get("broker-a")
        .map(|r| r.in_sync_replicas.iter().map(|m| m.broker_id).collect())
        .unwrap_or_default()
}

/// Per queue: (min, max) offsets of the topic on `addr`.
async fn queues(admin: &Admin, addr: &str) -> BTreeMap<i32, (i64, i64)> {
    match admin.topic_stats(addr, TOPIC).await {
        Ok(s) => s
            .offset_table
            .iter()
            .map(|(q, o)| (q.queue_id, (o.min_offset, o.max_offset)))
            .collect(),
        Err(_) => BTreeMap::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_cut_off_is_replaced_and_rejoins_without_divergence() {
    let dir = test_dir("controller-netns");
    let net = Net::new(2).expect("network namespaces for the fault test");
    let host = net.host_ip().to_string();
    let group =
        controller_group_at(dir.path(), 3, &host, "scanInactiveMasterInterval=200").unwrap();
    let controllers: Vec<String> = group.iter().map(|(_, a)| a.clone()).collect();
    let ctl = controllers.join(";");
    let (_ns_d, ns_local) = namesrv_process(dir.path(), "namesrv").unwrap();
    let ns_port = ns_local.rsplit_once(':').unwrap().1;
    let ns = format!("{host}:{ns_port}");

    let bin = binary("mqbroker").unwrap();
    let logs = dir.path().join("logs");
    let mut addrs = Vec::new();
    let mut brokers = Vec::new();
    for node in 0..2 {
        let ip = net.ip(node);
        let conf = dir.path().join(format!("broker-{node}.properties"));
        std::fs::write(
            &conf,
            format!(
                "brokerClusterName=DefaultCluster\nbrokerName=broker-a\nbrokerIP1={ip}\n\
                 listenPort={PORT}\nnamesrvAddr={ns}\nstorePathRootDir={}\n\
                 mappedFileSizeCommitLog=16777216\nmappedFileSizeConsumeQueue=1200000\n\
                 maxIndexNum=200000\nmaxHashSlotNum=20000\ngrpcServerPort=0\n\
                 enableControllerMode=true\ncontrollerAddr={ctl}\n\
                 controllerHeartBeatTimeoutMills=2000\nbrokerHeartbeatInterval=300\n\
                 syncBrokerMetadataPeriod=1000\nallAckInSyncStateSet=true\n\
                 haMaxTimeSlaveNotCatchup=60000\nslaveTimeout=1000\n",
                dir.path().join(format!("broker-{node}")).display()
            ),
        )
        .unwrap();
        let conf = conf.to_string_lossy().into_owned();
        brokers.push(
            net.spawn(node, &format!("broker-{node}"), &bin, &["-c", &conf], &logs)
                .unwrap(),
        );
        addrs.push(format!("{ip}:{PORT}"));
        // The first broker is made master before the second joins.
        if node == 0 {
            let admin = Admin::builder().name_server(&ns).build().await.unwrap();
            until("the first broker elected master", || async {
                (master_of(&admin).await.as_deref() == Some(addrs[0].as_str())).then_some(())
            })
            .await;
            admin.shutdown().await;
        }
    }
    let (a_addr, b_addr) = (addrs[0].clone(), addrs[1].clone());
    let admin = Admin::builder().name_server(&ns).build().await.unwrap();
    until("the slave in the SyncStateSet", || async {
        (sync_state_set(&admin, &ctl).await == [1, 2]).then_some(())
    })
    .await;
    admin
        .create_topic(
            TopicTarget::Broker(a_addr.clone()),
            &TopicConfig::new(TOPIC, 4, 4, 6),
        )
        .await
        .unwrap();
    until("the topic routed", || async {
        admin.topic_route(TOPIC).await.ok().map(|_| ())
    })
    .await;

    // Four producers send until told to stop, keeping what was acknowledged, and when the
    // first acknowledgement by the new master came.
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let first_on_b: Arc<Mutex<Option<Instant>>> = Arc::default();
    // Set at the cut: every acknowledgement after it comes from the new master (the old one
    // can answer nobody).
    let cut_marker: Arc<Mutex<Option<Instant>>> = Arc::default();
    let mut producers = Vec::new();
    for k in 0..4 {
        let p = Producer::builder()
            .group(format!("PG-netns-{k}"))
            .name_server(&ns)
            .send_timeout(Duration::from_secs(3))
            .build()
            .await
            .unwrap();
        let (stop, acked, first_on_b, cut_marker) = (
            stop.clone(),
            acked.clone(),
            first_on_b.clone(),
            cut_marker.clone(),
        );
        producers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Acquire) {
                let body = format!("p{k}-{i}");
                i += 1;
                if let Ok(r) = p.send(Message::new(TOPIC, body.clone())).await {
                    if r.status == SendStatus::SendOk {
                        acked.lock().insert(body);
                        if cut_marker.lock().is_some() {
                            first_on_b.lock().get_or_insert_with(Instant::now);
                        }
                    }
                }
            }
            p.shutdown().await;
        }));
    }
    until("sends acknowledged before the fault", || async {
        (acked.lock().len() >= 200).then_some(())
    })
    .await;

    net.cut(0).unwrap();
    let cut_at = Instant::now();
    *cut_marker.lock() = Some(cut_at);
    until("the slave elected master", || async {
        (master_of(&admin).await.as_deref() == Some(b_addr.as_str())).then_some(())
    })
    .await;
    let before = acked.lock().len();
    until("sends acknowledged by the new master", || async {
        (acked.lock().len() >= before + 200 && first_on_b.lock().is_some()).then_some(())
    })
    .await;
    let rto = first_on_b.lock().map(|t| t.duration_since(cut_at));
    eprintln!("master cut off -> first send acknowledged by the new master after {rto:?}");
    let fenced = brokers[0].log_text();
    assert!(
        fenced.contains("fenced"),
        "the cut-off master fenced itself"
    );

    stop.store(true, Ordering::Release);
    for p in producers {
        p.await.unwrap();
    }
    let acked = acked.lock().clone();

    net.heal(0).unwrap();
    until(
        "the old master back as a slave with the new master's log",
        || async {
            let (qa, qb) = (queues(&admin, &a_addr).await, queues(&admin, &b_addr).await);
            (!qb.is_empty() && qa == qb && sync_state_set(&admin, &ctl).await == [1, 2])
                .then_some(())
        },
    )
    .await;
    let rejoined = brokers[0].log_text();
    eprintln!(
        "old master cut its log on rejoining: {}",
        rejoined.contains("cutting it")
    );

    // Consume everything from the new master: every acknowledged send, one message per
    // queue offset.
    let at: Arc<Mutex<BTreeMap<(i32, i64), String>>> = Arc::default();
    let clash: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut consumers = Vec::new();
    for c in 0..2 {
        let (sink, clash) = (at.clone(), clash.clone());
        consumers.push(
            PushConsumer::builder()
                .group("CG-netns")
                .instance_name(format!("c{c}"))
                .name_server(&ns)
                .consume_from(ConsumeFrom::FirstOffset)
                .rebalance_interval(Duration::from_millis(500))
                .subscribe(TOPIC, "*")
                .listener_concurrently(move |msgs| {
                    let mut g = sink.lock();
                    for m in msgs {
                        let body = String::from_utf8_lossy(&m.body).into_owned();
                        if let Some(old) = g.insert((m.queue_id, m.queue_offset), body.clone()) {
                            if old != body {
                                clash.lock().push(format!(
                                    "{}/{}: {old} vs {body}",
                                    m.queue_id, m.queue_offset
                                ));
                            }
                        }
                    }
                    ConsumeConcurrentlyStatus::ConsumeSuccess
                })
                .build()
                .await
                .unwrap(),
        );
    }
    let total: i64 = queues(&admin, &b_addr)
        .await
        .values()
        .map(|(lo, hi)| hi - lo)
        .sum();
    until("every stored message consumed", || {
        let n = at.lock().len() as i64;
        async move { (n >= total).then_some(()) }
    })
    .await;
    for c in consumers {
        c.shutdown().await;
    }
    assert!(clash.lock().is_empty(), "{:?}", clash.lock());
    let consumed: BTreeMap<String, usize> = at.lock().values().fold(BTreeMap::new(), |mut m, b| {
        *m.entry(b.clone()).or_default() += 1;
        m
    });
    let lost: Vec<&String> = acked
        .iter()
        .filter(|b| !consumed.contains_key(*b))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged sends lost: {lost:?}",
        lost.len()
    );
    let twice: Vec<_> = consumed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored at two queue offsets: {twice:?}");
    eprintln!(
        "{} sends acknowledged, {} messages stored on the new master, none lost",
        acked.len(),
        consumed.len()
    );
    admin.shutdown().await;
    drop(brokers);
    drop(group);
    drop(net);
}
