//! Request-reply across clients and brokers: an rmq broker and an Apache broker in one
//! cluster, the official Java client and rmq_client each as requester and as responder. The
//! request topic lives on both brokers, so replies land on either and each broker pushes them
//! to the other kind of client.

use std::time::Duration;

use rmq_client::consumer::{AsyncConcurrentListener, ConsumeConcurrentlyContext};
use rmq_client::{
    ConsumeConcurrentlyStatus, ConsumeFrom, Message, MessageExt, Producer, PushConsumer,
};
use rmq_testkit::{broker_process, free_port, namesrv_process, test_dir};

use crate::apache::Apache;
use crate::java;
use crate::traffic::create_topic;

/// rmq_client's responder: answers `rust:` + body.
struct Responder {
    replies: Producer,
}

impl AsyncConcurrentListener for Responder {
    async fn consume(
        &self,
        msgs: &[MessageExt],
        _ctx: &mut ConsumeConcurrentlyContext,
    ) -> ConsumeConcurrentlyStatus {
        for m in msgs {
            let body = format!("rust:{}", String::from_utf8_lossy(&m.body));
            if self.replies.reply(m, body).await.is_err() {
                return ConsumeConcurrentlyStatus::ReconsumeLater;
            }
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Java and Apache's daemons: run .ci/apache-interop.sh"]
async fn request_reply_between_java_and_rmq_client_over_both_brokers() {
    let dir = test_dir("mixed-request-reply");
    let (_ns, ns) = namesrv_process(dir.path(), "namesrv").unwrap();
    let (_a, _) = broker_process(dir.path(), "broker-a", &ns, "").unwrap();
    let _b = Apache::broker(dir.path(), &ns, free_port(), "brokerName=broker-b");

    // Java asks, rmq_client answers.
    let to_rust = "MixedRequestToRust";
    create_topic(&ns, to_rust, 2).await;
    let replies = Producer::builder()
        .group("PG-rust-responder")
        .name_server(&ns)
        .build()
        .await
        .unwrap();
    let responder = PushConsumer::builder()
        .group("CG-rust-responder")
        .name_server(&ns)
        .consume_from(ConsumeFrom::FirstOffset)
        .subscribe(to_rust, "*")
        .listener_concurrently_async(Responder {
            replies: replies.clone(),
        })
        .build()
        .await
        .unwrap();
    let got = java::request(&ns, to_rust, 8, "jq").await;
    assert_eq!(
        got.len(),
        8,
        "Java's requests answered by rmq_client: {got:?}"
    );
    for (q, r) in &got {
        assert_eq!(r, &format!("rust:{q}"));
    }
    responder.shutdown().await;
    replies.shutdown().await;

    // rmq_client asks, Java answers.
    let to_java = "MixedRequestToJava";
    create_topic(&ns, to_java, 2).await;
    let java_side = java::respond(&ns, "CG-java-responder", to_java, 8);
    let requester = Producer::builder()
        .group("PG-rust-requester")
        .name_server(&ns)
        .build()
        .await
        .unwrap();
    for i in 0..8 {
        let q = format!("rq-{i}");
        // The first request also waits for the Java responder to start consuming.
        let timeout = Duration::from_secs(if i == 0 { 60 } else { 15 });
        let r = requester
            .request(Message::new(to_java, q.clone()), timeout)
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&r.body), format!("java:{q}"));
    }
    requester.shutdown().await;
    let out = java_side.await.unwrap();
    assert!(out.contains("done replied=8"), "Java responder:\n{out}");
}
