//! `cargo xtask cluster`: the deployment modes of `deploy/conf/` on this machine (controller
//! mode: its `controller-*.properties` start as `mqcontroller`s before the brokers).
//!
//! `cluster up --mode 2m-2s-sync` starts a name server and every broker of the mode on loopback,
//! from the shipped properties files with ports and store paths rewritten so several brokers fit
//! on one host; `cluster down` stops them with SIGTERM, waits, and reports. State lives under
//! `target/rmq-cluster/` (configs, stores, logs and a pid file).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::build::{build_release, release_dir, workspace_root};

#[derive(clap::Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Start a name server and every broker of a deployment mode.
    Up {
        /// 2m-noslave, 2m-2s-async, 2m-2s-sync or controller (the directories of deploy/conf).
        #[arg(long, default_value = "2m-2s-async")]
        mode: String,
        /// Name server port; brokers use 10911, 10921, ... (HA port = listen port + 1).
        #[arg(long, default_value_t = 9876)]
        namesrv_port: u16,
        #[arg(long, default_value_t = 10911)]
        broker_base_port: u16,
        /// Use the existing release binaries.
        #[arg(long)]
        no_build: bool,
    },
    /// Stop every daemon `cluster up` started.
    Down,
}

fn state_dir() -> PathBuf {
    workspace_root().join("target/rmq-cluster")
}

pub fn run(args: ClusterArgs) -> Result<()> {
    match args.action {
        Action::Up {
            mode,
            namesrv_port,
            broker_base_port,
            no_build,
        } => up(&mode, namesrv_port, broker_base_port, no_build),
        Action::Down => down(),
    }
}

/// The deployment modes: the directories of `deploy/conf/` holding broker properties files.
fn modes() -> Vec<String> {
    let mut modes: Vec<String> = std::fs::read_dir(workspace_root().join("deploy/conf"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    modes.sort();
    modes
}

fn broker_confs(mode: &str) -> Result<Vec<PathBuf>> {
    let dir = workspace_root().join("deploy/conf").join(mode);
    let known = modes();
    if !known.iter().any(|m| m == mode) {
        bail!(
            "unknown deployment mode {mode:?}; valid modes: {}",
            known.join(", ")
        );
    }
    let mut confs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "properties"))
        .filter(|p| !is_controller_conf(p))
        .collect();
    // Masters first so slaves find them registered.
    confs.sort_by_key(|p| (p.to_string_lossy().contains("-s."), p.clone()));
    Ok(confs)
}

/// `controller-*.properties`: a controller of the mode (controller mode).
fn is_controller_conf(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("controller-"))
}

fn controller_confs(mode: &str) -> Result<Vec<PathBuf>> {
    let dir = workspace_root().join("deploy/conf").join(mode);
    let mut confs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_controller_conf(p))
        .collect();
    confs.sort();
    Ok(confs)
}

/// Starts the mode's controllers on `first_port`, `first_port + 1`, ... with their peers and
/// stores rewritten for this host; returns `controllerAddr` for the brokers (empty when the mode
/// has none).
fn start_controllers(
    mode: &str,
    first_port: u16,
    bin: &Path,
    dir: &Path,
    log_dir: &str,
    pids: &mut Vec<(String, u32)>,
) -> Result<String> {
    let confs = controller_confs(mode)?;
    let ports: Vec<u16> = (0..confs.len() as u16).map(|i| first_port + i).collect();
    let peers: Vec<String> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("n{i}-127.0.0.1:{p}"))
        .collect();
    for (i, conf) in confs.iter().enumerate() {
        let name = format!("controller-n{i}");
        let mut text = std::fs::read_to_string(conf)?;
        text.push_str(&format!(
            "\n# rewritten by cargo xtask cluster for one host\ncontrollerDLegerPeers={}\n\
             controllerDLegerSelfId=n{i}\ncontrollerStorePath={}\n",
            peers.join(";"),
            dir.join(&name).display()
        ));
        let local = dir.join(format!("{name}.properties"));
        std::fs::write(&local, text)?;
        let log = dir.join(format!("logs/{name}.out"));
        let args = [
            "-c".into(),
            local.display().to_string(),
            "--log-dir".into(),
            log_dir.to_owned(),
        ];
        pids.push((name.clone(), spawn(&bin.join("mqcontroller"), &args, &log)?));
        wait_port(ports[i], &name, &log)?;
        println!("{name:<13} 127.0.0.1:{}", ports[i]);
    }
    Ok(ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(";"))
}

fn spawn(bin: &Path, args: &[String], log: &Path) -> Result<u32> {
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    Ok(child.id())
}

fn wait_port(port: u16, what: &str, log: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!(
                "{what} is not listening on {port} after 30 s; see {}",
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn up(mode: &str, namesrv_port: u16, base: u16, no_build: bool) -> Result<()> {
    let state = state_dir();
    if state.join("pids").exists() {
        bail!(
            "a cluster is already up (see {}); run `cargo xtask cluster down` first",
            state.join("pids").display()
        );
    }
    let confs = broker_confs(mode)?;
    if !no_build {
        build_release()?;
    }
    let bin = release_dir();
    let dir = state.join(mode);
    std::fs::create_dir_all(dir.join("logs"))?;
    // Every daemon logs here; the brokers share broker.log, each line prefixed by its name.
    let log_dir = dir.join("logs").display().to_string();
    let mut pids = Vec::new();

    let ns_conf = dir.join("namesrv.properties");
    std::fs::write(
        &ns_conf,
        format!(
            "listenPort={namesrv_port}\nkvConfigPath={}\n",
            dir.join("namesrv/kvConfig.json").display()
        ),
    )?;
    let ns_log = dir.join("logs/namesrv.out");
    pids.push((
        "mqnamesrv".to_owned(),
        spawn(
            &bin.join("mqnamesrv"),
            &[
                "-c".into(),
                ns_conf.display().to_string(),
                "--log-dir".into(),
                log_dir.clone(),
            ],
            &ns_log,
        )?,
    ));
    wait_port(namesrv_port, "mqnamesrv", &ns_log)?;
    let namesrv = format!("127.0.0.1:{namesrv_port}");
    println!("name server   {namesrv}");
    let controller_addr =
        start_controllers(mode, namesrv_port + 2, &bin, &dir, &log_dir, &mut pids)?;

    for (i, conf) in confs.iter().enumerate() {
        let name = conf
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let port = base + 10 * i as u16;
        let mut text = std::fs::read_to_string(conf)?;
        text.push_str(&format!(
            "\n# rewritten by cargo xtask cluster for one host\nbrokerIP1=127.0.0.1\nlistenPort={port}\ngrpcServerPort={}\nstorePathRootDir={}\n",
            port + 5,
            dir.join(&name).join("store").display()
        ));
        if !controller_addr.is_empty() {
            text.push_str(&format!("controllerAddr={controller_addr}\n"));
        }
        let local = dir.join(format!("{name}.properties"));
        std::fs::write(&local, text)?;
        let log = dir.join(format!("logs/{name}.out"));
        let pid = spawn(
            &bin.join("mqbroker"),
            &[
                "-c".into(),
                local.display().to_string(),
                "-n".into(),
                namesrv.clone(),
                "--log-dir".into(),
                log_dir.clone(),
            ],
            &log,
        )?;
        pids.push((name.clone(), pid));
        wait_port(port, &name, &log)?;
        println!(
            "{name:<13} 127.0.0.1:{port} (HA {}, gRPC {})  config {}",
            port + 1,
            port + 5,
            local.display()
        );
    }
    let pid_text: String = pids.iter().map(|(n, p)| format!("{p} {n}\n")).collect();
    std::fs::write(state.join("pids"), pid_text)?;
    println!(
        "\n{mode} is up; logs in {}. Stop it with `cargo xtask cluster down`.",
        dir.join("logs").display()
    );
    Ok(())
}

/// The program `pid` runs when it is not one of rmq's daemons (`mq*` binaries); `None` when it
/// is one, or when that cannot be read (then the pid file is trusted, as before).
fn foreign_process(pid: i32) -> Option<String> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let name = exe.file_name()?.to_string_lossy().into_owned();
    let name = name.trim_end_matches(" (deleted)");
    let ours = ["mqnamesrv", "mqbroker", "mqcontroller", "mqconsole"].contains(&name);
    (!ours).then(|| exe.display().to_string())
}

fn down() -> Result<()> {
    let pids_file = state_dir().join("pids");
    let text = std::fs::read_to_string(&pids_file)
        .with_context(|| format!("no cluster is up ({} is missing)", pids_file.display()))?;
    // Brokers first (they unregister from the name server), the name server last.
    let mut entries: Vec<(i32, String)> = text
        .lines()
        .filter_map(|l| {
            let (p, n) = l.split_once(' ')?;
            Some((p.parse().ok()?, n.to_owned()))
        })
        .collect();
    entries.reverse();
    for (pid, name) in entries {
        // SAFETY: kill(2) with signal 0/SIGTERM on a pid we recorded; no memory is involved.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        if !alive {
            println!("{name} (pid {pid}) was not running");
            continue;
        }
        // The pid may have been reused since `up` (a reboot, a crash): signal only rmq's own
        // daemons.
        if let Some(exe) = foreign_process(pid) {
            println!("{name}: pid {pid} is now {exe}, not an rmq daemon; left alone");
            continue;
        }
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        // SAFETY: as above.
        while unsafe { libc::kill(pid, 0) } == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        if unsafe { libc::kill(pid, 0) } == 0 {
            println!("{name} (pid {pid}) did not stop within 30 s");
        } else {
            println!("{name} (pid {pid}) stopped");
        }
    }
    std::fs::remove_file(&pids_file)?;
    Ok(())
}
