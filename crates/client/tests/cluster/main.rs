//! The client against in-process rmq name servers and brokers over real TCP.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod admin;
mod clustering;
mod context;
mod delay;
mod failover;
mod harness;
mod offsets;
mod operator;
mod orderly;
#[path = "../support/until.rs"]
mod poll;
mod produce_consume;
mod request_reply;
mod retry;
mod sql92;
mod transaction;
