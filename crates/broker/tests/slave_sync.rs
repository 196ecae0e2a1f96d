//! A slave copies its master's topics, offsets and groups, learning the master's address from
//! the name server, so consumers that move to it resume where they were.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use rmq_remoting::header::{
    QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader,
    UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slave_copies_topics_and_offsets_from_its_master() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start_namesrv(dir.path()).await;
    let ns_addr = ns.local_addr().to_string();
    let master = start(config(
        &dir.path().join("master"),
        &[("namesrvAddr", &ns_addr), ("brokerIP1", "127.0.0.1")],
    ))
    .await;
    let m_addr = master.local_addr().to_string();
    let c = client();
    c.invoke(&m_addr, send_request("SyncMe", 1, b"x", None), TIMEOUT)
        .await
        .unwrap();
    c.invoke(&m_addr, heartbeat("c1", "GS", "SyncMe", "*"), TIMEOUT)
        .await
        .unwrap();
    let upd = UpdateConsumerOffsetRequestHeader {
        consumer_group: "GS".into(),
        topic: "SyncMe".into(),
        queue_id: 1,
        commit_offset: 1,
        rpc: Default::default(),
    };
    let r = c
        .invoke(
            &m_addr,
            RemotingCommand::request(RequestCode::UpdateConsumerOffset, &upd),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);

    let slave = start(config(
        &dir.path().join("slave"),
        &[
            ("namesrvAddr", &ns_addr),
            ("brokerIP1", "127.0.0.1"),
            ("brokerRole", "SLAVE"),
            ("brokerId", "1"),
        ],
    ))
    .await;
    let s_addr = slave.local_addr().to_string();
    let q = QueryConsumerOffsetRequestHeader {
        consumer_group: "GS".into(),
        topic: "SyncMe".into(),
        queue_id: 1,
        set_zero_if_not_found: Some(false),
        rpc: Default::default(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = c
            .invoke(
                &s_addr,
                RemotingCommand::request(RequestCode::QueryConsumerOffset, &q),
                TIMEOUT,
            )
            .await
            .unwrap();
        if r.response_code() == ResponseCode::Success {
            let h: QueryConsumerOffsetResponseHeader = r.decode_header().unwrap();
            assert_eq!(h.offset, 1);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slave never copied the master's offsets"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = c
        .invoke(
            &s_addr,
            RemotingCommand::new_request(RequestCode::GetAllTopicConfig),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&all.body).contains("\"SyncMe\""));
    slave.shutdown().await;
    master.shutdown().await;
    ns.shutdown().await;
}
