//! The RocketMQ 5 front door: `apache.rocketmq.v2.MessagingService` on `grpcServerPort`, served
//! by the broker itself (no proxy process). It is a translation layer over the same topics,
//! groups, store and send path as the remoting processors (DESIGN.md, decision 6): a message sent
//! through one protocol is consumable through the other.
//!
//! The port takes TLS as `tls.server.mode` says (`tls.rs`); by default TLS and plaintext alike,
//! as the clients' defaults expect.
//!
//! Errors travel as `apache.rocketmq.v2.Status` in the response, as the official clients expect;
//! a bare gRPC status is used only when no response can be built.

mod access;
mod assignment;
mod consume;
mod filter;
mod message_view;
mod metadata;
mod offsets;
mod polling;
mod property_keys;
mod pull;
mod queue_ref;
mod receive;
mod route;
mod send;
mod service;
mod status;
mod telemetry;
mod tls;
mod transaction;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::context::BrokerContext;

/// Serves MessagingService on `listener` until `shutdown` is cancelled.
pub(crate) async fn serve(
    listener: TcpListener,
    ctx: Arc<BrokerContext>,
    acl: Option<crate::acl::Gate>,
    tls: (rmq_remoting::TlsMode, Option<rmq_remoting::Identity>),
    shutdown: CancellationToken,
) {
    let addr = listener.local_addr().ok();
    tracing::info!(addr = ?addr, "gRPC MessagingService listening");
    let service = rmq_proto::v2::messaging_service_server::MessagingServiceServer::new(
        service::Messaging::new(ctx.clone(), acl),
    );
    let (mode, identity) = tls;
    let config = match identity.map(tls::server_config).transpose() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "gRPC not served");
            return;
        }
    };
    let enforcing = mode == rmq_remoting::TlsMode::Enforcing;
    let incoming = tls::incoming(
        listener,
        config,
        enforcing,
        ctx.tasks().clone(),
        shutdown.clone(),
    );
    if let Err(e) = tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %e, "gRPC server stopped with an error");
    }
    tracing::info!(addr = ?addr, "gRPC MessagingService stopped");
}
