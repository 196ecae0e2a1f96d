//! `cargo xtask bench`: the benchmark suite.
//!
//! Starts its own release name server and broker on free loopback ports (or measures any
//! RocketMQ-compatible cluster given with `-n`), runs the client benchmark (`examples/bench.rs`:
//! sync, async, batch, consume, end-to-end) for 1 KiB and 100 B bodies, once against an
//! ASYNC_FLUSH broker and once against a SYNC_FLUSH broker (group commit), samples the broker's
//! anonymous memory while it runs, then runs the criterion micro-benchmarks of the remoting,
//! store and name server crates. Results go to `target/bench/results.md` and stdout; progress is
//! printed as it goes.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::build::{build_release, release_dir, workspace_root};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Measure this cluster (`host:port;...`) instead of starting one.
    #[arg(short = 'n', long)]
    namesrv: Option<String>,
    /// Messages per send phase of the client benchmark.
    #[arg(short = 'm', long, default_value_t = 40_000)]
    messages: usize,
    /// Skip the criterion micro-benchmarks.
    #[arg(long)]
    no_micro: bool,
    /// Also measure ASYNC_MASTER and SYNC_MASTER, each with a slave (replication cost, lag).
    #[arg(long)]
    ha: bool,
    /// Use the existing release binaries.
    #[arg(long)]
    no_build: bool,
    /// Also run the client benchmark against this other cluster (`host:port` of its name
    /// server, e.g. Apache's), interleaved with rmq's own ASYNC_FLUSH cluster, and print both
    /// side by side with the ratio per row.
    #[arg(long, value_name = "NAMESRV", conflicts_with = "namesrv")]
    compare: Option<String>,
    /// Rounds of the comparison (each: rmq, then the other cluster).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Also measure the cost of ACL 1.0 (aclEnable=true) and 2.0 (authenticationEnabled and
    /// authorizationEnabled), every request signed, and of TLS (tls.server.mode=enforcing, every
    /// connection TLS), 1 KiB bodies.
    #[arg(long)]
    security: bool,
}

/// The ACL account of the `--security` runs.
const BENCH_ACL: &str =
    "accounts:\n  - accessKey: benchadmin\n    secretKey: bench-secret\n    admin: true\n";

/// One local run: the broker's properties, the body size, a slave or not, and what the
/// client benchmark adds to its command line.
struct Run {
    title: &'static str,
    props: String,
    size: usize,
    slave: bool,
    client_args: Vec<String>,
    /// Run the gRPC send benchmark too (it neither signs nor speaks TLS yet).
    grpc: bool,
}

impl Run {
    fn plain(title: &'static str, props: &str, size: usize, slave: bool) -> Run {
        Run {
            title,
            props: props.to_owned(),
            size,
            slave,
            client_args: Vec::new(),
            grpc: true,
        }
    }
}

fn free_port() -> Result<u16> {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        let p = l.local_addr()?.port();
        drop(l);
        if p < 65000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return Ok(p);
        }
    }
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child; no memory is involved.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(bin: &Path, args: &[String], log: &Path, port: u16) -> Result<Daemon> {
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    let child = Command::new(bin)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut d = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(s) = d.0.try_wait()? {
            bail!("{} exited with {s}; see {}", bin.display(), log.display());
        }
        if Instant::now() > deadline {
            bail!(
                "{} did not listen on {port}; see {}",
                bin.display(),
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(d)
}

/// Anonymous resident memory of a process in KiB (`RssAnon`), the broker's own memory beyond
/// its mapped store files.
fn rss_anon_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// A local cluster: one name server, one master and optionally its slave.
struct Cluster {
    _namesrv: Daemon,
    broker: Daemon,
    _slave: Option<Daemon>,
    addr: String,
    metrics_port: u16,
    /// The master's gRPC port (5.x clients).
    grpc_port: u16,
}

/// Writes a broker config under `dir` and returns (config path, port).
fn broker_conf(dir: &Path, name: &str, extra: &str) -> Result<(std::path::PathBuf, u16)> {
    let port = free_port()?;
    let conf = dir.join(format!("{name}.properties"));
    std::fs::write(
        &conf,
        format!(
            "brokerName=bench\nbrokerIP1=127.0.0.1\nlistenPort={port}\nstorePathRootDir={}\n\
             mappedFileSizeCommitLog=268435456\ngrpcServerPort=0\n{extra}\n",
            dir.join(name).display()
        ),
    )?;
    Ok((conf, port))
}

fn start_cluster(dir: &Path, broker_props: &str, with_slave: bool) -> Result<Cluster> {
    let bin = release_dir();
    std::fs::create_dir_all(dir)?;
    let ns_port = free_port()?;
    let ns_conf = dir.join("namesrv.properties");
    std::fs::write(
        &ns_conf,
        format!(
            "listenPort={ns_port}\nkvConfigPath={}\n",
            dir.join("kv.json").display()
        ),
    )?;
    let namesrv = start(
        &bin.join("mqnamesrv"),
        &["-c".into(), ns_conf.display().to_string()],
        &dir.join("namesrv.log"),
        ns_port,
    )?;
    let addr = format!("127.0.0.1:{ns_port}");
    let metrics_port = free_port()?;
    let grpc_port = free_port()?;
    let (conf, port) = broker_conf(
        dir,
        "master",
        &format!(
            "{broker_props}\nmetricsExporterType=PROM\nmetricsPromExporterHost=127.0.0.1\n\
             metricsPromExporterPort={metrics_port}\ngrpcServerPort={grpc_port}"
        ),
    )?;
    let args = |conf: &Path| {
        vec![
            "-c".into(),
            conf.display().to_string(),
            "-n".into(),
            addr.clone(),
        ]
    };
    let broker = start(
        &bin.join("mqbroker"),
        &args(&conf),
        &dir.join("master.log"),
        port,
    )?;
    let slave = if with_slave {
        let (conf, port) = broker_conf(dir, "slave", "brokerRole=SLAVE\nbrokerId=1")?;
        Some(start(
            &bin.join("mqbroker"),
            &args(&conf),
            &dir.join("slave.log"),
            port,
        )?)
    } else {
        None
    };
    Ok(Cluster {
        _namesrv: namesrv,
        broker,
        _slave: slave,
        addr,
        metrics_port,
        grpc_port,
    })
}

/// Runs the gRPC send benchmark (crates/broker/examples/grpc_bench.rs) against `endpoint`;
/// returns its table rows.
fn grpc_bench(endpoint: &str, messages: usize, size: usize, topic: &str) -> Result<String> {
    table_of("grpc_bench", "-e", endpoint, messages, size, topic, &[])
        .with_context(|| format!("the gRPC benchmark against {endpoint}"))
}

/// Runs `examples/<example> <flag> <target> -t topic -m messages -s size`; returns its stdout.
fn table_of(
    example: &str,
    flag: &str,
    target: &str,
    messages: usize,
    size: usize,
    topic: &str,
    extra: &[String],
) -> Result<String> {
    let bin = release_dir().join("examples").join(example);
    let out = Command::new(&bin)
        .args(extra)
        .args([
            flag,
            target,
            "-t",
            topic,
            "-m",
            &messages.to_string(),
            "-s",
            &size.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        bail!("{} failed ({})", bin.display(), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The value of one metric from a Prometheus endpoint on 127.0.0.1.
fn scrape(port: u16, metric: &str) -> Option<f64> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(metric)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// Runs the client benchmark; returns its table.
fn client_bench(
    namesrv: &str,
    messages: usize,
    size: usize,
    topic: &str,
    extra: &[String],
) -> Result<String> {
    table_of("bench", "-n", namesrv, messages, size, topic, extra)
        .with_context(|| format!("the client benchmark; is the cluster at {namesrv} up?"))
}

pub fn run(args: BenchArgs) -> Result<()> {
    let root = workspace_root();
    if !args.no_build {
        // The shared build includes examples/bench.
        build_release()?;
    }
    let mut report = String::new();
    report.push_str(&format!(
        "# rmq benchmark results\n\nMachine: {} CPUs, {}\n\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| m.lines().next().map(str::to_owned))
            .unwrap_or_default()
    ));

    let mut runs = vec![
        Run::plain(
            "ASYNC_FLUSH broker",
            "flushDiskType=ASYNC_FLUSH",
            1024,
            false,
        ),
        Run::plain(
            "ASYNC_FLUSH broker",
            "flushDiskType=ASYNC_FLUSH",
            100,
            false,
        ),
        Run::plain(
            "SYNC_FLUSH broker (group commit)",
            "flushDiskType=SYNC_FLUSH",
            1024,
            false,
        ),
    ];
    if args.ha {
        runs.push(Run::plain(
            "ASYNC_MASTER with a slave",
            "brokerRole=ASYNC_MASTER",
            1024,
            true,
        ));
        runs.push(Run::plain(
            "SYNC_MASTER with a slave",
            "brokerRole=SYNC_MASTER",
            1024,
            true,
        ));
    }
    if args.security {
        let acl_file = root.join("target/bench/plain_acl.yml");
        std::fs::create_dir_all(root.join("target/bench"))?;
        std::fs::write(&acl_file, BENCH_ACL)?;
        runs.push(Run {
            title: "ASYNC_FLUSH broker, ACL on (every request signed and checked)",
            props: format!(
                "flushDiskType=ASYNC_FLUSH\naclEnable=true\naclFile={}",
                acl_file.display()
            ),
            size: 1024,
            slave: false,
            client_args: ["--access-key", "benchadmin", "--secret-key", "bench-secret"]
                .map(str::to_owned)
                .to_vec(),
            grpc: false,
        });
        runs.push(Run {
            title: "ASYNC_FLUSH broker, ACL 2.0 on (every request signed by a Super user)",
            props: "flushDiskType=ASYNC_FLUSH\nauthenticationEnabled=true\n\
                    authorizationEnabled=true\n\
                    initAuthenticationUser={\"username\":\"benchadmin\",\"password\":\"bench-secret\"}"
                .to_owned(),
            size: 1024,
            slave: false,
            client_args: ["--access-key", "benchadmin", "--secret-key", "bench-secret"]
                .map(str::to_owned)
                .to_vec(),
            grpc: false,
        });
        runs.push(Run {
            title: "ASYNC_FLUSH broker, TLS only (tls.server.mode=enforcing)",
            props: "flushDiskType=ASYNC_FLUSH\ntls.server.mode=enforcing".to_owned(),
            size: 1024,
            slave: false,
            client_args: vec!["--use-tls".to_owned()],
            grpc: false,
        });
    }
    if let Some(other) = &args.compare {
        report.push_str(&compare(&root, other, &args)?);
    } else {
        measure(&root, &args, runs, &mut report)?;
    }

    if !args.no_micro {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        for p in ["rmq-remoting", "rmq-store", "rmq-namesrv"] {
            eprintln!("criterion benchmarks of {p} ...");
            let out = Command::new(&cargo)
                .current_dir(&root)
                .args([
                    "bench",
                    "-p",
                    p,
                    // Only the criterion targets: the unit-test harness rejects criterion's flags.
                    "--benches",
                    "--",
                    "--warm-up-time",
                    "1",
                    "--measurement-time",
                    "3",
                ])
                .stderr(Stdio::inherit())
                .output()?;
            let text = String::from_utf8_lossy(&out.stdout);
            report.push_str(&format!("## {p} micro-benchmarks\n\n```\n"));
            for line in text.lines().filter(|l| {
                l.contains("time:")
                    || l.contains("thrpt:")
                    || l.starts_with('|')
                    || l.contains("/s")
            }) {
                report.push_str(line);
                report.push('\n');
            }
            report.push_str("```\n\n");
        }
    }

    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)?;
    let path = out_dir.join("results.md");
    std::fs::File::create(&path)?.write_all(report.as_bytes())?;
    println!("{report}");
    eprintln!("written to {}", path.display());
    Ok(())
}

/// A local run per entry of `runs` (or the client benchmark against `-n`'s cluster).
fn measure(root: &Path, args: &BenchArgs, runs: Vec<Run>, report: &mut String) -> Result<()> {
    match &args.namesrv {
        Some(n) => {
            for size in [1024, 100] {
                eprintln!("client benchmark against {n}, {size} B bodies ...");
                let t = client_bench(n, args.messages, size, &format!("BenchTopic{size}"), &[])?;
                report.push_str(&format!("## cluster {n}, {size} B bodies\n\n{t}\n"));
            }
        }
        None => {
            for (i, run) in runs.into_iter().enumerate() {
                let Run {
                    title,
                    props,
                    size,
                    slave,
                    client_args,
                    grpc,
                } = run;
                let dir = root.join(format!("target/bench/run-{i}"));
                let _ = std::fs::remove_dir_all(&dir);
                eprintln!(
                    "[{}] {title}, {size} B bodies: starting the cluster ...",
                    i + 1
                );
                let cluster = start_cluster(&dir, &props, slave)?;
                let peak = Arc::new(AtomicU64::new(0));
                let lag = Arc::new(AtomicU64::new(0));
                let stop = Arc::new(AtomicBool::new(false));
                let sampler = {
                    let (peak, lag, stop) = (peak.clone(), lag.clone(), stop.clone());
                    let (pid, metrics) = (cluster.broker.0.id(), cluster.metrics_port);
                    std::thread::spawn(move || {
                        while !stop.load(Ordering::Relaxed) {
                            if let Some(k) = rss_anon_kib(pid) {
                                peak.fetch_max(k, Ordering::Relaxed);
                            }
                            if slave {
                                if let Some(l) = scrape(metrics, "rmq_ha_slave_lag_bytes") {
                                    lag.fetch_max(l as u64, Ordering::Relaxed);
                                }
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    })
                };
                eprintln!("[{}] running the client benchmark ...", i + 1);
                let table = client_bench(
                    &cluster.addr,
                    args.messages,
                    size,
                    "BenchTopic",
                    &client_args,
                )
                .and_then(|mut t| {
                    if !grpc {
                        return Ok(t);
                    }
                    eprintln!("[{}] running the gRPC send benchmark ...", i + 1);
                    let endpoint = format!("127.0.0.1:{}", cluster.grpc_port);
                    t.push_str(&grpc_bench(&endpoint, args.messages, size, "BenchTopic")?);
                    Ok(t)
                });
                stop.store(true, Ordering::Relaxed);
                let _ = sampler.join();
                let table = table?;
                report.push_str(&format!(
                    "## {title}, {size} B bodies\n\n{table}\nBroker anonymous memory (RssAnon) peak: {:.1} MiB\n",
                    peak.load(Ordering::Relaxed) as f64 / 1024.0
                ));
                if slave {
                    report.push_str(&format!(
                        "Slave lag peak (sampled every 100 ms): {:.1} KiB\n",
                        lag.load(Ordering::Relaxed) as f64 / 1024.0
                    ));
                }
                report.push('\n');
                eprintln!("{table}");
            }
        }
    }

    Ok(())
}

/// `--compare`: rmq's own ASYNC_FLUSH cluster and `other`, `args.rounds` interleaved rounds of
/// the client benchmark with 1 KiB bodies; returns the report section.
fn compare(root: &Path, other: &str, args: &BenchArgs) -> Result<String> {
    let dir = root.join("target/bench/compare");
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("starting rmq's cluster (ASYNC_FLUSH) ...");
    let cluster = start_cluster(&dir, "flushDiskType=ASYNC_FLUSH", false)?;
    let mut rounds = Vec::new();
    for round in 1..=args.rounds.max(1) {
        eprintln!(
            "[round {round}] client benchmark against rmq ({}) ...",
            cluster.addr
        );
        let rmq = client_bench(
            &cluster.addr,
            args.messages,
            1024,
            &format!("Compare{round}"),
            &[],
        )?;
        eprintln!("[round {round}] client benchmark against {other} ...");
        let theirs = client_bench(other, args.messages, 1024, &format!("Compare{round}"), &[])?;
        rounds.push(crate::compare::Round {
            rmq: crate::compare::parse(&rmq),
            other: crate::compare::parse(&theirs),
        });
    }
    let table = crate::compare::side_by_side(other, &rounds);
    eprintln!("{table}");
    Ok(format!(
        "## rmq and {other} side by side, 1 KiB bodies, {} messages per send phase

         The same client (examples/bench) against each, rounds interleaved; ratio = rmq / {other}.

{table}
",
        args.messages
    ))
}
