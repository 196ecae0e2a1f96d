//! Domain types shared by every rmq crate: messages and their stored record layout, message queues,
//! topic configuration, permission and sysflag bits, message ids, Java-compatible hashing and the
//! Java `.properties` format. Pure data and codecs: no tokio, no I/O.

pub mod batch;
pub mod compress;
pub mod config;
pub mod delay;
pub mod java;
pub mod message;
pub mod msg_id;
pub mod perm;
pub mod record;
pub mod sysflag;
pub mod time;
pub mod topic;

pub use message::{Message, MessageExt};
pub use topic::{MessageQueue, TopicConfig};
