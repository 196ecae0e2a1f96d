//! Appends and reads: file boundaries, batches, V2 topics, IPv6 hosts, filters, limits, listener.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use rmq_common::message::keys;
use rmq_common::record::{MAGIC_V1, MAGIC_V2, POS_MAGIC};
use rmq_common::sysflag::message as sysflag;
use rmq_store::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_cross_file_boundaries_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    let mut expected: Vec<Vec<Vec<u8>>> = vec![Vec::new(); 3];
    for i in 0..600u32 {
        let q = (i % 3) as i32;
        let len = 50 + (i as usize * 37) % 2500;
        let body: Vec<u8> = (0..len).map(|j| (i as usize + j) as u8).collect();
        let topic = if i % 2 == 0 { "TopicA" } else { "TopicB" };
        let r = store.put_message(msg(topic, q, body.clone())).await;
        assert!(r.is_ok(), "{r:?}");
        let a = r.append.unwrap();
        // Offset msg id decodes to the physical offset.
        let (_, phy) = rmq_common::msg_id::decode_offset_msg_id(&a.msg_id).unwrap();
        assert_eq!(phy, a.wrote_offset);
        if topic == "TopicA" {
            expected[q as usize].push(body);
        }
    }
    assert!(
        store.commit_log_max_offset() > 3 * 64 * 1024,
        "several files used"
    );
    wait_dispatched(&store);
    for q in 0..3 {
        let got = pull_all(&store, "TopicA", q);
        assert_eq!(got.len(), expected[q as usize].len());
        for (i, (m, body)) in got.iter().zip(&expected[q as usize]).enumerate() {
            assert_eq!(&m.message.body[..], &body[..]);
            assert_eq!(m.queue_offset, i as i64);
            assert_eq!(m.queue_id, q);
            let again = store.look_message_by_offset(m.commit_log_offset).unwrap();
            assert_eq!(decode_one(&again).message.body, m.message.body);
        }
        assert_eq!(
            store.max_offset_in_queue("TopicA", q),
            expected[q as usize].len() as i64
        );
    }
}

#[tokio::test]
async fn batch_gets_consecutive_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    store.put_message(msg("T", 0, &b"first"[..])).await;
    let batch: Vec<_> = (0..50)
        .map(|i| msg("T", 0, format!("m{i}").repeat(40)))
        .collect();
    let r = store.put_messages(batch).await;
    assert!(r.is_ok(), "{r:?}");
    let a = r.append.unwrap();
    assert_eq!(a.logics_offset, 1);
    assert_eq!(a.msg_num, 50);
    assert_eq!(a.msg_id.split(',').count(), 50);
    wait_dispatched(&store);
    let got = pull_all(&store, "T", 0);
    assert_eq!(got.len(), 51);
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.queue_offset, i as i64);
    }
    // A batch must target one queue.
    let mixed = vec![msg("T", 0, &b"a"[..]), msg("T", 1, &b"b"[..])];
    assert_eq!(
        store.put_messages(mixed).await.status,
        PutMessageStatus::MessageIllegal
    );
}

#[tokio::test]
async fn long_topics_use_v2_and_ipv6_hosts_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    let long = "L".repeat(200);
    let mut m = msg(&long, 0, &b"v2"[..]);
    m.born_host = addr("[2001:db8::1]:1234");
    m.store_host = addr("[2001:db8::2]:10911");
    let r = store.put_message(m).await;
    assert!(r.is_ok());
    let a = r.append.unwrap();
    assert_eq!(a.msg_id.len(), 56, "IPv6 offset ids are 56 hex chars");
    let short = store
        .put_message(msg("S", 0, &b"v1"[..]))
        .await
        .append
        .unwrap();
    wait_dispatched(&store);
    let rec = store.look_message_by_offset(a.wrote_offset).unwrap();
    let magic = i32::from_be_bytes(rec[POS_MAGIC..POS_MAGIC + 4].try_into().unwrap());
    assert_eq!(magic, MAGIC_V2);
    let m = decode_one(&rec);
    assert_eq!(m.message.topic, long);
    assert_eq!(m.born_host, addr("[2001:db8::1]:1234"));
    assert_eq!(m.store_host, addr("[2001:db8::2]:10911"));
    assert_ne!(m.sys_flag & sysflag::BORNHOST_V6, 0);
    let rec = store.look_message_by_offset(short.wrote_offset).unwrap();
    let magic = i32::from_be_bytes(rec[POS_MAGIC..POS_MAGIC + 4].try_into().unwrap());
    assert_eq!(magic, MAGIC_V1);
    assert_eq!(pull_all(&store, &long, 0).len(), 1);
}

#[tokio::test]
async fn tag_filter_and_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    for i in 0..10 {
        let tag = if i % 2 == 0 { "TagA" } else { "TagB" };
        store.put_message(tagged("T", 0, format!("{i}"), tag)).await;
    }
    wait_dispatched(&store);
    let only_a = TagsFilter::new(["TagA"]);
    let r = store.get_message("T", 0, 0, 32, 1 << 20, &only_a);
    assert_eq!(r.status, GetMessageStatus::Found);
    assert_eq!(r.messages.len(), 5);
    assert_eq!(r.queue_offsets, vec![0, 2, 4, 6, 8]);
    assert_eq!(r.next_begin_offset, 10);
    for m in &r.messages {
        assert_eq!(decode_one(m).message.tags(), Some("TagA"));
    }
    let none = TagsFilter::new(["TagC"]);
    let r = store.get_message("T", 0, 0, 32, 1 << 20, &none);
    assert_eq!(r.status, GetMessageStatus::NoMatchedMessage);
    assert_eq!(r.next_begin_offset, 10);

    let r = store.get_message("T", 0, 10, 32, 1 << 20, &AcceptAll);
    assert_eq!(
        (r.status, r.next_begin_offset),
        (GetMessageStatus::OffsetOverflowOne, 10)
    );
    let r = store.get_message("T", 0, 99, 32, 1 << 20, &AcceptAll);
    assert_eq!(
        (r.status, r.next_begin_offset),
        (GetMessageStatus::OffsetOverflowBadly, 10)
    );
    let r = store.get_message("Nope", 0, 5, 32, 1 << 20, &AcceptAll);
    assert_eq!(
        (r.status, r.next_begin_offset),
        (GetMessageStatus::NoMatchedLogicQueue, 0)
    );
    // Caps: count and bytes.
    let r = store.get_message("T", 0, 0, 3, 1 << 20, &AcceptAll);
    assert_eq!((r.messages.len(), r.next_begin_offset), (3, 3));
    let one = r.messages[0].len() as i32;
    let r = store.get_message("T", 0, 0, 32, one * 2, &AcceptAll);
    assert_eq!(r.messages.len(), 2);
    assert_eq!(r.min_offset, 0);
    assert_eq!(r.max_offset, 10);
}

#[tokio::test]
async fn limits_are_enforced_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path());
    cfg.max_message_size = 1000;
    let store = open(cfg);
    let r = store.put_message(msg("T", 0, vec![0u8; 1001])).await;
    assert_eq!(r.status, PutMessageStatus::MessageIllegal);
    let text = r.error.unwrap().to_string();
    assert!(text.contains("1001") && text.contains("1000"), "{text}");
    let big = "x".repeat(40_000);
    let r = store
        .put_message(msg_with("T", 0, &b"b"[..], &[("K", &big)]))
        .await;
    assert_eq!(r.status, PutMessageStatus::PropertiesSizeExceeded);
    let r = store.put_message(msg("../evil", 0, &b"b"[..])).await;
    assert_eq!(r.status, PutMessageStatus::MessageIllegal);
    assert!(store.put_message(msg("T", 0, vec![1u8; 100])).await.is_ok());
    // A body under maxMessageSize but larger than a file cannot be stored either.
    let dir2 = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir2.path());
    cfg.max_message_size = 1 << 20;
    let store2 = open(cfg);
    let r = store2.put_message(msg("T", 0, vec![1u8; 100_000])).await;
    assert_eq!(r.status, PutMessageStatus::MessageIllegal);
}

#[tokio::test]
async fn arrival_listener_sees_each_dispatch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = Arc::clone(&seen);
    store.set_arrival_listener(Arc::new(move |t: &str, q, max, code| {
        s2.lock().unwrap().push((t.to_owned(), q, max, code));
    }));
    store.put_message(tagged("T", 2, &b"x"[..], "TagA")).await;
    store.put_message(msg("T", 2, &b"y"[..])).await;
    wait_dispatched(&store);
    let seen = seen.lock().unwrap().clone();
    let code = rmq_common::java::string_hash_code("TagA") as i64;
    assert_eq!(seen, vec![("T".into(), 2, 1, code), ("T".into(), 2, 2, 0)]);
}

#[tokio::test]
async fn transactions_and_schedule_topic() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    let mut prepared = msg("Tx", 0, &b"half"[..]);
    prepared.sys_flag = sysflag::TRANSACTION_PREPARED_TYPE;
    let r = store.put_message(prepared).await.append.unwrap();
    assert_eq!(r.logics_offset, 0);
    let mut rollback = msg("Tx", 0, &b"rb"[..]);
    rollback.sys_flag = sysflag::TRANSACTION_ROLLBACK_TYPE;
    store.put_message(rollback).await;
    let mut commit = msg("Tx", 0, &b"commit"[..]);
    commit.sys_flag = sysflag::TRANSACTION_COMMIT_TYPE;
    assert_eq!(
        store
            .put_message(commit)
            .await
            .append
            .unwrap()
            .logics_offset,
        0
    );
    assert_eq!(
        store
            .put_message(msg("Tx", 0, &b"plain"[..]))
            .await
            .append
            .unwrap()
            .logics_offset,
        1
    );

    // Level 3 (10 s) lives in queue 2; the tag code is the delivery time.
    let r = store
        .put_message(msg_with(
            SCHEDULE_TOPIC,
            2,
            &b"later"[..],
            &[(keys::DELAY, "3")],
        ))
        .await
        .append
        .unwrap();
    wait_dispatched(&store);
    let got = pull_all(&store, "Tx", 0);
    let bodies: Vec<_> = got.iter().map(|m| m.message.body.clone()).collect();
    assert_eq!(bodies, vec![&b"commit"[..], &b"plain"[..]]);
    let r2 = store.get_message(SCHEDULE_TOPIC, 2, 0, 1, 1 << 20, &AcceptAll);
    assert_eq!(r2.messages.len(), 1);
    let probe = RecordingFilter::default();
    store.get_message(SCHEDULE_TOPIC, 2, 0, 1, 1 << 20, &probe);
    assert_eq!(
        *probe.codes.lock().unwrap(),
        vec![r.store_timestamp + 10_000]
    );
}

#[derive(Default)]
struct RecordingFilter {
    codes: Mutex<Vec<i64>>,
}
impl MessageFilter for RecordingFilter {
    fn is_matched_by_consume_queue(&self, code: i64) -> bool {
        self.codes.lock().unwrap().push(code);
        true
    }
}

#[tokio::test]
async fn second_open_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    let err = MessageStore::open(small_config(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&std::process::id().to_string()), "{err}");
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    drop(store);
    let again = MessageStore::open(small_config(dir.path())).unwrap();
    assert!(again.last_exit_ok());
}

#[tokio::test]
async fn slave_replicates_raw_bytes_and_dispatches_them() {
    let dir = tempfile::tempdir().unwrap();
    let master = open(small_config(&dir.path().join("m")));
    let mut cfg = small_config(&dir.path().join("s"));
    cfg.broker_role = BrokerRole::Slave;
    let slave = open(cfg);
    assert_eq!(
        slave.put_message(msg("T", 0, &b"no"[..])).await.status,
        PutMessageStatus::ServiceNotAvailable
    );
    for i in 0..300 {
        master
            .put_message(tagged("T", i % 2, vec![i as u8; 700], "A"))
            .await;
    }
    // Ship in 4 KiB chunks that never cross a file (and split records).
    let mut at = slave.commit_log_max_offset();
    while at < master.commit_log_max_offset() {
        let chunk = master.get_commit_log_data(at, 4096).unwrap();
        slave.append_to_commit_log(at, &chunk).unwrap();
        at += chunk.len() as i64;
    }
    assert!(slave.append_to_commit_log(at + 1, b"x").is_err());
    wait_dispatched(&slave);
    wait_dispatched(&master);
    for q in 0..2 {
        let a = pull_all(&master, "T", q);
        let b = pull_all(&slave, "T", q);
        assert_eq!(a.len(), 150);
        assert_eq!(a, b);
    }
    // Made master (controller mode), the slave refuses replicated bytes and its own puts take
    // the queue offsets after the replicated ones.
    slave.set_role(BrokerRole::SyncMaster);
    assert!(slave.append_to_commit_log(at, b"x").is_err());
    let put = slave.put_message(msg("T", 0, &b"mine"[..])).await;
    assert!(put.status.is_stored(), "{:?}", put.status);
    wait_dispatched(&slave);
    let q0 = pull_all(&slave, "T", 0);
    assert_eq!(q0.len(), 151);
    assert_eq!(q0.last().map(|m| m.queue_offset), Some(150));
    assert_eq!(&q0.last().unwrap().body[..], b"mine");
}

#[test]
fn store_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MessageStore>();
    assert_send_sync::<GetMessageResult>();
}

#[tokio::test]
async fn async_flush_put_is_dispatched_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    for i in 0..50i64 {
        let r = store.put_message(msg("T", 1, &b"x"[..])).await;
        assert!(r.is_ok(), "{r:?}");
        // The appending thread dispatched its own record: no wait for the background thread.
        assert_eq!(store.max_offset_in_queue("T", 1), i + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_are_all_dispatched() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for _ in 0..500 {
                    let r = store.put_message(msg("T", t % 2, &b"y"[..])).await;
                    assert!(r.is_ok(), "{r:?}");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    wait_dispatched(&store);
    assert_eq!(store.max_offset_in_queue("T", 0), 2000);
    assert_eq!(store.max_offset_in_queue("T", 1), 2000);
    assert_eq!(pull_all(&store, "T", 0).len(), 2000);
}
