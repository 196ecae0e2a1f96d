//! Which half messages are closed: the offsets named by op records in
//! `RMQ_SYS_TRANS_OP_HALF_TOPIC`, read incrementally, and how far that queue has been read.
//!
//! A leaf of its own: END_TRANSACTION marks entries and the check service reads them; the
//! context owns one for both without importing either.

use std::collections::BTreeSet;

use parking_lot::Mutex;
use rmq_common::record::{peek_record, Peek};
use rmq_common::topic::RMQ_SYS_TRANS_OP_HALF_TOPIC;
use rmq_store::{AcceptAll, MessageStore};

/// Half offsets that have an op record, and how far the op queue has been read.
#[derive(Default)]
pub struct OpLog {
    inner: Mutex<OpLogInner>,
}

#[derive(Default)]
struct OpLogInner {
    read_offset: i64,
    done: BTreeSet<i64>,
}

impl OpLog {
    /// Reads op records appended since the last call.
    pub fn catch_up(&self, store: &MessageStore) {
        let mut inner = self.inner.lock();
        loop {
            let got = store.get_message(
                RMQ_SYS_TRANS_OP_HALF_TOPIC,
                0,
                inner.read_offset,
                64,
                i32::MAX,
                &AcceptAll,
            );
            if got.messages.is_empty() {
                if got.next_begin_offset > inner.read_offset {
                    inner.read_offset = got.next_begin_offset;
                    continue;
                }
                return;
            }
            for (rec, off) in got.messages.iter().zip(&got.queue_offsets) {
                if let Ok(Peek::Record(v)) = peek_record(rec, false) {
                    let text = String::from_utf8_lossy(v.body());
                    inner
                        .done
                        .extend(text.split(',').filter_map(|s| s.trim().parse::<i64>().ok()));
                }
                inner.read_offset = off + 1;
            }
        }
    }

    pub fn is_done(&self, half_offset: i64) -> bool {
        self.inner.lock().done.contains(&half_offset)
    }

    pub fn mark(&self, half_offset: i64) {
        self.inner.lock().done.insert(half_offset);
    }

    /// Forgets op entries below the scan position (they can never be asked about again).
    pub fn prune_below(&self, offset: i64) {
        let mut inner = self.inner.lock();
        inner.done = inner.done.split_off(&offset);
    }
}
