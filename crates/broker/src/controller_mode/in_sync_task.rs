//! The master's SyncStateSet task (one per master term, stopped with the role's tasks): every
//! tick it asks [`InSyncTracker`] whether a slave should join or leave the set, and carries a
//! change through the controller leader (CONTROLLER_ALTER_SYNC_STATE_SET).
//!
//! The order of steps is what keeps acknowledged sends safe across a failover:
//! * a slave joining is first made one whose ACK sends wait for, then must have everything up
//!   to the master's end at that moment, and only then is proposed: once the controllers can
//!   elect it, it has every send acknowledged before and every later one waits for it;
//! * a slave leaving is proposed first, and sends stop waiting for it only once the controllers
//!   accepted: until then it may still be elected.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rmq_common::time::now_millis;
use rmq_remoting::body::SyncStateSet;
use rmq_remoting::header::{
    AlterSyncStateSetRequestHeader, AlterSyncStateSetResponseHeader, GetReplicaInfoRequestHeader,
};
use rmq_remoting::json::JsonBody;
use rmq_remoting::{RemotingCommand, RequestCode};
use tokio_util::sync::CancellationToken;

use super::in_sync::{InSyncTracker, SlaveProgress};
use super::rpc::{call, header, leader};
use crate::parts::BrokerParts;
use crate::peer_error::PeerError;

/// How long a joining slave may take to reach the master's end before the join is retried.
const JOIN_CATCH_UP: Duration = Duration::from_secs(1);

pub(super) struct InSyncTask {
    pub p: BrokerParts,
    pub controllers: Vec<String>,
    pub me: i64,
    pub master_epoch: i32,
}

/// The controllers' SyncStateSet (the master included) and its epoch.
type View = (BTreeSet<i64>, i32);

impl InSyncTask {
    pub async fn run(self, stop: CancellationToken) {
        let c = &self.p.config.controller;
        let max = Duration::from_millis(c.ha_max_time_slave_not_catchup);
        let tick = (max / 10).clamp(Duration::from_millis(50), Duration::from_millis(500));
        let mut tracker = InSyncTracker::new(self.me, max, self.p.store.commit_log_max_offset());
        let mut view: Option<View> = None;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(tick) => {}
            }
            if view.is_none() {
                match self.fetch().await {
                    Ok(v) => {
                        self.p.ha.set_in_sync(slaves_of(&v.0, self.me));
                        view = Some(v);
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot read the SyncStateSet yet");
                        continue;
                    }
                }
            }
            let Some((set, epoch)) = view.clone() else {
                continue;
            };
            let slaves: Vec<SlaveProgress> = self
                .p
                .ha
                .connected_slaves()
                .iter()
                .filter_map(|s| {
                    Some(SlaveProgress {
                        id: s.broker_id?,
                        acked: s.acked_offset?,
                    })
                })
                .collect();
            let end = self.p.store.commit_log_max_offset();
            let Some(next) = tracker.tick(Instant::now(), end, &slaves, &set) else {
                continue;
            };
            if next.difference(&set).next().is_some() {
                let both: BTreeSet<i64> = set.union(&next).copied().collect();
                self.p.ha.set_in_sync(slaves_of(&both, self.me));
                let end = self.p.store.commit_log_max_offset();
                if !self.p.ha.wait_in_sync(end, JOIN_CATCH_UP).await {
                    self.p.ha.set_in_sync(slaves_of(&set, self.me));
                    continue;
                }
            }
            match self.alter(&next, epoch).await {
                Ok(v) => {
                    tracing::info!(old = ?set, new = ?v.0, sync_state_set_epoch = v.1,
                        "SyncStateSet changed");
                    self.p.ha.set_in_sync(slaves_of(&v.0, self.me));
                    view = Some(v);
                }
                Err(e) => {
                    tracing::warn!(old = ?set, proposed = ?next, error = %e,
                        "no answer to the SyncStateSet change; reading it again");
                    // The controllers may have taken the change before the answer was lost:
                    // until the set is read again, sends wait for every replica of either
                    // set. Waiting for one ACK too many delays a send; one too few could
                    // acknowledge what a failover then loses.
                    let either: BTreeSet<i64> = set.union(&next).copied().collect();
                    self.p.ha.set_in_sync(slaves_of(&either, self.me));
                    view = None;
                }
            }
        }
    }

    async fn fetch(&self) -> Result<View, PeerError> {
        let leader = leader(&self.p, &self.controllers).await?;
        let req = RemotingCommand::request(
            RequestCode::ControllerGetReplicaInfo,
            &GetReplicaInfoRequestHeader {
                broker_name: self.p.config.broker.broker_name.clone(),
            },
        );
        let resp = call(&self.p, &leader, req, &[]).await?;
        let body = body(RequestCode::ControllerGetReplicaInfo, &resp)?;
        Ok((body.sync_state_set, body.sync_state_set_epoch))
    }

    async fn alter(&self, next: &BTreeSet<i64>, epoch: i32) -> Result<View, PeerError> {
        let leader = leader(&self.p, &self.controllers).await?;
        let h = AlterSyncStateSetRequestHeader {
            broker_name: self.p.config.broker.broker_name.clone(),
            master_broker_id: self.me,
            master_epoch: self.master_epoch,
            invoke_time: Some(now_millis()),
        };
        let proposal = SyncStateSet {
            sync_state_set: next.clone(),
            sync_state_set_epoch: epoch,
        };
        let req = RemotingCommand::request(RequestCode::ControllerAlterSyncStateSet, &h)
            .with_body(proposal.to_json_bytes());
        let resp = call(&self.p, &leader, req, &[]).await?;
        let h: AlterSyncStateSetResponseHeader =
            header(RequestCode::ControllerAlterSyncStateSet, &resp)?;
        let body = body(RequestCode::ControllerAlterSyncStateSet, &resp)?;
        let epoch = h
            .new_sync_state_set_epoch
            .unwrap_or(body.sync_state_set_epoch);
        Ok((body.sync_state_set, epoch))
    }
}

fn body(request: RequestCode, resp: &RemotingCommand) -> Result<SyncStateSet, PeerError> {
    SyncStateSet::from_json_bytes(&resp.body).map_err(|source| PeerError::Body { request, source })
}

/// The set without the master: the slaves whose ACKs count.
fn slaves_of(set: &BTreeSet<i64>, me: i64) -> BTreeSet<i64> {
    set.iter().copied().filter(|id| *id != me).collect()
}
