//! Every name server down: producers keep sending to the broker they know and consumers keep
//! consuming from it; when the name server comes back (same address, empty tables), the broker
//! registers again and a client that never saw the route finds it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/collect.rs"]
mod collect;
#[path = "support/until.rs"]
mod until;

use std::time::Duration;

use rmq_client::{Admin, Message, Producer, PushConsumer, TopicConfig, TopicTarget};
use rmq_testkit::{broker_process, namesrv_process, namesrv_restart, test_dir};
use until::until_within;

const LIMIT: Duration = Duration::from_secs(60);
const TOPIC: &str = "Outage";

async fn producer(ns: &str, group: &str) -> Producer {
    Producer::builder()
        .group(group)
        .name_server(ns)
        .route_poll_interval(Duration::from_secs(1))
        .heartbeat_interval(Duration::from_secs(1))
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_ride_out_a_name_server_outage() {
    let dir = test_dir("ns-outage");
    let (ns_d, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let (b_d, broker) = broker_process(dir.path(), "broker-a", &ns, "").unwrap();
    let admin = Admin::builder().name_server(&ns).build().await.unwrap();
    until_within(LIMIT, "the topic is routed", || async {
        admin
            .create_topic(
                TopicTarget::Broker(broker.clone()),
                &TopicConfig::new(TOPIC, 4, 4, 6),
            )
            .await
            .ok()?;
        admin.topic_route(TOPIC).await.ok()
    })
    .await;
    admin.shutdown().await;

    let p = producer(&ns, "OutageP").await;
    until_within(LIMIT, "the producer sends", || async {
        p.send(Message::new(TOPIC, "before")).await.ok()
    })
    .await;
    let (consumer, got) = collect::collecting(
        PushConsumer::builder()
            .group("OutageC")
            .name_server(&ns)
            .route_poll_interval(Duration::from_secs(1))
            .heartbeat_interval(Duration::from_secs(1))
            .subscribe(TOPIC, "*"),
    )
    .await;
    until_within(LIMIT, "the consumer receives the first message", || async {
        got.lock().iter().any(|b| b == "before").then_some(())
    })
    .await;

    // The name server dies; the broker notices when its registration fails.
    ns_d.kill().unwrap();
    until_within(LIMIT, "the broker's registration fails", || async {
        b_d.log_text()
            .contains("registration with name server failed")
            .then_some(())
    })
    .await;

    // Sends and consumption go on with the routes the clients hold.
    for i in 0..20 {
        p.send(Message::new(TOPIC, format!("during-{i}")))
            .await
            .unwrap_or_else(|e| panic!("send {i} during the outage failed: {e}"));
    }
    until_within(
        LIMIT,
        "the consumer receives all 20 sent during the outage",
        || async {
            let got = got.lock();
            (0..20)
                .all(|i| got.iter().any(|b| *b == format!("during-{i}")))
                .then_some(())
        },
    )
    .await;

    // Back on the same address: the broker registers again, and a client that has never seen
    // the route finds it there.
    let registered = |log: &str| log.matches("registered with name server").count();
    let before = registered(&b_d.log_text());
    let _ns_again = namesrv_restart(dir.path(), "namesrv", &ns).unwrap();
    until_within(LIMIT, "the broker registers again", || async {
        (registered(&b_d.log_text()) > before).then_some(())
    })
    .await;
    let newcomer = producer(&ns, "OutageNew").await;
    until_within(LIMIT, "a new producer finds the route", || async {
        newcomer.send(Message::new(TOPIC, "after")).await.ok()
    })
    .await;
    until_within(
        LIMIT,
        "the consumer receives the message sent after",
        || async { got.lock().iter().any(|b| b == "after").then_some(()) },
    )
    .await;
    consumer.shutdown().await;
    p.shutdown().await;
    newcomer.shutdown().await;
}
