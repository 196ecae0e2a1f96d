//! `mqconsole`: a web console for rmq and Apache RocketMQ clusters.
//!
//! One HTTP server (axum) serves the web page built into the binary and the JSON API it uses
//! (`API.md`); everything it knows of the cluster comes through [`rmq_client::Admin`], so it
//! works against any RocketMQ-compatible cluster. A sampler task measures TPS and backlog for
//! the charts. Logins come from a users file of argon2 hashes; without one the console has no
//! login and answers on loopback only.

mod api;
mod assets;
pub mod auth;
mod backlog;
pub mod error;
mod kind;
mod sampler;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rmq_client::Admin;
use tokio_util::sync::CancellationToken;

pub use auth::users::hash_password;
pub use error::ConsoleError;

/// How the console runs.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Name server list, `host:port;host:port`.
    pub namesrv: String,
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// The users file; None: no login, loopback only.
    pub users_file: Option<PathBuf>,
    /// How often the sampler measures TPS and backlog.
    pub sample_interval: Duration,
    /// How the console's clients reach the cluster: ACL credentials and TLS (the name servers
    /// come from `namesrv`).
    pub client: rmq_client::ClientOptions,
}

/// Runs the console until `shutdown`; `on_listening` gets the bound address (tests and
/// `--listen 127.0.0.1:0` learn the port from it).
pub async fn run(
    config: ConsoleConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ConsoleError> {
    let users = match &config.users_file {
        Some(path) => {
            Some(
                auth::users::Users::load(path).map_err(|reason| ConsoleError::Users {
                    path: path.display().to_string(),
                    reason,
                })?,
            )
        }
        None if !config.listen.ip().is_loopback() => {
            return Err(ConsoleError::OpenWithoutLogin(config.listen))
        }
        None => {
            tracing::warn!(
                "no --users file: the console has no login and listens on loopback only ({})",
                config.listen
            );
            None
        }
    };
    let admin = Admin::builder()
        .options(config.client.clone())
        .name_server(&config.namesrv)
        .build()
        .await?;
    let console = Arc::new(state::Console::new(
        auth::Auth::new(users),
        sampler::Samples::new(config.sample_interval),
        admin,
        config.client.clone(),
    ));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ConsoleError::Listen {
            addr: config.listen,
            source,
        })?;
    let bound = listener.local_addr().map_err(ConsoleError::Serve)?;
    tracing::info!(%bound, namesrv = config.namesrv, "mqconsole listening");
    on_listening(bound);

    let stop = CancellationToken::new();
    let sampler = tokio::spawn(sampler::run(console.clone(), stop.clone()));
    let app = api::routes(console).merge(assets::routes());
    let graceful = {
        let stop = stop.clone();
        async move {
            tokio::select! {
                _ = shutdown => {}
                _ = stop.cancelled() => {}
            }
        }
    };
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(graceful)
        .await
        .map_err(ConsoleError::Serve);
    stop.cancel();
    let _ = sampler.await;
    served
}
