//! Controller mode with rmq's own daemons: three `mqcontroller`s, one `mqnamesrv`, two
//! `mqbroker`s of one group with `enableControllerMode=true` and `allAckInSyncStateSet=true`.
//! The controllers make one broker master (broker id 0 on the name server) and the other its
//! slave, which replicates and joins the SyncStateSet; with the master SIGKILLed the slave is
//! elected (a clean election: it is in the set) and takes sends; every acknowledged message is
//! consumed exactly once; the old master, restarted, cuts away what it stored alone and rejoins
//! as a slave under its controller id with the same log as the new master.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/until.rs"]
mod poll;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_client::{
    Admin, ConsumeConcurrentlyStatus, ConsumeFrom, Message, Producer, PushConsumer, SendStatus,
    TopicConfig, TopicTarget,
};
use rmq_testkit::{binary, broker_process, controller_group, namesrv_process, test_dir, Daemon};

const TOPIC: &str = "ControllerModeTopic";
const EACH: usize = 20;

async fn until<T, Fut: std::future::Future<Output = Option<T>>>(
    what: &str,
    f: impl FnMut() -> Fut,
) -> T {
    poll::until_within(Duration::from_secs(60), what, f).await
}

/// broker-a's replicas as the name server lists them: broker id -> address.
async fn replicas(admin: &Admin) -> BTreeMap<i64, String> {
    let Ok(info) = admin.cluster_info().await else {
        return BTreeMap::new();
    };
    info.broker_addr_table
        .get("broker-a")
        .map(|b| b.broker_addrs.clone().into_iter().collect())
        .unwrap_or_default()
}

/// Creates the test topic on the master at `addr` and waits until the name server routes it.
async fn create_topic(admin: &Admin, addr: &str) {
    admin
        .create_topic(
            TopicTarget::Broker(addr.to_owned()),
            &TopicConfig::new(TOPIC, 2, 2, 6),
        )
        .await
        .unwrap();
    until("the topic routed", || async {
        admin.topic_route(TOPIC).await.ok().map(|_| ())
    })
    .await;
}

async fn produce(p: &Producer, prefix: &str) {
    for i in 0..EACH {
        p.send(Message::new(TOPIC, format!("{prefix}-{i}")))
            .await
            .unwrap();
    }
}

/// The CommitLog messages of the topic stored on `addr`.
async fn stored(admin: &Admin, addr: &str) -> i64 {
    match admin.topic_stats(addr, TOPIC).await {
        Ok(s) => s.offset_table.values().map(|o| o.max_offset).sum(),
        Err(_) => -1,
    }
}

/// GET_BROKER_EPOCH_CACHE of the broker at `addr`: (epoch, start offset) pairs.
async fn epochs(admin: &Admin, addr: &str) -> Vec<(i32, i64)> {
    let cache = admin.broker_epoch_cache(addr).await.unwrap();
    cache
        .epoch_list
        .iter()
        .map(|e| (e.epoch, e.start_offset))
        .collect()
}

fn restart(dir: &Path, name: &str, ns: &str) -> Daemon {
    let conf = dir.join(format!("{name}.properties"));
    let conf = conf.to_string_lossy().into_owned();
    let bin = binary("mqbroker").unwrap();
    Daemon::start(
        &format!("{name}-again"),
        &bin,
        &["-c", &conf, "-n", ns],
        &dir.join("logs"),
    )
    .unwrap()
}

/// broker-a's SyncStateSet as the controllers hold it.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slave_takes_over_and_the_old_master_rejoins_as_its_slave() {
    let dir = test_dir("controller-mode");
    let group = controller_group(dir.path(), 3, "scanInactiveMasterInterval=200").unwrap();
    let controllers: Vec<String> = group.iter().map(|(_, a)| a.clone()).collect();
    let (_ns_d, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let props = format!(
        "enableControllerMode=true\ncontrollerAddr={}\ncontrollerHeartBeatTimeoutMills=2000\n\
         brokerHeartbeatInterval=300\nsyncBrokerMetadataPeriod=1000\nallAckInSyncStateSet=true\n\
         haMaxTimeSlaveNotCatchup=60000\nslaveTimeout=300",
        controllers.join(";")
    );
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&dir_a).unwrap();
    std::fs::create_dir_all(&dir_b).unwrap();
    let (a, a_addr) = broker_process(&dir_a, "broker-a", &ns, &props).unwrap();
    let admin = Admin::builder().name_server(&ns).build().await.unwrap();
    until("the first broker elected master", || async {
        (replicas(&admin).await.get(&0) == Some(&a_addr)).then_some(())
    })
    .await;
    let (b, b_addr) = broker_process(&dir_b, "broker-a", &ns, &props).unwrap();
    until("the second broker registered as slave 2", || async {
        (replicas(&admin).await.get(&2) == Some(&b_addr)).then_some(())
    })
    .await;
    let ctl = controllers.join(";");
    until("the slave in the SyncStateSet", || async {
        (sync_state_set(&admin, &ctl).await == [1, 2]).then_some(())
    })
    .await;

    create_topic(&admin, &a_addr).await;
    // One producer throughout: after the failover its first send finds the old master gone,
    // refreshes the route and goes to the new one, with no wait for the 30 s route timer.
    let producer = Producer::builder()
        .group("PG-controller-mode")
        .name_server(&ns)
        .build()
        .await
        .unwrap();
    produce(&producer, "before").await;
    until("the slave holding every message", || async {
        (stored(&admin, &b_addr).await == EACH as i64).then_some(())
    })
    .await;

    // The slave freezes: the master stores what comes next, but cannot acknowledge it (the
    // slave is in the SyncStateSet and has not been shrunk out yet).
    b.freeze().unwrap();
    for i in 0..3 {
        let r = producer
            .send(Message::new(TOPIC, format!("orphan-{i}")))
            .await
            .unwrap();
        assert_eq!(r.status, SendStatus::FlushSlaveTimeout, "orphan-{i}");
    }
    // Stored on the master, but not in its consume queues: consumers see only what every
    // in-sync replica has.
    assert_eq!(stored(&admin, &a_addr).await, EACH as i64);
    a.kill().unwrap();
    b.signal(libc::SIGCONT);
    let killed = Instant::now();
    until("the slave elected master", || async {
        (replicas(&admin).await.get(&0) == Some(&b_addr)).then_some(())
    })
    .await;
    produce(&producer, "after").await;
    producer.shutdown().await;
    // Each master recorded where its epoch starts: A from the start, B at A's end.
    let b_epochs = epochs(&admin, &b_addr).await;
    assert_eq!(b_epochs.len(), 2, "{b_epochs:?}");
    assert_eq!(b_epochs[0], (1, 0));
    assert_eq!(b_epochs[1].0, 2);
    assert!(b_epochs[1].1 > 0, "{b_epochs:?}");
    eprintln!(
        "master SIGKILLed -> {EACH} sends to the new master done in {:?} (heartbeat timeout 2 s)",
        killed.elapsed()
    );

    let got: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let sink = got.clone();
    let consumer = PushConsumer::builder()
        .group("CG-controller-mode")
        .name_server(&ns)
        .consume_from(ConsumeFrom::FirstOffset)
        .rebalance_interval(Duration::from_millis(500))
        .subscribe(TOPIC, "*")
        .listener_concurrently(move |msgs| {
            let mut g = sink.lock();
            for m in msgs {
                *g.entry(String::from_utf8_lossy(&m.body).into_owned())
                    .or_default() += 1;
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap();
    until("every message consumed", || {
        let n = got.lock().len();
        async move { (n >= 2 * EACH).then_some(()) }
    })
    .await;
    consumer.shutdown().await;
    let got = got.lock().clone();
    for prefix in ["before", "after"] {
        for i in 0..EACH {
            assert_eq!(
                got.get(&format!("{prefix}-{i}")),
                Some(&1),
                "{prefix}-{i}: {got:?}"
            );
        }
    }
    // The frozen slave may still find the unacknowledged sends in its socket buffer when it
    // wakes: then they survive, once each; they are never duplicated.
    assert!(got.values().all(|n| *n == 1), "{got:?}");
    let orphans = got.len() - 2 * EACH;

    // The old master comes back: a slave under its controller id with exactly the new
    // master's log and epochs (what it stored alone is cut away; the network fault tests show
    // that case, which needs the slave cut off rather than frozen).
    let _a_again = restart(&dir_a, "broker-a", &ns);
    until("the old master registered as slave 1", || async {
        (replicas(&admin).await.get(&1) == Some(&a_addr)).then_some(())
    })
    .await;
    until(
        "the old master holding the new master's messages",
        || async { (stored(&admin, &a_addr).await == (2 * EACH + orphans) as i64).then_some(()) },
    )
    .await;
    let (sa, sb) = (
        admin.topic_stats(&a_addr, TOPIC).await.unwrap(),
        admin.topic_stats(&b_addr, TOPIC).await.unwrap(),
    );
    for (q, o) in &sb.offset_table {
        let mine = sa.offset_table.get(q).map(|x| (x.min_offset, x.max_offset));
        assert_eq!(mine, Some((o.min_offset, o.max_offset)), "queue {q:?}");
    }
    until(
        "the old master adopting the new master's epochs",
        || async { (epochs(&admin, &a_addr).await == b_epochs).then_some(()) },
    )
    .await;
    until("the old master back in the SyncStateSet", || async {
        (sync_state_set(&admin, &ctl).await == [1, 2]).then_some(())
    })
    .await;
    // Apache's `mqadmin getBrokerEpoch` layout, for both replicas: the same two epochs, the
    // second starting where the first ends.
    let out = std::process::Command::new(binary("mqadmin").unwrap())
        .args(["getBrokerEpoch", "-n", &ns, "-b", "broker-a"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second = b_epochs[1].1;
    for addr in [&a_addr, &b_addr] {
        assert!(text.contains(&format!("#brokerAddr\t{addr}")), "{text}");
    }
    assert_eq!(
        text.matches(&format!(
            "#Epoch: EpochEntry{{epoch=1, startOffset=0, endOffset={second}}}"
        ))
        .count(),
        2,
        "{text}"
    );
    assert_eq!(
        text.matches(&format!(
            "#Epoch: EpochEntry{{epoch=2, startOffset={second}, endOffset="
        ))
        .count(),
        2,
        "{text}"
    );
    admin.shutdown().await;
    drop(group);
}

/// A master that loses every controller stops taking writes before the controllers could
/// have elected another master (half its heartbeat timeout), and takes them again once they
/// are back and still name it master.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_cut_off_from_the_controllers_is_fenced_until_they_return() {
    let dir = test_dir("controller-fence");
    let group = controller_group(dir.path(), 3, "scanInactiveMasterInterval=200").unwrap();
    let controllers: Vec<String> = group.iter().map(|(_, a)| a.clone()).collect();
    let (_ns_d, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let props = format!(
        "enableControllerMode=true\ncontrollerAddr={}\ncontrollerHeartBeatTimeoutMills=2000\n\
         brokerHeartbeatInterval=300",
        controllers.join(";")
    );
    let (_a, a_addr) = broker_process(dir.path(), "broker-a", &ns, &props).unwrap();
    let admin = Admin::builder().name_server(&ns).build().await.unwrap();
    until("the broker elected master", || async {
        (replicas(&admin).await.get(&0) == Some(&a_addr)).then_some(())
    })
    .await;
    create_topic(&admin, &a_addr).await;
    let producer = Producer::builder()
        .group("PG-controller-fence")
        .name_server(&ns)
        .build()
        .await
        .unwrap();
    until("a send taken", || async {
        producer
            .send(Message::new(TOPIC, "first"))
            .await
            .ok()
            .map(|_| ())
    })
    .await;

    for (d, _) in group {
        d.kill().unwrap();
    }
    let refused = until("a send refused by the fenced master", || async {
        producer
            .send(Message::new(TOPIC, "while fenced"))
            .await
            .err()
    })
    .await;
    assert!(refused.to_string().contains("fenced"), "{refused}");

    let bin = binary("mqcontroller").unwrap();
    let mut back = Vec::new();
    for (i, addr) in controllers.iter().enumerate() {
        let conf = dir.path().join(format!("controller-n{i}.properties"));
        let conf = conf.to_string_lossy().into_owned();
        let logs = dir.path().join("logs");
        let mut d = Daemon::start(
            &format!("controller-n{i}-again"),
            &bin,
            &["-c", &conf],
            &logs,
        )
        .unwrap();
        d.wait_listening(addr.parse().unwrap(), Duration::from_secs(20))
            .unwrap();
        back.push(d);
    }
    until(
        "sends taken again once the controllers confirm the master",
        || async {
            producer
                .send(Message::new(TOPIC, "after"))
                .await
                .ok()
                .map(|_| ())
        },
    )
    .await;
    assert_eq!(replicas(&admin).await.get(&0), Some(&a_addr));
    producer.shutdown().await;
    admin.shutdown().await;
}
