//! Reads: pulls by logical offset, lookups by physical offset, key and time, and queue bounds.
//!
//! Message bytes are returned as `Bytes` slices of the mapped CommitLog: one owner per file per
//! pull, sliced per message, so a pull of 32 messages costs one small allocation and no copies.

use std::sync::Arc;

use bytes::Bytes;
use rmq_common::message::keys;
use rmq_common::message::properties::find_property;
use rmq_common::record::{peek_record, Peek};

use crate::consume_queue::ConsumeQueue;
use crate::mapped_file::MappedFile;
use crate::store::MessageStore;

/// Outcome of a pull, named as Apache's `GetMessageStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetMessageStatus {
    Found,
    NoMatchedMessage,
    MessageWasRemoving,
    OffsetFoundNull,
    OffsetOverflowBadly,
    OffsetOverflowOne,
    OffsetTooSmall,
    NoMatchedLogicQueue,
    NoMessageInQueue,
}

impl GetMessageStatus {
    /// Apache's enum constant name (the pull response remark).
    pub fn as_str(self) -> &'static str {
        match self {
            GetMessageStatus::Found => "FOUND",
            GetMessageStatus::NoMatchedMessage => "NO_MATCHED_MESSAGE",
            GetMessageStatus::MessageWasRemoving => "MESSAGE_WAS_REMOVING",
            GetMessageStatus::OffsetFoundNull => "OFFSET_FOUND_NULL",
            GetMessageStatus::OffsetOverflowBadly => "OFFSET_OVERFLOW_BADLY",
            GetMessageStatus::OffsetOverflowOne => "OFFSET_OVERFLOW_ONE",
            GetMessageStatus::OffsetTooSmall => "OFFSET_TOO_SMALL",
            GetMessageStatus::NoMatchedLogicQueue => "NO_MATCHED_LOGIC_QUEUE",
            GetMessageStatus::NoMessageInQueue => "NO_MESSAGE_IN_QUEUE",
        }
    }
}

/// A pull's answer.
#[derive(Debug, Clone)]
pub struct GetMessageResult {
    pub status: GetMessageStatus,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    /// Whole stored records (3.1 format), zero-copy slices of the CommitLog.
    pub messages: Vec<Bytes>,
    /// Logical offset of each returned message.
    pub queue_offsets: Vec<i64>,
    pub buffer_total_size: usize,
}

/// Decides which messages a pull returns: first on the consume-queue tag code, then optionally
/// on the whole record (e.g. SQL92 on properties).
pub trait MessageFilter: Send + Sync {
    fn is_matched_by_consume_queue(&self, tags_code: i64) -> bool;
    fn is_matched_by_commit_log(&self, _record: &[u8]) -> bool {
        true
    }
}

/// Accepts everything (subscription `*`).
#[derive(Debug, Default, Clone, Copy)]
pub struct AcceptAll;

impl MessageFilter for AcceptAll {
    fn is_matched_by_consume_queue(&self, _: i64) -> bool {
        true
    }
}

/// Accepts tag codes in a set (subscription `TagA || TagB`); an empty set accepts everything.
#[derive(Debug, Default, Clone)]
pub struct TagsFilter {
    codes: Vec<i64>,
}

impl TagsFilter {
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(tags: I) -> Self {
        TagsFilter {
            codes: tags
                .into_iter()
                .map(|t| rmq_common::java::string_hash_code(t.as_ref()) as i64)
                .collect(),
        }
    }
    pub fn from_codes(codes: Vec<i64>) -> Self {
        TagsFilter { codes }
    }
}

impl MessageFilter for TagsFilter {
    fn is_matched_by_consume_queue(&self, tags_code: i64) -> bool {
        self.codes.is_empty() || self.codes.contains(&tags_code)
    }
}

/// `LOWER` / `UPPER` for SEARCH_OFFSET_BY_TIMESTAMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoundaryType {
    /// The first offset stored at or after the time.
    #[default]
    Lower,
    /// The last offset stored at or before the time.
    Upper,
}

/// Records found through the index (QUERY_MESSAGE).
#[derive(Debug, Clone, Default)]
pub struct QueryMessageResult {
    pub messages: Vec<Bytes>,
    pub index_last_update_timestamp: i64,
    pub index_last_update_phy_offset: i64,
}

/// Hands out zero-copy record slices, one `Bytes` owner per CommitLog file touched.
struct LogReader<'a> {
    store: &'a MessageStore,
    file: Option<Arc<MappedFile>>,
    region: Bytes,
    region_start: i64,
}

impl<'a> LogReader<'a> {
    fn new(store: &'a MessageStore) -> Self {
        LogReader {
            store,
            file: None,
            region: Bytes::new(),
            region_start: 0,
        }
    }

    fn read(&mut self, phy: i64, size: usize) -> Option<Bytes> {
        let end = phy.checked_add(size as i64)?;
        let in_region =
            phy >= self.region_start && end <= self.region_start + self.region.len() as i64;
        if !in_region {
            let file = match &self.file {
                Some(f) if f.start() <= phy && phy < f.end() => Arc::clone(f),
                _ => self.store.commit_log.queue().find(phy)?,
            };
            let pos = (phy - file.start()) as usize;
            self.region = file.bytes(pos, file.wrote_pos().checked_sub(pos)?)?;
            self.region_start = phy;
            self.file = Some(file);
        }
        let at = (phy - self.region_start) as usize;
        (at + size <= self.region.len()).then(|| self.region.slice(at..at + size))
    }
}

impl MessageStore {
    fn next_offset_correction(&self, old: i64, new: i64) -> i64 {
        if self.role() == crate::BrokerRole::Slave && !self.cfg.offset_check_in_slave {
            old
        } else {
            new
        }
    }

    /// Pulls up to `max_count` messages / `max_bytes` bytes from a queue, starting at `offset`.
    pub fn get_message(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_count: i32,
        max_bytes: i32,
        filter: &dyn MessageFilter,
    ) -> GetMessageResult {
        let mut r = GetMessageResult {
            status: GetMessageStatus::NoMatchedLogicQueue,
            next_begin_offset: self.next_offset_correction(offset, 0),
            min_offset: 0,
            max_offset: 0,
            messages: Vec::new(),
            queue_offsets: Vec::new(),
            buffer_total_size: 0,
        };
        let Some(cq) = self.cqs.find(topic, queue_id) else {
            return r;
        };
        let (min, max) = (cq.min_offset(), cq.max_offset());
        r.min_offset = min;
        r.max_offset = max;
        if max == 0 {
            r.status = GetMessageStatus::NoMessageInQueue;
        } else if offset < min {
            r.status = GetMessageStatus::OffsetTooSmall;
            r.next_begin_offset = self.next_offset_correction(offset, min);
        } else if offset == max {
            r.status = GetMessageStatus::OffsetOverflowOne;
            r.next_begin_offset = offset;
        } else if offset > max {
            r.status = GetMessageStatus::OffsetOverflowBadly;
            r.next_begin_offset = self.next_offset_correction(offset, max);
        } else {
            self.scan(&cq, offset, max, max_count, max_bytes, filter, &mut r);
        }
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn scan(
        &self,
        cq: &ConsumeQueue,
        offset: i64,
        max: i64,
        max_count: i32,
        max_bytes: i32,
        filter: &dyn MessageFilter,
        r: &mut GetMessageResult,
    ) {
        let max_count = (max_count.max(1) as usize)
            .min(self.cfg.max_transfer_count_on_message_in_memory.max(1));
        let max_bytes = if max_bytes <= 0 {
            usize::MAX
        } else {
            max_bytes as usize
        }
        .min(self.cfg.max_transfer_bytes_on_message_in_memory.max(1));
        // Apache scans at most max(16000 bytes, maxMsgNums * 20) of consume queue per pull.
        let max_scan = (16_000 / crate::consume_queue::CQ_UNIT_SIZE).max(max_count);
        let commit_min = self.commit_log.min_offset();
        let mut reader = LogReader::new(self);
        let mut logic = offset;
        let mut scanned = 0usize;
        let mut status = GetMessageStatus::NoMatchedMessage;
        'scan: while logic < max && scanned < max_scan {
            let Some(run) = cq.entries_from(logic, max_scan - scanned) else {
                if r.messages.is_empty() {
                    status = GetMessageStatus::OffsetFoundNull;
                    logic = self.next_offset_correction(logic, cq.roll_next_file(logic));
                }
                break;
            };
            for i in 0..run.count {
                let Some(e) = run.get(i) else { break 'scan };
                let size = e.size.max(0) as usize;
                if !r.messages.is_empty()
                    && (r.messages.len() >= max_count || r.buffer_total_size + size > max_bytes)
                {
                    break 'scan;
                }
                logic += 1;
                scanned += 1;
                if e.is_hole() {
                    continue;
                }
                if e.phy_offset < commit_min {
                    status = GetMessageStatus::MessageWasRemoving;
                    continue;
                }
                if !filter.is_matched_by_consume_queue(e.tags_code) {
                    status = GetMessageStatus::NoMatchedMessage;
                    continue;
                }
                let Some(rec) = reader.read(e.phy_offset, size) else {
                    status = GetMessageStatus::MessageWasRemoving;
                    continue;
                };
                if !filter.is_matched_by_commit_log(&rec) {
                    status = GetMessageStatus::NoMatchedMessage;
                    continue;
                }
                r.buffer_total_size += rec.len();
                r.messages.push(rec);
                r.queue_offsets.push(logic - 1);
            }
        }
        r.status = if r.messages.is_empty() {
            status
        } else {
            GetMessageStatus::Found
        };
        r.next_begin_offset = logic;
    }

    /// Next logical offset to be written in a queue (GET_MAX_OFFSET); 0 for an unknown queue.
    pub fn max_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.cqs.find(topic, queue_id).map_or(0, |q| q.max_offset())
    }

    /// First available logical offset of a queue (GET_MIN_OFFSET).
    pub fn min_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.cqs.find(topic, queue_id).map_or(0, |q| q.min_offset())
    }

    /// Commit-log offset of the message at a logical offset.
    pub fn commit_log_offset_in_queue(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
    ) -> Option<i64> {
        let e = self.cqs.find(topic, queue_id)?.entry(offset)?;
        (!e.is_hole()).then_some(e.phy_offset)
    }

    /// Store time of the earliest message still in a queue (GET_EARLIEST_MSG_STORETIME).
    pub fn earliest_message_time(&self, topic: &str, queue_id: i32) -> Option<i64> {
        let cq = self.cqs.find(topic, queue_id)?;
        (cq.min_offset()..cq.max_offset()).find_map(|o| {
            let e = cq.entry(o)?;
            (!e.is_hole()).then(|| self.commit_log.store_timestamp_at(e.phy_offset))?
        })
    }

    /// Store time of the oldest message in the CommitLog (runtime info's
    /// `earliestMessageTimeStamp`); `None` while the CommitLog is empty.
    pub fn earliest_commit_log_time(&self) -> Option<i64> {
        let min = self.commit_log.min_offset();
        if min >= self.commit_log.max_offset() {
            return None;
        }
        self.commit_log.store_timestamp_at(min)
    }

    /// Store time of the message at a logical offset.
    pub fn message_store_time(&self, topic: &str, queue_id: i32, offset: i64) -> Option<i64> {
        let e = self.cqs.find(topic, queue_id)?.entry(offset)?;
        self.commit_log.store_timestamp_at(e.phy_offset)
    }

    /// Logical offset by store time (SEARCH_OFFSET_BY_TIMESTAMP): binary search over the queue,
    /// reading each probed record's store time from the CommitLog. `Lower` gives the first offset
    /// stored at or after `timestamp` (the max offset if none is); `Upper` the last offset stored
    /// at or before it (the min offset if none is).
    pub fn offset_by_time(
        &self,
        topic: &str,
        queue_id: i32,
        timestamp: i64,
        boundary: BoundaryType,
    ) -> i64 {
        let Some(cq) = self.cqs.find(topic, queue_id) else {
            return 0;
        };
        let commit_min = self.commit_log.min_offset();
        let time_at = |o: i64| -> Option<i64> {
            let e = cq.entry(o)?;
            if e.is_hole() || e.phy_offset < commit_min {
                return None;
            }
            self.commit_log.store_timestamp_at(e.phy_offset)
        };
        let (min, max) = (cq.min_offset(), cq.max_offset());
        // Unreadable entries (holes, removed) sort as "before everything".
        let before = |o: i64, inclusive: bool| match time_at(o) {
            None => true,
            Some(t) => t < timestamp || (inclusive && t == timestamp),
        };
        let (mut lo, mut hi) = (min, max);
        let inclusive = boundary == BoundaryType::Upper;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(mid, inclusive) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        match boundary {
            BoundaryType::Lower => lo,
            BoundaryType::Upper => (lo - 1).max(min),
        }
    }

    /// The record at a physical offset (VIEW_MESSAGE_BY_ID), zero-copy.
    pub fn look_message_by_offset(&self, phy_offset: i64) -> Option<Bytes> {
        let rec = self.commit_log.read_record(phy_offset)?;
        match peek_record(&rec, false) {
            Ok(Peek::Record(v)) if v.physical_offset == phy_offset => Some(rec),
            _ => None,
        }
    }

    /// Messages whose `KEYS` contain `key` or whose `UNIQ_KEY` is `key`, stored within
    /// `[begin, end]`, newest first, at most `max_num` (QUERY_MESSAGE). Hash collisions are
    /// filtered out here by checking the record's topic and keys.
    pub fn query_message(
        &self,
        topic: &str,
        key: &str,
        max_num: usize,
        begin: i64,
        end: i64,
    ) -> QueryMessageResult {
        let mut out = QueryMessageResult::default();
        let Some(index) = &self.index else {
            return out;
        };
        let max_num = max_num.max(1);
        let q = index.query(topic, key, max_num.saturating_mul(2), begin, end);
        out.index_last_update_timestamp = q.last_update_timestamp;
        out.index_last_update_phy_offset = q.last_update_phy_offset;
        for phy in q.phy_offsets {
            if out.messages.len() >= max_num {
                break;
            }
            let Some(rec) = self.look_message_by_offset(phy) else {
                continue;
            };
            let matched = match peek_record(&rec, false) {
                Ok(Peek::Record(v)) => {
                    v.topic == topic
                        && (find_property(v.properties, keys::UNIQ_KEY) == Some(key)
                            || find_property(v.properties, keys::KEYS)
                                .is_some_and(|ks| ks.split(' ').any(|k| k == key)))
                }
                _ => false,
            };
            if matched {
                out.messages.push(rec);
            }
        }
        out
    }
}
