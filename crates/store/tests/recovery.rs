//! Recovery: clean restarts, and crash restarts over torn tails, corrupt records and short files.
//! After every restart each surviving message is readable and the consume queues and index agree
//! with the CommitLog.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;

use common::*;
use rand::{Rng, SeedableRng};
use rmq_common::message::keys;
use rmq_store::*;

#[derive(Debug, Clone)]
struct Written {
    phy: i64,
    size: i64,
    topic: String,
    queue_id: i32,
    queue_offset: i64,
    body: Vec<u8>,
    key: String,
}

async fn write_some(store: &MessageStore, rng: &mut impl Rng, n: usize, tag: &str) -> Vec<Written> {
    let mut out = Vec::new();
    for i in 0..n {
        let topic = format!("T{}", rng.gen_range(0..2));
        let queue_id = rng.gen_range(0..3);
        let len = rng.gen_range(1..3000);
        let body: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        let key = format!("{tag}-k{i}");
        let m = msg_with(
            &topic,
            queue_id,
            body.clone(),
            &[(keys::KEYS, &key), (keys::TAGS, "x")],
        );
        let r = store.put_message(m).await;
        assert!(r.is_ok(), "{r:?}");
        let a = r.append.unwrap();
        out.push(Written {
            phy: a.wrote_offset,
            size: a.wrote_bytes,
            topic,
            queue_id,
            queue_offset: a.logics_offset,
            body,
            key,
        });
    }
    out
}

/// Asserts the store holds exactly `survivors` (in order per queue), that every consume-queue
/// entry points at a valid record of its queue, and that the index finds each key.
fn check(store: &MessageStore, survivors: &[Written]) {
    let mut by_queue: BTreeMap<(String, i32), Vec<&Written>> = BTreeMap::new();
    for w in survivors {
        by_queue
            .entry((w.topic.clone(), w.queue_id))
            .or_default()
            .push(w);
    }
    for t in 0..2 {
        for q in 0..3 {
            let topic = format!("T{t}");
            let got = pull_all(store, &topic, q);
            let want = by_queue.remove(&(topic.clone(), q)).unwrap_or_default();
            assert_eq!(got.len(), want.len(), "queue {topic}/{q}");
            assert_eq!(store.max_offset_in_queue(&topic, q), want.len() as i64);
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.commit_log_offset, w.phy);
                assert_eq!(g.queue_offset, w.queue_offset);
                assert_eq!(g.message.topic, topic);
                assert_eq!(g.queue_id, q);
                assert_eq!(&g.message.body[..], &w.body[..]);
            }
        }
    }
    for w in survivors.iter().step_by(7) {
        let r = store.query_message(&w.topic, &w.key, 4, 0, i64::MAX);
        assert_eq!(r.messages.len(), 1, "key {}", w.key);
        assert_eq!(decode_one(&r.messages[0]).commit_log_offset, w.phy);
    }
}

fn commit_log_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root.join("commitlog"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Simulates a crash: restores the abort marker (the store was shut down, so files are whole).
fn mark_crashed(root: &Path) {
    std::fs::write(root.join("abort"), "1").unwrap();
}

#[tokio::test]
async fn clean_restart_keeps_everything_and_continues_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let store = open(small_config(dir.path()));
    let mut all = write_some(&store, &mut rng, 300, "a").await;
    drop(store);
    assert!(!dir.path().join("abort").exists());
    let store = open(small_config(dir.path()));
    assert!(store.last_exit_ok());
    check(&store, &all);
    all.extend(write_some(&store, &mut rng, 100, "b").await);
    wait_dispatched(&store);
    check(&store, &all);
    drop(store);
    let store = open(small_config(dir.path()));
    check(&store, &all);
}

#[tokio::test]
async fn crash_recovery_cuts_torn_tails_and_corrupt_records() {
    for seed in 0..12u64 {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let store = open(small_config(root));
        let all = write_some(&store, &mut rng, 250, "a").await;
        drop(store);
        mark_crashed(root);
        let files = commit_log_files(root);
        let file_size = 64 * 1024i64;
        let end = all.last().map(|w| w.phy + w.size).unwrap();
        let survivors: Vec<Written> = match seed % 4 {
            // Torn tail at a random byte: zero from there on, drop later files.
            0 | 1 => {
                let x = if seed % 4 == 0 {
                    rng.gen_range(all[0].phy..end)
                } else {
                    all[rng.gen_range(0..all.len())].phy // exactly at a record boundary
                };
                let idx = (x / file_size) as usize;
                let f = OpenOptions::new().write(true).open(&files[idx]).unwrap();
                let at = (x % file_size) as u64;
                f.write_all_at(&vec![0u8; (file_size as u64 - at) as usize], at)
                    .unwrap();
                for later in &files[idx + 1..] {
                    std::fs::remove_file(later).unwrap();
                }
                all.iter()
                    .filter(|w| w.phy + w.size <= x)
                    .cloned()
                    .collect()
            }
            // A flipped body byte: the record fails its CRC; everything from it on is cut.
            2 => {
                let victim = &all[rng.gen_range(all.len() / 2..all.len())];
                // IPv4 hosts: the body starts at byte 88 of the record.
                let target = victim.phy + 88 + rng.gen_range(0..victim.body.len() as i64);
                let idx = (target / file_size) as usize;
                let f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&files[idx])
                    .unwrap();
                let mut b = [0u8; 1];
                f.read_exact_at(&mut b, (target % file_size) as u64)
                    .unwrap();
                b[0] ^= 0x5a;
                f.write_all_at(&b, (target % file_size) as u64).unwrap();
                all.iter().filter(|w| w.phy < victim.phy).cloned().collect()
            }
            // The newest file cut short on disk.
            _ => {
                let last = files.last().unwrap();
                let len = rng.gen_range(0..file_size as u64);
                OpenOptions::new()
                    .write(true)
                    .open(last)
                    .unwrap()
                    .set_len(len)
                    .unwrap();
                let x = (files.len() as i64 - 1) * file_size + len as i64;
                all.iter()
                    .filter(|w| w.phy + w.size <= x)
                    .cloned()
                    .collect()
            }
        };
        let store = open(small_config(root));
        assert!(!store.last_exit_ok());
        check(&store, &survivors);
        // The store keeps working: new messages continue the queues and survive a clean restart.
        let mut more = survivors.clone();
        more.extend(write_some(&store, &mut rng, 60, "b").await);
        wait_dispatched(&store);
        check(&store, &more);
        drop(store);
        let store = open(small_config(root));
        check(&store, &more);
    }
}

#[tokio::test]
async fn lost_consume_queues_and_index_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let store = open(small_config(root));
    let all = write_some(&store, &mut rng, 300, "a").await;
    drop(store);
    std::fs::remove_dir_all(root.join("consumequeue")).unwrap();
    std::fs::remove_dir_all(root.join("index")).unwrap();
    std::fs::remove_file(root.join("checkpoint")).unwrap();
    mark_crashed(root);
    let store = open(small_config(root));
    check(&store, &all);
}

#[tokio::test]
async fn consume_queue_ahead_of_the_log_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let store = open(small_config(root));
    let all = write_some(&store, &mut rng, 200, "a").await;
    drop(store);
    // Zero the commit log tail but keep the consume queues: they now point past the end.
    let files = commit_log_files(root);
    let cut = all[150].phy;
    let f = OpenOptions::new()
        .write(true)
        .open(&files[(cut / 65536) as usize])
        .unwrap();
    let at = (cut % 65536) as u64;
    f.write_all_at(&vec![0u8; 65536 - at as usize], at).unwrap();
    for later in &files[(cut / 65536) as usize + 1..] {
        std::fs::remove_file(later).unwrap();
    }
    mark_crashed(root);
    let store = open(small_config(root));
    check(&store, &all[..150]);
}
