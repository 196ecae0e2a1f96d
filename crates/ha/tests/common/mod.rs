//! Two real stores in tempdirs, a master and a slave, and the checks the tests share.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmq_ha::{HaClient, HaConfig, HaServer};
use rmq_store::{AcceptAll, BrokerRole, MessageStore, MessageStoreConfig, PutMessage};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// 1 MiB CommitLog files so a few MiB of messages roll files.
pub const FILE_SIZE: usize = 1024 * 1024;

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "rmq_ha=info".into()),
        )
        .with_test_writer()
        .try_init();
}

pub fn store_config(dir: &Path, role: BrokerRole) -> MessageStoreConfig {
    let mut c = MessageStoreConfig::with_root(dir);
    c.mapped_file_size_commit_log = FILE_SIZE;
    c.mapped_file_size_consume_queue = 20 * 4096;
    c.max_hash_slot_num = 1024;
    c.max_index_num = 16 * 1024;
    c.flush_interval_commit_log = 20;
    c.flush_interval_consume_queue = 20;
    c.warm_mapped_file_enable = false;
    c.broker_role = role;
    c
}

pub fn open_store(dir: &Path, role: BrokerRole) -> Arc<MessageStore> {
    let s = MessageStore::open(store_config(dir, role)).unwrap();
    s.start().unwrap();
    s
}

/// Short intervals so failure paths run in test time.
pub fn fast_config() -> HaConfig {
    HaConfig {
        send_heartbeat_interval: Duration::from_millis(200),
        housekeeping_interval: Duration::from_secs(2),
        reconnect_interval: Duration::from_millis(100),
        connect_timeout: Duration::from_secs(1),
        ..HaConfig::default()
    }
}

pub async fn start_master(store: &Arc<MessageStore>) -> HaServer {
    start_master_with(store, fast_config()).await
}

pub async fn start_master_with(store: &Arc<MessageStore>, cfg: HaConfig) -> HaServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    HaServer::start(listener, Arc::clone(store), cfg).unwrap()
}

pub fn start_slave(store: &Arc<MessageStore>, master: &HaServer) -> HaClient {
    let (_tx, rx) = watch::channel(Some(master.local_addr().to_string()));
    HaClient::start(Arc::clone(store), rx, fast_config()).unwrap()
}

/// A message whose body says where it belongs, sized around `size` bytes.
pub fn message(topic: &str, queue_id: i32, seq: usize, size: usize) -> PutMessage {
    let mut body = format!("{topic}/{queue_id}/{seq}/").into_bytes();
    body.resize(size.max(body.len()), b'a' + (seq % 26) as u8);
    PutMessage::new(topic, queue_id, body)
}

/// Puts `count` messages round-robin over `queues` queues of `topic`; returns the last end offset.
pub async fn put_many(
    store: &MessageStore,
    topic: &str,
    queues: i32,
    count: usize,
    size: usize,
) -> i64 {
    let mut end = 0;
    for i in 0..count {
        let r = store
            .put_message(message(topic, (i as i32) % queues, i, size))
            .await;
        assert!(r.is_ok(), "{r:?}");
        end = r.append.unwrap().end_offset;
    }
    end
}

pub async fn eventually(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub async fn caught_up(master: &MessageStore, slave: &MessageStore) {
    let target = master.commit_log_max_offset();
    eventually(
        &format!("slave to reach master offset {target}"),
        Duration::from_secs(10),
        || slave.commit_log_max_offset() >= target,
    )
    .await;
    eventually("slave dispatch", Duration::from_secs(10), || {
        slave.dispatched_offset() >= target
    })
    .await;
}

/// The CommitLog bytes of `[from, to)`, read file by file.
pub fn commit_log_bytes(store: &MessageStore, from: i64, to: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity((to - from) as usize);
    let mut at = from;
    while at < to {
        let chunk = store
            .get_commit_log_data(at, (to - at) as usize)
            .unwrap_or_else(|| panic!("no commit log data at {at}"));
        out.extend_from_slice(&chunk);
        at += chunk.len() as i64;
    }
    out
}

/// Asserts the slave's CommitLog equals the master's from `from` to the master's end.
pub fn assert_same_commit_log(master: &MessageStore, slave: &MessageStore, from: i64) {
    let end = master.commit_log_max_offset();
    assert_eq!(slave.commit_log_max_offset(), end);
    let a = commit_log_bytes(master, from, end);
    let b = commit_log_bytes(slave, from, end);
    assert_eq!(a.len(), b.len());
    assert!(a == b, "commit logs differ in [{from}, {end})");
}

/// Every message body of a queue, pulled through the consume queue.
pub fn bodies(store: &MessageStore, topic: &str, queue_id: i32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut offset = store.min_offset_in_queue(topic, queue_id);
    loop {
        let r = store.get_message(topic, queue_id, offset, 64, 4 << 20, &AcceptAll);
        if r.messages.is_empty() {
            return out;
        }
        for m in &r.messages {
            let decoded = rmq_common::record::decode_messages(m).unwrap();
            out.extend(decoded.into_iter().map(|x| x.message.body.to_vec()));
        }
        offset = r.next_begin_offset;
    }
}

/// Asserts every queue reads the same on both stores.
pub fn assert_same_queues(master: &MessageStore, slave: &MessageStore, topic: &str, queues: i32) {
    for q in 0..queues {
        let a = bodies(master, topic, q);
        let b = bodies(slave, topic, q);
        assert!(!a.is_empty());
        assert_eq!(a.len(), b.len(), "queue {q}: message counts differ");
        assert!(a == b, "queue {q}: messages differ");
    }
}
