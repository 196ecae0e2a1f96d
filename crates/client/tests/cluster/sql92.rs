//! SQL92 property filters: a consumer subscribed with `MessageSelector::sql` gets exactly the
//! messages whose properties make the expression true — from the backlog and from messages that
//! arrive while its pulls wait — and nothing else; brokers without `enablePropertyFilter=true`,
//! and malformed expressions, are refused when the consumer is built.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{ConsumeConcurrentlyStatus, Message, MessageSelector, Producer, ResponseCode};

use crate::harness::*;

const SELECTOR: &str = "(region = 'eu' AND price > 10) OR TAGS = 'VIP'";

/// Sends one message per (region, price, tag) and returns the bodies the selector matches.
async fn send_batch(p: &Producer, topic: &str, round: &str) -> BTreeSet<String> {
    let mut want = BTreeSet::new();
    for (i, region) in ["eu", "us", "eu", "apac"].iter().enumerate() {
        for price in [5, 10, 11, 50] {
            let tag = if i == 3 && price == 5 { "VIP" } else { "Plain" };
            let body = format!("{round}-{region}-{price}-{tag}-{i}");
            let m = Message::new(topic, body.clone())
                .with_tags(tag)
                .with_property("region", *region)
                .with_property("price", price.to_string());
            p.send(m).await.unwrap();
            if (*region == "eu" && price > 10) || tag == "VIP" {
                want.insert(body);
            }
        }
    }
    // A price that is not a number: the comparison fails, and the message is not delivered.
    let m = Message::new(topic, format!("{round}-eu-cheap"))
        .with_property("region", "eu")
        .with_property("price", "cheap");
    p.send(m).await.unwrap();
    // No properties at all: unknown, not delivered.
    p.send(Message::new(topic, format!("{round}-bare")))
        .await
        .unwrap();
    want
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql92_selects_by_properties_from_the_backlog_and_while_waiting() {
    let cluster = Cluster::start(1, &[("enablePropertyFilter", "true")]).await;
    cluster.create_topic("SqlTopic", 2).await;
    let producer = cluster.producer("PG-sql").await;
    let mut want = send_batch(&producer, "SqlTopic", "backlog").await;
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = got.clone();
    let consumer = cluster
        .consumer("CG-sql")
        .subscribe_with("SqlTopic", MessageSelector::sql(SELECTOR))
        .listener_concurrently(move |msgs| {
            sink.lock().extend(
                msgs.iter()
                    .map(|m| String::from_utf8_lossy(&m.body).into_owned()),
            );
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap();
    let arrived = |w: &BTreeSet<String>| {
        let g = got.lock();
        w.iter().all(|b| g.contains(b))
    };
    assert!(
        eventually(Duration::from_secs(15), || arrived(&want)).await,
        "backlog"
    );
    // Sent while the consumer's pulls are held: the wake-up filters too. The marker comes
    // last on each queue, so anything wrongly delivered before it has arrived by then.
    want.extend(send_batch(&producer, "SqlTopic", "live").await);
    for q in producer.publish_queues("SqlTopic").await.unwrap() {
        let body = format!("marker-{}", q.queue_id);
        let m = Message::new("SqlTopic", body.clone()).with_tags("VIP");
        producer.send_to_queue(m, &q).await.unwrap();
        want.insert(body);
    }
    assert!(
        eventually(Duration::from_secs(15), || arrived(&want)).await,
        "live"
    );
    let got: Vec<String> = got.lock().clone();
    let distinct: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(distinct, want, "exactly the matching messages");
    assert_eq!(got.len(), want.len(), "each once");
    consumer.shutdown().await;
    producer.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql92_is_refused_when_switched_off_or_malformed() {
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("SqlOff", 1).await;
    let build = |selector: &str| {
        cluster
            .consumer("CG-sql-off")
            .subscribe_with("SqlOff", MessageSelector::sql(selector))
            .listener_concurrently(|_| ConsumeConcurrentlyStatus::ConsumeSuccess)
            .build()
    };
    let e = build("a > 1")
        .await
        .expect_err("refused while switched off");
    assert_eq!(e.response_code(), Some(ResponseCode::SystemError), "{e}");
    assert!(e.to_string().contains("enablePropertyFilter"), "{e}");
    // A runtime key: switched on without a restart.
    let admin = cluster.admin().await;
    let on = [("enablePropertyFilter".to_owned(), "true".to_owned())].into();
    admin
        .update_broker_config(&cluster.broker_addrs[0], &on)
        .await
        .unwrap();
    let e = build("a > 1 AND b =").await.expect_err("malformed");
    assert_eq!(
        e.response_code(),
        Some(ResponseCode::SubscriptionParseFailed),
        "{e}"
    );
    assert!(e.to_string().contains("column 14"), "{e}");
    let c = build("a > 1").await.unwrap();
    c.shutdown().await;
    admin.shutdown().await;
    cluster.shutdown().await;
}
