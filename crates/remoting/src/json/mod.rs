//! fastjson compatibility (protocol.md 2.7).
//!
//! Apache encodes bodies with fastjson 1, which writes maps with non-string keys in a form that is
//! not JSON: integer keys bare (`{0:"10.0.0.1:10911"}`) and object keys inline
//! (`{{"brokerName":"b","queueId":0,"topic":"T"}:{...}}`). Rather than teach every type a custom
//! parser, [`normalize`] rewrites such text into standard JSON first — bare numbers become quoted
//! keys and object keys become their JSON text as a quoted key — and serde does the rest
//! ([`mq_map`] turns those keys back into `MessageQueue`s). [`to_fastjson`] goes the other way for
//! the bodies Java tools parse and need the fastjson shape for. [`JsonBody`] bundles both for body
//! types. Nothing here panics on arbitrary input.

mod fastjson_writer;
pub mod mq_map;
mod normalize;

pub use fastjson_writer::to_fastjson;
pub use normalize::normalize;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a JSON body could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("malformed JSON at byte {pos}: {reason}")]
    Syntax { pos: usize, reason: &'static str },
    #[error("JSON nested deeper than {0} levels")]
    TooDeep(usize),
    #[error(transparent)]
    Serde(#[from] serde_json::Error),
    #[error("bad compressed body: {0}")]
    Compressed(String),
}

/// Parses a body that may be fastjson output (normalized first) or standard JSON.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let normalized = normalize(bytes)?;
    Ok(serde_json::from_slice(&normalized)?)
}

/// A JSON body type: standard encoding, fastjson encoding, lenient decoding.
pub trait JsonBody: Serialize + DeserializeOwned {
    /// Standard JSON (numeric map keys quoted).
    fn to_json_bytes(&self) -> Bytes {
        // Serializing plain data structs to a Vec cannot fail (no non-string keys reach serde_json:
        // MessageQueue-keyed maps serialize their keys as text).
        Bytes::from(serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec()))
    }

    /// fastjson's shape: integer map keys bare, `MessageQueue` keys inline.
    fn to_fastjson_bytes(&self) -> Bytes {
        Bytes::from(to_fastjson(self).unwrap_or_else(|_| b"{}".to_vec()))
    }

    /// Decodes standard JSON or fastjson output.
    fn from_json_bytes(bytes: &[u8]) -> Result<Self, JsonError> {
        from_slice(bytes)
    }
}
