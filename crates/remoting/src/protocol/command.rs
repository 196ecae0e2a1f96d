//! [`RemotingCommand`]: one request or response, and its frame encoding.
//!
//! Fields are public because the command is plain data that every processor reads and writes; the
//! invariants live in the codes and headers, not here. A command records the serialize type it was
//! decoded from, and [`RemotingCommand::response_to`] copies it, so replies go back in the form the
//! peer spoke (real clients read both, but answering in kind is what interop tests expect).

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    binary_header, json_header, ExtFields, ExtKey, LanguageCode, RequestCode, ResponseCode,
};
use crate::header::{CommandHeader, HeaderError};

/// Bit 0 of `flag`: this command is a response.
pub const FLAG_RESPONSE: i32 = 1;
/// Bit 1 of `flag`: this request is oneway (no response will be sent).
pub const FLAG_ONEWAY: i32 = 1 << 1;
/// Bytes before the header: the total length word and the header-length-and-type word.
pub const FRAME_PREFIX_LEN: usize = 8;

/// The remoting `version` rmq sends: `MQVersion.V5_3_3` (ordinal 479), the Apache release whose
/// protocol rmq follows. Name servers use the requester's version to pick standard route JSON
/// (>= 401), so sending a current version matters.
pub const RMQ_VERSION: i32 = 479;

/// Header encoding (high byte of the header-length word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SerializeType {
    /// fastjson text (type 0), Apache's default.
    #[default]
    Json,
    /// The compact binary form (type 1).
    RocketMq,
}

impl SerializeType {
    pub fn code(self) -> u8 {
        match self {
            SerializeType::Json => 0,
            SerializeType::RocketMq => 1,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(SerializeType::Json),
            1 => Some(SerializeType::RocketMq),
            _ => None,
        }
    }
}

/// Why a frame could not be turned into a command. The transport closes the connection on these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {len} bytes is shorter than its 4-byte header length word")]
    TooShort { len: usize },
    #[error("header length {header_len} exceeds the {available} bytes left in the frame")]
    HeaderTooLong { header_len: usize, available: usize },
    #[error("unknown serialize type {0}")]
    UnknownSerializeType(u8),
    #[error("bad JSON header: {0}")]
    Json(String),
    #[error("bad ROCKETMQ binary header: {0}")]
    Binary(&'static str),
}

/// One remoting command: a request (flag bit 0 clear) or a response (bit 0 set).
#[derive(Debug, Clone, PartialEq)]
pub struct RemotingCommand {
    /// Request code for requests, response code for responses. See [`RequestCode`] and
    /// [`ResponseCode`] for names; kept raw so unknown codes round-trip.
    pub code: i32,
    pub language: LanguageCode,
    /// The sender's `MQVersion` ordinal.
    pub version: i32,
    /// Request id; a response carries its request's opaque.
    pub opaque: i32,
    /// [`FLAG_RESPONSE`] and [`FLAG_ONEWAY`] bits.
    pub flag: i32,
    pub remark: Option<String>,
    pub ext_fields: ExtFields,
    pub body: Bytes,
    /// The header form this command was decoded from, and the form it will be encoded in.
    pub serialize_type: SerializeType,
}

impl Default for RemotingCommand {
    fn default() -> Self {
        RemotingCommand {
            code: 0,
            language: LanguageCode::Rust,
            version: RMQ_VERSION,
            opaque: 0,
            flag: 0,
            remark: None,
            ext_fields: ExtFields::new(),
            body: Bytes::new(),
            serialize_type: SerializeType::Json,
        }
    }
}

impl RemotingCommand {
    /// A request with no header fields. The transport assigns the opaque when it sends it.
    pub fn new_request(code: impl Into<i32>) -> Self {
        RemotingCommand {
            code: code.into(),
            ..Default::default()
        }
    }

    /// A request carrying a typed header.
    pub fn request(code: impl Into<i32>, header: &impl CommandHeader) -> Self {
        Self::new_request(code).with_header(header)
    }

    /// A response not yet tied to a request (the server copies opaque and form when it replies;
    /// prefer [`RemotingCommand::response_to`] inside processors).
    pub fn new_response(code: impl Into<i32>, remark: Option<String>) -> Self {
        RemotingCommand {
            code: code.into(),
            flag: FLAG_RESPONSE,
            remark,
            ..Default::default()
        }
    }

    /// A response to `self`: same opaque and serialize type, response bit set.
    pub fn response_to(&self, code: impl Into<i32>) -> Self {
        RemotingCommand {
            code: code.into(),
            opaque: self.opaque,
            flag: FLAG_RESPONSE,
            serialize_type: self.serialize_type,
            ..Default::default()
        }
    }

    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    pub fn with_remark(mut self, remark: impl Into<String>) -> Self {
        self.remark = Some(remark.into());
        self
    }

    pub fn with_opaque(mut self, opaque: i32) -> Self {
        self.opaque = opaque;
        self
    }

    pub fn with_serialize_type(mut self, serialize_type: SerializeType) -> Self {
        self.serialize_type = serialize_type;
        self
    }

    /// Writes a typed header's fields into `extFields` (existing keys are replaced).
    pub fn with_header(mut self, header: &impl CommandHeader) -> Self {
        header.write(&mut self.ext_fields);
        self
    }

    /// Adds one raw `extFields` entry.
    pub fn with_ext_field(mut self, key: impl Into<ExtKey>, value: impl Into<String>) -> Self {
        self.ext_fields.insert(key, value);
        self
    }

    /// Marks this request oneway (no response will be sent).
    pub fn with_oneway(mut self) -> Self {
        self.flag |= FLAG_ONEWAY;
        self
    }

    /// Reads a typed header from `extFields`.
    pub fn decode_header<H: CommandHeader>(&self) -> Result<H, HeaderError> {
        H::read(&self.ext_fields)
    }

    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }

    pub fn mark_response(&mut self) {
        self.flag |= FLAG_RESPONSE;
    }

    pub fn mark_oneway(&mut self) {
        self.flag |= FLAG_ONEWAY;
    }

    /// The code read as a request code.
    pub fn request_code(&self) -> RequestCode {
        RequestCode::from(self.code)
    }

    /// The code read as a response code.
    pub fn response_code(&self) -> ResponseCode {
        ResponseCode::from(self.code)
    }

    pub fn is_success(&self) -> bool {
        self.code == ResponseCode::Success.code()
    }

    /// The form the header is actually written in: ROCKETMQ binary carries the code and version
    /// as int16, so a command whose code or version does not fit falls back to JSON rather than
    /// being truncated the way Java's `writeShort` would.
    pub fn effective_serialize_type(&self) -> SerializeType {
        match self.serialize_type {
            SerializeType::RocketMq
                if i16::try_from(self.code).is_err() || i16::try_from(self.version).is_err() =>
            {
                SerializeType::Json
            }
            other => other,
        }
    }

    /// Appends the whole frame (length prefix, header, body) to `dst`.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.reserve(self.body.len());
        self.encode_header_frame(dst, self.body.len());
        dst.extend_from_slice(&self.body);
    }

    /// Appends the length prefix and the header, sized for a body of `body_len` bytes that the
    /// caller writes next (e.g. with vectored I/O). Returns where the frame starts in `dst`.
    pub fn encode_header_frame(&self, dst: &mut BytesMut, body_len: usize) -> usize {
        let start = dst.len();
        dst.reserve(FRAME_PREFIX_LEN + 128 + self.ext_fields.len() * 32);
        dst.put_u64(0); // placeholders for the two length words, patched below
        let ty = self.effective_serialize_type();
        match ty {
            SerializeType::Json => json_header::encode(self, dst),
            SerializeType::RocketMq => binary_header::encode(self, dst),
        }
        let header_len = dst.len() - start - FRAME_PREFIX_LEN;
        let total = 4 + header_len + body_len;
        let type_and_len = (u32::from(ty.code()) << 24) | (header_len as u32 & 0x00FF_FFFF);
        dst[start..start + 4].copy_from_slice(&(total as u32).to_be_bytes());
        dst[start + 4..start + 8].copy_from_slice(&type_and_len.to_be_bytes());
        start
    }

    /// Encodes the whole frame into a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(FRAME_PREFIX_LEN + 256 + self.body.len());
        self.encode(&mut buf);
        buf.freeze()
    }

    /// Decodes a frame whose 4-byte total-length prefix has already been removed: `frame` starts
    /// at the header-length-and-type word. The body is a zero-copy slice of `frame`.
    pub fn decode(frame: Bytes) -> Result<Self, DecodeError> {
        if frame.len() < 4 {
            return Err(DecodeError::TooShort { len: frame.len() });
        }
        let word = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
        let ty_code = (word >> 24) as u8;
        let header_len = (word & 0x00FF_FFFF) as usize;
        let available = frame.len() - 4;
        if header_len > available {
            return Err(DecodeError::HeaderTooLong {
                header_len,
                available,
            });
        }
        let header = &frame[4..4 + header_len];
        let mut cmd = match SerializeType::from_code(ty_code) {
            Some(SerializeType::Json) => json_header::decode(header)?,
            Some(SerializeType::RocketMq) => binary_header::decode(header)?,
            None => return Err(DecodeError::UnknownSerializeType(ty_code)),
        };
        cmd.body = frame.slice(4 + header_len..);
        Ok(cmd)
    }

    /// Decodes a complete frame including its 4-byte total-length prefix (handy in tests).
    pub fn decode_with_prefix(frame: Bytes) -> Result<Self, DecodeError> {
        if frame.len() < 4 {
            return Err(DecodeError::TooShort { len: frame.len() });
        }
        let total = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        if total != frame.len() - 4 {
            return Err(DecodeError::HeaderTooLong {
                header_len: total,
                available: frame.len() - 4,
            });
        }
        Self::decode(frame.slice(4..))
    }
}
