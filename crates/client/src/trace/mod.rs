//! Message trace (Java's `enableMsgTrace`): producers and push consumers built with `.trace(..)`
//! record each send (Pub) and each consumption (SubBefore and SubAfter) and send the records, in
//! batches and off the hot path, to the trace topic (`RMQ_SYS_TRACE_TOPIC` unless another is
//! chosen), in the text format the Java client writes: Apache's tools and rmq's read each
//! other's traces. The broker must have the topic (`traceTopicEnable=true` creates it).
//! `mqadmin queryMsgTraceById -i MSG_ID` reads a message's trace back.

pub(crate) mod dispatcher;
pub(crate) mod hooks;
mod record;

pub use record::{decode_traces, TraceRecord, TraceType, CONTENT_SPLITOR, FIELD_SPLITOR};

/// Apache's default trace topic (`TopicValidator.RMQ_SYS_TRACE_TOPIC`).
pub const DEFAULT_TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";

/// The producer group trace messages are sent as (Java's `TraceConstants.GROUP_NAME_PREFIX`).
pub(crate) fn trace_producer_group(topic: &str) -> String {
    format!("_INNER_TRACE_PRODUCER-{topic}")
}
