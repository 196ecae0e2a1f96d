//! RECONSUME_LATER: the message is sent back and returns through `%RETRY%group` with its
//! original topic restored (the broker's delay table is shortened to 1 s per level).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{ConsumeConcurrentlyStatus, Message};

use crate::harness::*;

/// Message id -> (reconsume times, topic) of each delivery.
type Deliveries = Arc<Mutex<HashMap<String, Vec<(i32, String)>>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconsume_later_redelivers_through_the_retry_topic() {
    let cluster = Cluster::start(
        1,
        &[(
            "messageDelayLevel",
            "1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s",
        )],
    )
    .await;
    cluster.create_topic("RetryTopic", 2).await;
    let producer = cluster.producer("PG-retry").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = producer
            .send(Message::new("RetryTopic", format!("{i}")).with_tags("T"))
            .await
            .unwrap();
        ids.push(r.msg_id);
    }
    let seen: Deliveries = Arc::default();
    let sink = seen.clone();
    let consumer = cluster
        .consumer("CG-retry")
        .subscribe("RetryTopic", "*")
        .listener_concurrently(move |msgs| {
            let mut s = sink.lock();
            let mut status = ConsumeConcurrentlyStatus::ConsumeSuccess;
            for m in msgs {
                let v = s.entry(m.msg_id()).or_default();
                v.push((m.reconsume_times, m.message.topic.clone()));
                if v.len() == 1 {
                    status = ConsumeConcurrentlyStatus::ReconsumeLater;
                }
            }
            status
        })
        .build()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(25), || {
            let s = seen.lock();
            ids.iter().all(|id| s.get(id).is_some_and(|v| v.len() >= 2))
        })
        .await,
        "{:?}",
        seen.lock()
    );
    let s = seen.lock().clone();
    for id in &ids {
        let v = &s[id];
        assert_eq!(v[0], (0, "RetryTopic".to_string()));
        assert_eq!(v[1], (1, "RetryTopic".to_string()), "redelivery of {id}");
    }
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

/// Levels 3 and 4 (the first two retries) are 1 s and 2 s; every other level 1 s.
const RETRY_DELAYS: &str = "1s 1s 1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";

/// (reconsume times, arrival ms) of each delivery of one message.
type Arrivals = Arc<Mutex<Vec<(i32, i64)>>>;

/// Fails the first `failures` deliveries; a message with body `marker` is recorded in
/// `markers` instead and fails only its first delivery (so it comes back through the retry
/// queue, after anything that went there before it).
fn failing_listener(
    arrivals: &Arrivals,
    markers: &Arrivals,
    failures: usize,
) -> impl Fn(&[rmq_client::MessageExt]) -> ConsumeConcurrentlyStatus + Send + Sync + 'static {
    let sink = arrivals.clone();
    let marks = markers.clone();
    move |msgs| {
        if msgs.iter().any(|m| &m.body[..] == b"marker") {
            let mut k = marks.lock();
            k.extend(msgs.iter().map(|m| (m.reconsume_times, now_ms())));
            return if k.len() == 1 {
                ConsumeConcurrentlyStatus::ReconsumeLater
            } else {
                ConsumeConcurrentlyStatus::ConsumeSuccess
            };
        }
        let mut a = sink.lock();
        for m in msgs {
            a.push((m.reconsume_times, now_ms()));
        }
        if a.len() <= failures {
            ConsumeConcurrentlyStatus::ReconsumeLater
        } else {
            ConsumeConcurrentlyStatus::ConsumeSuccess
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_twice_redelivers_on_the_delay_schedule() {
    let cluster = Cluster::start(1, &[("messageDelayLevel", RETRY_DELAYS)]).await;
    cluster.create_topic("RetryGaps", 1).await;
    let producer = cluster.producer("PG-gaps").await;
    producer
        .send(Message::new("RetryGaps", "fail twice"))
        .await
        .unwrap();
    let arrivals: Arrivals = Arc::default();
    let markers: Arrivals = Arc::default();
    let consumer = cluster
        .consumer("CG-gaps")
        .subscribe("RetryGaps", "*")
        .listener_concurrently(failing_listener(&arrivals, &markers, 2))
        .build()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(15), || arrivals.lock().len() >= 3).await,
        "{:?}",
        arrivals.lock()
    );
    // Nothing more once it succeeded: a marker sent now fails once and comes back through the
    // same retry queue, after any further delivery of the first message would have.
    producer
        .send(Message::new("RetryGaps", "marker"))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(15), || markers.lock().len() >= 2).await,
        "the marker did not come back: {:?}",
        markers.lock()
    );
    let a = arrivals.lock().clone();
    let times: Vec<i32> = a.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [0, 1, 2]);
    // Retry n waits delay level 3 + n: 1 s, then 2 s (less a little for clock granularity).
    let gaps = [a[1].1 - a[0].1, a[2].1 - a[1].1];
    assert!(gaps[0] >= 950, "first retry after {} ms", gaps[0]);
    assert!(gaps[1] >= 1950, "second retry after {} ms", gaps[1]);
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_reconsume_times_the_message_goes_to_the_dlq() {
    let one_second = "1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";
    let cluster = Cluster::start(1, &[("messageDelayLevel", one_second)]).await;
    cluster.create_topic("DlqTopic", 1).await;
    let producer = cluster.producer("PG-dlq").await;
    let sent = producer
        .send(Message::new("DlqTopic", "always fails").with_keys(["K-dlq"]))
        .await
        .unwrap();
    let arrivals: Arrivals = Arc::default();
    let consumer = cluster
        .consumer("CG-dlq")
        .subscribe("DlqTopic", "*")
        .max_reconsume_times(2)
        .listener_concurrently(failing_listener(
            &arrivals,
            &Arrivals::default(),
            usize::MAX,
        ))
        .build()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(15), || arrivals.lock().len() >= 3).await,
        "{:?}",
        arrivals.lock()
    );
    let dlq = pull_dlq(
        &cluster,
        "CG-dlq",
        "broker-a",
        "DlqTopic",
        1,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(dlq.len(), 1, "the DLQ holds the message");
    assert_eq!(dlq[0].msg_id(), sent.msg_id);
    assert_eq!(&dlq[0].message.body[..], b"always fails");
    assert_eq!(dlq[0].message.keys().collect::<Vec<_>>(), ["K-dlq"]);
    let times: Vec<i32> = arrivals.lock().iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [0, 1, 2], "delivered max + 1 times, then no more");
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

/// A `%DLQ%<group>` topic created by send-back is announced to the name servers at once (as
/// Java's `createTopicInSendMessageBackMethod` -> `registerBrokerAll`), so a consumer of the DLQ
/// finds it without waiting for the next periodic registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_route_is_announced_at_once() {
    let one_second = "1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s";
    let cluster = Cluster::start(1, &[("messageDelayLevel", one_second)]).await;
    cluster.create_topic("DlqRoute", 1).await;
    let producer = cluster.producer("PG-dlq-route").await;
    producer
        .send(Message::new("DlqRoute", "straight to the DLQ"))
        .await
        .unwrap();
    let arrivals: Arrivals = Arc::default();
    let consumer = cluster
        .consumer("CG-dlq-route")
        .subscribe("DlqRoute", "*")
        .max_reconsume_times(0)
        .listener_concurrently(failing_listener(
            &arrivals,
            &Arrivals::default(),
            usize::MAX,
        ))
        .build()
        .await
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || !arrivals.lock().is_empty()).await);
    let dlq = drain(
        &cluster,
        "CG-dlq-route-reader",
        "%DLQ%CG-dlq-route",
        1,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        dlq.len(),
        1,
        "a push consumer of the DLQ topic gets the message"
    );
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}
