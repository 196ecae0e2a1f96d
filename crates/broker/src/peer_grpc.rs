//! Other brokers' gRPC ports, for QueryRoute: asked once per broker address with
//! GET_BROKER_CONFIG (its `grpcServerPort`), then kept for [`FRESH_FOR`]. A broker that serves no
//! gRPC (port 0, or Apache's broker, which has no such key) is remembered as such.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_common::config::parse_properties;
use rmq_remoting::{RemotingClient, RemotingCommand, RequestCode, ResponseCode};

/// How long a learnt port is trusted before it is asked again.
const FRESH_FOR: Duration = Duration::from_secs(60);
const ASK_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct PeerGrpcPorts {
    known: Mutex<HashMap<String, (Option<u16>, Instant)>>,
}

impl PeerGrpcPorts {
    /// The gRPC port of the broker at `addr` (`host:port`), `None` when it serves none or cannot
    /// be asked.
    pub async fn port(&self, outbound: &RemotingClient, addr: &str) -> Option<u16> {
        if let Some((port, at)) = self.known.lock().get(addr) {
            if at.elapsed() < FRESH_FOR {
                return *port;
            }
        }
        let port = ask(outbound, addr).await;
        self.known
            .lock()
            .insert(addr.to_owned(), (port, Instant::now()));
        port
    }
}

async fn ask(outbound: &RemotingClient, addr: &str) -> Option<u16> {
    let resp = outbound
        .invoke(
            addr,
            RemotingCommand::new_request(RequestCode::GetBrokerConfig),
            ASK_TIMEOUT,
        )
        .await
        .map_err(|e| tracing::debug!(%addr, error = %e, "cannot ask a broker for its gRPC port"))
        .ok()?;
    if resp.response_code() != ResponseCode::Success {
        return None;
    }
    let text = String::from_utf8_lossy(&resp.body);
    parse_properties(&text)
        .into_iter()
        .find(|(k, _)| k == "grpcServerPort")
        .and_then(|(_, v)| v.trim().parse::<u16>().ok())
        .filter(|p| *p != 0)
}
