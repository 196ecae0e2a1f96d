//! System tests: the real `mqnamesrv` and `mqbroker` binaries as separate processes, configured
//! from RocketMQ properties files, killed and restarted by the test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use rmq_common::message::{encode_properties, keys, Properties};
use rmq_common::record::decode_messages;
use rmq_remoting::body::TopicRouteData;
use rmq_remoting::header::{
    pull_sys_flag, PullMessageRequestHeader, SendMessageRequestHeader, SendMessageRequestHeaderV2,
    SendMessageResponseHeader,
};
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode, ResponseCode};
use rmq_testkit::Daemon;

mod common;

use common::cluster::{
    broker_process, create_topic, namesrv_process, route, shipped_conf, wait_until,
};

const T: Duration = Duration::from_secs(5);

fn broker_names(r: &TopicRouteData) -> Vec<String> {
    let mut v: Vec<String> = r
        .broker_datas
        .iter()
        .map(|b| b.broker_name.clone())
        .collect();
    v.sort();
    v
}

/// Starts a master from `deploy/conf/2m-noslave/<name>.properties`; returns it, its config,
/// port and address.
fn start_master(
    dir: &Path,
    name: &str,
    namesrv: &str,
    extra: &str,
) -> (Daemon, PathBuf, u16, String) {
    let (conf, port) = shipped_conf(dir, "2m-noslave", name, extra);
    let d = broker_process(dir, name, &conf, namesrv, port);
    (d, conf, port, format!("127.0.0.1:{port}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_name_servers_two_masters_and_a_name_server_dies() {
    let dir = rmq_testkit::test_dir("rmq-sys-2ns");
    let dir = dir.path();
    let (ns1, ns1_addr) = namesrv_process(dir, "namesrv-1");
    let (_ns2, ns2_addr) = namesrv_process(dir, "namesrv-2");
    let list = format!("{ns1_addr};{ns2_addr}");
    let (a, _, _, a_addr) = start_master(dir, "broker-a", &list, "");
    let (_b, _, _, _) = start_master(dir, "broker-b", &list, "");
    let client = RemotingClient::new(ClientConfig::default());

    // Every broker registers with every name server.
    for ns in [&ns1_addr, &ns2_addr] {
        wait_until(
            "both brokers in the route",
            Duration::from_secs(10),
            || async {
                route(&client, ns, "TBW102")
                    .await
                    .is_some_and(|r| broker_names(&r) == ["broker-a", "broker-b"])
            },
        )
        .await;
    }

    // One name server dies; a topic change still reaches the other at once.
    ns1.kill().unwrap();
    create_topic(&client, &a_addr, "AfterNs1Died", 4).await;
    let t0 = Instant::now();
    wait_until(
        "the new topic on the live name server",
        Duration::from_secs(5),
        || async { route(&client, &ns2_addr, "AfterNs1Died").await.is_some() },
    )
    .await;
    assert!(t0.elapsed() < Duration::from_secs(5));
    let r = route(&client, &ns2_addr, "AfterNs1Died").await.unwrap();
    assert_eq!(broker_names(&r), ["broker-a"]);

    // SIGTERM: a clean stop that exits 0, unregisters, and removes the abort file.
    let status = a.terminate(Duration::from_secs(20)).unwrap();
    assert!(status.success(), "mqbroker exited with {status}");
    assert!(
        !dir.join("broker-a/store/abort").exists(),
        "abort file left behind"
    );
    assert!(dir.join("broker-a/store/config/topics.json").exists());
    wait_until(
        "broker-a gone from the route",
        Duration::from_secs(5),
        || async { route(&client, &ns2_addr, "AfterNs1Died").await.is_none() },
    )
    .await;
}

/// Apache's VIP channel: the broker serves its protocol on listenPort - 2 as well, where an
/// Apache slave asks its master for topics, offsets and groups (found by running an Apache 5.5
/// slave against an rmq master, crates/client/tests/mixed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vip_channel_on_listen_port_minus_two() {
    let dir = rmq_testkit::test_dir("rmq-sys-vip");
    let dir = dir.path();
    let (_ns, ns_addr) = namesrv_process(dir, "namesrv");
    let (_a, _, port, a_addr) = start_master(dir, "broker-a", &ns_addr, "");
    let vip = format!("127.0.0.1:{}", port - 2);
    let client = RemotingClient::new(ClientConfig::default());
    create_topic(&client, &vip, "OverVip", 1).await;
    let r = client
        .invoke(&vip, send("OverVip", Bytes::from_static(b"by vip")), T)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    let got = pull_all(&client, &a_addr, "OverVip", 0).await;
    assert_eq!(
        got.values().collect::<Vec<_>>(),
        [&Bytes::from_static(b"by vip")]
    );
    let topics = client
        .invoke(
            &vip,
            RemotingCommand::new_request(RequestCode::GetAllTopicConfig),
            T,
        )
        .await
        .unwrap();
    assert_eq!(topics.response_code(), ResponseCode::Success);
    assert!(String::from_utf8_lossy(&topics.body).contains("OverVip"));
}

fn send(topic: &str, body: Bytes) -> RemotingCommand {
    let mut props = Properties::new();
    props.insert(keys::WAIT.into(), "true".into());
    let h = SendMessageRequestHeader {
        producer_group: "PG".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: -1,
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
    .with_body(body)
}

async fn pull_all(
    client: &RemotingClient,
    broker: &str,
    topic: &str,
    queue: i32,
) -> BTreeMap<i64, Bytes> {
    let mut out = BTreeMap::new();
    let mut offset = 0;
    loop {
        let h = PullMessageRequestHeader {
            consumer_group: "verify".into(),
            topic: topic.into(),
            queue_id: queue,
            queue_offset: offset,
            max_msg_nums: 32,
            sys_flag: pull_sys_flag::SUBSCRIPTION,
            commit_offset: 0,
            suspend_timeout_millis: 0,
            subscription: Some("*".into()),
            sub_version: 0,
            expression_type: None,
            max_msg_bytes: None,
            request_source: None,
            proxy_froward_client_id: None,
            rpc: Default::default(),
        };
        let resp = client
            .invoke(
                broker,
                RemotingCommand::request(RequestCode::PullMessage, &h),
                T,
            )
            .await
            .unwrap();
        if resp.response_code() != ResponseCode::Success {
            return out;
        }
        for m in decode_messages(&resp.body).unwrap() {
            offset = m.queue_offset + 1;
            out.insert(m.queue_offset, m.message.body.clone());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_sync_flush_broker_loses_no_acknowledged_message() {
    let dir = rmq_testkit::test_dir("rmq-sys-kill");
    let dir = dir.path();
    let (_ns, ns_addr) = namesrv_process(dir, "namesrv");
    let (broker, conf, port, addr) =
        start_master(dir, "broker-a", &ns_addr, "flushDiskType=SYNC_FLUSH");
    let client = RemotingClient::new(ClientConfig::default());
    create_topic(&client, &addr, "Durable", 4).await;

    // 32 senders until the broker dies; record what was acknowledged.
    let acked: Arc<Mutex<Vec<(i32, i64, Bytes)>>> = Arc::default();
    let mut senders = Vec::new();
    for s in 0..32 {
        let (client, addr, acked) = (client.clone(), addr.clone(), acked.clone());
        senders.push(tokio::spawn(async move {
            for i in 0.. {
                let body = Bytes::from(format!("s{s}-m{i}"));
                match client.invoke(&addr, send("Durable", body.clone()), T).await {
                    Ok(r) if r.response_code() == ResponseCode::Success => {
                        let h: SendMessageResponseHeader = r.decode_header().unwrap();
                        acked.lock().push((h.queue_id, h.queue_offset, body));
                    }
                    Ok(r) => panic!("unexpected answer {:?} {:?}", r.response_code(), r.remark),
                    Err(_) => return, // the broker is gone
                }
            }
        }));
    }
    wait_until(
        "some acknowledged sends",
        Duration::from_secs(20),
        || async { acked.lock().len() >= 2_000 },
    )
    .await;
    broker.kill().unwrap();
    for s in senders {
        s.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock());
    assert!(acked.len() >= 2_000);

    let _broker = broker_process(dir, "broker-a-restarted", &conf, &ns_addr, port);
    let client = RemotingClient::new(ClientConfig::default());
    let mut stored = BTreeMap::new();
    for q in 0..4 {
        stored.insert(q, pull_all(&client, &addr, "Durable", q).await);
    }
    for (q, off, body) in &acked {
        let got = stored[q].get(off);
        assert_eq!(
            got,
            Some(body),
            "acknowledged message queue {q} offset {off} lost after SIGKILL"
        );
    }
}
