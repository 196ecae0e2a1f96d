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
        .unwrap();
    consumer.start().await.unwrap();
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
