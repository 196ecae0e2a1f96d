//! SYNC_FLUSH group commit: puts complete once flushed; consumers never see unflushed data.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use rmq_common::message::keys;
use rmq_store::*;

fn sync_store(dir: &std::path::Path) -> Arc<MessageStore> {
    let mut cfg = small_config(dir);
    cfg.flush_disk_type = FlushDiskType::SyncFlush;
    open(cfg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_complete_only_when_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let store = sync_store(dir.path());
    let watcher = {
        let s = Arc::clone(&store);
        std::thread::spawn(move || {
            // Dispatch never runs ahead of the flushed offset.
            for _ in 0..20_000 {
                let d = s.dispatched_offset();
                assert!(d <= s.flushed_offset(), "dispatched {d} past flushed");
            }
        })
    };
    let mut tasks = Vec::new();
    for t in 0..64 {
        let s = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                let r = s.put_message(msg("Sync", t % 4, format!("{t}-{i}"))).await;
                assert!(r.is_ok(), "{r:?}");
                assert!(s.flushed_offset() >= r.append.unwrap().end_offset);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    watcher.join().unwrap();
    wait_dispatched(&store);
    let total: usize = (0..4).map(|q| pull_all(&store, "Sync", q).len()).sum();
    assert_eq!(total, 64 * 20);
}

#[tokio::test]
async fn wait_false_returns_without_waiting_and_is_flushed_soon() {
    let dir = tempfile::tempdir().unwrap();
    let store = sync_store(dir.path());
    let r = store
        .put_message(msg_with("NoWait", 0, &b"x"[..], &[(keys::WAIT, "false")]))
        .await;
    assert!(r.is_ok());
    let end = r.append.unwrap().end_offset;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while store.flushed_offset() < end {
        assert!(
            std::time::Instant::now() < deadline,
            "WAIT=false message never flushed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    wait_dispatched(&store);
    assert_eq!(pull_all(&store, "NoWait", 0).len(), 1);
}

#[tokio::test]
async fn async_flush_reaches_disk_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    let end = store
        .put_message(msg("A", 0, vec![1u8; 20_000]))
        .await
        .append
        .unwrap()
        .end_offset;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while store.flushed_offset() < end {
        assert!(
            std::time::Instant::now() < deadline,
            "background flush did not happen"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
