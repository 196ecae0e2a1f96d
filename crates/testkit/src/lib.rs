//! Support for rmq's system tests: start the real daemons as child processes with their own data
//! directory and free ports, keep each test's logs, signal them (SIGTERM for a clean stop, SIGKILL
//! for a crash) and make sure nothing outlives the test.
//!
//! Binaries are found next to the running test executable (`target/<profile>/`), which is where
//! `cargo test --workspace` puts every workspace binary before it runs any test. A test can also
//! point at a binary explicitly with `RMQ_BIN_DIR`.

#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub mod faultfs;
pub mod netns;

/// A port on 127.0.0.1 that was free a moment ago. The ports a daemon derives from it (the
/// broker's HA port is listenPort + 1, its VIP port listenPort - 2) are free too, and none of
/// these is handed out again by this process, so daemons configured before any of them starts
/// cannot collide.
///
/// Ports come from below the kernel's ephemeral range (`net.ipv4.ip_local_port_range`): a port
/// from that range can be taken by any outgoing connection (a client of another test, a broker
/// heartbeat) between this answer and the daemon's bind, which once failed a CI run with the
/// broker's HA port "already in use". Each process starts at its own offset so test binaries
/// running side by side rarely probe the same ports.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    const LOW: u32 = 10_000;
    let high = ephemeral_low().saturating_sub(4).max(LOW + 1_000);
    let span_len = high - LOW;
    if NEXT.load(Ordering::Relaxed) == u32::MAX {
        let seed = std::process::id()
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
        let _ = NEXT.compare_exchange(
            u32::MAX,
            seed % span_len,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }
    for _ in 0..span_len {
        let step = NEXT.fetch_add(4, Ordering::Relaxed);
        let port = (LOW + step % span_len) as u16;
        let span = [port - 2, port - 1, port, port + 1];
        let mut given = GIVEN.lock().unwrap();
        if span.iter().any(|p| given.contains(p)) {
            continue;
        }
        if span.iter().all(|p| port_is_free(*p)) {
            given.extend(span);
            return port;
        }
    }
    panic!("no free port pair below the ephemeral range {LOW}..{high}");
}

/// The first port of the kernel's ephemeral range (32768 when it cannot be read).
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Directory holding the workspace binaries for this test run.
pub fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("RMQ_BIN_DIR") {
        return PathBuf::from(dir);
    }
    // target/<profile>/deps/<test-exe> -> target/<profile>
    let exe = std::env::current_exe().unwrap();
    let mut dir = exe.parent().unwrap().to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir
}

/// Path of a workspace binary, with a clear error when it has not been built.
pub fn binary(name: &str) -> Result<PathBuf> {
    let p = bin_dir().join(name);
    if !p.exists() {
        bail!(
            "binary {} not found; build it first (`cargo build --bin {name}`) or run the tests \
             with `cargo test --workspace`, which builds every daemon",
            p.display()
        );
    }
    Ok(p)
}

/// A daemon started by a test. Dropping it kills it (SIGKILL) so nothing outlives the test.
pub struct Daemon {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    /// Starts `binary` with `args`; stdout and stderr go to `<log_dir>/<name>.log` (appended, so
    /// a restart keeps the earlier run's lines).
    pub fn start(name: &str, binary: &Path, args: &[&str], log_dir: &Path) -> Result<Daemon> {
        let mut cmd = Command::new(binary);
        cmd.args(args);
        Daemon::from_command(name, cmd, log_dir)
    }

    /// Starts a prepared command (for example one that enters a network namespace, see
    /// [`netns::Net::spawn`]) the way [`Daemon::start`] does: stdin closed, stdout and stderr
    /// appended to `<log_dir>/<name>.log`, `RUST_LOG` passed on (default `info`) unless `cmd`
    /// sets it. The daemon's pid is the spawned process's, so the command must exec the daemon
    /// rather than fork it, or signals and the kill on drop would miss it.
    pub fn from_command(name: &str, mut cmd: Command, log_dir: &Path) -> Result<Daemon> {
        std::fs::create_dir_all(log_dir)?;
        let log = log_dir.join(format!("{name}.log"));
        let out = File::options().create(true).append(true).open(&log)?;
        let err = out.try_clone()?;
        if !cmd.get_envs().any(|(k, _)| k == "RUST_LOG") {
            cmd.env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            );
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| {
                let words: Vec<_> = std::iter::once(cmd.get_program())
                    .chain(cmd.get_args())
                    .map(|w| w.to_string_lossy())
                    .collect();
                format!("starting {}", words.join(" "))
            })?;
        Ok(Daemon {
            name: name.to_owned(),
            child: Some(child),
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The daemon's log so far, for assertions and failure messages.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `addr` accepts TCP connections, failing with the log if the daemon exits.
    pub fn wait_listening(&mut self, addr: SocketAddr, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.try_status()? {
                bail!(
                    "{} exited with {status} before listening on {addr}; log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{} is not listening on {addr} after {timeout:?}; log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn try_status(&mut self) -> Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(c) => Ok(c.try_wait()?),
            None => bail!("{} was already reaped", self.name),
        }
    }

    /// Sends a signal without waiting.
    pub fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: kill(2) with a pid we spawned and own; no memory is involved.
            unsafe {
                libc::kill(c.id() as libc::pid_t, sig);
            }
        }
    }

    /// SIGSTOP, then waits until every thread of the process is stopped: kill(2) returns
    /// before the threads stop, and a thread still running can, for instance, acknowledge a
    /// replicated write the caller believes can no longer be acknowledged.
    pub fn freeze(&self) -> Result<()> {
        self.signal(libc::SIGSTOP);
        let tasks = format!("/proc/{}/task", self.pid());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let mut all_stopped = true;
            for t in std::fs::read_dir(&tasks)? {
                let stat = std::fs::read_to_string(t?.path().join("stat")).unwrap_or_default();
                // The state follows the parenthesised command name.
                let state = stat
                    .rsplit(')')
                    .next()
                    .and_then(|r| r.split_whitespace().next());
                all_stopped &= matches!(state, Some("T" | "t"));
            }
            if all_stopped {
                return Ok(());
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "{}: not every thread stopped 10 s after SIGSTOP",
                self.name
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// SIGTERM, then waits for the exit status (SIGKILL after `timeout`).
    pub fn terminate(mut self, timeout: Duration) -> Result<ExitStatus> {
        self.signal(libc::SIGTERM);
        self.wait_exit(timeout)
    }

    /// SIGKILL and reap: a crash as the daemon sees it.
    pub fn kill(mut self) -> Result<ExitStatus> {
        self.signal(libc::SIGKILL);
        self.wait_exit(Duration::from_secs(10))
    }

    fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let mut child = self.child.take().context("already reaped")?;
        loop {
            if let Some(s) = child.try_wait()? {
                return Ok(s);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{} did not exit within {timeout:?}; log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A temporary directory that is kept (and printed) when the `RMQ_KEEP_TEST_DIRS` variable is
/// set, so a failing system test's data and logs can be inspected.
pub fn test_dir(prefix: &str) -> tempfile::TempDir {
    let keep = std::env::var_os("RMQ_KEEP_TEST_DIRS").is_some();
    let d = tempfile::Builder::new()
        .prefix(prefix)
        .disable_cleanup(keep)
        .tempdir()
        .unwrap();
    if keep {
        eprintln!("keeping test dir {}", d.path().display());
    }
    d
}

/// Starts again the `mqnamesrv` that [`namesrv_process`] started as `name` under `dir`, on the
/// same address `addr` (after it was killed); returns it once it listens.
pub fn namesrv_restart(dir: &Path, name: &str, addr: &str) -> Result<Daemon> {
    let conf = dir.join(format!("{name}.properties"));
    let logs = dir.join("logs");
    let conf = conf.to_string_lossy().into_owned();
    let log_arg = logs.to_string_lossy().into_owned();
    let bin = binary("mqnamesrv")?;
    let args = ["-c", conf.as_str(), "--log-dir", log_arg.as_str()];
    let mut d = Daemon::start(name, &bin, &args, &logs)?;
    d.wait_listening(addr.parse()?, Duration::from_secs(20))?;
    Ok(d)
}

/// Starts `mqnamesrv` on a free port with its files under `dir/<name>`; returns it and its
/// address once it listens.
pub fn namesrv_process(dir: &Path, name: &str) -> Result<(Daemon, String)> {
    let port = free_port();
    let conf = dir.join(format!("{name}.properties"));
    let kv = dir.join(name).join("kv.json");
    std::fs::write(
        &conf,
        format!("listenPort={port}\nkvConfigPath={}\n", kv.display()),
    )?;
    let bin = binary("mqnamesrv")?;
    let logs = dir.join("logs");
    let conf = conf.to_string_lossy().into_owned();
    let log_arg = logs.to_string_lossy().into_owned();
    let args = ["-c", conf.as_str(), "--log-dir", log_arg.as_str()];
    let mut d = Daemon::start(name, &bin, &args, &logs)?;
    let addr = format!("127.0.0.1:{port}");
    d.wait_listening(addr.parse()?, Duration::from_secs(20))?;
    Ok((d, addr))
}

/// Starts a master `mqbroker` named `name` on a free port, registered with `namesrv`, its
/// store under `dir/<name>` with small files, and `extra` properties lines appended (later keys
/// win). Returns it and its address once it listens.
pub fn broker_process(
    dir: &Path,
    name: &str,
    namesrv: &str,
    extra: &str,
) -> Result<(Daemon, String)> {
    let port = free_port();
    let conf = dir.join(format!("{name}.properties"));
    std::fs::write(
        &conf,
        format!(
            "brokerName={name}\nbrokerIP1=127.0.0.1\nlistenPort={port}\nstorePathRootDir={}\n\
             mappedFileSizeCommitLog=16777216\nmappedFileSizeConsumeQueue=1200000\n\
             maxIndexNum=200000\nmaxHashSlotNum=20000\ngrpcServerPort=0\n{extra}\n",
            dir.join(name).join("store").display()
        ),
    )?;
    let bin = binary("mqbroker")?;
    let logs = dir.join("logs");
    let conf = conf.to_string_lossy().into_owned();
    let args = ["-c", conf.as_str(), "-n", namesrv];
    let mut d = Daemon::start(name, &bin, &args, &logs)?;
    let addr = format!("127.0.0.1:{port}");
    d.wait_listening(addr.parse()?, Duration::from_secs(20))?;
    Ok((d, addr))
}

/// Starts again the `mqbroker` that [`broker_process`] started as `name` under `dir` (same
/// properties file, port and store), registered with `namesrv`; returns it once it listens on
/// `addr`.
pub fn broker_restart(dir: &Path, name: &str, namesrv: &str, addr: &str) -> Result<Daemon> {
    broker_restart_with_env(dir, name, namesrv, addr, &[])
}

/// [`broker_restart`] with environment variables set for the broker (for example
/// [`faketime`]'s, to run it with its wall clock shifted).
pub fn broker_restart_with_env(
    dir: &Path,
    name: &str,
    namesrv: &str,
    addr: &str,
    env: &[(String, String)],
) -> Result<Daemon> {
    let conf = dir.join(format!("{name}.properties"));
    let mut cmd = Command::new(binary("mqbroker")?);
    cmd.args(["-c", &conf.to_string_lossy(), "-n", namesrv]);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let mut d = Daemon::from_command(name, cmd, &dir.join("logs"))?;
    d.wait_listening(addr.parse()?, Duration::from_secs(60))?;
    Ok(d)
}

/// Where Debian's libfaketime puts the preload library (`apt-get install libfaketime`).
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// The environment that runs a process with its wall clock (`CLOCK_REALTIME`) shifted by
/// `offset` (libfaketime's syntax: `-2d`, `+5d`, `-3h`); the monotonic clock is left alone, as a
/// real clock jump leaves it. An error (never a silent skip) when libfaketime is not installed.
pub fn faketime(offset: &str) -> Result<Vec<(String, String)>> {
    if !Path::new(LIBFAKETIME).exists() {
        bail!(
            "{LIBFAKETIME} is missing: the clock-jump tests need libfaketime \
             (apt-get install libfaketime; .ci/install-tools.sh installs it)"
        );
    }
    Ok(vec![
        ("LD_PRELOAD".into(), LIBFAKETIME.into()),
        ("FAKETIME".into(), offset.into()),
        ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
        ("FAKETIME_NO_CACHE".into(), "1".into()),
    ])
}

/// Starts `mqconsole` for the name servers `namesrv` on a free loopback port with `args`
/// added (`--users FILE`, `--sample-interval 1`, ...); returns it and its base URL,
/// `http://127.0.0.1:PORT`, once it listens.
pub fn console_process(dir: &Path, namesrv: &str, args: &[&str]) -> Result<(Daemon, String)> {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let bin = binary("mqconsole")?;
    let mut all = vec!["-n", namesrv, "--listen", listen.as_str()];
    all.extend_from_slice(args);
    let mut d = Daemon::start("console", &bin, &all, &dir.join("logs"))?;
    d.wait_listening(listen.parse()?, Duration::from_secs(20))?;
    Ok((d, format!("http://{listen}")))
}

/// Starts a group of `n` `mqcontroller`s on free ports (members `n0`, `n1`, ...), their Raft
/// stores under `dir/controller-n<k>`, with `extra` properties lines appended; returns them and
/// their addresses once each listens. Brokers' `controllerAddr` is the addresses joined by `;`.
pub fn controller_group(dir: &Path, n: usize, extra: &str) -> Result<Vec<(Daemon, String)>> {
    controller_group_at(dir, n, "127.0.0.1", extra)
}

/// [`controller_group`] on `host` (an address of this machine, e.g. a test network's bridge, so
/// brokers in network namespaces reach them).
pub fn controller_group_at(
    dir: &Path,
    n: usize,
    host: &str,
    extra: &str,
) -> Result<Vec<(Daemon, String)>> {
    let addrs: Vec<String> = (0..n).map(|_| format!("{host}:{}", free_port())).collect();
    let peers: Vec<String> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| format!("n{i}-{a}"))
        .collect();
    let mut group = Vec::new();
    for (i, addr) in addrs.into_iter().enumerate() {
        let conf = dir.join(format!("controller-n{i}.properties"));
        std::fs::write(
            &conf,
            format!(
                "controllerDLegerPeers={}\ncontrollerDLegerSelfId=n{i}\ncontrollerStorePath={}\n{extra}\n",
                peers.join(";"),
                dir.join(format!("controller-n{i}")).display()
            ),
        )?;
        group.push((controller_start(dir, i, &addr)?, addr));
    }
    Ok(group)
}

/// Starts member `n<i>` of a group made by [`controller_group_at`] (at first, or again after a
/// stop: same configuration,
/// same Raft store), once it listens on `addr`.
pub fn controller_start(dir: &Path, i: usize, addr: &str) -> Result<Daemon> {
    let name = format!("controller-n{i}");
    let conf = dir.join(format!("{name}.properties"));
    let bin = binary("mqcontroller")?;
    let logs = dir.join("logs");
    let conf = conf.to_string_lossy().into_owned();
    let log_arg = logs.to_string_lossy().into_owned();
    let args = ["-c", conf.as_str(), "--log-dir", log_arg.as_str()];
    let mut d = Daemon::start(&name, &bin, &args, &logs)?;
    d.wait_listening(addr.parse()?, Duration::from_secs(20))?;
    Ok(d)
}
