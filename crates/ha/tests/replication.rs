//! Master → slave replication over real TCP between two real stores with 1 MiB CommitLog
//! files: byte-identical logs, consumable slave queues, restarts, catching up, address changes.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use rmq_ha::HaClient;
use rmq_store::BrokerRole;
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_appear_identical_and_consumable_on_the_slave() {
    init_tracing();
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open_store(md.path(), BrokerRole::AsyncMaster);
    let slave = open_store(sd.path(), BrokerRole::Slave);
    let server = start_master(&master).await;
    let client = start_slave(&slave, &server);
    eventually("slave connected", Duration::from_secs(5), || {
        client.is_connected() && server.connected_slave_count() == 1
    })
    .await;

    // About 3.5 MiB in messages of varied sizes: several file rolls.
    for (i, size) in [100usize, 1024, 3000, 17_000].iter().enumerate() {
        put_many(&master, "TopicHA", 4, 200 + i * 50, *size).await;
        server.notify_appended();
    }
    assert!(master.commit_log_max_offset() > 3 * FILE_SIZE as i64);
    caught_up(&master, &slave).await;
    assert_same_commit_log(&master, &slave, 0);
    assert_same_queues(&master, &slave, "TopicHA", 4);

    // The master sees the ACK; the slave sees the master's offset.
    let end = master.commit_log_max_offset();
    eventually("ack", Duration::from_secs(5), || {
        server.max_acked_offset() == end
    })
    .await;
    let slaves = server.connected_slaves();
    assert_eq!(slaves.len(), 1);
    assert_eq!(slaves[0].acked_offset, Some(end));
    assert_eq!(slaves[0].lag_bytes, Some(0));
    assert_eq!(client.master_offset(), Some(end));
    assert_eq!(client.lag_bytes(), Some(0));
    assert_eq!(
        client.master_address(),
        Some(server.local_addr().to_string())
    );

    client.shutdown().await;
    server.shutdown().await;
    assert!(!client.is_connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slave_restart_resumes_from_its_own_offset() {
    init_tracing();
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open_store(md.path(), BrokerRole::AsyncMaster);
    let server = start_master(&master).await;

    let slave = open_store(sd.path(), BrokerRole::Slave);
    let client = start_slave(&slave, &server);
    put_many(&master, "T", 2, 500, 1000).await;
    caught_up(&master, &slave).await;
    let before = slave.commit_log_max_offset();
    client.shutdown().await;
    drop(client);
    drop(slave);

    // The master moves on (past a file boundary) while the slave is down.
    put_many(&master, "T", 2, 1500, 1000).await;
    let slave = open_store(sd.path(), BrokerRole::Slave);
    assert_eq!(slave.commit_log_max_offset(), before);
    let client = start_slave(&slave, &server);
    caught_up(&master, &slave).await;
    assert_same_commit_log(&master, &slave, 0);
    // No duplicate, no gap: both queues hold exactly the master's 2000 messages.
    assert_same_queues(&master, &slave, "T", 2);
    assert_eq!(slave.max_offset_in_queue("T", 0), 1000);
    assert_eq!(slave.max_offset_in_queue("T", 1), 1000);

    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slave_far_behind_catches_up_across_files() {
    init_tracing();
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open_store(md.path(), BrokerRole::AsyncMaster);
    let server = start_master(&master).await;
    let slave = open_store(sd.path(), BrokerRole::Slave);
    let client = start_slave(&slave, &server);
    put_many(&master, "Far", 3, 30, 2000).await;
    caught_up(&master, &slave).await;
    client.shutdown().await;

    // Five files behind.
    put_many(&master, "Far", 3, 5 * 1024, 1024).await;
    assert!(master.commit_log_max_offset() - slave.commit_log_max_offset() > 5 * FILE_SIZE as i64);
    let client = start_slave(&slave, &server);
    caught_up(&master, &slave).await;
    assert_same_commit_log(&master, &slave, 0);
    assert_same_queues(&master, &slave, "Far", 3);
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_slave_starts_at_the_masters_last_file() {
    init_tracing();
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open_store(md.path(), BrokerRole::AsyncMaster);
    put_many(&master, "Late", 1, 3 * 1024 + 100, 1024).await;
    let server = start_master(&master).await;
    let slave = open_store(sd.path(), BrokerRole::Slave);
    let client = start_slave(&slave, &server);

    let max = master.commit_log_max_offset();
    let last_file = max - max % FILE_SIZE as i64;
    assert!(last_file >= 3 * FILE_SIZE as i64);
    eventually(
        "slave reaches the master end",
        Duration::from_secs(10),
        || slave.commit_log_max_offset() == max,
    )
    .await;
    assert_eq!(slave.commit_log_min_offset(), last_file);
    assert_same_commit_log(&master, &slave, last_file);
    // Consume queues start mid-way too: the slave serves what its CommitLog holds.
    caught_up(&master, &slave).await;
    let on_slave = bodies(&slave, "Late", 0);
    let on_master = bodies(&master, "Late", 0);
    assert!(!on_slave.is_empty());
    assert!(on_master.ends_with(&on_slave));

    // And it keeps following.
    put_many(&master, "Late", 1, 500, 1024).await;
    eventually("slave follows", Duration::from_secs(10), || {
        slave.commit_log_max_offset() == master.commit_log_max_offset()
    })
    .await;
    assert_same_commit_log(&master, &slave, last_file);
    caught_up(&master, &slave).await;
    assert!(bodies(&master, "Late", 0).ends_with(&bodies(&slave, "Late", 0)));
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slave_follows_the_master_address() {
    init_tracing();
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open_store(md.path(), BrokerRole::AsyncMaster);
    let server = start_master(&master).await;
    let slave = open_store(sd.path(), BrokerRole::Slave);
    let (tx, rx) = watch::channel(None);
    let client = HaClient::start(Arc::clone(&slave), rx, fast_config()).unwrap();
    put_many(&master, "Addr", 1, 100, 500).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!client.is_connected());
    assert_eq!(client.master_address(), None);
    assert_eq!(slave.commit_log_max_offset(), 0);

    // A wrong address first (nothing listens there), then the real one.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    tx.send_replace(Some(dead_addr.clone()));
    eventually("address taken", Duration::from_secs(5), || {
        client.master_address() == Some(dead_addr.clone())
    })
    .await;
    tx.send_replace(Some(server.local_addr().to_string()));
    caught_up(&master, &slave).await;
    assert!(client.is_connected());
    assert_same_commit_log(&master, &slave, 0);

    // The sender going away keeps the last address in force.
    drop(tx);
    put_many(&master, "Addr", 1, 100, 500).await;
    caught_up(&master, &slave).await;
    client.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_server_closes_its_connections() {
    init_tracing();
    let (md, sd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let master = open_store(md.path(), BrokerRole::AsyncMaster);
    let slave = open_store(sd.path(), BrokerRole::Slave);
    let server = start_master(&master).await;
    let client = start_slave(&slave, &server);
    put_many(&master, "Drop", 1, 10, 100).await;
    caught_up(&master, &slave).await;
    assert!(client.is_connected());
    drop(server);
    eventually("slave disconnected", Duration::from_secs(5), || {
        !client.is_connected()
    })
    .await;
    client.shutdown().await;
}

#[tokio::test]
async fn the_client_refuses_a_master_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), BrokerRole::SyncMaster);
    let (_tx, rx) = watch::channel(Some("127.0.0.1:1".to_owned()));
    let err = HaClient::start(store, rx, fast_config()).unwrap_err();
    assert!(matches!(err, rmq_ha::HaError::NotSlave { .. }), "{err}");
}
