//! rmq_client: a RocketMQ client for Apache RocketMQ's remoting protocol — [`Producer`],
//! [`TransactionProducer`], [`PushConsumer`], [`PullConsumer`] and [`Admin`] — that works
//! against rmq's daemons and Apache RocketMQ's.
//!
//! Layout, one idea per module:
//! * `instance` — what every client owns: the remoting client, name server failover, the route
//!   cache and its refresh task, heartbeats, and the tracker of its background tasks;
//! * `route` — route data turned into publish/subscribe queues;
//! * `broker_api` — typed broker RPCs (offsets, group membership, locks, send-back);
//! * [`producer`] — encoding, queue selection, fault tolerance, the send pipeline, and the
//!   transaction producer (half messages, END_TRANSACTION, answering the broker's checks);
//! * `server_requests` — requests brokers initiate (rebalance wake-ups, transaction checks);
//! * [`consumer`] — subscriptions, allocation, rebalance, pull loops, process queues, the
//!   concurrent and orderly consume services, the push and pull consumers;
//! * `offset_store` — remote (broker) and local-file offsets;
//! * [`admin`] — the one admin client: cluster, topics, groups, offsets, messages, broker
//!   and KV config, one file per family.
//!
//! A builder's `build().await` returns a started client: there is no separate `start` and no
//! "not started" state to misuse. Every background task belongs to the client that started it;
//! it stops at `shutdown().await` (the graceful path: commit offsets, unregister) or when the
//! last handle of the client is dropped.

#![warn(missing_docs)]

// Admin is being reworked in parallel (it becomes the only admin client); its docs come with it.
#[allow(missing_docs)]
pub mod admin;
mod broker_api;
mod client_id;
mod compress;
pub mod consumer;
mod consumer_control;
mod error;
mod instance;
mod offset_store;
mod options;
pub mod producer;
pub mod reply;
mod route;
mod server_requests;
mod stop_on_drop;
pub mod trace;

pub use admin::{Admin, AdminBuilder, BrokerTarget, Elected, PullOne, QueueReset, TopicTarget};
pub use compress::Compression;
pub use consumer::{
    ConsumeConcurrentlyStatus, ConsumeFrom, ConsumeOrderlyStatus, MessageModel, MessageSelector,
    PullConsumer, PullConsumerBuilder, PullResult, PullStatus, PushConsumer, PushConsumerBuilder,
};
pub use error::{ClientError, Result};
pub use options::ClientOptions;
pub use producer::{
    LocalTransactionState, Producer, ProducerBuilder, SendResult, SendStatus, TransactionListener,
    TransactionProducer, TransactionProducerBuilder, TransactionSendResult,
};
pub use reply::create_reply_message;
pub use rmq_common::{Message, MessageExt, MessageQueue, TopicConfig};
pub use rmq_remoting::body::ElectMasterResponseBody;
/// The wire bodies [`Admin`] returns and takes, with Apache's JSON names.
pub use rmq_remoting::body::{
    AclInfo, BrokerData, BrokerMemberGroup, BrokerReplicasInfo, BrokerStatsData, BrokerStatsItem,
    ClusterInfo, Connection, ConsumeMessageDirectlyResult, ConsumeResult, ConsumeStats,
    ConsumeStatus, ConsumerConnection, ConsumerOffsetSerializeWrapper, ConsumerRunningInfo,
    DelayOffsetSerializeWrapper, EpochEntry, EpochEntryCache,
    GetBrokerClusterAclConfigResponseBody, GroupList, OffsetWrapper, PlainAccessConfig,
    PolicyEntryInfo, PolicyInfo, ProcessQueueInfo, ProducerConnection, QueueData, ReplicaIdentity,
    ReplicasInfo, SubscriptionData, SubscriptionGroupConfig, SubscriptionGroupWrapper,
    TopicConfigSerializeWrapper, TopicList, TopicOffset, TopicRouteData, TopicStatsTable, UserInfo,
};
/// The wire headers [`Admin`] returns, with Apache's field names.
pub use rmq_remoting::header::{
    CreateAccessConfigRequestHeader, ElectMasterResponseHeader, GetBrokerAclConfigResponseHeader,
    GetMetaDataResponseHeader,
};
pub use rmq_remoting::{version_desc, Credentials, RemotingError, ResponseCode};
