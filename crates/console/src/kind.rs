//! What kind of topic a name is: the topics page filters by it, the sampler leaves out the
//! ones no user sends to.

use std::collections::BTreeSet;

use rmq_client::{ClusterInfo, TopicConfig};
use rmq_common::topic::{
    is_dlq_topic, is_system_topic, AUTO_CREATE_TOPIC_KEY, RETRY_GROUP_TOPIC_PREFIX, SELF_TEST_TOPIC,
};

/// Every kind, as the `kind` filter names them.
pub const KINDS: &[&str] = &[
    "all",
    "normal",
    "retry",
    "dlq",
    "fifo",
    "delay",
    "transaction",
    "system",
];

/// The names every broker makes topics of for itself: its cluster's and its own.
pub fn own_names(info: &ClusterInfo) -> BTreeSet<String> {
    let mut own: BTreeSet<String> = info.cluster_addr_table.keys().cloned().collect();
    own.extend(info.broker_addr_table.keys().cloned());
    own
}

/// A topic of the brokers' own (retry, DLQ, system), not one users send to.
pub fn is_internal(topic: &str, own: &BTreeSet<String>) -> bool {
    internal_kind(topic, own).is_some()
}

fn internal_kind(topic: &str, own: &BTreeSet<String>) -> Option<&'static str> {
    if topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
        return Some("retry");
    }
    if is_dlq_topic(topic) {
        return Some("dlq");
    }
    let system = is_system_topic(topic)
        || topic == AUTO_CREATE_TOPIC_KEY
        || topic == SELF_TEST_TOPIC
        || topic == "OFFSET_MOVED_EVENT"
        || topic.starts_with("RMQ_SYS_")
        || own.contains(topic);
    system.then_some("system")
}

/// The topic's kind: retry, dlq, system, or what its `message.type` attribute (or order
/// flag) declares: fifo, delay, transaction, else normal.
pub fn kind(topic: &str, config: Option<&TopicConfig>, own: &BTreeSet<String>) -> &'static str {
    if let Some(k) = internal_kind(topic, own) {
        return k;
    }
    let Some(c) = config else { return "normal" };
    let declared = c
        .attributes
        .get("message.type")
        .or_else(|| c.attributes.get("+message.type"))
        .map(|v| v.to_ascii_uppercase());
    match declared.as_deref() {
        Some("FIFO") => "fifo",
        Some("DELAY") => "delay",
        Some("TRANSACTION") => "transaction",
        _ if c.order => "fifo",
        _ => "normal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_names_and_configs() {
        let own: BTreeSet<String> = ["DefaultCluster".to_owned()].into();
        assert_eq!(kind("%RETRY%g", None, &own), "retry");
        assert_eq!(kind("%DLQ%g", None, &own), "dlq");
        assert_eq!(kind("TBW102", None, &own), "system");
        assert_eq!(kind("DefaultCluster", None, &own), "system");
        assert_eq!(kind("Orders", None, &own), "normal");
        let mut c = TopicConfig::default();
        c.attributes.insert("+message.type".into(), "delay".into());
        assert_eq!(kind("Later", Some(&c), &own), "delay");
        let c = TopicConfig {
            order: true,
            ..Default::default()
        };
        assert_eq!(kind("Ordered", Some(&c), &own), "fifo");
    }
}
