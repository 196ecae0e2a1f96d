//! Typed command headers with Apache's exact `extFields` names (protocol.md 2.4-2.6).
//!
//! On the wire every header field is a string in `extFields`. A header struct converts to and from
//! that map through [`CommandHeader`]; the [`command_header!`](crate::command_header) macro keeps
//! each definition to its field list. Parsing mirrors Java where Java is lenient (booleans: `"true"`
//! in any case or `"1"` are true, anything else false; unknown keys ignored) and is strict where a
//! Rust server must not guess: a missing or unparsable required field is a [`HeaderError`] naming
//! the header and the field, which servers answer with an error response instead of crashing.
//!
//! Request headers that Java derives from `RpcRequestHeader`/`TopicRequestHeader` carry the common
//! optional fields in [`RpcFields`] (`ns`, `nsd`, `bname`, `oway`, `lo`), so they survive a decode
//! and re-encode (a proxy or the broker can see which broker a request was meant for).

mod admin;
mod auth;
mod consumer;
mod controller;
mod macros;
mod namesrv;
mod offset;
mod plain_acl;
mod pop;
mod pull;
mod query;
mod send;
mod transaction;
mod value;

pub use admin::*;
pub use auth::*;
pub use consumer::*;
pub use controller::*;
pub use namesrv::*;
pub use offset::*;
pub use plain_acl::*;
pub use pop::*;
pub use pull::*;
pub use query::*;
pub use send::*;
pub use transaction::*;
pub use value::{BoundaryType, HeaderValue};

use crate::protocol::ExtFields;

/// A typed view of a command's `extFields`.
pub trait CommandHeader: Sized {
    /// The Java class name, used in error messages.
    const NAME: &'static str;

    /// Puts every present field into `ext` as a string.
    fn write(&self, ext: &mut ExtFields);

    /// Reads the fields; fails if a required one is missing or unparsable.
    fn read(ext: &ExtFields) -> Result<Self, HeaderError>;

    /// The header as a fresh `ExtFields` map.
    fn to_ext_fields(&self) -> ExtFields {
        let mut ext = ExtFields::new();
        self.write(&mut ext);
        ext
    }
}

/// Why `extFields` could not be read as a typed header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the header {header} is missing its required field {field:?}")]
    Missing {
        header: &'static str,
        field: &'static str,
    },
    #[error("the header {header} has an invalid value {value:?} in field {field:?}")]
    Invalid {
        header: &'static str,
        field: &'static str,
        value: String,
    },
}

crate::command_header! {
    /// The optional fields Java's `RpcRequestHeader` and `TopicRequestHeader` add to requests.
    pub struct RpcFields: "RpcRequestHeader" {
        /// Namespace.
        opt ns: String = "ns",
        /// Whether resource names are already namespaced.
        opt nsd: bool = "nsd",
        /// The logical broker name the request is meant for.
        opt bname: String = "bname",
        /// Oneway marker.
        opt oway: bool = "oway",
        /// Logical (static topic) marker.
        opt lo: bool = "lo",
    }
}

/// An empty header, for requests that carry only the common RPC fields (e.g. HEART_BEAT,
/// LOCK_BATCH_MQ, UNLOCK_BATCH_MQ).
pub type EmptyRequestHeader = RpcFields;
pub type HeartbeatRequestHeader = RpcFields;
pub type LockBatchMqRequestHeader = RpcFields;
pub type UnlockBatchMqRequestHeader = RpcFields;

#[cfg(test)]
mod tests;
