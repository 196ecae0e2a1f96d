//! SYNC_MASTER waits and a master that never stalls: `wait_for_replica` against real and
//! frozen slaves, and appends while slaves stall, die or vanish.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use rmq_ha::wire::{encode_report, TransferHeader, HEADER_SIZE};
use rmq_ha::ReplicaResult;
use rmq_store::{BrokerRole, PutMessageStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_replica_completes_on_ack_and_fails_without_slave() {
    init_tracing();
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open_store(md.path(), BrokerRole::SyncMaster);
    let slave = open_store(sd.path(), BrokerRole::Slave);
    let server = start_master(&master).await;

    // No slave yet.
    let end = put_many(&master, "Sync", 1, 1, 256).await;
    assert_eq!(
        server.wait_for_replica(end, TIMEOUT).await,
        ReplicaResult::NotAvailable
    );
    assert!(!server.is_slave_ok(end));

    let client = start_slave(&slave, &server);
    eventually("slave connected", Duration::from_secs(5), || {
        server.connected_slave_count() == 1
    })
    .await;
    for i in 0..200 {
        let put = master
            .put_message(message("Sync", 0, i, 512 + i * 13))
            .await;
        let a = put.append.clone().unwrap();
        let started = Instant::now();
        let status = server
            .wait_for_replica(a.end_offset, Duration::from_secs(5))
            .await
            .apply_to(put.status);
        assert_eq!(status, PutMessageStatus::PutOk, "message {i}");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(slave.commit_log_max_offset() >= a.end_offset);
    }
    assert!(server.is_slave_ok(master.commit_log_max_offset()));

    // The slave goes away: nothing is connected, so SLAVE_NOT_AVAILABLE at once.
    client.shutdown().await;
    eventually("slave gone", Duration::from_secs(5), || {
        server.connected_slave_count() == 0
    })
    .await;
    let put = master.put_message(message("Sync", 0, 999, 100)).await;
    let end = put.append.clone().unwrap().end_offset;
    let status = server
        .wait_for_replica(end, TIMEOUT)
        .await
        .apply_to(put.status);
    assert_eq!(status, PutMessageStatus::SlaveNotAvailable);
    server.shutdown().await;
    assert_eq!(
        server.wait_for_replica(end, TIMEOUT).await,
        ReplicaResult::NotAvailable
    );
}

/// A slave that connected and reported but then froze (stopped process, dead network): puts
/// keep going at full speed, SYNC waits time out, and the master drops it after
/// `haHousekeepingInterval`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_slave_times_out_waits_and_never_blocks_appends() {
    init_tracing();
    let md = tempfile::tempdir().unwrap();
    let master = open_store(md.path(), BrokerRole::SyncMaster);
    let cfg = rmq_ha::HaConfig {
        housekeeping_interval: Duration::from_millis(1500),
        ..fast_config()
    };
    let server = start_master_with(&master, cfg).await;
    let start = put_many(&master, "Frozen", 1, 10, 1000).await;

    let mut frozen = TcpStream::connect(server.local_addr()).await.unwrap();
    frozen.write_all(&encode_report(start)).await.unwrap();
    eventually("frozen slave acked", Duration::from_secs(5), || {
        server.max_acked_offset() == start
    })
    .await;

    // Far more than the socket buffers hold, with a writer that has nowhere to send.
    let started = Instant::now();
    let end = put_many(&master, "Frozen", 4, 8 * 1024, 1024).await;
    let elapsed = started.elapsed();
    assert!(end - start > 8 << 20);
    assert!(
        elapsed < Duration::from_secs(10),
        "puts took {elapsed:?} with a frozen slave"
    );
    assert!(server.is_slave_ok(end), "within haMaxGapNotInSync");
    assert_eq!(
        server.wait_for_replica(end, TIMEOUT).await,
        ReplicaResult::Timeout
    );
    assert_eq!(
        ReplicaResult::Timeout.apply_to(PutMessageStatus::PutOk),
        PutMessageStatus::FlushSlaveTimeout
    );
    let lag = server.connected_slaves()[0].lag_bytes.unwrap();
    assert_eq!(lag, end - start);

    // Housekeeping closes the silent connection.
    eventually("frozen slave dropped", Duration::from_secs(5), || {
        server.connected_slave_count() == 0
    })
    .await;
    drop(frozen);
    server.shutdown().await;
}

/// Slaves killed mid-transfer while a producer keeps appending: no put waits on them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_slave_connections_never_block_appends() {
    init_tracing();
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open_store(md.path(), BrokerRole::AsyncMaster);
    put_many(&master, "Kill", 2, 4 * 1024, 1024).await;
    let server = start_master(&master).await;

    let producer = {
        let master = master.clone();
        tokio::spawn(async move {
            let mut worst = Duration::ZERO;
            for i in 0..4000 {
                let t = Instant::now();
                let r = master.put_message(message("Kill", 1, i, 1024)).await;
                assert!(r.is_ok());
                worst = worst.max(t.elapsed());
                if i % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            worst
        })
    };
    for _ in 0..5 {
        // A raw slave that asks for everything, reads a little, and dies.
        let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
        s.write_all(&encode_report(0)).await.unwrap();
        let mut buf = vec![0u8; 100 * 1024];
        s.read_exact(&mut buf).await.unwrap();
        drop(s);
    }
    // A real slave killed while catching up.
    let slave = open_store(sd.path(), BrokerRole::Slave);
    let client = start_slave(&slave, &server);
    eventually("slave started catching up", Duration::from_secs(5), || {
        slave.commit_log_max_offset() > 0
    })
    .await;
    client.shutdown().await;

    let worst = producer.await.unwrap();
    assert!(worst < Duration::from_secs(1), "a put took {worst:?}");
    eventually("dead slaves unregistered", Duration::from_secs(5), || {
        server.connected_slave_count() == 0
    })
    .await;

    // The killed slave resumes where it stopped.
    let client = start_slave(&slave, &server);
    caught_up(&master, &slave).await;
    let from = slave.commit_log_min_offset();
    assert_same_commit_log(&master, &slave, from);
    client.shutdown().await;
    server.shutdown().await;
}

/// The master speaks the byte-level protocol a Java slave expects: start at the last file for
/// an empty slave, 12-byte headers, file-bounded 32 KiB chunks, header-only heartbeats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_wire_format_as_a_java_slave_sees_it() {
    init_tracing();
    let md = tempfile::tempdir().unwrap();
    let master = open_store(md.path(), BrokerRole::AsyncMaster);
    put_many(&master, "Wire", 1, 1100, 1024).await;
    let max = master.commit_log_max_offset();
    let last_file = max - max % FILE_SIZE as i64;
    assert!(last_file > 0);
    let server = start_master(&master).await;

    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    s.write_all(&encode_report(0)).await.unwrap();
    let mut at = last_file;
    let mut received = Vec::new();
    let heartbeat = loop {
        let mut h = [0u8; HEADER_SIZE];
        s.read_exact(&mut h).await.unwrap();
        let h = TransferHeader::decode(&h).unwrap();
        assert_eq!(h.offset, at);
        if h.size == 0 {
            break h;
        }
        assert!(h.size <= 32 * 1024);
        let file = h.offset / FILE_SIZE as i64;
        assert_eq!(file, (h.offset + h.size as i64 - 1) / FILE_SIZE as i64);
        let mut body = vec![0u8; h.size];
        s.read_exact(&mut body).await.unwrap();
        received.extend_from_slice(&body);
        at += h.size as i64;
    };
    assert_eq!(heartbeat.offset, max);
    assert_eq!(received, commit_log_bytes(&master, last_file, max));
    drop(s);
    server.shutdown().await;
}

/// The slave against a byte-level master: it reports its offset first, and a header that
/// does not continue its CommitLog makes it close and reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slave_rejects_a_diverging_master_and_reconnects() {
    init_tracing();
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open_store(md.path(), BrokerRole::AsyncMaster);
    put_many(&master, "Div", 1, 300, 1000).await;
    let real = start_master(&master).await;
    let slave = open_store(sd.path(), BrokerRole::Slave);
    let client = start_slave(&slave, &real);
    caught_up(&master, &slave).await;
    client.shutdown().await;
    real.shutdown().await;
    let have = slave.commit_log_max_offset();

    let fake = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(Some(fake.local_addr().unwrap().to_string()));
    let client = rmq_ha::HaClient::start(slave.clone(), rx, fast_config()).unwrap();
    for _ in 0..2 {
        let (mut conn, _) = fake.accept().await.unwrap();
        let mut report = [0u8; 8];
        conn.read_exact(&mut report).await.unwrap();
        assert_eq!(i64::from_be_bytes(report), have);
        let bad = TransferHeader {
            offset: have - 100,
            size: 4,
        };
        conn.write_all(&bad.encode()).await.unwrap();
        conn.write_all(b"oops").await.unwrap();
        // The slave hangs up instead of appending.
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut rest))
            .await
            .unwrap();
        assert!(n.is_ok() || rest.len() % 8 == 0);
    }
    assert_eq!(slave.commit_log_max_offset(), have);
    client.shutdown().await;
}
