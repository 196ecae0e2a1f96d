//! Transactional messages against an in-process broker over real TCP: half messages are
//! invisible until committed, vanish on rollback, and an unknown outcome is resolved by asking
//! the producer group (CHECK_TRANSACTION_STATE), which answers END_TRANSACTION.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use rmq_common::message::{encode_properties, keys, Properties};
use rmq_common::record::decode_messages;
use rmq_common::sysflag::message as msg_flag;
use rmq_remoting::header::{
    pull_sys_flag, CheckTransactionStateRequestHeader, EndTransactionRequestHeader,
    GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, SendMessageRequestHeader, SendMessageRequestHeaderV2,
    SendMessageResponseHeader,
};
use rmq_remoting::transport::ProcessResult;
use rmq_remoting::{
    ClientConfig, RemotingClient, RemotingCommand, RequestCode, RequestContext, ResponseCode,
};

fn half(topic: &str, body: &'static [u8]) -> RemotingCommand {
    let mut props = Properties::new();
    props.insert(keys::TRAN_MSG.into(), "true".into());
    props.insert(keys::PGROUP.into(), "TPG".into());
    props.insert(
        keys::UNIQ_KEY.into(),
        format!("UNIQ-{}", String::from_utf8_lossy(body)),
    );
    let h = SendMessageRequestHeader {
        producer_group: "TPG".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 1,
        queue_id: 0,
        sys_flag: msg_flag::TRANSACTION_PREPARED_TYPE,
        born_timestamp: rmq_common::time::now_millis(),
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

fn end(resp: &RemotingCommand, decision: i32) -> RemotingCommand {
    let h: SendMessageResponseHeader = resp.decode_header().unwrap();
    let (_, offset) = rmq_common::msg_id::decode_offset_msg_id(&h.msg_id).unwrap();
    let e = EndTransactionRequestHeader {
        topic: None,
        producer_group: "TPG".into(),
        tran_state_table_offset: h.queue_offset,
        commit_log_offset: offset,
        commit_or_rollback: decision,
        from_transaction_check: Some(false),
        msg_id: h.transaction_id.clone().unwrap_or_default(),
        transaction_id: h.transaction_id,
        rpc: Default::default(),
    };
    RemotingCommand::request(RequestCode::EndTransaction, &e)
}

async fn visible(c: &RemotingClient, addr: &str, topic: &str) -> Vec<Vec<u8>> {
    let resp = c
        .invoke(
            addr,
            pull_request("G", topic, 0, 0, pull_sys_flag::SUBSCRIPTION, 0, Some("*")),
            TIMEOUT,
        )
        .await
        .unwrap();
    if resp.response_code() != ResponseCode::Success {
        return Vec::new();
    }
    decode_messages(&resp.body)
        .unwrap()
        .iter()
        .map(|m| m.message.body.to_vec())
        .collect()
}

async fn wait_visible(c: &RemotingClient, addr: &str, topic: &str, n: usize) -> Vec<Vec<u8>> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let v = visible(c, addr, topic).await;
        if v.len() >= n || std::time::Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a plain (non-transactional) message to queue 0 of `topic`.
async fn send_plain(c: &RemotingClient, addr: &str, topic: &str, body: &'static [u8]) {
    let r = c
        .invoke(addr, send_request(topic, 0, body, None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
}

/// Waits until the check service's scan position (the offset of `CID_RMQ_SYS_TRANS` on the half
/// topic) has reached the end of the half queue: every half message is resolved.
async fn wait_until_checked_through(c: &RemotingClient, addr: &str) {
    let half_topic = rmq_common::topic::RMQ_SYS_TRANS_HALF_TOPIC;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let max = c
            .invoke(
                addr,
                RemotingCommand::request(
                    RequestCode::GetMaxOffset,
                    &GetMaxOffsetRequestHeader {
                        topic: half_topic.into(),
                        queue_id: 0,
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
        let scanned = c
            .invoke(
                addr,
                RemotingCommand::request(
                    RequestCode::QueryConsumerOffset,
                    &QueryConsumerOffsetRequestHeader {
                        consumer_group: "CID_RMQ_SYS_TRANS".into(),
                        topic: half_topic.into(),
                        queue_id: 0,
                        set_zero_if_not_found: Some(false),
                        rpc: Default::default(),
                    },
                ),
                TIMEOUT,
            )
            .await
            .unwrap()
            .decode_header::<QueryConsumerOffsetResponseHeader>()
            .map_or(-1, |h| h.offset);
        if scanned >= max && max > 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the check service did not get through the half queue: at {scanned} of {max}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_publishes_and_rollback_discards() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    let a = c
        .invoke(&addr, half("Tx", b"commit-me"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(a.response_code(), ResponseCode::Success, "{:?}", a.remark);
    let b = c
        .invoke(&addr, half("Tx", b"roll-me-back"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(b.response_code(), ResponseCode::Success);
    // A plain message sent after the halves: once it is visible, the halves would be too.
    send_plain(&c, &addr, "Tx", b"marker-1").await;
    assert_eq!(
        wait_visible(&c, &addr, "Tx", 1).await,
        vec![b"marker-1".to_vec()],
        "half messages are invisible"
    );

    c.invoke_oneway(&addr, end(&a, msg_flag::TRANSACTION_COMMIT_TYPE), TIMEOUT)
        .await
        .unwrap();
    let v = wait_visible(&c, &addr, "Tx", 2).await;
    assert_eq!(v, vec![b"marker-1".to_vec(), b"commit-me".to_vec()]);
    // Answered once the rollback is done; anything it published would precede the marker.
    let r = c
        .invoke(&addr, end(&b, msg_flag::TRANSACTION_ROLLBACK_TYPE), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
    send_plain(&c, &addr, "Tx", b"marker-2").await;
    assert_eq!(
        wait_visible(&c, &addr, "Tx", 3).await,
        vec![
            b"marker-1".to_vec(),
            b"commit-me".to_vec(),
            b"marker-2".to_vec()
        ],
        "the rolled back message never appears"
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_outcome_is_resolved_by_the_producer_check() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(
        dir.path(),
        &[
            ("transactionCheckInterval", "300"),
            ("transactionTimeOut", "300"),
        ],
    ))
    .await;
    let addr = broker.local_addr().to_string();
    // The producer answers every check with COMMIT, from its own connection.
    let producer = RemotingClient::with_request_handler(
        ClientConfig::default(),
        |rc: RequestContext, req: RemotingCommand| async move {
            if req.request_code() == RequestCode::CheckTransactionState {
                let h: CheckTransactionStateRequestHeader = req.decode_header()?;
                let e = EndTransactionRequestHeader {
                    topic: h.topic.clone(),
                    producer_group: "TPG".into(),
                    tran_state_table_offset: h.tran_state_table_offset,
                    commit_log_offset: h.commit_log_offset,
                    commit_or_rollback: msg_flag::TRANSACTION_COMMIT_TYPE,
                    from_transaction_check: Some(true),
                    msg_id: h.msg_id.clone().unwrap_or_default(),
                    transaction_id: h.transaction_id.clone(),
                    rpc: Default::default(),
                };
                let _ = rc
                    .connection()
                    .send_oneway(RemotingCommand::request(RequestCode::EndTransaction, &e))
                    .await;
            }
            ProcessResult::Ok(None)
        },
    );
    let r = producer
        .invoke(&addr, producer_heartbeat("producer-1", "TPG"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
    let a = producer
        .invoke(&addr, half("TxCheck", b"decided-later"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(a.response_code(), ResponseCode::Success);
    // Tell the broker "unknown": only the check resolves it.
    producer
        .invoke_oneway(&addr, end(&a, msg_flag::TRANSACTION_NOT_TYPE), TIMEOUT)
        .await
        .unwrap();
    let c = client();
    let v = wait_visible(&c, &addr, "TxCheck", 1).await;
    assert_eq!(v, vec![b"decided-later".to_vec()]);
    // Resolved once: once the check service has walked past every half message there is
    // nothing left it could publish; a marker sent then is the next message.
    wait_until_checked_through(&c, &addr).await;
    send_plain(&c, &addr, "TxCheck", b"marker").await;
    assert_eq!(
        wait_visible(&c, &addr, "TxCheck", 2).await,
        vec![b"decided-later".to_vec(), b"marker".to_vec()]
    );
    broker.shutdown().await;
}
