//! `cargo xtask up`: a working single-broker cluster on this machine with defaults.
//!
//! Builds the workspace once (see `build.rs`), starts `mqnamesrv` on port 9876 and `mqbroker` on
//! port 10911 (both listen on every interface, 0.0.0.0; the broker registers as 127.0.0.1) and
//! the web console `mqconsole` on 127.0.0.1:8080 (no login, loopback only), with data and logs
//! under `target/rmq/`, prints where they listen, and stops them with SIGTERM on Ctrl-C, SIGTERM
//! or SIGHUP (the broker flushes and removes its abort file). The daemons die with `up` however
//! it ends (`child.rs`), and `up` refuses to start over a cluster that is already running rather
//! than truncating the logs it is writing.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::build::{build_release, release_dir, workspace_root};
use crate::child::{spawn_tied, terminate, wait_port};

#[derive(clap::Args)]
pub struct UpArgs {
    /// Name server port.
    #[arg(long, default_value_t = 9876)]
    namesrv_port: u16,
    /// Broker port (the HA port is this + 1).
    #[arg(long, default_value_t = 10911)]
    broker_port: u16,
    /// The broker's gRPC port (5.x clients); 0 serves no gRPC.
    #[arg(long, default_value_t = 8081)]
    grpc_port: u16,
    /// The web console's port (`mqconsole`, loopback only, no login); 0 starts no console.
    #[arg(long, default_value_t = 8080)]
    console_port: u16,
    /// Where the store, configs and logs go (default: target/rmq).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Use the existing binaries instead of building.
    #[arg(long)]
    no_build: bool,
}

pub fn run(args: UpArgs) -> Result<()> {
    let data = args
        .data_dir
        .clone()
        .unwrap_or_else(|| workspace_root().join("target/rmq"));
    let pid_file = data.join("up.pid");
    refuse_if_running(&pid_file, &args)?;
    if !args.no_build {
        build_release()?;
    }
    let logs = data.join("logs");
    std::fs::create_dir_all(&logs)?;
    std::fs::write(&pid_file, format!("{}\n", std::process::id()))?;
    let result = serve(&args, &data, &logs);
    let _ = std::fs::remove_file(&pid_file);
    result
}

/// A live `up` (its pid file names a running xtask) or anything on our ports stops us here.
fn refuse_if_running(pid_file: &Path, args: &UpArgs) -> Result<()> {
    if let Some(pid) = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
    {
        if pid != std::process::id() && is_live_xtask(pid) {
            bail!(
                "rmq is already up: `cargo xtask up` runs as pid {pid} (see {}). Stop it with \
                 Ctrl-C in its terminal or `kill {pid}`; its daemons stop with it.",
                pid_file.display()
            );
        }
    }
    let ports = [
        (args.namesrv_port, "the name server port"),
        (args.broker_port, "the broker port"),
        (args.broker_port.wrapping_add(1), "the broker's HA port"),
        (args.grpc_port, "the broker's gRPC port"),
        (args.console_port, "the console port"),
    ];
    for (port, what) in ports.into_iter().filter(|(p, _)| *p != 0) {
        if std::net::TcpStream::connect_timeout(
            &([127, 0, 0, 1], port).into(),
            Duration::from_millis(500),
        )
        .is_ok()
        {
            bail!(
                "port {port} ({what}) is already in use: is a cluster already running? One \
                 started by `cargo xtask cluster up` stops with `cargo xtask cluster down`; \
                 otherwise stop what holds the port (`ss -ltnp | grep :{port}`) or choose \
                 other ports with --namesrv-port, --broker-port, --grpc-port and --console-port."
            );
        }
    }
    Ok(())
}

/// Whether `pid` is a running (not exited, not zombie) process named `xtask`: a pid file left
/// by an `up` that was killed must not block the next one.
fn is_live_xtask(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "<pid> (<comm>) <state> ...": comm may hold spaces or parentheses, the state follows the
    // last ')'.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].trim_start().chars().next();
    comm == "xtask" && !matches!(state, Some('Z' | 'X' | 'x'))
}

fn serve(args: &UpArgs, data: &Path, logs: &Path) -> Result<()> {
    let bin = release_dir();
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
             brokerIP1=127.0.0.1\nlistenPort={}\ngrpcServerPort={}\nstorePathRootDir={}\n\
             brokerRole=ASYNC_MASTER\nflushDiskType=ASYNC_FLUSH\n",
            args.broker_port,
            args.grpc_port,
            data.join("store").display()
        ),
    )?;
    let log_dir = logs.display().to_string();

    // Stop requests are caught before any daemon starts, so none can slip between.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("cannot catch Ctrl-C/SIGTERM/SIGHUP")?;

    // Started in order, each once the one before listens; stopped in reverse order.
    let mut running: Vec<(Child, &str, PathBuf)> = Vec::new();
    let namesrv_addr = format!("127.0.0.1:{}", args.namesrv_port);
    let mut daemons = vec![
        (
            "mqnamesrv",
            args.namesrv_port,
            vec![
                "-c".into(),
                ns_conf.display().to_string(),
                "--log-dir".into(),
                log_dir.clone(),
            ],
            logs.join("namesrv.out"),
        ),
        (
            "mqbroker",
            args.broker_port,
            vec![
                "-c".into(),
                broker_conf.display().to_string(),
                "-n".into(),
                namesrv_addr.clone(),
                "--log-dir".into(),
                log_dir,
            ],
            logs.join("broker.out"),
        ),
    ];
    if args.console_port != 0 {
        daemons.push((
            "mqconsole",
            args.console_port,
            vec![
                "-n".into(),
                namesrv_addr.clone(),
                "--listen".into(),
                format!("127.0.0.1:{}", args.console_port),
            ],
            logs.join("console.out"),
        ));
    }
    for (name, port, argv, out) in daemons {
        let started = spawn_tied(&bin.join(name), &argv, &out)
            .and_then(|mut c| wait_port(&mut c, name, port, &out).map(|()| c));
        match started {
            Ok(c) => running.push((c, name, out)),
            Err(e) => {
                stop_all(&mut running);
                return Err(e);
            }
        }
    }

    print_banner(args, &namesrv_addr, data, logs);
    let mut died = None;
    while !stop.load(Ordering::SeqCst) && died.is_none() {
        for (child, name, out) in running.iter_mut() {
            if let Some(s) = child.try_wait()? {
                died = Some(format!(
                    "{name} exited unexpectedly ({s}); see {}",
                    out.display()
                ));
                break;
            }
        }
        if died.is_none() {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    stop_all(&mut running);
    match died {
        Some(why) => bail!(why),
        None => Ok(()),
    }
}

/// SIGTERM to each daemon, the last started first, waiting for each.
fn stop_all(running: &mut Vec<(Child, &str, PathBuf)>) {
    while let Some((mut child, name, _)) = running.pop() {
        terminate(&mut child, name);
    }
}

fn print_banner(args: &UpArgs, namesrv_addr: &str, data: &Path, logs: &Path) {
    println!("rmq is up (listening on all interfaces, 0.0.0.0):");
    println!("  name server  {namesrv_addr}");
    println!(
        "  broker       127.0.0.1:{} (HA {}, gRPC {})  broker-a in DefaultCluster, store {}",
        args.broker_port,
        args.broker_port.wrapping_add(1),
        if args.grpc_port == 0 {
            "off".to_owned()
        } else {
            args.grpc_port.to_string()
        },
        data.join("store").display()
    );
    if args.console_port != 0 {
        println!(
            "  console      http://127.0.0.1:{}  (web console; no login, this machine only)",
            args.console_port
        );
    }
    println!(
        "  logs         {} (namesrv.log, broker.log, console.out)",
        logs.display()
    );
    println!();
    println!("send a first message:");
    println!("  cargo run --release --example producer -- -n {namesrv_addr} -t TopicTest");
    println!("and read it back:");
    println!("  cargo run --release --example push_consumer -- -n {namesrv_addr} -t TopicTest");
    println!("look at the cluster:");
    println!("  target/release/mqadmin clusterList -n {namesrv_addr}");
    println!();
    println!("Ctrl-C stops every daemon cleanly.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_when_a_port_is_taken_and_says_how_to_stop_it() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let args = UpArgs {
            namesrv_port: port,
            broker_port: port,
            grpc_port: port,
            console_port: port,
            data_dir: None,
            no_build: true,
        };
        let e = refuse_if_running(Path::new("/nonexistent/up.pid"), &args)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("port {port}")), "{e}");
        assert!(e.contains("cargo xtask cluster down"), "{e}");
    }

    #[test]
    fn only_a_live_xtask_counts_as_running() {
        assert!(!is_live_xtask(u32::MAX));
        // This test binary is named xtask-<hash>, not xtask.
        assert!(!is_live_xtask(std::process::id()));
    }
}
