//! What an operator reaches in a running `PushConsumer` through the broker: its running info
//! (`mqadmin consumerStatus`), an offset reset while it consumes (`mqadmin resetOffsetByTime`,
//! both the 5.x server-side way and the 4.x way where the broker tells the consumer), and a
//! message consumed on request (`mqadmin consumeMessage`).

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use rmq_client::{Admin, ConsumeConcurrentlyStatus, ConsumeResult, Message, PushConsumer};

use crate::harness::{eventually, until, Cluster, PATIENCE};

const GROUP: &str = "CG-operator";

/// How many times each body was delivered.
type Seen = Arc<Mutex<BTreeMap<String, usize>>>;

async fn wait_for(what: &str, cond: impl FnMut() -> bool) {
    assert!(eventually(PATIENCE, cond).await, "never: {what}");
}

/// A cluster with `topic` (2 queues), six messages on it, and a consumer that has consumed
/// each once.
async fn consuming(
    topic: &str,
    extra: &[(&str, &str)],
) -> (Cluster, Admin, PushConsumer, Seen, Vec<String>) {
    let c = Cluster::start(1, extra).await;
    c.create_topic(topic, 2).await;
    let producer = c.producer("PG-operator").await;
    let mut offset_ids = Vec::new();
    for i in 0..6 {
        let r = producer
            .send(Message::new(topic, format!("m{i}")))
            .await
            .unwrap();
        offset_ids.push(r.offset_msg_id);
    }
    producer.shutdown().await;
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let consumer = c
        .consumer(GROUP)
        .subscribe(topic, "*")
        .listener_concurrently(move |msgs| {
            for m in msgs {
                let body = String::from_utf8_lossy(&m.body).into_owned();
                *log.lock().entry(body).or_default() += 1;
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap();
    wait_for("each message consumed once", || {
        let s = seen.lock();
        s.len() == 6 && s.values().all(|n| *n == 1)
    })
    .await;
    let admin = c.admin().await;
    // The consumer commits what it consumed on its next persist; wait for the broker to have it
    // (Apache's 4.x reset refuses a group without a committed offset on every queue).
    let addr = c.broker_addrs[0].clone();
    until("the consumed offsets committed", || async {
        let mut total = 0;
        for q in 0..2 {
            total += admin
                .query_consumer_offset(&addr, GROUP, topic, q)
                .await
                .ok()?
                .unwrap_or(0);
        }
        (total == 6).then_some(())
    })
    .await;
    (c, admin, consumer, seen, offset_ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_info_and_consume_directly_reach_the_consumer() {
    const TOPIC: &str = "OperatorInfo";
    let (c, admin, consumer, seen, offset_ids) = consuming(TOPIC, &[]).await;
    let addr = c.broker_addrs[0].clone();
    let info = admin
        .consumer_running_info(&addr, GROUP, consumer.client_id(), false)
        .await
        .unwrap();
    assert_eq!(info.properties["PROP_CONSUME_TYPE"], "CONSUME_PASSIVELY");
    assert_eq!(info.properties["PROP_CONSUMEORDERLY"], "false");
    assert!(
        info.properties["PROP_CONSUMER_START_TIMESTAMP"]
            .parse::<i64>()
            .unwrap()
            > 0
    );
    assert!(info.subscription_set.iter().any(|s| s.topic == TOPIC));
    let queues: Vec<i32> = info
        .mq_table
        .keys()
        .filter(|q| q.topic == TOPIC)
        .map(|q| q.queue_id)
        .collect();
    assert_eq!(queues, [0, 1]);

    let r = admin
        .consume_message_directly(&addr, GROUP, consumer.client_id(), TOPIC, &offset_ids[0])
        .await
        .unwrap();
    assert_eq!(r.consume_result, ConsumeResult::CrSuccess);
    assert_eq!(seen.lock()["m0"], 2, "consumed once more, on request");

    let unknown = admin
        .consumer_running_info(&addr, GROUP, "10.9.9.9@nobody", false)
        .await;
    assert!(unknown.is_err());
    consumer.shutdown().await;
    admin.shutdown().await;
    c.shutdown().await;
}

/// Resets the group to the epoch while the consumer runs: every message comes again.
async fn reset_redelivers(topic: &str, extra: &[(&str, &str)]) {
    let (c, admin, consumer, seen, _) = consuming(topic, extra).await;
    let moved = admin
        .reset_offset_by_time(GROUP, topic, 0, true)
        .await
        .unwrap();
    let mut to: Vec<(i32, i64)> = moved
        .iter()
        .map(|r| (r.queue.queue_id, r.new_offset))
        .collect();
    to.sort();
    assert_eq!(to, [(0, 0), (1, 0)]);
    wait_for("each message consumed again after the reset", || {
        seen.lock().values().all(|n| *n >= 2)
    })
    .await;
    consumer.shutdown().await;
    admin.shutdown().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_while_consuming_redelivers_server_side() {
    reset_redelivers("OperatorReset", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_while_consuming_redelivers_when_the_broker_tells_the_consumer() {
    reset_redelivers(
        "OperatorResetClient",
        &[("useServerSideResetOffset", "false")],
    )
    .await;
}
