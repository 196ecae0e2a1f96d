//! The Prometheus endpoint of the broker's metrics, enabled with Apache's keys:
//! `metricsExporterType=PROM`, `metricsPromExporterPort` (5557), `metricsPromExporterHost`.
//!
//! Gauges that describe state (lag, dispatch backlog, live groups) are filled at scrape time
//! from the handles below, so nothing is tracked per message for them.

use std::sync::Arc;

use prometheus_client::registry::Registry;
use rmq_store::MessageStore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clients::ConsumerManager;
use crate::config::BrokerConfig;
use crate::metrics::{BrokerMetrics, GroupTopicLabel};
use crate::offsets::ConsumerOffsets;

/// What a scrape reads.
pub struct MetricsSources {
    pub metrics: Arc<BrokerMetrics>,
    pub store: Arc<MessageStore>,
    pub consumers: Arc<ConsumerManager>,
    pub offsets: Arc<ConsumerOffsets>,
}

impl MetricsSources {
    /// Fills the scrape-time gauges.
    fn refresh(&self) {
        let m = &self.metrics;
        let s = &self.store;
        m.commit_log_max_offset.set(s.commit_log_max_offset());
        m.dispatch_behind_bytes
            .set((s.commit_log_max_offset() - s.dispatched_offset()).max(0));
        m.connected_consumers
            .set(self.consumers.group_names().len() as i64);
        m.timer_backlog.set(crate::timer::backlog(s, &self.offsets));
        m.consumer_lag.clear();
        for (topic, group, queues) in self.offsets.all() {
            let lag: i64 = queues
                .iter()
                .map(|(q, committed)| (s.max_offset_in_queue(&topic, *q) - committed).max(0))
                .sum();
            m.consumer_lag
                .get_or_create(&GroupTopicLabel { group, topic })
                .set(lag);
        }
    }
}

/// Starts the metrics endpoint when `metricsExporterType=PROM`; the server is owned by `tasks`.
pub async fn start(
    config: &BrokerConfig,
    sources: MetricsSources,
    tasks: &TaskTracker,
    shutdown: CancellationToken,
) -> Result<(), crate::BrokerError> {
    if !config.metrics_exporter_type.eq_ignore_ascii_case("PROM") {
        return Ok(());
    }
    let host = if config.metrics_prom_exporter_host.is_empty() {
        "0.0.0.0"
    } else {
        config.metrics_prom_exporter_host.as_str()
    };
    let addr = format!("{host}:{}", config.metrics_prom_exporter_port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| crate::BrokerError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let mut registry = Registry::default();
    sources.metrics.register(&mut registry);
    let exposition = Arc::new(rmq_runtime::metrics::Exposition {
        registry,
        refresh: Box::new(move || sources.refresh()),
    });
    tasks.spawn(rmq_runtime::metrics::serve(listener, exposition, shutdown));
    Ok(())
}
