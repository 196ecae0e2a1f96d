//! A stored message as the 5.x clients receive it (`apache.rocketmq.v2.Message`): the user
//! properties apart from the system ones, the system properties (tag, keys, id, MD5 body digest,
//! type, times, hosts, queue, offset, delivery attempt, receipt handle, message group, DLQ
//! origin), the body as stored.

use md5::{Digest as _, Md5};
use rmq_common::message::{decode_properties, keys, Properties};
use rmq_common::record::RecordView;
use rmq_common::sysflag::message as msg_flag;
use rmq_common::topic::RETRY_GROUP_TOPIC_PREFIX;
use rmq_proto::v2::{
    DeadLetterQueue, Digest, DigestType, Encoding, Message, MessageType, Resource, SystemProperties,
};

use super::metadata::Caller;
use super::property_keys::is_system_key;

pub fn timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}

/// The user properties of `props`.
pub fn user_properties(props: &Properties) -> std::collections::HashMap<String, String> {
    props
        .iter()
        .filter(|(k, _)| !is_system_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `name` as the caller knows it: without the caller's namespace prefix.
fn resource(caller: &Caller, name: &str) -> Resource {
    let prefix = format!("{}%", caller.namespace);
    let bare = if caller.namespace.is_empty() {
        name
    } else {
        name.strip_prefix(&prefix).unwrap_or(name)
    };
    Resource {
        resource_namespace: caller.namespace.clone(),
        name: bare.to_owned(),
    }
}

/// Uppercase hex MD5, what the 5.x clients check a body against.
fn md5_hex(body: &[u8]) -> String {
    Md5::digest(body)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// The MD5 digest the 5.x clients check a body against (they drop a message without one).
pub fn body_digest(body: &[u8]) -> Digest {
    Digest {
        r#type: DigestType::Md5 as i32,
        checksum: md5_hex(body),
    }
}

/// The most an LZ4 or zstd body is decompressed to for a gRPC client (more is sent as stored).
const GRPC_INFLATE_LIMIT: usize = 64 * 1024 * 1024;

/// The body for a gRPC client and whether it is still compressed: a zlib body travels as stored
/// (encoding GZIP, which the clients inflate); LZ4 and zstd bodies from 5.x remoting producers,
/// which gRPC has no encoding for, are decompressed here as Apache's proxy does.
fn grpc_body(sys_flag: i32, stored: &[u8]) -> (std::borrow::Cow<'_, [u8]>, bool) {
    use rmq_common::compress::Compression;
    if sys_flag & msg_flag::COMPRESSED == 0 {
        return (stored.into(), false);
    }
    match Compression::from_sys_flag(sys_flag) {
        Some(Compression::Zlib) => (stored.into(), true),
        Some(c) => match c.decompress(stored, GRPC_INFLATE_LIMIT) {
            Ok(plain) => (plain.into(), false),
            Err(e) => {
                tracing::warn!(sys_flag, error = ?e, "a compressed body does not decompress; sent as stored");
                (stored.into(), true)
            }
        },
        None => (stored.into(), true),
    }
}

/// How the body travels: as stored, GZIP when the producer compressed it (the clients drop a
/// message whose encoding is unspecified).
pub fn body_encoding(compressed: bool) -> i32 {
    if compressed {
        Encoding::Gzip as i32
    } else {
        Encoding::Identity as i32
    }
}

/// Delivery details of a popped message.
pub struct Delivery<'a> {
    pub receipt_handle: &'a str,
    pub attempt: i32,
    pub invisible_ms: i64,
}

/// The message `v` as delivered to `caller`.
pub fn to_message(caller: &Caller, v: &RecordView<'_>, delivery: Option<Delivery<'_>>) -> Message {
    let props = decode_properties(v.properties);
    let topic = if v.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
        props.get(keys::RETRY_TOPIC).map_or(v.topic, String::as_str)
    } else {
        v.topic
    };
    let message_type = if props.get(keys::TRAN_MSG).is_some_and(|t| t == "true") {
        MessageType::Transaction
    } else if props.contains_key(keys::DELAY) || props.contains_key(keys::TIMER_DELIVER_MS) {
        MessageType::Delay
    } else if props.contains_key(keys::SHARDING_KEY) {
        MessageType::Fifo
    } else {
        MessageType::Normal
    };
    let (body, compressed) = grpc_body(v.sys_flag, v.body());
    let body: &[u8] = &body;
    let dead_letter_queue = match (
        props.get(keys::DLQ_ORIGIN_TOPIC),
        props.get(keys::DLQ_ORIGIN_MESSAGE_ID),
    ) {
        (Some(t), Some(id)) => Some(DeadLetterQueue {
            topic: t.clone(),
            message_id: id.clone(),
        }),
        _ => None,
    };
    let message_id = props.get(keys::UNIQ_KEY).cloned().unwrap_or_else(|| {
        rmq_common::msg_id::create_offset_msg_id(v.store_host, v.physical_offset)
    });
    let system = SystemProperties {
        tag: props.get(keys::TAGS).cloned(),
        keys: props
            .get(keys::KEYS)
            .map(|k| {
                k.split(keys::KEY_SEPARATOR)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        message_id,
        body_digest: Some(body_digest(body)),
        body_encoding: body_encoding(compressed),
        message_type: message_type as i32,
        born_timestamp: Some(timestamp(v.born_timestamp)),
        born_host: props
            .get("BORN_HOST")
            .cloned()
            .unwrap_or_else(|| v.born_host.ip().to_string()),
        store_timestamp: Some(timestamp(v.store_timestamp)),
        store_host: v.store_host.to_string(),
        delivery_timestamp: props
            .get(keys::TIMER_DELIVER_MS)
            .and_then(|t| t.parse().ok())
            .map(timestamp),
        receipt_handle: delivery.as_ref().map(|d| d.receipt_handle.to_owned()),
        queue_id: v.queue_id,
        queue_offset: Some(v.queue_offset),
        invisible_duration: delivery.as_ref().map(|d| prost_types::Duration {
            seconds: d.invisible_ms / 1000,
            nanos: ((d.invisible_ms % 1000) * 1_000_000) as i32,
        }),
        delivery_attempt: delivery
            .as_ref()
            .map(|d| d.attempt)
            .or(Some(v.reconsume_times.saturating_add(1))),
        message_group: props.get(keys::SHARDING_KEY).cloned(),
        trace_context: props.get("TRACE_CONTEXT").cloned(),
        dead_letter_queue,
        ..SystemProperties::default()
    };
    Message {
        topic: Some(resource(caller, topic)),
        user_properties: user_properties(&props),
        system_properties: Some(system),
        body: body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_is_uppercase_hex_as_the_clients_compute_it() {
        assert_eq!(md5_hex(b"hello"), "5D41402ABC4B2A76B9719D911017C592");
    }
}
