//! Request codes and behaviours the official Java clients rely on, found by running them against
//! rmq (interop/java); each test is the lowest-level regression test of one finding.
#![allow(clippy::unwrap_used)]

mod common;

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
