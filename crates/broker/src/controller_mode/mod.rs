//! Controller mode (`enableControllerMode=true`): the broker's role and id come from the
//! controllers (rmq's `mqcontroller` or Apache's), as Apache's `ReplicasManager` does it.
//!
//! At start the broker is fenced: a slave store that takes nothing, off the name servers, no
//! role's tasks. [`ReplicasManager`] then joins its group through the controller leader
//! (GET_NEXT_BROKER_ID and APPLY_BROKER_ID the first time, the id kept in `brokerIdentity`;
//! REGISTER_BROKER), heartbeats every controller, asks for an election when the group has no
//! master, and applies the role the leader answers (GET_REPLICA_INFO every
//! `syncBrokerMetadataPeriod`, at once on NOTIFY_BROKER_ROLE_CHANGED). Elected, the broker
//! turns its store and HA to master, starts the master's tasks and registers as broker id 0;
//! otherwise it follows the master's HA address (from the name servers' answer for the
//! master the controllers named) as a slave with its controller id.
//!
//! A broker made master records `(epoch, CommitLog end)` in the epoch file; a master that
//! loses the controller leader for half its heartbeat timeout is fenced (its store refuses
//! puts) until the leader confirms it.
//!
//! Replication in this mode (rmq's HA wire plus a hello naming the slave's broker id):
//! * the master keeps its SyncStateSet with the controllers (`in_sync_task`, rules in
//!   `in_sync`): slaves that catch up join, slaves behind for `haMaxTimeSlaveNotCatchup` or
//!   gone leave; sends are acknowledged as `allAckInSyncStateSet`/`inSyncReplicas` say, and
//!   consumers see only what every in-sync slave has (the store's replica confirm offset);
//! * a slave, before following a master, asks it for its epochs (GET_BROKER_EPOCH_CACHE),
//!   cuts its own CommitLog back to the last point both logs share, and adopts the master's
//!   epochs; the controllers elect only members of the SyncStateSet unless
//!   `enableElectUncleanMaster=true`.
//!
//! Apache's AutoSwitch HA wire (docs/notes/autoswitch-ha.md) is not spoken: an rmq broker and
//! an Apache broker in one group do not replicate to each other in this mode.

pub mod config;
pub mod identity;
mod in_sync;
mod in_sync_task;
mod replicas;
mod rpc;

use std::sync::Arc;

use crate::parts::BrokerParts;
use crate::registration::Registration;

pub(crate) use replicas::ReplicasManager;

/// Starts the broker's controller-mode task, owned by the broker's task tracker.
pub(crate) fn start(p: &BrokerParts, registration: Arc<Registration>) {
    let m = ReplicasManager::new(p.clone(), registration);
    p.tasks.spawn(m.run(p.shutdown.clone()));
}
