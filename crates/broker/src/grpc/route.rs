//! QueryRoute: the queues of a topic on every master the name servers route it to, each with
//! its broker's gRPC endpoint (learnt from that broker, `peer_grpc.rs`) and the message types the
//! topic accepts. Brokers that serve no gRPC are left out; without a name server answer the
//! broker lists its own queues.

use std::time::Duration;

use rmq_common::perm;
use rmq_common::topic::TopicConfig;
use rmq_proto::v2::{
    Address, AddressScheme, Broker, Code, Endpoints, MessageQueue, MessageType, Permission,
    QueryRouteRequest, QueryRouteResponse, Resource,
};
use rmq_remoting::body::TopicRouteData;
use rmq_remoting::header::GetRouteInfoRequestHeader;
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingCommand, RequestCode, ResponseCode};

use super::status::{ok, status};
use crate::context::BrokerContext;

/// The `message.type` topic attribute, as Apache 5.x keeps it (`+message.type=FIFO` on create).
const MESSAGE_TYPE_ATTRIBUTE: &str = "message.type";
const NAMESRV_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn query_route(ctx: &BrokerContext, req: &QueryRouteRequest) -> QueryRouteResponse {
    let name = req
        .topic
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or_default();
    let local = ctx.topics().get(name);
    let types = local.as_ref().map_or_else(all_types, accepted_types);
    let mut queues = Vec::new();
    match cluster_route(ctx, name).await {
        Some(route) => {
            for qd in &route.queue_datas {
                let broker = if qd.broker_name == ctx.broker_name() {
                    Some(own_broker(ctx))
                } else {
                    peer_broker(ctx, &route, &qd.broker_name).await
                };
                let Some(broker) = broker else { continue };
                let (read, write, p) = match (&local, qd.broker_name == ctx.broker_name()) {
                    (Some(c), true) => (c.read_queue_nums, c.write_queue_nums, c.perm),
                    _ => (qd.read_queue_nums, qd.write_queue_nums, qd.perm),
                };
                queues.extend(list(read, write, p, &broker, req.topic.clone(), &types));
            }
        }
        None => {
            if let Some(c) = &local {
                let p = c.perm & ctx.config().broker.broker_permission;
                queues.extend(list(
                    c.read_queue_nums,
                    c.write_queue_nums,
                    p,
                    &own_broker(ctx),
                    req.topic.clone(),
                    &types,
                ));
            }
        }
    }
    if queues.is_empty() {
        return QueryRouteResponse {
            status: Some(status(
                Code::TopicNotFound,
                format!("topic {name} has no queues on a broker that serves gRPC"),
            )),
            message_queues: Vec::new(),
        };
    }
    QueryRouteResponse {
        status: Some(ok()),
        message_queues: queues,
    }
}

/// The topic's route from the first name server that has it.
async fn cluster_route(ctx: &BrokerContext, topic: &str) -> Option<TopicRouteData> {
    for ns in ctx.config().namesrv_addrs() {
        let h = GetRouteInfoRequestHeader {
            topic: topic.to_owned(),
            accept_standard_json_only: Some(true),
            rpc: Default::default(),
        };
        let cmd = RemotingCommand::request(RequestCode::GetRouteinfoByTopic, &h);
        match ctx.outbound().invoke(&ns, cmd, NAMESRV_TIMEOUT).await {
            Ok(r) if r.response_code() == ResponseCode::Success => {
                if let Ok(route) = TopicRouteData::from_json_bytes(&r.body) {
                    return Some(route);
                }
            }
            Ok(_) => return None, // TOPIC_NOT_EXIST: the cluster does not route it
            Err(e) => tracing::debug!(namesrv = %ns, error = %e, "route lookup failed"),
        }
    }
    None
}

fn own_broker(ctx: &BrokerContext) -> Broker {
    Broker {
        name: ctx.broker_name().to_owned(),
        id: 0,
        endpoints: Some(endpoints(ctx)),
    }
}

/// Another master of the route, at its gRPC endpoint; `None` when it serves no gRPC.
async fn peer_broker(ctx: &BrokerContext, route: &TopicRouteData, name: &str) -> Option<Broker> {
    let data = route.broker_datas.iter().find(|b| b.broker_name == name)?;
    let addr = data.broker_addrs.get(&0)?;
    let port = ctx.peer_grpc().port(ctx.outbound(), addr).await?;
    let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
    Some(Broker {
        name: name.to_owned(),
        id: 0,
        endpoints: Some(endpoint(host, port)),
    })
}

/// This broker's gRPC endpoint: brokerIP1 and the port MessagingService listens on.
fn endpoints(ctx: &BrokerContext) -> Endpoints {
    endpoint(&ctx.store_host().ip().to_string(), ctx.grpc_port())
}

/// One `host:port` endpoint, its scheme told by the host's form.
fn endpoint(host: &str, port: u16) -> Endpoints {
    let scheme = match host.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_ipv6() => AddressScheme::IPv6,
        Ok(_) => AddressScheme::IPv4,
        Err(_) => AddressScheme::DomainName,
    };
    Endpoints {
        scheme: scheme as i32,
        addresses: vec![Address {
            host: host.to_owned(),
            port: i32::from(port),
        }],
    }
}

/// The queues as Apache's proxy lists them: the first min(read, write) read-write, the rest
/// read-only or write-only; none readable or writable where the permission `p` forbids it.
fn list(
    read: i32,
    write: i32,
    p: i32,
    broker: &Broker,
    topic: Option<Resource>,
    types: &[i32],
) -> Vec<MessageQueue> {
    let r = if perm::is_readable(p) { read.max(0) } else { 0 };
    let w = if perm::is_writeable(p) {
        write.max(0)
    } else {
        0
    };
    (0..r.max(w))
        .map(|id| MessageQueue {
            topic: topic.clone(),
            id,
            permission: match (id < r, id < w) {
                (true, true) => Permission::ReadWrite,
                (true, false) => Permission::Read,
                (false, true) => Permission::Write,
                (false, false) => Permission::None,
            } as i32,
            broker: Some(broker.clone()),
            accept_message_types: types.to_vec(),
        })
        .collect()
}

/// The message type a topic's `message.type` attribute declares: `None` for MIXED or no
/// attribute (every type; rmq accepts any type on a topic created through remoting, where
/// Apache would assume NORMAL).
pub fn declared_type(c: &TopicConfig) -> Option<MessageType> {
    let attr = c
        .attributes
        .get(MESSAGE_TYPE_ATTRIBUTE)
        .or_else(|| c.attributes.get(&format!("+{MESSAGE_TYPE_ATTRIBUTE}")));
    match attr.map(|v| v.to_ascii_uppercase()).as_deref() {
        Some("NORMAL") => Some(MessageType::Normal),
        Some("FIFO") => Some(MessageType::Fifo),
        Some("DELAY") => Some(MessageType::Delay),
        Some("TRANSACTION") => Some(MessageType::Transaction),
        _ => None,
    }
}

fn accepted_types(c: &TopicConfig) -> Vec<i32> {
    match declared_type(c) {
        Some(t) => vec![t as i32],
        None => all_types(),
    }
}

fn all_types() -> Vec<i32> {
    [
        MessageType::Normal,
        MessageType::Fifo,
        MessageType::Delay,
        MessageType::Transaction,
    ]
    .iter()
    .map(|t| *t as i32)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker() -> Broker {
        Broker {
            name: "b".into(),
            id: 0,
            endpoints: None,
        }
    }

    #[test]
    fn read_write_split_like_apache() {
        let q = list(
            4,
            2,
            perm::READ | perm::WRITE,
            &broker(),
            None,
            &all_types(),
        );
        let perms: Vec<i32> = q.iter().map(|q| q.permission).collect();
        assert_eq!(
            perms,
            [
                Permission::ReadWrite as i32,
                Permission::ReadWrite as i32,
                Permission::Read as i32,
                Permission::Read as i32
            ]
        );
        let read_only = list(4, 2, perm::READ, &broker(), None, &all_types());
        assert!(read_only
            .iter()
            .all(|q| q.permission == Permission::Read as i32));
    }

    #[test]
    fn message_type_attribute() {
        let mut c = TopicConfig::default();
        assert_eq!(accepted_types(&c).len(), 4);
        c.attributes.insert("+message.type".into(), "FIFO".into());
        assert_eq!(accepted_types(&c), [MessageType::Fifo as i32]);
        c.attributes.insert("+message.type".into(), "MIXED".into());
        assert_eq!(accepted_types(&c).len(), 4);
    }
}
