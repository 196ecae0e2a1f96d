//! `mqbroker`: starts a broker from a RocketMQ broker properties file.
//!
//!     mqbroker -c conf/2m-2s-async/broker-a.properties -n "127.0.0.1:9876;127.0.0.2:9876"
//!     mqbroker -c broker.conf -p        # print the effective configuration and exit

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rmq_broker::{Broker, BrokerStartupConfig};

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
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (config, unknown) =
        match BrokerStartupConfig::load(args.config.as_deref(), args.namesrv.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mqbroker: {e}");
                return ExitCode::from(2);
            }
        };
    if args.print {
        print!("{}", config.render());
        return ExitCode::SUCCESS;
    }
    let log_dir = rmq_broker::logging::log_dir();
    rmq_broker::logging::init(&log_dir, "broker.log");
    for key in unknown {
        tracing::warn!(key = %key, "unknown config key ignored; check its spelling");
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mqbroker: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let broker = match Broker::bind_and_start(config).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "broker failed to start");
                eprintln!("mqbroker: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "The broker[{}, {}] boot success. serializeType=JSON and name server is {}",
            broker.context().broker_name(),
            broker.broker_addr(),
            broker.context().config().broker.namesrv_addr
        );
        wait_for_signal().await;
        broker.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
