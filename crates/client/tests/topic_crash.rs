//! A topic the broker has confirmed survives a SIGKILL right after the confirmation: the
//! answer to `updateTopic` (UPDATE_AND_CREATE_TOPIC), and the SEND_OK of a send that
//! auto-created its topic, both come after `topics.json` is written, as in Apache's broker.
//! (Found by the clock-jump test: a kill within 100 ms of creating a topic lost it, and the
//! messages stored under it could no longer be read.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/until.rs"]
mod until;

use std::time::Duration;

use rmq_client::{Admin, Message, MessageQueue, Producer, TopicConfig, TopicTarget};
use rmq_testkit::{broker_process, broker_restart, namesrv_process, test_dir};
use until::until_within;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_topics_survive_a_kill_right_after_the_answer() {
    let dir = test_dir("topic-crash");
    let (_ns_d, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let (b, addr) = broker_process(
        dir.path(),
        "broker-a",
        &ns,
        "flushDiskType=SYNC_FLUSH\nautoCreateTopicEnable=true\n",
    )
    .unwrap();
    let admin = Admin::builder().name_server(&ns).build().await.unwrap();
    let producer = Producer::builder()
        .group("TopicCrashP")
        .name_server(&ns)
        .build()
        .await
        .unwrap();

    // The route of an admin-created topic is how the producer reaches the broker; the send
    // that auto-creates a topic goes to that broker's queue by name.
    admin
        .create_topic(
            TopicTarget::Broker(addr.clone()),
            &TopicConfig::new("Made", 3, 3, 6),
        )
        .await
        .unwrap();
    let auto = MessageQueue::new("AutoMade", "broker-a", 0);
    let sent = until_within(LIMIT, "the producer reaches the broker", || async {
        producer
            .send_to_queue(Message::new("AutoMade", "first"), &auto)
            .await
            .ok()
    })
    .await;
    // Both answers are in; nothing else happens before the kill.
    b.kill().unwrap();
    producer.shutdown().await;

    let _b = broker_restart(dir.path(), "broker-a", &ns, &addr).unwrap();
    let made = until_within(LIMIT, "the broker answers about Made", || async {
        admin.topic_stats(&addr, "Made").await.ok()
    })
    .await;
    assert_eq!(made.offset_table.len(), 3, "Made kept its three queues");
    let auto_stats = admin
        .topic_stats(&addr, "AutoMade")
        .await
        .expect("the auto-created topic survived the kill");
    let q0 = auto_stats
        .offset_table
        .iter()
        .find(|(mq, _)| mq.queue_id == 0)
        .map(|(_, o)| o.max_offset);
    assert_eq!(
        q0,
        Some(sent.queue_offset + 1),
        "the acknowledged message is still in AutoMade's queue 0"
    );
    admin.shutdown().await;
}
