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

use crate::up::{build_release, workspace_root};

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
    /// Use the existing release binaries.
    #[arg(long)]
    no_build: bool,
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

/// A local cluster: one name server and one broker with the given flush mode.
struct Cluster {
    _namesrv: Daemon,
    broker: Daemon,
    addr: String,
}

fn start_cluster(dir: &Path, flush: &str) -> Result<Cluster> {
    let bin = workspace_root().join("target/release");
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
    let port = free_port()?;
    let conf = dir.join("broker.properties");
    std::fs::write(
        &conf,
        format!(
            "brokerName=bench\nbrokerIP1=127.0.0.1\nlistenPort={port}\nstorePathRootDir={}\n\
             flushDiskType={flush}\nmappedFileSizeCommitLog=268435456\n",
            dir.join("store").display()
        ),
    )?;
    let addr = format!("127.0.0.1:{ns_port}");
    let broker = start(
        &bin.join("mqbroker"),
        &[
            "-c".into(),
            conf.display().to_string(),
            "-n".into(),
            addr.clone(),
        ],
        &dir.join("broker.log"),
        port,
    )?;
    Ok(Cluster {
        _namesrv: namesrv,
        broker,
        addr,
    })
}

/// Runs the client benchmark; returns its table.
fn client_bench(namesrv: &str, messages: usize, size: usize, topic: &str) -> Result<String> {
    let bin = workspace_root().join("target/release/examples/bench");
    let out = Command::new(&bin)
        .args([
            "-n",
            namesrv,
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
        bail!(
            "the client benchmark failed ({}); is the cluster at {namesrv} up?",
            out.status
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn run(args: BenchArgs) -> Result<()> {
    let root = workspace_root();
    if !args.no_build {
        build_release(&["rmq-namesrv", "rmq-broker"])?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        eprintln!("building the client benchmark ...");
        let s = Command::new(cargo)
            .current_dir(&root)
            .args([
                "build",
                "--release",
                "-p",
                "rmq-client",
                "--example",
                "bench",
            ])
            .status()?;
        if !s.success() {
            bail!("building examples/bench failed");
        }
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

    let runs: &[(&str, usize)] = &[
        ("ASYNC_FLUSH", 1024),
        ("ASYNC_FLUSH", 100),
        ("SYNC_FLUSH", 1024),
    ];
    match &args.namesrv {
        Some(n) => {
            for (_, size) in runs.iter().filter(|(f, _)| *f == "ASYNC_FLUSH") {
                eprintln!("client benchmark against {n}, {size} B bodies ...");
                let t = client_bench(n, args.messages, *size, &format!("BenchTopic{size}"))?;
                report.push_str(&format!("## cluster {n}, {size} B bodies\n\n{t}\n"));
            }
        }
        None => {
            for (flush, size) in runs {
                let dir = root.join(format!("target/bench/{}-{size}", flush.to_lowercase()));
                let _ = std::fs::remove_dir_all(&dir);
                eprintln!("starting a {flush} broker; client benchmark with {size} B bodies ...");
                let cluster = start_cluster(&dir, flush)?;
                let peak = Arc::new(AtomicU64::new(0));
                let stop = Arc::new(AtomicBool::new(false));
                let sampler = {
                    let (peak, stop, pid) = (peak.clone(), stop.clone(), cluster.broker.0.id());
                    std::thread::spawn(move || {
                        while !stop.load(Ordering::Relaxed) {
                            if let Some(k) = rss_anon_kib(pid) {
                                peak.fetch_max(k, Ordering::Relaxed);
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    })
                };
                let table = client_bench(&cluster.addr, args.messages, *size, "BenchTopic");
                stop.store(true, Ordering::Relaxed);
                let _ = sampler.join();
                let table = table?;
                report.push_str(&format!(
                    "## {flush} broker, {size} B bodies\n\n{table}\nBroker anonymous memory (RssAnon) peak: {:.1} MiB\n\n",
                    peak.load(Ordering::Relaxed) as f64 / 1024.0
                ));
                eprintln!("{table}");
            }
        }
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
