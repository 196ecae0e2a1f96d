//! JSON bodies with Apache's exact field names (protocol.md 2.4-2.7).
//!
//! Structs declare their fields in alphabetical order, so serde writes them in fastjson's order.
//! Decoding is as lenient as real clients need (see `shared/interop/README.md`): every struct
//! defaults missing fields, unknown fields are ignored, enums accept a name or an ordinal, and
//! numbers and booleans accept their text forms. Decode bodies with
//! [`JsonBody::from_json_bytes`](crate::json::JsonBody::from_json_bytes), which also accepts
//! fastjson's non-standard map keys.

mod admin;
mod auth;
mod controller;
mod group;
mod heartbeat;
mod lenient;
mod lists;
mod offsets;
mod plain_acl;
mod pop;
mod register;
mod route;
mod running;

pub use admin::*;
pub use auth::*;
pub use controller::*;
pub use group::*;
pub use heartbeat::*;
pub use lists::*;
pub use offsets::*;
pub use plain_acl::*;
pub use pop::*;
pub use register::*;
pub use route::*;
pub use running::*;

pub use crate::json::JsonBody;
