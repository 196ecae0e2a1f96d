//! [`NamesrvMetrics`]: the name server's Prometheus figures (requests by code, live broker
//! addresses, topics with a route).
//!
//! A leaf file on purpose: the shared state owns the figures and the endpoint
//! (`metrics_endpoint.rs`) reads the shared state, so the type lives apart from both and neither
//! imports the other through it.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: &'static str,
}

#[derive(Default)]
pub struct NamesrvMetrics {
    pub requests: Family<CodeLabel, Counter>,
    pub brokers: Gauge,
    pub topics: Gauge,
}

impl NamesrvMetrics {
    pub fn count(&self, code: &'static str) {
        self.requests.get_or_create(&CodeLabel { code }).inc();
    }

    /// Registers every figure under its `rmq_namesrv_*` name.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "rmq_namesrv_requests",
            "Requests answered, by request code",
            self.requests.clone(),
        );
        registry.register(
            "rmq_namesrv_broker_addresses",
            "Live broker addresses",
            self.brokers.clone(),
        );
        registry.register(
            "rmq_namesrv_topics",
            "Topics with a route",
            self.topics.clone(),
        );
    }
}
