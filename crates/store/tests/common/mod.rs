//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rmq_common::message::{keys, Properties};
use rmq_common::MessageExt;
use rmq_store::{MessageStore, MessageStoreConfig, PutMessage};

/// Small files so tests cross file boundaries quickly.
pub fn small_config(dir: &Path) -> MessageStoreConfig {
    let mut c = MessageStoreConfig::with_root(dir);
    c.mapped_file_size_commit_log = 64 * 1024;
    c.mapped_file_size_consume_queue = 20 * 64;
    c.max_hash_slot_num = 64;
    c.max_index_num = 512;
    c.flush_interval_commit_log = 20;
    c.flush_interval_consume_queue = 20;
    c.warm_mapped_file_enable = false;
    c
}

pub fn msg(topic: &str, queue_id: i32, body: impl Into<Bytes>) -> PutMessage {
    PutMessage::new(topic, queue_id, body)
}

pub fn msg_with(
    topic: &str,
    queue_id: i32,
    body: impl Into<Bytes>,
    props: &[(&str, &str)],
) -> PutMessage {
    let mut p = Properties::new();
    for (k, v) in props {
        p.insert((*k).to_owned(), (*v).to_owned());
    }
    PutMessage::new(topic, queue_id, body).with_properties(&p)
}

pub fn tagged(topic: &str, queue_id: i32, body: impl Into<Bytes>, tag: &str) -> PutMessage {
    msg_with(topic, queue_id, body, &[(keys::TAGS, tag)])
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Waits until dispatch has caught up with the CommitLog.
pub fn wait_dispatched(store: &MessageStore) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.dispatched_offset() < store.confirm_offset() {
        assert!(Instant::now() < deadline, "dispatch did not catch up");
        std::thread::sleep(Duration::from_millis(1));
    }
}

pub fn decode_one(b: &Bytes) -> MessageExt {
    let mut v = rmq_common::record::decode_messages(b).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

/// Every message of a queue, pulled in pages.
pub fn pull_all(store: &MessageStore, topic: &str, queue_id: i32) -> Vec<MessageExt> {
    let mut out = Vec::new();
    let mut offset = store.min_offset_in_queue(topic, queue_id);
    loop {
        let r = store.get_message(topic, queue_id, offset, 32, 1 << 20, &rmq_store::AcceptAll);
        if r.messages.is_empty() {
            break;
        }
        for m in &r.messages {
            out.push(decode_one(m));
        }
        offset = r.next_begin_offset;
    }
    out
}

pub fn open(cfg: MessageStoreConfig) -> Arc<MessageStore> {
    let s = MessageStore::open(cfg).unwrap();
    s.start().unwrap();
    s
}
