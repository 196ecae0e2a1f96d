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
        .unwrap();
    consumer.start().await.unwrap();
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
