//! `mqshutdown broker|namesrv`: stops the local `mqbroker` or `mqnamesrv` gracefully with
//! SIGTERM and waits for it to exit, like Apache's `mqshutdown` script.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rmq_tools::shutdown::{self, Daemon};

/// Stop the mqbroker or mqnamesrv running on this machine.
#[derive(Debug, Parser)]
#[command(name = "mqshutdown", version)]
struct Args {
    /// Which daemon to stop.
    daemon: Daemon,
    /// Only this process (it must be the named daemon).
    #[arg(long)]
    pid: Option<u32>,
    /// Seconds to wait for each process to exit.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if shutdown::run(args.daemon, args.pid, Duration::from_secs(args.timeout)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
