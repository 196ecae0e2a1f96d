//! Master/slave replication through the broker: a SYNC_MASTER answers SEND_OK only once its
//! slave has the message, the slave serves it to consumers, and without a slave the master
//! answers SLAVE_NOT_AVAILABLE while still storing the message.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use rmq_common::record::decode_messages;
use rmq_remoting::header::{pull_sys_flag, PullMessageResponseHeader};
use rmq_remoting::ResponseCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_master_waits_for_its_slave_and_the_slave_serves_reads() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start_namesrv(dir.path()).await;
    let ns_addr = ns.local_addr().to_string();
    let master = start(config(
        &dir.path().join("master"),
        &[
            ("namesrvAddr", &ns_addr),
            ("brokerIP1", "127.0.0.1"),
            ("brokerRole", "SYNC_MASTER"),
        ],
    ))
    .await;
    let m_addr = master.local_addr().to_string();
    let c = client();

    // No slave yet: stored, but SLAVE_NOT_AVAILABLE.
    let r = c
        .invoke(
            &m_addr,
            send_request("Replicated", 0, b"lonely", None),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(
        r.response_code(),
        ResponseCode::SlaveNotAvailable,
        "{:?}",
        r.remark
    );

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
    // Once the slave has connected, sends are acknowledged only after it has them.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = c
            .invoke(
                &m_addr,
                send_request("Replicated", 0, b"paired", None),
                TIMEOUT,
            )
            .await
            .unwrap();
        if r.response_code() == ResponseCode::Success {
            break;
        }
        assert_eq!(r.response_code(), ResponseCode::SlaveNotAvailable);
        assert!(Instant::now() < deadline, "the slave never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 0..50 {
        let r = c
            .invoke(
                &m_addr,
                send_request("Replicated", 0, b"replicated", None),
                TIMEOUT,
            )
            .await
            .unwrap();
        assert_eq!(
            r.response_code(),
            ResponseCode::Success,
            "send {i}: {:?}",
            r.remark
        );
    }
    // The slave has every message in its consume queue (the topic config arrives with the
    // metadata sync, so wait for it).
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut got = Vec::new();
    loop {
        let r = c
            .invoke(
                &s_addr,
                pull_request(
                    "GR",
                    "Replicated",
                    0,
                    got.len() as i64,
                    pull_sys_flag::SUBSCRIPTION,
                    0,
                    Some("*"),
                ),
                TIMEOUT,
            )
            .await
            .unwrap();
        if r.response_code() == ResponseCode::Success {
            let h: PullMessageResponseHeader = r.decode_header().unwrap();
            got.extend(decode_messages(&r.body).unwrap());
            assert!(h.max_offset >= got.len() as i64);
        }
        if got.len() >= 52 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "slave served only {} messages",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(&got[0].message.body[..], b"lonely");
    assert_eq!(&got[51].message.body[..], b"replicated");
    // A slave refuses writes.
    let r = c
        .invoke(&s_addr, send_request("Replicated", 0, b"x", None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::SystemBusy);
    slave.shutdown().await;
    master.shutdown().await;
    ns.shutdown().await;
}
