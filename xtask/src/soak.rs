//! `cargo xtask soak`: the SIGKILL soak of `crates/client/examples/soak.rs` against the daemons
//! of the same build: a SYNC_FLUSH broker under load, killed at a random moment of every cycle
//! and restarted, every acknowledged message checked after each restart. Release build by
//! default (as `rto`); `--debug` uses the debug build, which is what CI runs for a few cycles.

use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::build::{build_release, release_dir, workspace_root};

#[derive(Args)]
pub struct SoakArgs {
    /// Kill-and-restart cycles.
    #[arg(long, default_value_t = 100)]
    cycles: usize,
    /// Use the debug build (built here with `cargo build --bins --examples`).
    #[arg(long)]
    debug: bool,
    /// Use the binaries already built.
    #[arg(long)]
    no_build: bool,
    /// `single` (one SYNC_FLUSH broker) or `2m-2s-sync` (two SYNC_MASTERs with a slave each,
    /// killed in turn).
    #[arg(long, default_value = "single")]
    mode: String,
}

pub fn run(args: SoakArgs) -> Result<()> {
    let dir = if args.debug {
        if !args.no_build {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .current_dir(workspace_root())
                .args(["build", "--bins", "--examples"])
                .status()
                .context("running cargo build")?;
            if !status.success() {
                bail!("cargo build failed ({status})");
            }
        }
        release_dir().with_file_name("debug")
    } else {
        if !args.no_build {
            build_release()?;
        }
        release_dir()
    };
    let status = Command::new(dir.join("examples/soak"))
        .current_dir(workspace_root())
        .args(["--cycles", &args.cycles.to_string(), "--mode", &args.mode])
        .env("RMQ_BIN_DIR", &dir)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .status()
        .with_context(|| format!("running {}", dir.join("examples/soak").display()))?;
    if !status.success() {
        bail!("the soak failed ({status}); its directory is kept under target/soak");
    }
    Ok(())
}
