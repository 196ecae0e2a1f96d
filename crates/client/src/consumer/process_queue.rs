//! [`ProcessQueue`]: the messages of one owned queue that were pulled but not yet committed.
//!
//! Concurrent consumption finishes messages out of order, so the offset that may be committed is
//! the smallest offset still being processed (or one past the largest pulled when none is) —
//! an ordered set of in-flight offsets gives that in O(log n). Its count and byte size drive pull
//! flow control. Orderly consumption also parks the messages themselves here and takes them in
//! offset order, one batch at a time, putting a failed batch back in front.

use std::collections::BTreeMap;

use parking_lot::Mutex;
use rmq_common::MessageExt;

#[derive(Debug, Default)]
struct Inner {
    /// Offset → body size of every message pulled and not yet committed.
    in_flight: BTreeMap<i64, usize>,
    size: usize,
    /// Largest offset ever put.
    max_offset: Option<i64>,
    /// Orderly only: messages waiting for the listener, and the batch it is consuming.
    pending: BTreeMap<i64, MessageExt>,
    consuming: BTreeMap<i64, MessageExt>,
}

/// In-flight state of one queue.
#[derive(Debug, Default)]
pub struct ProcessQueue {
    inner: Mutex<Inner>,
}

impl ProcessQueue {
    fn track(inner: &mut Inner, m: &MessageExt) -> bool {
        let size = m.message.body.len();
        if inner.in_flight.insert(m.queue_offset, size).is_some() {
            return false;
        }
        inner.size += size;
        inner.max_offset = Some(
            inner
                .max_offset
                .map_or(m.queue_offset, |o| o.max(m.queue_offset)),
        );
        true
    }

    /// Registers pulled messages for concurrent consumption; returns those not seen before
    /// (a re-pull after an offset reset must not deliver twice what is still in flight).
    pub fn put(&self, msgs: Vec<MessageExt>) -> Vec<MessageExt> {
        let mut inner = self.inner.lock();
        msgs.into_iter()
            .filter(|m| Self::track(&mut inner, m))
            .collect()
    }

    /// Registers pulled messages for orderly consumption.
    pub fn put_orderly(&self, msgs: Vec<MessageExt>) {
        let mut inner = self.inner.lock();
        for m in msgs {
            if Self::track(&mut inner, &m) {
                inner.pending.insert(m.queue_offset, m);
            }
        }
    }

    /// Finishes the given offsets. Returns the offset now safe to commit, or `None` if nothing
    /// was in flight.
    pub fn remove(&self, offsets: &[i64]) -> Option<i64> {
        let mut inner = self.inner.lock();
        if inner.in_flight.is_empty() {
            return None;
        }
        for o in offsets {
            if let Some(size) = inner.in_flight.remove(o) {
                inner.size -= size;
            }
        }
        Some(Self::commit_point(&inner))
    }

    fn commit_point(inner: &Inner) -> i64 {
        match inner.in_flight.keys().next() {
            Some(first) => *first,
            None => inner.max_offset.map_or(0, |o| o + 1),
        }
    }

    /// Orderly: takes up to `n` messages in offset order for the listener.
    pub fn take(&self, n: usize) -> Vec<MessageExt> {
        let mut inner = self.inner.lock();
        let mut out = Vec::with_capacity(n.min(inner.pending.len()));
        while out.len() < n {
            let Some((offset, m)) = inner.pending.pop_first() else {
                break;
            };
            inner.consuming.insert(offset, m.clone());
            out.push(m);
        }
        out
    }

    /// Orderly: the taken batch succeeded; returns the offset to commit.
    pub fn commit(&self) -> Option<i64> {
        let mut inner = self.inner.lock();
        let consuming = std::mem::take(&mut inner.consuming);
        let last = *consuming.keys().next_back()?;
        for o in consuming.keys() {
            if let Some(size) = inner.in_flight.remove(o) {
                inner.size -= size;
            }
        }
        Some(last + 1)
    }

    /// Orderly: the taken batch failed; put it back in front, counting one more attempt.
    pub fn rollback(&self) {
        let mut inner = self.inner.lock();
        let consuming = std::mem::take(&mut inner.consuming);
        for (o, mut m) in consuming {
            m.reconsume_times += 1;
            inner.pending.insert(o, m);
        }
    }

    /// Orderly: whether messages wait for the listener.
    pub fn has_pending(&self) -> bool {
        !self.inner.lock().pending.is_empty()
    }

    /// Messages pulled and not yet committed.
    pub fn count(&self) -> usize {
        self.inner.lock().in_flight.len()
    }

    /// Body bytes pulled and not yet committed.
    pub fn size(&self) -> usize {
        self.inner.lock().size
    }

    pub fn is_empty(&self) -> bool {
        self.inner.lock().in_flight.is_empty()
    }

    /// What an operator sees of the queue (GET_CONSUMER_RUNNING_INFO): messages held, the
    /// lowest and highest offset held (0 when none), and their body bytes.
    pub fn held(&self) -> (usize, i64, i64, usize) {
        let inner = self.inner.lock();
        let min = inner.in_flight.keys().next().copied().unwrap_or(0);
        let max = inner.in_flight.keys().next_back().copied().unwrap_or(0);
        (inner.in_flight.len(), min, max, inner.size)
    }

    /// Forgets everything (the queue was reset to another offset).
    pub fn clear(&self) {
        *self.inner.lock() = Inner::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_common::Message;

    pub(crate) fn msg_at(offset: i64) -> MessageExt {
        MessageExt {
            message: Message::new("T", vec![0u8; 10]),
            queue_id: 0,
            store_size: 0,
            queue_offset: offset,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_timestamp: 0,
            store_host: "127.0.0.1:1".parse().unwrap(),
            commit_log_offset: 0,
            body_crc: 0,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        }
    }

    #[test]
    fn commit_point_is_smallest_in_flight() {
        let pq = ProcessQueue::default();
        assert_eq!(pq.remove(&[1]), None);
        let fresh = pq.put((10..15).map(msg_at).collect());
        assert_eq!(fresh.len(), 5);
        assert_eq!(
            pq.put(vec![msg_at(12)]).len(),
            0,
            "duplicates are not redelivered"
        );
        assert_eq!((pq.count(), pq.size()), (5, 50));
        assert_eq!(pq.remove(&[11, 13]), Some(10));
        assert_eq!(pq.remove(&[10]), Some(12));
        assert_eq!(pq.remove(&[12, 14]), Some(15));
        assert!(pq.is_empty());
        assert_eq!(pq.size(), 0);
    }

    #[test]
    fn orderly_take_commit_rollback() {
        let pq = ProcessQueue::default();
        pq.put_orderly((0..5).map(msg_at).collect());
        let batch = pq.take(2);
        assert_eq!(
            batch.iter().map(|m| m.queue_offset).collect::<Vec<_>>(),
            [0, 1]
        );
        pq.rollback();
        let again = pq.take(2);
        assert_eq!(
            again.iter().map(|m| m.queue_offset).collect::<Vec<_>>(),
            [0, 1]
        );
        assert_eq!(again[0].reconsume_times, 1);
        assert_eq!(pq.commit(), Some(2));
        assert_eq!(pq.count(), 3);
        assert_eq!(pq.take(10).len(), 3);
        assert!(!pq.has_pending());
        assert_eq!(pq.commit(), Some(5));
        assert_eq!(pq.commit(), None);
        assert!(pq.is_empty());
    }
}
