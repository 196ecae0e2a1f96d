//! A replica cutting its CommitLog back at run time (controller mode: an old master rejoining
//! a new one drops the tail it wrote alone), with readers holding its bytes meanwhile.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use rmq_store::*;

/// Ships the master's log from the slave's end to the master's.
fn replicate(master: &MessageStore, slave: &MessageStore) {
    let mut at = slave.commit_log_max_offset();
    while at < master.commit_log_max_offset() {
        let chunk = master.get_commit_log_data(at, 4096).unwrap();
        slave.append_to_commit_log(at, &chunk).unwrap();
        at += chunk.len() as i64;
    }
}

#[tokio::test]
async fn a_diverged_tail_is_cut_and_the_new_masters_log_follows() {
    let dir = tempfile::tempdir().unwrap();
    // A (the old master) and B share 200 messages; then A writes 300 more alone, crossing
    // several files, while B becomes master and writes 50 of its own.
    let a = open(small_config(&dir.path().join("a")));
    let mut cfg = small_config(&dir.path().join("b"));
    cfg.broker_role = BrokerRole::Slave;
    let b = open(cfg);
    for i in 0..200 {
        a.put_message(tagged("T", i % 2, vec![1u8; 600], "shared"))
            .await;
    }
    replicate(&a, &b);
    let common_end = b.commit_log_max_offset();
    for i in 0..300 {
        let m = msg_with("T", i % 2, vec![2u8; 600], &[("KEYS", "alone")]);
        a.put_message(m).await;
    }
    wait_dispatched(&a);
    b.set_role(BrokerRole::SyncMaster);
    for i in 0..50 {
        b.put_message(tagged("T", i % 2, vec![3u8; 500], "new"))
            .await;
    }
    wait_dispatched(&b);
    // A reader holds one of A's diverged records across the cut.
    let held = a
        .look_message_by_offset(common_end + 10)
        .or_else(|| a.look_message_by_offset(common_end));
    let held = held.unwrap();
    let held_copy = held.to_vec();

    // A is refused while master, then cut as a slave.
    assert!(a.cut_back_replica(common_end).is_err());
    a.set_role(BrokerRole::Slave);
    assert_eq!(a.cut_back_replica(common_end).unwrap(), common_end);
    assert_eq!(a.commit_log_max_offset(), common_end);
    assert_eq!(
        &held[..],
        &held_copy[..],
        "a held record is untouched by the cut"
    );
    for q in 0..2 {
        assert_eq!(a.max_offset_in_queue("T", q), 100);
    }
    assert!(a
        .query_message("T", "alone", 10, 0, i64::MAX)
        .messages
        .is_empty());

    // A follows B from the cut: both logs and queues are equal.
    replicate(&b, &a);
    wait_dispatched(&a);
    for q in 0..2 {
        let mine = pull_all(&a, "T", q);
        assert_eq!(mine, pull_all(&b, "T", q));
        assert_eq!(mine.len(), 125);
        assert!(
            mine.iter().all(|m| m.body[0] != 2),
            "nothing of the cut tail is left"
        );
    }

    // The cut survives a restart (recovery finds the same end and queues).
    let end = a.commit_log_max_offset();
    a.shutdown();
    drop(a);
    let mut cfg = small_config(&dir.path().join("a"));
    cfg.broker_role = BrokerRole::Slave;
    let a = open(cfg);
    assert_eq!(a.commit_log_max_offset(), end);
    wait_dispatched(&a);
    for q in 0..2 {
        assert_eq!(pull_all(&a, "T", q), pull_all(&b, "T", q));
    }
}
