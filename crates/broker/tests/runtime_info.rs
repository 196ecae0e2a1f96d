//! GET_BROKER_RUNTIME_INFO from the outside: the traffic figures move with the traffic.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use rmq_remoting::body::KVTable;
use rmq_remoting::header::pull_sys_flag;
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingClient, RemotingCommand, RequestCode, ResponseCode};

async fn runtime_info(c: &RemotingClient, addr: &str) -> BTreeMap<String, String> {
    let resp = c
        .invoke(
            addr,
            RemotingCommand::new_request(RequestCode::GetBrokerRuntimeInfo),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    KVTable::from_json_bytes(&resp.body).unwrap().table
}

fn number(t: &BTreeMap<String, String>, key: &str) -> i64 {
    t.get(key)
        .unwrap_or_else(|| panic!("{key} missing from {t:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// The three rates of a TPS line, checking Apache's "10s 60s 600s" shape.
fn rates(t: &BTreeMap<String, String>, key: &str) -> Vec<f64> {
    let v = t.get(key).unwrap_or_else(|| panic!("{key} missing"));
    let r: Vec<f64> = v.split(' ').map(|x| x.parse().unwrap()).collect();
    assert_eq!(r.len(), 3, "{key}={v}");
    r
}

#[tokio::test]
async fn traffic_figures_are_measured() {
    const N: i64 = 20;
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();

    let before = runtime_info(&c, &addr).await;
    assert_eq!(number(&before, "msgPutTotalTodayNow"), 0);
    assert!(
        !before.contains_key("earliestMessageTimeStamp"),
        "an empty store has no earliest message: {before:?}"
    );

    for _ in 0..N {
        let resp = c
            .invoke(&addr, send_request("RtTopic", 0, b"payload", None), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(resp.response_code(), ResponseCode::Success);
    }
    let after_put = runtime_info(&c, &addr).await;
    assert!(number(&after_put, "msgPutTotalTodayNow") >= N);
    assert!(rates(&after_put, "putTps")[0] > 0.0, "{after_put:?}");
    assert_eq!(
        rates(&after_put, "getTransferedTps"),
        vec![0.0, 0.0, 0.0],
        "nothing was pulled yet"
    );
    assert!(number(&after_put, "earliestMessageTimeStamp") > 0);
    let ratio: f64 = after_put["commitLogDiskRatio"].parse().unwrap();
    assert!((0.0..=1.0).contains(&ratio), "{ratio}");
    assert_eq!(number(&after_put, "msgGetTotalTodayNow"), 0);
    assert!(number(&after_put, "pageCacheLockTimeMills") >= 0);
    assert!(after_put["remainHowManyDataToFlush"].ends_with('B'));

    let resp = pull_until_found(&c, &addr, || {
        pull_request(
            "RtGroup",
            "RtTopic",
            0,
            0,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("*"),
        )
    })
    .await;
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let after_pull = runtime_info(&c, &addr).await;
    assert!(
        number(&after_pull, "msgGetTotalTodayNow") > 0,
        "{after_pull:?}"
    );
    assert!(rates(&after_pull, "getTransferedTps")[0] > 0.0);
    assert_eq!(
        rates(&after_pull, "getTransferredTps"),
        rates(&after_pull, "getTransferedTps")
    );
    assert_eq!(number(&after_pull, "pullThreadPoolQueueSize"), 0);

    // Consume stats tell the broker's end, the group's committed offset and where its pulls
    // have got to apart: nothing is committed, but the pull above handed out N messages.
    let stats = common::consume_stats(&c, &addr, "RtGroup", "RtTopic").await;
    let q0 = stats
        .offset_table
        .iter()
        .find(|(mq, _)| mq.queue_id == 0)
        .map(|(_, o)| *o)
        .unwrap();
    assert_eq!(q0.broker_offset, N);
    assert_eq!(q0.consumer_offset, 0);
    assert_eq!(q0.pull_offset, N);

    broker.shutdown().await;
}
