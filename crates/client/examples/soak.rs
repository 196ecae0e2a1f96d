//! The SIGKILL soak (`cargo xtask soak` runs it): a `mqbroker` with SYNC_FLUSH under load from
//! four producers and two push consumers is SIGKILLed at a random moment of every cycle and
//! started again on the same store. After each restart the producers pause and every queue is
//! read back from where the last check stopped:
//!
//! * every acknowledged send is at the queue offset its SendResult named, with its body (lost:
//!   the goal is none);
//! * every offset holds exactly one message and no body is stored twice (producers never
//!   retry, so a second copy would be the broker's doing);
//! * each producer's messages are in the order it sent them, per queue.
//!
//! At the end the consumers must have received every acknowledged message (at least once:
//! redeliveries after a kill are counted, not failures). A failing check stops the run and keeps
//! its directory (stores and logs) for inspection.
//!
//! `--mode 2m-2s-sync` does the same to two SYNC_MASTERs with a slave each, killing the four
//! brokers in turn (master a, slave a, master b, slave b, ...); a send counts as acknowledged
//! only with SEND_OK, which a SYNC_MASTER gives once its slave has the message.
//!
//! ```text
//! RMQ_BIN_DIR=target/release target/release/examples/soak --cycles 100 [--mode 2m-2s-sync]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/collect.rs"]
mod collect;
#[path = "../tests/support/until.rs"]
mod poll;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use parking_lot::Mutex;
use rmq_client::{Admin, Message, Producer, PushConsumer, TopicConfig, TopicTarget};
use rmq_common::record::decode_messages;
use rmq_remoting::header::{pull_sys_flag, PullMessageRequestHeader};
use rmq_remoting::{ClientConfig, RemotingClient, RemotingCommand, RequestCode, ResponseCode};
use rmq_testkit::{broker_process, broker_restart, namesrv_process};

const TOPIC: &str = "SoakTopic";
const QUEUES: i32 = 4;
const PRODUCERS: usize = 4;
const LIMIT: Duration = Duration::from_secs(120);

#[derive(Parser)]
struct Args {
    /// Kill-and-restart cycles.
    #[arg(long, default_value_t = 100)]
    cycles: usize,
    /// Where the stores and logs go (kept when a check fails).
    #[arg(long, default_value = "target/soak")]
    dir: std::path::PathBuf,
    /// Longest load before the kill, ms (each cycle picks a moment up to it).
    #[arg(long, default_value_t = 3000)]
    max_load_ms: u64,
    /// `single` (one SYNC_FLUSH broker) or `2m-2s-sync`.
    #[arg(long, default_value = "single")]
    mode: String,
}

/// One broker of the cluster under test: its name (for a restart) and address, and the broker
/// name of the queues it serves when it is a master.
struct Node {
    name: String,
    daemon: Option<rmq_testkit::Daemon>,
    addr: String,
    master_of: Option<String>,
}

/// Starts the brokers of `mode`, registered with `ns`.
fn start_brokers(run: &std::path::Path, ns: &str, mode: &str) -> Result<Vec<Node>> {
    let node = |name: &str, extra: &str, master_of: Option<&str>| -> Result<Node> {
        let (daemon, addr) = broker_process(run, name, ns, extra)?;
        Ok(Node {
            name: name.to_owned(),
            daemon: Some(daemon),
            addr,
            master_of: master_of.map(str::to_owned),
        })
    };
    match mode {
        "single" => Ok(vec![node(
            "broker-a",
            "flushDiskType=SYNC_FLUSH\n",
            Some("broker-a"),
        )?]),
        "2m-2s-sync" => {
            let mut nodes = Vec::new();
            for group in ["broker-a", "broker-b"] {
                let master = format!(
                    "brokerRole=SYNC_MASTER\nhaListenPort={}\n",
                    rmq_testkit::free_port()
                );
                nodes.push(node(group, &master, Some(group))?);
                let slave = format!(
                    "brokerName={group}\nbrokerId=1\nbrokerRole=SLAVE\nhaListenPort={}\n",
                    rmq_testkit::free_port()
                );
                nodes.push(node(&format!("{group}-s"), &slave, None)?);
            }
            Ok(nodes)
        }
        other => bail!("--mode {other}: expected single or 2m-2s-sync"),
    }
}

/// One acknowledged send.
#[derive(Clone)]
struct Acked {
    producer: usize,
    seq: u64,
    broker: String,
    queue_id: i32,
    offset: i64,
}

fn body(producer: usize, seq: u64) -> String {
    format!("p{producer}-{seq}")
}

fn parse_body(b: &str) -> Option<(usize, u64)> {
    let (p, s) = b.strip_prefix('p')?.split_once('-')?;
    Some((p.parse().ok()?, s.parse().ok()?))
}

/// What the producers share with the cycle loop.
struct Load {
    acked: Mutex<Vec<Acked>>,
    failed: AtomicU64,
    /// Producers send while this is set; each counts itself idle when it has stopped.
    running: AtomicBool,
    idle: AtomicUsize,
    stop: AtomicBool,
}

/// A small xorshift: the kill moments need variety, not cryptography.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        200 + self.0 % max.max(1)
    }
}

async fn produce(p: Producer, id: usize, load: Arc<Load>) {
    let mut seq = 0u64;
    let mut idle = false;
    loop {
        if load.stop.load(Ordering::SeqCst) {
            break;
        }
        if !load.running.load(Ordering::SeqCst) {
            if !idle {
                idle = true;
                load.idle.fetch_add(1, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        if idle {
            idle = false;
            load.idle.fetch_sub(1, Ordering::SeqCst);
        }
        match p.send(Message::new(TOPIC, body(id, seq))).await {
            Ok(r) if r.status == rmq_client::SendStatus::SendOk => load.acked.lock().push(Acked {
                producer: id,
                seq,
                broker: r.message_queue.broker_name.clone(),
                queue_id: r.message_queue.queue_id,
                offset: r.queue_offset,
            }),
            Ok(_) | Err(_) => {
                load.failed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        seq += 1;
    }
    p.shutdown().await;
}

/// Reads `[from, max)` of one queue: `(offset, body)` in offset order.
async fn read_queue(
    c: &RemotingClient,
    broker: &str,
    queue_id: i32,
    from: i64,
) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    let mut offset = from;
    loop {
        let h = PullMessageRequestHeader {
            consumer_group: "SoakVerifier".into(),
            topic: TOPIC.into(),
            queue_id,
            queue_offset: offset,
            max_msg_nums: 32,
            sys_flag: pull_sys_flag::SUBSCRIPTION,
            subscription: Some("*".into()),
            expression_type: Some("TAG".into()),
            ..Default::default()
        };
        let resp = c
            .invoke(
                broker,
                RemotingCommand::request(RequestCode::PullMessage, &h),
                Duration::from_secs(10),
            )
            .await?;
        match ResponseCode::from(resp.code) {
            ResponseCode::Success => {
                let msgs = decode_messages(&resp.body)?;
                if msgs.is_empty() {
                    return Ok(out);
                }
                for m in msgs {
                    offset = m.queue_offset + 1;
                    out.push((
                        m.queue_offset,
                        String::from_utf8_lossy(&m.message.body).into_owned(),
                    ));
                }
            }
            ResponseCode::PullNotFound | ResponseCode::PullRetryImmediately => return Ok(out),
            other => bail!(
                "pulling queue {queue_id} at {offset}: {other:?} {:?}",
                resp.remark
            ),
        }
    }
}

/// What one check found wrong.
#[derive(Default)]
struct Findings {
    lost: Vec<String>,
    gaps: Vec<String>,
    duplicates: Vec<String>,
    disorder: Vec<String>,
}

impl Findings {
    fn ok(&self) -> bool {
        self.lost.is_empty()
            && self.gaps.is_empty()
            && self.duplicates.is_empty()
            && self.disorder.is_empty()
    }
}

/// A queue: its broker name and id.
type Queue = (String, i32);

/// The stored state of the queues the checks have read so far.
#[derive(Default)]
struct Stored {
    /// Next offset to read, per queue.
    next: BTreeMap<Queue, i64>,
    /// Body by (queue, offset).
    at: HashMap<(Queue, i64), String>,
    /// Every body seen.
    bodies: HashSet<String>,
    /// Last sequence seen per (queue, producer).
    last_seq: HashMap<(Queue, usize), u64>,
}

/// Reads every queue of every master from where the last check stopped, then looks for every
/// acknowledged send at its offset.
async fn check(
    c: &RemotingClient,
    masters: &[(String, String)],
    stored: &mut Stored,
    acked: &[Acked],
) -> Result<Findings> {
    let mut f = Findings::default();
    for (name, addr) in masters {
        for q in 0..QUEUES {
            let queue: Queue = (name.clone(), q);
            let from = *stored.next.get(&queue).unwrap_or(&0);
            let mut expect = from;
            for (offset, b) in read_queue(c, addr, q, from).await? {
                if offset != expect {
                    f.gaps.push(format!(
                        "{name} queue {q}: offset {expect} missing, next is {offset}"
                    ));
                }
                expect = offset + 1;
                if !stored.bodies.insert(b.clone()) {
                    f.duplicates.push(format!(
                        "{name} queue {q} offset {offset}: {b} stored twice"
                    ));
                }
                if let Some((p, seq)) = parse_body(&b) {
                    match stored.last_seq.insert((queue.clone(), p), seq) {
                        Some(last) if seq <= last => f.disorder.push(format!(
                            "{name} queue {q} offset {offset}: producer {p} seq {seq} after {last}"
                        )),
                        _ => {}
                    }
                }
                stored.at.insert((queue.clone(), offset), b);
            }
            stored.next.insert(queue, expect);
        }
    }
    for a in acked {
        let want = body(a.producer, a.seq);
        let at = format!("{} queue {} offset {}", a.broker, a.queue_id, a.offset);
        match stored.at.get(&((a.broker.clone(), a.queue_id), a.offset)) {
            Some(b) if *b == want => {}
            Some(b) => f
                .lost
                .push(format!("{want} acknowledged at {at}, which holds {b}")),
            None => f
                .lost
                .push(format!("{want} acknowledged at {at}, which is not there")),
        }
    }
    Ok(f)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    if std::env::var_os("RMQ_BIN_DIR").is_none() {
        bail!("set RMQ_BIN_DIR to the directory of mqnamesrv and mqbroker (cargo xtask soak does)");
    }
    let run = args.dir.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&run).with_context(|| format!("creating {}", run.display()))?;
    let (_ns, ns) = namesrv_process(&run, "namesrv")?;
    let mut nodes = start_brokers(&run, &ns, &args.mode)?;
    let masters: Vec<(String, String)> = nodes
        .iter()
        .filter_map(|n| Some((n.master_of.clone()?, n.addr.clone())))
        .collect();
    let admin = Admin::builder().name_server(&ns).build().await?;
    poll::until_within(LIMIT, "the topic is routed to every master", || async {
        admin
            .create_topic(
                TopicTarget::Cluster("DefaultCluster".into()),
                &TopicConfig::new(TOPIC, QUEUES, QUEUES, 6),
            )
            .await
            .ok()?;
        let route = admin.topic_route(TOPIC).await.ok()?;
        (route.queue_datas.len() == masters.len()).then_some(())
    })
    .await;

    let load = Arc::new(Load {
        acked: Mutex::default(),
        failed: AtomicU64::new(0),
        running: AtomicBool::new(true),
        idle: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let mut producers = Vec::new();
    for id in 0..PRODUCERS {
        let p = Producer::builder()
            .group("SoakProducers")
            .name_server(&ns)
            .retry_times_when_send_failed(0)
            .build()
            .await?;
        producers.push(tokio::spawn(produce(p, id, load.clone())));
    }
    let mut consumers = Vec::new();
    for _ in 0..2 {
        consumers.push(
            collect::collecting(
                PushConsumer::builder()
                    .group("SoakConsumers")
                    .name_server(&ns)
                    .subscribe(TOPIC, "*"),
            )
            .await,
        );
    }

    let mut stored = Stored::default();
    let mut moments = Moments(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos() as u64
            | 1,
    );
    let started = Instant::now();
    println!(
        "soak: {} cycles of SIGKILL under load ({}, {PRODUCERS} producers, 2 consumers), in {}",
        args.cycles,
        args.mode,
        run.display()
    );
    let nodes_len = nodes.len();
    for cycle in 1..=args.cycles {
        load.running.store(true, Ordering::SeqCst);
        let before = load.acked.lock().len();
        let after_ms = moments.next_ms(args.max_load_ms);
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        let node = &mut nodes[(cycle - 1) % nodes_len];
        if let Some(d) = node.daemon.take() {
            d.kill()?;
        }
        let restarted = Instant::now();
        node.daemon = Some(broker_restart(&run, &node.name, &ns, &node.addr)?);
        let restart_ms = restarted.elapsed().as_millis();
        let killed = node.name.clone();
        // Let the producers find the broker again (a send acknowledged after the restart), then
        // pause them for the check.
        let acked_at_restart = load.acked.lock().len();
        poll::until_within(
            LIMIT,
            "a send is acknowledged after the restart",
            || async { (load.acked.lock().len() > acked_at_restart).then_some(()) },
        )
        .await;
        load.running.store(false, Ordering::SeqCst);
        poll::until_within(LIMIT, "the producers pause", || async {
            (load.idle.load(Ordering::SeqCst) == PRODUCERS).then_some(())
        })
        .await;
        let acked = load.acked.lock().clone();
        // A fresh connection: the last one died with the broker.
        let verifier = RemotingClient::new(ClientConfig::default());
        let findings = check(&verifier, &masters, &mut stored, &acked).await?;
        println!(
            "cycle {cycle}/{}: {killed} killed after {after_ms} ms; {} acknowledged (+{}), {} \
             sends failed so far; restart {restart_ms} ms; {}",
            args.cycles,
            acked.len(),
            acked.len() - before,
            load.failed.load(Ordering::Relaxed),
            if findings.ok() {
                "all there, once, in order"
            } else {
                "FAILED"
            }
        );
        if !findings.ok() {
            for line in findings
                .lost
                .iter()
                .chain(&findings.gaps)
                .chain(&findings.duplicates)
                .chain(&findings.disorder)
                .take(20)
            {
                println!("  {line}");
            }
            println!(
                "soak FAILED at cycle {cycle}; stores and logs kept in {}",
                run.display()
            );
            std::process::exit(1);
        }
    }

    // The consumers must end up with every acknowledged message.
    load.running.store(true, Ordering::SeqCst);
    load.stop.store(true, Ordering::SeqCst);
    for p in producers {
        p.await?;
    }
    let acked = load.acked.lock().clone();
    let wanted: HashSet<String> = acked.iter().map(|a| body(a.producer, a.seq)).collect();
    let missing = poll::poll_within(LIMIT, || async {
        let mut seen = HashSet::new();
        let mut total = 0;
        for (_, got) in &consumers {
            let got = got.lock();
            total += got.len();
            seen.extend(got.iter().cloned());
        }
        let missing = wanted.difference(&seen).count();
        (missing == 0).then_some(total)
    })
    .await;
    for (c, _) in &consumers {
        c.shutdown().await;
    }
    admin.shutdown().await;
    let Some(received) = missing else {
        println!(
            "soak FAILED: the consumers never received every acknowledged message; kept in {}",
            run.display()
        );
        std::process::exit(1);
    };
    println!(
        "soak passed: {} cycles in {:.0} s; {} acknowledged, none lost, none stored twice, \
         in order; consumers received {} ({} beyond the acknowledged: redeliveries after kills \
         and sends stored but never acknowledged)",
        args.cycles,
        started.elapsed().as_secs_f64(),
        acked.len(),
        received,
        received - wanted.len()
    );
    for node in nodes {
        if let Some(d) = node.daemon {
            d.terminate(Duration::from_secs(30))?;
        }
    }
    std::fs::remove_dir_all(&run).ok();
    Ok(())
}
