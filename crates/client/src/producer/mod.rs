//! [`Producer`]: sends messages to the masters of a topic's brokers.
//!
//! Every send method is an `async fn` on a cheaply clonable handle, so an application runs many
//! sends concurrently by spawning them or polling them together (`futures::future::join_all`,
//! `FuturesUnordered`): each request is pipelined on the broker's connection.
//! [`Producer::send_with_callback`] does the same for callers that prefer a callback.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rmq_client::ClientError> {
//! use rmq_client::{Message, Producer};
//! let producer = Producer::builder().group("G").name_server("127.0.0.1:9876").build().await?;
//! let r = producer.send(Message::new("TopicTest", "hello").with_tags("TagA")).await?;
//! println!("{} stored at {}", r.msg_id, r.queue_offset);
//! producer.shutdown().await;
//! # Ok(()) }
//! ```

pub(crate) mod encode;
pub(crate) mod fault;
mod plain;
mod request;
pub(crate) mod select;
pub(crate) mod sender;
mod transaction;
mod transaction_check;
mod transaction_listener;

pub use encode::{SendResult, SendStatus};
pub use plain::{Producer, ProducerBuilder};
pub use sender::SendSettings;
pub use transaction::{TransactionProducer, TransactionProducerBuilder, TransactionSendResult};
pub use transaction_listener::{LocalTransactionState, TransactionListener};
