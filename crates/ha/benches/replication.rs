//! Replication throughput and lag, master → slave over loopback, 1 KiB messages.
//!
//! A plain `harness = false` binary (not criterion): the figures are rates and lag percentiles
//! of one long run, not per-iteration timings. Run with
//! `cargo bench -p rmq-ha --bench replication` (`RMQ_HA_BENCH_MB` sets the volume, default 256).
//!
//! * catch-up: the slave was stopped while the master took the whole volume, then reconnects;
//!   time until its CommitLog reaches the master's end.
//! * live: the slave is connected while one producer task appends as fast as it can; the
//!   master → slave lag is sampled every millisecond.
//! * sync: SYNC_MASTER puts, each waiting for the slave's ACK (`wait_for_replica`), with 1 and
//!   with 64 puts in flight.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmq_ha::{HaClient, HaConfig, HaServer, ReplicaResult};
use rmq_store::{BrokerRole, MessageStore, MessageStoreConfig, PutMessage};
use tokio::net::TcpListener;
use tokio::sync::watch;

const MSG: usize = 1024;
const FILE_SIZE: usize = 64 * 1024 * 1024;

fn open(dir: &Path, role: BrokerRole) -> Arc<MessageStore> {
    let mut c = MessageStoreConfig::with_root(dir);
    c.mapped_file_size_commit_log = FILE_SIZE;
    c.broker_role = role;
    let s = MessageStore::open(c).unwrap();
    s.start().unwrap();
    s
}

fn msg(i: usize) -> PutMessage {
    PutMessage::new("BenchHA", (i % 8) as i32, vec![b'x'; MSG])
}

async fn fill(master: &MessageStore, server: Option<&HaServer>, bytes: usize) -> usize {
    let mut n = 0;
    let start = master.commit_log_max_offset();
    while ((master.commit_log_max_offset() - start) as usize) < bytes {
        let r = master.put_message(msg(n)).await;
        assert!(r.is_ok());
        if let Some(s) = server {
            s.notify_appended();
        }
        n += 1;
    }
    n
}

async fn until_caught_up(master: &MessageStore, slave: &MessageStore) -> Instant {
    let target = master.commit_log_max_offset();
    while slave.commit_log_max_offset() < target {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    Instant::now()
}

async fn start(master: &Arc<MessageStore>, slave: &Arc<MessageStore>) -> (HaServer, HaClient) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = HaServer::start(listener, master.clone(), HaConfig::default()).unwrap();
    let (_tx, rx) = watch::channel(Some(server.local_addr().to_string()));
    let client = HaClient::start(slave.clone(), rx, HaConfig::default()).unwrap();
    while server.connected_slave_count() == 0 || server.max_acked_offset() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    (server, client)
}

fn mb_s(bytes: i64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn pct(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

async fn catch_up(volume: usize) {
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open(md.path(), BrokerRole::AsyncMaster);
    let slave = open(sd.path(), BrokerRole::Slave);
    master.put_message(msg(0)).await;
    let (server, client) = start(&master, &slave).await;
    until_caught_up(&master, &slave).await;
    client.shutdown().await;
    drop(client);
    fill(&master, None, volume).await;
    let from = slave.commit_log_max_offset();
    let t = Instant::now();
    let (_tx, rx) = watch::channel(Some(server.local_addr().to_string()));
    let client = HaClient::start(slave.clone(), rx, HaConfig::default()).unwrap();
    let done = until_caught_up(&master, &slave).await;
    let bytes = slave.commit_log_max_offset() - from;
    println!(
        "catch-up: {} MiB in {:.2} s = {:.0} MB/s",
        bytes >> 20,
        (done - t).as_secs_f64(),
        mb_s(bytes, done - t)
    );
    client.shutdown().await;
    server.shutdown().await;
}

/// The master's send rate alone: a raw slave that reads and discards frames.
async fn wire_only(volume: usize) {
    use rmq_ha::wire::{encode_report, TransferHeader, HEADER_SIZE};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let md = tempfile::tempdir().unwrap();
    let master = open(md.path(), BrokerRole::AsyncMaster);
    fill(&master, None, volume).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = HaServer::start(listener, master.clone(), HaConfig::default()).unwrap();
    let end = master.commit_log_max_offset();
    let mut s = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let t = Instant::now();
    s.write_all(&encode_report(1)).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 1;
    while at < end {
        let mut h = [0u8; HEADER_SIZE];
        s.read_exact(&mut h).await.unwrap();
        let h = TransferHeader::decode(&h).unwrap();
        s.read_exact(&mut buf[..h.size]).await.unwrap();
        at = h.offset + h.size as i64;
    }
    let el = t.elapsed();
    println!(
        "wire only (master -> discarding reader): {:.0} MB/s",
        mb_s(end - 1, el)
    );
    drop(s);
    server.shutdown().await;
}

async fn live(volume: usize) {
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open(md.path(), BrokerRole::AsyncMaster);
    let slave = open(sd.path(), BrokerRole::Slave);
    master.put_message(msg(0)).await;
    let (server, client) = start(&master, &slave).await;
    let from = master.commit_log_max_offset();

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (m, s, stop) = (master.clone(), slave.clone(), stop.clone());
        tokio::spawn(async move {
            let mut lags = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                lags.push(m.commit_log_max_offset() - s.commit_log_max_offset());
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            lags
        })
    };
    let t = Instant::now();
    let n = fill(&master, Some(&server), volume).await;
    let produced = t.elapsed();
    let done = until_caught_up(&master, &slave).await;
    stop.store(true, Ordering::Relaxed);
    let mut lags = sampler.await.unwrap();
    lags.sort_unstable();
    let bytes = master.commit_log_max_offset() - from;
    println!(
        "live: {n} x 1 KiB puts in {:.2} s ({:.0} k msg/s, {:.0} MB/s appended); slave caught up \
         {:.1} ms after the last put; replication {:.0} MB/s",
        produced.as_secs_f64(),
        n as f64 / produced.as_secs_f64() / 1e3,
        mb_s(bytes, produced),
        (done - t - produced).as_secs_f64() * 1e3,
        mb_s(bytes, done - t)
    );
    println!(
        "live lag (bytes, {} samples): p50 {} / p99 {} / max {}",
        lags.len(),
        pct(&lags, 0.5),
        pct(&lags, 0.99),
        lags.last().copied().unwrap_or(0)
    );
    client.shutdown().await;
    server.shutdown().await;
}

async fn sync(count: usize) {
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open(md.path(), BrokerRole::SyncMaster);
    let slave = open(sd.path(), BrokerRole::Slave);
    master.put_message(msg(0)).await;
    let (server, client) = start(&master, &slave).await;
    for in_flight in [1usize, 64] {
        let t = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..in_flight {
            let (m, s) = (master.clone(), server.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(count / in_flight);
                for i in 0..count / in_flight {
                    let t = Instant::now();
                    let r = m.put_message(msg(w + i)).await;
                    let end = r.append.unwrap().end_offset;
                    let rr = s.wait_for_replica(end, Duration::from_secs(5)).await;
                    assert_eq!(rr, ReplicaResult::Ok);
                    lat.push(t.elapsed().as_micros() as i64);
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        let el = t.elapsed();
        lat.sort_unstable();
        println!(
            "sync, {in_flight} in flight: {:.1} k msg/s, latency p50 {} µs / p99 {} µs",
            lat.len() as f64 / el.as_secs_f64() / 1e3,
            pct(&lat, 0.5),
            pct(&lat, 0.99)
        );
    }
    client.shutdown().await;
    server.shutdown().await;
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: keep that short.
    let quick = !std::env::args().any(|a| a == "--bench");
    let mb: usize = std::env::var("RMQ_HA_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 4 } else { 256 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        wire_only(mb << 20).await;
        catch_up(mb << 20).await;
        live(mb << 20).await;
        sync(if quick { 640 } else { 64_000 }).await;
    });
}
