//! The revive log: the system topic `rmq_sys_REVIVE_LOG_{cluster}` (queue 0) where the broker
//! records what the in-flight table must survive a restart with. A checkpoint record lists the
//! offsets a receive handed out (or one ChangeInvisibleDuration moved) with the time they become
//! visible again; an ack record lists offsets settled. Replaying the log from the persisted
//! position in order rebuilds the table: a later checkpoint for an offset replaces an earlier
//! one, an ack removes it.
//!
//! The records are rmq's (JSON bodies tagged `ck`/`ack`), not Apache's bitmap checkpoints; the
//! topic name is Apache's so operators recognise it.

use std::net::SocketAddr;

use bytes::Bytes;
use rmq_common::message::{encode_properties, keys, Properties};
use rmq_common::record::{peek_record, Peek};
use rmq_store::{AcceptAll, MessageStore, PutMessage};
use serde::{Deserialize, Serialize};

use super::inflight::{InFlight, QueueKey};

/// The internal group whose offset on the revive log is the replay position.
pub const REVIVE_GROUP: &str = "CID_RMQ_SYS_REVIVE_GROUP";

/// The revive log topic of a cluster.
pub fn revive_topic(cluster: &str) -> String {
    format!("rmq_sys_REVIVE_LOG_{cluster}")
}

/// One revive-log record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum Record {
    /// `o` of (`g`, `t`, `q`) are in flight until `d` (ms), delivery attempts `a`.
    #[serde(rename = "ck")]
    Checkpoint {
        g: String,
        t: String,
        q: i32,
        o: Vec<i64>,
        a: Vec<i32>,
        d: i64,
        #[serde(default)]
        f: bool,
    },
    /// `o` of (`g`, `t`, `q`) are settled.
    #[serde(rename = "ack")]
    Ack {
        g: String,
        t: String,
        q: i32,
        o: Vec<i64>,
    },
}

/// A record could not be written.
#[derive(Debug, thiserror::Error)]
#[error("could not write to the revive log: {0}")]
pub struct LogWriteFailed(pub String);

impl Record {
    pub fn checkpoint(key: &QueueKey, offsets: &[(i64, i32)], deadline: i64, fifo: bool) -> Self {
        Record::Checkpoint {
            g: key.group.clone(),
            t: key.topic.clone(),
            q: key.queue_id,
            o: offsets.iter().map(|(o, _)| *o).collect(),
            a: offsets.iter().map(|(_, a)| *a).collect(),
            d: deadline,
            f: fifo,
        }
    }

    pub fn ack(key: &QueueKey, offsets: Vec<i64>) -> Self {
        Record::Ack {
            g: key.group.clone(),
            t: key.topic.clone(),
            q: key.queue_id,
            o: offsets,
        }
    }

    /// Appends the record; returns its offset in the log. A checkpoint waits for the flush the
    /// store's flush mode promises (a lost checkpoint would lose a message); an ack does not (a
    /// lost ack only redelivers).
    pub async fn append(
        &self,
        store: &MessageStore,
        topic: &str,
        store_host: SocketAddr,
    ) -> Result<i64, LogWriteFailed> {
        let body = serde_json::to_vec(self).map_err(|e| LogWriteFailed(e.to_string()))?;
        let mut props = Properties::new();
        let tag = match self {
            Record::Checkpoint { .. } => "ck",
            Record::Ack { .. } => {
                props.insert(keys::WAIT.into(), "false".into());
                "ack"
            }
        };
        props.insert(keys::TAGS.into(), tag.into());
        let mut msg = PutMessage::new(topic, 0, Bytes::from(body));
        msg.properties = encode_properties(&props);
        msg.store_host = store_host;
        msg.born_host = store_host;
        let stored = store.put_message(msg).await.stored();
        stored.map(|a| a.logics_offset).map_err(LogWriteFailed)
    }

    /// Applies the record, found at `pos` in the log, to `table`.
    pub fn apply(self, pos: i64, table: &InFlight) {
        match self {
            Record::Checkpoint {
                g,
                t,
                q,
                o,
                a,
                d,
                f,
            } => {
                let key = QueueKey {
                    group: g,
                    topic: t,
                    queue_id: q,
                };
                let offsets: Vec<(i64, i32)> = o
                    .iter()
                    .enumerate()
                    .map(|(i, off)| (*off, a.get(i).copied().unwrap_or(1)))
                    .collect();
                table.add(&key, &offsets, d, pos, f, None);
            }
            Record::Ack { g, t, q, o } => {
                let key = QueueKey {
                    group: g,
                    topic: t,
                    queue_id: q,
                };
                for off in o {
                    table.settle(&key, off);
                }
            }
        }
    }
}

/// Rebuilds `table` from the log, from `from` to its end; returns the position after the last
/// record read. Unreadable records are logged and skipped.
pub fn replay(store: &MessageStore, topic: &str, from: i64, table: &InFlight) -> i64 {
    let mut pos = from.max(store.min_offset_in_queue(topic, 0));
    loop {
        let got = store.get_message(topic, 0, pos, 256, i32::MAX, &AcceptAll);
        if got.messages.is_empty() {
            return pos.max(
                got.next_begin_offset
                    .min(store.max_offset_in_queue(topic, 0)),
            );
        }
        for (rec, off) in got.messages.iter().zip(&got.queue_offsets) {
            pos = off + 1;
            let parsed = match peek_record(rec, false) {
                Ok(Peek::Record(v)) => serde_json::from_slice::<Record>(v.body()).ok(),
                _ => None,
            };
            match parsed {
                Some(r) => r.apply(*off, table),
                None => {
                    tracing::error!(offset = off, topic, "unreadable revive log record, skipped")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_small_json() {
        let key = QueueKey {
            group: "g".into(),
            topic: "t".into(),
            queue_id: 2,
        };
        let ck = Record::checkpoint(&key, &[(5, 1), (6, 2)], 99, false);
        let text = serde_json::to_string(&ck).unwrap();
        assert_eq!(
            text,
            r#"{"k":"ck","g":"g","t":"t","q":2,"o":[5,6],"a":[1,2],"d":99,"f":false}"#
        );
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), ck);
        let ack = serde_json::to_string(&Record::ack(&key, vec![5])).unwrap();
        assert_eq!(ack, r#"{"k":"ack","g":"g","t":"t","q":2,"o":[5]}"#);
    }

    #[test]
    fn apply_in_log_order() {
        let key = QueueKey {
            group: "g".into(),
            topic: "t".into(),
            queue_id: 0,
        };
        let t = InFlight::default();
        Record::checkpoint(&key, &[(1, 1), (2, 1)], 100, false).apply(10, &t);
        Record::checkpoint(&key, &[(2, 1)], 500, false).apply(11, &t);
        Record::ack(&key, vec![1]).apply(12, &t);
        assert_eq!(t.len(), 1);
        assert_eq!(
            t.get(&key, 2).map(|e| (e.deadline, e.ck_pos)),
            Some((500, 11))
        );
        assert_eq!(t.min_ck_pos(), Some(11));
    }
}
