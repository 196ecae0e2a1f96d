//! Clustering: three members share a topic's queues, every message goes to exactly one of them,
//! and the queues move when a member leaves or joins.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{ConsumeConcurrentlyStatus, Message, MessageQueue, PushConsumer};

use crate::harness::*;

async fn member(
    cluster: &Cluster,
    topic: &str,
    name: &str,
    seen: Arc<Mutex<HashMap<String, Vec<String>>>>,
) -> PushConsumer {
    let me = name.to_owned();
    cluster
        .consumer("CG-cluster")
        .instance_name(name)
        .subscribe(topic, "*")
        .listener_concurrently(move |msgs| {
            let mut s = seen.lock();
            for m in msgs {
                s.entry(m.msg_id()).or_default().push(me.clone());
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap()
}

/// Whether the members' assignments are disjoint and cover `all` (the topic's queues).
fn partitioned(members: &[&PushConsumer], all: &BTreeSet<MessageQueue>) -> bool {
    let mut union = BTreeSet::new();
    let mut total = 0;
    for m in members {
        let mine: Vec<MessageQueue> = m
            .assigned_queues()
            .into_iter()
            .filter(|q| all.contains(q))
            .collect();
        if mine.is_empty() {
            return false;
        }
        total += mine.len();
        union.extend(mine);
    }
    total == all.len() && &union == all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_each_message_once_and_rebalance() {
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("ClusterTopic", 8).await;
    let producer = cluster.producer("PG-cluster").await;
    let all: BTreeSet<MessageQueue> = producer
        .publish_queues("ClusterTopic")
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(all.len(), 8);

    let seen: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
    let c1 = member(&cluster, "ClusterTopic", "c1", seen.clone()).await;
    let c2 = member(&cluster, "ClusterTopic", "c2", seen.clone()).await;
    let c3 = member(&cluster, "ClusterTopic", "c3", seen.clone()).await;
    assert!(
        eventually(Duration::from_secs(20), || partitioned(
            &[&c1, &c2, &c3],
            &all
        ))
        .await,
        "queues not partitioned: {:?} {:?} {:?}",
        c1.assigned_queues(),
        c2.assigned_queues(),
        c3.assigned_queues()
    );

    let n = 300;
    let sends = (0..n).map(|i| producer.send(Message::new("ClusterTopic", format!("{i}"))));
    for r in futures::future::join_all(sends).await {
        r.unwrap();
    }
    assert!(eventually(Duration::from_secs(15), || seen.lock().len() >= n).await);
    // A duplicate would be a redelivery from an earlier offset of some queue: once a marker
    // sent to every queue after the messages has arrived, none can still be on its way.
    let mut markers = Vec::new();
    for q in &all {
        let r = producer
            .send_to_queue(Message::new("ClusterTopic", "marker"), q)
            .await
            .unwrap();
        markers.push(r.msg_id);
    }
    assert!(
        eventually(Duration::from_secs(15), || {
            let s = seen.lock();
            markers.iter().all(|m| s.contains_key(m))
        })
        .await,
        "markers did not arrive"
    );
    {
        let s = seen.lock();
        assert_eq!(s.len(), n + markers.len());
        assert!(
            s.values().all(|who| who.len() == 1),
            "a message was delivered twice"
        );
        let members: BTreeSet<&String> = s.values().flatten().collect();
        assert_eq!(members.len(), 3, "every member got messages");
    }

    // One member leaves: the other two take over its queues within the rebalance window.
    c3.shutdown().await;
    assert!(
        eventually(Duration::from_secs(25), || partitioned(&[&c1, &c2], &all)).await,
        "queues not taken over: {:?} {:?}",
        c1.assigned_queues(),
        c2.assigned_queues()
    );
    // ... and a new member joins.
    let c4 = member(&cluster, "ClusterTopic", "c4", seen.clone()).await;
    assert!(
        eventually(Duration::from_secs(25), || partitioned(
            &[&c1, &c2, &c4],
            &all
        ))
        .await,
        "new member got no share"
    );
    let before = seen.lock().len();
    assert_eq!(before, n + all.len());
    for i in 0..60 {
        producer
            .send(Message::new("ClusterTopic", format!("late{i}")))
            .await
            .unwrap();
    }
    assert!(eventually(Duration::from_secs(15), || seen.lock().len() >= before + 60).await);

    for c in [&c1, &c2, &c4] {
        c.shutdown().await;
    }
    producer.shutdown().await;
    cluster.shutdown().await;
}

/// Dropping a consumer without `shutdown` stops it: its tasks end, its connections close, the
/// broker drops it from the group and the remaining member takes all the queues. What is
/// checked is what the broker and the other member see, polled; nothing waits on a clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_consumer_stops_it_and_the_group_forgets_it() {
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("ClusterLeave", 4).await;
    let producer = cluster.producer("PG-drop").await;
    let all: BTreeSet<MessageQueue> = producer
        .publish_queues("ClusterLeave")
        .await
        .unwrap()
        .into_iter()
        .collect();
    let seen: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
    let stays = member(&cluster, "ClusterLeave", "stays", seen.clone()).await;
    let dropped = member(&cluster, "ClusterLeave", "dropped", seen.clone()).await;
    assert!(
        eventually(Duration::from_secs(20), || partitioned(
            &[&stays, &dropped],
            &all
        ))
        .await,
        "queues not shared"
    );
    // A clone shares the consumer: dropping one clone stops nothing.
    let clone = dropped.clone();
    drop(dropped);
    assert!(!clone.assigned_queues().is_empty());
    drop(clone);
    assert!(
        eventually(Duration::from_secs(20), || partitioned(&[&stays], &all)).await,
        "the dropped member kept its queues: {:?}",
        stays.assigned_queues()
    );
    // Every message now reaches the member that stayed.
    let r = producer
        .send(Message::new("ClusterLeave", "after-drop"))
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(15), || seen
            .lock()
            .get(&r.msg_id)
            .is_some_and(|who| who == &["stays".to_owned()]))
        .await
    );
    stays.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasting_every_member_sees_every_message() {
    use rmq_client::MessageModel;
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("BroadcastTopic", 4).await;
    let offsets_dir = tempfile::tempdir().unwrap();
    let counts: Arc<Mutex<HashMap<String, BTreeSet<String>>>> = Arc::default();
    let mut members = Vec::new();
    for name in ["b1", "b2", "b3"] {
        let counts = counts.clone();
        let me = name.to_owned();
        let c = cluster
            .consumer("CG-broadcast")
            .instance_name(name)
            .message_model(MessageModel::Broadcasting)
            .offset_store_dir(offsets_dir.path())
            .subscribe("BroadcastTopic", "*")
            .listener_concurrently(move |msgs| {
                let mut c = counts.lock();
                for m in msgs {
                    c.entry(me.clone()).or_default().insert(m.msg_id());
                }
                ConsumeConcurrentlyStatus::ConsumeSuccess
            })
            .build()
            .await
            .unwrap();
        members.push(c);
    }
    let producer = cluster.producer("PG-broadcast").await;
    for i in 0..50 {
        producer
            .send(Message::new("BroadcastTopic", format!("{i}")))
            .await
            .unwrap();
    }
    assert!(
        eventually(Duration::from_secs(15), || {
            let c = counts.lock();
            c.len() == 3 && c.values().all(|s| s.len() == 50)
        })
        .await,
        "{:?}",
        counts
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect::<Vec<_>>()
    );
    for c in &members {
        c.shutdown().await;
    }
    // Offsets were written to the local files.
    let files = walk(offsets_dir.path());
    assert_eq!(
        files.iter().filter(|p| p.ends_with("offsets.json")).count(),
        3,
        "{files:?}"
    );
    producer.shutdown().await;
    cluster.shutdown().await;
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}
