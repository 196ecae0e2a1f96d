//! Golden byte vectors written from protocol.md's facts (sections 1.1, 1.3, 1.4, 2.4, 2.6), not
//! from this crate's output: the frame prefix, fastjson key order, the binary header layout.
#![allow(clippy::unwrap_used)]

use bytes::{Bytes, BytesMut};
use rmq_remoting::body::{BrokerData, JsonBody, QueueData, TopicRouteData};
use rmq_remoting::header::{SendMessageRequestHeader, SendMessageRequestHeaderV2};
use rmq_remoting::{LanguageCode, RemotingCommand, RequestCode, ResponseCode, SerializeType};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn send_v2() -> SendMessageRequestHeaderV2 {
    SendMessageRequestHeaderV2 {
        a: "PG".into(),
        b: "TopicTest".into(),
        c: "TBW102".into(),
        d: 4,
        e: 1,
        f: 0,
        g: 1_700_000_000_000,
        h: 0,
        i: Some("TAGS\u{1}TagA\u{2}".into()),
        n: Some("broker-a".into()),
        ..Default::default()
    }
}

fn send_request(ty: SerializeType) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(RequestCode::SendMessageV2, &send_v2())
        .with_opaque(7)
        .with_body(Bytes::from_static(b"hello"))
        .with_serialize_type(ty);
    cmd.language = LanguageCode::Java;
    cmd
}

fn encode(cmd: &RemotingCommand) -> Vec<u8> {
    let mut buf = BytesMut::new();
    cmd.encode(&mut buf);
    buf.to_vec()
}

const JSON_SEND_HEADER: &str = r#"{"code":310,"extFields":{"a":"PG","b":"TopicTest","c":"TBW102","d":"4","e":"1","f":"0","g":"1700000000000","h":"0","i":"TAGS\u0001TagA\u0002","n":"broker-a"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#;

#[test]
fn json_send_message_v2_request() {
    let mut expected = hex("000000fc000000f3"); // 4 + 243 + 5 bytes follow; type 0, header 243
    expected.extend_from_slice(JSON_SEND_HEADER.as_bytes());
    expected.extend_from_slice(b"hello");
    assert_eq!(encode(&send_request(SerializeType::Json)), expected);

    let back = RemotingCommand::decode_with_prefix(Bytes::from(expected)).unwrap();
    assert_eq!(back, send_request(SerializeType::Json));
    let h = SendMessageRequestHeader::from_command(&back).unwrap();
    assert_eq!(h.topic, "TopicTest");
    assert_eq!(h.born_timestamp, 1_700_000_000_000);
    assert_eq!(h.rpc.bname.as_deref(), Some("broker-a"));
}

const BIN_SEND: &str = "000000980100008f01360001df0000000700000000000000000000007a0001610000000250470001620000000954\
6f70696354657374000163000000065442573130320001640000000134000165000000013100016600000001300001670000000d31373030303030\
3030303030300001680000000130000169000000\
0a5441475301546167410200016e0000000862726f6b65722d6168656c6c6f";

#[test]
fn rocketmq_send_message_v2_request() {
    let expected = hex(BIN_SEND);
    assert_eq!(encode(&send_request(SerializeType::RocketMq)), expected);
    let back = RemotingCommand::decode_with_prefix(Bytes::from(expected)).unwrap();
    assert_eq!(back, send_request(SerializeType::RocketMq));
}

fn route_body() -> TopicRouteData {
    TopicRouteData {
        broker_datas: vec![BrokerData {
            broker_addrs: [(0, "127.0.0.1:10911".to_owned())].into(),
            broker_name: "broker-a".into(),
            cluster: "DefaultCluster".into(),
            ..Default::default()
        }],
        queue_datas: vec![QueueData {
            broker_name: "broker-a".into(),
            perm: 6,
            read_queue_nums: 4,
            topic_sys_flag: 0,
            write_queue_nums: 4,
        }],
        ..Default::default()
    }
}

const ROUTE_JSON: &str = r#"{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#;

fn route_response(ty: SerializeType) -> RemotingCommand {
    let request = RemotingCommand::new_request(RequestCode::GetRouteinfoByTopic)
        .with_opaque(7)
        .with_serialize_type(ty);
    let mut resp = request
        .response_to(ResponseCode::Success)
        .with_body(route_body().encode_for(479, false));
    resp.language = LanguageCode::Java;
    resp
}

#[test]
fn json_route_response() {
    let mut expected = hex("000001690000005f");
    expected.extend_from_slice(
        br#"{"code":0,"flag":1,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#,
    );
    expected.extend_from_slice(ROUTE_JSON.as_bytes());
    let resp = route_response(SerializeType::Json);
    assert_eq!(encode(&resp), expected);
    let back = RemotingCommand::decode_with_prefix(Bytes::from(expected)).unwrap();
    assert!(back.is_response());
    assert_eq!(
        TopicRouteData::from_json_bytes(&back.body).unwrap(),
        route_body()
    );
}

#[test]
fn rocketmq_route_response_and_remark() {
    let mut expected = hex("0000011f0100001500000001df00000007000000010000000000000000");
    expected.extend_from_slice(ROUTE_JSON.as_bytes());
    assert_eq!(encode(&route_response(SerializeType::RocketMq)), expected);

    let not_found = hex(
        "0000004c0100004800110001df0000000800000001000000334e6f20746f70696320726f75746520696e666f\
         20696e206e616d652073657276657220666f722074686520746f7069633a205400000000",
    );
    let cmd = RemotingCommand::decode_with_prefix(Bytes::from(not_found.clone())).unwrap();
    assert_eq!(cmd.response_code(), ResponseCode::TopicNotExist);
    assert_eq!(cmd.opaque, 8);
    assert_eq!(
        cmd.remark.as_deref(),
        Some("No topic route info in name server for the topic: T")
    );
    assert_eq!(cmd.serialize_type, SerializeType::RocketMq);
    let mut again = cmd.clone();
    again.language = LanguageCode::Java;
    assert_eq!(encode(&again), not_found);
}
