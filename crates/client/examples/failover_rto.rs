//! Recovery time of controller mode (`cargo xtask rto` runs it on a release build): three
//! `mqcontroller`s, one `mqnamesrv` and a group of two `mqbroker`s on this machine; a producer
//! sends without pause (one message in flight); a fault is made and the time from the fault to
//! the first send taken by the new master is recorded. Each fault `--runs` times, on a fresh
//! cluster each time; prints median and max per fault.
//!
//! Faults: `master` (the master SIGKILLed) and `master+leader` (the master and the controller
//! leader SIGKILLed together). Until the SyncStateSet lands the controllers run with
//! `enableElectUncleanMaster=true` (see docs/operations.md).
//!
//! ```text
//! RMQ_BIN_DIR=target/release cargo run --release -p rmq-client --example failover_rto -- --runs 10
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use parking_lot::Mutex;
use rmq_client::{Admin, Message, Producer, TopicConfig, TopicTarget};
use rmq_remoting::header::GetMetaDataResponseHeader;
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode};
use rmq_testkit::{broker_process, controller_group, namesrv_process, test_dir, Daemon};

const TOPIC: &str = "RtoTopic";
/// The brokers' `controllerHeartBeatTimeoutMills`: how long a dead master goes unnoticed.
const HEARTBEAT_TIMEOUT_MS: u64 = 2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Master,
    MasterAndLeader,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Master => "master SIGKILL",
            Fault::MasterAndLeader => "master + controller leader SIGKILL",
        }
    }
}

async fn wait<T, F, Fut>(what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!("never: {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn master_of(admin: &Admin) -> Option<String> {
    let info = admin.cluster_info().await.ok()?;
    info.broker_addr_table
        .get("broker-a")?
        .broker_addrs
        .get(&0)
        .cloned()
}

async fn controller_leader(controllers: &[String]) -> Option<String> {
    let client = RemotingClient::new(ClientConfig::default());
    let mut leader = None;
    for c in controllers {
        let req = RemotingCommand::new_request(RequestCode::ControllerGetMetadataInfo);
        if let Ok(resp) = client.invoke(c, req, Duration::from_secs(2)).await {
            if let Ok(h) = resp.decode_header::<GetMetaDataResponseHeader>() {
                leader = h.controller_leader_address.filter(|a| !a.is_empty());
                if leader.is_some() {
                    break;
                }
            }
        }
    }
    client.shutdown().await;
    leader
}

/// One run: a fresh cluster, the fault, the recovery time.
async fn run_once(fault: Fault, dir: &Path) -> Result<Duration> {
    let mut group = controller_group(
        dir,
        3,
        "scanInactiveMasterInterval=200\nenableElectUncleanMaster=true",
    )?;
    let controllers: Vec<String> = group.iter().map(|(_, a)| a.clone()).collect();
    let (_ns_d, ns) = namesrv_process(dir, "namesrv")?;
    let props = format!(
        "enableControllerMode=true\ncontrollerAddr={}\ncontrollerHeartBeatTimeoutMills={HEARTBEAT_TIMEOUT_MS}\n\
         brokerHeartbeatInterval=300\nsyncBrokerMetadataPeriod=1000",
        controllers.join(";")
    );
    let mut brokers: BTreeMap<String, Daemon> = BTreeMap::new();
    for r in ["a", "b"] {
        let d = dir.join(r);
        std::fs::create_dir_all(&d)?;
        let (daemon, addr) = broker_process(&d, "broker-a", &ns, &props)?;
        brokers.insert(addr, daemon);
    }
    let admin = Admin::builder().name_server(&ns).build().await?;
    let master = wait("a master", || master_of(&admin)).await?;
    admin
        .create_topic(
            TopicTarget::Broker(master.clone()),
            &TopicConfig::new(TOPIC, 4, 4, 6),
        )
        .await?;
    wait("the topic routed", || async {
        admin.topic_route(TOPIC).await.ok()
    })
    .await?;
    // Both replicas in the group before the fault.
    wait("the slave registered", || async {
        let info = admin.cluster_info().await.ok()?;
        (info.broker_addr_table.get("broker-a")?.broker_addrs.len() == 2).then_some(())
    })
    .await?;

    let producer = Producer::builder()
        .group("PG-rto")
        .name_server(&ns)
        .send_timeout(Duration::from_secs(1))
        .build()
        .await?;
    let stop = Arc::new(AtomicBool::new(false));
    // (started, answered) of every send taken.
    let ok_at: Arc<Mutex<Vec<(Instant, Instant)>>> = Arc::default();
    let sender = {
        let (stop, ok_at, producer) = (stop.clone(), ok_at.clone(), producer.clone());
        tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let started = Instant::now();
                if producer
                    .send(Message::new(TOPIC, format!("m-{i}")))
                    .await
                    .is_ok()
                {
                    ok_at.lock().push((started, Instant::now()));
                } else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };
    wait("sends flowing", || async {
        (ok_at.lock().len() > 20).then_some(())
    })
    .await?;

    let leader = controller_leader(&controllers).await;
    let fault_at = Instant::now();
    if let Some(d) = brokers.remove(&master) {
        d.kill()?;
    }
    if fault == Fault::MasterAndLeader {
        let leader = leader.context("no controller leader to kill")?;
        let i = controllers
            .iter()
            .position(|c| *c == leader)
            .context("leader not listed")?;
        group.remove(i).0.kill()?;
    }
    // The first send started after the fault (one in flight at the fault may still have
    // been answered by the old master) that was taken: by the new master.
    let recovered = wait("a send taken by the new master", || async {
        ok_at
            .lock()
            .iter()
            .find(|(started, _)| *started > fault_at)
            .map(|(_, done)| *done)
    })
    .await?;
    stop.store(true, Ordering::Relaxed);
    let _ = sender.await;
    producer.shutdown().await;
    admin.shutdown().await;
    Ok(recovered - fault_at)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let runs = arg("--runs", 10).max(1);
    let mut table = Vec::new();
    for fault in [Fault::Master, Fault::MasterAndLeader] {
        let mut times = Vec::new();
        for n in 1..=runs {
            let dir = test_dir("rmq-rto");
            let t = run_once(fault, dir.path())
                .await
                .with_context(|| format!("{} run {n}", fault.name()))?;
            eprintln!("{} run {n}/{runs}: {:.2} s", fault.name(), t.as_secs_f64());
            times.push(t);
        }
        times.sort();
        let median = times[times.len() / 2];
        let max = times[times.len() - 1];
        table.push((fault, median, max));
    }
    println!(
        "| fault (controllerHeartBeatTimeoutMills={HEARTBEAT_TIMEOUT_MS}) | runs | median | max |"
    );
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
