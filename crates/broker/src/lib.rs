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

pub mod acl;
mod background;
mod broker;
mod clients;
pub mod config;
mod context;
pub mod controller_mode;
mod delay_offsets;
mod error;
mod group_commit;
pub mod groups;
mod grpc;
mod ha;
mod housekeeping;
mod keyed_stats;
mod known_master;
mod live_clients;
mod live_config;
mod long_poll;
mod metrics;
mod metrics_endpoint;
mod offsets;
mod op_log;
mod orphan_check;
mod parts;
mod peer_error;
mod peer_grpc;
mod persist;
mod pop;
mod processor;
mod pull_offsets;
mod queue_lock;
mod registration;
mod registration_wanted;
mod schedule;
mod slave_sync;
pub mod sql92;
mod stats;
mod supervise;
mod timer;
mod topics;
mod transaction;
mod transaction_check;
pub mod unsupported;

pub use broker::{run, Broker};
pub use config::{BrokerConfig, BrokerStartupConfig};
pub use context::BrokerContext;
pub use error::BrokerError;
