//! Apache RocketMQ 5's gRPC API, `apache.rocketmq.v2`: the messages and the `MessagingService`
//! and `Admin` services, generated at build time from `proto/` (see its README). Nothing here
//! is written by hand but this file.

/// `apache.rocketmq.v2`.
#[allow(clippy::all, clippy::pedantic, missing_docs, rust_2018_idioms)]
pub mod v2 {
    tonic::include_proto!("apache.rocketmq.v2");
}
