//! Consumers start promptly (issue: a push consumer waited ~30 s for its first message).
//!
//! Real `mqnamesrv` and `mqbroker` processes; every consumer runs with its rebalance, route
//! refresh and heartbeat periods at 60 s, so a consumer that receives within a few seconds of
//! `start()` proves that start-up and hand-over do not lean on a periodic timer. Each scenario
//! reproduces the race that caused the wait: the topic is auto-created by a producer (the broker
//! announces it to the name server a moment later) and the consumer starts at once, or the
//! consumer starts before the topic exists at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_client::{
    Admin, ConsumeConcurrentlyStatus, ConsumeFrom, ConsumeOrderlyStatus, Message, MessageModel,
    Producer, PullConsumer, PushConsumer, PushConsumerBuilder,
};
use rmq_testkit::{broker_process, namesrv_process, test_dir, Daemon};

/// Longer than any wait a test allows: a consumer that needed a timer would fail.
const SLOW: Duration = Duration::from_secs(60);
/// What "promptly" means here, generous for a busy CI machine.
const PROMPT: Duration = Duration::from_secs(10);
/// How long the broker may take to register at all: not what these tests measure.
const REGISTER: Duration = Duration::from_secs(30);

struct Cluster {
    _dir: tempfile::TempDir,
    _daemons: Vec<Daemon>,
    ns: String,
}

/// A name server and a broker, once the broker has registered (so sends can auto-create).
async fn cluster(name: &str) -> Cluster {
    let dir = test_dir(name);
    let (ns_d, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let (b_d, _) = broker_process(dir.path(), "broker-a", &ns, "").unwrap();
    let admin = Admin::builder().name_server(&ns).build().await.unwrap();
    let start = Instant::now();
    loop {
        let seen = admin.cluster_info().await;
        if seen.as_ref().is_ok_and(|i| !i.broker_addr_table.is_empty()) {
            break;
        }
        assert!(
            start.elapsed() < REGISTER,
            "the broker did not register; the name server last answered {seen:?}\n\
             name server log:\n{}\nbroker log:\n{}",
            ns_d.log_text(),
            b_d.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    admin.shutdown().await;
    Cluster {
        _dir: dir,
        _daemons: vec![ns_d, b_d],
        ns,
    }
}

impl Cluster {
    async fn producer(&self) -> Producer {
        let p = Producer::builder()
            .group("PG-startup")
            .name_server(&self.ns)
            .build()
            .await
            .unwrap();
        p
    }

    /// Sends `n` messages to `topic` (auto-created by the first send), keyed by index.
    async fn send(&self, topic: &str, n: usize) {
        let p = self.producer().await;
        for i in 0..n {
            p.send(Message::new(topic, format!("m{i}")).with_keys([format!("k{i}")]))
                .await
                .unwrap();
        }
        p.shutdown().await;
    }

    fn push(&self, group: &str, topic: &str) -> PushConsumerBuilder {
        PushConsumer::builder()
            .group(group)
            .name_server(&self.ns)
            .subscribe(topic, "*")
            .consume_from(ConsumeFrom::FirstOffset)
            .rebalance_interval(SLOW)
            .route_poll_interval(SLOW)
            .heartbeat_interval(SLOW)
    }
}

type Bodies = Arc<Mutex<Vec<String>>>;

async fn concurrent_sink(builder: PushConsumerBuilder, got: &Bodies) -> PushConsumer {
    let sink = got.clone();
    builder
        .listener_concurrently(move |msgs| {
            let mut g = sink.lock();
            g.extend(
                msgs.iter()
                    .map(|m| String::from_utf8_lossy(&m.message.body).into()),
            );
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap()
}

async fn orderly_sink(builder: PushConsumerBuilder, got: &Bodies) -> PushConsumer {
    let sink = got.clone();
    builder
        .listener_orderly(move |msgs| {
            let mut g = sink.lock();
            g.extend(
                msgs.iter()
                    .map(|m| String::from_utf8_lossy(&m.message.body).into()),
            );
            ConsumeOrderlyStatus::Success
        })
        .build()
        .await
        .unwrap()
}

/// Waits until `cond` holds; fails naming `what` and how long it waited.
async fn within(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "{what}: not within {limit:?} although every periodic task waits {SLOW:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

/// The queues of `topic` (not the group's `%RETRY%` queue) that `c` owns.
fn owned(c: &PushConsumer, topic: &str) -> Vec<rmq_client::MessageQueue> {
    c.assigned_queues()
        .into_iter()
        .filter(|q| q.topic == topic)
        .collect()
}

fn count(got: &Bodies) -> usize {
    got.lock().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_consumer_started_right_after_auto_create_receives_at_once() {
    let c = cluster("startup-push").await;
    c.send("StartPush", 10).await;
    let got = Bodies::default();
    let consumer = concurrent_sink(c.push("CG-start-push", "StartPush"), &got).await;
    let t = within("first message", PROMPT, || count(&got) >= 1).await;
    within("all 10 messages", PROMPT, || count(&got) >= 10).await;
    eprintln!("first message {t:?} after start");
    consumer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_consumer_started_before_its_topic_exists_picks_it_up() {
    let c = cluster("startup-before").await;
    let got = Bodies::default();
    let consumer = concurrent_sink(c.push("CG-start-before", "StartBefore"), &got).await;
    // start() has looked the topic up and found no route.
    c.send("StartBefore", 5).await;
    let sent = Instant::now();
    within("messages sent after start", PROMPT, || count(&got) >= 5).await;
    eprintln!("picked up {:?} after the topic appeared", sent.elapsed());
    consumer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orderly_consumer_starts_and_hands_queues_to_a_second_member() {
    let c = cluster("startup-orderly").await;
    c.send("StartOrderly", 8).await;
    let got1 = Bodies::default();
    let first = orderly_sink(c.push("CG-start-orderly", "StartOrderly"), &got1).await;
    within("first member's messages", PROMPT, || count(&got1) >= 8).await;
    assert_eq!(
        owned(&first, "StartOrderly").len(),
        4,
        "a lone member owns every queue"
    );

    // A second member joins: the first gives up half the queues and unlocks them; the second
    // locks them; both within seconds.
    let got2 = Bodies::default();
    let second = orderly_sink(c.push("CG-start-orderly", "StartOrderly"), &got2).await;
    within("second member owning its share", PROMPT, || {
        owned(&second, "StartOrderly").len() == 2 && owned(&first, "StartOrderly").len() == 2
    })
    .await;
    let q1: BTreeSet<_> = owned(&first, "StartOrderly").into_iter().collect();
    let q2: BTreeSet<_> = owned(&second, "StartOrderly").into_iter().collect();
    assert!(q1.is_disjoint(&q2), "a queue owned twice: {q1:?} {q2:?}");

    // Messages to every queue now reach both members.
    c.send("StartOrderly", 16).await;
    within("new messages split over both members", PROMPT, || {
        count(&got1) + count(&got2) >= 8 + 16 && count(&got2) > 0
    })
    .await;
    second.shutdown().await;
    first.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_consumer_hands_queues_to_a_second_member() {
    let c = cluster("startup-join").await;
    c.send("StartJoin", 4).await;
    let got1 = Bodies::default();
    let first = concurrent_sink(c.push("CG-start-join", "StartJoin"), &got1).await;
    within("first member's messages", PROMPT, || count(&got1) >= 4).await;
    let got2 = Bodies::default();
    let second = concurrent_sink(c.push("CG-start-join", "StartJoin"), &got2).await;
    within("second member owning its share", PROMPT, || {
        owned(&second, "StartJoin").len() == 2 && owned(&first, "StartJoin").len() == 2
    })
    .await;
    second.shutdown().await;
    first.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasting_consumer_started_before_its_topic_exists_picks_it_up() {
    let c = cluster("startup-broadcast").await;
    let offsets = tempfile::tempdir().unwrap();
    let got = Bodies::default();
    let consumer = concurrent_sink(
        c.push("CG-start-broadcast", "StartBroadcast")
            .message_model(MessageModel::Broadcasting)
            .offset_store_dir(offsets.path()),
        &got,
    )
    .await;
    c.send("StartBroadcast", 5).await;
    within("broadcast messages", PROMPT, || count(&got) >= 5).await;
    consumer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_consumer_subscribed_right_after_auto_create_polls_at_once() {
    let c = cluster("startup-pull").await;
    c.send("StartPull", 6).await;
    let pull = PullConsumer::builder()
        .group("CG-start-pull")
        .name_server(&c.ns)
        .subscribe("StartPull", "*")
        .consume_from(ConsumeFrom::FirstOffset)
        .rebalance_interval(SLOW)
        .route_poll_interval(SLOW)
        .heartbeat_interval(SLOW)
        .build()
        .await
        .unwrap();
    let start = Instant::now();
    let mut got = 0;
    while got < 6 {
        assert!(
            start.elapsed() < PROMPT,
            "pull consumer got {got} of 6 within {PROMPT:?}"
        );
        got += pull.poll(Duration::from_millis(500)).await.unwrap().len();
    }
    pull.shutdown().await;
}
