//! What dispatch extracts from one CommitLog record, and the tag code it files under.
//!
//! A leaf of its own because both the dispatcher and the index service read it: kept in
//! `dispatch.rs` it made the index service import the file that owns and drives it.

use rmq_common::delay::DelayLevels;
use rmq_common::java::string_hash_code;
use rmq_common::message::keys;
use rmq_common::message::properties::find_property;
use rmq_common::record::RecordView;
use rmq_common::sysflag::message as sysflag;

/// The schedule topic whose tag codes are delivery times.
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

/// What dispatch extracts from one record.
#[derive(Debug, Clone)]
pub(crate) struct DispatchRequest<'a> {
    pub topic: &'a str,
    pub queue_id: i32,
    pub phy_offset: i64,
    pub size: i32,
    pub tags_code: i64,
    pub store_timestamp: i64,
    pub queue_offset: i64,
    pub sys_flag: i32,
    pub properties: &'a str,
}

impl<'a> DispatchRequest<'a> {
    pub fn from_view(v: &RecordView<'a>, delay: &DelayLevels) -> Self {
        DispatchRequest {
            topic: v.topic,
            queue_id: v.queue_id,
            phy_offset: v.physical_offset,
            size: v.total_size,
            tags_code: tags_code(v.topic, v.queue_id, v.properties, v.store_timestamp, delay),
            store_timestamp: v.store_timestamp,
            queue_offset: v.queue_offset,
            sys_flag: v.sys_flag,
            properties: v.properties,
        }
    }

    /// Only NOT and COMMIT transaction types are consumable.
    pub fn goes_to_consume_queue(&self) -> bool {
        let t = sysflag::transaction_value(self.sys_flag);
        t == sysflag::TRANSACTION_NOT_TYPE || t == sysflag::TRANSACTION_COMMIT_TYPE
    }

    /// Everything but ROLLBACK is indexed.
    pub fn goes_to_index(&self) -> bool {
        sysflag::transaction_value(self.sys_flag) != sysflag::TRANSACTION_ROLLBACK_TYPE
    }

    /// The keys indexed for this message: UNIQ_KEY and every element of KEYS.
    pub fn index_keys(&self) -> impl Iterator<Item = &'a str> {
        let uniq = find_property(self.properties, keys::UNIQ_KEY);
        let keys = find_property(self.properties, keys::KEYS).unwrap_or("");
        uniq.into_iter()
            .chain(keys.split(' ').filter(|k| !k.is_empty()))
    }
}

/// The consume-queue tag code: Java `hashCode` of TAGS, or for the schedule topic the delivery
/// time (store time + delay of level `queueId + 1`).
pub fn tags_code(
    topic: &str,
    queue_id: i32,
    properties: &str,
    store_ts: i64,
    delay: &DelayLevels,
) -> i64 {
    if topic == SCHEDULE_TOPIC {
        return store_ts + delay.delay(queue_id + 1).as_millis() as i64;
    }
    find_property(properties, keys::TAGS).map_or(0, |t| string_hash_code(t) as i64)
}
