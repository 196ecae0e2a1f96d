//! High availability with the real binaries: a master and its slave from the shipped
//! `deploy/conf/2m-2s-async` files, the slave killed and restarted while the master takes sends.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rmq_common::message::{encode_properties, keys, Properties};
use rmq_remoting::body::KVTable;
use rmq_remoting::header::{SendMessageRequestHeader, SendMessageRequestHeaderV2};
use rmq_remoting::json::JsonBody;
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode, ResponseCode};
mod common;

use common::cluster::{broker_process, namesrv_process, shipped_conf};

const T: Duration = Duration::from_secs(10);

fn send(topic: &str, i: usize) -> RemotingCommand {
    let mut props = Properties::new();
    props.insert(keys::UNIQ_KEY.into(), format!("ID{i:08}"));
    let h = SendMessageRequestHeader {
        producer_group: "PG".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: (i % 4) as i32,
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
    .with_body(Bytes::from(vec![b'h'; 512]))
}

/// Sends `n` messages with 32 in flight; every one must be SEND_OK.
async fn send_many(c: &RemotingClient, addr: &str, from: usize, n: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..32 {
        let (c, addr) = (c.clone(), addr.to_owned());
        tasks.spawn(async move {
            for i in (from + w..from + n).step_by(32) {
                let r = c.invoke(&addr, send("HaTopic", i), T).await.unwrap();
                assert_eq!(
                    r.response_code(),
                    ResponseCode::Success,
                    "send {i}: {:?}",
                    r.remark
                );
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
}

async fn runtime(c: &RemotingClient, addr: &str) -> BTreeMap<String, String> {
    let r = c
        .invoke(
            addr,
            RemotingCommand::new_request(RequestCode::GetBrokerRuntimeInfo),
            T,
        )
        .await
        .unwrap();
    KVTable::from_json_bytes(&r.body).unwrap().table
}

async fn wait_caught_up(c: &RemotingClient, master: &str, slave: &str) -> Duration {
    let t0 = Instant::now();
    loop {
        let m = runtime(c, master).await["commitLogMaxOffset"].clone();
        let s = runtime(c, slave).await;
        if s.get("commitLogMaxOffset") == Some(&m) {
            return t0.elapsed();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "slave stuck at {:?}, master at {m}",
            s.get("commitLogMaxOffset")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_slave_follows_survives_its_own_restart_and_never_blocks_the_master() {
    let dir = rmq_testkit::test_dir("rmq-ha-async");
    let dir = dir.path();
    let (_ns, ns) = namesrv_process(dir, "namesrv");
    let (m_conf, m_port) = shipped_conf(dir, "2m-2s-async", "broker-a", "");
    let (s_conf, s_port) = shipped_conf(dir, "2m-2s-async", "broker-a-s", "");
    let _master = broker_process(dir, "broker-a", &m_conf, &ns, m_port);
    let slave = broker_process(dir, "broker-a-s", &s_conf, &ns, s_port);
    let (m, s) = (format!("127.0.0.1:{m_port}"), format!("127.0.0.1:{s_port}"));
    let c = RemotingClient::new(ClientConfig::default());

    send_many(&c, &m, 0, 3_000).await;
    wait_caught_up(&c, &m, &s).await;
    let reported = runtime(&c, &m).await;
    assert_eq!(
        reported.get("haLagBytes").map(String::as_str),
        Some("0"),
        "{reported:?}"
    );
    assert!(reported["haStatus"].contains("1 slave"), "{reported:?}");

    // The slave dies: an ASYNC_MASTER keeps answering SEND_OK without waiting for it.
    slave.kill().unwrap();
    send_many(&c, &m, 3_000, 3_000).await;
    let behind: i64 = runtime(&c, &m).await["commitLogMaxOffset"].parse().unwrap();

    // Restarted, the slave resumes from its own end and catches up: same CommitLog end, no gap
    // or duplicate (it would be rejected or show as a different end).
    let _slave = broker_process(dir, "broker-a-s-restarted", &s_conf, &ns, s_port);
    wait_caught_up(&c, &m, &s).await;
    let s_end: i64 = runtime(&c, &s).await["commitLogMaxOffset"].parse().unwrap();
    assert_eq!(s_end, behind);
    let log =
        std::fs::read_to_string(dir.join("logs/broker-a-s-restarted.log")).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
}
