//! Lookups: by key and unique key through the index, by time, earliest time.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use rmq_common::message::keys;
use rmq_store::*;

#[tokio::test]
async fn index_finds_keys_and_unique_keys_across_rolled_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path());
    cfg.max_index_num = 64; // forces several index files
    let store = open(cfg);
    let mut ids = Vec::new();
    for i in 0..200 {
        let uniq = format!("UNIQ{i:04}");
        let keys = format!("order-{} shared", i % 50);
        let m = msg_with(
            "Q",
            0,
            format!("body{i}"),
            &[(keys::KEYS, &keys), (keys::UNIQ_KEY, &uniq)],
        );
        let a = store.put_message(m).await.append.unwrap();
        ids.push((uniq, a.wrote_offset));
    }
    wait_dispatched(&store);
    assert!(std::fs::read_dir(dir.path().join("index")).unwrap().count() > 3);

    let r = store.query_message("Q", "UNIQ0123", 32, 0, i64::MAX);
    assert_eq!(r.messages.len(), 1);
    assert_eq!(decode_one(&r.messages[0]).commit_log_offset, ids[123].1);
    assert!(r.index_last_update_timestamp > 0);
    assert_eq!(r.index_last_update_phy_offset, ids[199].1);

    let r = store.query_message("Q", "order-7", 32, 0, i64::MAX);
    let offs: Vec<i64> = r
        .messages
        .iter()
        .map(|m| decode_one(m).commit_log_offset)
        .collect();
    assert_eq!(
        offs,
        vec![ids[157].1, ids[107].1, ids[57].1, ids[7].1],
        "newest first"
    );
    assert_eq!(
        store
            .query_message("Q", "shared", 10, 0, i64::MAX)
            .messages
            .len(),
        10
    );
    assert!(store
        .query_message("Other", "order-7", 32, 0, i64::MAX)
        .messages
        .is_empty());
    assert!(store
        .query_message("Q", "missing", 32, 0, i64::MAX)
        .messages
        .is_empty());
    // Outside the time range.
    assert!(store
        .query_message("Q", "order-7", 32, 0, 1000)
        .messages
        .is_empty());
}

#[tokio::test]
async fn offset_by_time_and_earliest_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    let mut times = Vec::new();
    for batch in 0..3 {
        for i in 0..5 {
            let a = store
                .put_message(msg("Time", 1, format!("{batch}-{i}")))
                .await
                .append
                .unwrap();
            times.push(a.store_timestamp);
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    wait_dispatched(&store);
    let t1 = times[5]; // first of batch 1
    assert_eq!(store.offset_by_time("Time", 1, t1, BoundaryType::Lower), 5);
    assert_eq!(
        store.offset_by_time("Time", 1, t1 - 1, BoundaryType::Upper),
        4
    );
    let last_of_1 = times[9];
    assert_eq!(
        store.offset_by_time("Time", 1, last_of_1, BoundaryType::Upper),
        9
    );
    assert_eq!(store.offset_by_time("Time", 1, 0, BoundaryType::Lower), 0);
    assert_eq!(
        store.offset_by_time("Time", 1, i64::MAX, BoundaryType::Lower),
        15
    );
    assert_eq!(
        store.offset_by_time("Time", 1, i64::MAX, BoundaryType::Upper),
        14
    );
    assert_eq!(store.offset_by_time("Time", 1, 0, BoundaryType::Upper), 0);
    assert_eq!(store.earliest_message_time("Time", 1), Some(times[0]));
    assert_eq!(store.message_store_time("Time", 1, 7), Some(times[7]));
    assert_eq!(store.earliest_message_time("Nope", 1), None);
    assert_eq!(store.offset_by_time("Nope", 1, 0, BoundaryType::Lower), 0);
}

#[tokio::test]
async fn delete_topic_removes_its_queues() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(small_config(dir.path()));
    for q in 0..4 {
        store.put_message(msg("Gone", q, &b"x"[..])).await;
    }
    store.put_message(msg("Kept", 0, &b"y"[..])).await;
    wait_dispatched(&store);
    assert_eq!(store.delete_topics(&["Gone"]), 4);
    assert!(!dir.path().join("consumequeue/Gone").exists());
    let r = store.get_message("Gone", 0, 0, 32, 1 << 20, &AcceptAll);
    assert_eq!(r.status, GetMessageStatus::NoMatchedLogicQueue);
    assert_eq!(pull_all(&store, "Kept", 0).len(), 1);
    // A new message starts the topic afresh.
    let a = store
        .put_message(msg("Gone", 0, &b"again"[..]))
        .await
        .append
        .unwrap();
    assert_eq!(a.logics_offset, 0);
}
