use super::*;
use crate::protocol::{RemotingCommand, RequestCode};

fn v1() -> SendMessageRequestHeader {
    SendMessageRequestHeader {
        producer_group: "PG".into(),
        topic: "T".into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: 1,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_000,
        flag: 0,
        properties: Some("TAGS\u{1}a\u{2}".into()),
        reconsume_times: Some(0),
        unit_mode: Some(false),
        batch: Some(false),
        max_reconsume_times: None,
        rpc: RpcFields {
            bname: Some("broker-a".into()),
            ..Default::default()
        },
    }
}

#[test]
fn send_v1_v2_conversion_round_trips() {
    let h = v1();
    let v2 = SendMessageRequestHeaderV2::from(&h);
    let ext = v2.to_ext_fields();
    assert_eq!(ext.get("a"), Some("PG"));
    assert_eq!(ext.get("g"), Some("1700000000000"));
    assert_eq!(ext.get("k"), Some("false"));
    assert_eq!(ext.get("n"), Some("broker-a"));
    assert_eq!(ext.get("producerGroup"), None);
    let cmd = RemotingCommand::request(RequestCode::SendMessageV2, &v2);
    assert_eq!(SendMessageRequestHeader::from_command(&cmd).unwrap(), h);
    let cmd = RemotingCommand::request(RequestCode::SendMessage, &h);
    assert_eq!(cmd.ext_fields.get("bname"), Some("broker-a"));
    assert_eq!(SendMessageRequestHeader::from_command(&cmd).unwrap(), h);
}

#[test]
fn missing_required_field_names_header_and_field() {
    let mut ext = v1().to_ext_fields();
    ext.remove("queueId");
    let err = SendMessageRequestHeader::read(&ext).unwrap_err();
    assert_eq!(
        err,
        HeaderError::Missing {
            header: "SendMessageRequestHeader",
            field: "queueId"
        }
    );
    assert!(err.to_string().contains("queueId"));
    ext.insert("queueId", "x1");
    assert!(matches!(
        SendMessageRequestHeader::read(&ext),
        Err(HeaderError::Invalid {
            field: "queueId",
            ..
        })
    ));
}

#[test]
fn lenient_values() {
    let mut ext = crate::protocol::ExtFields::new();
    ext.insert("consumerGroup", "G");
    ext.insert("topic", "T");
    ext.insert("queueId", " 3 ");
    ext.insert("setZeroIfNotFound", "1");
    ext.insert("nsd", "TRUE");
    ext.insert("oway", "0");
    ext.insert("somethingElse", "ignored");
    let h = QueryConsumerOffsetRequestHeader::read(&ext).unwrap();
    assert_eq!(h.queue_id, 3);
    assert_eq!(h.set_zero_if_not_found, Some(true));
    assert_eq!(h.rpc.nsd, Some(true));
    assert_eq!(h.rpc.oway, Some(false));
    // An unparsable optional field is dropped, as Java's decoder does.
    ext.insert("subVersion", "x");
    let s = SearchOffsetRequestHeader::read(&{
        let mut e = ext.clone();
        e.insert("timestamp", "5");
        e.insert("boundaryType", "upper");
        e
    })
    .unwrap();
    assert_eq!(s.boundary_type, Some(BoundaryType::Upper));
}

#[test]
fn every_header_round_trips_through_ext_fields() {
    fn rt<H: CommandHeader + PartialEq + std::fmt::Debug + Clone>(h: H) {
        assert_eq!(H::read(&h.to_ext_fields()).unwrap(), h);
    }
    rt(v1());
    rt(PullMessageRequestHeader {
        consumer_group: "G".into(),
        topic: "T".into(),
        queue_id: 2,
        queue_offset: 100,
        max_msg_nums: 32,
        sys_flag: pull_sys_flag::SUSPEND,
        commit_offset: 0,
        suspend_timeout_millis: 15_000,
        subscription: Some("*".into()),
        sub_version: 1,
        expression_type: Some("TAG".into()),
        max_msg_bytes: None,
        request_source: None,
        proxy_froward_client_id: None,
        rpc: Default::default(),
    });
    rt(CreateTopicRequestHeader {
        topic: "T".into(),
        default_topic: "TBW102".into(),
        read_queue_nums: 8,
        write_queue_nums: 8,
        perm: 6,
        topic_filter_type: rmq_common::topic::TopicFilterType::MultiTag,
        order: true,
        ..Default::default()
    });
    rt(RegisterBrokerRequestHeader {
        broker_name: "b".into(),
        broker_addr: "1.2.3.4:10911".into(),
        cluster_name: "c".into(),
        ha_server_addr: "1.2.3.4:10912".into(),
        broker_id: 0,
        compressed: Some(false),
        body_crc32: Some(-5),
        ..Default::default()
    });
    rt(EndTransactionRequestHeader {
        producer_group: "P".into(),
        commit_or_rollback: transaction_type::COMMIT,
        msg_id: "ID".into(),
        ..Default::default()
    });
}
