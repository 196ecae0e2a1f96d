//! Three controllers' Raft members over real TCP on loopback, with their logs on disk: a
//! command written through the leader is applied by all three; with the leader stopped the
//! other two elect a new one and keep deciding; the stopped member, started again from its
//! files, catches up.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::future::Future;
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

async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn start(id: u64, dir: &Path, addr: &str) -> RaftNode {
    let listener = TcpListener::bind(addr).await.unwrap();
    RaftNode::start(id, &dir.join(format!("c{id}")), listener, config())
        .await
        .unwrap()
}

fn register(name: &str) -> Command {
    Command::Register {
        cluster: "DefaultCluster".into(),
        broker_name: name.into(),
        addr: "10.0.0.1:10911".into(),
        known_id: None,
    }
}

fn has_group(n: &RaftNode, name: &str) -> bool {
    n.machine().read().state.group(name).is_some()
}

async fn leader_of(nodes: &[&RaftNode]) -> u64 {
    let mut leader = None;
    wait_until("a leader all members agree on", || {
        let seen: Vec<Option<u64>> = nodes.iter().map(|n| n.leader()).collect();
        leader = seen[0].filter(|l| nodes.iter().any(|n| n.id == *l));
        let agreed = leader.is_some() && seen.iter().all(|s| *s == leader);
        async move { agreed }
    })
    .await;
    leader.unwrap()
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
    wait_until("every member applied the registration", || {
        let all = nodes.iter().all(|n| has_group(n, "broker-a"));
        async move { all }
    })
    .await;

    // The leader stops; the two others go on deciding.
    let stopped = nodes.remove((leader - 1) as usize);
    stopped.shutdown().await;
    let rest: Vec<&RaftNode> = nodes.iter().collect();
    let new_leader = leader_of(&rest).await;
    assert_ne!(new_leader, leader);
    let node = nodes.iter().find(|n| n.id == new_leader).unwrap();
    let resp = node.raft.client_write(register("broker-b")).await.unwrap();
    assert_eq!(resp.data, Outcome::Done(Applied::Registered { id: 1 }));

    // Started again from its files, the old leader catches up.
    let back = start(leader, dir.path(), &addrs[&leader]).await;
    wait_until("the restarted member caught up", || {
        let ok = has_group(&back, "broker-a") && has_group(&back, "broker-b");
        async move { ok }
    })
    .await;
    back.shutdown().await;
    for n in nodes {
        n.shutdown().await;
    }
}
