//! rmq-store benchmarks: append throughput (ASYNC_FLUSH 1/4 tasks, SYNC_FLUSH 1/64 concurrent),
//! sequential pull throughput, and crash-recovery speed.
//!
//! Run: `cargo bench -p rmq-store --bench store -- --warm-up-time 1 --measurement-time 3`.
//! Files are 256 MiB CommitLog segments in a temp dir on the working disk.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rmq_store::{AcceptAll, FlushDiskType, MessageStore, MessageStoreConfig, PutMessage};

const PROPS: &str = "TAGS\u{1}TagA\u{2}WAIT\u{1}true\u{2}";

fn config(dir: &std::path::Path, flush: FlushDiskType) -> MessageStoreConfig {
    let mut c = MessageStoreConfig::with_root(dir);
    c.mapped_file_size_commit_log = 256 * 1024 * 1024;
    c.flush_disk_type = flush;
    // Benchmarks run well under an hour: keep the cleaner from probing every 10 s.
    c.clean_resource_interval = 3_600_000;
    c
}

fn message(topic: &str, queue_id: i32, body: &Bytes) -> PutMessage {
    let mut m = PutMessage::new(topic, queue_id, body.clone());
    m.properties = PROPS.to_owned();
    m
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Appends `total` messages from `tasks` concurrent tasks; returns the elapsed time.
fn append(
    rt: &tokio::runtime::Runtime,
    store: &Arc<MessageStore>,
    tasks: u64,
    total: u64,
    body: &Bytes,
) -> Duration {
    let start = Instant::now();
    rt.block_on(async {
        if tasks == 1 {
            for _ in 0..total {
                let r = store.put_message(message("BenchTopic", 0, body)).await;
                assert!(r.is_ok(), "{r:?}");
            }
            return;
        }
        let mut handles = Vec::new();
        for t in 0..tasks {
            let store = Arc::clone(store);
            let body = body.clone();
            let n = total / tasks + u64::from(t < total % tasks);
            handles.push(tokio::spawn(async move {
                for _ in 0..n {
                    let r = store
                        .put_message(message("BenchTopic", (t % 8) as i32, &body))
                        .await;
                    assert!(r.is_ok(), "{r:?}");
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    start.elapsed()
}

fn bench_append(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("append");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    let cases: &[(FlushDiskType, &str, u64, &[usize])] = &[
        (FlushDiskType::AsyncFlush, "async", 1, &[100, 1024, 4096]),
        (FlushDiskType::AsyncFlush, "async", 4, &[100, 1024, 4096]),
        (FlushDiskType::SyncFlush, "sync", 1, &[1024]),
        (FlushDiskType::SyncFlush, "sync", 64, &[100, 1024, 4096]),
    ];
    for (flush, name, tasks, sizes) in cases {
        for &size in *sizes {
            let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
            let store = MessageStore::open(config(dir.path(), *flush)).unwrap();
            store.start().unwrap();
            std::thread::sleep(Duration::from_millis(300)); // first file preallocated
            let body = Bytes::from(vec![b'x'; size]);
            let id = BenchmarkId::new(format!("{name}_{tasks}task"), format!("{size}B"));
            g.bench_with_input(id, &size, |b, _| {
                b.iter_custom(|iters| append(&rt, &store, *tasks, iters, &body));
            });
            drop(store);
        }
    }
    g.finish();
}

fn bench_read(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = MessageStore::open(config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    store.start().unwrap();
    let body = Bytes::from(vec![b'r'; 1024]);
    let count = 300_000u64;
    append(&rt, &store, 1, count, &body);
    while store.dispatched_offset() < store.commit_log_max_offset() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut g = c.benchmark_group("read");
    g.sample_size(10);
    g.throughput(Throughput::Elements(32));
    g.bench_function("sequential_pull_32x1KiB", |b| {
        let mut offset = 0i64;
        b.iter(|| {
            let r = store.get_message("BenchTopic", 0, offset, 32, 1 << 20, &AcceptAll);
            assert_eq!(r.messages.len(), 32);
            offset = if r.next_begin_offset + 32 > count as i64 {
                0
            } else {
                r.next_begin_offset
            };
            r
        });
    });
    g.finish();
}

fn bench_recovery(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let body = Bytes::from(vec![b'c'; 1024]);
    let bytes = {
        let store = MessageStore::open(config(&root, FlushDiskType::AsyncFlush)).unwrap();
        store.start().unwrap();
        append(&rt, &store, 4, 1_000_000, &body);
        store.commit_log_max_offset()
    };
    let mut g = c.benchmark_group("recovery");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("abnormal_full_rebuild_1GB", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // A crash with nothing dispatched on disk: abort marker, no checkpoint, no
                // consume queues or index; recovery must check every record and rebuild all.
                std::fs::write(root.join("abort"), "1").unwrap();
                let _ = std::fs::remove_file(root.join("checkpoint"));
                let _ = std::fs::remove_dir_all(root.join("consumequeue"));
                let _ = std::fs::remove_dir_all(root.join("index"));
                let start = Instant::now();
                let store = MessageStore::open(config(&root, FlushDiskType::AsyncFlush)).unwrap();
                total += start.elapsed();
                assert_eq!(store.commit_log_max_offset(), bytes);
                drop(store);
            }
            total
        });
    });
    g.finish();
}

criterion_group!(benches, bench_append, bench_read, bench_recovery);
criterion_main!(benches);
