//! [`Admin`]: the one administration client of the workspace — what `mqadmin`, the console and
//! the Java-conformance checks use to inspect and change a cluster (protocol.md 2.6 "Admin
//! commands").
//!
//! It is shaped as one type with its calls split by family, one file each, so a reader looking
//! for "how is a group deleted" opens `group.rs`:
//! * `rpc` — the one helper every call goes through: send a typed header (and body) to an
//!   address, require SUCCESS, decode the answer's body or header, errors naming the peer;
//! * `cluster` — cluster info and a cluster's masters;
//! * `topic` — routes, lists, stats, topic config create/update/delete;
//! * `group` — group configs, consume stats, consumer and producer connections, running info;
//! * `offset` — committed offsets, search by time, progress, reset;
//! * `message` — lookups by id, key, queue offset and time range, and reading a queue;
//! * `broker` — runtime figures, per-topic and per-group statistics, and broker config;
//! * `kv` — the name servers' KV config;
//! * `controller` — the controllers of controller mode: leader, SyncStateSets, elections;
//! * `auth` — ACL 2.0 users and ACLs, one broker at a time;
//! * `plain_acl` — ACL 1.0: a broker's `plain_acl.yml`, edited and read through the broker.
//!
//! Calls that name an address act on that one broker; calls that name a topic or group find
//! their brokers through the name servers (with failover) and merge what they answer.

mod auth;
mod broker;
mod cluster;
mod controller;
mod group;
mod kv;
mod message;
mod offset;
mod plain_acl;
mod rpc;
mod topic;

use std::sync::Arc;

use crate::error::Result;
use crate::instance::ClientInstance;
use crate::options::{client_option_setters, ClientOptions};
use crate::stop_on_drop::StopOnDrop;

pub use cluster::{masters_of, BrokerTarget};
pub use controller::Elected;
pub use message::PullOne;
pub use offset::QueueReset;
pub use topic::TopicTarget;

/// Builds an [`Admin`].
#[derive(Debug, Default)]
pub struct AdminBuilder {
    options: ClientOptions,
}

impl AdminBuilder {
    client_option_setters!();

    /// A started admin client with these options (it connects lazily, on the first call), the
    /// same shape as every other client: no separate `start`, and dropping the last handle
    /// stops its background tasks.
    pub async fn build(self) -> Result<Admin> {
        let mut options = self.options;
        options.name_server_optional = true;
        options.unique_instance_name();
        let instance = ClientInstance::new(options)?;
        instance.start();
        Ok(Admin {
            _stop: StopOnDrop::new(&instance.cancel),
            instance,
        })
    }
}

/// Administration client: cluster, topics, groups, offsets, messages, broker config, KV config.
///
/// ```no_run
/// # async fn run() -> rmq_client::Result<()> {
/// let admin = rmq_client::Admin::builder().name_server("127.0.0.1:9876").build().await?;
/// for (cluster, brokers) in admin.cluster_info().await?.cluster_addr_table {
///     println!("{cluster}: {brokers:?}");
/// }
/// admin.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Admin {
    instance: Arc<ClientInstance>,
    /// Cancels the background tasks when the last clone is dropped.
    _stop: Arc<StopOnDrop>,
}

impl Admin {
    /// A builder with default options.
    pub fn builder() -> AdminBuilder {
        AdminBuilder::default()
    }

    /// Stops the background tasks and closes the connections.
    pub async fn shutdown(&self) {
        self.instance.shutdown().await;
    }

    /// The name server list as configured, `;`-separated.
    pub fn name_server_list(&self) -> String {
        self.instance.name_server_list()
    }
}
