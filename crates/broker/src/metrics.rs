//! Broker metrics in Prometheus form (issue: observability). Counters are bumped on the hot
//! path with a single atomic add per message family; lag is computed at scrape time from the
//! committed offsets and the queues' max offsets, so nothing is tracked per message.
//!
//! The endpoint that serves them is `metrics_endpoint.rs`, enabled with Apache's keys.

use std::collections::HashMap;

use parking_lot::RwLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabel {
    pub topic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GroupTopicLabel {
    pub group: String,
    pub topic: String,
}

fn latency_histogram() -> Histogram {
    // 10 µs .. ~20 s
    Histogram::new(exponential_buckets(0.000_01, 4.0, 12))
}

type TopicCounterCache = RwLock<HashMap<String, (Counter, Counter)>>;

/// Every broker metric.
pub struct BrokerMetrics {
    in_cache: TopicCounterCache,
    out_cache: TopicCounterCache,
    pub messages_in: Family<TopicLabel, Counter>,
    pub bytes_in: Family<TopicLabel, Counter>,
    pub messages_out: Family<TopicLabel, Counter>,
    pub bytes_out: Family<TopicLabel, Counter>,
    pub request_latency: Family<CodeLabel, Histogram, fn() -> Histogram>,
    pub put_latency: Histogram,
    pub consumer_lag: Family<GroupTopicLabel, Gauge>,
    pub commit_log_max_offset: Gauge,
    pub dispatch_behind_bytes: Gauge,
    pub ha_slave_lag_bytes: Gauge,
    pub connected_consumers: Gauge,
    /// Timer messages waiting (`rmq_sys_wheel_timer`), filled at scrape time.
    pub timer_backlog: Gauge,
    /// How late timer messages reached their topic, from their delivery time.
    pub timer_lag: Histogram,
    pub timer_delivered: Counter,
}

impl BrokerMetrics {
    pub fn new() -> Self {
        BrokerMetrics {
            in_cache: RwLock::default(),
            out_cache: RwLock::default(),
            messages_in: Family::default(),
            bytes_in: Family::default(),
            messages_out: Family::default(),
            bytes_out: Family::default(),
            request_latency: Family::new_with_constructor(latency_histogram),
            put_latency: latency_histogram(),
            consumer_lag: Family::default(),
            commit_log_max_offset: Gauge::default(),
            dispatch_behind_bytes: Gauge::default(),
            ha_slave_lag_bytes: Gauge::default(),
            connected_consumers: Gauge::default(),
            timer_backlog: Gauge::default(),
            // 1 ms .. ~4.7 h
            timer_lag: Histogram::new(exponential_buckets(0.001, 4.0, 12)),
            timer_delivered: Counter::default(),
        }
    }

    pub fn record_in(&self, topic: &str, messages: u64, bytes: u64) {
        let (m, b) = self.topic_counters(&self.in_cache, topic, &self.messages_in, &self.bytes_in);
        m.inc_by(messages);
        b.inc_by(bytes);
    }

    pub fn record_out(&self, topic: &str, messages: u64, bytes: u64) {
        let (m, b) =
            self.topic_counters(&self.out_cache, topic, &self.messages_out, &self.bytes_out);
        m.inc_by(messages);
        b.inc_by(bytes);
    }

    /// Drops a deleted topic's series, so deleted topics do not pile up in memory or in
    /// `/metrics`.
    pub fn forget_topic(&self, topic: &str) {
        let l = TopicLabel {
            topic: topic.to_owned(),
        };
        for family in [
            &self.messages_in,
            &self.bytes_in,
            &self.messages_out,
            &self.bytes_out,
        ] {
            family.remove(&l);
        }
        self.in_cache.write().remove(topic);
        self.out_cache.write().remove(topic);
    }

    /// A topic's (messages, bytes) counters, looked up by `&str` so the hot path allocates
    /// nothing once a topic has been seen.
    fn topic_counters(
        &self,
        cache: &TopicCounterCache,
        topic: &str,
        messages: &Family<TopicLabel, Counter>,
        bytes: &Family<TopicLabel, Counter>,
    ) -> (Counter, Counter) {
        if let Some(c) = cache.read().get(topic) {
            return c.clone();
        }
        let l = TopicLabel {
            topic: topic.to_owned(),
        };
        let pair = (
            messages.get_or_create(&l).clone(),
            bytes.get_or_create(&l).clone(),
        );
        cache.write().insert(topic.to_owned(), pair.clone());
        pair
    }

    pub fn record_request(&self, code: &'static str, elapsed: Duration) {
        self.request_latency
            .get_or_create(&CodeLabel { code })
            .observe(elapsed.as_secs_f64());
    }

    pub fn register(&self, r: &mut Registry) {
        r.register(
            "rmq_broker_messages_in",
            "Messages stored, by topic",
            self.messages_in.clone(),
        );
        r.register(
            "rmq_broker_bytes_in",
            "Message body bytes stored, by topic",
            self.bytes_in.clone(),
        );
        r.register(
            "rmq_broker_messages_out",
            "Messages returned by pulls, by topic",
            self.messages_out.clone(),
        );
        r.register(
            "rmq_broker_bytes_out",
            "Record bytes returned by pulls, by topic",
            self.bytes_out.clone(),
        );
        r.register(
            "rmq_broker_request_duration_seconds",
            "Time to answer a request, by request code (held pulls included)",
            self.request_latency.clone(),
        );
        r.register(
            "rmq_store_put_duration_seconds",
            "Time for the store to accept a message, flush included under SYNC_FLUSH",
            self.put_latency.clone(),
        );
        r.register(
            "rmq_broker_consumer_lag_messages",
            "Messages not yet consumed (max offset minus committed offset), by group and topic",
            self.consumer_lag.clone(),
        );
        r.register(
            "rmq_store_commit_log_max_offset_bytes",
            "CommitLog write position",
            self.commit_log_max_offset.clone(),
        );
        r.register(
            "rmq_store_dispatch_behind_bytes",
            "CommitLog bytes not yet in consume queues",
            self.dispatch_behind_bytes.clone(),
        );
        r.register(
            "rmq_ha_slave_lag_bytes",
            "How far the furthest-behind slave is from the master's CommitLog (0 on slaves)",
            self.ha_slave_lag_bytes.clone(),
        );
        r.register(
            "rmq_timer_backlog_messages",
            "Timer messages waiting for their delivery time",
            self.timer_backlog.clone(),
        );
        r.register(
            "rmq_timer_delivery_lag_seconds",
            "How long after its delivery time a timer message reached its topic",
            self.timer_lag.clone(),
        );
        r.register(
            "rmq_timer_delivered_messages",
            "Timer messages delivered to their topics",
            self.timer_delivered.clone(),
        );
        r.register(
            "rmq_broker_consumer_groups",
            "Consumer groups with live members",
            self.connected_consumers.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(m: &BrokerMetrics) -> String {
        let mut r = Registry::default();
        m.register(&mut r);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &r).unwrap();
        out
    }

    #[test]
    fn a_deleted_topic_leaves_no_series() {
        let m = BrokerMetrics::new();
        m.record_in("Gone", 3, 300);
        m.record_out("Gone", 1, 100);
        m.record_in("Kept", 1, 10);
        assert!(text(&m).contains("topic=\"Gone\""));
        m.forget_topic("Gone");
        let after = text(&m);
        assert!(!after.contains("topic=\"Gone\""), "{after}");
        assert!(after.contains("topic=\"Kept\""));
        // Seen again later: counted from zero.
        m.record_in("Gone", 1, 1);
        assert!(text(&m).contains("topic=\"Gone\""));
    }
}
