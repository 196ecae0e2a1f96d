//! Component tests of the broker registry over real TCP: an in-process name server on port 0,
//! brokers and clients played by `RemotingClient`s.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::time::Duration;

use common::{eventually, invoke, route_request, start, Broker};
use rmq_remoting::body::{JsonBody, KVTable, TopicRouteData};
use rmq_remoting::header::{
    PutKVConfigRequestHeader, QueryDataVersionRequestHeader, RegisterBrokerResponseHeader,
    UnRegisterBrokerRequestHeader,
};
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode, ResponseCode};

fn client() -> RemotingClient {
    RemotingClient::new(ClientConfig::default())
}

fn broker<'a>(name: &'a str, id: i64, addr: &'a str, topics: &'a [(&'a str, i32)]) -> Broker<'a> {
    Broker {
        cluster: "DefaultCluster",
        name,
        id,
        addr,
        topics,
        counter: 1,
    }
}

const TOPICS_A: &[(&str, i32)] = &[("TopicTest", 4), ("TBW102", 8)];
const TOPICS_B: &[(&str, i32)] = &[("TopicTest", 8), ("OnlyB", 2)];

#[tokio::test]
async fn two_masters_and_a_slave_make_routes() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |_| {}).await;
    let addr = ns.local_addr().to_string();
    let c = client();

    let r = invoke(
        &c,
        &addr,
        broker("broker-a", 0, "10.0.0.1:10911", TOPICS_A).request(),
    )
    .await;
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let h: RegisterBrokerResponseHeader = r.decode_header().unwrap();
    assert_eq!(h.master_addr, None);
    invoke(
        &c,
        &addr,
        broker("broker-b", 0, "10.0.0.2:10911", TOPICS_B).request(),
    )
    .await;
    let r = invoke(
        &c,
        &addr,
        broker("broker-a", 1, "10.0.0.3:10911", TOPICS_A).request(),
    )
    .await;
    let h: RegisterBrokerResponseHeader = r.decode_header().unwrap();
    assert_eq!(h.master_addr.as_deref(), Some("10.0.0.1:10911"));
    assert_eq!(h.ha_server_addr.as_deref(), Some("10.0.0.1:10911-ha"));

    let r = invoke(&c, &addr, route_request("TopicTest")).await;
    assert_eq!(r.code, 0);
    let route = TopicRouteData::from_json_bytes(&r.body).unwrap();
    let names: Vec<_> = route
        .queue_datas
        .iter()
        .map(|q| q.broker_name.as_str())
        .collect();
    assert_eq!(names, ["broker-a", "broker-b"]);
    assert_eq!(route.queue_datas[1].write_queue_nums, 8);
    assert_eq!(route.broker_datas.len(), 2);
    let a = &route.broker_datas[0];
    assert_eq!(a.cluster, "DefaultCluster");
    assert_eq!(a.broker_addrs[&0], "10.0.0.1:10911");
    assert_eq!(a.broker_addrs[&1], "10.0.0.3:10911");
    assert!(std::str::from_utf8(&r.body)
        .unwrap()
        .contains(r#""filterServerTable":{}"#));

    let route =
        TopicRouteData::from_json_bytes(&invoke(&c, &addr, route_request("OnlyB")).await.body)
            .unwrap();
    assert_eq!(route.broker_datas.len(), 1);
    assert_eq!(ns.broker_addr_count(), 3);

    // A cached route follows a new data version with changed queue counts.
    let mut b2 = broker(
        "broker-b",
        0,
        "10.0.0.2:10911",
        &[("TopicTest", 16), ("OnlyB", 2)],
    );
    b2.counter = 2;
    assert_eq!(invoke(&c, &addr, b2.request()).await.code, 0);
    let route =
        TopicRouteData::from_json_bytes(&invoke(&c, &addr, route_request("TopicTest")).await.body)
            .unwrap();
    assert_eq!(route.queue_datas[1].write_queue_nums, 16);

    // UNREGISTER_BROKER of the master: the slave remains under broker-a.
    let unreg = UnRegisterBrokerRequestHeader {
        broker_name: "broker-a".into(),
        broker_addr: "10.0.0.1:10911".into(),
        cluster_name: "DefaultCluster".into(),
        broker_id: 0,
        ..Default::default()
    };
    let r = invoke(
        &c,
        &addr,
        RemotingCommand::request(RequestCode::UnregisterBroker, &unreg),
    )
    .await;
    assert_eq!(r.code, 0);
    let route =
        TopicRouteData::from_json_bytes(&invoke(&c, &addr, route_request("TopicTest")).await.body)
            .unwrap();
    assert_eq!(route.queue_datas.len(), 2);
    assert_eq!(route.broker_datas[0].broker_addrs.len(), 1);
    assert_eq!(route.broker_datas[0].broker_addrs[&1], "10.0.0.3:10911");

    c.shutdown().await;
    ns.shutdown().await;
}

#[tokio::test]
async fn silent_broker_expires() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |c| c.scan_not_active_broker_interval = 50).await;
    let addr = ns.local_addr().to_string();
    let c = client();
    let b = broker("broker-a", 0, "10.0.0.1:10911", TOPICS_A);
    let mut header = b.header();
    header.heartbeat_timeout_millis = Some(300);
    let req =
        RemotingCommand::request(RequestCode::RegisterBroker, &header).with_body(b.body().encode());
    assert_eq!(invoke(&c, &addr, req).await.code, 0);
    // A long-lived broker on another connection stays.
    let other = client();
    invoke(
        &other,
        &addr,
        broker("broker-b", 0, "10.0.0.2:10911", TOPICS_B).request(),
    )
    .await;

    // QUERY_DATA_VERSION refreshes liveness and reports "unchanged".
    let q = QueryDataVersionRequestHeader {
        broker_name: "broker-a".into(),
        broker_addr: "10.0.0.1:10911".into(),
        cluster_name: "DefaultCluster".into(),
        broker_id: 0,
        ..Default::default()
    };
    let r = invoke(
        &c,
        &addr,
        RemotingCommand::request(RequestCode::QueryDataVersion, &q).with_body(
            b.body()
                .topic_config_serialize_wrapper
                .data_version
                .to_json_bytes(),
        ),
    )
    .await;
    assert_eq!(r.ext_fields.get("changed"), Some("false"));
    let heartbeat = RemotingCommand::new_request(RequestCode::BrokerHeartbeat)
        .with_ext_field("clusterName", "DefaultCluster")
        .with_ext_field("brokerAddr", "10.0.0.1:10911")
        .with_ext_field("brokerName", "broker-a");
    assert_eq!(invoke(&c, &addr, heartbeat).await.code, 0);

    // Expiry also closes broker-a's connection, so ask over another one.
    let reader = client();
    let gone = eventually(Duration::from_secs(3), || async {
        invoke(&reader, &addr, route_request("TBW102")).await.code
            == ResponseCode::TopicNotExist.code()
    })
    .await;
    assert!(gone, "broker-a did not expire");
    let route = TopicRouteData::from_json_bytes(
        &invoke(&reader, &addr, route_request("TopicTest"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(route.broker_datas.len(), 1);
    assert_eq!(route.broker_datas[0].broker_name, "broker-b");
    assert!(
        eventually(Duration::from_secs(3), || async {
            c.connected_addrs().is_empty()
        })
        .await
    );
    reader.shutdown().await;
    other.shutdown().await;
    c.shutdown().await;
    ns.shutdown().await;
}

#[tokio::test]
async fn broker_is_removed_when_its_connection_closes() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |_| {}).await;
    let addr = ns.local_addr().to_string();
    let broker_conn = client();
    let r = invoke(
        &broker_conn,
        &addr,
        broker("broker-a", 0, "10.0.0.1:10911", TOPICS_A).request(),
    )
    .await;
    assert_eq!(r.code, 0);
    let c = client();
    assert_eq!(invoke(&c, &addr, route_request("TopicTest")).await.code, 0);

    broker_conn.close_connection(&addr);
    let gone = eventually(Duration::from_secs(3), || async {
        invoke(&c, &addr, route_request("TopicTest")).await.code
            == ResponseCode::TopicNotExist.code()
    })
    .await;
    assert!(
        gone,
        "route still present after the broker's connection closed"
    );
    assert_eq!(ns.broker_addr_count(), 0);
    // A client's connection closing removes nothing.
    invoke(
        &c,
        &addr,
        broker("broker-b", 0, "10.0.0.2:10911", TOPICS_B).request(),
    )
    .await;
    let reader = client();
    invoke(&reader, &addr, route_request("OnlyB")).await;
    reader.shutdown().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(invoke(&c, &addr, route_request("OnlyB")).await.code, 0);
    broker_conn.shutdown().await;
    c.shutdown().await;
    ns.shutdown().await;
}

#[tokio::test]
async fn crc_mismatch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |_| {}).await;
    let addr = ns.local_addr().to_string();
    let c = client();
    let b = broker("broker-a", 0, "10.0.0.1:10911", TOPICS_A);
    let mut header = b.header();
    header.body_crc32 = Some(12345);
    let req =
        RemotingCommand::request(RequestCode::RegisterBroker, &header).with_body(b.body().encode());
    let r = invoke(&c, &addr, req).await;
    assert_eq!(r.code, ResponseCode::SystemError.code());
    assert_eq!(r.remark.as_deref(), Some("crc32 not match"));
    assert_eq!(ns.topic_count(), 0);
    // The right CRC (and 0, meaning unchecked) are accepted.
    assert_eq!(invoke(&c, &addr, b.request()).await.code, 0);
    c.shutdown().await;
    ns.shutdown().await;
}

#[tokio::test]
async fn compressed_registration_and_order_topic_config() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |c| c.order_message_enable = true).await;
    let addr = ns.local_addr().to_string();
    let c = client();
    let put = PutKVConfigRequestHeader {
        namespace: "ORDER_TOPIC_CONFIG".into(),
        key: "TopicTest".into(),
        value: "broker-a:4".into(),
        ..Default::default()
    };
    assert_eq!(
        invoke(
            &c,
            &addr,
            RemotingCommand::request(RequestCode::PutKvConfig, &put)
        )
        .await
        .code,
        0
    );

    // The compressed form: zlib of length-prefixed DataVersion, topic configs, filter servers.
    let b = broker("broker-a", 0, "10.0.0.1:10911", TOPICS_A);
    let mut raw = Vec::new();
    let piece = |raw: &mut Vec<u8>, bytes: &[u8]| {
        raw.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        raw.extend_from_slice(bytes);
    };
    piece(&mut raw, br#"{"counter":3,"stateVersion":0,"timestamp":5}"#);
    raw.extend_from_slice(&(TOPICS_A.len() as i32).to_be_bytes());
    for (t, q) in TOPICS_A {
        piece(
            &mut raw,
            format!("{t} {q} {q} 6 SINGLE_TAG {{}}").as_bytes(),
        );
    }
    piece(&mut raw, b"[]");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&raw).unwrap();
    let body = z.finish().unwrap();
    let mut header = b.header();
    header.compressed = Some(true);
    header.body_crc32 = Some(rmq_common::java::crc32_masked(&body) as i32);
    let r = invoke(
        &c,
        &addr,
        RemotingCommand::request(RequestCode::RegisterBroker, &header).with_body(body),
    )
    .await;
    assert_eq!(r.code, 0, "{:?}", r.remark);
    // The broker gets the order-topic namespace back.
    let kv = KVTable::from_json_bytes(&r.body).unwrap();
    assert_eq!(kv.table["TopicTest"], "broker-a:4");

    let route =
        TopicRouteData::from_json_bytes(&invoke(&c, &addr, route_request("TopicTest")).await.body)
            .unwrap();
    assert_eq!(route.order_topic_conf.as_deref(), Some("broker-a:4"));
    assert_eq!(route.queue_datas[0].read_queue_nums, 4);
    c.shutdown().await;
    ns.shutdown().await;
}
