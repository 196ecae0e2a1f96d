//! `mqnamesrv`: the rmq name server daemon, a drop-in for Apache's `mqnamesrv`.
//!
//! Thin on purpose: parse arguments, load the config, set up logging, call
//! [`rmq_namesrv::run`] with the shutdown signal. Every failure is one line on stderr and exit
//! code 1, so scripts and supervisors can tell what went wrong without reading a backtrace.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use rmq_controller::config::ControllerConfig;
use rmq_namesrv::config::UnappliedKeys;
use rmq_namesrv::NamesrvConfig;
use rmq_runtime::logging::{self, LogTarget};

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
    /// Directory for namesrv.log [default: logDir, else $RMQ_LOG_DIR, else ~/logs/rocketmqlogs].
    #[arg(long = "log-dir", value_name = "DIR")]
    log_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    rmq_runtime::report::exit("mqnamesrv", run(Args::parse()).map_err(Into::into))
}

fn run(args: Args) -> anyhow::Result<()> {
    let file = args.config_file.as_deref().unwrap_or(Path::new(""));
    let (config, mut keys) = match args.config_file.as_deref() {
        Some(path) => NamesrvConfig::from_file(path)?,
        None => (NamesrvConfig::default(), UnappliedKeys::default()),
    };
    // Embedded, the controller takes its keys from the same file (as Apache's name server).
    let controller = match config.enable_controller_in_namesrv {
        false => None,
        true => {
            let pairs = rmq_common::config::read_properties_file(file)?;
            let rest: Vec<(String, String)> = pairs
                .into_iter()
                .filter(|(k, _)| keys.unknown.contains(k) || keys.ignored.contains(k))
                .collect();
            let mut c = ControllerConfig::default();
            let ckeys = c.apply_pairs(&rest)?;
            keys.unknown = ckeys.unknown;
            Some(c)
        }
    };
    if args.print_config {
        // stdout carries the config; warnings about keys go to stderr.
        logging::init_stderr()?;
        keys.log(file);
        print!("{}", config.render());
        if let Some(c) = &controller {
            print!("{}", c.render());
        }
        return Ok(());
    }
    let dir = logging::log_dir(args.log_dir.as_deref(), &config.log_dir);
    logging::init(&LogTarget {
        dir,
        file_name: "namesrv.log".into(),
        prefix: String::new(),
    })?;
    keys.log(file);
    rmq_runtime::signal::run_daemon("namesrv", |shutdown| async move {
        let Some(controller) = controller else {
            return Ok(rmq_namesrv::run(config, shutdown).await?);
        };
        // One signal stops both.
        let stop = tokio_util::sync::CancellationToken::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            shutdown.await;
            on_signal.cancel();
        });
        // Either failing to start stops both, with its error.
        let ns = async {
            let r = rmq_namesrv::run(config, stop.clone().cancelled_owned()).await;
            stop.cancel();
            anyhow::Ok(r?)
        };
        let ctl = async {
            let r = rmq_controller::daemon::run(controller, stop.clone().cancelled_owned()).await;
            stop.cancel();
            anyhow::Ok(r?)
        };
        tokio::try_join!(ns, ctl)?;
        anyhow::Ok(())
    })?
}
