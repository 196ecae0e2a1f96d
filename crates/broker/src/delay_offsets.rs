//! Progress of every delay level (`config/delayOffset.json`): the next offset to deliver in
//! each `SCHEDULE_TOPIC_XXXX` queue.
//!
//! A leaf of its own: the delivery tasks advance it, slaves replace it from their master and
//! the admin processor serves it, and none of them should have to import the others.

use std::collections::BTreeMap;
use std::path::PathBuf;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::{persist, BrokerError};

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DelayOffsetFile {
    #[serde(default)]
    offset_table: BTreeMap<i32, i64>,
}

/// Progress of every delay level: the next offset to deliver in its queue.
pub struct DelayOffsets {
    path: PathBuf,
    table: Mutex<BTreeMap<i32, i64>>,
}

impl DelayOffsets {
    pub fn load(path: PathBuf) -> Result<Self, BrokerError> {
        let file: DelayOffsetFile = persist::load_json(&path)?;
        Ok(DelayOffsets {
            path,
            table: Mutex::new(file.offset_table),
        })
    }

    pub fn get(&self, level: i32) -> i64 {
        self.table.lock().get(&level).copied().unwrap_or(0)
    }

    pub fn set(&self, level: i32, offset: i64) {
        self.table.lock().insert(level, offset);
    }

    /// The table as JSON (GET_ALL_DELAY_OFFSET for slaves).
    pub fn encode(&self) -> Vec<u8> {
        let file = DelayOffsetFile {
            offset_table: self.table.lock().clone(),
        };
        serde_json::to_vec(&file).unwrap_or_default()
    }

    /// Replaces the table with a JSON encoding of another broker's (a slave copying its master).
    pub fn replace_from_json(&self, body: &[u8]) -> Result<(), BrokerError> {
        let file: DelayOffsetFile =
            rmq_remoting::json::from_slice(body).map_err(|e| BrokerError::ConfigFile {
                path: self.path.clone(),
                reason: format!("master's delay offsets are unreadable: {e}"),
            })?;
        *self.table.lock() = file.offset_table;
        Ok(())
    }

    pub fn persist(&self) -> Result<(), BrokerError> {
        let file = DelayOffsetFile {
            offset_table: self.table.lock().clone(),
        };
        persist::store_json(&self.path, &file)
    }
}
