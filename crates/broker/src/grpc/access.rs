//! ACL on the gRPC port: the same accounts and permissions as the remoting port
//! (`crate::acl`), proven by the 5.x clients' `authorization` header. Each request type says
//! which topics and groups it touches. A refusal is the RPC's Status: UNAUTHORIZED when the
//! account is missing, unknown or its signature wrong, FORBIDDEN when a permission is missing.

use std::net::{IpAddr, Ipv4Addr};

use rmq_proto::v2::{
    AckMessageRequest, ChangeInvisibleDurationRequest, Code, EndTransactionRequest,
    ForwardMessageToDeadLetterQueueRequest, GetOffsetRequest, HeartbeatRequest, MessageQueue,
    NotifyClientTerminationRequest, PullMessageRequest, QueryAssignmentRequest, QueryOffsetRequest,
    QueryRouteRequest, ReceiveMessageRequest, Resource as Named, SendMessageRequest, Status,
    TelemetryCommand, UpdateOffsetRequest,
};

use super::metadata::Caller;
use super::status::status;
use crate::acl::{Gate, GrpcProof, Needed, Refusal, Resource, Rpc, ANY, PUB, SUB};

/// The topics and groups a request touches, with the permission each needs.
pub trait Touches {
    fn touches(&self, who: &Caller) -> Needed;
}

/// Checks `request` against `gate` (none: access control off).
pub fn check<T: Touches>(
    gate: Option<&Gate>,
    who: &Caller,
    request: &tonic::Request<T>,
) -> Result<(), Status> {
    let Some(gate) = gate else {
        return Ok(());
    };
    let md = request.metadata();
    let header = |key: &str| md.get(key).and_then(|v| v.to_str().ok());
    let proof = GrpcProof::parse(header("authorization"), header("x-mq-date-time"));
    let peer = who
        .peer
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip());
    let rpc = rpc_name::<T>();
    let message = std::any::type_name::<T>().rsplit("::").next().unwrap_or("");
    gate.decide(
        peer,
        Rpc::Grpc(message),
        &|| format!("gRPC {rpc}"),
        proof.as_ref().map(|p| p.access_key.as_str()),
        &|secret| proof.as_ref().is_some_and(|p| p.verify(secret)),
        &|| Ok(request.get_ref().touches(who)),
    )
    .map_err(|refusal| match refusal {
        Refusal::Unauthenticated(m) => status(Code::Unauthorized, m),
        Refusal::Forbidden(m) => status(Code::Forbidden, m),
    })
}

/// `SendMessage` for `SendMessageRequest`.
fn rpc_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let last = full.rsplit("::").next().unwrap_or(full);
    last.strip_suffix("Request").unwrap_or(last)
}

fn topic(who: &Caller, r: &Option<Named>) -> Resource {
    Resource::Topic(who.namespaced(r.as_ref().map_or("", |r| r.name.as_str())))
}

fn group(who: &Caller, r: &Option<Named>) -> Resource {
    Resource::Group(who.namespaced(r.as_ref().map_or("", |r| r.name.as_str())))
}

fn queue_topic(who: &Caller, q: &Option<MessageQueue>) -> Resource {
    topic(who, &q.as_ref().and_then(|q| q.topic.clone()))
}

fn needs(items: impl IntoIterator<Item = (Resource, u8)>) -> Needed {
    let mut n = Needed::default();
    for (resource, perm) in items {
        n.add(resource, perm);
    }
    n
}

impl Touches for SendMessageRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs(self.messages.iter().map(|m| (topic(who, &m.topic), PUB)))
    }
}

impl Touches for QueryRouteRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([(topic(who, &self.topic), ANY)])
    }
}

impl Touches for HeartbeatRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([(group(who, &self.group), SUB)])
    }
}

impl Touches for NotifyClientTerminationRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([(group(who, &self.group), SUB)])
    }
}

impl Touches for QueryAssignmentRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([
            (topic(who, &self.topic), SUB),
            (group(who, &self.group), SUB),
        ])
    }
}

impl Touches for ReceiveMessageRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([
            (queue_topic(who, &self.message_queue), SUB),
            (group(who, &self.group), SUB),
        ])
    }
}

impl Touches for PullMessageRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([
            (queue_topic(who, &self.message_queue), SUB),
            (group(who, &self.group), SUB),
        ])
    }
}

impl Touches for UpdateOffsetRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([
            (queue_topic(who, &self.message_queue), SUB),
            (group(who, &self.group), SUB),
        ])
    }
}

impl Touches for GetOffsetRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([
            (queue_topic(who, &self.message_queue), SUB),
            (group(who, &self.group), SUB),
        ])
    }
}

impl Touches for QueryOffsetRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([(queue_topic(who, &self.message_queue), SUB)])
    }
}

impl Touches for AckMessageRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([
            (topic(who, &self.topic), SUB),
            (group(who, &self.group), SUB),
        ])
    }
}

impl Touches for ChangeInvisibleDurationRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([
            (topic(who, &self.topic), SUB),
            (group(who, &self.group), SUB),
        ])
    }
}

impl Touches for ForwardMessageToDeadLetterQueueRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([
            (topic(who, &self.topic), SUB),
            (group(who, &self.group), SUB),
        ])
    }
}

impl Touches for EndTransactionRequest {
    fn touches(&self, who: &Caller) -> Needed {
        needs([(topic(who, &self.topic), PUB)])
    }
}

/// The Telemetry stream is authenticated when it opens; what it carries is settings, checked
/// by the RPCs that act on them.
impl Touches for tonic::Streaming<TelemetryCommand> {
    fn touches(&self, _who: &Caller) -> Needed {
        Needed::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_names() {
        assert_eq!(rpc_name::<SendMessageRequest>(), "SendMessage");
        assert_eq!(rpc_name::<QueryRouteRequest>(), "QueryRoute");
    }
}
