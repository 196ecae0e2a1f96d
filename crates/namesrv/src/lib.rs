//! rmq-namesrv: the name server, as a library and the `mqnamesrv` binary.
//!
//! Brokers register with every name server every 30 s; producers, consumers and admin tools ask
//! it for topic routes. The name server keeps that registry in memory and answers Apache
//! RocketMQ's name server commands byte for byte (protocol.md sections 2.6, 2.7 and 7), so Java
//! brokers and clients work against it unchanged.
//!
//! The crate separates the rules from the I/O:
//! * [`route_table`] — the registry as pure state (registration, unregistration, expiry, routes),
//!   unit-tested without sockets or clocks;
//! * [`kv_config`] — the namespaced KV config, the only persisted state;
//! * `route_cache` — encoded route answers, so route queries are a shared-lock lookup;
//! * `processor/` — one file per request family, plain functions over the shared state;
//! * [`server`] — start/stop: [`start`] returns a [`NamesrvHandle`] that owns every task.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rmq_namesrv::NamesrvError> {
//! let mut config = rmq_namesrv::NamesrvConfig::default();
//! config.kv_config_path = "/tmp/kvConfig.json".into();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| {
//!     rmq_namesrv::NamesrvError::Bind { addr: "127.0.0.1:0".into(), port: 0, source: e }
//! })?;
//! let namesrv = rmq_namesrv::start(config, listener).await?;
//! println!("name server on {}", namesrv.local_addr());
//! namesrv.shutdown().await;
//! # Ok(()) }
//! ```

pub mod config;
mod error;
pub mod kv_config;
mod metrics;
mod metrics_endpoint;
mod processor;
mod route_cache;
pub mod route_table;
pub mod server;
mod state;

pub use config::NamesrvConfig;
pub use error::NamesrvError;
pub use server::{bind, run, start, NamesrvHandle};
pub use state::NAMESPACE_ORDER_TOPIC_CONFIG;
