//! `cargo xtask up`: a working single-broker cluster on this machine with defaults.
//!
//! Builds the release daemons, starts `mqnamesrv` on 127.0.0.1:9876 and `mqbroker` on
//! 127.0.0.1:10911 with data under `target/rmq/`, prints where they listen, and on Ctrl-C stops
//! both with SIGTERM (the broker flushes and removes its abort file) before exiting.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

#[derive(clap::Args)]
pub struct UpArgs {
    /// Name server port.
    #[arg(long, default_value_t = 9876)]
    namesrv_port: u16,
    /// Broker port (the HA port is this + 1).
    #[arg(long, default_value_t = 10911)]
    broker_port: u16,
    /// Where the store, configs and logs go (default: target/rmq).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Use the existing binaries instead of building.
    #[arg(long)]
    no_build: bool,
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn build_release(packages: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args(["build", "--release"]);
    for p in packages {
        cmd.args(["-p", p]);
    }
    eprintln!("building release binaries ({}) ...", packages.join(", "));
    let status = cmd.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    Ok(())
}

fn wait_port(child: &mut Child, name: &str, port: u16, log: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("{name} exited with {status}; see {} for why", log.display());
        }
        if Instant::now() > deadline {
            bail!(
                "{name} is not listening on port {port} after 30 s; see {}",
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn(bin: &Path, args: &[String], log: &Path) -> Result<Child> {
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

fn terminate(child: &mut Child, name: &str) {
    // SAFETY: kill(2) on a child we spawned; no memory is involved.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                eprintln!("{name} stopped ({status})");
                return;
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                eprintln!("{name} did not stop within 30 s; killing it");
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
        }
    }
}

pub fn run(args: UpArgs) -> Result<()> {
    let root = workspace_root();
    let data = args.data_dir.unwrap_or_else(|| root.join("target/rmq"));
    std::fs::create_dir_all(data.join("logs"))?;
    if !args.no_build {
        build_release(&["rmq-namesrv", "rmq-broker"])?;
    }
    let bin = root.join("target/release");

    let ns_conf = data.join("namesrv.properties");
    std::fs::write(
        &ns_conf,
        format!(
            "listenPort={}\nkvConfigPath={}\n",
            args.namesrv_port,
            data.join("namesrv/kvConfig.json").display()
        ),
    )?;
    let broker_conf = data.join("broker.properties");
    std::fs::write(
        &broker_conf,
        format!(
            "brokerClusterName=DefaultCluster\nbrokerName=broker-a\nbrokerId=0\n\
             brokerIP1=127.0.0.1\nlistenPort={}\nstorePathRootDir={}\n\
             brokerRole=ASYNC_MASTER\nflushDiskType=ASYNC_FLUSH\n",
            args.broker_port,
            data.join("store").display()
        ),
    )?;

    let ns_log = data.join("logs/namesrv.out");
    let mut namesrv = spawn(
        &bin.join("mqnamesrv"),
        &["-c".into(), ns_conf.display().to_string()],
        &ns_log,
    )?;
    wait_port(&mut namesrv, "mqnamesrv", args.namesrv_port, &ns_log)?;
    let namesrv_addr = format!("127.0.0.1:{}", args.namesrv_port);
    let broker_log = data.join("logs/broker.out");
    let mut broker = match spawn(
        &bin.join("mqbroker"),
        &[
            "-c".into(),
            broker_conf.display().to_string(),
            "-n".into(),
            namesrv_addr.clone(),
        ],
        &broker_log,
    )
    .and_then(|mut b| wait_port(&mut b, "mqbroker", args.broker_port, &broker_log).map(|_| b))
    {
        Ok(b) => b,
        Err(e) => {
            terminate(&mut namesrv, "mqnamesrv");
            return Err(e);
        }
    };

    println!("rmq is up:");
    println!("  name server  {namesrv_addr}   (log {})", ns_log.display());
    println!(
        "  broker       127.0.0.1:{}  broker-a in DefaultCluster, store {} (log {})",
        args.broker_port,
        data.join("store").display(),
        broker_log.display()
    );
    println!();
    println!("send a first message:");
    println!("  cargo run --example producer -- -n {namesrv_addr} -t TopicTest");
    println!("and read it back:");
    println!("  cargo run --example push_consumer -- -n {namesrv_addr} -t TopicTest");
    println!();
    println!("Ctrl-C stops both daemons cleanly.");

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;
    while !stop.load(Ordering::SeqCst) {
        if let Some(s) = broker.try_wait()? {
            eprintln!(
                "mqbroker exited unexpectedly ({s}); see {}",
                broker_log.display()
            );
            break;
        }
        if let Some(s) = namesrv.try_wait()? {
            eprintln!(
                "mqnamesrv exited unexpectedly ({s}); see {}",
                ns_log.display()
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    terminate(&mut broker, "mqbroker");
    terminate(&mut namesrv, "mqnamesrv");
    Ok(())
}
