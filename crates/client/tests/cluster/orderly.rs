//! Orderly consumption: per-key order survives random listener failures.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{ConsumeOrderlyStatus, Message};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_order_with_random_failures() {
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("OrderTopic", 8).await;
    let producer = cluster.producer("PG-order").await;

    const KEYS: usize = 50;
    const PER_KEY: usize = 200; // 10,000 messages
                                // Each key's messages are sent in sequence; keys in parallel.
    let sends = (0..KEYS).map(|k| {
        let p = producer.clone();
        async move {
            for seq in 0..PER_KEY {
                let key = format!("order-{k}");
                let m = Message::new("OrderTopic", format!("{k}:{seq}"));
                p.send_orderly(m, &key).await.unwrap();
            }
        }
    });
    futures::future::join_all(sends).await;

    // Per key: the next sequence number expected; a violation is recorded.
    let next: Arc<Mutex<HashMap<usize, usize>>> = Arc::default();
    let violations: Arc<Mutex<Vec<String>>> = Arc::default();
    let failures = Arc::new(AtomicU64::new(0));
    let rng = Arc::new(AtomicU64::new(0x9E37_79B9_7F4A_7C15));
    let (n2, v2, f2, r2) = (
        next.clone(),
        violations.clone(),
        failures.clone(),
        rng.clone(),
    );
    let consumer = cluster
        .consumer("CG-order")
        .subscribe("OrderTopic", "*")
        .suspend_current_queue_time(Duration::from_millis(10))
        .consume_message_batch_max_size(4)
        .listener_orderly(move |msgs| {
            // xorshift: fail about 2% of the batches.
            let mut x = r2.load(Ordering::Relaxed);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            r2.store(x, Ordering::Relaxed);
            if x % 50 == 0 {
                f2.fetch_add(1, Ordering::Relaxed);
                return ConsumeOrderlyStatus::SuspendCurrentQueueAMoment;
            }
            let mut next = n2.lock();
            for m in msgs {
                let text = String::from_utf8_lossy(&m.message.body).to_string();
                let (k, seq) = text.split_once(':').unwrap();
                let (k, seq): (usize, usize) = (k.parse().unwrap(), seq.parse().unwrap());
                let want = next.entry(k).or_insert(0);
                if seq != *want {
                    v2.lock()
                        .push(format!("key {k}: got {seq}, expected {want}"));
                }
                *want = seq + 1;
            }
            ConsumeOrderlyStatus::Success
        })
        .build()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(40), || {
            let n = next.lock();
            n.len() == KEYS && n.values().all(|v| *v == PER_KEY)
        })
        .await,
        "consumed {} messages",
        next.lock().values().sum::<usize>()
    );
    assert!(
        violations.lock().is_empty(),
        "{:?}",
        &violations.lock()[..5.min(violations.lock().len())]
    );
    assert!(
        failures.load(Ordering::Relaxed) > 0,
        "the test injected no failure"
    );
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

/// A message that keeps failing (first by answer, then by panicking) goes to the DLQ after
/// `max_reconsume_times` local retries; the queue then goes on, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_failing_past_the_max_goes_to_the_dlq_and_order_goes_on() {
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("OrderDlq", 1).await;
    let producer = cluster.producer("PG-order-dlq").await;
    let mut poison_id = String::new();
    for i in 0..5 {
        let r = producer
            .send_orderly(Message::new("OrderDlq", format!("m{i}")), "one-key")
            .await
            .unwrap();
        if i == 1 {
            poison_id = r.msg_id;
        }
    }
    let done: Arc<Mutex<Vec<String>>> = Arc::default();
    let poison_attempts: Arc<Mutex<Vec<i32>>> = Arc::default();
    let (d2, p2) = (done.clone(), poison_attempts.clone());
    let consumer = cluster
        .consumer("CG-order-dlq")
        .subscribe("OrderDlq", "*")
        .max_reconsume_times(2)
        .suspend_current_queue_time(Duration::from_millis(100))
        .listener_orderly(move |msgs| {
            for m in msgs {
                let body = String::from_utf8_lossy(&m.message.body).to_string();
                if body == "m1" {
                    p2.lock().push(m.reconsume_times);
                    if m.reconsume_times == 0 {
                        return ConsumeOrderlyStatus::SuspendCurrentQueueAMoment;
                    }
                    panic!("poison message (an intended panic of the test)");
                }
                d2.lock().push(body);
            }
            ConsumeOrderlyStatus::Success
        })
        .build()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || done.lock().len() >= 4).await,
        "done {:?}, poison attempts {:?}",
        done.lock(),
        poison_attempts.lock()
    );
    assert_eq!(*done.lock(), ["m0", "m2", "m3", "m4"]);
    assert_eq!(*poison_attempts.lock(), [0, 1, 2]);
    let dlq = pull_dlq(
        &cluster,
        "CG-order-dlq",
        "broker-a",
        "OrderDlq",
        1,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(dlq.len(), 1, "the poison message is in the DLQ");
    assert_eq!(dlq[0].msg_id(), poison_id);
    assert_eq!(&dlq[0].message.body[..], b"m1");
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}
