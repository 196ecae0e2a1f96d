//! `mqbroker`: starts a broker from a RocketMQ broker properties file.
//!
//!     mqbroker -c conf/2m-2s-async/broker-a.properties -n "127.0.0.1:9876;127.0.0.2:9876"
//!     mqbroker -c broker.conf -p        # print the effective configuration and exit
//!
//! Thin on purpose: parse arguments, load the config, set up logging, call [`rmq_broker::run`]
//! with the shutdown signal. A bad config exits 2, a failed start exits 1, each with one line on
//! stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rmq_broker::BrokerStartupConfig;
use rmq_runtime::logging::{self, LogTarget};
use rmq_runtime::report::one_line;

#[derive(Parser)]
#[command(
    name = "mqbroker",
    version,
    about = "The rmq broker (Apache RocketMQ compatible)"
)]
struct Args {
    /// Broker config file (RocketMQ .properties format).
    #[arg(short = 'c', long = "configFile")]
    config: Option<PathBuf>,
    /// Name server address list, `host:port;host:port` (overrides namesrvAddr).
    #[arg(short = 'n', long = "namesrvAddr")]
    namesrv: Option<String>,
    /// Print the effective configuration and exit.
    #[arg(short = 'p', long = "printConfigItem")]
    print: bool,
    /// Directory for broker.log [default: logDir, else $RMQ_LOG_DIR, else ~/logs/rocketmqlogs].
    #[arg(long = "log-dir", value_name = "DIR")]
    log_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let loaded = BrokerStartupConfig::load(args.config.as_deref(), args.namesrv.as_deref());
    let (config, unknown) = match loaded {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mqbroker: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    if args.print {
        print!("{}", config.render());
        return ExitCode::SUCCESS;
    }
    rmq_runtime::report::exit("mqbroker", run(args, config, &unknown).map_err(Into::into))
}

fn run(args: Args, config: BrokerStartupConfig, unknown: &[String]) -> anyhow::Result<()> {
    logging::init(&LogTarget {
        dir: logging::log_dir(args.log_dir.as_deref(), &config.broker.log_dir),
        file_name: "broker.log".into(),
        prefix: config.broker.broker_name.clone(),
    })?;
    for key in unknown {
        tracing::warn!(key = %key, "unknown config key ignored; check its spelling");
    }
    Ok(rmq_runtime::signal::run_daemon("broker", |shutdown| {
        rmq_broker::run(config, shutdown)
    })??)
}
