//! Sending and receiving: tags, batches, concurrent sends, compression, oneway, queries.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_client::{
    Compression, ConsumeConcurrentlyStatus, Message, MessageExt, Producer, SendStatus,
};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_receive_with_tag_filter() {
    let cluster = Cluster::start(1, &[]).await;
    let topic = "TagTopic";
    cluster.create_topic(topic, 4).await;
    let producer = cluster.producer("PG").await;

    let mut sent = HashSet::new();
    for i in 0..30 {
        let tag = ["TagA", "TagB", "TagC"][i % 3];
        let r = producer
            .send(
                Message::new(topic, format!("m{i}"))
                    .with_tags(tag)
                    .with_keys([format!("key-{i}")]),
            )
            .await
            .unwrap();
        assert_eq!(r.status, SendStatus::SendOk);
        assert_eq!(r.msg_id.len(), 32);
        if tag != "TagC" {
            sent.insert(r.msg_id);
        }
    }
    // Many sends in flight at once on one connection.
    let results = futures::future::join_all(
        (0..40).map(|i| producer.send(Message::new(topic, format!("async{i}")).with_tags("TagA"))),
    )
    .await;
    for r in results {
        sent.insert(r.unwrap().msg_id);
    }
    // A batch, each message with its own id.
    let batch: Vec<Message> = (0..10)
        .map(|i| Message::new(topic, format!("batch{i}")).with_tags("TagB"))
        .collect();
    let r = producer.send_batch(batch.clone()).await.unwrap();
    let ids: Vec<&str> = r.msg_id.split(',').collect();
    assert_eq!(ids.len(), 10);
    assert_eq!(r.offset_msg_id.split(',').count(), 10);
    sent.extend(ids.iter().map(|s| s.to_string()));
    // A compressed body comes back inflated.
    let big = "x".repeat(10_000);
    let r = producer
        .send(Message::new(topic, big.clone()).with_tags("TagA"))
        .await
        .unwrap();
    sent.insert(r.msg_id.clone());

    let got: Arc<Mutex<Vec<MessageExt>>> = Arc::default();
    let sink = got.clone();
    let consumer = cluster
        .consumer("CG-tags")
        .subscribe(topic, "TagA || TagB")
        .listener_concurrently(move |msgs| {
            sink.lock().extend(msgs.iter().cloned());
            ConsumeConcurrentlyStatus::ConsumeSuccess
        })
        .build()
        .await
        .unwrap();
    let want = sent.len();
    assert!(
        eventually(Duration::from_secs(15), || got.lock().len() >= want).await,
        "got {} of {want}",
        got.lock().len()
    );
    // A duplicate would come before a marker sent to its queue afterwards.
    let mut markers = HashSet::new();
    for q in producer.publish_queues(topic).await.unwrap() {
        let r = producer
            .send_to_queue(Message::new(topic, "marker").with_tags("TagA"), &q)
            .await
            .unwrap();
        markers.insert(r.msg_id);
    }
    assert!(
        eventually(Duration::from_secs(15), || {
            let g = got.lock();
            markers.iter().all(|id| g.iter().any(|m| &m.msg_id() == id))
        })
        .await,
        "markers did not arrive"
    );
    let got: Vec<MessageExt> = got
        .lock()
        .iter()
        .filter(|m| !markers.contains(&m.msg_id()))
        .cloned()
        .collect();
    assert_eq!(got.len(), want, "no duplicates, nothing extra");
    let ids: HashSet<String> = got.iter().map(|m| m.msg_id()).collect();
    let missing: Vec<_> = sent.difference(&ids).collect();
    let extra: Vec<_> = got
        .iter()
        .filter(|m| !sent.contains(&m.msg_id()))
        .map(|m| {
            (
                m.msg_id(),
                m.message.tags().map(str::to_owned),
                m.queue_offset,
            )
        })
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}; not sent (id, tag, offset) {extra:?}"
    );
    assert!(got.iter().all(|m| m.message.tags() != Some("TagC")));
    let big_msg = got.iter().find(|m| m.message.body.len() == 10_000).unwrap();
    assert_eq!(&big_msg.message.body[..], big.as_bytes());
    assert_eq!(big_msg.sys_flag & 1, 0);

    // Queries: by offset id, by UNIQ_KEY, by key.
    let admin = cluster.admin().await;
    let m = admin.view_message(&r.offset_msg_id).await.unwrap();
    assert_eq!(m.message.uniq_key(), Some(r.msg_id.as_str()));
    assert_eq!(&m.message.body[..], big.as_bytes());
    let m = admin.query_message_by_id(topic, &r.msg_id).await.unwrap();
    assert_eq!(m.message.uniq_key(), Some(r.msg_id.as_str()));
    let by_key = admin
        .query_message_by_key(topic, "key-4", 32, 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(by_key.len(), 1);
    assert_eq!(&by_key[0].message.body[..], b"m4");

    consumer.shutdown().await;
    producer.shutdown().await;
    admin.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lz4_and_zstd_bodies_are_stored_compressed_and_come_back_as_sent() {
    let cluster = Cluster::start(1, &[]).await;
    let topic = "PackedTopic";
    cluster.create_topic(topic, 1).await;
    let mut sent = Vec::new();
    for (c, bits) in [(Compression::Lz4, 0x100), (Compression::Zstd, 0x200)] {
        let producer = Producer::builder()
            .group(format!("PG-{c:?}"))
            .name_server(&cluster.ns_addr)
            .compression(c)
            .build()
            .await
            .unwrap();
        let body = format!("{c:?} ").repeat(3_000);
        let r = producer
            .send(Message::new(topic, body.clone()))
            .await
            .unwrap();
        assert_eq!(r.status, SendStatus::SendOk);
        sent.push((r.msg_id, body, bits));
        producer.shutdown().await;
    }
    let got = drain(
        &cluster,
        "CG-packed",
        topic,
        sent.len(),
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(got.len(), sent.len(), "got {} of {}", got.len(), sent.len());
    for (id, body, bits) in &sent {
        let m = got
            .iter()
            .find(|m| m.msg_id() == *id)
            .expect("each message arrives");
        assert_eq!(m.message.body.as_ref(), body.as_bytes(), "the body as sent");
        // Stored with its type bits; the COMPRESSED bit is cleared once decompressed.
        assert_eq!(m.sys_flag & 0x701, *bits, "sysFlag {:#x}", m.sys_flag);
    }
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_created_topic_oneway_and_errors() {
    let cluster = Cluster::start(1, &[]).await;
    let producer = cluster.producer("PG2").await;
    // No route yet: the producer goes through TBW102 and the broker creates the topic.
    let r = producer
        .send(Message::new("AutoTopic", "first"))
        .await
        .unwrap();
    assert_eq!(r.status, SendStatus::SendOk);
    producer
        .send_oneway(Message::new("AutoTopic", "oneway"))
        .await
        .unwrap();
    let delayed = producer
        .send(Message::new("AutoTopic", "later").with_delay_level(1))
        .await
        .unwrap();
    assert_eq!(delayed.status, SendStatus::SendOk);

    let too_big = producer
        .send(Message::new("AutoTopic", vec![0u8; 4 * 1024 * 1024 + 1]))
        .await
        .unwrap_err();
    assert!(
        matches!(too_big, rmq_client::ClientError::MessageTooLarge { .. }),
        "{too_big}"
    );
    let bad = producer
        .send(Message::new("bad topic!", "x"))
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("bad topic!"), "{bad}");

    producer.shutdown().await;
    let after = producer
        .send(Message::new("AutoTopic", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(after, rmq_client::ClientError::ShutDown),
        "{after}"
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_server_failover() {
    let cluster = Cluster::start(1, &[]).await;
    // The first name server in the list is down.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let producer = rmq_client::Producer::builder()
        .group("PG3")
        .name_server(&format!("{dead};{}", cluster.ns_addr))
        .build()
        .await
        .unwrap();
    for i in 0..5 {
        producer
            .send(Message::new("FailoverTopic", format!("{i}")))
            .await
            .unwrap();
    }
    producer.shutdown().await;

    // Every name server down: the error names the topic and the servers tried.
    let lonely = rmq_client::Producer::builder()
        .name_server(&dead)
        .build()
        .await
        .unwrap();
    let e = lonely.send(Message::new("T", "x")).await.unwrap_err();
    assert!(e.to_string().contains(&dead), "{e}");
    lonely.shutdown().await;
    cluster.shutdown().await;
}
