//! Offsets survive a consumer restart: nothing consumed is redelivered after a clean shutdown,
//! nothing sent while no consumer ran is lost. Also the pull consumer's poll/commit/seek.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{ConsumeConcurrentlyStatus, ConsumeFrom, Message, PullConsumer};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_resume_after_restart() {
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("ResumeTopic", 4).await;
    let producer = cluster.producer("PG-resume").await;
    let send = |from: usize, to: usize| {
        let p = producer.clone();
        async move {
            let mut ids = HashSet::new();
            for i in from..to {
                ids.insert(
                    p.send(Message::new("ResumeTopic", format!("{i}")))
                        .await
                        .unwrap()
                        .msg_id,
                );
            }
            ids
        }
    };
    let first = send(0, 40).await;

    let run = |seen: Arc<Mutex<Vec<String>>>| {
        cluster
            .consumer("CG-resume")
            .subscribe("ResumeTopic", "*")
            .listener_concurrently(move |msgs| {
                seen.lock().extend(msgs.iter().map(|m| m.msg_id()));
                ConsumeConcurrentlyStatus::ConsumeSuccess
            })
            .build()
            .unwrap()
    };
    let seen1: Arc<Mutex<Vec<String>>> = Arc::default();
    let c1 = run(seen1.clone());
    c1.start().await.unwrap();
    assert!(eventually(Duration::from_secs(15), || seen1.lock().len() >= 40).await);
    c1.shutdown().await;
    assert_eq!(seen1.lock().iter().cloned().collect::<HashSet<_>>(), first);

    let second = send(40, 70).await;
    let seen2: Arc<Mutex<Vec<String>>> = Arc::default();
    let c2 = run(seen2.clone());
    c2.start().await.unwrap();
    assert!(eventually(Duration::from_secs(15), || seen2.lock().len() >= 30).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got: Vec<String> = seen2.lock().clone();
    assert_eq!(got.len(), 30, "only the new messages, once each");
    assert_eq!(got.into_iter().collect::<HashSet<_>>(), second);
    c2.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_consumer_poll_commit_seek() {
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("PullTopic", 2).await;
    let producer = cluster.producer("PG-pull").await;
    for i in 0..20 {
        producer
            .send(Message::new("PullTopic", format!("{i}")))
            .await
            .unwrap();
    }
    let consumer = PullConsumer::builder()
        .group("CG-pull")
        .name_server(&cluster.ns_addr)
        .consume_from(ConsumeFrom::FirstOffset)
        .auto_commit(false)
        .build()
        .unwrap();
    consumer.start().await.unwrap();
    let queues = consumer.fetch_queues("PullTopic").await.unwrap();
    assert_eq!(queues.len(), 2);
    consumer.assign(queues.clone());
    let mut got = Vec::new();
    while got.len() < 20 {
        let batch = consumer.poll(Duration::from_secs(3)).await.unwrap();
        assert!(!batch.is_empty(), "poll timed out with {} of 20", got.len());
        got.extend(batch);
    }
    assert_eq!(got.len(), 20);
    consumer.commit().await.unwrap();
    let committed: i64 = {
        let mut sum = 0;
        for q in &queues {
            sum += consumer.committed(q).await.unwrap().unwrap();
        }
        sum
    };
    assert_eq!(committed, 20);
    // Nothing new: poll waits (long polling) and returns empty.
    let started = std::time::Instant::now();
    assert!(consumer
        .poll(Duration::from_millis(800))
        .await
        .unwrap()
        .is_empty());
    assert!(started.elapsed() >= Duration::from_millis(700));
    // Seek back and read again.
    consumer.seek(&queues[0], 0).unwrap();
    let again = consumer.poll(Duration::from_secs(3)).await.unwrap();
    assert!(!again.is_empty());
    assert!(again.iter().all(|m| m.queue_id == queues[0].queue_id));
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}
