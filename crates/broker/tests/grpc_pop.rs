//! POP consumption through the gRPC front door of an in-process broker, over real TCP with the
//! generated tonic client: receive with a tag filter, ack, ChangeInvisibleDuration (both
//! handles stay valid), redelivery after the invisible time from the retry topic, the dead
//! letter queue (by the consumer and after the last attempt), FIFO groups redelivering in place,
//! and messages in flight surviving a restart. Messages are sent over remoting, so every test
//! also crosses protocols.
#![allow(clippy::unwrap_used)]

mod common;

use common::cluster::{create_topic, wait_until};
use common::grpc::{connect, resource as res};
use common::{client, config, pull_request, pull_until_found, send_request, start};
use rmq_common::record::decode_messages;
use rmq_proto::v2::messaging_service_client::MessagingServiceClient;
use rmq_proto::v2::{
    receive_message_response::Content, AckMessageEntry, AckMessageRequest,
    ChangeInvisibleDurationRequest, Code, DigestType, FilterExpression, FilterType,
    ForwardMessageToDeadLetterQueueRequest, Message, MessageQueue, ReceiveMessageRequest, Status,
};
use rmq_remoting::body::SubscriptionGroupConfig;
use rmq_remoting::header::pull_sys_flag;
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingClient, RemotingCommand, RequestCode, ResponseCode};
use tonic::transport::Channel;
use tonic::Request;

type Grpc = MessagingServiceClient<Channel>;

/// Short invisible times and polls, so expiry is seen in a test's time.
const FAST: &[(&str, &str)] = &[
    ("minInvisibleTimeMillsForRecv", "200"),
    ("grpcClientConsumerMinLongPollingTimeoutMillis", "100"),
    ("grpcClientConsumerMaxLongPollingTimeoutMillis", "2000"),
];

fn req<T>(msg: T) -> Request<T> {
    common::grpc::request("pop-test-client", msg)
}

fn ms(n: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: n / 1000,
        nanos: ((n % 1000) * 1_000_000) as i32,
    })
}

/// One receive: its status and messages.
async fn receive(
    c: &mut Grpc,
    group: &str,
    topic: &str,
    tag: &str,
    batch: i32,
    invisible_ms: i64,
) -> (Status, Vec<Message>) {
    let mut stream = c
        .receive_message(req(ReceiveMessageRequest {
            group: res(group),
            message_queue: Some(MessageQueue {
                topic: res(topic),
                id: -1,
                ..MessageQueue::default()
            }),
            filter_expression: Some(FilterExpression {
                r#type: FilterType::Tag as i32,
                expression: tag.into(),
            }),
            batch_size: batch,
            invisible_duration: ms(invisible_ms),
            auto_renew: false,
            long_polling_timeout: ms(1000),
            attempt_id: None,
        }))
        .await
        .unwrap()
        .into_inner();
    let mut status = None;
    let mut messages = Vec::new();
    let mut delivered_at = false;
    while let Some(frame) = stream.message().await.unwrap() {
        match frame.content.unwrap() {
            Content::Status(s) => {
                assert!(
                    status.is_none() && messages.is_empty(),
                    "status comes first, once"
                );
                status = Some(s);
            }
            Content::Message(m) => messages.push(m),
            Content::DeliveryTimestamp(_) => delivered_at = true,
        }
    }
    assert!(delivered_at, "the stream ends with the delivery timestamp");
    (status.unwrap(), messages)
}

/// Receives until a message with body `body` arrives (each receive long-polls).
async fn receive_until(
    c: &mut Grpc,
    group: &str,
    topic: &str,
    body: &str,
    invisible_ms: i64,
) -> (Message, Vec<Message>) {
    let mut others = Vec::new();
    for _ in 0..60 {
        let (_, got) = receive(c, group, topic, "*", 32, invisible_ms).await;
        for m in got {
            if m.body == body.as_bytes() {
                return (m, others);
            }
            others.push(m);
        }
    }
    panic!("{body:?} was not received within 60 receives; got {others:?}");
}

fn handle(m: &Message) -> String {
    m.system_properties
        .as_ref()
        .unwrap()
        .receipt_handle
        .clone()
        .unwrap()
}

fn attempt(m: &Message) -> i32 {
    m.system_properties
        .as_ref()
        .unwrap()
        .delivery_attempt
        .unwrap()
}

async fn ack(c: &mut Grpc, group: &str, topic: &str, handle: &str) -> Status {
    c.ack_message(req(AckMessageRequest {
        group: res(group),
        topic: res(topic),
        entries: vec![AckMessageEntry {
            message_id: String::new(),
            receipt_handle: handle.into(),
            lite_topic: None,
        }],
    }))
    .await
    .unwrap()
    .into_inner()
    .status
    .unwrap()
}

async fn change_invisible(
    c: &mut Grpc,
    group: &str,
    topic: &str,
    handle: &str,
    invisible_ms: i64,
) -> (Status, String) {
    let r = c
        .change_invisible_duration(req(ChangeInvisibleDurationRequest {
            group: res(group),
            topic: res(topic),
            receipt_handle: handle.into(),
            invisible_duration: ms(invisible_ms),
            message_id: String::new(),
            lite_topic: None,
            suspend: None,
        }))
        .await
        .unwrap()
        .into_inner();
    (r.status.unwrap(), r.receipt_handle)
}

async fn send(
    remoting: &RemotingClient,
    addr: &str,
    topic: &str,
    queue: i32,
    body: &'static str,
    tag: &str,
) {
    let r = remoting
        .invoke(
            addr,
            send_request(topic, queue, body.as_bytes(), Some(tag)),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
}

async fn create_group(
    remoting: &RemotingClient,
    addr: &str,
    group: &str,
    orderly: bool,
    retry_max: i32,
) {
    let mut g = SubscriptionGroupConfig::new(group);
    g.consume_message_orderly = orderly;
    g.retry_max_times = retry_max;
    let cmd = RemotingCommand::new_request(RequestCode::UpdateAndCreateSubscriptionGroup)
        .with_body(g.to_json_bytes());
    let r = remoting.invoke(addr, cmd, common::TIMEOUT).await.unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
}

/// Pulls a DLQ (or any) queue over remoting until a message arrives; its bodies.
async fn pull_bodies(remoting: &RemotingClient, addr: &str, topic: &str) -> Vec<Vec<u8>> {
    let resp = pull_until_found(remoting, addr, || {
        pull_request(
            "CG-dlq-reader",
            topic,
            0,
            0,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("*"),
        )
    })
    .await;
    assert_eq!(resp.response_code(), ResponseCode::Success);
    decode_messages(&resp.body)
        .unwrap()
        .into_iter()
        .map(|m| m.message.body.to_vec())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_ack_change_invisible_and_redelivery() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), FAST)).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PopTopic", 2).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let (g, t) = ("PopGroup", "PopTopic");

    send(&remoting, &addr, t, 0, "a-acked", "TagA").await;
    send(&remoting, &addr, t, 1, "b-filtered", "TagB").await;
    send(&remoting, &addr, t, 1, "a-expires", "TagA").await;
    send(&remoting, &addr, t, 0, "a-changed", "TagA").await;

    // The tag filter leaves TagB out; each message comes with a handle and an MD5 digest.
    let mut got = Vec::new();
    while got.len() < 3 {
        let (st, mut msgs) = receive(&mut c, g, t, "TagA", 32, 60_000).await;
        if msgs.is_empty() {
            assert_eq!(st.code, Code::MessageNotFound as i32, "{st:?}");
        } else {
            assert_eq!(st.code, Code::Ok as i32);
        }
        got.append(&mut msgs);
    }
    let mut bodies: Vec<&[u8]> = got.iter().map(|m| m.body.as_slice()).collect();
    bodies.sort();
    assert_eq!(bodies, [b"a-acked".as_slice(), b"a-changed", b"a-expires"]);
    let by = |b: &str| got.iter().find(|m| m.body == b.as_bytes()).unwrap().clone();
    let first = by("a-acked");
    let sp = first.system_properties.as_ref().unwrap();
    assert_eq!(first.topic.as_ref().unwrap().name, t);
    assert_eq!(sp.tag.as_deref(), Some("TagA"));
    assert_eq!(
        sp.body_digest.as_ref().unwrap().r#type,
        DigestType::Md5 as i32
    );
    assert_eq!(sp.delivery_attempt, Some(1));
    assert!(!sp.message_id.is_empty());

    // Ack one; ack it again: no longer in flight.
    assert_eq!(
        ack(&mut c, g, t, &handle(&first)).await.code,
        Code::Ok as i32
    );
    assert_eq!(
        ack(&mut c, g, t, &handle(&first)).await.code,
        Code::InvalidReceiptHandle as i32
    );
    // Garbage is refused by name.
    let bad = ack(&mut c, g, t, "not a handle").await;
    assert_eq!(bad.code, Code::InvalidReceiptHandle as i32);
    assert!(bad.message.contains("not a handle"), "{}", bad.message);

    // ChangeInvisibleDuration gives a new handle; the old one still acks the message, after
    // which the new one finds it settled (Apache's bug was the opposite).
    let changed = by("a-changed");
    let (st, new_handle) = change_invisible(&mut c, g, t, &handle(&changed), 60_000).await;
    assert_eq!(st.code, Code::Ok as i32);
    assert_ne!(new_handle, handle(&changed));
    assert_eq!(
        ack(&mut c, g, t, &handle(&changed)).await.code,
        Code::Ok as i32
    );
    assert_eq!(
        ack(&mut c, g, t, &new_handle).await.code,
        Code::InvalidReceiptHandle as i32
    );

    // The one left unacked: made visible again now, it comes back from the retry topic as
    // attempt 2, under its own topic and message id.
    let expires = by("a-expires");
    let (st, _) = change_invisible(&mut c, g, t, &handle(&expires), 0).await;
    assert_eq!(st.code, Code::Ok as i32);
    let (again, others) = receive_until(&mut c, g, t, "a-expires", 60_000).await;
    assert!(others.is_empty(), "nothing else came back: {others:?}");
    assert_eq!(attempt(&again), 2);
    assert_eq!(again.topic.as_ref().unwrap().name, t);
    assert_eq!(
        again.system_properties.as_ref().unwrap().message_id,
        expires.system_properties.as_ref().unwrap().message_id
    );
    assert!(
        handle(&again).split(' ').nth(4) == Some("1"),
        "popped from the retry topic"
    );
    assert_eq!(
        ack(&mut c, g, t, &handle(&again)).await.code,
        Code::Ok as i32
    );

    // The acked messages never come back: a marker sent now is the next thing received.
    send(&remoting, &addr, t, 0, "marker", "TagA").await;
    let (_, before_marker) = receive_until(&mut c, g, t, "marker", 60_000).await;
    assert!(before_marker.is_empty(), "{before_marker:?}");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_by_the_consumer_and_after_the_last_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), FAST)).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PopDlq", 1).await;
    // Two attempts in all.
    create_group(&remoting, &addr, "PopDlqGroup", false, 1).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let (g, t) = ("PopDlqGroup", "PopDlq");

    send(&remoting, &addr, t, 0, "given-up", "T").await;
    let (m, _) = receive_until(&mut c, g, t, "given-up", 60_000).await;
    let r = c
        .forward_message_to_dead_letter_queue(req(ForwardMessageToDeadLetterQueueRequest {
            group: res(g),
            topic: res(t),
            receipt_handle: handle(&m),
            message_id: String::new(),
            delivery_attempt: 1,
            max_delivery_attempts: 2,
            lite_topic: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status.unwrap().code, Code::Ok as i32);
    assert_eq!(
        pull_bodies(&remoting, &addr, "%DLQ%PopDlqGroup").await,
        [b"given-up".to_vec()]
    );

    // Never acked: attempt 1, attempt 2, then the DLQ.
    send(&remoting, &addr, t, 0, "never-acked", "T").await;
    let (first, _) = receive_until(&mut c, g, t, "never-acked", 300).await;
    assert_eq!(attempt(&first), 1);
    let (second, _) = receive_until(&mut c, g, t, "never-acked", 300).await;
    assert_eq!(attempt(&second), 2);
    let resp = pull_until_found(&remoting, &addr, || {
        pull_request(
            "CG-dlq-reader",
            "%DLQ%PopDlqGroup",
            0,
            1,
            pull_sys_flag::SUBSCRIPTION,
            0,
            Some("*"),
        )
    })
    .await;
    let dead = decode_messages(&resp.body).unwrap();
    assert_eq!(&dead[0].message.body[..], b"never-acked");
    assert_eq!(
        dead[0]
            .message
            .properties
            .get("DLQ_ORIGIN_TOPIC")
            .map(String::as_str),
        Some(t)
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_group_gets_its_queue_in_order_and_redelivery_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), FAST)).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PopFifo", 1).await;
    create_group(&remoting, &addr, "PopFifoGroup", true, 16).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let (g, t) = ("PopFifoGroup", "PopFifo");
    for b in ["m1", "m2", "m3"] {
        send(&remoting, &addr, t, 0, b, "T").await;
    }
    let (m1, _) = receive_until_batch(&mut c, g, t, 1, "m1").await;
    assert_eq!(attempt(&m1), 1);
    // m1 is not acked: when it falls due the queue gives m1 again, not m2.
    let (st, _) = change_invisible(&mut c, g, t, &handle(&m1), 0).await;
    assert_eq!(st.code, Code::Ok as i32);
    let (again, _) = receive_until_batch(&mut c, g, t, 1, "m1").await;
    assert_eq!(attempt(&again), 2);
    assert!(
        handle(&again).split(' ').nth(4) == Some("0"),
        "in place, not via the retry topic"
    );
    assert_eq!(
        ack(&mut c, g, t, &handle(&again)).await.code,
        Code::Ok as i32
    );
    let (m2, skipped) = receive_until_batch(&mut c, g, t, 1, "m2").await;
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(attempt(&m2), 1);
    assert_eq!(ack(&mut c, g, t, &handle(&m2)).await.code, Code::Ok as i32);
    let (_, skipped) = receive_until_batch(&mut c, g, t, 1, "m3").await;
    assert!(skipped.is_empty(), "{skipped:?}");
    broker.shutdown().await;
}

/// Receives one message at a time until `body`; the others seen before it.
async fn receive_until_batch(
    c: &mut Grpc,
    group: &str,
    topic: &str,
    batch: i32,
    body: &str,
) -> (Message, Vec<Message>) {
    let mut others = Vec::new();
    for _ in 0..60 {
        let (_, got) = receive(c, group, topic, "*", batch, 60_000).await;
        for m in got {
            if m.body == body.as_bytes() {
                return (m, others);
            }
            others.push(m);
        }
    }
    panic!("{body:?} not received; got {others:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_in_flight_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), FAST)).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PopRestart", 1).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let (g, t) = ("PopRestartGroup", "PopRestart");
    for b in ["acked", "held", "lapsed"] {
        send(&remoting, &addr, t, 0, b, "T").await;
    }
    let mut got = Vec::new();
    while got.len() < 3 {
        got.extend(receive(&mut c, g, t, "*", 32, 60_000).await.1);
    }
    let by = |b: &str| got.iter().find(|m| m.body == b.as_bytes()).unwrap().clone();
    assert_eq!(
        ack(&mut c, g, t, &handle(&by("acked"))).await.code,
        Code::Ok as i32
    );
    // "lapsed" falls due while the broker is down.
    let (st, _) = change_invisible(&mut c, g, t, &handle(&by("lapsed")), 500).await;
    assert_eq!(st.code, Code::Ok as i32);
    drop(c);
    broker.shutdown().await;

    let broker = start(config(dir.path(), FAST)).await;
    let addr = broker.local_addr().to_string();
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    // "lapsed" comes back; "held" is still in flight and its handle still acks it.
    let (lapsed, others) = receive_until(&mut c, g, t, "lapsed", 60_000).await;
    assert!(others.is_empty(), "{others:?}");
    assert_eq!(attempt(&lapsed), 2);
    assert_eq!(
        ack(&mut c, g, t, &handle(&by("held"))).await.code,
        Code::Ok as i32
    );
    assert_eq!(
        ack(&mut c, g, t, &handle(&lapsed)).await.code,
        Code::Ok as i32
    );
    // "acked" never comes back.
    send(&remoting, &addr, t, 0, "marker", "T").await;
    let (_, before) = receive_until(&mut c, g, t, "marker", 60_000).await;
    assert!(before.is_empty(), "{before:?}");
    broker.shutdown().await;
}

/// Timer messages, sent over gRPC (DELAY with a delivery timestamp) and over remoting
/// (`TIMER_DELAY_SEC`), are delivered at their time: not stored in their topic before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timer_messages_arrive_at_their_time() {
    use rmq_proto::v2::{MessageType, SendMessageRequest, SystemProperties};
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), FAST)).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PopTimer", 2).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let (g, t) = ("PopTimerGroup", "PopTimer");
    let at = rmq_common::time::now_millis() + 1_500;
    let sent = c
        .send_message(req(SendMessageRequest {
            messages: vec![Message {
                topic: res(t),
                user_properties: Default::default(),
                system_properties: Some(SystemProperties {
                    message_id: "01TIMERTESTMESSAGE000000001".into(),
                    message_type: MessageType::Delay as i32,
                    delivery_timestamp: Some(prost_types::Timestamp {
                        seconds: at / 1000,
                        nanos: ((at % 1000) * 1_000_000) as i32,
                    }),
                    ..SystemProperties::default()
                }),
                body: b"timed-grpc".to_vec(),
            }],
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        sent.status.unwrap().code,
        Code::Ok as i32,
        "{:?}",
        sent.entries
    );
    let remoting_at = rmq_common::time::now_millis() + 1_000;
    let r = remoting
        .invoke(
            &addr,
            common::send_request_with(
                t,
                0,
                b"timed-remoting",
                Some("T"),
                &[("TIMER_DELAY_SEC", "1")],
            ),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    for (body, due) in [("timed-remoting", remoting_at), ("timed-grpc", at)] {
        let (m, _) = receive_until(&mut c, g, t, body, 60_000).await;
        let sp = m.system_properties.unwrap();
        let stored = sp.store_timestamp.unwrap();
        let stored_ms = stored.seconds * 1000 + i64::from(stored.nanos) / 1_000_000;
        // Stored in its topic no earlier than its time: never delivered early.
        assert!(stored_ms >= due, "{body} stored at {stored_ms}, due {due}");
        assert!(
            sp.delivery_timestamp.is_some(),
            "{body} shows its delivery time"
        );
        assert_eq!(
            ack(&mut c, g, t, &sp.receipt_handle.unwrap()).await.code,
            Code::Ok as i32
        );
    }
    // Too far ahead: refused by name.
    let r = remoting
        .invoke(
            &addr,
            common::send_request_with(t, 0, b"too-far", None, &[("TIMER_DELAY_SEC", "999999999")]),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::MessageIllegal);
    assert!(r.remark.unwrap_or_default().contains("timerMaxDelaySec"));
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_receives_get_named_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PopBad", 1).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    // Invisible time below minInvisibleTimeMillsForRecv (10 s by default).
    let (st, _) = receive(&mut c, "G", "PopBad", "*", 1, 1_000).await;
    assert_eq!(st.code, Code::IllegalInvisibleTime as i32, "{st:?}");
    let (st, _) = receive(&mut c, "G", "NoSuchTopic", "*", 1, 30_000).await;
    assert_eq!(st.code, Code::TopicNotFound as i32, "{st:?}");
    assert!(st.message.contains("NoSuchTopic"));
    broker.shutdown().await;
}

/// A 5.x consumer with an open Telemetry stream is listed with its group and subscription by
/// GET_CONSUMER_CONNECTION_LIST (`mqadmin consumerConnection`), like a remoting consumer; once
/// its stream closes it is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_consumer_is_listed_with_its_group() {
    use futures::StreamExt;
    use rmq_proto::v2::{
        settings, telemetry_command, ClientType, Settings, Subscription, SubscriptionEntry,
        TelemetryCommand,
    };
    use rmq_remoting::body::ConsumerConnection;
    use rmq_remoting::header::GetConsumerConnectionListRequestHeader;
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PopListed", 1).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let hello = TelemetryCommand {
        status: None,
        command: Some(telemetry_command::Command::Settings(Settings {
            client_type: Some(ClientType::SimpleConsumer as i32),
            pub_sub: Some(settings::PubSub::Subscription(Subscription {
                group: res("PopListedGroup"),
                subscriptions: vec![SubscriptionEntry {
                    topic: res("PopListed"),
                    expression: Some(FilterExpression {
                        r#type: FilterType::Tag as i32,
                        expression: "TagA || TagB".into(),
                    }),
                }],
                ..Subscription::default()
            })),
            ..Settings::default()
        })),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // The client's half stays open until `stop_tx` fires, then ends (the client hangs up).
    let outbound = futures::stream::iter([hello]).chain(
        futures::stream::once(async move {
            let _ = stop_rx.await;
        })
        .filter_map(|()| async { None }),
    );
    let mut stream = c.telemetry(req(outbound)).await.unwrap().into_inner();
    let answer = stream.message().await.unwrap().unwrap();
    let Some(telemetry_command::Command::Settings(s)) = answer.command else {
        panic!("no settings answered");
    };
    let Some(settings::PubSub::Subscription(sub)) = s.pub_sub else {
        panic!("no subscription settings");
    };
    assert_eq!(sub.fifo, Some(false));
    let list = || {
        RemotingCommand::request(
            RequestCode::GetConsumerConnectionList,
            &GetConsumerConnectionListRequestHeader {
                consumer_group: "PopListedGroup".into(),
                ..Default::default()
            },
        )
    };
    let r = remoting
        .invoke(&addr, list(), common::TIMEOUT)
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    let cc = ConsumerConnection::from_json_bytes(&r.body).unwrap();
    let conn = cc.connection_set.iter().next().unwrap();
    assert_eq!(conn.client_id, "pop-test-client");
    let s = &cc.subscription_table["PopListed"];
    assert_eq!(s.tags_set.iter().collect::<Vec<_>>(), ["TagA", "TagB"]);
    // The client hangs up: no longer listed.
    drop(stop_tx);
    wait_until(
        "the consumer to leave the list once its stream closed",
        std::time::Duration::from_secs(10),
        || async {
            let r = remoting
                .invoke(&addr, list(), common::TIMEOUT)
                .await
                .unwrap();
            r.response_code() == ResponseCode::ConsumerNotOnline
        },
    )
    .await;
    broker.shutdown().await;
}

/// What `mqadmin consumerProgress` reads (GET_CONSUME_STATS) shows a group consuming over gRPC:
/// its offset on each queue moves as it receives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_group_shows_in_consume_stats() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), FAST)).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PopStats", 1).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let (g, t) = ("PopStatsGroup", "PopStats");
    for body in ["s-1", "s-2", "s-3"] {
        send(&remoting, &addr, t, 0, body, "T").await;
    }
    let mut got = Vec::new();
    while got.len() < 3 {
        let (_, mut msgs) = receive(&mut c, g, t, "*", 32, 60_000).await;
        got.append(&mut msgs);
    }
    for m in &got {
        assert_eq!(ack(&mut c, g, t, &handle(m)).await.code, Code::Ok as i32);
    }
    let stats = common::consume_stats(&remoting, &addr, g, t).await;
    let (_, q0) = stats
        .offset_table
        .iter()
        .find(|(mq, _)| mq.queue_id == 0 && mq.topic == t)
        .unwrap();
    assert_eq!((q0.broker_offset, q0.consumer_offset), (3, 3));
    broker.shutdown().await;
}
