//! Requests that name things a broker does not have, or ask for too much, get a bounded answer:
//! an offset commit for a queue the topic lacks is refused by name; queue locks are granted only
//! for this broker's queues; a key query answers at most 64 messages, whatever maxNum says.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::cluster::{create_topic, wait_until};
use common::*;
use rmq_common::record::decode_messages;
use rmq_common::MessageQueue;
use rmq_remoting::body::{LockBatchRequestBody, LockBatchResponseBody};
use rmq_remoting::header::{QueryMessageRequestHeader, UpdateConsumerOffsetRequestHeader};
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingClient, RemotingCommand, RequestCode, ResponseCode};

/// How many messages one QUERY_MESSAGE answers.
async fn query_hits(c: &RemotingClient, addr: &str, query: &QueryMessageRequestHeader) -> usize {
    let r = c
        .invoke(
            addr,
            RemotingCommand::request(RequestCode::QueryMessage, query),
            TIMEOUT,
        )
        .await
        .unwrap();
    match r.response_code() {
        ResponseCode::Success => decode_messages(&r.body).unwrap().len(),
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_queues_and_oversized_queries_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    create_topic(&c, &addr, "Bounded", 4).await;
    let hb = c
        .invoke(
            &addr,
            heartbeat("cid-1", "BoundedGroup", "Bounded", "*"),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(hb.response_code(), ResponseCode::Success);

    // An offset for queue 4 of a 4-queue topic: refused, naming the queue and the topic.
    let commit = |queue_id: i32| UpdateConsumerOffsetRequestHeader {
        consumer_group: "BoundedGroup".into(),
        topic: "Bounded".into(),
        queue_id,
        commit_offset: 1,
        rpc: Default::default(),
    };
    let r = c
        .invoke(
            &addr,
            RemotingCommand::request(RequestCode::UpdateConsumerOffset, &commit(4)),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::InvalidParameter);
    let remark = r.remark.unwrap_or_default();
    assert!(
        remark.contains("queueId 4") && remark.contains("Bounded"),
        "{remark}"
    );
    let r = c
        .invoke(
            &addr,
            RemotingCommand::request(RequestCode::UpdateConsumerOffset, &commit(3)),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);

    // Locks: only queues of this broker's topics, within their queue count.
    let mq = |topic: &str, broker: &str, id: i32| MessageQueue::new(topic, broker, id);
    let wanted: BTreeSet<MessageQueue> = [
        mq("Bounded", "broker-a", 0),
        mq("Bounded", "broker-a", 99),
        mq("Bounded", "broker-b", 1),
        mq("NoSuchTopic", "broker-a", 0),
    ]
    .into_iter()
    .collect();
    let body = LockBatchRequestBody {
        client_id: "cid-1".into(),
        consumer_group: "BoundedGroup".into(),
        mq_set: wanted,
        only_this_broker: false,
    };
    let r = c
        .invoke(
            &addr,
            RemotingCommand::new_request(RequestCode::LockBatchMq).with_body(body.to_json_bytes()),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
    let held = LockBatchResponseBody::from_json_bytes(&r.body)
        .unwrap()
        .lock_ok_mq_set;
    assert_eq!(held, [mq("Bounded", "broker-a", 0)].into_iter().collect());

    // 70 messages under one key; a query asking for 100,000 gets 64.
    for _ in 0..70 {
        let r = c
            .invoke(&addr, send_request("Bounded", 0, b"same", None), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(r.response_code(), ResponseCode::Success);
    }
    let query = QueryMessageRequestHeader {
        topic: "Bounded".into(),
        key: "k-4".into(),
        max_num: 100_000,
        begin_timestamp: 0,
        end_timestamp: i64::MAX,
        rpc: Default::default(),
    };
    let hits = || query_hits(&c, &addr, &query);
    wait_until(
        "the key index holds at least 64 hits",
        Duration::from_secs(15),
        || async { hits().await >= 64 },
    )
    .await;
    let found = hits().await;
    assert_eq!(found, 64, "the answer must stop at 64 of the 70 hits");
    broker.shutdown().await;
}
