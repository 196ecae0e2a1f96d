//! Request-reply: `Producer::request` waits for the reply a responder sends with
//! `Producer::reply`; the broker that receives the reply pushes it to the requester
//! (PUSH_REPLY_MESSAGE_TO_CLIENT). Sequential, concurrent and callback requests each get their
//! own reply; a request nobody answers times out saying it was sent; a reply whose requester
//! is gone is refused naming the client.

use std::time::Duration;

use rmq_client::consumer::{AsyncConcurrentListener, ConsumeConcurrentlyContext};
use rmq_client::{ClientError, ConsumeConcurrentlyStatus, Message, MessageExt, Producer};

use crate::harness::*;

/// Answers every request with `re:` + its body.
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
            let body = format!("re:{}", String::from_utf8_lossy(&m.body));
            if let Err(e) = self.replies.reply(m, body).await {
                eprintln!("reply failed: {e}");
                return ConsumeConcurrentlyStatus::ReconsumeLater;
            }
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    }
}

fn text(m: &MessageExt) -> String {
    String::from_utf8_lossy(&m.body).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_get_their_replies_sequential_concurrent_and_by_callback() {
    round_trips(Cluster::start(1, &[]).await).await;
}

/// Requests and replies spread over two brokers: a reply often lands on the broker that did
/// not store its request, which pushes it to the requester all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_replies_over_two_brokers() {
    round_trips(Cluster::start(2, &[]).await).await;
}

async fn round_trips(cluster: Cluster) {
    cluster.create_topic("ReqTopic", 4).await;
    let replies = cluster.producer("PG-responder").await;
    let consumer = cluster
        .consumer("CG-responder")
        .subscribe("ReqTopic", "*")
        .listener_concurrently_async(Responder {
            replies: replies.clone(),
        })
        .build()
        .await
        .unwrap();
    let requester = cluster.producer("PG-requester").await;

    // The first request also waits for the responder's first pulls.
    let first = requester
        .request(Message::new("ReqTopic", "q0"), Duration::from_secs(45))
        .await
        .unwrap();
    assert_eq!(text(&first), "re:q0");
    assert_eq!(first.topic, format!("{}_REPLY_TOPIC", cluster.name));
    assert!(first.property("ARRIVE_TIME").is_some());
    for i in 1..5 {
        let r = requester
            .request(
                Message::new("ReqTopic", format!("q{i}")),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        assert_eq!(text(&r), format!("re:q{i}"));
    }
    // Many at once: each reply finds its own request.
    let many = (0..20).map(|i| {
        let p = requester.clone();
        async move {
            let r = p
                .request(
                    Message::new("ReqTopic", format!("c{i}")),
                    Duration::from_secs(10),
                )
                .await
                .unwrap();
            (i, text(&r))
        }
    });
    for (i, body) in futures::future::join_all(many).await {
        assert_eq!(body, format!("re:c{i}"));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    requester.request_with_callback(
        Message::new("ReqTopic", "cb"),
        Duration::from_secs(10),
        move |r| {
            let _ = tx.send(r.map(|m| text(&m)));
        },
    );
    assert_eq!(rx.await.unwrap().unwrap(), "re:cb");

    consumer.shutdown().await;
    requester.shutdown().await;
    replies.shutdown().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_request_times_out_and_a_reply_to_nobody_is_refused() {
    let cluster = Cluster::start(1, &[]).await;
    cluster.create_topic("ReqNobody", 1).await;
    let p = cluster.producer("PG-lonely").await;
    let e = p
        .request(
            Message::new("ReqNobody", "hello?"),
            Duration::from_millis(500),
        )
        .await
        .unwrap_err();
    match &e {
        ClientError::RequestTimeout { topic, .. } => assert_eq!(topic, "ReqNobody"),
        other => panic!("expected a request timeout, got {other}"),
    }
    assert!(
        e.to_string()
            .contains("send request message to <ReqNobody> OK"),
        "{e}"
    );

    // A reply whose requester is not connected: the broker says so, naming the client.
    let gone = Message::new(format!("{}_REPLY_TOPIC", cluster.name), "late")
        .with_property("MSG_TYPE", "reply")
        .with_property("CORRELATION_ID", "c-gone")
        .with_property("REPLY_TO_CLIENT", "10.255.0.1@gone");
    let e = p.send(gone).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("channel of <10.255.0.1@gone> not found"),
        "{e}"
    );
    p.shutdown().await;
    cluster.shutdown().await;
}
