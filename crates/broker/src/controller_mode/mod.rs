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
//! puts) until the leader confirms it. Not yet: the
//! SyncStateSet maintenance, epochs passed to slaves and truncation, which need Apache's
//! AutoSwitch HA protocol (docs/notes/autoswitch-ha.md); until then a master
//! acknowledges sends as ASYNC_MASTER and a failed master's slave is elected only with
//! `enableElectUncleanMaster=true` on the controllers.

pub mod config;
pub mod identity;
mod replicas;

use std::sync::Arc;

use crate::parts::BrokerParts;
use crate::registration::Registration;

pub(crate) use replicas::ReplicasManager;

/// Starts the broker's controller-mode task, owned by the broker's task tracker.
pub(crate) fn start(p: &BrokerParts, registration: Arc<Registration>) {
    let m = ReplicasManager::new(p.clone(), registration);
    p.tasks.spawn(m.run(p.shutdown.clone()));
}
