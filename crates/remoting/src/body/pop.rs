//! `BatchAckMessageRequestBody` (BATCH_ACK_MESSAGE, 200151): acks of popped messages, grouped
//! by the pop they came from. Each `BatchAck` names the pop's start offset on a queue and a
//! bitset of the offsets acked relative to it. fastjson writes the short names (`c`, `t`, ...)
//! and the bitset (`java.util.BitSet.toByteArray`, little-endian) as base64 text; the long names
//! and a JSON array of bytes are accepted too.

use base64::Engine as _;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::lenient;
use crate::json::JsonBody;

/// Largest bitset accepted, bytes (8192 offsets past the start offset; a pop returns at most 32).
pub const MAX_BITSET_BYTES: usize = 1024;

/// `BatchAckMessageRequestBody`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchAckMessageRequestBody {
    pub acks: Vec<BatchAck>,
    #[serde(deserialize_with = "lenient::string")]
    pub broker_name: String,
}
impl JsonBody for BatchAckMessageRequestBody {}

/// `BatchAck`: the acked offsets of one pop of one queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchAck {
    /// Bit `i` set: offset `start_offset + i` is acked.
    #[serde(
        rename = "b",
        alias = "bitSet",
        serialize_with = "write_bits",
        deserialize_with = "read_bits"
    )]
    pub bit_set: Vec<u8>,
    #[serde(
        rename = "c",
        alias = "consumerGroup",
        deserialize_with = "lenient::string"
    )]
    pub consumer_group: String,
    #[serde(
        rename = "it",
        alias = "invisibleTime",
        deserialize_with = "lenient::long"
    )]
    pub invisible_time: i64,
    #[serde(rename = "pt", alias = "popTime", deserialize_with = "lenient::long")]
    pub pop_time: i64,
    #[serde(rename = "q", alias = "queueId", deserialize_with = "lenient::int")]
    pub queue_id: i32,
    /// "1" when the messages came from the group's retry topic for `topic`.
    #[serde(rename = "r", alias = "retry", deserialize_with = "lenient::string")]
    pub retry: String,
    #[serde(
        rename = "rq",
        alias = "reviveQueueId",
        deserialize_with = "lenient::int"
    )]
    pub revive_queue_id: i32,
    #[serde(
        rename = "so",
        alias = "startOffset",
        deserialize_with = "lenient::long"
    )]
    pub start_offset: i64,
    /// The topic the consumer subscribed to (not the retry topic).
    #[serde(rename = "t", alias = "topic", deserialize_with = "lenient::string")]
    pub topic: String,
}

impl BatchAck {
    /// The acked offsets, ascending.
    pub fn offsets(&self) -> impl Iterator<Item = i64> + '_ {
        self.bit_set.iter().enumerate().flat_map(move |(i, byte)| {
            (0..8)
                .filter(move |bit| byte & (1 << bit) != 0)
                .map(move |bit| self.start_offset + (i * 8 + bit) as i64)
        })
    }

    /// Sets the bit of `offset`, which must not be below the start offset.
    pub fn set(&mut self, offset: i64) {
        let Ok(i) = usize::try_from(offset - self.start_offset) else {
            return;
        };
        if self.bit_set.len() <= i / 8 {
            self.bit_set.resize(i / 8 + 1, 0);
        }
        self.bit_set[i / 8] |= 1 << (i % 8);
    }

    /// Whether the message came from the group's retry topic.
    pub fn is_retry(&self) -> bool {
        self.retry == "1"
    }
}

fn write_bits<S: Serializer>(bits: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bits))
}

fn read_bits<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Bits {
        Text(String),
        Bytes(Vec<i16>),
        Null(()),
    }
    let bytes = match Bits::deserialize(d)? {
        Bits::Text(t) => base64::engine::general_purpose::STANDARD
            .decode(t.trim())
            .map_err(|e| de::Error::custom(format!("bitSet is not base64: {e}")))?,
        // Java bytes are signed.
        Bits::Bytes(v) => v.into_iter().map(|b| b as u8).collect(),
        Bits::Null(()) => Vec::new(),
    };
    if bytes.len() > MAX_BITSET_BYTES {
        return Err(de::Error::custom(format!(
            "bitSet of {} bytes is longer than {MAX_BITSET_BYTES}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fastjson_body_decodes_to_offsets() {
        // Bits 0, 2 and 9: bytes [0b101, 0b10] = base64 "BQI=".
        let json = br#"{"acks":[{"b":"BQI=","c":"G","it":60000,"pt":1700000000000,"q":3,"r":"1","rq":0,"so":40,"t":"T"}],"brokerName":"broker-a"}"#;
        let body = BatchAckMessageRequestBody::from_json_bytes(json).unwrap();
        assert_eq!(body.broker_name, "broker-a");
        let a = &body.acks[0];
        assert!(a.is_retry());
        assert_eq!((a.queue_id, a.consumer_group.as_str()), (3, "G"));
        assert_eq!(a.offsets().collect::<Vec<_>>(), [40, 42, 49]);
        let again = BatchAckMessageRequestBody::from_json_bytes(&body.to_json_bytes()).unwrap();
        assert_eq!(again, body);
    }

    #[test]
    fn long_names_and_byte_arrays_are_accepted() {
        let json = br#"{"acks":[{"bitSet":[1,-128],"consumerGroup":"G","queueId":"1","startOffset":0,"topic":"T","retry":"0"}]}"#;
        let body = BatchAckMessageRequestBody::from_json_bytes(json).unwrap();
        assert_eq!(body.acks[0].offsets().collect::<Vec<_>>(), [0, 15]);
        assert!(!body.acks[0].is_retry());
    }

    #[test]
    fn set_builds_the_bitset() {
        let mut a = BatchAck {
            start_offset: 10,
            ..BatchAck::default()
        };
        for o in [10, 12, 31, 9] {
            a.set(o);
        }
        assert_eq!(a.offsets().collect::<Vec<_>>(), [10, 12, 31]);
    }

    #[test]
    fn bad_bitsets_are_refused_by_name() {
        let e =
            BatchAckMessageRequestBody::from_json_bytes(br#"{"acks":[{"b":"%%%"}]}"#).unwrap_err();
        assert!(e.to_string().contains("bitSet"), "{e}");
        let big = format!(
            r#"{{"acks":[{{"b":"{}"}}]}}"#,
            base64::engine::general_purpose::STANDARD.encode(vec![1u8; MAX_BITSET_BYTES + 1])
        );
        assert!(BatchAckMessageRequestBody::from_json_bytes(big.as_bytes()).is_err());
    }
}
