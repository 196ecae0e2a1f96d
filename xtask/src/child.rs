//! Daemons that die with `cargo xtask up`.
//!
//! `up` is a foreground command: when it goes, its daemons go. Ctrl-C, SIGTERM and SIGHUP (a
//! closed terminal) are caught and stop both daemons cleanly; if `up` is killed outright
//! (SIGKILL, a crash), each daemon was started with `PR_SET_PDEATHSIG` = SIGTERM, so the kernel
//! asks it to stop the same clean way. Nothing is left behind to answer the next `up` on the
//! same ports.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Starts `bin` with its output in `log` (truncated), to receive SIGTERM when this process dies.
pub fn spawn_tied(bin: &Path, args: &[String], log: &Path) -> Result<Child> {
    let out =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let err = out.try_clone()?;
    // SAFETY: getpid(2) has no preconditions.
    let parent = unsafe { libc::getpid() };
    let mut cmd = Command::new(bin);
    cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe calls
    // (prctl, getppid), allocating nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                return Err(std::io::Error::other("parent exited during spawn"));
            }
            Ok(())
        });
    }
    cmd.spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

/// Waits until `child` accepts connections on 127.0.0.1:`port`, failing early if it exits.
pub fn wait_port(child: &mut Child, name: &str, port: u16, log: &Path) -> Result<()> {
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

/// SIGTERM, then up to 30 s for a clean exit, then SIGKILL.
pub fn terminate(child: &mut Child, name: &str) {
    if let Ok(Some(status)) = child.try_wait() {
        eprintln!("{name} had already exited ({status})");
        return;
    }
    // SAFETY: kill(2) on a child we spawned and have not reaped; no memory is involved.
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
