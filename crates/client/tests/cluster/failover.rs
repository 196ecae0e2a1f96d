//! A two-master cluster keeps accepting sends when one master goes away.

use std::collections::BTreeSet;

use rmq_client::{Message, SendStatus};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_continue_when_one_master_stops() {
    let mut cluster = Cluster::start(2, &[]).await;
    cluster.create_topic("TwoMasters", 4).await;
    let producer = cluster.producer("PG-ha").await;
    let mut brokers = BTreeSet::new();
    for i in 0..20 {
        let r = producer
            .send(Message::new("TwoMasters", format!("{i}")))
            .await
            .unwrap();
        brokers.insert(r.message_queue.broker_name.clone());
    }
    assert_eq!(brokers.len(), 2, "round robin spreads over both masters");

    cluster.shutdown_broker(0).await;
    for i in 0..40 {
        let r = producer
            .send(Message::new("TwoMasters", format!("after{i}")))
            .await
            .unwrap_or_else(|e| panic!("send {i} failed: {e}"));
        assert_eq!(r.status, SendStatus::SendOk);
        assert_eq!(r.message_queue.broker_name, "broker-b");
    }
    producer.shutdown().await;
    cluster.shutdown().await;
}
