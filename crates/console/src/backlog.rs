//! How far a group is behind: per queue, the messages between its consumer offset and the
//! queue's end (a queue never consumed counts from 0). Shared by the pages and the sampler.

use rmq_client::{ConsumeStats, OffsetWrapper};

pub fn of_queue(o: &OffsetWrapper) -> i64 {
    (o.broker_offset - o.consumer_offset.max(0)).max(0)
}

pub fn total(s: &ConsumeStats) -> i64 {
    s.offset_table.values().map(of_queue).sum()
}
