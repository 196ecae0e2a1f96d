//! `mqadmin`: administration of an rmq or Apache RocketMQ cluster. Thin on purpose: parse the
//! arguments, run the command, turn an error into a message and a non-zero exit code.

use std::process::ExitCode;

use clap::Parser;
use rmq_tools::cli::{self, MqAdmin};

fn main() -> ExitCode {
    let args = MqAdmin::parse_from(cli::apache_args(std::env::args_os()));
    // Debug output only, on request: RUST_LOG=debug mqadmin ...
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mqadmin: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mqadmin: {e:#}");
            ExitCode::FAILURE
        }
    }
}
