//! Offsets survive a consumer restart: nothing consumed is redelivered after a clean shutdown,
//! nothing sent while no consumer ran is lost. Also the pull consumer's poll/commit/seek.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{
    Admin, ConsumeConcurrentlyStatus, ConsumeFrom, Message, MessageExt, PullConsumer,
};

use crate::harness::*;

/// The offset the (first) broker holds for `group` on queue `queue_id` of `topic`.
async fn committed(
    cluster: &Cluster,
    admin: &Admin,
    group: &str,
    topic: &str,
    queue_id: i32,
) -> Option<i64> {
    admin
        .query_consumer_offset(&cluster.broker_addrs[0], group, topic, queue_id)
        .await
        .unwrap()
}

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
    };
    let seen1: Arc<Mutex<Vec<String>>> = Arc::default();
    let c1 = run(seen1.clone()).await.unwrap();
    assert!(eventually(Duration::from_secs(15), || seen1.lock().len() >= 40).await);
    c1.shutdown().await;
    assert_eq!(seen1.lock().iter().cloned().collect::<HashSet<_>>(), first);

    let second = send(40, 70).await;
    let seen2: Arc<Mutex<Vec<String>>> = Arc::default();
    let c2 = run(seen2.clone()).await.unwrap();
    assert!(eventually(Duration::from_secs(15), || seen2.lock().len() >= 30).await);
    // A re-delivery of an old message would come before a marker sent to its queue later.
    let mut markers = HashSet::new();
    for q in producer.publish_queues("ResumeTopic").await.unwrap() {
        let r = producer
            .send_to_queue(Message::new("ResumeTopic", "marker"), &q)
            .await
            .unwrap();
        markers.insert(r.msg_id);
    }
    assert!(
        eventually(Duration::from_secs(15), || {
            let s = seen2.lock();
            markers.iter().all(|m| s.contains(m))
        })
        .await,
        "markers did not arrive"
    );
    let got: Vec<String> = seen2
        .lock()
        .iter()
        .filter(|id| !markers.contains(*id))
        .cloned()
        .collect();
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
        .await
        .unwrap();
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
    // A queue's commit that fails (logged) is sent again by the next commit, as Java's
    // persistAll does: commit until the broker shows all 20.
    crate::poll::until_within(
        Duration::from_secs(15),
        "the broker shows all 20 committed",
        || async {
            consumer.commit().await.unwrap();
            let mut sum = 0;
            for q in &queues {
                sum += consumer.committed(q).await.unwrap().unwrap_or(0);
            }
            (sum == 20).then_some(())
        },
    )
    .await;
    // Nothing new: poll waits (long polling) and returns empty.
    let started = std::time::Instant::now();
    assert!(consumer
        .poll(Duration::from_millis(800))
        .await
        .unwrap()
        .is_empty());
    assert!(started.elapsed() >= Duration::from_millis(700));
    // The long polls that call started are still held by the broker; the next call keeps
    // waiting on them, and a message sent meanwhile arrives once, through them.
    let late = producer
        .send(Message::new("PullTopic", "late"))
        .await
        .unwrap();
    let mut got_late = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while got_late.is_empty() && std::time::Instant::now() < deadline {
        got_late = consumer.poll(Duration::from_secs(3)).await.unwrap();
    }
    assert_eq!(
        got_late.iter().map(|m| m.msg_id()).collect::<Vec<_>>(),
        [late.msg_id],
        "the late message, once"
    );
    // Seek back and read again.
    consumer.seek(&queues[0], 0).unwrap();
    let again = consumer.poll(Duration::from_secs(3)).await.unwrap();
    assert!(!again.is_empty());
    assert!(again.iter().all(|m| m.queue_id == queues[0].queue_id));
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

/// A listener call still running when `shutdown` begins finishes, and what it consumed is
/// committed before the consumer leaves: a restarted member of the group does not get it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_commits_listener_calls_in_progress() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("ShutdownCommit", 1).await;
    let producer = cluster.producer("PG-shutdown-commit").await;
    for i in 0..5 {
        producer
            .send(Message::new("ShutdownCommit", format!("m{i}")))
            .await
            .unwrap();
    }
    producer.shutdown().await;
    let entered = Arc::new(AtomicUsize::new(0));
    // Set (and signalled) once the shutdown has stopped the queue.
    let release = Arc::new((Mutex::new(false), parking_lot::Condvar::new()));
    let (e, r) = (entered.clone(), release.clone());
    let consumer = cluster
        .consumer("CG-shutdown-commit")
        .consume_message_batch_max_size(5)
        .subscribe("ShutdownCommit", "*")
        .listener_concurrently(move |msgs| {
            e.fetch_add(msgs.len(), Ordering::SeqCst);
            // Held until the test has begun the shutdown.
            let (released, signal) = &*r;
            let mut released = released.lock();
            signal.wait_while(&mut released, |r| !*r);
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap();
    until("all five messages inside the listener", || {
        let n = entered.load(Ordering::SeqCst);
        async move { (n == 5).then_some(()) }
    })
    .await;
    // The listener returns only once the shutdown has taken the queue away (its first step,
    // before it stops the queue's work), so the call is in progress across the stop.
    let release_after_stop = async {
        until("shutdown to take the queue", || {
            let gone = consumer.assigned_queues().is_empty();
            async move { gone.then_some(()) }
        })
        .await;
        let (released, signal) = &*release;
        *released.lock() = true;
        signal.notify_all();
    };
    tokio::join!(consumer.shutdown(), release_after_stop);
    let admin = cluster.admin().await;
    let committed = committed(&cluster, &admin, "CG-shutdown-commit", "ShutdownCommit", 0).await;
    assert_eq!(committed, Some(5), "offset committed at shutdown");
    admin.shutdown().await;
    cluster.shutdown().await;
}

/// Shutdown while rebalance rounds run back to back: what was consumed is what the broker
/// holds afterwards, every time. A round under way when the shutdown takes the queues must not
/// add one back: adding reads the queue's start offset from the broker into memory, over what
/// was consumed since, and the shutdown would commit that older offset. Nothing is persisted
/// periodically here, so only the shutdown's commit moves the broker's offsets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_rebalance_rounds_commits_what_was_consumed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("RoundsAtShutdown", 4).await;
    let producer = cluster.producer("PG-rounds-at-shutdown").await;
    let queues = producer.publish_queues("RoundsAtShutdown").await.unwrap();
    let admin = cluster.admin().await;
    for round in 1..=4i64 {
        for q in &queues {
            for i in 0..10 {
                let m = Message::new("RoundsAtShutdown", format!("{round}-{i}"));
                producer.send_to_queue(m, q).await.unwrap();
            }
        }
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        let consumer = cluster
            .consumer("CG-rounds-at-shutdown")
            .rebalance_interval(Duration::from_millis(1))
            .persist_offset_interval(Duration::from_secs(3600))
            .subscribe("RoundsAtShutdown", "*")
            .listener_concurrently(move |msgs| {
                s.fetch_add(msgs.len(), Ordering::SeqCst);
                ConsumeConcurrentlyStatus::ConsumeSuccess
            })
            .build()
            .await
            .unwrap();
        let consumed = || seen.load(Ordering::SeqCst);
        assert!(eventually(Duration::from_secs(15), || consumed() >= 40).await);
        consumer.shutdown().await;
        assert_eq!(consumed(), 40, "round {round}: the new messages, once each");
        for q in &queues {
            let committed = committed(
                &cluster,
                &admin,
                "CG-rounds-at-shutdown",
                "RoundsAtShutdown",
                q.queue_id,
            )
            .await;
            assert_eq!(
                committed,
                Some(10 * round),
                "round {round}, queue {}",
                q.queue_id
            );
        }
    }
    producer.shutdown().await;
    admin.shutdown().await;
    cluster.shutdown().await;
}

/// The first commits of a group's many queues all land. Apache's broker creates a group's
/// offset table for a topic with a check-then-put, and runs offset updates on a thread pool:
/// first commits of several queues sent at once could lose all but one (a restarted member then
/// got those queues' messages again). The shutdown's commit is the only one here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_commits_of_many_queues_all_land() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const QUEUES: usize = 16;
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("FirstCommits", QUEUES as i32).await;
    let producer = cluster.producer("PG-first-commits").await;
    let queues = producer.publish_queues("FirstCommits").await.unwrap();
    assert_eq!(queues.len(), QUEUES);
    for q in &queues {
        producer
            .send_to_queue(Message::new("FirstCommits", "one"), q)
            .await
            .unwrap();
    }
    producer.shutdown().await;
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let consumer = cluster
        .consumer("CG-first-commits")
        .persist_offset_interval(Duration::from_secs(3600))
        .subscribe("FirstCommits", "*")
        .listener_concurrently(move |msgs| {
            s.fetch_add(msgs.len(), Ordering::SeqCst);
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(15), || seen.load(Ordering::SeqCst)
            >= QUEUES)
        .await
    );
    consumer.shutdown().await;
    let admin = cluster.admin().await;
    let mut missing = Vec::new();
    for q in &queues {
        let committed = committed(
            &cluster,
            &admin,
            "CG-first-commits",
            "FirstCommits",
            q.queue_id,
        )
        .await;
        if committed != Some(1) {
            missing.push((q.queue_id, committed));
        }
    }
    assert!(
        missing.is_empty(),
        "queues without their commit: {missing:?}"
    );
    admin.shutdown().await;
    cluster.shutdown().await;
}

/// The rest of Java's `DefaultLitePullConsumer` controls: a paused queue returns nothing until
/// resumed (shown with a marker on the other queue), `seek_to_begin`/`seek_to_end`,
/// `offset_for_timestamp`, and commits of chosen queues or chosen offsets only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_consumer_pause_resume_seek_ends_and_commit_chosen_queues() {
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("PullCtl", 2).await;
    let producer = cluster.producer("PG-pullctl").await;
    let queues = producer.publish_queues("PullCtl").await.unwrap();
    let (q0, q1) = (queues[0].clone(), queues[1].clone());
    for i in 0..10 {
        for q in [&q0, &q1] {
            let m = Message::new("PullCtl", format!("{}-{i}", q.queue_id));
            producer.send_to_queue(m, q).await.unwrap();
        }
    }
    let consumer = PullConsumer::builder()
        .group("CG-pullctl")
        .name_server(&cluster.ns_addr)
        .consume_from(ConsumeFrom::FirstOffset)
        .auto_commit(false)
        .build()
        .await
        .unwrap();
    consumer.assign(queues.clone());
    consumer.pause(std::slice::from_ref(&q1));
    let marker = Message::new("PullCtl", "marker-0");
    producer.send_to_queue(marker, &q0).await.unwrap();
    let mut got = Vec::new();
    while !got.iter().any(|m: &MessageExt| &m.body[..] == b"marker-0") {
        let batch = consumer.poll(Duration::from_secs(5)).await.unwrap();
        assert!(
            !batch.is_empty(),
            "poll timed out with {} messages",
            got.len()
        );
        got.extend(batch);
    }
    assert_eq!(got.len(), 11, "queue 0's ten and its marker");
    assert!(
        got.iter().all(|m| m.queue_id == q0.queue_id),
        "a paused queue returned messages"
    );

    consumer.resume(std::slice::from_ref(&q1));
    let mut from_q1 = Vec::new();
    while from_q1.len() < 10 {
        let batch = consumer.poll(Duration::from_secs(5)).await.unwrap();
        assert!(!batch.is_empty(), "queue 1 after resume: {}", from_q1.len());
        from_q1.extend(batch.into_iter().filter(|m| m.queue_id == q1.queue_id));
    }
    let offsets: Vec<i64> = from_q1.iter().map(|m| m.queue_offset).collect();
    assert_eq!(
        offsets,
        (0..10).collect::<Vec<_>>(),
        "resumed where it was paused"
    );

    // Back to the start of queue 0; queue 1 skips to its end, so only what is sent now comes.
    consumer.pause(std::slice::from_ref(&q0));
    consumer.seek_to_begin(&q0).await.unwrap();
    consumer.seek_to_end(&q1).await.unwrap();
    producer
        .send_to_queue(Message::new("PullCtl", "after-end"), &q1)
        .await
        .unwrap();
    let batch = consumer.poll(Duration::from_secs(5)).await.unwrap();
    let bodies: Vec<String> = batch
        .iter()
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    assert_eq!(bodies, ["after-end"]);
    consumer.resume(std::slice::from_ref(&q0));
    let batch = consumer.poll(Duration::from_secs(5)).await.unwrap();
    assert_eq!(batch[0].queue_id, q0.queue_id);
    assert_eq!(batch[0].queue_offset, 0, "seek_to_begin");
    assert_eq!(consumer.offset_for_timestamp(&q0, 0).await.unwrap(), 0);

    // Commit queue 0 only; then chosen offsets for queue 1.
    consumer.pause(&queues);
    consumer.seek(&q0, 7).unwrap();
    consumer
        .commit_queues(std::slice::from_ref(&q0))
        .await
        .unwrap();
    crate::poll::until_within(
        Duration::from_secs(15),
        "queue 0 committed at 7",
        || async { (consumer.committed(&q0).await.ok()? == Some(7)).then_some(()) },
    )
    .await;
    // Never committed: rmq says none, Apache 4.9.7 says 0 (its first offset); not 11, where
    // the consumer is.
    assert_eq!(
        consumer.committed(&q1).await.unwrap().unwrap_or(0),
        0,
        "a queue not chosen was committed"
    );
    let chosen = [(q1.clone(), 3)].into_iter().collect();
    consumer.commit_offsets(&chosen).await.unwrap();
    crate::poll::until_within(
        Duration::from_secs(15),
        "queue 1 committed at 3",
        || async { (consumer.committed(&q1).await.ok()? == Some(3)).then_some(()) },
    )
    .await;
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}
