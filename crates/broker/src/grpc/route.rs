//! QueryRoute: the queues of a topic this broker hosts, with the broker's gRPC endpoint and the
//! message types the topic accepts.
//!
//! Only this broker's queues are listed so far; a client that should reach every master of a
//! cluster is configured with each broker's endpoint.

use rmq_common::perm;
use rmq_common::topic::TopicConfig;
use rmq_proto::v2::{
    Address, AddressScheme, Broker, Code, Endpoints, MessageQueue, MessageType, Permission,
    QueryRouteRequest, QueryRouteResponse, Resource,
};

use super::status::{ok, status};
use crate::context::BrokerContext;

/// The `message.type` topic attribute, as Apache 5.x keeps it (`+message.type=FIFO` on create).
const MESSAGE_TYPE_ATTRIBUTE: &str = "message.type";

pub fn query_route(ctx: &BrokerContext, req: &QueryRouteRequest) -> QueryRouteResponse {
    let name = req
        .topic
        .as_ref()
        .map(|t| t.name.as_str())
        .unwrap_or_default();
    let Some(config) = ctx.topics().get(name) else {
        return QueryRouteResponse {
            status: Some(status(
                Code::TopicNotFound,
                format!(
                    "topic {name} does not exist on broker {}",
                    ctx.broker_name()
                ),
            )),
            message_queues: Vec::new(),
        };
    };
    let broker = Broker {
        name: ctx.broker_name().to_owned(),
        id: 0,
        endpoints: Some(endpoints(ctx)),
    };
    let broker_perm = ctx.config().broker.broker_permission;
    QueryRouteResponse {
        status: Some(ok()),
        message_queues: queues(&config, broker_perm, &broker, req.topic.clone()),
    }
}

/// This broker's gRPC endpoint: brokerIP1 and the port MessagingService listens on.
pub fn endpoints(ctx: &BrokerContext) -> Endpoints {
    let ip = ctx.store_host().ip();
    Endpoints {
        scheme: if ip.is_ipv6() {
            AddressScheme::IPv6 as i32
        } else {
            AddressScheme::IPv4 as i32
        },
        addresses: vec![Address {
            host: ip.to_string(),
            port: i32::from(ctx.grpc_port()),
        }],
    }
}

/// The queues as Apache's proxy lists them: the first min(read, write) read-write, the rest
/// read-only or write-only; none readable or writable where the topic or broker forbids it.
fn queues(
    c: &TopicConfig,
    broker_perm: i32,
    broker: &Broker,
    topic: Option<Resource>,
) -> Vec<MessageQueue> {
    let p = c.perm & broker_perm;
    let (r, w) = (
        if perm::is_readable(p) {
            c.read_queue_nums.max(0)
        } else {
            0
        },
        if perm::is_writeable(p) {
            c.write_queue_nums.max(0)
        } else {
            0
        },
    );
    let types = accepted_types(c);
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
            accept_message_types: types.clone(),
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
        None => [
            MessageType::Normal,
            MessageType::Fifo,
            MessageType::Delay,
            MessageType::Transaction,
        ]
        .iter()
        .map(|t| *t as i32)
        .collect(),
    }
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
        let c = TopicConfig {
            read_queue_nums: 4,
            write_queue_nums: 2,
            ..TopicConfig::default()
        };
        let q = queues(&c, perm::READ | perm::WRITE, &broker(), None);
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
        let read_only = queues(&c, perm::READ, &broker(), None);
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
