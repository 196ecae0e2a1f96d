//! A child process appends with SYNC_FLUSH and prints each acknowledged message; the test
//! SIGKILLs it mid-stream, reopens the store and checks every acknowledged message is there.
//!
//! The child is this test binary re-executed with `RMQ_STORE_CRASH_CHILD` set, running only
//! `crash_child_entry` (which does nothing in a normal run).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use rmq_store::*;

const CHILD_ENV: &str = "RMQ_STORE_CRASH_CHILD";

fn child_config(root: &std::path::Path) -> MessageStoreConfig {
    let mut c = small_config(root);
    c.mapped_file_size_commit_log = 256 * 1024;
    c.flush_disk_type = FlushDiskType::SyncFlush;
    c
}

#[test]
fn crash_child_entry() {
    let Ok(root) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store = open(child_config(std::path::Path::new(&root)));
        let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let mut tasks = Vec::new();
        for t in 0..8 {
            let store = Arc::clone(&store);
            let out = Arc::clone(&out);
            tasks.push(tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let body = format!("task{t}-msg{n}-").repeat(1 + (n % 20) as usize);
                    let r = store.put_message(msg("Crash", t % 4, body.clone())).await;
                    if r.is_ok() {
                        let a = r.append.unwrap();
                        let mut o = out.lock().unwrap();
                        writeln!(
                            o,
                            "ACK {} {} {} {}",
                            a.wrote_offset,
                            t % 4,
                            a.logics_offset,
                            body
                        )
                        .unwrap();
                        o.flush().unwrap();
                    }
                    n += 1;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    for round in 0..2 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_child_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut acks = Vec::new();
        let mut line = String::new();
        let want = 1500 + round * 700;
        while acks.len() < want {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                panic!("child exited early after {} acks", acks.len());
            }
            if let Some(rest) = line.trim_end().strip_prefix("ACK ") {
                acks.push(rest.to_owned());
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Acks already in the pipe were acknowledged before the kill: keep them too.
        let mut tail = String::new();
        while reader.read_line(&mut tail).unwrap() > 0 {
            if tail.ends_with('\n') {
                if let Some(rest) = tail.trim_end().strip_prefix("ACK ") {
                    acks.push(rest.to_owned());
                }
            }
            tail.clear();
        }

        let store = open(child_config(&root));
        assert!(!store.last_exit_ok(), "abort file marks the crash");
        wait_dispatched(&store);
        let mut per_queue: BTreeMap<i32, Vec<(i64, i64, String)>> = BTreeMap::new();
        for a in &acks {
            let mut it = a.splitn(4, ' ');
            let phy: i64 = it.next().unwrap().parse().unwrap();
            let q: i32 = it.next().unwrap().parse().unwrap();
            let qo: i64 = it.next().unwrap().parse().unwrap();
            let body = it.next().unwrap().to_owned();
            let rec = store
                .look_message_by_offset(phy)
                .unwrap_or_else(|| panic!("acknowledged message at {phy} lost"));
            let m = decode_one(&rec);
            assert_eq!(m.message.body, body.as_bytes());
            assert_eq!((m.queue_id, m.queue_offset), (q, qo));
            per_queue.entry(q).or_default().push((qo, phy, body));
        }
        // Consume queues agree: each acknowledged queue offset resolves to its record.
        for (q, list) in per_queue {
            let all = pull_all(&store, "Crash", q);
            for (qo, phy, _) in list {
                let m = &all[qo as usize];
                assert_eq!((m.queue_offset, m.commit_log_offset), (qo, phy));
            }
            for (i, m) in all.iter().enumerate() {
                assert_eq!(m.queue_offset, i as i64);
            }
        }
        store.shutdown();
    }
}
