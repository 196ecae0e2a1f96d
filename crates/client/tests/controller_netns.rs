//! Controller mode under the faults a machine really has, one of each kind: each broker in its
//! own network namespace with its own address, controllers and name server on the bridge, four
//! producers (SYNC sends, `allAckInSyncStateSet=true`) and two push consumers running
//! throughout (`support/netns_group.rs`).
//!
//! After each fault: every SEND_OK message is consumed, one message per queue offset, each
//! producer's messages in order within a queue; the replicas end with the same queues, all in
//! the SyncStateSet; the old master is back as a slave. Each test prints its recovery time
//! (fault to the first send the new master acknowledged); `cargo xtask rto` measures the series.
//!
//! The tests take turns (one group at a time on the machine's two cores). Needs root (network
//! namespaces); it fails, never skips, without.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/until.rs"]
mod poll;

#[path = "support/netns_group.rs"]
mod netns_group;

use std::time::Instant;

use netns_group::{until, Group, Load};
use rmq_testkit::test_dir;

/// One fault test at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn started(name: &str, extra: &str) -> (tempfile::TempDir, Group, Load) {
    let dir = test_dir(name);
    let g = Group::start(dir.path(), 2, "", extra).await;
    let load = Load::start(&g).await;
    load.wait_more_acks(200, "sends acknowledged before the fault")
        .await;
    (dir, g, load)
}

/// Stops the load, waits for the replicas to agree, checks every acknowledged send.
async fn settle(g: Group, mut load: Load) {
    load.stop_producers().await;
    g.wait_replicas_equal().await;
    let acked = load.check().await;
    eprintln!("{acked} sends acknowledged, all consumed once");
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_killed() {
    let _turn = TURN.lock().await;
    let (_dir, mut g, load) = started("netns-kill", "").await;
    g.kill_broker(0);
    let fault = Instant::now();
    g.wait_master(1).await;
    let rto = load.recovery(&g.addrs[1], fault).await;
    eprintln!("master SIGKILL: RTO {rto:?}");
    load.wait_more_acks(100, "sends after the failover").await;
    g.start_broker(0);
    settle(g, load).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_cut_off_fences_itself_and_rejoins() {
    let _turn = TURN.lock().await;
    let (_dir, g, load) = started("netns-cut", "").await;
    g.net.cut(0).unwrap();
    let fault = Instant::now();
    g.wait_master(1).await;
    let rto = load.recovery(&g.addrs[1], fault).await;
    eprintln!("master cut off: RTO {rto:?}");
    // It stopped taking writes on its own before the controllers could elect another master.
    assert!(
        g.broker_log(0).contains("fenced"),
        "the cut-off master fenced itself"
    );
    load.wait_more_acks(100, "sends after the failover").await;
    g.net.heal(0).unwrap();
    settle(g, load).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_and_controller_leader_killed_together() {
    let _turn = TURN.lock().await;
    let (_dir, mut g, load) = started("netns-leader", "").await;
    let leader = g.controller_leader().await;
    g.kill_broker(0);
    g.kill_controller(leader);
    let fault = Instant::now();
    g.wait_master(1).await;
    let rto = load.recovery(&g.addrs[1], fault).await;
    eprintln!("master + controller leader SIGKILL: RTO {rto:?}");
    load.wait_more_acks(100, "sends after the failover").await;
    g.start_controller(leader);
    g.start_broker(0);
    settle(g, load).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_slave_outside_the_set_is_not_elected() {
    let _turn = TURN.lock().await;
    let (_dir, mut g, load) = started("netns-lagging", "haHousekeepingInterval=3000").await;
    // The master dies while its slave lags outside the SyncStateSet: no unclean election.
    let fault = g.kill_master_behind_lagging_slave(&load).await;
    let (master, epoch, _) = g.replicas().await.unwrap();
    assert_ne!(master, Some(2), "the lagging slave was elected");
    // The old master comes back and is elected again; the slave catches up behind it.
    g.start_broker(0);
    g.wait_master(0).await;
    let rto = load.recovery(&g.addrs[0], fault).await;
    eprintln!("lagging slave, master SIGKILL: writes back after the master's restart, {rto:?} after the fault");
    let (master, next, _) = g.replicas().await.unwrap();
    assert_eq!(master, Some(1));
    assert!(next > epoch, "a new epoch for the master's return");
    load.wait_more_acks(100, "sends after the master's return")
        .await;
    settle(g, load).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_restart_of_every_node() {
    let _turn = TURN.lock().await;
    let (_dir, mut g, load) = started("netns-rolling", "").await;
    for i in 0..3 {
        g.stop_controller(i);
        g.start_controller(i);
        g.wait_controller_rejoined(i).await;
        load.wait_more_acks(50, &format!("sends after controller n{i} restarted"))
            .await;
    }
    // The slave (the master lets it go from the SyncStateSet and takes it back once it has
    // caught up), then the master (its slave takes over; it comes back as a slave).
    g.stop_broker(1);
    g.wait_sync_state_set(&[1]).await;
    g.start_broker(1);
    g.wait_sync_state_set(&[1, 2]).await;
    load.wait_more_acks(50, "sends after the slave restarted")
        .await;
    g.stop_broker(0);
    let fault = Instant::now();
    g.wait_master(1).await;
    let rto = load.recovery(&g.addrs[1], fault).await;
    eprintln!("rolling restart, master stopped: RTO {rto:?}");
    g.start_broker(0);
    g.wait_sync_state_set(&[1, 2]).await;
    load.wait_more_acks(50, "sends after the old master rejoined")
        .await;
    settle(g, load).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_few_in_sync_replicas_refuses_sends_unstored() {
    let _turn = TURN.lock().await;
    let dir = test_dir("netns-min-in-sync");
    let g = Group::start(
        dir.path(),
        2,
        "",
        "minInSyncReplicas=2\nhaHousekeepingInterval=3000",
    )
    .await;
    let producer = rmq_client::Producer::builder()
        .group("PG-min-in-sync")
        .name_server(&g.ns)
        .build()
        .await
        .unwrap();
    let send =
        |body: &'static str| producer.send(rmq_client::Message::new(netns_group::TOPIC, body));
    send("before").await.unwrap();
    let stored = |q: std::collections::BTreeMap<i32, (i64, i64)>| -> i64 {
        q.values().map(|(_, hi)| hi).sum()
    };
    // The slave cut off and dropped from the SyncStateSet: the master alone is too few (once
    // the master has applied the change the controllers accepted).
    g.net.cut(1).unwrap();
    g.wait_sync_state_set(&[1]).await;
    let refused = |r: Result<rmq_client::SendResult, rmq_client::ClientError>| {
        r.err()
            .filter(|e| e.to_string().contains("in-sync replicas not enough"))
            .map(|_| ())
    };
    until("a send refused for too few in-sync replicas", || async {
        refused(send("probe").await)
    })
    .await;
    let before = stored(g.queues(&g.addrs[0]).await);
    assert!(
        refused(send("refused").await).is_some(),
        "refused again while the set is short"
    );
    assert_eq!(
        stored(g.queues(&g.addrs[0]).await),
        before,
        "a refused send is not stored"
    );
    // The slave back and in sync: sends are taken again.
    g.net.heal(1).unwrap();
    g.wait_sync_state_set(&[1, 2]).await;
    let r = send("after").await.unwrap();
    assert_eq!(r.status, rmq_client::SendStatus::SendOk);
    producer.shutdown().await;
    g.shutdown().await;
}
