//! Three controllers' Raft members over real TCP on loopback, with their logs on disk: a
//! command written through the leader is applied by all three; with the leader stopped the
//! other two elect a new one and keep deciding; the stopped member, started again from its
//! files, catches up.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use openraft::BasicNode;
use rmq_controller::raft::{Outcome, RaftNode};
use rmq_controller::{Applied, Command};
use tokio::net::TcpListener;

fn config() -> openraft::Config {
    openraft::Config {
        cluster_name: "rmq-controller-test".into(),
        heartbeat_interval: 100,
        election_timeout_min: 400,
        election_timeout_max: 800,
        ..Default::default()
    }
}

/// How long a test waits for the group to reach a state (openraft's metrics watch: woken by each
/// change, no polling).
const WITHIN: Option<Duration> = Some(Duration::from_secs(20));

async fn start(id: u64, dir: &Path, addr: &str) -> RaftNode {
    let listener = TcpListener::bind(addr).await.unwrap();
    RaftNode::start(id, &dir.join(format!("c{id}")), listener, config())
        .await
        .unwrap()
}

fn register(name: &str) -> Command {
    Command::ApplyBrokerId {
        cluster: "DefaultCluster".into(),
        broker_name: name.into(),
        id: 1,
        addr: "10.0.0.1:10911".into(),
        check_code: "10.0.0.1:10911;1".into(),
    }
}

fn has_group(n: &RaftNode, name: &str) -> bool {
    n.machine().read().state.group(name).is_some()
}

/// The leader the members agree on, one of `nodes`.
async fn leader_of(nodes: &[&RaftNode]) -> u64 {
    let ids: Vec<u64> = nodes.iter().map(|n| n.id).collect();
    let first = nodes[0]
        .raft
        .wait(WITHIN)
        .metrics(
            |m| m.current_leader.is_some_and(|l| ids.contains(&l)),
            "a leader among the running members",
        )
        .await
        .unwrap();
    let leader = first.current_leader.unwrap();
    for n in &nodes[1..] {
        n.raft
            .wait(WITHIN)
            .current_leader(leader, "every member following the same leader")
            .await
            .unwrap();
    }
    leader
}

/// Waits until `n` applied the entry at `index`.
async fn applied(n: &RaftNode, index: u64) {
    n.raft
        .wait(WITHIN)
        .applied_index_at_least(
            Some(index),
            format!("member {} applying entry {index}", n.id),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_survive_losing_the_leader() {
    let dir = tempfile::tempdir().unwrap();
    let mut addrs = BTreeMap::new();
    let mut listeners = Vec::new();
    for id in 1..=3u64 {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.insert(id, l.local_addr().unwrap().to_string());
        listeners.push(l);
    }
    let mut nodes = Vec::new();
    for (id, l) in (1..=3u64).zip(listeners) {
        nodes.push(
            RaftNode::start(id, &dir.path().join(format!("c{id}")), l, config())
                .await
                .unwrap(),
        );
    }
    let members = addrs
        .iter()
        .map(|(id, a)| (*id, BasicNode { addr: a.clone() }))
        .collect();
    nodes[0].initialize(members).await.unwrap();

    let leader = leader_of(&nodes.iter().collect::<Vec<_>>()).await;
    let resp = nodes[(leader - 1) as usize]
        .raft
        .client_write(register("broker-a"))
        .await
        .unwrap();
    assert_eq!(resp.data, Outcome::Done(Applied::Registered { id: 1 }));
    for n in &nodes {
        applied(n, resp.log_id.index).await;
        assert!(
            has_group(n, "broker-a"),
            "member {} lacks the registration",
            n.id
        );
    }

    // The leader stops; the two others go on deciding.
    let stopped = nodes.remove((leader - 1) as usize);
    stopped.shutdown().await;
    let rest: Vec<&RaftNode> = nodes.iter().collect();
    let new_leader = leader_of(&rest).await;
    assert_ne!(new_leader, leader);
    let node = nodes.iter().find(|n| n.id == new_leader).unwrap();
    let second = node.raft.client_write(register("broker-b")).await.unwrap();
    assert_eq!(second.data, Outcome::Done(Applied::Registered { id: 1 }));

    // Started again from its files, the old leader catches up.
    let back = start(leader, dir.path(), &addrs[&leader]).await;
    applied(&back, second.log_id.index).await;
    assert!(has_group(&back, "broker-a") && has_group(&back, "broker-b"));
    back.shutdown().await;
    for n in nodes {
        n.shutdown().await;
    }
}
