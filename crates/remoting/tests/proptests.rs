//! Property tests: both header forms round-trip; nothing panics on arbitrary bytes.
#![allow(clippy::unwrap_used)]

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use rmq_remoting::body::{ClusterInfo, HeartbeatData, JsonBody, TopicRouteData, TopicStatsTable};
use rmq_remoting::transport::RemotingCodec;
use rmq_remoting::{ExtFields, LanguageCode, RemotingCommand, SerializeType};
use tokio_util::codec::Decoder;

fn command(ty: SerializeType) -> impl Strategy<Value = RemotingCommand> {
    let code = prop_oneof![any::<i16>().prop_map(i32::from), any::<i32>()];
    let language = prop_oneof![
        (0u8..=13).prop_map(LanguageCode::from),
        any::<u8>().prop_map(LanguageCode::from),
    ];
    (
        code,
        language,
        any::<i16>(),
        any::<i32>(),
        any::<i32>(),
        proptest::option::of(".{1,40}"),
        proptest::collection::btree_map(".{1,12}", ".{0,30}", 0..8),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            move |(code, language, version, opaque, flag, remark, ext, body)| {
                let language = match (ty, language) {
                    // JSON names unknown codes OTHER; only the binary form keeps the byte.
                    (SerializeType::Json, LanguageCode::Unknown(_)) => LanguageCode::Other,
                    (_, l) => l,
                };
                RemotingCommand {
                    code,
                    language,
                    version: i32::from(version),
                    opaque,
                    flag,
                    remark,
                    ext_fields: ext.into_iter().collect::<ExtFields>(),
                    body: Bytes::from(body),
                    serialize_type: ty,
                }
            },
        )
}

fn round_trip(cmd: RemotingCommand) {
    let mut buf = BytesMut::new();
    cmd.encode(&mut buf);
    let back = RemotingCommand::decode_with_prefix(buf.freeze()).unwrap();
    let mut expected = cmd.clone();
    expected.serialize_type = cmd.effective_serialize_type();
    if expected.serialize_type == SerializeType::Json {
        if let LanguageCode::Unknown(_) = expected.language {
            expected.language = LanguageCode::Other;
        }
    }
    assert_eq!(back, expected);
}

proptest! {
    #[test]
    fn json_form_round_trips(cmd in command(SerializeType::Json)) {
        round_trip(cmd);
    }

    #[test]
    fn rocketmq_form_round_trips(cmd in command(SerializeType::RocketMq)) {
        round_trip(cmd);
    }

    #[test]
    fn codec_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8)) {
        let mut codec = RemotingCodec::new(4096);
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
            while let Ok(Some(_)) = codec.decode(&mut buf) {}
        }
    }

    #[test]
    fn frame_decode_never_panics(ty in 0u8..3, header in proptest::collection::vec(any::<u8>(), 0..96), body_len in 0usize..8) {
        let mut frame = Vec::new();
        frame.extend_from_slice(&((u32::from(ty) << 24) | header.len() as u32).to_be_bytes());
        frame.extend_from_slice(&header);
        frame.extend_from_slice(&vec![0u8; body_len]);
        let _ = RemotingCommand::decode(Bytes::from(frame));
    }

    #[test]
    fn json_text_decoders_never_panic(text in "[\\[\\]{}:,\"0-9a-z \\\\-]{0,80}") {
        let _ = rmq_remoting::json::normalize(text.as_bytes());
        let _ = TopicRouteData::from_json_bytes(text.as_bytes());
        let _ = ClusterInfo::from_json_bytes(text.as_bytes());
        let _ = HeartbeatData::from_json_bytes(text.as_bytes());
        let _ = TopicStatsTable::from_json_bytes(text.as_bytes());
        let mut json = b"{\"code\":1,\"extFields\":".to_vec();
        json.extend_from_slice(text.as_bytes());
        json.push(b'}');
        let mut frame = (json.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&json);
        let _ = RemotingCommand::decode(Bytes::from(frame));
    }

    #[test]
    fn fastjson_output_normalizes_to_standard_json(addrs in proptest::collection::btree_map(any::<i64>(), "[a-z0-9.:]{1,20}", 0..4)) {
        let route = TopicRouteData {
            broker_datas: vec![rmq_remoting::body::BrokerData { broker_addrs: addrs, ..Default::default() }],
            ..Default::default()
        };
        let fj = route.to_fastjson_bytes();
        prop_assert_eq!(rmq_remoting::json::normalize(&fj).unwrap(), route.to_json_bytes().to_vec());
        prop_assert_eq!(TopicRouteData::from_json_bytes(&fj).unwrap(), route);
    }
}
