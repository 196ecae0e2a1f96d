//! Message trace across clients: what rmq_client records, Java's own decoder reads, and what
//! the Java client records, rmq reads (`rmq_client::trace::decode_traces`, the decoder behind
//! `mqadmin queryMsgTraceById`). An rmq cluster with `traceTopicEnable=true`.

use rmq_client::trace::{decode_traces, TraceType, DEFAULT_TRACE_TOPIC};
use rmq_client::{ConsumeConcurrentlyStatus, ConsumeFrom, Message, Producer, PushConsumer};
use rmq_testkit::{broker_process, namesrv_process, test_dir};

use crate::java;
use crate::traffic::{admin, create_topic, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Java and Apache's daemons: run .ci/apache-interop.sh"]
async fn traces_written_by_one_client_read_by_the_other() {
    let dir = test_dir("mixed-trace");
    let (_ns, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let (_b, _) = broker_process(dir.path(), "broker-a", &ns, "traceTopicEnable=true").unwrap();
    let topic = "TracedMixed";
    create_topic(&ns, topic, 1).await;

    // rmq_client traces a send and its consumption; Java decodes the records.
    let p = Producer::builder()
        .group("PG-rust-traced")
        .name_server(&ns)
        .trace(true)
        .build()
        .await
        .unwrap();
    let sent = p.send(Message::new(topic, "from rust")).await.unwrap();
    p.shutdown().await;
    let consumer = PushConsumer::builder()
        .group("CG-rust-traced")
        .name_server(&ns)
        .consume_from(ConsumeFrom::FirstOffset)
        .subscribe(topic, "*")
        .trace(true)
        .listener_concurrently(|_| ConsumeConcurrentlyStatus::ConsumeSuccess)
        .build()
        .await
        .unwrap();
    let seen = java::read_trace(&ns, &sent.msg_id, 3).await;
    consumer.shutdown().await;
    assert!(
        seen.contains(&"Pub PG-rust-traced true".to_owned()),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.starts_with("SubBefore CG-rust-traced ")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.starts_with("SubAfter ") && l.ends_with(" true")),
        "{seen:?}"
    );

    // Java traces a send; rmq reads its record.
    let id = java::produce_traced(&ns, topic, "from java").await;
    let admin = admin(&ns).await;
    let record = until("the Java send's trace", || async {
        let msgs = admin
            .query_message_by_key(DEFAULT_TRACE_TOPIC, &id, 64, 0, i64::MAX)
            .await
            .ok()?;
        msgs.iter()
            .flat_map(|m| decode_traces(&String::from_utf8_lossy(&m.body)))
            .find(|r| r.msg_id == id && r.kind == TraceType::Pub)
    })
    .await;
    admin.shutdown().await;
    assert_eq!(record.group, "PG-java-traced");
    assert_eq!(record.topic, topic);
    assert!(record.success);
    assert!(!record.offset_msg_id.is_empty());
}
