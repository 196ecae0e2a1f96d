//! `cargo xtask rto`: the recovery-time series of controller mode. Builds the release binaries
//! and runs `crates/client/examples/failover_rto.rs` against them: each fault `--runs` times on
//! a fresh group in network namespaces (three controllers, a name server, a group of two
//! brokers, four producers, two consumers; needs root), printing median and max from the fault
//! to the first send the new master stores and acknowledges.

use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::build::{build_release, release_dir};

#[derive(Args)]
pub struct RtoArgs {
    /// Runs of each fault.
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// One fault only: kill, cut, kill-with-leader, stop or lagging.
    #[arg(long)]
    fault: Option<String>,
    /// Use the release binaries already built.
    #[arg(long)]
    no_build: bool,
}

pub fn run(args: RtoArgs) -> Result<()> {
    if !args.no_build {
        build_release()?;
    }
    let dir = release_dir();
    let mut cmd = Command::new(dir.join("examples/failover_rto"));
    cmd.args(["--runs", &args.runs.to_string()]);
    if let Some(f) = &args.fault {
        cmd.args(["--fault", f]);
    }
    let status = cmd
        .env("RMQ_BIN_DIR", &dir)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .status()
        .context("running target/release/examples/failover_rto")?;
    if !status.success() {
        bail!("failover_rto failed ({status})");
    }
    Ok(())
}
