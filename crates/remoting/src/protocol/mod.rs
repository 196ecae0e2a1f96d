//! The remoting frame and command (protocol.md sections 1 and 2).
//!
//! A frame on the wire is `[length: i32][type << 24 | header length: i32][header][body]`, all
//! big-endian, where `length` counts everything after itself. The header is either fastjson JSON
//! (serialize type 0) or the ROCKETMQ binary form (type 1); a [`RemotingCommand`] remembers the form
//! it was decoded from so a reply can use the same one. Codes are kept as raw `i32` on the command
//! (unknown codes must survive a round trip) and given names by [`RequestCode`] and
//! [`ResponseCode`].

mod binary_header;
mod command;
mod ext_fields;
mod json_header;
mod json_text;
mod language;
mod request_code;
mod response_code;
pub mod signature;
mod version;

pub use command::{
    DecodeError, RemotingCommand, SerializeType, FLAG_ONEWAY, FLAG_RESPONSE, FRAME_PREFIX_LEN,
    RMQ_VERSION,
};
pub use ext_fields::{ExtFields, ExtKey};
pub(crate) use json_text::write_json_str;
pub use language::LanguageCode;
pub use request_code::RequestCode;
pub use response_code::ResponseCode;
pub use version::version_desc;
