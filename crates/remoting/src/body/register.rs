//! REGISTER_BROKER body: `RegisterBrokerBody`, `TopicConfigSerializeWrapper`, `DataVersion`.
//!
//! The uncompressed form is JSON. The compressed form (`compressed=true` in the header) is a zlib
//! stream of length-prefixed pieces (protocol.md 2.6); [`RegisterBrokerBody::decode`] reads both
//! and caps decompressed size so a small body cannot expand without bound.

use std::collections::BTreeMap;
use std::io::Read;

use bytes::Bytes;
use rmq_common::topic::TopicFilterType;
use rmq_common::TopicConfig;
use serde::{Deserialize, Serialize};

use super::lenient;
use crate::json::{self, JsonBody, JsonError};

/// Largest decompressed registration body accepted.
const MAX_INFLATED: u64 = 64 * 1024 * 1024;

/// `DataVersion`: a broker's topic-config version. Equal only if all three fields are equal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DataVersion {
    #[serde(deserialize_with = "lenient::long")]
    pub counter: i64,
    #[serde(deserialize_with = "lenient::long")]
    pub state_version: i64,
    #[serde(deserialize_with = "lenient::long")]
    pub timestamp: i64,
}
impl JsonBody for DataVersion {}

impl DataVersion {
    /// A fresh version stamped `now_millis`.
    pub fn new(now_millis: i64) -> Self {
        DataVersion {
            counter: 0,
            state_version: 0,
            timestamp: now_millis,
        }
    }

    /// `nextVersion()`: bump the counter and restamp.
    pub fn next_version(&mut self, now_millis: i64) {
        self.counter += 1;
        self.timestamp = now_millis;
    }

    /// `nextVersion(stateVersion)`: a new master epoch (controller mode), which name servers
    /// compare to keep the newest master's registration.
    pub fn next_state_version(&mut self, state_version: i64, now_millis: i64) {
        self.state_version = state_version;
        self.next_version(now_millis);
    }
}

/// `TopicConfigSerializeWrapper` (5.x: `TopicConfigAndMappingSerializeWrapper`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicConfigSerializeWrapper {
    pub data_version: DataVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping_data_version: Option<DataVersion>,
    pub topic_config_table: BTreeMap<String, TopicConfig>,
    /// Static-topic mapping details; carried opaquely.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub topic_queue_mapping_detail_map: BTreeMap<String, serde_json::Value>,
    /// Static-topic mapping info; carried opaquely.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub topic_queue_mapping_info_map: BTreeMap<String, serde_json::Value>,
}
impl JsonBody for TopicConfigSerializeWrapper {}

/// `RegisterBrokerBody`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterBrokerBody {
    pub filter_server_list: Vec<String>,
    pub topic_config_serialize_wrapper: TopicConfigSerializeWrapper,
}
impl JsonBody for RegisterBrokerBody {}

impl RegisterBrokerBody {
    /// Decodes the body per the header's `compressed` flag.
    pub fn decode(body: &[u8], compressed: bool) -> Result<Self, JsonError> {
        if compressed {
            decode_compressed(body)
        } else {
            Self::from_json_bytes(body)
        }
    }

    /// Encodes the uncompressed JSON form (what 5.x brokers send).
    pub fn encode(&self) -> Bytes {
        self.to_json_bytes()
    }
}

fn decode_compressed(body: &[u8]) -> Result<RegisterBrokerBody, JsonError> {
    let mut inflated = Vec::new();
    flate2::read::ZlibDecoder::new(body)
        .take(MAX_INFLATED)
        .read_to_end(&mut inflated)
        .map_err(|e| JsonError::Compressed(e.to_string()))?;
    let mut r = Pieces(&inflated);
    let data_version: DataVersion = json::from_slice(r.piece()?)?;
    let count = r.int()?;
    let mut table = BTreeMap::new();
    for _ in 0..count {
        let text = std::str::from_utf8(r.piece()?)
            .map_err(|_| JsonError::Compressed("topic config is not UTF-8".into()))?;
        let tc = decode_topic_config(text)?;
        table.insert(tc.topic_name.clone(), tc);
    }
    let filter_server_list = match r.piece() {
        Ok(bytes) if !bytes.is_empty() => json::from_slice(bytes)?,
        _ => Vec::new(),
    };
    Ok(RegisterBrokerBody {
        filter_server_list,
        topic_config_serialize_wrapper: TopicConfigSerializeWrapper {
            data_version,
            topic_config_table: table,
            ..Default::default()
        },
    })
}

/// `TopicConfig.decode`: `name readQueues writeQueues perm filterType [attributesJson]`.
fn decode_topic_config(text: &str) -> Result<TopicConfig, JsonError> {
    let bad = || JsonError::Compressed(format!("bad topic config {text:?}"));
    let parts: Vec<&str> = text.splitn(6, ' ').collect();
    if parts.len() < 5 {
        return Err(bad());
    }
    let mut tc = TopicConfig::new(
        parts[0],
        parts[1].parse().map_err(|_| bad())?,
        parts[2].parse().map_err(|_| bad())?,
        parts[3].parse().map_err(|_| bad())?,
    );
    tc.topic_filter_type = match parts[4] {
        "MULTI_TAG" => TopicFilterType::MultiTag,
        _ => TopicFilterType::SingleTag,
    };
    if let Some(attrs) = parts.get(5) {
        tc.attributes = json::from_slice(attrs.as_bytes()).unwrap_or_default();
    }
    Ok(tc)
}

/// Reader of the compressed form's `int32 length + bytes` pieces.
struct Pieces<'a>(&'a [u8]);

impl<'a> Pieces<'a> {
    fn int(&mut self) -> Result<usize, JsonError> {
        let short = || JsonError::Compressed("truncated".into());
        let b = self.0.get(..4).ok_or_else(short)?;
        let n = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        self.0 = &self.0[4..];
        usize::try_from(n).map_err(|_| JsonError::Compressed("negative length".into()))
    }

    fn piece(&mut self) -> Result<&'a [u8], JsonError> {
        let n = self.int()?;
        let bytes = self
            .0
            .get(..n)
            .ok_or_else(|| JsonError::Compressed("truncated".into()))?;
        self.0 = &self.0[n..];
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn json_form_round_trips() {
        let mut body = RegisterBrokerBody::default();
        body.topic_config_serialize_wrapper.data_version = DataVersion {
            counter: 2,
            state_version: 0,
            timestamp: 1_700_000_000_000,
        };
        body.topic_config_serialize_wrapper
            .topic_config_table
            .insert("T".into(), TopicConfig::new("T", 4, 4, 6));
        let bytes = body.encode();
        assert!(std::str::from_utf8(&bytes).unwrap().starts_with(
            r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":2,"stateVersion":0,"timestamp":1700000000000},"topicConfigTable":{"T":{"#
        ));
        assert_eq!(RegisterBrokerBody::decode(&bytes, false).unwrap(), body);
    }

    #[test]
    fn compressed_form_decodes() {
        let mut raw = Vec::new();
        let piece = |raw: &mut Vec<u8>, b: &[u8]| {
            raw.extend_from_slice(&(b.len() as i32).to_be_bytes());
            raw.extend_from_slice(b);
        };
        piece(&mut raw, br#"{"counter":7,"stateVersion":0,"timestamp":5}"#);
        raw.extend_from_slice(&1i32.to_be_bytes());
        piece(&mut raw, br#"TopicA 8 8 6 MULTI_TAG {"+k":"v"}"#);
        piece(&mut raw, b"[]");
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&raw).unwrap();
        let body = RegisterBrokerBody::decode(&z.finish().unwrap(), true).unwrap();
        let w = &body.topic_config_serialize_wrapper;
        assert_eq!(w.data_version.counter, 7);
        let t = &w.topic_config_table["TopicA"];
        assert_eq!((t.read_queue_nums, t.perm), (8, 6));
        assert_eq!(t.topic_filter_type, TopicFilterType::MultiTag);
        assert_eq!(t.attributes["+k"], "v");
        assert!(RegisterBrokerBody::decode(b"not zlib", true).is_err());
    }
}
