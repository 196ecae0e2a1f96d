//! Scale and storms (the reliability programme): one `mqbroker` (and its `mqnamesrv`) started
//! here, taken to a size in three phases, each checked and with the broker's anonymous memory
//! (`RssAnon` of `/proc/<pid>/status`) recorded before and at that size:
//!
//! * `connections`: `--connections` TCP connections (default 10,000), each a client with its own
//!   client id that registers a producer group and a consumer group (`--groups` of each, clients
//!   spread over them) subscribing to one topic with `*`. Every connection sends HEART_BEAT and
//!   must get SUCCESS, then a second round over the same connections (none may have been closed
//!   or replaced). The broker must list one group's expected consumers and producers. Then all
//!   close and every consumer group must disappear from the broker (CONSUMER_NOT_ONLINE).
//! * `queues`: `--topics` topics holding `--queues` queues in all (default 500 x 100 = 50,000),
//!   one message sent to every queue; every topic's stats must show max offset 1 on each queue.
//!   The broker's mapping count (`/proc/<pid>/maps` lines) is recorded too: every consume-queue
//!   file is one mapping (the store closes a file's descriptor once it is mapped).
//! * `pulls`: long-polling pulls on one empty queue, `--pulls` of them (default the broker's
//!   held-pull bound + 1,000) over `--pull-connections` connections. The first bound's worth must
//!   all be held; every pull past the bound must be answered at once with PULL_NOT_FOUND; after
//!   one message is sent to the queue every held pull must be answered FOUND before any hold
//!   could have expired.
//!
//! Each phase prints a line as it ends; at the end a markdown table of all of them (for
//! docs/reliability.md). A failed check ends the run with an error naming it (non-zero exit) and
//! keeps the run's directory (store and logs). Every wait polls for a fact with a limit; every
//! request has a timeout; each phase is bounded by `--phase-limit-secs`.
//!
//! Each daemon raises its open-file soft limit to the hard limit at start (as the JVM does for
//! Apache's); this process does the same before starting them. 10,000 connections need about
//! 11,000 files on each side; 50,000 queues need `vm.max_map_count` above the mapping count.
//!
//! ```text
//! RMQ_BIN_DIR=target/release target/release/examples/scale --phase all
//! RMQ_BIN_DIR=target/release target/release/examples/scale --phase queues --queues 20000 --topics 200
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/until.rs"]
mod poll;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, ValueEnum};
use futures::stream::{self, StreamExt, TryStreamExt};
use parking_lot::Mutex;
use rmq_client::{Admin, Message, MessageQueue, Producer, SendStatus, TopicConfig, TopicTarget};
use rmq_remoting::body::{
    Connection, ConsumeFromWhere, ConsumeType, ConsumerData, HeartbeatData, JsonBody, MessageModel,
    ProducerData, SubscriptionData, SubscriptionGroupConfig,
};
use rmq_remoting::header::{pull_sys_flag, PullMessageRequestHeader};
use rmq_remoting::{
    ClientConfig, ConnectionHandle, RemotingClient, RemotingCommand, RequestCode, ResponseCode,
    ServerConfig,
};
use rmq_testkit::{broker_process, namesrv_process};
use tokio::task::JoinSet;

/// Timeout of one request (a held pull: its hold plus this).
const RPC: Duration = Duration::from_secs(30);
/// Longest wait for one fact (a route, the broker's view after a change).
const LIMIT: Duration = Duration::from_secs(120);
/// Consume-queue file size given to the broker: 300 entries of 20 bytes, so 50,000 queues map
/// 50,000 small files (the store rounds the size up to a multiple of 20; 6,000 is one).
const CQ_FILE_SIZE: usize = 6_000;
/// `MAX_HELD_PULLS` in crates/broker/src/broker.rs: a constant, not a broker config key.
const HELD_PULL_BOUND: usize = 16_384;
/// Files and mappings left for what the broker or this process has besides the phase's own.
const SPARE: u64 = 1_000;
/// A pull past the bound counts as answered "at once" within this.
const AT_ONCE: Duration = Duration::from_secs(5);
/// Held pulls must all be answered this long before the earliest hold could expire.
const HOLD_MARGIN: Duration = Duration::from_secs(5);

const CONN_TOPIC: &str = "ScaleConnTopic";
const PULL_TOPIC: &str = "ScalePullTopic";
const PULL_GROUP: &str = "ScalePullGroup";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    Connections,
    Queues,
    Pulls,
    All,
}

#[derive(Parser)]
struct Args {
    /// Which phase to run (`all`: connections, queues, pulls in turn, on one broker).
    #[arg(long, value_enum, default_value_t = Phase::All)]
    phase: Phase,
    /// Client connections, each sending heartbeats with its own client id.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Producer groups and consumer groups the clients are spread over.
    #[arg(long, default_value_t = 100)]
    groups: usize,
    /// Connections opened (and heartbeats sent) at once.
    #[arg(long, default_value_t = 500)]
    concurrency: usize,
    /// Queues in all (queues per topic = queues / topics).
    #[arg(long, default_value_t = 50_000)]
    queues: usize,
    /// Topics the queues are spread over.
    #[arg(long, default_value_t = 500)]
    topics: usize,
    /// Long-polling pulls to open (default: the held-pull bound + 1,000).
    #[arg(long)]
    pulls: Option<usize>,
    /// The broker's bound on held pulls (`MAX_HELD_PULLS`, not configurable).
    #[arg(long, default_value_t = HELD_PULL_BOUND)]
    held_bound: usize,
    /// Connections the pulls are spread over.
    #[arg(long, default_value_t = 200)]
    pull_connections: usize,
    /// `suspendTimeoutMillis` of the pulls.
    #[arg(long, default_value_t = 60_000)]
    hold_ms: u64,
    /// Fail a phase whose broker RssAnon at size exceeds this (MiB).
    #[arg(long)]
    max_rss_anon_mib: Option<u64>,
    /// Longest any one phase may take, seconds.
    #[arg(long, default_value_t = 900)]
    phase_limit_secs: u64,
    /// Where the store and logs go (kept when a check fails).
    #[arg(long, default_value = "target/scale")]
    dir: PathBuf,
}

/// The broker under test.
struct Broker {
    pid: u32,
    addr: String,
}

/// One phase's result: one line of the table.
struct Row {
    phase: &'static str,
    size: String,
    checked: String,
    /// Units the size counts (connections, queues, held pulls), for the memory per unit.
    units: usize,
    before_kib: u64,
    at_size_kib: u64,
    /// After the phase released what it built (connections closed, pulls answered).
    after_kib: Option<u64>,
    /// Broker mappings before and at size.
    maps: Option<(usize, usize)>,
}

impl Row {
    fn per_unit_bytes(&self) -> i64 {
        let delta = self.at_size_kib as i64 - self.before_kib as i64;
        delta * 1024 / self.units.max(1) as i64
    }

    fn line(&self) -> String {
        let after = self
            .after_kib
            .map_or(String::new(), |a| format!(", {a} KiB after release"));
        let maps = self
            .maps
            .map_or(String::new(), |(b, a)| format!("; mappings {b} -> {a}"));
        format!(
            "{}: {}; {}; broker RssAnon {} -> {} KiB ({} B per unit){after}{maps}",
            self.phase,
            self.size,
            self.checked,
            self.before_kib,
            self.at_size_kib,
            self.per_unit_bytes()
        )
    }

    fn markdown(&self) -> String {
        let after = self.after_kib.map_or("-".to_owned(), |a| a.to_string());
        let maps = self
            .maps
            .map_or("-".to_owned(), |(b, a)| format!("{b} -> {a}"));
        format!(
            "| {} | {} | {} | {} | {} | {} | {after} | {maps} |",
            self.phase,
            self.size,
            self.checked,
            self.before_kib,
            self.at_size_kib,
            self.per_unit_bytes()
        )
    }
}

fn print_table(rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "| phase | size | checked | broker RssAnon before (KiB) | at size (KiB) | per unit (B) \
         | after release (KiB) | broker mappings before -> at size |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!("{}", r.markdown());
    }
}

// ---------------------------------------------------------------------------------------------
// /proc and limits

/// `RssAnon` of a process, KiB.
fn rss_anon_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no RssAnon line in {path}"))
}

/// Mappings of a process (lines of `/proc/<pid>/maps`).
fn map_count(pid: u32) -> Result<usize> {
    let path = format!("/proc/{pid}/maps");
    let maps = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    Ok(maps.lines().count())
}

/// Files a process has open.
fn open_files(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/fd");
    Ok(std::fs::read_dir(&path)
        .with_context(|| format!("listing {path}"))?
        .count() as u64)
}

/// The soft "Max open files" of a process; `None` when unlimited.
fn open_files_limit(pid: u32) -> Result<Option<u64>> {
    let path = format!("/proc/{pid}/limits");
    let limits = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let soft = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .with_context(|| format!("no \"Max open files\" line in {path}"))?;
    if soft == "unlimited" {
        return Ok(None);
    }
    soft.parse()
        .map(Some)
        .with_context(|| format!("bad \"Max open files\" value {soft:?} in {path}"))
}

/// Fails unless the broker may open `need` files in all.
fn require_broker_files(b: &Broker, need: u64, what: &str) -> Result<()> {
    if let Some(limit) = open_files_limit(b.pid)? {
        if limit < need {
            bail!(
                "the broker (pid {}) may open {limit} files; {what} need about {need}: raise the \
                 hard open-file limit (ulimit -Hn, limits.conf) of the shell that runs scale \
                 (the broker inherits it)",
                b.pid
            );
        }
    }
    Ok(())
}

/// Raises this process's RLIMIT_NOFILE soft limit to the hard limit (before the daemons start,
/// so they inherit it); returns the soft limit now in force.
fn raise_open_files_limit() -> Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes one `rlimit` into `lim`, which we own and pass by a valid
    // pointer; no other memory is touched.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error()).context("getrlimit(RLIMIT_NOFILE)");
    }
    let mut want = lim.rlim_max;
    if want == libc::RLIM_INFINITY {
        // The kernel refuses an unlimited RLIMIT_NOFILE; nr_open is the most it allows.
        want = std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1 << 20);
    }
    if lim.rlim_cur < want {
        lim.rlim_cur = want;
        // SAFETY: setrlimit(2) reads one `rlimit` from `lim`, which we own; raising the soft
        // limit up to the hard limit needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(std::io::Error::last_os_error())
                .context("setrlimit(RLIMIT_NOFILE) to the hard limit");
        }
    }
    Ok(lim.rlim_cur)
}

/// Local ports the kernel hands out for outgoing connections.
fn ephemeral_ports() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|w| w.parse::<usize>().ok());
            let low = it.next()??;
            let high = it.next()??;
            Some(high.saturating_sub(low) + 1)
        })
        .unwrap_or(28_232)
}

/// `vm.max_map_count`: mappings a process may have.
fn max_map_count() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

// ---------------------------------------------------------------------------------------------
// Raw client connections

/// One client connection of its own: a `RemotingClient` keeps one connection per address, so
/// each simulated client has its own client (and so its own TCP connection). Requests go over
/// the connection handle itself, so a connection the broker closed fails the request instead of
/// being replaced by a new one.
struct Conn {
    client: RemotingClient,
    handle: ConnectionHandle,
}

impl Conn {
    async fn open(addr: &str) -> Result<Conn> {
        let client = RemotingClient::new(ClientConfig {
            connect_timeout: Duration::from_secs(10),
            // The phases decide when connections close, not an idle timer.
            idle_timeout: None,
            ..ClientConfig::default()
        });
        let handle = client
            .connection(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        Ok(Conn { client, handle })
    }

    async fn call(&self, req: RemotingCommand) -> Result<RemotingCommand> {
        let code = RequestCode::from(req.code);
        self.handle
            .invoke(req, RPC)
            .await
            .with_context(|| format!("{code} over {}", self.handle.peer_addr()))
    }

    async fn close(self) {
        self.client.shutdown().await;
    }
}

/// Requires SUCCESS.
fn success(resp: &RemotingCommand, what: &str) -> Result<()> {
    if !resp.is_success() {
        bail!(
            "{what}: answered {} {:?}",
            ResponseCode::from(resp.code),
            resp.remark
        );
    }
    Ok(())
}

fn consumer_group(g: usize) -> String {
    format!("ScaleGroup{g:03}")
}

fn producer_group(g: usize) -> String {
    format!("ScaleProducer{g:03}")
}

fn client_id(i: usize) -> String {
    format!("127.0.0.1@scale{}-{i}", std::process::id())
}

/// HEART_BEAT of client `i`: a producer group and a consumer group subscribing to one topic.
fn heartbeat_request(i: usize, groups: usize) -> RemotingCommand {
    let g = i % groups;
    let data = HeartbeatData {
        client_id: client_id(i),
        consumer_data_set: vec![ConsumerData {
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            consume_type: ConsumeType::ConsumePassively,
            group_name: consumer_group(g),
            message_model: MessageModel::Clustering,
            subscription_data_set: vec![SubscriptionData {
                sub_string: "*".into(),
                sub_version: 1,
                topic: CONN_TOPIC.into(),
                ..SubscriptionData::default()
            }],
            unit_mode: false,
        }],
        heartbeat_fingerprint: 0,
        producer_data_set: vec![ProducerData {
            group_name: producer_group(g),
        }],
        without_sub: false,
    };
    RemotingCommand::new_request(RequestCode::HeartBeat).with_body(data.to_json_bytes())
}

async fn heartbeat(c: &Conn, i: usize, groups: usize) -> Result<()> {
    let resp = c
        .call(heartbeat_request(i, groups))
        .await
        .with_context(|| format!("client {i}"))?;
    success(&resp, &format!("client {i}: HEART_BEAT"))
}

/// Requires the broker to list exactly `expect` members of `group`, with the client ids `want`.
fn check_members(
    kind: &str,
    group: &str,
    listed: &BTreeSet<Connection>,
    want: &BTreeSet<String>,
    expect: usize,
) -> Result<()> {
    let ids: BTreeSet<String> = listed.iter().map(|c| c.client_id.clone()).collect();
    if ids != *want || listed.len() != expect {
        bail!(
            "{group} lists {} {kind} ({} of them ours), expected {expect}",
            listed.len(),
            ids.intersection(want).count()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Phase: connections

async fn connections(args: &Args, b: &Broker, admin: &Admin) -> Result<Row> {
    let n = args.connections;
    if n == 0 {
        bail!("--connections must be positive");
    }
    let groups = args.groups.clamp(1, n);
    // The broker builds its remoting server with `..ServerConfig::default()`, so this cap is its
    // own: a connection past it waits in the accept backlog, unanswered.
    let cap = ServerConfig::default().max_connections;
    if n > cap {
        bail!(
            "--connections {n}: the broker serves at most {cap} connections at once (the \
             remoting server's max_connections, not a broker config key)"
        );
    }
    let need = n as u64 + SPARE;
    if let Some(ours) = open_files_limit(std::process::id())? {
        if ours < need {
            bail!(
                "this process may open {ours} files; {n} connections need about {need}: raise \
                 the hard open-file limit (ulimit -Hn)"
            );
        }
    }
    require_broker_files(b, need + open_files(b.pid)?, &format!("{n} connections"))?;
    let ports = ephemeral_ports();
    if ports < n + SPARE as usize {
        bail!("only {ports} ephemeral ports (net.ipv4.ip_local_port_range) for {n} connections");
    }
    let concurrency = args.concurrency.max(1);
    let before = rss_anon_kib(b.pid)?;
    println!(
        "connections: opening {n}, clients spread over {groups} producer and {groups} consumer \
         groups, {concurrency} at a time"
    );

    // Round one: connect, register. Every connection (and so the broker's view of its client)
    // is kept with the client's index.
    let addr = b.addr.as_str();
    let started = Instant::now();
    let clients: Vec<(usize, Conn)> = stream::iter(0..n)
        .map(|i| async move {
            let c = Conn::open(addr)
                .await
                .with_context(|| format!("client {i}"))?;
            heartbeat(&c, i, groups).await.with_context(|| {
                format!(
                    "registering client {i} (the broker serves at most {cap} connections at \
                     once, any other connection to it included)"
                )
            })?;
            Ok::<_, anyhow::Error>((i, c))
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    let round_one = started.elapsed();

    // Round two over the same connections: all of them are still served.
    let started = Instant::now();
    stream::iter(&clients)
        .map(|(i, c)| async move {
            if c.handle.is_closed() {
                bail!("client {i}: its connection was closed before the second heartbeat");
            }
            heartbeat(c, *i, groups).await
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await
        .with_context(|| {
            format!(
                "second heartbeat round (round one took {:.1} s; the broker closes clients \
                 silent for channelExpiredTimeout, 120 s by default)",
                round_one.as_secs_f64()
            )
        })?;
    let round_two = started.elapsed();
    let closed = clients.iter().filter(|(_, c)| c.handle.is_closed()).count();
    if closed > 0 {
        bail!("{closed} connections closed during the second heartbeat round");
    }

    // The broker's view of one group's members.
    let expect = n.div_ceil(groups);
    let want_ids: BTreeSet<String> = (0..n)
        .filter(|i| i.is_multiple_of(groups))
        .map(client_id)
        .collect();
    let consumers = admin
        .consumer_connection(&b.addr, &consumer_group(0))
        .await?
        .map(|c| c.connection_set)
        .unwrap_or_default();
    check_members(
        "consumers",
        &consumer_group(0),
        &consumers,
        &want_ids,
        expect,
    )?;
    let producers = admin
        .producer_connection(&b.addr, &producer_group(0))
        .await?
        .connection_set;
    check_members(
        "producers",
        &producer_group(0),
        &producers,
        &want_ids,
        expect,
    )?;
    let open_kib = rss_anon_kib(b.pid)?;
    println!(
        "connections: {n} registered in {:.1} s, second round in {:.1} s; {} lists {expect} \
         consumers and {} {expect} producers; broker RssAnon {open_kib} KiB",
        round_one.as_secs_f64(),
        round_two.as_secs_f64(),
        consumer_group(0),
        producer_group(0)
    );

    // Close them all; the broker must drop every group's members.
    let started = Instant::now();
    stream::iter(clients)
        .for_each_concurrent(concurrency, |(_, c)| c.close())
        .await;
    // Groups still listed (not yet CONSUMER_NOT_ONLINE), narrowed at each poll.
    let online: Mutex<BTreeSet<usize>> = Mutex::new((0..groups).collect());
    let gone = poll::poll_within(LIMIT, || async {
        let listed: Vec<usize> = online.lock().iter().copied().collect();
        let mut still = BTreeSet::new();
        for g in listed {
            match admin.consumer_connection(&b.addr, &consumer_group(g)).await {
                Ok(None) => {}
                Ok(Some(_)) | Err(_) => {
                    still.insert(g);
                }
            }
        }
        let empty = still.is_empty();
        *online.lock() = still;
        empty.then_some(())
    })
    .await;
    if gone.is_none() {
        let online = online.into_inner();
        let left: Vec<String> = online.iter().take(5).map(|g| consumer_group(*g)).collect();
        bail!(
            "{} consumer groups still listed {LIMIT:?} after every connection closed (first: {})",
            online.len(),
            left.join(", ")
        );
    }
    let emptied = started.elapsed();
    let after = rss_anon_kib(b.pid)?;
    println!(
        "connections: all closed and every group emptied in {:.1} s",
        emptied.as_secs_f64()
    );
    Ok(Row {
        phase: "connections",
        size: format!("{n} connections, {groups}+{groups} groups"),
        checked: format!(
            "2 HEART_BEAT rounds SUCCESS on every connection (none closed); {} lists its \
             {expect} consumers, {} its {expect} producers; every group empty after close",
            consumer_group(0),
            producer_group(0)
        ),
        units: n,
        before_kib: before,
        at_size_kib: open_kib,
        after_kib: Some(after),
        maps: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Phase: queues

fn queue_topic(t: usize) -> String {
    format!("ScaleQ{t:05}")
}

async fn queues(args: &Args, b: &Broker, admin: &Admin, ns: &str) -> Result<Row> {
    let topics = args.topics;
    if topics == 0 || args.queues == 0 || !args.queues.is_multiple_of(topics) {
        bail!(
            "--queues {} must be a positive multiple of --topics {topics}",
            args.queues
        );
    }
    let per = args.queues / topics;
    let per_i32 = i32::try_from(per).context("too many queues per topic")?;
    let total = per * topics;
    // Every consume-queue file is one mapping of the broker (its descriptor is closed).
    let maps_before = map_count(b.pid)?;
    if let Some(max) = max_map_count() {
        if maps_before + total + SPARE as usize > max {
            bail!(
                "vm.max_map_count is {max}; the broker has {maps_before} mappings and {total} \
                 consume-queue files add one each: raise vm.max_map_count"
            );
        }
    }
    let before = rss_anon_kib(b.pid)?;
    println!("queues: creating {topics} topics of {per} queues");

    let started = Instant::now();
    stream::iter(0..topics)
        .map(|t| async move {
            let config = TopicConfig::new(queue_topic(t), per_i32, per_i32, 6);
            admin
                .create_topic(TopicTarget::Broker(b.addr.clone()), &config)
                .await
                .with_context(|| format!("creating {}", queue_topic(t)))
        })
        .buffer_unordered(8)
        .try_collect::<Vec<()>>()
        .await?;
    let created = started.elapsed();

    let producer = Producer::builder()
        .group("ScaleQueuesProducer")
        .name_server(ns)
        .send_timeout(Duration::from_secs(10))
        .retry_times_when_send_failed(2)
        .build()
        .await?;
    let result = fill_queues(&producer, topics, per).await;
    producer.shutdown().await;
    let (sent, send_time) = result?;

    // Every queue holds exactly one message (the consume queues are written after the send is
    // answered, so this polls).
    let started = Instant::now();
    // Topics not yet seen complete, narrowed at each poll, and what the last of them showed.
    let pending: Mutex<BTreeSet<usize>> = Mutex::new((0..topics).collect());
    let last_bad = Mutex::new(String::new());
    let done = poll::poll_within(LIMIT, || async {
        let unchecked: Vec<usize> = pending.lock().iter().copied().collect();
        let mut still = BTreeSet::new();
        for t in unchecked {
            let topic = queue_topic(t);
            match admin.topic_stats(&b.addr, &topic).await {
                Ok(stats) => {
                    let ones = stats
                        .offset_table
                        .values()
                        .filter(|o| o.max_offset == 1)
                        .count();
                    if ones != per || stats.offset_table.len() != per {
                        *last_bad.lock() = format!(
                            "{topic}: {} queues in its stats, {ones} with max offset 1",
                            stats.offset_table.len()
                        );
                        still.insert(t);
                    }
                }
                Err(e) => {
                    *last_bad.lock() = format!("{topic}: {e}");
                    still.insert(t);
                }
            }
        }
        let empty = still.is_empty();
        *pending.lock() = still;
        empty.then_some(())
    })
    .await;
    if done.is_none() {
        let pending = pending.into_inner();
        let last_bad = last_bad.into_inner();
        bail!(
            "{} topics do not show max offset 1 on each of their {per} queues after {LIMIT:?} \
             (last: {last_bad})",
            pending.len()
        );
    }
    let checked_in = started.elapsed();
    let at_size = rss_anon_kib(b.pid)?;
    let maps_after = map_count(b.pid)?;
    println!(
        "queues: {topics} topics created in {:.1} s, {sent} messages sent in {:.1} s, stats \
         checked in {:.1} s",
        created.as_secs_f64(),
        send_time.as_secs_f64(),
        checked_in.as_secs_f64()
    );
    Ok(Row {
        phase: "queues",
        size: format!("{total} queues ({topics} topics x {per})"),
        checked: format!(
            "1 message sent to each queue (SEND_OK at offset 0); every topic's stats show max \
             offset 1 on all {per} queues"
        ),
        units: total,
        before_kib: before,
        at_size_kib: at_size,
        after_kib: None,
        maps: Some((maps_before, maps_after)),
    })
}

/// Sends one message to every queue of every topic (64 at a time); returns how many and how
/// long the sends took.
async fn fill_queues(producer: &Producer, topics: usize, per: usize) -> Result<(usize, Duration)> {
    // Each topic's queues as the producer sees them: its route comes from the name server.
    let lists: Vec<Vec<MessageQueue>> = stream::iter(0..topics)
        .map(|t| async move {
            let topic = queue_topic(t);
            poll::poll_within(LIMIT, || async {
                producer
                    .publish_queues(&topic)
                    .await
                    .ok()
                    .filter(|q| q.len() == per)
            })
            .await
            .with_context(|| format!("the producer never saw {per} queues of {topic}"))
        })
        .buffer_unordered(16)
        .try_collect()
        .await?;
    let queues: Vec<MessageQueue> = lists.into_iter().flatten().collect();
    let sent = queues.len();
    let started = Instant::now();
    stream::iter(queues)
        .map(|mq| async move {
            let body = format!("q{}", mq.queue_id);
            let r = producer
                .send_to_queue(Message::new(mq.topic.clone(), body), &mq)
                .await
                .with_context(|| format!("sending to {mq}"))?;
            if r.status != SendStatus::SendOk || r.queue_offset != 0 {
                bail!(
                    "sending to {mq}: {:?} at offset {} (expected SEND_OK at 0)",
                    r.status,
                    r.queue_offset
                );
            }
            Ok(())
        })
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await?;
    Ok((sent, started.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Phase: pulls

/// How one pull was answered.
struct Answer {
    /// Sent past the bound.
    extra: bool,
    /// The response code, or why there was none.
    code: Result<i32, String>,
    latency: Duration,
    at: Instant,
}

/// What the pull tasks report.
#[derive(Default)]
struct PullLog {
    /// Pulls handed to their connection's writer.
    sent: AtomicUsize,
    answers: Mutex<Vec<Answer>>,
}

impl PullLog {
    fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    fn answered(&self) -> usize {
        self.answers.lock().len()
    }

    /// Answers of one kind by code name, for messages.
    fn codes(&self, extra: bool) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for a in self.answers.lock().iter().filter(|a| a.extra == extra) {
            let name = match &a.code {
                Ok(c) => ResponseCode::from(*c).to_string(),
                Err(e) => format!("error: {e}"),
            };
            *out.entry(name).or_default() += 1;
        }
        out
    }
}

/// A pull of queue 0 of the pull topic from offset 0 that the broker may hold for `hold`.
fn pull_request(hold: Duration) -> RemotingCommand {
    let h = PullMessageRequestHeader {
        consumer_group: PULL_GROUP.into(),
        topic: PULL_TOPIC.into(),
        queue_id: 0,
        queue_offset: 0,
        max_msg_nums: 32,
        sys_flag: pull_sys_flag::SUSPEND | pull_sys_flag::SUBSCRIPTION,
        commit_offset: 0,
        suspend_timeout_millis: hold.as_millis() as i64,
        subscription: Some("*".into()),
        sub_version: 0,
        expression_type: Some("TAG".into()),
        ..Default::default()
    };
    RemotingCommand::request(RequestCode::PullMessage, &h)
}

/// Starts pulls `range`, round robin over `conns`, each in its own task that counts itself sent
/// once its request is queued on the connection, then records the answer.
fn launch(
    tasks: &mut JoinSet<()>,
    conns: &[Conn],
    range: std::ops::Range<usize>,
    extra: bool,
    log: &Arc<PullLog>,
    hold: Duration,
) {
    for i in range {
        let handle = conns[i % conns.len()].handle.clone();
        let log = log.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            let call = handle.invoke(pull_request(hold), hold + RPC);
            tokio::pin!(call);
            // The first poll queues the request on the connection's writer.
            let first = futures::poll!(call.as_mut());
            log.sent.fetch_add(1, Ordering::SeqCst);
            let result = match first {
                Poll::Ready(r) => r,
                Poll::Pending => call.await,
            };
            let at = Instant::now();
            log.answers.lock().push(Answer {
                extra,
                code: result.map(|r| r.code).map_err(|e| e.to_string()),
                latency: at - started,
                at,
            });
        });
    }
}

/// Waits until the broker has taken in every pull sent so far: a request sent after them on
/// each connection is answered (the broker reads a connection in order), and no pull is being
/// worked on (a held pull no longer counts in `pullThreadPoolQueueSize`).
async fn quiesce(conns: &[Conn], admin: &Admin, b: &Broker) -> Result<()> {
    let marker = HeartbeatData {
        client_id: format!("127.0.0.1@scale{}-marker", std::process::id()),
        ..HeartbeatData::default()
    };
    futures::future::try_join_all(conns.iter().map(|c| {
        c.call(
            RemotingCommand::new_request(RequestCode::HeartBeat).with_body(marker.to_json_bytes()),
        )
    }))
    .await
    .context("a request after the pulls")?;
    poll::poll_within(LIMIT, || async {
        let info = admin.broker_runtime_info(&b.addr).await.ok()?;
        (info.get("pullThreadPoolQueueSize")?.as_str() == "0").then_some(())
    })
    .await
    .with_context(|| format!("the broker still works on pulls after {LIMIT:?}"))
}

async fn pulls(args: &Args, b: &Broker, admin: &Admin, ns: &str) -> Result<Row> {
    let bound = args.held_bound;
    let total = args.pulls.unwrap_or(bound + 1_000);
    if bound == 0 || total <= bound {
        bail!(
            "--pulls {total} must exceed the held-pull bound {bound} to see what happens past it"
        );
    }
    let extra = total - bound;
    let hold = Duration::from_millis(args.hold_ms);
    if hold < Duration::from_secs(20) {
        bail!(
            "--hold-ms {}: too short to set the phase up within it",
            args.hold_ms
        );
    }
    let n = args.pull_connections.max(1);
    require_broker_files(
        b,
        n as u64 + open_files(b.pid)? + SPARE,
        &format!("{n} connections"),
    )?;

    admin
        .create_topic(
            TopicTarget::Broker(b.addr.clone()),
            &TopicConfig::new(PULL_TOPIC, 1, 1, 6),
        )
        .await
        .context("creating the pull topic")?;
    let group = SubscriptionGroupConfig {
        group_name: PULL_GROUP.into(),
        ..SubscriptionGroupConfig::default()
    };
    admin
        .update_subscription_group(&b.addr, &group)
        .await
        .context("creating the pull group")?;
    let producer = Producer::builder()
        .group("ScalePullProducer")
        .name_server(ns)
        .send_timeout(Duration::from_secs(10))
        .build()
        .await?;
    let conns: Vec<Conn> = stream::iter(0..n)
        .map(|_| Conn::open(&b.addr))
        .buffer_unordered(50)
        .try_collect()
        .await?;
    let log = Arc::new(PullLog::default());
    let mut tasks = JoinSet::new();
    let result = hold_pulls(
        &conns, &mut tasks, &log, &producer, admin, b, bound, extra, hold,
    )
    .await;
    // Whatever happened, nothing of the phase outlives it.
    tasks.shutdown().await;
    futures::future::join_all(conns.into_iter().map(Conn::close)).await;
    producer.shutdown().await;
    let (before, held_kib, found_after) = result?;
    let after = rss_anon_kib(b.pid)?;
    Ok(Row {
        phase: "pulls",
        size: format!("{total} pulls over {n} connections"),
        checked: format!(
            "first {bound} all held; the {extra} past the bound answered PULL_NOT_FOUND at once \
             (< {}s); one message answers every held pull FOUND within {:.1} s",
            AT_ONCE.as_secs(),
            found_after.as_secs_f64()
        ),
        units: bound,
        before_kib: before,
        at_size_kib: held_kib,
        after_kib: Some(after),
        maps: None,
    })
}

/// The pulls phase proper; returns RssAnon before and while held, and how long after the message
/// the last held pull was answered.
#[allow(clippy::too_many_arguments)]
async fn hold_pulls(
    conns: &[Conn],
    tasks: &mut JoinSet<()>,
    log: &Arc<PullLog>,
    producer: &Producer,
    admin: &Admin,
    b: &Broker,
    bound: usize,
    extra: usize,
    hold: Duration,
) -> Result<(u64, u64, Duration)> {
    let total = bound + extra;
    let queue = poll::poll_within(LIMIT, || async {
        producer
            .publish_queues(PULL_TOPIC)
            .await
            .ok()?
            .into_iter()
            .find(|q| q.queue_id == 0)
    })
    .await
    .context("the producer never saw queue 0 of the pull topic")?;
    let before = rss_anon_kib(b.pid)?;
    println!(
        "pulls: {bound} pulls (the bound), then {extra} more, over {} connections, hold {} ms",
        conns.len(),
        hold.as_millis()
    );

    // The bound's worth: every one must be held.
    let t0 = Instant::now();
    launch(tasks, conns, 0..bound, false, log, hold);
    poll::poll_within(LIMIT, || async { (log.sent() == bound).then_some(()) })
        .await
        .context("the first pulls were never all queued")?;
    quiesce(conns, admin, b).await?;
    let early = log.answered();
    if early > 0 {
        bail!(
            "{early} of the first {bound} pulls were answered instead of held ({:?}): the \
             broker holds fewer than {bound}",
            log.codes(false)
        );
    }
    println!(
        "pulls: {bound} sent, {} pending (held) after {:.1} s",
        bound - early,
        t0.elapsed().as_secs_f64()
    );

    // Past the bound: every one answered at once.
    launch(tasks, conns, bound..total, true, log, hold);
    let limit = (hold / 2).min(LIMIT);
    poll::poll_within(limit, || async { (log.answered() >= extra).then_some(()) })
        .await
        .with_context(|| {
            format!(
                "{} of the {extra} pulls past the bound answered within {limit:?}",
                log.answered()
            )
        })?;
    quiesce(conns, admin, b).await?;
    let answered = log.answered();
    let held = total - answered;
    if answered != extra || held != bound {
        bail!(
            "{answered} of {total} pulls answered while {held} pending; expected {extra} \
             answered and {bound} held (answers: first {:?}, past the bound {:?})",
            log.codes(false),
            log.codes(true)
        );
    }
    let not_found = ResponseCode::PullNotFound.code();
    let (wrong, slowest) = {
        let answers = log.answers.lock();
        let wrong = answers
            .iter()
            .filter(|a| !a.extra || a.code.as_ref().ok() != Some(&not_found))
            .count();
        let slowest = answers.iter().map(|a| a.latency).max().unwrap_or_default();
        (wrong, slowest)
    };
    if wrong > 0 {
        bail!(
            "{wrong} answers were not PULL_NOT_FOUND to pulls past the bound (first {:?}, past \
             the bound {:?})",
            log.codes(false),
            log.codes(true)
        );
    }
    if slowest >= AT_ONCE {
        bail!("a pull past the bound took {slowest:?} to be answered, not at once");
    }
    let held_kib = rss_anon_kib(b.pid)?;
    println!(
        "pulls: {held} held, the {extra} past the bound answered PULL_NOT_FOUND (slowest \
         {} ms); broker RssAnon {held_kib} KiB",
        slowest.as_millis()
    );

    // One message: every held pull must be answered FOUND, before any hold could expire (the
    // broker started each hold after t0).
    let Some(deadline) = (t0 + hold).checked_sub(HOLD_MARGIN) else {
        bail!("--hold-ms too short");
    };
    let now = Instant::now();
    if now + Duration::from_secs(5) >= deadline {
        bail!(
            "setting the pulls up took {:.1} s, too close to their {} ms hold to tell a wake-up \
             from an expiry: raise --hold-ms",
            t0.elapsed().as_secs_f64(),
            hold.as_millis()
        );
    }
    let sent_at = Instant::now();
    let r = producer
        .send_to_queue(Message::new(PULL_TOPIC, "wake up"), &queue)
        .await
        .context("sending the message the held pulls wait for")?;
    if r.status != SendStatus::SendOk {
        bail!("the message for the held pulls: {:?}", r.status);
    }
    let done = poll::poll_within(
        deadline.saturating_duration_since(Instant::now()),
        || async { (log.answered() == total).then_some(()) },
    )
    .await;
    if done.is_none() {
        bail!(
            "{} held pulls still pending {:.1} s after the message (answers so far {:?})",
            total - log.answered(),
            sent_at.elapsed().as_secs_f64(),
            log.codes(false)
        );
    }
    let success = ResponseCode::Success.code();
    let (found, last) = {
        let answers = log.answers.lock();
        let held_answers = answers.iter().filter(|a| !a.extra);
        let found = held_answers
            .clone()
            .filter(|a| a.code.as_ref().ok() == Some(&success))
            .count();
        let last = held_answers.map(|a| a.at).max().unwrap_or(sent_at);
        (found, last)
    };
    if found != bound {
        bail!(
            "{found} of the {bound} held pulls answered FOUND after the message ({:?})",
            log.codes(false)
        );
    }
    let found_after = last.saturating_duration_since(sent_at);
    println!(
        "pulls: all {bound} held pulls answered FOUND within {} ms of the message",
        found_after.as_millis()
    );
    Ok((before, held_kib, found_after))
}

// ---------------------------------------------------------------------------------------------

/// Runs `phase` within `limit`.
async fn bounded<F>(name: &str, limit: Duration, phase: F) -> Result<Row>
where
    F: std::future::Future<Output = Result<Row>>,
{
    tokio::time::timeout(limit, phase)
        .await
        .map_err(|_| anyhow!("phase {name} did not finish within {limit:?}"))?
        .with_context(|| format!("phase {name}"))
}

async fn run_phases(
    args: &Args,
    b: &Broker,
    admin: &Admin,
    ns: &str,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let limit = Duration::from_secs(args.phase_limit_secs);
    let all = args.phase == Phase::All;
    let max_kib = args.max_rss_anon_mib.map(|m| m * 1024);
    for phase in [Phase::Connections, Phase::Queues, Phase::Pulls] {
        if !all && args.phase != phase {
            continue;
        }
        let row = match phase {
            Phase::Connections => {
                bounded("connections", limit, connections(args, b, admin)).await?
            }
            Phase::Queues => bounded("queues", limit, queues(args, b, admin, ns)).await?,
            Phase::Pulls => bounded("pulls", limit, pulls(args, b, admin, ns)).await?,
            Phase::All => continue,
        };
        println!("{}", row.line());
        let over = max_kib.filter(|m| row.at_size_kib > *m);
        let phase_name = row.phase;
        let at_size = row.at_size_kib;
        rows.push(row);
        if let Some(m) = over {
            bail!(
                "phase {phase_name}: broker RssAnon {at_size} KiB at size exceeds \
                 --max-rss-anon-mib ({m} KiB)"
            );
        }
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    if std::env::var_os("RMQ_BIN_DIR").is_none() {
        bail!("set RMQ_BIN_DIR to the directory of mqnamesrv and mqbroker");
    }
    // Before the daemons start: they inherit the limit (the broker does not raise its own).
    let files = raise_open_files_limit()?;
    let run = args.dir.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&run).with_context(|| format!("creating {}", run.display()))?;
    let (namesrv, ns) = namesrv_process(&run, "namesrv")?;
    let extra = format!("mappedFileSizeConsumeQueue={CQ_FILE_SIZE}\n");
    let (broker, addr) = broker_process(&run, "broker-a", &ns, &extra)?;
    let b = Broker {
        pid: broker.pid(),
        addr,
    };
    println!(
        "scale: broker {} (pid {}), name server {ns}, open-file limit {files}, in {}",
        b.addr,
        b.pid,
        run.display()
    );
    let admin = Admin::builder().name_server(&ns).build().await?;
    let mut rows = Vec::new();
    let outcome = run_phases(&args, &b, &admin, &ns, &mut rows).await;
    admin.shutdown().await;
    print_table(&rows);
    if let Err(e) = outcome {
        println!("scale FAILED; store and logs kept in {}", run.display());
        // The daemons are killed as they drop.
        return Err(e);
    }
    broker.terminate(Duration::from_secs(30))?;
    namesrv.terminate(Duration::from_secs(30))?;
    remove_run(&run);
    Ok(())
}

fn remove_run(run: &Path) {
    if let Err(e) = std::fs::remove_dir_all(run) {
        println!("could not remove {}: {e}", run.display());
    }
}
