//! The broker in-process on 127.0.0.1:0 with a temporary store, spoken to over real TCP.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use rmq_common::record::decode_messages;
use rmq_remoting::header::{
    pull_sys_flag, PullMessageResponseHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, SendMessageResponseHeader,
    UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode, SerializeType};

#[tokio::test]
async fn send_then_pull_in_both_header_forms() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    for (i, form) in [SerializeType::Json, SerializeType::RocketMq]
        .into_iter()
        .enumerate()
    {
        let req = send_request("TopicA", 0, b"hello", Some("TagA")).with_serialize_type(form);
        let resp = c.invoke(&addr, req, TIMEOUT).await.unwrap();
        assert_eq!(
            resp.response_code(),
            ResponseCode::Success,
            "{:?}",
            resp.remark
        );
        assert_eq!(resp.serialize_type, form, "answered in the request's form");
        let h: SendMessageResponseHeader = resp.decode_header().unwrap();
        assert_eq!(h.queue_id, 0);
        assert_eq!(h.queue_offset, i as i64);
        assert_eq!(h.msg_id.len(), 32);
    }
    let resp = pull_until_found(&c, &addr, || {
        pull_request(
            "G1",
            "TopicA",
            0,
            0,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("*"),
        )
        .with_serialize_type(SerializeType::RocketMq)
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
    assert_eq!(h.max_offset, 2);
    let msgs = decode_messages(&resp.body).unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(&msgs[0].message.body[..], b"hello");
    assert_eq!(msgs[0].message.tags(), Some("TagA"));
    assert!(
        msgs[0].message.uniq_key().is_some(),
        "the broker adds a UNIQ_KEY"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn tag_filtering_skips_other_tags() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    for (body, tag) in [(&b"a"[..], "TagA"), (b"b", "TagB"), (b"c", "TagA")] {
        let resp = c
            .invoke(&addr, send_request("TopicT", 1, body, Some(tag)), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(resp.response_code(), ResponseCode::Success);
    }
    let resp = pull_until_found(&c, &addr, || {
        pull_request(
            "G",
            "TopicT",
            1,
            0,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("TagA"),
        )
    })
    .await;
    let msgs = decode_messages(&resp.body).unwrap();
    let bodies: Vec<&[u8]> = msgs.iter().map(|m| &m.message.body[..]).collect();
    assert_eq!(bodies, vec![&b"a"[..], &b"c"[..]]);
    // A heartbeat-registered subscription filters the same way.
    let resp = c
        .invoke(&addr, heartbeat("c1", "G2", "TopicT", "TagB"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let resp = c
        .invoke(
            &addr,
            pull_request("G2", "TopicT", 1, 0, 0, 0, None),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    let msgs = decode_messages(&resp.body).unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(&msgs[0].message.body[..], b"b");
    broker.shutdown().await;
}

#[tokio::test]
async fn long_poll_wakes_on_send_and_times_out_empty() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    // Create the topic first.
    c.invoke(&addr, send_request("TopicL", 0, b"first", None), TIMEOUT)
        .await
        .unwrap();
    let flags = pull_sys_flag::SUSPEND | pull_sys_flag::SUBSCRIPTION;
    pull_until_found(&c, &addr, || {
        pull_request(
            "G",
            "TopicL",
            0,
            0,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("*"),
        )
    })
    .await;

    // Empty hold: answered PULL_NOT_FOUND after the suspend timeout.
    let t0 = Instant::now();
    let resp = c
        .invoke(
            &addr,
            pull_request("G", "TopicL", 0, 1, flags, 300, Some("*")),
            TIMEOUT,
        )
        .await
        .unwrap();
    let held = t0.elapsed();
    assert_eq!(resp.response_code(), ResponseCode::PullNotFound);
    assert!(
        held >= Duration::from_millis(280) && held < Duration::from_secs(3),
        "held {held:?}"
    );

    // A held pull is answered as soon as a message arrives.
    let c2 = c.clone();
    let addr2 = addr.clone();
    let pull = tokio::spawn(async move {
        let t = Instant::now();
        let r = c2
            .invoke(
                &addr2,
                pull_request("G", "TopicL", 0, 1, flags, 10_000, Some("*")),
                TIMEOUT,
            )
            .await
            .unwrap();
        (r, t.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent_at = Instant::now();
    c.invoke(&addr, send_request("TopicL", 0, b"second", None), TIMEOUT)
        .await
        .unwrap();
    let (resp, _) = pull.await.unwrap();
    let woke_after = sent_at.elapsed();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    // Woken by the arrival, not by the 10 s hold running out. The bound is generous so a busy
    // machine meets it; how fast the wake-up is belongs in `cargo xtask bench`, not here.
    assert!(
        woke_after < Duration::from_secs(5),
        "woke {woke_after:?} after the send"
    );
    let msgs = decode_messages(&resp.body).unwrap();
    assert_eq!(&msgs[0].message.body[..], b"second");
    broker.shutdown().await;
}

#[tokio::test]
async fn offsets_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[]);
    let broker = start(cfg.clone()).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    c.invoke(&addr, send_request("TopicO", 2, b"x", None), TIMEOUT)
        .await
        .unwrap();
    c.invoke(&addr, heartbeat("c1", "GO", "TopicO", "*"), TIMEOUT)
        .await
        .unwrap();
    let upd = UpdateConsumerOffsetRequestHeader {
        consumer_group: "GO".into(),
        topic: "TopicO".into(),
        queue_id: 2,
        commit_offset: 1,
        rpc: Default::default(),
    };
    let resp = c
        .invoke(
            &addr,
            RemotingCommand::request(RequestCode::UpdateConsumerOffset, &upd),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    broker.shutdown().await;

    let broker = start(cfg).await;
    let addr = broker.local_addr().to_string();
    let q = QueryConsumerOffsetRequestHeader {
        consumer_group: "GO".into(),
        topic: "TopicO".into(),
        queue_id: 2,
        set_zero_if_not_found: Some(false),
        rpc: Default::default(),
    };
    let resp = c
        .invoke(
            &addr,
            RemotingCommand::request(RequestCode::QueryConsumerOffset, &q),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let h: QueryConsumerOffsetResponseHeader = resp.decode_header().unwrap();
    assert_eq!(h.offset, 1);
    // The message is still there too.
    let resp = c
        .invoke(
            &addr,
            pull_request(
                "GO",
                "TopicO",
                2,
                0,
                pull_sys_flag::SUBSCRIPTION,
                0,
                Some("*"),
            ),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(decode_messages(&resp.body).unwrap().len(), 1);
    broker.shutdown().await;
}

#[tokio::test]
async fn auto_create_can_be_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[("autoCreateTopicEnable", "false")])).await;
    let addr = broker.local_addr().to_string();
    let resp = client()
        .invoke(&addr, send_request("NoSuchTopic", 0, b"x", None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::TopicNotExist);
    assert!(resp.remark.unwrap().contains("NoSuchTopic"));
    broker.shutdown().await;
}

#[tokio::test]
async fn oversize_message_is_refused_with_both_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[("maxMessageSize", "1024")])).await;
    let addr = broker.local_addr().to_string();
    static BIG: [u8; 2048] = [7u8; 2048];
    let resp = client()
        .invoke(&addr, send_request("TopicBig", 0, &BIG, None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::MessageIllegal);
    let remark = resp.remark.unwrap();
    assert!(
        remark.contains("2048") && remark.contains("1024"),
        "{remark}"
    );
    broker.shutdown().await;
}

#[tokio::test]
async fn slave_refuses_sends() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(
        dir.path(),
        &[("brokerRole", "SLAVE"), ("brokerId", "1")],
    ))
    .await;
    let addr = broker.local_addr().to_string();
    let resp = client()
        .invoke(&addr, send_request("TopicS", 0, b"x", None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::SystemBusy);
    assert!(resp.remark.unwrap().contains("SLAVE"));
    broker.shutdown().await;
}

#[tokio::test]
async fn overload_is_answered_system_busy() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(
        dir.path(),
        &[
            ("sendThreadPoolQueueCapacity", "1"),
            ("flushDiskType", "SYNC_FLUSH"),
        ],
    ))
    .await;
    let addr = broker.local_addr().to_string();
    let c = client();
    let sends: Vec<_> = (0..200)
        .map(|_| {
            let c = c.clone();
            let addr = addr.clone();
            tokio::spawn(async move {
                c.invoke(&addr, send_request("TopicB", 0, b"x", None), TIMEOUT)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut busy = 0;
    let mut ok = 0;
    for s in sends {
        match s.await.unwrap().response_code() {
            ResponseCode::SystemBusy => busy += 1,
            ResponseCode::Success => ok += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        busy > 0,
        "some sends must be refused when the queue is full"
    );
    assert!(ok > 0, "the broker keeps serving");
    broker.shutdown().await;
}

#[tokio::test]
async fn unknown_code_and_bad_header_get_clear_answers() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    let resp = c
        .invoke(&addr, RemotingCommand::new_request(9999), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::RequestCodeNotSupported);
    assert!(resp.remark.unwrap().contains("9999"));
    // A pull without its required fields.
    let resp = c
        .invoke(
            &addr,
            RemotingCommand::new_request(RequestCode::PullMessage),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::SystemError);
    assert!(resp.remark.unwrap().contains("consumerGroup"));
    broker.shutdown().await;
}
