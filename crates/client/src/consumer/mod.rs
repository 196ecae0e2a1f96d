//! Consumers: [`PushConsumer`] (the client pulls with long polling and pushes to a listener) and
//! [`PullConsumer`] (the application drives its own loop), plus the pieces they share.

pub(crate) mod allocate;
mod context;
pub mod listener;
pub(crate) mod process_queue;
pub mod pull_consumer;
pub(crate) mod pull_result;
pub mod push;
pub(crate) mod rebalance_schedule;
pub(crate) mod start_offset;
pub(crate) mod subscription;

pub use context::ConsumeConcurrentlyContext;
pub use listener::{
    AsyncConcurrentListener, ConsumeConcurrentlyStatus, ConsumeFrom, ConsumeOrderlyStatus,
};
pub use pull_consumer::{PullConsumer, PullConsumerBuilder};
pub use pull_result::{PullResult, PullStatus};
pub use push::{PushConsumer, PushConsumerBuilder};
pub use rmq_remoting::body::MessageModel;
pub use subscription::MessageSelector;
