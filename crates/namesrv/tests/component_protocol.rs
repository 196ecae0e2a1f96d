//! Component tests of the wire surface: header forms, route JSON forms, error codes and remarks,
//! the KV commands and their persistence, and the admin queries.

#![allow(clippy::unwrap_used)]

mod common;

use bytes::BytesMut;
use common::{invoke, route_request, start, Broker};
use rmq_remoting::body::{ClusterInfo, JsonBody, KVTable, TopicList, TopicRouteData};
use rmq_remoting::header::{
    DeleteKVConfigRequestHeader, DeleteTopicFromNamesrvRequestHeader, GetKVConfigRequestHeader,
    GetKVListByNamespaceRequestHeader, GetTopicsByClusterRequestHeader, PutKVConfigRequestHeader,
    WipeWritePermOfBrokerRequestHeader,
};
use rmq_remoting::{
    ClientConfig, RemotingClient, RemotingCommand, RequestCode, ResponseCode, SerializeType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOPICS: &[(&str, i32)] = &[("TopicTest", 4), ("TBW102", 8)];

fn broker_a() -> Broker<'static> {
    Broker {
        cluster: "DefaultCluster",
        name: "broker-a",
        id: 0,
        addr: "10.0.0.1:10911",
        topics: TOPICS,
        counter: 1,
    }
}

fn client_with_version(version: i32) -> RemotingClient {
    RemotingClient::new(ClientConfig {
        version,
        ..ClientConfig::default()
    })
}

#[tokio::test]
async fn unknown_topic_is_17_with_a_remark_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |_| {}).await;
    let c = client_with_version(479);
    let r = invoke(
        &c,
        &ns.local_addr().to_string(),
        route_request("NoSuchTopic"),
    )
    .await;
    assert_eq!(r.code, ResponseCode::TopicNotExist.code());
    let remark = r.remark.unwrap();
    assert!(
        remark.starts_with("No topic route info in name server for the topic: NoSuchTopic"),
        "{remark}"
    );
    // A request without the required header field is an error response, not a crash.
    let r = invoke(
        &c,
        &ns.local_addr().to_string(),
        RemotingCommand::new_request(RequestCode::GetRouteinfoByTopic),
    )
    .await;
    assert_eq!(r.code, ResponseCode::SystemError.code());
    assert!(r.remark.unwrap().contains("topic"));
    // Codes the name server does not serve.
    let r = invoke(
        &c,
        &ns.local_addr().to_string(),
        RemotingCommand::new_request(RequestCode::SendMessage),
    )
    .await;
    assert_eq!(r.code, ResponseCode::RequestCodeNotSupported.code());
    c.shutdown().await;
    ns.shutdown().await;
}

#[tokio::test]
async fn route_json_is_fastjson_for_old_versions_and_standard_from_401() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |_| {}).await;
    let addr = ns.local_addr().to_string();
    let new = client_with_version(479);
    invoke(&new, &addr, broker_a().request()).await;

    let standard = invoke(&new, &addr, route_request("TopicTest")).await.body;
    let text = std::str::from_utf8(&standard).unwrap();
    assert!(
        text.contains(r#""brokerAddrs":{"0":"10.0.0.1:10911"}"#),
        "{text}"
    );
    assert!(serde_json::from_slice::<serde_json::Value>(&standard).is_ok());

    let old = client_with_version(317);
    let fastjson = invoke(&old, &addr, route_request("TopicTest")).await.body;
    let text = std::str::from_utf8(&fastjson).unwrap();
    assert!(
        text.contains(r#""brokerAddrs":{0:"10.0.0.1:10911"}"#),
        "{text}"
    );
    assert_eq!(
        TopicRouteData::from_json_bytes(&fastjson).unwrap(),
        TopicRouteData::from_json_bytes(&standard).unwrap()
    );
    // An old requester asking for standard JSON gets it; version 401 is the boundary.
    let asked = invoke(
        &old,
        &addr,
        route_request("TopicTest").with_ext_field("acceptStandardJsonOnly", "true"),
    )
    .await;
    assert_eq!(asked.body, standard);
    let v401 = client_with_version(401);
    assert_eq!(
        invoke(&v401, &addr, route_request("TopicTest")).await.body,
        standard
    );
    let v400 = client_with_version(400);
    assert_eq!(
        invoke(&v400, &addr, route_request("TopicTest")).await.body,
        fastjson
    );

    // GET_BROKER_CLUSTER_INFO is always the fastjson form.
    let r = invoke(
        &new,
        &addr,
        RemotingCommand::new_request(RequestCode::GetBrokerClusterInfo),
    )
    .await;
    let text = std::str::from_utf8(&r.body).unwrap();
    assert!(
        text.contains(r#""brokerAddrs":{0:"10.0.0.1:10911"}"#),
        "{text}"
    );
    let info = ClusterInfo::from_json_bytes(&r.body).unwrap();
    assert!(info.cluster_addr_table["DefaultCluster"].contains("broker-a"));
    for c in [new, old, v401, v400] {
        c.shutdown().await;
    }
    ns.shutdown().await;
}

/// Sends one frame on a raw socket and reads one back: (header type byte, response).
async fn raw_round_trip(addr: &str, request: &RemotingCommand) -> (u8, RemotingCommand) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    raw_round_trip_on(&mut s, request).await
}

/// [`raw_round_trip`] on an open socket.
async fn raw_round_trip_on(
    s: &mut tokio::net::TcpStream,
    request: &RemotingCommand,
) -> (u8, RemotingCommand) {
    s.write_all(&request.to_bytes()).await.unwrap();
    let len = s.read_u32().await.unwrap() as usize;
    let mut frame = BytesMut::zeroed(len);
    s.read_exact(&mut frame).await.unwrap();
    let type_byte = frame[0];
    let cmd = RemotingCommand::decode(frame.freeze()).unwrap();
    (type_byte, cmd)
}

#[tokio::test]
async fn both_header_forms_are_accepted_and_answered_in_kind() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |_| {}).await;
    let addr = ns.local_addr().to_string();

    for form in [SerializeType::Json, SerializeType::RocketMq] {
        // The broker's connection stays open while the route is asked: a name server drops a
        // broker whose connection closes.
        let mut broker = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let mut reg = broker_a()
            .request()
            .with_serialize_type(form)
            .with_opaque(41);
        reg.version = 479;
        let (ty, r) = raw_round_trip_on(&mut broker, &reg).await;
        assert_eq!(ty, form.code());
        assert_eq!((r.code, r.opaque), (0, 41), "{:?}", r.remark);
        assert!(r.is_response());

        let mut q = route_request("TopicTest")
            .with_serialize_type(form)
            .with_opaque(42);
        q.version = 479;
        let (ty, r) = raw_round_trip(&addr, &q).await;
        assert_eq!(ty, form.code());
        assert_eq!((r.code, r.opaque, r.serialize_type), (0, 42, form));
        let route = TopicRouteData::from_json_bytes(&r.body).unwrap();
        assert_eq!(route.queue_datas[0].broker_name, "broker-a");

        let (ty, r) = raw_round_trip(&addr, &route_request("Nope").with_serialize_type(form)).await;
        assert_eq!(ty, form.code());
        assert_eq!(r.code, ResponseCode::TopicNotExist.code());
        assert!(r.remark.unwrap().contains("Nope"));
    }
    ns.shutdown().await;
}

#[tokio::test]
async fn kv_config_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |_| {}).await;
    let addr = ns.local_addr().to_string();
    let c = client_with_version(479);
    let put = |ns: &str, k: &str, v: &str| {
        RemotingCommand::request(
            RequestCode::PutKvConfig,
            &PutKVConfigRequestHeader {
                namespace: ns.into(),
                key: k.into(),
                value: v.into(),
                ..Default::default()
            },
        )
    };
    let get = |ns: &str, k: &str| {
        RemotingCommand::request(
            RequestCode::GetKvConfig,
            &GetKVConfigRequestHeader {
                namespace: ns.into(),
                key: k.into(),
                ..Default::default()
            },
        )
    };
    let list = |ns: &str| {
        RemotingCommand::request(
            RequestCode::GetKvlistByNamespace,
            &GetKVListByNamespaceRequestHeader {
                namespace: ns.into(),
                ..Default::default()
            },
        )
    };
    assert_eq!(
        invoke(&c, &addr, put("ORDER_TOPIC_CONFIG", "T", "broker-a:4"))
            .await
            .code,
        0
    );
    assert_eq!(invoke(&c, &addr, put("ns", "k1", "v1")).await.code, 0);
    assert_eq!(invoke(&c, &addr, put("ns", "k2", "v2")).await.code, 0);
    let del = RemotingCommand::request(
        RequestCode::DeleteKvConfig,
        &DeleteKVConfigRequestHeader {
            namespace: "ns".into(),
            key: "k2".into(),
            ..Default::default()
        },
    );
    assert_eq!(invoke(&c, &addr, del).await.code, 0);
    c.shutdown().await;
    ns.shutdown().await;

    let text = std::fs::read_to_string(dir.path().join("kvConfig.json")).unwrap();
    assert!(text.starts_with(r#"{"configTable":{"#), "{text}");

    let ns = start(dir.path(), |_| {}).await;
    let addr = ns.local_addr().to_string();
    let c = client_with_version(479);
    let r = invoke(&c, &addr, get("ns", "k1")).await;
    assert_eq!((r.code, r.ext_fields.get("value")), (0, Some("v1")));
    let r = invoke(&c, &addr, get("ns", "k2")).await;
    assert_eq!(r.code, ResponseCode::QueryNotFound.code());
    let r = invoke(&c, &addr, list("ORDER_TOPIC_CONFIG")).await;
    assert_eq!(
        KVTable::from_json_bytes(&r.body).unwrap().table["T"],
        "broker-a:4"
    );
    let r = invoke(&c, &addr, list("missing")).await;
    assert_eq!(r.code, ResponseCode::QueryNotFound.code());
    c.shutdown().await;
    ns.shutdown().await;
}

#[tokio::test]
async fn topic_lists_delete_and_write_permission() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start(dir.path(), |_| {}).await;
    let addr = ns.local_addr().to_string();
    let c = client_with_version(479);
    invoke(&c, &addr, broker_a().request()).await;

    let r = invoke(
        &c,
        &addr,
        RemotingCommand::new_request(RequestCode::GetAllTopicListFromNameserver),
    )
    .await;
    let all = TopicList::from_json_bytes(&r.body).unwrap();
    assert_eq!(all.topic_list.len(), 2);
    let by_cluster = RemotingCommand::request(
        RequestCode::GetTopicsByCluster,
        &GetTopicsByClusterRequestHeader {
            cluster: "DefaultCluster".into(),
            ..Default::default()
        },
    );
    let r = invoke(&c, &addr, by_cluster).await;
    assert_eq!(TopicList::from_json_bytes(&r.body).unwrap(), all);

    let wipe = RemotingCommand::request(
        RequestCode::WipeWritePermOfBroker,
        &WipeWritePermOfBrokerRequestHeader {
            broker_name: "broker-a".into(),
            ..Default::default()
        },
    );
    let r = invoke(&c, &addr, wipe).await;
    assert_eq!(r.ext_fields.get("wipeTopicCount"), Some("2"));
    let route =
        TopicRouteData::from_json_bytes(&invoke(&c, &addr, route_request("TopicTest")).await.body)
            .unwrap();
    assert_eq!(route.queue_datas[0].perm, 4);

    let delete = RemotingCommand::request(
        RequestCode::DeleteTopicInNamesrv,
        &DeleteTopicFromNamesrvRequestHeader {
            topic: "TopicTest".into(),
            ..Default::default()
        },
    );
    assert_eq!(invoke(&c, &addr, delete).await.code, 0);
    assert_eq!(
        invoke(&c, &addr, route_request("TopicTest")).await.code,
        ResponseCode::TopicNotExist.code()
    );
    c.shutdown().await;
    ns.shutdown().await;

    // enableAllTopicList=false disables the full list.
    let ns = start(dir.path(), |c| c.enable_all_topic_list = false).await;
    let c = client_with_version(479);
    let r = invoke(
        &c,
        &ns.local_addr().to_string(),
        RemotingCommand::new_request(RequestCode::GetAllTopicListFromNameserver),
    )
    .await;
    assert_eq!((r.code, r.remark.as_deref()), (1, Some("disable")));
    c.shutdown().await;
    ns.shutdown().await;
}
