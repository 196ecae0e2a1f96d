//! Delay levels: a message arrives no earlier than its level's delay, and a message still
//! waiting in SCHEDULE_TOPIC_XXXX survives a broker restart (delivered once, on time).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{ConsumeConcurrentlyStatus, Message, PushConsumer};

use crate::harness::*;

/// Level 1 = 1 s, 2 = 2 s, 3 = 3 s; the rest 1 s.
const DELAYS: &str = "1s 2s 3s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";

/// (body, arrival ms) of each delivery.
type Arrivals = Arc<Mutex<Vec<(String, i64)>>>;

async fn recording_consumer(
    cluster: &Cluster,
    group: &str,
    topic: &str,
    sink: &Arrivals,
) -> PushConsumer {
    let sink = sink.clone();
    cluster
        .consumer(group)
        .subscribe(topic, "*")
        .listener_concurrently(move |msgs| {
            let mut s = sink.lock();
            for m in msgs {
                s.push((String::from_utf8_lossy(&m.message.body).into(), now_ms()));
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_messages_arrive_no_earlier_than_their_level() {
    let cluster = Cluster::start(1, &[("messageDelayLevel", DELAYS)]).await;
    cluster.create_topic("DelayTopic", 2).await;
    let arrivals: Arrivals = Arc::default();
    let consumer = recording_consumer(&cluster, "CG-delay", "DelayTopic", &arrivals).await;
    let producer = cluster.producer("PG-delay").await;
    let sent_at = now_ms();
    for (body, level) in [("now", 0), ("level-1", 1), ("level-2", 2)] {
        let mut m = Message::new("DelayTopic", body);
        if level > 0 {
            m = m.with_delay_level(level);
        }
        producer.send(m).await.unwrap();
    }
    assert!(
        eventually(Duration::from_secs(10), || arrivals.lock().len() >= 3).await,
        "{:?}",
        arrivals.lock()
    );
    let a = arrivals.lock().clone();
    let at = |body: &str| a.iter().find(|(b, _)| b == body).map(|(_, t)| t - sent_at);
    // Not delayed: first to arrive, and within a bound a busy machine meets (the lower
    // bounds below are what the test is about).
    assert_eq!(a.first().map(|(b, _)| b.as_str()), Some("now"), "{a:?}");
    assert!(at("now").is_some_and(|t| t < 5000), "{a:?}");
    assert!(at("level-1").is_some_and(|t| t >= 950), "{a:?}");
    assert!(at("level-2").is_some_and(|t| t >= 1950), "{a:?}");
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_delay_survives_a_broker_restart() {
    let mut cluster = Cluster::start(1, &[("messageDelayLevel", DELAYS)]).await;
    cluster.create_topic("DelayRestart", 1).await;
    let producer = cluster.producer("PG-delay-restart").await;
    let sent_at = now_ms();
    producer
        .send(Message::new("DelayRestart", "waited out a restart").with_delay_level(3))
        .await
        .unwrap();
    producer.shutdown().await;
    cluster.restart_broker(0).await;
    let arrivals: Arrivals = Arc::default();
    let consumer =
        recording_consumer(&cluster, "CG-delay-restart", "DelayRestart", &arrivals).await;
    assert!(
        eventually(Duration::from_secs(12), || !arrivals.lock().is_empty()).await,
        "the delayed message was lost in the restart"
    );
    // A second delivery would come from the same schedule queue, which is delivered in order:
    // once a marker sent on the same level after it has arrived, nothing more can follow.
    let producer = cluster.producer("PG-delay-restart").await;
    producer
        .send(Message::new("DelayRestart", "marker").with_delay_level(3))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(12), || arrivals
            .lock()
            .iter()
            .any(|(b, _)| b == "marker"))
        .await,
        "the marker did not arrive"
    );
    producer.shutdown().await;
    let a: Vec<(String, i64)> = arrivals
        .lock()
        .iter()
        .filter(|(b, _)| b != "marker")
        .cloned()
        .collect();
    assert_eq!(a.len(), 1, "delivered once: {a:?}");
    assert_eq!(a[0].0, "waited out a restart");
    assert!(
        a[0].1 - sent_at >= 2950,
        "arrived after {} ms",
        a[0].1 - sent_at
    );
    consumer.shutdown().await;
    cluster.shutdown().await;
}
