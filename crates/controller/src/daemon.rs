//! A controller process (`mqcontroller`): binds its address from `controllerDLegerPeers`,
//! opens its Raft member under `controllerStorePath`, answers its peers, brokers and
//! `mqadmin` there, forms the group with its peers on first start, and watches masters while
//! it leads.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use openraft::BasicNode;
use rmq_common::config::ConfigError;
use rmq_remoting::transport::ServerConfig;
use rmq_remoting::RemotingServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::ControllerConfig;
use crate::raft::{RaftNode, RaftNodeError};
use crate::service::{watch_masters, Controller};

/// Why a controller could not run.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source} (is another controller or process on that port?)")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Raft(#[from] RaftNodeError),
}

/// Runs the controller until `shutdown` completes.
pub async fn run(config: ControllerConfig, shutdown: impl Future) -> Result<(), ControllerError> {
    let peers = config.peer_map()?;
    let me = config.self_member()?;
    let own = peers.get(&me).map(|p| p.addr.clone()).unwrap_or_default();
    let port = own.rsplit_once(':').map(|(_, p)| p).unwrap_or_default();
    let bind = if config.bind_address.contains(':') {
        format!("[{}]:{port}", config.bind_address)
    } else {
        format!("{}:{port}", config.bind_address)
    };
    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|source| ControllerError::Bind {
            addr: bind.clone(),
            source,
        })?;
    let mut node = RaftNode::open(me, &config.store_dir(), config.raft()).await?;
    let controller = Arc::new(Controller::new(
        me,
        config.clone(),
        peers.clone(),
        node.raft.clone(),
        node.machine(),
    ));
    let mut server = RemotingServer::new(ServerConfig::default());
    controller.register(&mut server);
    node.serve(listener, server);
    // Every member forms the group with the same list: safe (the vote picks one leader), and
    // a no-op refused by Raft once the group exists.
    let members: BTreeMap<u64, BasicNode> = peers
        .iter()
        .map(|(id, p)| {
            (
                *id,
                BasicNode {
                    addr: p.addr.clone(),
                },
            )
        })
        .collect();
    if let Err(e) = node.initialize(members).await {
        tracing::debug!(error = %e, "Raft group already formed");
    }
    let stop = CancellationToken::new();
    let watch = tokio::spawn(watch_masters(controller.clone(), stop.clone()));
    println!(
        "The controller boot success: {} of group {} listening on {bind}, store {}",
        config.self_id,
        config.group,
        config.store_dir().display()
    );
    shutdown.await;
    stop.cancel();
    if let Err(e) = watch.await {
        tracing::warn!(error = %e, "the master watch failed");
    }
    controller.shutdown().await;
    node.shutdown().await;
    Ok(())
}
