//! rmq-broker: the broker library behind `mqbroker`.
//!
//! A broker embeds an [`rmq_store::MessageStore`] and serves Apache RocketMQ's remoting protocol
//! on it: sends, long-polling pulls, consumer offsets, client heartbeats and group membership,
//! queue locks for orderly consumers, message queries and the admin requests `mqadmin` uses. It
//! registers with every name server in `namesrvAddr`.
//!
//! Tests and embedders start one with [`Broker::start`] on a listener bound to port 0; the
//! `mqbroker` binary reads a RocketMQ `broker.properties` file ([`BrokerStartupConfig::load`])
//! and calls [`run`], the same `run(config, shutdown)` shape as `rmq_namesrv::run`.

mod broker;
mod clients;
pub mod config;
mod context;
mod error;
pub mod groups;
mod ha;
mod housekeeping;
mod long_poll;
mod metrics;
mod offsets;
mod persist;
mod processor;
mod queue_lock;
mod registration;
mod schedule;
mod slave_sync;
mod topics;
mod transaction;

pub use broker::{run, Broker};
pub use config::{BrokerConfig, BrokerStartupConfig};
pub use context::BrokerContext;
pub use error::BrokerError;
