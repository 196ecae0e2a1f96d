//! The consume context: a listener acks part of a batch (only the rest goes back through the
//! retry topic) and chooses the delay level of what it sends back, per call; and the async
//! listener, which gets the same context.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::consumer::{AsyncConcurrentListener, ConsumeConcurrentlyContext};
use rmq_client::{ConsumeConcurrentlyStatus, Message, MessageExt};

use crate::harness::*;

/// Level 1 is 1 s; levels 3 and up (what the broker picks by default for a retry) are 30 s,
/// so a redelivery within seconds shows the listener's level was used.
const LEVELS: &str = "1s 1s 30s 30s 30s 30s 30s 30s 30s 30s 30s 30s 30s 30s 30s 30s 30s 30s";

/// Body -> (reconsume times, arrival ms) of each delivery.
type Deliveries = Arc<Mutex<HashMap<String, Vec<(i32, i64)>>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_ack_sends_back_only_the_rest_at_the_chosen_level() {
    let cluster = Cluster::start(1, &[("messageDelayLevel", LEVELS)]).await;
    cluster.create_topic("AckTopic", 1).await;
    let producer = cluster.producer("PG-ack").await;
    let batch: Vec<Message> = (0..6)
        .map(|i| Message::new("AckTopic", format!("m{i}")))
        .collect();
    producer.send_batch(batch).await.unwrap();

    let seen: Deliveries = Arc::default();
    // Bodies the listener did not ack on their first delivery.
    let unacked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let (sink, left) = (seen.clone(), unacked.clone());
    let consumer = cluster
        .consumer("CG-ack")
        .subscribe("AckTopic", "*")
        .consume_message_batch_max_size(6)
        .listener_concurrently_with_context(
            move |msgs: &[MessageExt], ctx: &mut ConsumeConcurrentlyContext| {
                let mut s = sink.lock();
                for m in msgs {
                    let body = String::from_utf8_lossy(&m.body).into_owned();
                    s.entry(body)
                        .or_default()
                        .push((m.reconsume_times, now_ms()));
                }
                ctx.set_delay_level_when_next_consume(1);
                if msgs.iter().any(|m| &m.body[..] == b"marker") {
                    // The marker fails once: it comes back through the same retry queue.
                    let again = msgs.iter().all(|m| m.reconsume_times > 0);
                    return if again {
                        ConsumeConcurrentlyStatus::ConsumeSuccess
                    } else {
                        ConsumeConcurrentlyStatus::ReconsumeLater
                    };
                }
                if msgs.iter().all(|m| m.reconsume_times == 0) {
                    let keep = msgs.len() / 2;
                    ctx.set_ack_count(keep);
                    left.lock().extend(
                        msgs[keep..]
                            .iter()
                            .map(|m| String::from_utf8_lossy(&m.body).into_owned()),
                    );
                }
                ConsumeConcurrentlyStatus::ConsumeSuccess
            },
        )
        .build()
        .await
        .unwrap();

    let all_back = || {
        let s = seen.lock();
        let u = unacked.lock();
        s.len() >= 6 && !u.is_empty() && u.iter().all(|b| s.get(b).is_some_and(|v| v.len() >= 2))
    };
    assert!(
        eventually(Duration::from_secs(15), all_back).await,
        "the un-acked messages did not come back at level 1: {:?}",
        seen.lock()
    );
    // Anything sent back wrongly would come back before a marker that goes the same way later.
    producer
        .send(Message::new("AckTopic", "marker"))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(15), || seen
            .lock()
            .get("marker")
            .is_some_and(|v| v.len() >= 2))
        .await,
        "the marker did not come back"
    );
    let s = seen.lock().clone();
    let u = unacked.lock().clone();
    for i in 0..6 {
        let body = format!("m{i}");
        let deliveries = &s[&body];
        if u.contains(&body) {
            assert_eq!(deliveries.len(), 2, "{body} sent back once: {deliveries:?}");
            assert_eq!(deliveries[1].0, 1);
            let gap = deliveries[1].1 - deliveries[0].1;
            assert!(
                gap >= 950,
                "{body} came back after {gap} ms, before level 1's 1 s"
            );
        } else {
            assert_eq!(deliveries.len(), 1, "{body} was acked: {deliveries:?}");
        }
    }
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

/// Fails everything with delay level -1: straight to the DLQ, never redelivered.
struct ToDeadLetters {
    seen: Arc<Mutex<Vec<i32>>>,
}

impl AsyncConcurrentListener for ToDeadLetters {
    async fn consume(
        &self,
        msgs: &[MessageExt],
        ctx: &mut ConsumeConcurrentlyContext,
    ) -> ConsumeConcurrentlyStatus {
        tokio::task::yield_now().await;
        self.seen
            .lock()
            .extend(msgs.iter().map(|m| m.reconsume_times));
        ctx.set_delay_level_when_next_consume(-1);
        ConsumeConcurrentlyStatus::ReconsumeLater
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_listener_sends_a_message_straight_to_the_dlq() {
    let cluster = Cluster::start(1, &[("messageDelayLevel", LEVELS)]).await;
    cluster.create_topic("AsyncDlq", 1).await;
    let producer = cluster.producer("PG-async-dlq").await;
    let sent = producer
        .send(Message::new("AsyncDlq", "no retries"))
        .await
        .unwrap();
    let seen: Arc<Mutex<Vec<i32>>> = Arc::default();
    let consumer = cluster
        .consumer("CG-async-dlq")
        .subscribe("AsyncDlq", "*")
        .listener_concurrently_async(ToDeadLetters { seen: seen.clone() })
        .build()
        .await
        .unwrap();
    let dlq = pull_dlq(
        &cluster,
        "CG-async-dlq",
        "broker-a",
        "AsyncDlq",
        1,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(dlq.len(), 1, "the DLQ holds the message");
    assert_eq!(dlq[0].msg_id(), sent.msg_id);
    // In the DLQ after one delivery, not after the default 16 retries.
    assert_eq!(*seen.lock(), [0]);
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}
