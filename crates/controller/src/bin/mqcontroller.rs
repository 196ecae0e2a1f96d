//! `mqcontroller`: an rmq controller daemon, for Apache RocketMQ 5's controller mode (automatic
//! master failover). Thin on purpose: arguments, config, logging, then
//! [`rmq_controller::daemon::run`] with the shutdown signal. Every failure is one line on
//! stderr and exit code 1.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rmq_controller::config::{ControllerConfig, UnappliedKeys};
use rmq_runtime::logging::{self, LogTarget};

/// The rmq controller (Apache RocketMQ controller mode compatible).
#[derive(Debug, Parser)]
#[command(name = "mqcontroller", version)]
struct Args {
    /// Controller config file (Java .properties, Apache's keys: controllerDLegerPeers,
    /// controllerDLegerSelfId, controllerStorePath, ...).
    #[arg(short = 'c', long = "configFile", value_name = "FILE")]
    config_file: PathBuf,
    /// Print the effective config as key=value lines and exit.
    #[arg(short = 'p', long = "printConfigItem")]
    print_config: bool,
    /// Directory for controller.log [default: logDir, else $RMQ_LOG_DIR, else ~/logs/rocketmqlogs].
    #[arg(long = "log-dir", value_name = "DIR")]
    log_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    rmq_runtime::report::exit("mqcontroller", run(Args::parse()).map_err(Into::into))
}

fn run(args: Args) -> anyhow::Result<()> {
    let (config, keys): (ControllerConfig, UnappliedKeys) =
        ControllerConfig::from_file(&args.config_file)?;
    if args.print_config {
        logging::init_stderr()?;
        keys.log(&args.config_file);
        print!("{}", config.render());
        return Ok(());
    }
    let dir = logging::log_dir(args.log_dir.as_deref(), &config.log_dir);
    logging::init(&LogTarget {
        dir,
        file_name: "controller.log".into(),
        prefix: String::new(),
    })?;
    keys.log(args.config_file.as_path());
    Ok(rmq_runtime::signal::run_daemon(
        "controller",
        |shutdown| rmq_controller::daemon::run(config, shutdown),
    )??)
}
