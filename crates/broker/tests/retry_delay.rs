//! Delay levels, send-back retries and the dead-letter queue, over real TCP against an
//! in-process broker with a shortened delay table.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use rmq_common::message::{encode_properties, keys, Properties};
use rmq_common::record::decode_messages;
use rmq_common::MessageExt;
use rmq_remoting::header::{
    pull_sys_flag, ConsumerSendMsgBackRequestHeader, GetMaxOffsetRequestHeader,
    GetMaxOffsetResponseHeader, SendMessageRequestHeader, SendMessageRequestHeaderV2,
};
use rmq_remoting::{RemotingClient, RemotingCommand, RequestCode, ResponseCode};

const LEVELS: &str = "1s 1s 1s 1s 1s 1s";

fn delayed_send(topic: &str, body: &'static [u8], level: i32) -> RemotingCommand {
    let mut props = Properties::new();
    props.insert(keys::DELAY.into(), level.to_string());
    let h = SendMessageRequestHeader {
        producer_group: "PG".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 1,
        queue_id: 0,
        sys_flag: 0,
        born_timestamp: 1,
        flag: 0,
        properties: Some(encode_properties(&props)),
        reconsume_times: None,
        unit_mode: None,
        batch: None,
        max_reconsume_times: None,
        rpc: Default::default(),
    };
    RemotingCommand::request(
        RequestCode::SendMessageV2,
        &SendMessageRequestHeaderV2::from(&h),
    )
    .with_body(Bytes::from_static(body))
}

async fn pull(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    queue: i32,
    offset: i64,
) -> Vec<MessageExt> {
    let resp = c
        .invoke(
            addr,
            pull_request(
                "G",
                topic,
                queue,
                offset,
                pull_sys_flag::SUBSCRIPTION,
                0,
                Some("*"),
            ),
            TIMEOUT,
        )
        .await
        .unwrap();
    if resp.response_code() != ResponseCode::Success {
        eprintln!("pull {topic}: {:?} {:?}", resp.response_code(), resp.remark);
        return Vec::new();
    }
    decode_messages(&resp.body).unwrap()
}

async fn wait_pull(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    offset: i64,
    within: Duration,
) -> Vec<MessageExt> {
    let deadline = Instant::now() + within;
    loop {
        let m = pull(c, addr, topic, 0, offset).await;
        if !m.is_empty() {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "nothing arrived in {topic} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_message_arrives_after_its_level_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("messageDelayLevel", "1s 2s 3s")]);
    let broker = start(cfg.clone()).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    let sent = Instant::now();
    let resp = c
        .invoke(&addr, delayed_send("Delayed", b"later", 2), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    // A plain message sent right after: it is the first one readable, so the delayed one was
    // not visible before its delay.
    send_plain(&c, &addr, "Delayed", b"marker-1").await;
    let first = wait_pull(&c, &addr, "Delayed", 0, Duration::from_secs(6)).await;
    assert_eq!(
        &first[0].message.body[..],
        b"marker-1",
        "not visible before its delay"
    );
    let msgs = wait_pull(&c, &addr, "Delayed", 1, Duration::from_secs(6)).await;
    assert!(
        sent.elapsed() >= Duration::from_millis(1900),
        "arrived after {:?}",
        sent.elapsed()
    );
    assert_eq!(&msgs[0].message.body[..], b"later");
    assert_eq!(msgs[0].message.property(keys::DELAY), None);

    // A pending delayed message survives a restart.
    let resp = c
        .invoke(&addr, delayed_send("Delayed", b"pending", 3), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    broker.shutdown().await;
    let broker = start(cfg).await;
    let addr = broker.local_addr().to_string();
    let msgs = wait_pull(&c, &addr, "Delayed", 2, Duration::from_secs(8)).await;
    assert_eq!(&msgs[0].message.body[..], b"pending");
    // Delivered once: when every level has delivered all it holds, a marker is the next message.
    wait_schedule_drained(&c, &addr, 3).await;
    send_plain(&c, &addr, "Delayed", b"marker-2").await;
    let next = wait_pull(&c, &addr, "Delayed", 3, Duration::from_secs(6)).await;
    assert_eq!(&next[0].message.body[..], b"marker-2", "nothing after it");
    broker.shutdown().await;
}

/// Sends a plain message to queue 0 of `topic`.
async fn send_plain(c: &RemotingClient, addr: &str, topic: &str, body: &'static [u8]) {
    let r = c
        .invoke(addr, send_request(topic, 0, body, None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
}

/// Waits until every delay level's progress (GET_ALL_DELAY_OFFSET) has reached the end of its
/// schedule queue: nothing is left to deliver.
async fn wait_schedule_drained(c: &RemotingClient, addr: &str, levels: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let resp = c
            .invoke(
                addr,
                RemotingCommand::new_request(RequestCode::GetAllDelayOffset),
                TIMEOUT,
            )
            .await
            .unwrap();
        let table: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        let mut behind = Vec::new();
        for level in 1..=levels {
            let max = c
                .invoke(
                    addr,
                    RemotingCommand::request(
                        RequestCode::GetMaxOffset,
                        &GetMaxOffsetRequestHeader {
                            topic: rmq_store::SCHEDULE_TOPIC.into(),
                            queue_id: level - 1,
                            committed: None,
                            rpc: Default::default(),
                        },
                    ),
                    TIMEOUT,
                )
                .await
                .unwrap()
                .decode_header::<GetMaxOffsetResponseHeader>()
                .unwrap()
                .offset;
            let done = table["offsetTable"][level.to_string()]
                .as_i64()
                .unwrap_or(0);
            if done < max {
                behind.push((level, done, max));
            }
        }
        if behind.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "delay levels still behind (level, delivered, stored): {behind:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn send_back(m: &MessageExt, max: i32) -> RemotingCommand {
    let h = ConsumerSendMsgBackRequestHeader {
        offset: m.commit_log_offset,
        group: "G".into(),
        delay_level: 0,
        origin_msg_id: Some(m.msg_id()),
        origin_topic: Some(m.message.topic.clone()),
        unit_mode: Some(false),
        max_reconsume_times: Some(max),
        rpc: Default::default(),
    };
    RemotingCommand::request(RequestCode::ConsumerSendMsgBack, &h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_back_retries_then_dead_letters() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[("messageDelayLevel", LEVELS)])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    c.invoke(&addr, heartbeat("c1", "G", "Orders", "*"), TIMEOUT)
        .await
        .unwrap();
    let resp = c
        .invoke(
            &addr,
            send_request("Orders", 0, b"order-1", Some("TagA")),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let mut current = wait_pull(&c, &addr, "Orders", 0, Duration::from_secs(3))
        .await
        .remove(0);
    let origin = current.msg_id();

    // Two retries (max 2), each returning through %RETRY%G with a growing count.
    for attempt in 1..=2 {
        let resp = c
            .invoke(&addr, send_back(&current, 2), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(
            resp.response_code(),
            ResponseCode::Success,
            "{:?}",
            resp.remark
        );
        let msgs = wait_pull(&c, &addr, "%RETRY%G", attempt - 1, Duration::from_secs(6)).await;
        current = msgs[0].clone();
        assert_eq!(current.reconsume_times, attempt as i32);
        assert_eq!(current.message.property(keys::RETRY_TOPIC), Some("Orders"));
        assert_eq!(
            current.message.property(keys::ORIGIN_MESSAGE_ID),
            Some(origin.as_str())
        );
        assert_eq!(current.message.tags(), Some("TagA"));
        assert_eq!(&current.message.body[..], b"order-1");
    }
    // The third failure goes to the dead-letter queue, readable from there.
    let resp = c
        .invoke(&addr, send_back(&current, 2), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let dlq = wait_pull(&c, &addr, "%DLQ%G", 0, Duration::from_secs(3)).await;
    assert_eq!(&dlq[0].message.body[..], b"order-1");
    assert_eq!(dlq[0].reconsume_times, 3);
    broker.shutdown().await;
}
