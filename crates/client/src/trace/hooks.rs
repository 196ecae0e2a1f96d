//! The records a producer and a push consumer make (Java's `SendMessageTraceHookImpl` and
//! `ConsumeMessageTraceHookImpl`).

use rmq_common::message::keys;
use rmq_common::message::properties::find_property;
use rmq_common::time::now_millis;
use rmq_common::MessageExt;

use super::record::{TraceRecord, TraceType};
use crate::producer::encode::{PreparedMessage, SendResult};

/// Pub records of one send that the broker stored (one per message of a batch).
pub(crate) fn published(
    group: &str,
    p: &PreparedMessage,
    r: &SendResult,
    store_host: &str,
    started_ms: i64,
) -> Vec<TraceRecord> {
    let raw = p.properties.as_str();
    let msg_type = if find_property(raw, keys::TRAN_MSG) == Some("true") {
        1
    } else if find_property(raw, keys::DELAY).is_some_and(|d| d != "0") {
        3
    } else {
        0
    };
    let cost = (now_millis() - started_ms).max(0);
    let ids: Vec<&str> = r.msg_id.split(',').collect();
    let offsets: Vec<&str> = r.offset_msg_id.split(',').collect();
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let mut t = TraceRecord::new(TraceType::Pub);
            t.timestamp = started_ms;
            t.region_id = r.region_id.clone();
            t.group = group.to_owned();
            t.topic = p.topic.clone();
            t.msg_id = (*id).to_owned();
            if !p.batch {
                t.tags = find_property(raw, keys::TAGS).unwrap_or("").to_owned();
                t.keys = find_property(raw, keys::KEYS).unwrap_or("").to_owned();
                t.body_length = p.body.len() as i32;
            }
            t.store_host = store_host.to_owned();
            t.cost_ms = cost;
            t.msg_type = msg_type;
            t.offset_msg_id = offsets.get(i).copied().unwrap_or("").to_owned();
            t.success = true;
            t
        })
        .collect()
}

/// The SubBefore record of `m`, handed to a listener call identified by `request_id`.
pub(crate) fn before(group: &str, request_id: &str, m: &MessageExt) -> TraceRecord {
    let mut t = TraceRecord::new(TraceType::SubBefore);
    t.timestamp = now_millis();
    t.region_id = m
        .property(keys::MSG_REGION)
        .unwrap_or("DefaultRegion")
        .to_owned();
    t.group = group.to_owned();
    t.request_id = request_id.to_owned();
    t.msg_id = m.msg_id();
    t.retry_times = m.reconsume_times;
    t.keys = m.property(keys::KEYS).unwrap_or("").to_owned();
    t
}

/// The SubAfter record of `m` once the listener call that started at `started_ms` returned.
pub(crate) fn after(
    group: &str,
    request_id: &str,
    m: &MessageExt,
    started_ms: i64,
    success: bool,
) -> TraceRecord {
    let mut t = TraceRecord::new(TraceType::SubAfter);
    t.timestamp = now_millis();
    t.group = group.to_owned();
    t.request_id = request_id.to_owned();
    t.msg_id = m.msg_id();
    t.keys = m.property(keys::KEYS).unwrap_or("").to_owned();
    t.cost_ms = (t.timestamp - started_ms).max(0);
    t.success = success;
    // Java's ConsumeReturnType: SUCCESS 0, FAILED 4.
    t.context_code = if success { 0 } else { 4 };
    t
}
