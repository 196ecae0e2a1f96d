//! `cargo xtask <command>`: developer and operator automation for rmq.
//!
//! Each command lives in its own module; this file only parses arguments.

mod bench;
mod build;
mod child;
mod cluster;
mod compare;
mod dist;
mod rto;
mod soak;
mod up;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "rmq automation")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the workspace and start one name server and one broker on this machine.
    Up(up::UpArgs),
    /// Start or stop a deployment mode (2m-noslave, 2m-2s-async, 2m-2s-sync, controller) on this machine.
    Cluster(cluster::ClusterArgs),
    /// Run the benchmark suite and write target/bench/results.md.
    Bench(bench::BenchArgs),
    /// Build target/dist/rmq-<version>.tar.gz laid out like Apache's distribution.
    Dist(dist::DistArgs),
    /// Controller mode's recovery time: each fault N times on a fresh local cluster.
    Rto(rto::RtoArgs),
    /// SIGKILL soak: a SYNC_FLUSH broker under load killed and restarted N times, every
    /// acknowledged message checked after each restart.
    Soak(soak::SoakArgs),
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Cmd::Up(args) => up::run(args),
        Cmd::Cluster(args) => cluster::run(args),
        Cmd::Bench(args) => bench::run(args),
        Cmd::Dist(args) => dist::run(args),
        Cmd::Rto(args) => rto::run(args),
        Cmd::Soak(args) => soak::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The message and its causes, without a backtrace: these are user-facing errors.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
