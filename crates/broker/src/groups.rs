//! Consumer group configs (`SubscriptionGroupManager`): created on first heartbeat when
//! `autoCreateSubscriptionGroup` is on, or by an admin; persisted to
//! `config/subscriptionGroup.json` as `{"dataVersion":..,"subscriptionGroupTable":{..}}` (the
//! wire type `SubscriptionGroupWrapper`, shared with the admin client) by the persister task
//! ([`crate::group_commit`]): an admin change is answered once it is on disk
//! ([`SubscriptionGroups::persisted`]); an auto-created group is not waited for (lost in a
//! crash, it is created again the same way).

use std::path::PathBuf;

use parking_lot::RwLock;
use rmq_remoting::body::{SubscriptionGroupConfig, SubscriptionGroupWrapper};

use rmq_common::time::now_millis;

use crate::group_commit::{Durable, GroupCommit};
use crate::persist;
use crate::BrokerError;

pub struct SubscriptionGroups {
    path: PathBuf,
    auto_create: bool,
    state: RwLock<SubscriptionGroupWrapper>,
    commit: GroupCommit,
}

impl SubscriptionGroups {
    pub fn load(path: PathBuf, auto_create: bool) -> Result<Self, BrokerError> {
        let file: SubscriptionGroupWrapper = persist::load_json(&path)?;
        Ok(SubscriptionGroups {
            commit: GroupCommit::new(path.clone()),
            path,
            auto_create,
            state: RwLock::new(file),
        })
    }

    pub fn get(&self, group: &str) -> Option<SubscriptionGroupConfig> {
        self.state
            .read()
            .subscription_group_table
            .get(group)
            .cloned()
    }

    /// The group's config, created with defaults when auto-creation is on.
    pub fn find_or_create(
        &self,
        group: &str,
    ) -> Result<Option<SubscriptionGroupConfig>, BrokerError> {
        if let Some(g) = self.get(group) {
            return Ok(Some(g));
        }
        if !self.auto_create {
            return Ok(None);
        }
        let g = SubscriptionGroupConfig {
            group_name: group.to_owned(),
            ..Default::default()
        };
        {
            let mut s = self.state.write();
            if let Some(existing) = s.subscription_group_table.get(group) {
                return Ok(Some(existing.clone()));
            }
            s.subscription_group_table
                .insert(group.to_owned(), g.clone());
            s.data_version.next_version(now_millis());
        }
        self.commit.mark();
        Ok(Some(g))
    }

    /// Creates or replaces a group; [`Self::persisted`] tells when it is on disk.
    pub fn put(&self, g: SubscriptionGroupConfig) {
        {
            let mut s = self.state.write();
            s.subscription_group_table.insert(g.group_name.clone(), g);
            s.data_version.next_version(now_millis());
        }
        self.commit.mark();
    }

    /// Waits until every change made so far is on disk (an error when that write failed).
    pub async fn persisted(&self) -> Result<(), BrokerError> {
        self.commit.persisted().await
    }

    /// Removes a group; [`Self::persisted`] tells when that is on disk.
    pub fn remove(&self, group: &str) -> bool {
        let removed = {
            let mut s = self.state.write();
            let r = s.subscription_group_table.remove(group).is_some();
            if r {
                s.data_version.next_version(now_millis());
            }
            r
        };
        if removed {
            self.commit.mark();
        }
        removed
    }

    pub fn group_names(&self) -> Vec<String> {
        self.state
            .read()
            .subscription_group_table
            .keys()
            .cloned()
            .collect()
    }

    /// Replaces every group with a JSON encoding of another broker's (a slave's metadata sync).
    pub fn replace_from_json(&self, body: &[u8]) -> Result<(), BrokerError> {
        let file: SubscriptionGroupWrapper =
            rmq_remoting::json::from_slice(body).map_err(|e| BrokerError::ConfigFile {
                path: self.path.clone(),
                reason: format!("master's subscription groups are unreadable: {e}"),
            })?;
        *self.state.write() = file;
        self.commit.mark();
        Ok(())
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(&*self.state.read()).unwrap_or_default()
    }

    pub fn persist(&self) -> Result<(), BrokerError> {
        let text = persist::encode_json(&self.path, &*self.state.read())?;
        persist::write_json(&self.path, &text)
    }
}

impl Durable for SubscriptionGroups {
    const WHAT: &'static str = "subscription groups";
    fn commit(&self) -> &GroupCommit {
        &self.commit
    }
    fn write(&self) -> Result<(), BrokerError> {
        self.persist()
    }
}
