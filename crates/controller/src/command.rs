//! What the controller's log holds: each entry a [`Command`], applied in log order to every
//! controller's [`ControllerState`](crate::ControllerState).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::replica_set::BrokerId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// A broker in controller mode takes broker id `id` in its group (Apache's APPLY_BROKER_ID:
    /// the id it was told is next, kept in its identity file from then on). `check_code`
    /// (`addr;millis`) makes a retried apply of the same attempt succeed again.
    ApplyBrokerId {
        cluster: String,
        broker_name: String,
        id: BrokerId,
        addr: String,
        check_code: String,
    },
    /// A registered replica came back at another address.
    UpdateAddress {
        broker_name: String,
        id: BrokerId,
        addr: String,
    },
    /// Makes `new_master` the group's master (or leaves it without one), decided while the
    /// group's master epoch was `seen_master_epoch`.
    ElectMaster {
        broker_name: String,
        new_master: Option<BrokerId>,
        seen_master_epoch: i32,
        /// The new master may be outside the SyncStateSet (`enableElectUncleanMaster`).
        unclean: bool,
    },
    /// The master asks to change its SyncStateSet (shrink a lagging slave out, expand a
    /// caught-up one in), decided under the epochs it names.
    AlterSyncStateSet {
        broker_name: String,
        master: BrokerId,
        master_epoch: i32,
        sync_state_set_epoch: i32,
        new_set: BTreeSet<BrokerId>,
    },
    /// `mqadmin cleanBrokerMetadata`: forgets the named replicas, or the whole group.
    Clean {
        broker_name: String,
        ids: Option<BTreeSet<BrokerId>>,
    },
}

/// What an applied command changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Applied {
    Registered {
        id: BrokerId,
    },
    /// The group's master and epochs after an election.
    MasterElected {
        master: Option<BrokerId>,
        master_epoch: i32,
        sync_state_set_epoch: i32,
    },
    SyncStateSetAltered {
        sync_state_set_epoch: i32,
    },
    Cleaned,
}

/// Why a command was refused; the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Rejected {
    #[error("broker group {0} is not registered with the controller")]
    UnknownGroup(String),
    #[error("broker group {broker_name} belongs to cluster {registered}, not {asked}")]
    WrongCluster {
        broker_name: String,
        registered: String,
        asked: String,
    },
    #[error("broker id {id} of group {broker_name} is not registered")]
    UnknownReplica { broker_name: String, id: BrokerId },
    #[error(
        "broker id {id} of group {broker_name} is taken by another broker (or is not the \
         group's first id); ask for the next id (CONTROLLER_GET_NEXT_BROKER_ID) and apply again"
    )]
    BrokerIdTaken { broker_name: String, id: BrokerId },
    #[error("broker id {id} of group {broker_name} is not alive; it cannot be elected")]
    NotAlive { broker_name: String, id: BrokerId },
    #[error(
        "group {broker_name} is at master epoch {current}, the request was decided at {seen}; \
         ask again with the current state"
    )]
    StaleMasterEpoch {
        broker_name: String,
        seen: i32,
        current: i32,
    },
    #[error(
        "group {broker_name}'s SyncStateSet is at epoch {current}, the request was decided at \
         {seen}; ask again with the current state"
    )]
    StaleSyncStateSetEpoch {
        broker_name: String,
        seen: i32,
        current: i32,
    },
    #[error(
        "broker id {asked} is not the master of group {broker_name} (the master is {master:?})"
    )]
    NotMaster {
        broker_name: String,
        asked: BrokerId,
        master: Option<BrokerId>,
    },
    #[error(
        "broker id {id} is outside group {broker_name}'s SyncStateSet {sync_state_set:?}: it may \
         miss acknowledged messages (enableElectUncleanMaster=true allows it)"
    )]
    NotInSyncStateSet {
        broker_name: String,
        id: BrokerId,
        sync_state_set: Vec<BrokerId>,
    },
    #[error("the new SyncStateSet of group {broker_name} is not acceptable: {why}")]
    BadSyncStateSet { broker_name: String, why: String },
}
