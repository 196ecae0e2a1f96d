//! Admin request codes Apache's admin API (`DefaultMQAdminExt`) and `mqadmin` send, found
//! answered REQUEST_CODE_NOT_SUPPORTED by running them against rmq (interop/java): each test is
//! the lowest-level regression test of one, over real TCP to an in-process broker.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::cluster;
use common::*;
use parking_lot::Mutex;
use rmq_remoting::body::{JsonBody, ProducerConnection, ResetOffsetBody};
use rmq_remoting::header::{
    GetConsumerRunningInfoRequestHeader, GetProducerConnectionListRequestHeader,
    GetTopicConfigRequestHeader, PullMessageResponseHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, ResetOffsetRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::{
    ClientConfig, RemotingClient, RemotingCommand, RequestCode, RequestContext, ResponseCode,
};

fn update_config(body: &str) -> RemotingCommand {
    RemotingCommand::new_request(RequestCode::UpdateBrokerConfig).with_body(body.to_owned())
}

async fn broker_config(c: &RemotingClient, addr: &str) -> String {
    let resp = c
        .invoke(
            addr,
            RemotingCommand::new_request(RequestCode::GetBrokerConfig),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    String::from_utf8(resp.body.to_vec()).unwrap()
}

/// `mqadmin updateBrokerConfig`: a key the broker reads per request changes at once (and
/// `brokerPermission` reaches the name servers, so producers route around a read-only broker);
/// a key built into a running part is refused by name rather than silently ignored.
#[tokio::test]
async fn update_broker_config_applies_runtime_keys_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let ns = start_namesrv(dir.path()).await;
    let ns_addr = ns.local_addr().to_string();
    let broker = start(config(dir.path(), &[("namesrvAddr", &ns_addr)])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    cluster::create_topic(&c, &addr, "TopicPerm", 2).await;
    let perm_in_route = |c: RemotingClient, ns: String| async move {
        cluster::route(&c, &ns, "TopicPerm")
            .await
            .and_then(|r| r.queue_datas.first().map(|q| q.perm))
    };
    cluster::wait_until("TopicPerm routed read-write", TIMEOUT, || async {
        perm_in_route(c.clone(), ns_addr.clone()).await == Some(6)
    })
    .await;

    let resp = c
        .invoke(&addr, update_config("brokerPermission=4\n"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    assert!(broker_config(&c, &addr)
        .await
        .contains("\nbrokerPermission=4\n"));
    // Answered only after the name servers were told: the route is read-only already.
    assert_eq!(perm_in_route(c.clone(), ns_addr.clone()).await, Some(4));
    let send = c
        .invoke(&addr, send_request("TopicPerm", 0, b"x", None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(send.response_code(), ResponseCode::NoPermission);

    for (body, named) in [
        ("listenPort=1\n", "listenPort"),
        ("noSuchKey=1\n", "noSuchKey"),
        ("brokerPermission=9\n", "brokerPermission"),
    ] {
        let resp = c.invoke(&addr, update_config(body), TIMEOUT).await.unwrap();
        assert_eq!(
            resp.response_code(),
            ResponseCode::InvalidParameter,
            "{body}"
        );
        let remark = resp.remark.unwrap_or_default();
        assert!(remark.contains(named), "{body}: {remark}");
    }
    // All or nothing: a refused update changed nothing.
    assert!(broker_config(&c, &addr)
        .await
        .contains("\nbrokerPermission=4\n"));

    let resp = c
        .invoke(&addr, update_config("brokerPermission=6"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    assert_eq!(perm_in_route(c.clone(), ns_addr.clone()).await, Some(6));
    let send = c
        .invoke(&addr, send_request("TopicPerm", 0, b"x", None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(send.response_code(), ResponseCode::Success);

    // maxMessageSize: the broker's check and the store's both follow.
    let resp = c
        .invoke(&addr, update_config("maxMessageSize=4"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    let send = c
        .invoke(&addr, send_request("TopicPerm", 0, b"12345", None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(send.response_code(), ResponseCode::MessageIllegal);
    let send = c
        .invoke(&addr, send_request("TopicPerm", 0, b"1234", None), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(send.response_code(), ResponseCode::Success);
    let resp = c
        .invoke(&addr, update_config("maxMessageSize=0"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::InvalidParameter);
    broker.shutdown().await;
    ns.shutdown().await;
}

/// 5.x `DefaultMQAdminExt.examineTopicConfig` (GET_TOPIC_CONFIG, 351), which `updateTopic`
/// and `createTopic` call first.
#[tokio::test]
async fn topic_config_is_answered_or_topic_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    cluster::create_topic(&c, &addr, "TopicOne", 3).await;
    let ask = |topic: &str| {
        RemotingCommand::request(
            RequestCode::GetTopicConfig,
            &GetTopicConfigRequestHeader {
                topic: topic.into(),
                lo: None,
                rpc: Default::default(),
            },
        )
    };
    let resp = c.invoke(&addr, ask("TopicOne"), TIMEOUT).await.unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(json["topicName"], "TopicOne");
    assert_eq!(json["writeQueueNums"], 3);
    let resp = c.invoke(&addr, ask("NoSuchTopic"), TIMEOUT).await.unwrap();
    assert_eq!(resp.response_code(), ResponseCode::TopicNotExist);
    broker.shutdown().await;
}

/// `mqadmin producerConnection` (GET_PRODUCER_CONNECTION_LIST, 204).
#[tokio::test]
async fn producer_connections_list_the_group_members() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let producer = client();
    let resp = producer
        .invoke(
            &addr,
            producer_heartbeat("10.0.0.1@producer-1", "PG-conn"),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let ask = |group: &str| {
        RemotingCommand::request(
            RequestCode::GetProducerConnectionList,
            &GetProducerConnectionListRequestHeader {
                producer_group: group.into(),
                rpc: Default::default(),
            },
        )
    };
    let admin = client();
    let resp = admin.invoke(&addr, ask("PG-conn"), TIMEOUT).await.unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let conns = ProducerConnection::from_json_bytes(&resp.body).unwrap();
    let ids: Vec<&str> = conns
        .connection_set
        .iter()
        .map(|c| c.client_id.as_str())
        .collect();
    assert_eq!(ids, ["10.0.0.1@producer-1"]);
    let resp = admin.invoke(&addr, ask("PG-none"), TIMEOUT).await.unwrap();
    assert_eq!(resp.response_code(), ResponseCode::SystemError);
    assert!(resp.remark.unwrap_or_default().contains("PG-none"));
    broker.shutdown().await;
}

async fn committed(c: &RemotingClient, addr: &str, group: &str, topic: &str, q: i32) -> i64 {
    let resp = c
        .invoke(
            addr,
            RemotingCommand::request(
                RequestCode::QueryConsumerOffset,
                &QueryConsumerOffsetRequestHeader {
                    consumer_group: group.into(),
                    topic: topic.into(),
                    queue_id: q,
                    set_zero_if_not_found: Some(false),
                    rpc: Default::default(),
                },
            ),
            TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    let h: QueryConsumerOffsetResponseHeader = resp.decode_header().unwrap();
    h.offset
}

fn commit(group: &str, topic: &str, q: i32, offset: i64) -> RemotingCommand {
    RemotingCommand::request(
        RequestCode::UpdateConsumerOffset,
        &UpdateConsumerOffsetRequestHeader {
            consumer_group: group.into(),
            topic: topic.into(),
            queue_id: q,
            commit_offset: offset,
            rpc: Default::default(),
        },
    )
}

fn reset(group: &str, topic: &str, timestamp: i64) -> RemotingCommand {
    RemotingCommand::request(
        RequestCode::InvokeBrokerToResetOffset,
        &ResetOffsetRequestHeader {
            topic: topic.into(),
            group: group.into(),
            queue_id: Some(-1),
            offset: None,
            timestamp,
            is_force: true,
            rpc: Default::default(),
        },
    )
}

/// `mqadmin resetOffsetByTime` with the 5.x default (`useServerSideResetOffset=true`): the
/// broker commits the new offsets, ignores the consumer's reports of its old position, and moves
/// it with PULL_OFFSET_MOVED at its next pull of the queue.
#[tokio::test]
async fn reset_offset_moves_the_group_at_its_next_pull() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    cluster::create_topic(&c, &addr, "TopicReset", 1).await;
    for body in [&b"a"[..], b"b", b"c"] {
        let r = c
            .invoke(&addr, send_request("TopicReset", 0, body, None), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(r.response_code(), ResponseCode::Success);
    }
    let hb = heartbeat("10.0.0.2@c1", "GReset", "TopicReset", "*");
    assert_eq!(
        c.invoke(&addr, hb, TIMEOUT).await.unwrap().response_code(),
        ResponseCode::Success
    );
    let r = c
        .invoke(&addr, commit("GReset", "TopicReset", 0, 3), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);

    // Every message was stored after the epoch: back to the start.
    let resp = c
        .invoke(&addr, reset("GReset", "TopicReset", 0), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    let table = ResetOffsetBody::from_json_bytes(&resp.body)
        .unwrap()
        .offset_table;
    let offsets: Vec<(i32, i64)> = table.iter().map(|(q, o)| (q.queue_id, *o)).collect();
    assert_eq!(offsets, [(0, 0)]);
    assert_eq!(committed(&c, &addr, "GReset", "TopicReset", 0).await, 0);

    // The consumer, not told yet, reports its old position: ignored.
    let r = c
        .invoke(&addr, commit("GReset", "TopicReset", 0, 3), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
    assert_eq!(committed(&c, &addr, "GReset", "TopicReset", 0).await, 0);
    // Its next pull moves it.
    let pull = pull_request("GReset", "TopicReset", 0, 3, 0, 0, Some("*"));
    let resp = c.invoke(&addr, pull, TIMEOUT).await.unwrap();
    assert_eq!(resp.response_code(), ResponseCode::PullOffsetMoved);
    let h: PullMessageResponseHeader = resp.decode_header().unwrap();
    assert_eq!(h.next_begin_offset, 0);
    // Told once: from now on its commits count again.
    let r = c
        .invoke(&addr, commit("GReset", "TopicReset", 0, 1), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
    assert_eq!(committed(&c, &addr, "GReset", "TopicReset", 0).await, 1);

    // -1: the end of each queue.
    let resp = c
        .invoke(&addr, reset("GReset", "TopicReset", -1), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    assert_eq!(committed(&c, &addr, "GReset", "TopicReset", 0).await, 3);
    let resp = c
        .invoke(&addr, reset("GReset", "NoSuchTopic", 0), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::TopicNotExist);
    broker.shutdown().await;
}

/// A consumer connection that records the requests the broker sends it and answers
/// GET_CONSUMER_RUNNING_INFO with a fixed body.
fn recording_consumer() -> (RemotingClient, Arc<Mutex<Vec<RemotingCommand>>>) {
    let seen: Arc<Mutex<Vec<RemotingCommand>>> = Arc::default();
    let log = seen.clone();
    let handler = move |_ctx: RequestContext, req: RemotingCommand| {
        log.lock().push(req.clone());
        async move {
            if req.code == i32::from(RequestCode::GetConsumerRunningInfo) {
                Ok(Some(req.response_to(ResponseCode::Success).with_body(
                    &b"{\"properties\":{\"PROP_CONSUME_TYPE\":\"CONSUME_PASSIVELY\"}}"[..],
                )))
            } else {
                Ok(None)
            }
        }
    };
    (
        RemotingClient::with_request_handler(ClientConfig::default(), handler),
        seen,
    )
}

/// `mqadmin resetOffsetByTime` against a broker with `useServerSideResetOffset=false` (4.x):
/// every online consumer of the group gets RESET_CONSUMER_CLIENT_OFFSET with the new offsets;
/// with none online the answer is CONSUMER_NOT_ONLINE.
#[tokio::test]
async fn reset_offset_4x_style_tells_the_online_consumers() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[("useServerSideResetOffset", "false")])).await;
    let addr = broker.local_addr().to_string();
    let admin = client();
    cluster::create_topic(&admin, &addr, "TopicTell", 1).await;
    let r = admin
        .invoke(&addr, commit("GTell", "TopicTell", 0, 0), TIMEOUT)
        .await
        .unwrap();
    // The group does not exist yet (no member ever registered).
    assert_eq!(r.response_code(), ResponseCode::SubscriptionGroupNotExist);
    let (consumer, seen) = recording_consumer();
    let hb = heartbeat("10.0.0.3@c1", "GTell", "TopicTell", "*");
    assert_eq!(
        consumer
            .invoke(&addr, hb, TIMEOUT)
            .await
            .unwrap()
            .response_code(),
        ResponseCode::Success
    );
    let r = admin
        .invoke(&addr, commit("GTell", "TopicTell", 0, 0), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
    let resp = admin
        .invoke(&addr, reset("GTell", "TopicTell", -1), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    cluster::wait_until(
        "RESET_CONSUMER_CLIENT_OFFSET at the consumer",
        TIMEOUT,
        || {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .iter()
                    .any(|r| r.code == i32::from(RequestCode::ResetConsumerClientOffset))
            }
        },
    )
    .await;
    let told = seen
        .lock()
        .iter()
        .find(|r| r.code == i32::from(RequestCode::ResetConsumerClientOffset))
        .cloned()
        .unwrap();
    let h: ResetOffsetRequestHeader = told.decode_header().unwrap();
    assert_eq!((h.group.as_str(), h.topic.as_str()), ("GTell", "TopicTell"));
    let body = ResetOffsetBody::from_json_bytes(&told.body).unwrap();
    assert_eq!(body.offset_table.len(), 1);

    drop(consumer);
    cluster::wait_until("the consumer gone from the group", TIMEOUT, || {
        let admin = admin.clone();
        let addr = addr.clone();
        async move {
            let resp = admin
                .invoke(&addr, reset("GTell", "TopicTell", -1), TIMEOUT)
                .await
                .unwrap();
            resp.response_code() == ResponseCode::ConsumerNotOnline
        }
    })
    .await;
    broker.shutdown().await;
}

/// `mqadmin consumerStatus` (GET_CONSUMER_RUNNING_INFO, 307): the broker relays the request to
/// the named consumer and answers with its reply; an unknown client is named in the answer.
#[tokio::test]
async fn consumer_running_info_is_relayed_to_the_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let (consumer, seen) = recording_consumer();
    let mut hb = heartbeat("10.0.0.4@c1", "GInfo", "TopicInfo", "*");
    // A Java 4.9.8 client's version: new enough to answer relayed requests.
    hb.version = 395;
    assert_eq!(
        consumer
            .invoke(&addr, hb, TIMEOUT)
            .await
            .unwrap()
            .response_code(),
        ResponseCode::Success
    );
    let ask = |client_id: &str| {
        RemotingCommand::request(
            RequestCode::GetConsumerRunningInfo,
            &GetConsumerRunningInfoRequestHeader {
                consumer_group: "GInfo".into(),
                client_id: client_id.into(),
                jstack_enable: Some(false),
                rpc: Default::default(),
            },
        )
    };
    let admin = client();
    let resp = admin
        .invoke(&addr, ask("10.0.0.4@c1"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        resp.response_code(),
        ResponseCode::Success,
        "{:?}",
        resp.remark
    );
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(body["properties"]["PROP_CONSUME_TYPE"], "CONSUME_PASSIVELY");
    assert!(seen
        .lock()
        .iter()
        .any(|r| r.code == i32::from(RequestCode::GetConsumerRunningInfo)
            && r.ext_fields.get("clientId") == Some("10.0.0.4@c1")));
    let resp = admin
        .invoke(&addr, ask("10.0.0.9@nobody"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::SystemError);
    assert!(resp.remark.unwrap_or_default().contains("10.0.0.9@nobody"));
    broker.shutdown().await;
}
