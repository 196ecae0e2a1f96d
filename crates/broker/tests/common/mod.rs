//! Helpers shared by the broker's component tests: an in-process broker on 127.0.0.1:0 with a
//! temporary store, and a remoting client speaking to it over real TCP.
#![allow(dead_code, clippy::unwrap_used)]

pub mod cluster;
pub mod grpc;

use std::time::Duration;

use bytes::Bytes;
use rmq_broker::{Broker, BrokerStartupConfig};
use rmq_common::message::{encode_properties, keys, Properties};
use rmq_remoting::body::{ConsumerData, HeartbeatData, ProducerData, SubscriptionData};
use rmq_remoting::header::{
    PullMessageRequestHeader, SendMessageRequestHeader, SendMessageRequestHeaderV2,
};
use rmq_remoting::json::JsonBody;
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode};
use tokio::net::TcpListener;

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A broker config with small files under `dir` and no name server.
pub fn config(dir: &std::path::Path, extra: &[(&str, &str)]) -> BrokerStartupConfig {
    let mut cfg = BrokerStartupConfig::default();
    let mut pairs: Vec<(String, String)> = vec![
        ("storePathRootDir".into(), dir.display().to_string()),
        (
            "mappedFileSizeCommitLog".into(),
            (4 * 1024 * 1024).to_string(),
        ),
        (
            "mappedFileSizeConsumeQueue".into(),
            (20 * 10_000).to_string(),
        ),
        ("maxIndexNum".into(), "10000".into()),
        ("maxHashSlotNum".into(), "1000".into()),
        ("brokerName".into(), "broker-a".into()),
        ("namesrvAddr".into(), "".into()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let unknown = cfg.apply(&pairs).unwrap();
    assert!(unknown.is_empty(), "unknown keys {unknown:?}");
    cfg.validate().unwrap();
    cfg
}

pub async fn start(cfg: BrokerStartupConfig) -> Broker {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Broker::start(cfg, listener).await.unwrap()
}

pub fn client() -> RemotingClient {
    RemotingClient::new(ClientConfig::default())
}

pub fn send_request(
    topic: &str,
    queue_id: i32,
    body: &'static [u8],
    tags: Option<&str>,
) -> RemotingCommand {
    send_request_with(topic, queue_id, body, tags, &[])
}

/// [`send_request`] with more properties.
pub fn send_request_with(
    topic: &str,
    queue_id: i32,
    body: &'static [u8],
    tags: Option<&str>,
    extra: &[(&str, &str)],
) -> RemotingCommand {
    let mut props = Properties::new();
    props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    props.insert(keys::WAIT.into(), "true".into());
    if let Some(t) = tags {
        props.insert(keys::TAGS.into(), t.into());
    }
    props.insert(keys::KEYS.into(), format!("k-{}", body.len()));
    let h = SendMessageRequestHeader {
        producer_group: "PG".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id,
        sys_flag: 0,
        born_timestamp: 1,
        flag: 0,
        properties: Some(encode_properties(&props)),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        batch: Some(false),
        max_reconsume_times: None,
        rpc: Default::default(),
    };
    RemotingCommand::request(
        RequestCode::SendMessageV2,
        &SendMessageRequestHeaderV2::from(&h),
    )
    .with_body(Bytes::from_static(body))
}

pub fn pull_request(
    group: &str,
    topic: &str,
    queue_id: i32,
    offset: i64,
    sys_flag: i32,
    suspend_ms: i64,
    sub: Option<&str>,
) -> RemotingCommand {
    let h = PullMessageRequestHeader {
        consumer_group: group.into(),
        topic: topic.into(),
        queue_id,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag,
        commit_offset: 0,
        suspend_timeout_millis: suspend_ms,
        subscription: sub.map(str::to_owned),
        sub_version: 0,
        expression_type: Some("TAG".into()),
        max_msg_bytes: None,
        request_source: None,
        proxy_froward_client_id: None,
        rpc: Default::default(),
    };
    RemotingCommand::request(RequestCode::PullMessage, &h)
}

pub fn heartbeat(client_id: &str, group: &str, topic: &str, expr: &str) -> RemotingCommand {
    let tags: std::collections::BTreeSet<String> = if expr == "*" {
        Default::default()
    } else {
        expr.split("||").map(|t| t.trim().to_owned()).collect()
    };
    let data = HeartbeatData {
        client_id: client_id.into(),
        consumer_data_set: vec![ConsumerData {
            group_name: group.into(),
            subscription_data_set: vec![SubscriptionData {
                topic: topic.into(),
                sub_string: expr.into(),
                tags_set: tags,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    RemotingCommand::new_request(RequestCode::HeartBeat).with_body(data.to_json_bytes())
}

/// A producer's heartbeat: `client_id` joins producer `group`.
pub fn producer_heartbeat(client_id: &str, group: &str) -> RemotingCommand {
    let data = HeartbeatData {
        client_id: client_id.into(),
        producer_data_set: vec![ProducerData {
            group_name: group.into(),
        }],
        ..Default::default()
    };
    RemotingCommand::new_request(RequestCode::HeartBeat).with_body(data.to_json_bytes())
}

/// Sends the request built by `make` until it is answered SUCCESS (dispatch to the consume queue
/// runs right after the append, so a pull straight after a send may not see it yet).
pub async fn pull_until_found(
    c: &RemotingClient,
    addr: &str,
    make: impl Fn() -> RemotingCommand,
) -> RemotingCommand {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let resp = c.invoke(addr, make(), TIMEOUT).await.unwrap();
        if resp.response_code() == rmq_remoting::ResponseCode::Success
            || std::time::Instant::now() > deadline
        {
            return resp;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An in-process name server on 127.0.0.1:0 with its KV file under `dir`.
pub async fn start_namesrv(dir: &std::path::Path) -> rmq_namesrv::NamesrvHandle {
    let config = rmq_namesrv::NamesrvConfig {
        kv_config_path: dir.join("kvConfig.json"),
        bind_address: "127.0.0.1".into(),
        listen_port: 0,
        ..Default::default()
    };
    let listener = rmq_namesrv::bind(&config).await.unwrap();
    rmq_namesrv::start(config, listener).await.unwrap()
}

/// GET_CONSUME_STATS for `group` on `topic` (what `mqadmin consumerProgress` reads).
pub async fn consume_stats(
    c: &RemotingClient,
    addr: &str,
    group: &str,
    topic: &str,
) -> rmq_remoting::body::ConsumeStats {
    let resp = c
        .invoke(
            addr,
            RemotingCommand::request(
                RequestCode::GetConsumeStats,
                &rmq_remoting::header::GetConsumeStatsRequestHeader {
                    consumer_group: group.into(),
                    topic: Some(topic.into()),
                    topic_list: None,
                    rpc: Default::default(),
                },
            ),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        rmq_remoting::ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    rmq_remoting::body::ConsumeStats::from_json_bytes(&resp.body).unwrap()
}
