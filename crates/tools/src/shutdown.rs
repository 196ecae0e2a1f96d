//! `mqshutdown`: stop the local `mqbroker` or `mqnamesrv` the way Apache's script does — find the
//! processes, send SIGTERM (the daemons' clean shutdown: stop accepting, finish requests, flush,
//! remove the abort file), and wait for them to go.
//!
//! Processes are recognised by their executable name (`/proc/<pid>/comm`, or the basename of
//! `/proc/<pid>/exe`), never by a substring of a command line, so an editor open on
//! `mqbroker.properties` is never signalled. A process that exited but was not yet reaped by its
//! parent (a zombie) counts as exited: it no longer holds ports or files.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Which daemon to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Daemon {
    /// mqbroker
    Broker,
    /// mqnamesrv
    Namesrv,
}

impl Daemon {
    /// The executable name.
    pub fn exe_name(self) -> &'static str {
        match self {
            Daemon::Broker => "mqbroker",
            Daemon::Namesrv => "mqnamesrv",
        }
    }
}

impl fmt::Display for Daemon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.exe_name())
    }
}

/// How one process's shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The process exited.
    Exited,
    /// The process was still running when the wait ended.
    StillRunning,
    /// kill(2) failed (permission, or it vanished first).
    SignalFailed(i32),
}

/// Whether `pid` runs the executable `name`.
pub fn is_process_named(pid: u32, name: &str) -> bool {
    let dir = Path::new("/proc").join(pid.to_string());
    let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
    // comm is the first 15 bytes of the executable name.
    if !comm.trim_end().is_empty() && comm.trim_end() == truncate_comm(name) {
        return true;
    }
    std::fs::read_link(dir.join("exe")).is_ok_and(|exe| {
        exe.file_name()
            .and_then(|f| f.to_str())
            .map(|f| f.trim_end_matches(" (deleted)"))
            == Some(name)
    })
}

fn truncate_comm(name: &str) -> &str {
    name.get(..15).unwrap_or(name)
}

/// Pids of running processes whose executable is `name`, ascending.
pub fn find_processes(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id();
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && is_process_named(pid, name) && !has_exited(pid))
        .collect();
    pids.sort_unstable();
    pids
}

/// Whether `pid` is gone or a zombie.
pub fn has_exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may itself contain ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
        Err(_) => true,
    }
}

/// Sends SIGTERM to `pid`.
fn terminate(pid: u32) -> Result<(), i32> {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return Err(libc::ESRCH);
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; `raw` is a positive pid
    // (never 0 or -1, which would signal a process group or everything).
    let rc = unsafe { libc::kill(raw, libc::SIGTERM) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EPERM))
    }
}

/// Stops `daemon` (every instance, or only `pid`), printing progress like Apache's script.
/// Returns whether every targeted process exited within `timeout`.
pub fn run(daemon: Daemon, pid: Option<u32>, timeout: Duration) -> bool {
    let name = daemon.exe_name();
    let pids = match pid {
        Some(p) if p > 0 && is_process_named(p, name) && !has_exited(p) => vec![p],
        Some(_) => Vec::new(),
        None => find_processes(name),
    };
    if pids.is_empty() {
        say(&format!("No {name} running."));
        return true;
    }
    let mut signalled = Vec::with_capacity(pids.len());
    let mut ok = true;
    for &p in &pids {
        say(&format!("The {name}({p}) is running..."));
        match terminate(p) {
            Ok(()) => {
                say(&format!("Send shutdown request to {name}({p}) OK"));
                signalled.push(p);
            }
            Err(errno) => {
                ok = false;
                report(name, p, Outcome::SignalFailed(errno), timeout);
            }
        }
    }
    let deadline = Instant::now() + timeout;
    let mut waiting = signalled;
    while !waiting.is_empty() && Instant::now() < deadline {
        waiting.retain(|&p| {
            if has_exited(p) {
                report(name, p, Outcome::Exited, timeout);
                false
            } else {
                true
            }
        });
        if !waiting.is_empty() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    for p in waiting {
        if has_exited(p) {
            report(name, p, Outcome::Exited, timeout);
        } else {
            ok = false;
            report(name, p, Outcome::StillRunning, timeout);
        }
    }
    ok
}

/// One line to stdout (a closed pipe is ignored).
fn say(line: &str) {
    crate::output::print_out(&format!("{line}\n"));
}

fn report(name: &str, pid: u32, outcome: Outcome, timeout: Duration) {
    match outcome {
        Outcome::Exited => say(&format!("The {name}({pid}) has exited.")),
        Outcome::StillRunning => eprintln!(
            "The {name}({pid}) is still running after {}s — it may still be flushing; check its \
             log, wait longer with --timeout, or force it with kill -9 {pid} (a broker then \
             recovers from its abort file at the next start).",
            timeout.as_secs()
        ),
        Outcome::SignalFailed(errno) if errno == libc::EPERM => eprintln!(
            "Cannot signal {name}({pid}): permission denied — run mqshutdown as the user that \
             started it."
        ),
        Outcome::SignalFailed(errno) => eprintln!(
            "Cannot signal {name}({pid}): {}",
            std::io::Error::from_raw_os_error(errno)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_itself_by_executable_name_only() {
        let me = std::process::id();
        let exe = std::env::current_exe().ok();
        let name = exe
            .as_deref()
            .and_then(|p| p.file_name())
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(is_process_named(me, &name));
        assert!(!is_process_named(me, "mqbroker"));
        assert!(!has_exited(me));
        assert!(has_exited(u32::MAX));
    }

    #[test]
    fn nothing_running_is_success() {
        // A pid that is not an mqbroker: reported as "No mqbroker running.", exit 0.
        assert!(run(
            Daemon::Broker,
            Some(std::process::id()),
            Duration::ZERO
        ));
    }
}
