//! POP over remoting (POP_MESSAGE, ACK_MESSAGE, BATCH_ACK_MESSAGE, CHANGE_MESSAGE_INVISIBLETIME,
//! NOTIFICATION, POLLING_INFO), spoken the way
//! Apache's 5.x remoting client speaks it: the receipt handle (`extraInfo`) is built by the
//! client from the POP response header, as `ExtraInfoUtil.buildExtraInfo` does. The POP state is
//! the one gRPC receives use: a message popped over remoting is acked over gRPC.
#![allow(clippy::unwrap_used)]

mod common;

use common::cluster::{create_topic, wait_until};
use common::{client, config, send_request, start};
use rmq_common::record::decode_messages;
use rmq_remoting::body::{BatchAck, BatchAckMessageRequestBody, JsonBody};
use rmq_remoting::header::{
    AckMessageRequestHeader, ChangeInvisibleTimeRequestHeader, ChangeInvisibleTimeResponseHeader,
    NotificationRequestHeader, NotificationResponseHeader, PollingInfoRequestHeader,
    PollingInfoResponseHeader, PopMessageRequestHeader, PopMessageResponseHeader,
};
use rmq_remoting::{RemotingClient, RemotingCommand, RequestCode, ResponseCode};

const G: &str = "PopRemotingGroup";
const T: &str = "PopRemoting";

fn pop_request(invisible_ms: i64) -> RemotingCommand {
    pop_request_polling(invisible_ms, 1_000)
}

fn pop_request_polling(invisible_ms: i64, poll_ms: i64) -> RemotingCommand {
    RemotingCommand::request(
        RequestCode::PopMessage,
        &PopMessageRequestHeader {
            consumer_group: G.into(),
            topic: T.into(),
            queue_id: -1,
            max_msg_nums: 32,
            invisible_time: invisible_ms,
            poll_time: poll_ms,
            born_time: rmq_common::time::now_millis(),
            init_mode: 0,
            exp_type: Some("TAG".into()),
            exp: Some("*".into()),
            order: Some(false),
            attempt_id: None,
            rpc: Default::default(),
        },
    )
}

/// A popped message: body, queue, offset, and the handle the client builds for it.
struct Popped {
    body: Vec<u8>,
    queue_id: i32,
    offset: i64,
    extra_info: String,
    reconsume_times: i32,
}

/// Pops until `want` messages arrived; what the client would see.
async fn pop_until(c: &RemotingClient, addr: &str, want: usize, invisible_ms: i64) -> Vec<Popped> {
    let mut out = Vec::new();
    for _ in 0..50 {
        let r = c
            .invoke(addr, pop_request(invisible_ms), common::TIMEOUT)
            .await
            .unwrap();
        let h: PopMessageResponseHeader = r.decode_header().unwrap();
        if r.response_code() == ResponseCode::PollingTimeout {
            continue;
        }
        assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
        // startOffsetInfo: "retry queueId start;..."; the client keys it by "retry@queueId".
        let starts: std::collections::HashMap<String, i64> = h
            .start_offset_info
            .unwrap()
            .split(';')
            .map(|one| {
                let f: Vec<&str> = one.split(' ').collect();
                (format!("{}@{}", f[0], f[1]), f[2].parse().unwrap())
            })
            .collect();
        assert!(h.msg_offset_info.is_some());
        for m in decode_messages(&r.body).unwrap() {
            let retry = if m.message.topic.starts_with("%RETRY%") {
                "1"
            } else {
                "0"
            };
            let start = starts[&format!("{retry}@{}", m.queue_id)];
            out.push(Popped {
                body: m.message.body.to_vec(),
                queue_id: m.queue_id,
                offset: m.queue_offset,
                extra_info: format!(
                    "{start} {} {} {} {retry} broker-a {} {}",
                    h.pop_time, h.invisible_time, h.revive_qid, m.queue_id, m.queue_offset
                ),
                reconsume_times: m.reconsume_times,
            });
        }
        if out.len() >= want {
            return out;
        }
    }
    panic!("popped {} of {want}", out.len());
}

async fn ack(c: &RemotingClient, addr: &str, p: &Popped) -> RemotingCommand {
    let cmd = RemotingCommand::request(
        RequestCode::AckMessage,
        &AckMessageRequestHeader {
            consumer_group: G.into(),
            topic: T.into(),
            queue_id: p.queue_id,
            extra_info: p.extra_info.clone(),
            offset: p.offset,
            rpc: Default::default(),
        },
    );
    c.invoke(addr, cmd, common::TIMEOUT).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop_ack_and_change_invisible_time_over_remoting() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    create_topic(&c, &addr, T, 2).await;
    for (q, body) in [(0, &b"one"[..]), (1, b"two")] {
        let r = c
            .invoke(&addr, send_request(T, q, body, Some("T")), common::TIMEOUT)
            .await
            .unwrap();
        assert_eq!(r.response_code(), ResponseCode::Success);
    }
    let got = pop_until(&c, &addr, 2, 60_000).await;
    let by = |b: &[u8]| got.iter().find(|p| p.body == b).unwrap();
    // Ack "one" with the handle the client built.
    let r = ack(&c, &addr, by(b"one")).await;
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    // "two": made visible again now; it comes back from the retry topic, one reconsume later.
    let two = by(b"two");
    let cmd = RemotingCommand::request(
        RequestCode::ChangeMessageInvisibleTime,
        &ChangeInvisibleTimeRequestHeader {
            consumer_group: G.into(),
            topic: T.into(),
            queue_id: two.queue_id,
            extra_info: two.extra_info.clone(),
            offset: two.offset,
            invisible_time: 0,
            rpc: Default::default(),
        },
    );
    let r = c.invoke(&addr, cmd, common::TIMEOUT).await.unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    let h: ChangeInvisibleTimeResponseHeader = r.decode_header().unwrap();
    assert_eq!(h.invisible_time, 0);
    let again = pop_until(&c, &addr, 1, 60_000).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].body, b"two");
    assert_eq!(again[0].reconsume_times, 1);
    assert!(
        again[0].extra_info.split(' ').nth(4) == Some("1"),
        "from the retry topic"
    );
    let r = ack(&c, &addr, &again[0]).await;
    assert_eq!(r.response_code(), ResponseCode::Success);
    // Nothing else comes back: a marker is the next message popped.
    let r = c
        .invoke(
            &addr,
            send_request(T, 0, b"marker", Some("T")),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
    let next = pop_until(&c, &addr, 1, 60_000).await;
    let bodies: Vec<&[u8]> = next.iter().map(|p| p.body.as_slice()).collect();
    assert_eq!(bodies, [b"marker".as_slice()]);
    // A handle that is not one is refused by name.
    let mut bad = Popped {
        extra_info: "garbage".into(),
        ..next.into_iter().next().unwrap()
    };
    bad.offset = 0;
    let r = ack(&c, &addr, &bad).await;
    assert_eq!(r.response_code(), ResponseCode::InvalidParameter);
    assert!(r.remark.unwrap_or_default().contains("garbage"));
    broker.shutdown().await;
}

async fn send(c: &RemotingClient, addr: &str, queue: i32, body: &'static [u8]) {
    let r = c
        .invoke(
            addr,
            send_request(T, queue, body, Some("T")),
            common::TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success);
}

async fn notification(c: &RemotingClient, addr: &str, poll_ms: i64) -> NotificationResponseHeader {
    let cmd = RemotingCommand::request(
        RequestCode::Notification,
        &NotificationRequestHeader {
            consumer_group: G.into(),
            topic: T.into(),
            queue_id: -1,
            poll_time: poll_ms,
            born_time: rmq_common::time::now_millis(),
            order: Some(false),
            attempt_id: None,
            rpc: Default::default(),
        },
    );
    let r = c
        .invoke(addr, cmd, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    r.decode_header().unwrap()
}

async fn polling_num(c: &RemotingClient, addr: &str, queue_id: i32) -> i32 {
    let cmd = RemotingCommand::request(
        RequestCode::PollingInfo,
        &PollingInfoRequestHeader {
            consumer_group: G.into(),
            topic: T.into(),
            queue_id,
            rpc: Default::default(),
        },
    );
    let r = c.invoke(addr, cmd, common::TIMEOUT).await.unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    let h: PollingInfoResponseHeader = r.decode_header().unwrap();
    h.polling_num
}

/// The body Apache's client builds for `popped`: one BatchAck per (retry, queue, start, pop time).
fn batch_ack_body(popped: &[Popped]) -> BatchAckMessageRequestBody {
    let mut acks: Vec<BatchAck> = Vec::new();
    for p in popped {
        let f: Vec<&str> = p.extra_info.split(' ').collect();
        let (start, pop_time, retry) = (f[0].parse().unwrap(), f[1].parse().unwrap(), f[4]);
        let i = match acks.iter().position(|a| {
            a.start_offset == start
                && a.pop_time == pop_time
                && a.queue_id == p.queue_id
                && a.retry == retry
        }) {
            Some(i) => i,
            None => {
                acks.push(BatchAck {
                    consumer_group: G.into(),
                    topic: T.into(),
                    retry: retry.into(),
                    start_offset: start,
                    queue_id: p.queue_id,
                    pop_time,
                    invisible_time: f[2].parse().unwrap(),
                    ..BatchAck::default()
                });
                acks.len() - 1
            }
        };
        acks[i].set(p.offset);
    }
    BatchAckMessageRequestBody {
        broker_name: "broker-a".into(),
        acks,
    }
}

async fn batch_ack(c: &RemotingClient, addr: &str, body: Vec<u8>) -> RemotingCommand {
    let cmd = RemotingCommand::new_request(RequestCode::BatchAckMessage).with_body(body);
    c.invoke(addr, cmd, common::TIMEOUT).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_ack_notification_and_polling_info() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(config(dir.path(), &[])).await;
    let addr = broker.local_addr().to_string();
    let c = client();
    create_topic(&c, &addr, T, 2).await;
    send(&c, &addr, 0, b"m1").await;
    send(&c, &addr, 0, b"m2").await;
    send(&c, &addr, 1, b"m3").await;
    assert!(notification(&c, &addr, 0).await.has_msg);
    let got = pop_until(&c, &addr, 3, 60_000).await;
    // All popped: nothing more to pop, said at once with a poll time of 0.
    let n = notification(&c, &addr, 0).await;
    assert!(!n.has_msg && !n.polling_full);

    // One BATCH_ACK for the three; again, and none is in flight any more.
    let body = batch_ack_body(&got).to_json_bytes();
    let r = batch_ack(&c, &addr, body.to_vec()).await;
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    assert_eq!(r.remark, None);
    let r = batch_ack(&c, &addr, body.to_vec()).await;
    assert_eq!(r.response_code(), ResponseCode::Success);
    assert!(r.remark.unwrap().contains("acked 0 of 3"));

    // A waiting pop is counted on every queue; a send answers it and it is counted no more.
    assert_eq!(polling_num(&c, &addr, 0).await, 0);
    let (pc, pa) = (c.clone(), addr.clone());
    let waiting_pop = tokio::spawn(async move {
        pc.invoke(
            &pa,
            pop_request_polling(60_000, 20_000),
            std::time::Duration::from_secs(30),
        )
        .await
        .unwrap()
    });
    let (wc, wa) = (c.clone(), addr.clone());
    wait_until("the waiting pop counted", common::TIMEOUT, || {
        let (wc, wa) = (wc.clone(), wa.clone());
        async move { polling_num(&wc, &wa, 1).await == 1 }
    })
    .await;
    send(&c, &addr, 1, b"m4").await;
    let r = waiting_pop.await.unwrap();
    assert_eq!(r.response_code(), ResponseCode::Success, "{:?}", r.remark);
    assert_eq!(
        decode_messages(&r.body).unwrap()[0].message.body.as_ref(),
        b"m4"
    );
    assert_eq!(polling_num(&c, &addr, 1).await, 0);

    // A waiting NOTIFICATION is answered when a message arrives.
    let (nc, na) = (c.clone(), addr.clone());
    let waiting_notice = tokio::spawn(async move { notification(&nc, &na, 20_000).await });
    wait_until("the waiting notification counted", common::TIMEOUT, || {
        let (wc, wa) = (wc.clone(), wa.clone());
        async move { polling_num(&wc, &wa, 0).await == 1 }
    })
    .await;
    send(&c, &addr, 0, b"m5").await;
    assert!(waiting_notice.await.unwrap().has_msg);

    // Bad bodies and another broker's acks get a clear answer.
    let r = batch_ack(&c, &addr, b"not json".to_vec()).await;
    assert_eq!(r.response_code(), ResponseCode::InvalidParameter);
    assert!(r.remark.unwrap().contains("BatchAckMessageRequestBody"));
    let mut other = batch_ack_body(&got);
    other.broker_name = "broker-z".into();
    let r = batch_ack(&c, &addr, other.to_json_bytes().to_vec()).await;
    assert_eq!(r.response_code(), ResponseCode::InvalidParameter);
    assert!(r.remark.unwrap().contains("broker-z"));
    broker.shutdown().await;
}
