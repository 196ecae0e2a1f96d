//! `mqnamesrv`: the rmq name server daemon, a drop-in for Apache's `mqnamesrv`.
//!
//! Thin on purpose: parse arguments, set up logging, load the config, call the library, wait for
//! SIGTERM or SIGINT. Every failure is one line on stderr and exit code 1, so scripts and
//! supervisors can tell what went wrong without reading a backtrace.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use rmq_namesrv::NamesrvConfig;
use tracing::{error, info, warn};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The rmq name server (Apache RocketMQ compatible).
#[derive(Debug, Parser)]
#[command(name = "mqnamesrv", version)]
struct Args {
    /// Name server config file (Java .properties, Apache's keys, e.g. listenPort, kvConfigPath).
    #[arg(short = 'c', long = "configFile", value_name = "FILE")]
    config_file: Option<PathBuf>,
    /// Print the effective config as key=value lines and exit.
    #[arg(short = 'p', long = "printConfigItem")]
    print_config: bool,
    /// Directory for namesrv.log [default: $RMQ_LOG_DIR, else ~/logs/rocketmqlogs].
    #[arg(long = "log-dir", value_name = "DIR")]
    log_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let line = one_line(&e);
            error!("{line}");
            eprintln!("mqnamesrv: {line}");
            ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line, skipping causes their parent already quotes.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line.replace('\n', " ")
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.print_config {
        // stdout carries the config; logs (warnings about keys) go to stderr.
        init_logging(None)?;
        let config = load_config(args.config_file.as_deref())?;
        print!("{}", config.render());
        return Ok(());
    }
    let log_dir = args
        .log_dir
        .or_else(|| std::env::var_os("RMQ_LOG_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(rmq_common::config::expand_home("~/logs/rocketmqlogs")));
    init_logging(Some(&log_dir))?;
    let config = load_config(args.config_file.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("namesrv")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))
}

async fn serve(config: NamesrvConfig) -> anyhow::Result<()> {
    let listener = rmq_namesrv::bind(&config).await?;
    let namesrv = rmq_namesrv::start(config, listener).await?;
    // Apache prints this line and start scripts grep for it.
    println!("The Name Server boot success. serializeType=JSON");
    println!("listening on {}", namesrv.local_addr());
    let signal = wait_for_signal().await;
    info!(signal, "shutting down");
    namesrv.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = tokio::signal::ctrl_c() => "SIGINT",
        },
        Err(e) => {
            warn!(error = %e, "cannot listen for SIGTERM; stopping on SIGINT only");
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

fn load_config(path: Option<&Path>) -> anyhow::Result<NamesrvConfig> {
    let Some(path) = path else {
        return Ok(NamesrvConfig::default());
    };
    let (config, keys) = NamesrvConfig::from_file(path)?;
    for key in &keys.unknown {
        warn!(key = %key, file = %path.display(), "unknown config key {key:?} ignored");
    }
    for key in &keys.ignored {
        info!(key = %key, "config key {key:?} has no effect in rmq");
    }
    info!(file = %path.display(), "config loaded");
    Ok(config)
}

/// A running daemon logs to stdout and to `<log_dir>/namesrv.log`; without a log dir (`-p`)
/// logs go to stderr only. `RUST_LOG` filters (default `info`).
fn init_logging(log_dir: Option<&Path>) -> anyhow::Result<()> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let console = match log_dir {
        Some(_) => fmt::layer()
            .with_writer(BoxMakeWriter::new(std::io::stdout))
            .with_ansi(std::io::stdout().is_terminal()),
        None => fmt::layer()
            .with_writer(BoxMakeWriter::new(std::io::stderr))
            .with_ansi(std::io::stderr().is_terminal()),
    }
    .with_filter(filter());
    let file_layer = match log_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the log directory {}", dir.display()))?;
            let path = dir.join("namesrv.log");
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot open the log file {}", path.display()))?;
            Some(
                fmt::layer()
                    .with_writer(Arc::new(file))
                    .with_ansi(false)
                    .with_filter(filter()),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(console)
        .with(file_layer)
        .try_init()
        .context("cannot set up logging")?;
    Ok(())
}
