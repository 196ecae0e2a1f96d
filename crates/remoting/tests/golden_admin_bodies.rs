//! Admin bodies against JSON as Apache's broker and clients write it (fastjson: alphabetical
//! fields, bare integer keys, inline `MessageQueue` keys): each body decodes Apache's text, and
//! encodes to the exact text rmq sends.

#![allow(clippy::unwrap_used)]

use rmq_common::MessageQueue;
use rmq_remoting::body::{
    ConsumerOffsetSerializeWrapper, ConsumerRunningInfo, DelayOffsetSerializeWrapper, JsonBody,
    ProducerConnection, ResetOffsetBody, SubscriptionGroupConfig, SubscriptionGroupWrapper,
};
use rmq_remoting::header::{GetBrokerConfigResponseHeader, ResetOffsetRequestHeader};
use rmq_remoting::{CommandHeader, LanguageCode};

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

#[test]
fn subscription_group_config_exact_json() {
    let g = SubscriptionGroupConfig::new("G");
    assert_eq!(
        text(&g.to_json_bytes()),
        r#"{"attributes":{},"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"consumeMessageOrderly":false,"consumeTimeoutMinute":15,"groupName":"G","groupSysFlag":0,"notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}"#
    );
    // Missing fields take Java's defaults; 5.x extras are kept.
    let apache = br#"{"attributes":{},"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"consumeMessageOrderly":false,"consumeTimeoutMinute":15,"groupName":"G","groupRetryPolicy":{"type":"CUSTOMIZED"},"groupSysFlag":0,"notifyConsumerIdsChangedEnable":true,"retryMaxTimes":3,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}"#;
    let back = SubscriptionGroupConfig::from_json_bytes(apache).unwrap();
    assert_eq!(back.retry_max_times, 3);
    assert!(back.group_retry_policy.is_some());
    assert_eq!(&back.to_json_bytes()[..], &apache[..]);
    let short = SubscriptionGroupConfig::from_json_bytes(br#"{"groupName":"G"}"#).unwrap();
    assert_eq!(short, g);
}

#[test]
fn subscription_group_wrapper_from_apache() {
    let apache = br#"{"dataVersion":{"counter":2,"stateVersion":0,"timestamp":1700000000000},"forbiddenTable":{},"subscriptionGroupTable":{"G":{"groupName":"G","retryMaxTimes":5}}}"#;
    let w = SubscriptionGroupWrapper::from_json_bytes(apache).unwrap();
    assert_eq!(w.data_version.counter, 2);
    assert_eq!(w.subscription_group_table["G"].retry_max_times, 5);
    assert_eq!(w.subscription_group_table["G"].retry_queue_nums, 1);
    let mut ours = SubscriptionGroupWrapper::default();
    ours.subscription_group_table
        .insert("G".into(), SubscriptionGroupConfig::new("G"));
    let s = ours.to_json_bytes();
    assert!(text(&s).starts_with(
        r#"{"dataVersion":{"counter":0,"stateVersion":0,"timestamp":0},"subscriptionGroupTable":{"G":{"attributes":{}"#
    ));
    assert_eq!(SubscriptionGroupWrapper::from_json_bytes(&s).unwrap(), ours);
}

#[test]
fn offset_wrappers_read_bare_integer_keys() {
    let apache = br#"{"dataVersion":{"counter":1,"stateVersion":0,"timestamp":5},"offsetTable":{"T@G":{0:12,1:34}}}"#;
    let w = ConsumerOffsetSerializeWrapper::from_json_bytes(apache).unwrap();
    assert_eq!(w.offset_table["T@G"][&1], 34);
    let groups: Vec<_> = w.groups().map(|(t, g, q)| (t, g, q.len())).collect();
    assert_eq!(groups, [("T", "G", 2)]);
    let legacy = ConsumerOffsetSerializeWrapper::from_json_bytes(br#"{"offsetTable":{}}"#).unwrap();
    assert_eq!(text(&legacy.to_json_bytes()), r#"{"offsetTable":{}}"#);

    let apache =
        br#"{"dataVersion":{"counter":0,"stateVersion":0,"timestamp":1},"offsetTable":{1:0,2:5}}"#;
    let d = DelayOffsetSerializeWrapper::from_json_bytes(apache).unwrap();
    assert_eq!(d.offset_table[&2], 5);
    let d = DelayOffsetSerializeWrapper {
        data_version: None,
        offset_table: [(1, 7)].into(),
    };
    assert_eq!(text(&d.to_json_bytes()), r#"{"offsetTable":{"1":7}}"#);
}

#[test]
fn reset_offset_body_uses_inline_queue_keys() {
    let apache = br#"{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:15}}"#;
    let b = ResetOffsetBody::from_json_bytes(apache).unwrap();
    assert_eq!(b.offset_table[&MessageQueue::new("T", "broker-a", 0)], 15);
    assert_eq!(&b.to_fastjson_bytes()[..], &apache[..]);
}

#[test]
fn consumer_running_info_from_java_client() {
    // As DefaultMQPushConsumerImpl.consumerRunningInfo() encodes it.
    let apache = br#"{"jstack":"main","mqPopTable":{},"mqTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"cachedMsgCount":2,"cachedMsgMaxOffset":9,"cachedMsgMinOffset":8,"cachedMsgSizeInMiB":0,"commitOffset":8,"droped":false,"lastConsumeTimestamp":1700000000001,"lastLockTimestamp":0,"lastPullTimestamp":1700000000000,"locked":false,"transactionMsgCount":0,"transactionMsgMaxOffset":0,"transactionMsgMinOffset":0,"tryUnlockTimes":0}},"properties":{"PROP_CONSUME_TYPE":"CONSUME_PASSIVELY","PROP_CONSUMEORDERLY":"false","PROP_THREADPOOL_CORE_SIZE":20,"PROP_CONSUMER_START_TIMESTAMP":"1700000000000"},"statusTable":{"T":{"consumeFailedMsgs":1,"consumeFailedTPS":0.0,"consumeOKTPS":12.5,"consumeRT":3.0,"pullRT":1.5,"pullTPS":13.0}},"subscriptionSet":[{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1,"tagsSet":[],"topic":"T"}],"userConsumerInfo":{}}"#;
    let info = ConsumerRunningInfo::from_json_bytes(apache).unwrap();
    let mq = MessageQueue::new("T", "broker-a", 1);
    assert_eq!(info.mq_table[&mq].commit_offset, 8);
    assert_eq!(info.mq_table[&mq].cached_msg_count, 2);
    assert_eq!(info.properties["PROP_CONSUME_TYPE"], "CONSUME_PASSIVELY");
    assert_eq!(info.properties["PROP_THREADPOOL_CORE_SIZE"], "20");
    assert_eq!(info.status_table["T"].consume_ok_tps, 12.5);
    assert_eq!(info.subscription_set[0].topic, "T");
    assert_eq!(info.jstack.as_deref(), Some("main"));
    let again = ConsumerRunningInfo::from_json_bytes(&info.to_fastjson_bytes()).unwrap();
    assert_eq!(again, info);
}

#[test]
fn producer_connection_from_apache() {
    let apache = br#"{"connectionSet":[{"clientAddr":"10.0.0.1:50000","clientId":"10.0.0.1@1","language":"JAVA","version":453}]}"#;
    let p = ProducerConnection::from_json_bytes(apache).unwrap();
    let c = p.connection_set.iter().next().unwrap();
    assert_eq!(
        (c.client_id.as_str(), c.language),
        ("10.0.0.1@1", LanguageCode::Java)
    );
    assert_eq!(&p.to_json_bytes()[..], &apache[..]);
}

#[test]
fn admin_headers_use_apache_field_names() {
    let h = ResetOffsetRequestHeader {
        topic: "T".into(),
        group: "G".into(),
        timestamp: 5,
        is_force: true,
        ..Default::default()
    };
    let ext = h.to_ext_fields();
    for (k, v) in [
        ("topic", "T"),
        ("group", "G"),
        ("timestamp", "5"),
        ("isForce", "true"),
    ] {
        assert_eq!(ext.get(k), Some(v), "{k}");
    }
    assert!(ext.get("queueId").is_none());
    let ext: rmq_remoting::ExtFields = [("version", r#"{"counter":1}"#)].into_iter().collect();
    let back = GetBrokerConfigResponseHeader::read(&ext);
    assert!(back.is_ok_and(|h| h.version.as_deref() == Some(r#"{"counter":1}"#)));
}
