//! Recovery time of controller mode (`cargo xtask rto` runs it on a release build; needs root
//! for network namespaces). Each run starts a fresh group the way
//! `crates/client/tests/controller_netns.rs` does (`tests/support/netns_group.rs`: each broker
//! in its own network namespace, three `mqcontroller`s and a `mqnamesrv` on the bridge, four
//! producers with SYNC sends and `allAckInSyncStateSet=true`, two push consumers), makes one
//! fault and records the time from the fault to the first send acknowledged *and stored by* the
//! new master (the broker named in the offset message id, so an answer from the old master
//! to a send already in flight is never counted). Each fault `--runs` times; prints median
//! and max per fault.
//!
//! ```text
//! RMQ_BIN_DIR=target/release target/release/examples/failover_rto --runs 10 [--fault cut]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/until.rs"]
mod poll;

#[path = "../tests/support/netns_group.rs"]
mod netns_group;

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use netns_group::{Group, Load};
use rmq_testkit::test_dir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Kill,
    Cut,
    KillWithLeader,
    Stop,
    Lagging,
}

const FAULTS: [Fault; 5] = [
    Fault::Kill,
    Fault::Cut,
    Fault::KillWithLeader,
    Fault::Stop,
    Fault::Lagging,
];

impl Fault {
    fn key(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Cut => "cut",
            Fault::KillWithLeader => "kill-with-leader",
            Fault::Stop => "stop",
            Fault::Lagging => "lagging",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Fault::Kill => "master SIGKILL",
            Fault::Cut => "master cut off (network namespace)",
            Fault::KillWithLeader => "master + controller leader SIGKILL",
            Fault::Stop => "master stopped (SIGTERM, as in a rolling restart)",
            Fault::Lagging => {
                "master SIGKILL, slave lagging outside the SyncStateSet (not elected; the master restarted at once)"
            }
        }
    }
}

/// One run: a fresh group, the fault, the recovery time.
async fn run_once(fault: Fault) -> Duration {
    let dir = test_dir("rmq-rto");
    let mut g = Group::start(dir.path(), 2, "", "").await;
    let load = Load::start(&g).await;
    load.wait_more_acks(200, "sends acknowledged before the fault")
        .await;
    let (fault_at, new_master) = match fault {
        Fault::Kill => {
            g.kill_broker(0);
            (Instant::now(), 1)
        }
        Fault::Cut => {
            g.net.cut(0).unwrap();
            (Instant::now(), 1)
        }
        Fault::KillWithLeader => {
            let leader = g.controller_leader().await;
            g.kill_broker(0);
            g.kill_controller(leader);
            (Instant::now(), 1)
        }
        Fault::Stop => {
            g.stop_broker(0);
            (Instant::now(), 1)
        }
        Fault::Lagging => {
            let at = g.kill_master_behind_lagging_slave(&load).await;
            g.start_broker(0);
            (at, 0)
        }
    };
    let rto = load.recovery(&g.addrs[new_master], fault_at).await;
    load.shutdown().await;
    g.shutdown().await;
    rto
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let runs: usize = arg("--runs").map_or(Ok(10), |v| v.parse())?;
    let faults: Vec<Fault> = match arg("--fault") {
        None => FAULTS.to_vec(),
        Some(k) => match FAULTS.iter().find(|f| f.key() == k) {
            Some(f) => vec![*f],
            None => bail!(
                "unknown --fault {k:?}; one of: {}",
                FAULTS.map(Fault::key).join(", ")
            ),
        },
    };
    let mut table = Vec::new();
    for fault in faults {
        let mut times = Vec::new();
        for n in 1..=runs.max(1) {
            let t = run_once(fault).await;
            eprintln!("{} run {n}/{runs}: {:.2} s", fault.name(), t.as_secs_f64());
            times.push(t);
        }
        times.sort();
        table.push((fault, times[times.len() / 2], times[times.len() - 1]));
    }
    println!("| fault | runs | median | max |");
    println!("|---|---|---|---|");
    for (fault, median, max) in table {
        println!(
            "| {} | {runs} | {:.2} s | {:.2} s |",
            fault.name(),
            median.as_secs_f64(),
            max.as_secs_f64()
        );
    }
    Ok(())
}
