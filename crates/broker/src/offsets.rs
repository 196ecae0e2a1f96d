//! Committed consumer offsets (`ConsumerOffsetManager`): `topic@group -> queueId -> offset`,
//! persisted to `config/consumerOffset.json` periodically and at shutdown, in Apache's shape
//! `{"offsetTable":{"topic@group":{"0":12}}}` (Apache writes bare numeric keys; both forms are
//! read).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::persist;
use crate::BrokerError;

const TOPIC_GROUP_SEPARATOR: char = '@';

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OffsetFile {
    #[serde(default)]
    offset_table: BTreeMap<String, BTreeMap<i32, i64>>,
}

/// One group's committed offsets on one topic: (topic, group, [(queue id, offset)]).
pub type GroupOffsets = (String, String, Vec<(i32, i64)>);

/// Offsets committed by consumer groups.
pub struct ConsumerOffsets {
    path: PathBuf,
    table: RwLock<HashMap<String, HashMap<i32, i64>>>,
    /// Offsets an operator reset (INVOKE_BROKER_TO_RESET_OFFSET) that the group's consumers have
    /// not been told yet: the next pull of the queue answers PULL_OFFSET_MOVED with it, and
    /// until then commits of the old position are ignored. Not persisted, as in Apache.
    resets: RwLock<HashMap<String, HashMap<i32, i64>>>,
}

fn key(topic: &str, group: &str) -> String {
    let mut k = String::with_capacity(topic.len() + group.len() + 1);
    k.push_str(topic);
    k.push(TOPIC_GROUP_SEPARATOR);
    k.push_str(group);
    k
}

impl ConsumerOffsets {
    /// Loads `path` (or its `.bak`); a missing file is an empty table.
    pub fn load(path: PathBuf) -> Result<Self, BrokerError> {
        let file: OffsetFile = persist::load_json(&path)?;
        let table = file
            .offset_table
            .into_iter()
            .map(|(k, queues)| (k, queues.into_iter().collect()))
            .collect();
        Ok(ConsumerOffsets {
            path,
            table: RwLock::new(table),
            resets: RwLock::default(),
        })
    }

    /// Commits `offset` and holds it for the queue's next pull (see `resets`).
    pub fn assign_reset(&self, group: &str, topic: &str, queue_id: i32, offset: i64) {
        self.resets
            .write()
            .entry(key(topic, group))
            .or_default()
            .insert(queue_id, offset);
        self.commit(group, topic, queue_id, offset);
    }

    /// Whether a reset waits for the queue's next pull.
    pub fn has_reset(&self, group: &str, topic: &str, queue_id: i32) -> bool {
        self.resets
            .read()
            .get(&key(topic, group))
            .is_some_and(|q| q.contains_key(&queue_id))
    }

    /// The reset waiting for the queue's next pull, removed.
    pub fn take_reset(&self, group: &str, topic: &str, queue_id: i32) -> Option<i64> {
        // Every pull asks: answer the usual "none" under the shared lock, without a key.
        if self.resets.read().is_empty() {
            return None;
        }
        let k = key(topic, group);
        let mut resets = self.resets.write();
        let queues = resets.get_mut(&k)?;
        let offset = queues.remove(&queue_id);
        if queues.is_empty() {
            resets.remove(&k);
        }
        offset
    }

    pub fn commit(&self, group: &str, topic: &str, queue_id: i32, offset: i64) {
        let mut t = self.table.write();
        t.entry(key(topic, group))
            .or_default()
            .insert(queue_id, offset);
    }

    /// The committed offset, or `None` when the group never committed one for this queue.
    pub fn query(&self, group: &str, topic: &str, queue_id: i32) -> Option<i64> {
        self.table
            .read()
            .get(&key(topic, group))
            .and_then(|q| q.get(&queue_id))
            .copied()
    }

    /// All queues' offsets of a group on a topic.
    pub fn queues(&self, group: &str, topic: &str) -> HashMap<i32, i64> {
        self.table
            .read()
            .get(&key(topic, group))
            .cloned()
            .unwrap_or_default()
    }

    /// Topics a group has committed offsets for.
    pub fn topics_of_group(&self, group: &str) -> Vec<String> {
        self.table
            .read()
            .keys()
            .filter_map(|k| k.rsplit_once(TOPIC_GROUP_SEPARATOR))
            .filter(|(_, g)| *g == group)
            .map(|(t, _)| t.to_owned())
            .collect()
    }

    /// Groups that committed offsets on a topic.
    pub fn groups_of_topic(&self, topic: &str) -> Vec<String> {
        self.table
            .read()
            .keys()
            .filter_map(|k| k.rsplit_once(TOPIC_GROUP_SEPARATOR))
            .filter(|(t, _)| *t == topic)
            .map(|(_, g)| g.to_owned())
            .collect()
    }

    /// Every (topic, group, queue offsets) entry, for lag metrics.
    pub fn all(&self) -> Vec<GroupOffsets> {
        self.table
            .read()
            .iter()
            .filter_map(|(k, q)| {
                let (t, g) = k.rsplit_once(TOPIC_GROUP_SEPARATOR)?;
                Some((
                    t.to_owned(),
                    g.to_owned(),
                    q.iter().map(|(a, b)| (*a, *b)).collect(),
                ))
            })
            .collect()
    }

    pub fn remove_topic(&self, topic: &str) {
        let keep = |k: &String| {
            k.rsplit_once(TOPIC_GROUP_SEPARATOR)
                .is_none_or(|(t, _)| t != topic)
        };
        self.table.write().retain(|k, _| keep(k));
        self.resets.write().retain(|k, _| keep(k));
    }

    pub fn remove_group(&self, group: &str) {
        let keep = |k: &String| {
            k.rsplit_once(TOPIC_GROUP_SEPARATOR)
                .is_none_or(|(_, g)| g != group)
        };
        self.table.write().retain(|k, _| keep(k));
        self.resets.write().retain(|k, _| keep(k));
    }

    fn snapshot(&self) -> OffsetFile {
        OffsetFile {
            offset_table: self
                .table
                .read()
                .iter()
                .map(|(k, q)| (k.clone(), q.iter().map(|(a, b)| (*a, *b)).collect()))
                .collect(),
        }
    }

    /// The whole table as JSON (also the body of GET_ALL_CONSUMER_OFFSET for slaves).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&self.snapshot()).unwrap_or_default()
    }

    /// Replaces the whole table with a JSON encoding of another broker's (a slave copying its
    /// master's offsets).
    pub fn replace_from_json(&self, body: &[u8]) -> Result<(), BrokerError> {
        let file: OffsetFile =
            rmq_remoting::json::from_slice(body).map_err(|e| BrokerError::ConfigFile {
                path: self.path.clone(),
                reason: format!("master's consumer offsets are unreadable: {e}"),
            })?;
        *self.table.write() = file
            .offset_table
            .into_iter()
            .map(|(k, q)| (k, q.into_iter().collect()))
            .collect();
        Ok(())
    }

    /// Writes the table to disk.
    pub fn persist(&self) -> Result<(), BrokerError> {
        persist::store_json(&self.path, &self.snapshot())
    }
}
