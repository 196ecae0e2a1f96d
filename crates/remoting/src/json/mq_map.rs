//! serde helpers for `Map<MessageQueue, V>` (ConsumeStats and TopicStatsTable `offsetTable`).
//!
//! Keys are serialized as the JSON text of the queue in fastjson's field order
//! (`{"brokerName":..,"queueId":..,"topic":..}`): standard JSON then carries it as a quoted key and
//! [`to_fastjson`](super::to_fastjson) writes it inline, which is what Java tools parse. When
//! reading, a key is the object text that [`normalize`](super::normalize) produced (or a quoted
//! key in standard JSON). Use with `#[serde(with = "crate::json::mq_map")]`.

use std::collections::BTreeMap;
use std::fmt;

use rmq_common::MessageQueue;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::protocol::write_json_str;

/// The JSON text of a queue with fastjson's (alphabetical) field order.
pub fn queue_key(mq: &MessageQueue) -> String {
    let mut out = Vec::with_capacity(64 + mq.topic.len() + mq.broker_name.len());
    out.extend_from_slice(b"{\"brokerName\":");
    write_json_str(&mut out, &mq.broker_name);
    out.extend_from_slice(b",\"queueId\":");
    out.extend_from_slice(itoa::Buffer::new().format(mq.queue_id).as_bytes());
    out.extend_from_slice(b",\"topic\":");
    write_json_str(&mut out, &mq.topic);
    out.push(b'}');
    // Built from &str pieces and ASCII only.
    String::from_utf8(out).unwrap_or_default()
}

pub fn serialize<S: Serializer, V: Serialize>(
    map: &BTreeMap<MessageQueue, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(map.len()))?;
    for (k, v) in map {
        m.serialize_entry(&queue_key(k), v)?;
    }
    m.end()
}

pub fn deserialize<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    d: D,
) -> Result<BTreeMap<MessageQueue, V>, D::Error> {
    struct Vis<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
        type Value = BTreeMap<MessageQueue, V>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map keyed by MessageQueue objects")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                let mq: MessageQueue = serde_json::from_str(&key)
                    .map_err(|e| de::Error::custom(format!("bad MessageQueue key {key:?}: {e}")))?;
                out.insert(mq, map.next_value()?);
            }
            Ok(out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
    }
    d.deserialize_any(Vis(std::marker::PhantomData))
}
