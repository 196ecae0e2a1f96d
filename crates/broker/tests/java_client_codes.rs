//! Request codes and behaviours the official Java clients rely on, found by running them against
//! rmq (interop/java); each test is the lowest-level regression test of one finding.
#![allow(clippy::unwrap_used)]

mod common;

use common::cluster;
use common::*;
use rmq_common::record::decode_messages;
use rmq_remoting::header::{pull_sys_flag, PullMessageResponseHeader};
use rmq_remoting::{RequestCode, ResponseCode};

/// 5.x DefaultLitePullConsumer pulls with LITE_PULL_MESSAGE (361): PULL_MESSAGE's header and
/// answer under another code. Unanswered, the lite pull consumer receives nothing.
#[tokio::test]
async fn lite_pull_message_is_answered_like_pull_message() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    for body in [&b"one"[..], b"two"] {
        let resp = c
            .invoke(&addr, send_request("TopicLite", 0, body, None), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(resp.response_code(), ResponseCode::Success);
    }
    let resp = pull_until_found(&c, &addr, || {
        let mut req = pull_request(
            "GLite",
            "TopicLite",
            0,
            0,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("*"),
        );
        req.code = i32::from(RequestCode::LitePullMessage);
        req
    })
    .await;
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    let h: PullMessageResponseHeader = resp.decode_header().unwrap();
    assert_eq!(h.next_begin_offset, 2);
    let bodies: Vec<Vec<u8>> = decode_messages(&resp.body)
        .unwrap()
        .into_iter()
        .map(|m| m.message.body.to_vec())
        .collect();
    assert_eq!(bodies, vec![b"one".to_vec(), b"two".to_vec()]);
    broker.shutdown().await;
}

/// A topic auto-created by a send is in the name server's route by the time the producer has
/// SEND_OK (Apache registers before answering). Java consumers started right after the
/// producer otherwise found no route and waited a full rebalance period (20 s).
#[tokio::test]
async fn auto_created_topic_is_routed_before_send_ok() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start_namesrv(dir.path()).await;
    let ns_addr = ns.local_addr().to_string();
    let broker = start(config(dir.path(), &[("namesrvAddr", &ns_addr)])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    // The broker's first registration (TBW102 routed) is a precondition, polled.
    cluster::wait_until("the broker's first registration", TIMEOUT, || async {
        cluster::route(&c, &ns_addr, "TBW102").await.is_some()
    })
    .await;
    for topic in ["AutoRouted1", "AutoRouted2"] {
        let resp = c
            .invoke(&addr, send_request(topic, 0, b"x", None), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(
            resp.response_code(),
            ResponseCode::Success,
            "{:?}",
            resp.remark
        );
        // No waiting here: the route must already be there.
        let route = cluster::route(&c, &ns_addr, topic).await;
        assert!(
            route.is_some_and(|r| !r.queue_datas.is_empty()),
            "{topic} not routed when SEND_OK arrived"
        );
    }
    broker.shutdown().await;
    ns.shutdown().await;
}
