//! One controller's Raft member: its storage under a directory, openraft running over the
//! remoting transport, and the server answering its peers (and, in `mqcontroller`, brokers).
//! It owns the server task and stops it, and openraft, in [`RaftNode::shutdown`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use openraft::{BasicNode, Raft};
use parking_lot::RwLock;
use rmq_remoting::transport::ServerConfig;
use rmq_remoting::{ClientConfig, RemotingClient, RemotingServer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::log_store::LogStore;
use super::network::Network;
use super::service;
use super::state_machine::{Machine, StateMachineStore};
use super::types::TypeConfig;

/// Why a controller's Raft member could not start or act.
#[derive(Debug, thiserror::Error)]
pub enum RaftNodeError {
    #[error("controller store {path}: {source}")]
    Store {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Raft configuration: {0}")]
    Config(#[from] openraft::ConfigError),
    #[error("Raft stopped: {0}")]
    Fatal(#[from] openraft::error::Fatal<u64>),
    #[error("initializing the Raft group: {0}")]
    Initialize(String),
}

pub struct RaftNode {
    pub id: u64,
    pub raft: Raft<TypeConfig>,
    machine: Arc<RwLock<Machine>>,
    client: RemotingClient,
    stop: CancellationToken,
    server: Option<JoinHandle<()>>,
}

impl RaftNode {
    /// Starts member `id` with its storage under `dir`, serving its peers (and nothing else)
    /// on `listener`.
    pub async fn start(
        id: u64,
        dir: &Path,
        listener: TcpListener,
        config: openraft::Config,
    ) -> Result<RaftNode, RaftNodeError> {
        let mut node = RaftNode::open(id, dir, config).await?;
        node.serve(listener, RemotingServer::new(ServerConfig::default()));
        Ok(node)
    }

    /// Opens member `id` with its storage under `dir`; it talks to its peers but answers
    /// nobody until [`RaftNode::serve`].
    pub async fn open(
        id: u64,
        dir: &Path,
        config: openraft::Config,
    ) -> Result<RaftNode, RaftNodeError> {
        let store_err = |sub: &str, source| RaftNodeError::Store {
            path: dir.join(sub).display().to_string(),
            source,
        };
        let log = LogStore::open(&dir.join("raft-log")).map_err(|e| store_err("raft-log", e))?;
        let sm = StateMachineStore::open(&dir.join("raft-state"))
            .map_err(|e| store_err("raft-state", e))?;
        let machine = sm.machine();
        let client = RemotingClient::new(ClientConfig::default());
        let raft = Raft::new(
            id,
            Arc::new(config.validate()?),
            Network::new(client.clone()),
            log,
            sm,
        )
        .await?;
        Ok(RaftNode {
            id,
            raft,
            machine,
            client,
            stop: CancellationToken::new(),
            server: None,
        })
    }

    /// Serves the Raft request codes, besides whatever `server` already answers, on
    /// `listener` until [`RaftNode::shutdown`]. Once only.
    pub fn serve(&mut self, listener: TcpListener, mut server: RemotingServer) {
        if self.server.is_some() {
            tracing::warn!(id = self.id, "Raft member already serving");
            return;
        }
        service::register(&mut server, &self.raft);
        self.server = Some(tokio::spawn(server.run(listener, self.stop.clone())));
    }

    /// Makes the first members of a new group (once, on one of them; a no-op error when the
    /// group already has members is reported as such).
    pub async fn initialize(&self, members: BTreeMap<u64, BasicNode>) -> Result<(), RaftNodeError> {
        self.raft
            .initialize(members)
            .await
            .map_err(|e| RaftNodeError::Initialize(e.to_string()))
    }

    /// The applied state, to read from.
    pub fn machine(&self) -> Arc<RwLock<Machine>> {
        self.machine.clone()
    }

    /// The member currently known as leader.
    pub fn leader(&self) -> Option<u64> {
        self.raft.metrics().borrow().current_leader
    }

    pub async fn shutdown(self) {
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "Raft did not stop cleanly");
        }
        self.stop.cancel();
        if let Some(server) = self.server {
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "controller server task failed");
            }
        }
        self.client.shutdown().await;
    }
}
