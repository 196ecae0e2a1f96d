//! `mqconsole`: the web console. Thin: parse arguments, set up logging, call
//! [`rmq_console::run`] with the shutdown signal.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rmq_console::ConsoleConfig;

/// The rmq web console, for rmq and Apache RocketMQ clusters.
#[derive(Debug, Parser)]
#[command(name = "mqconsole", version)]
struct Args {
    /// Name server list, `host:port;host:port` [default: $NAMESRV_ADDR, else 127.0.0.1:9876].
    #[arg(short = 'n', long = "namesrvAddr", value_name = "LIST")]
    namesrv: Option<String>,
    /// Where the HTTP server listens. Without --users, only a loopback address is allowed.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Users who may log in: `name=admin:HASH` or `name=readonly:HASH` per line, the hash from
    /// `mqconsole --hash-password`. Without it there is no login.
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// Seconds between the sampler's measurements of TPS and backlog.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    sample_interval: u64,
    /// ACL account the console signs its requests with (with --secret-key), for brokers with
    /// aclEnable=true; it needs admin rights for the console's write actions.
    #[arg(long = "access-key", value_name = "AK", requires = "secret_key")]
    access_key: Option<String>,
    /// The account's secret.
    #[arg(long = "secret-key", value_name = "SK", requires = "access_key")]
    secret_key: Option<String>,
    /// Reach the cluster over TLS (server certificates are not checked).
    #[arg(long = "use-tls")]
    use_tls: bool,
    /// Read a password from standard input, print its argon2 hash for the users file, exit.
    #[arg(long)]
    hash_password: bool,
}

fn main() -> ExitCode {
    rmq_runtime::report::exit("mqconsole", run(Args::parse()).map_err(Into::into))
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.hash_password {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\n', '\r']);
        if password.is_empty() {
            anyhow::bail!("the password on standard input is empty");
        }
        println!(
            "{}",
            rmq_console::hash_password(password).map_err(anyhow::Error::msg)?
        );
        return Ok(());
    }
    rmq_runtime::logging::init_stderr()?;
    let namesrv = args
        .namesrv
        .or_else(|| std::env::var("NAMESRV_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:9876".into());
    let mut client = rmq_client::ClientOptions::default();
    client.credentials = args
        .access_key
        .zip(args.secret_key)
        .map(|(ak, sk)| rmq_client::Credentials::new(ak, sk));
    client.use_tls = args.use_tls;
    let config = ConsoleConfig {
        namesrv,
        listen: args.listen,
        users_file: args.users,
        sample_interval: Duration::from_secs(args.sample_interval),
        client,
    };
    rmq_runtime::signal::run_daemon("console", |shutdown| async move {
        let stop = async move {
            shutdown.await;
        };
        rmq_console::run(config, stop, |addr| {
            // Scripts and tests read the address from this line.
            println!("mqconsole listening on http://{addr}");
        })
        .await
    })??;
    Ok(())
}
