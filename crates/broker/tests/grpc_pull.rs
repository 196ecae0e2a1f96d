//! Offset-based consumption through the gRPC front door (PullMessage, UpdateOffset, GetOffset,
//! QueryOffset) of an in-process broker over real TCP: a tag-filtered pull, a long-polling pull
//! woken by a send, offsets committed over gRPC seen by a remoting QUERY_CONSUMER_OFFSET, and a
//! clear Status for every bad request.
#![allow(clippy::unwrap_used)]

mod common;

use common::cluster::create_topic;
use common::grpc::{connect, resource as res};
use common::{client, config, send_request, start};
use rmq_proto::v2::messaging_service_client::MessagingServiceClient;
use rmq_proto::v2::{
    pull_message_response::Content, Code, FilterExpression, FilterType, GetOffsetRequest, Message,
    MessageQueue, PullMessageRequest, QueryOffsetPolicy, QueryOffsetRequest, Resource, Status,
    UpdateOffsetRequest,
};
use rmq_remoting::header::{QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader};
use rmq_remoting::{RemotingClient, RemotingCommand, RequestCode, ResponseCode};
use tonic::transport::Channel;
use tonic::Request;

type Grpc = MessagingServiceClient<Channel>;

const FAST: &[(&str, &str)] = &[
    ("grpcClientConsumerMinLongPollingTimeoutMillis", "100"),
    ("grpcClientConsumerMaxLongPollingTimeoutMillis", "20000"),
];

fn req<T>(msg: T) -> Request<T> {
    common::grpc::request("pull-test-client", msg)
}

fn queue(topic: &str, id: i32) -> Option<MessageQueue> {
    Some(MessageQueue {
        topic: res(topic),
        id,
        ..MessageQueue::default()
    })
}

struct Pulled {
    status: Status,
    messages: Vec<Message>,
    next: Option<i64>,
}

impl Pulled {
    fn bodies(&self) -> Vec<&str> {
        self.messages
            .iter()
            .map(|m| std::str::from_utf8(&m.body).unwrap())
            .collect()
    }
}

async fn pull(
    c: &mut Grpc,
    group: &str,
    mq: Option<MessageQueue>,
    offset: i64,
    tag: &str,
    poll_ms: i64,
) -> Pulled {
    let mut stream = c
        .pull_message(req(PullMessageRequest {
            group: res(group),
            message_queue: mq,
            offset,
            batch_size: 32,
            filter_expression: Some(FilterExpression {
                r#type: FilterType::Tag as i32,
                expression: tag.into(),
            }),
            long_polling_timeout: Some(prost_types::Duration {
                seconds: poll_ms / 1000,
                nanos: ((poll_ms % 1000) * 1_000_000) as i32,
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    let (mut status, mut messages, mut next) = (None, Vec::new(), None);
    while let Some(frame) = stream.message().await.unwrap() {
        match frame.content.unwrap() {
            Content::Status(s) => {
                assert!(
                    status.is_none() && messages.is_empty(),
                    "status first, once"
                );
                status = Some(s);
            }
            Content::Message(m) => messages.push(m),
            Content::NextOffset(n) => {
                assert!(next.is_none(), "one next offset, last");
                next = Some(n);
            }
        }
    }
    Pulled {
        status: status.unwrap(),
        messages,
        next,
    }
}

async fn send(remoting: &RemotingClient, addr: &str, topic: &str, body: &'static str, tag: &str) {
    let r = remoting
        .invoke(
            addr,
            send_request(topic, 0, body.as_bytes(), Some(tag)),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
}

async fn query_offset(
    c: &mut Grpc,
    topic: &str,
    policy: QueryOffsetPolicy,
    ts: Option<i64>,
) -> (Status, i64) {
    let r = c
        .query_offset(req(QueryOffsetRequest {
            message_queue: queue(topic, 0),
            query_offset_policy: policy as i32,
            timestamp: ts.map(|ms| prost_types::Timestamp {
                seconds: ms / 1000,
                nanos: 0,
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    (r.status.unwrap(), r.offset)
}

async fn get_offset(c: &mut Grpc, group: &str, topic: &str) -> (Status, i64) {
    let r = c
        .get_offset(req(GetOffsetRequest {
            group: res(group),
            message_queue: queue(topic, 0),
        }))
        .await
        .unwrap()
        .into_inner();
    (r.status.unwrap(), r.offset)
}

fn code(s: &Status) -> Code {
    Code::try_from(s.code).unwrap()
}

#[tokio::test]
async fn pull_by_offset_and_commit() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), FAST)).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PullTopic", 2).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;
    let (g, t) = ("PullGroup", "PullTopic");
    send(&remoting, &addr, t, "a-0", "TagA").await;
    send(&remoting, &addr, t, "b-1", "TagB").await;
    send(&remoting, &addr, t, "a-2", "TagA").await;

    let (st, o) = query_offset(&mut c, t, QueryOffsetPolicy::Beginning, None).await;
    assert_eq!((code(&st), o), (Code::Ok, 0));
    let (st, o) = query_offset(&mut c, t, QueryOffsetPolicy::End, None).await;
    assert_eq!((code(&st), o), (Code::Ok, 3));
    let (st, o) = query_offset(&mut c, t, QueryOffsetPolicy::Timestamp, Some(0)).await;
    assert_eq!((code(&st), o), (Code::Ok, 0));
    let (st, _) = get_offset(&mut c, g, t).await;
    assert_eq!(code(&st), Code::OffsetNotFound, "{st:?}");

    // The tag filter leaves b-1 out; the next offset is past all three.
    let p = pull(&mut c, g, queue(t, 0), 0, "TagA", 0).await;
    assert_eq!(code(&p.status), Code::Ok, "{:?}", p.status);
    assert_eq!(p.bodies(), ["a-0", "a-2"]);
    assert_eq!(p.next, Some(3));
    let offsets: Vec<i64> = p
        .messages
        .iter()
        .map(|m| m.system_properties.as_ref().unwrap().queue_offset.unwrap())
        .collect();
    assert_eq!(offsets, [0, 2]);
    assert!(p.messages[0]
        .system_properties
        .as_ref()
        .unwrap()
        .receipt_handle
        .is_none());

    // Committed over gRPC, read over gRPC and over remoting.
    let r = c
        .update_offset(req(UpdateOffsetRequest {
            group: res(g),
            message_queue: queue(t, 0),
            offset: 3,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(code(r.status.as_ref().unwrap()), Code::Ok);
    let (st, o) = get_offset(&mut c, g, t).await;
    assert_eq!((code(&st), o), (Code::Ok, 3));
    let q = QueryConsumerOffsetRequestHeader {
        consumer_group: g.into(),
        topic: t.into(),
        queue_id: 0,
        set_zero_if_not_found: Some(false),
        rpc: Default::default(),
    };
    let resp = remoting
        .invoke(
            &addr,
            RemotingCommand::request(RequestCode::QueryConsumerOffset, &q),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(resp.response_code(), ResponseCode::Success);
    let h: QueryConsumerOffsetResponseHeader = resp.decode_header().unwrap();
    assert_eq!(h.offset, 3);

    // Nothing new: answered at once without a timeout, the position unchanged.
    let p = pull(&mut c, g, queue(t, 0), 3, "*", 0).await;
    assert_eq!(code(&p.status), Code::MessageNotFound, "{:?}", p.status);
    assert!(p.messages.is_empty());
    assert_eq!(p.next, Some(3));

    // A long-polling pull gets a message sent while it waits.
    let mut waiting = c.clone();
    let held =
        tokio::spawn(async move { pull(&mut waiting, g, queue(t, 0), 3, "*", 15_000).await });
    send(&remoting, &addr, t, "late-3", "TagA").await;
    let p = held.await.unwrap();
    assert_eq!(code(&p.status), Code::Ok, "{:?}", p.status);
    assert_eq!(p.bodies(), ["late-3"]);
    assert_eq!(p.next, Some(4));

    // An offset past the queue's end: where to resume.
    let p = pull(&mut c, g, queue(t, 0), 100, "*", 0).await;
    assert_eq!(code(&p.status), Code::IllegalOffset, "{:?}", p.status);
    assert_eq!(p.next, Some(4));
    broker.shutdown().await;
}

#[tokio::test]
async fn bad_offset_requests_get_a_clear_status() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), FAST)).await;
    let addr = broker.local_addr().to_string();
    let remoting = client();
    create_topic(&remoting, &addr, "PullBad", 2).await;
    let mut c = connect(broker.grpc_addr().unwrap()).await;

    let cases: Vec<(Option<MessageQueue>, &str, i64, Code, &str)> = vec![
        (queue("PullBad", 5), "G", 0, Code::BadRequest, "queue 5"),
        (
            queue("NoSuchTopic", 0),
            "G",
            0,
            Code::TopicNotFound,
            "NoSuchTopic",
        ),
        (queue("", 0), "G", 0, Code::IllegalTopic, "topic"),
        (None, "G", 0, Code::BadRequest, "message queue"),
        (
            queue("PullBad", 0),
            "",
            0,
            Code::IllegalConsumerGroup,
            "group",
        ),
        (
            queue("PullBad", 0),
            "G",
            -1,
            Code::IllegalOffset,
            "negative",
        ),
        (
            Some(MessageQueue {
                topic: res("PullBad"),
                id: 0,
                broker: Some(rmq_proto::v2::Broker {
                    name: "some-other-broker".into(),
                    ..Default::default()
                }),
                ..MessageQueue::default()
            }),
            "G",
            0,
            Code::BadRequest,
            "some-other-broker",
        ),
    ];
    for (mq, group, offset, want, names) in cases {
        let p = pull(&mut c, group, mq.clone(), offset, "*", 0).await;
        assert_eq!(code(&p.status), want, "{mq:?}: {:?}", p.status);
        assert!(p.status.message.contains(names), "{:?}", p.status);
        assert!(p.messages.is_empty() && p.next.is_none());
    }
    let (st, _) = query_offset(&mut c, "PullBad", QueryOffsetPolicy::Timestamp, None).await;
    assert_eq!(code(&st), Code::BadRequest, "{st:?}");
    let r = c
        .update_offset(req(UpdateOffsetRequest {
            group: res("NeverSeenGroup"),
            message_queue: queue("PullBad", 0),
            offset: 1,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        code(r.status.as_ref().unwrap()),
        Code::ConsumerGroupNotFound
    );
    // Without a client id: the client is told which header is missing.
    let r = c
        .get_offset(Request::new(GetOffsetRequest {
            group: Some(Resource {
                name: "G".into(),
                ..Default::default()
            }),
            message_queue: queue("PullBad", 0),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(code(r.status.as_ref().unwrap()), Code::ClientIdRequired);
    broker.shutdown().await;
}
