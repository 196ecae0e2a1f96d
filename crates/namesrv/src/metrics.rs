//! Name server metrics in Prometheus form: requests by code, and at scrape time the number of
//! live broker addresses and topics. Enabled with `metricsExporterType=PROM`
//! (`metricsPromExporterHost`, `metricsPromExporterPort`, default 5557), Apache's keys.

use std::sync::{Arc, Weak};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::state::NamesrvState;
use crate::NamesrvError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: &'static str,
}

#[derive(Default)]
pub struct NamesrvMetrics {
    pub requests: Family<CodeLabel, Counter>,
    brokers: Gauge,
    topics: Gauge,
}

impl NamesrvMetrics {
    pub fn count(&self, code: &'static str) {
        self.requests.get_or_create(&CodeLabel { code }).inc();
    }
}

/// Starts the endpoint when enabled.
pub(crate) async fn start(
    state: &Arc<NamesrvState>,
    tracker: &TaskTracker,
    shutdown: &CancellationToken,
) -> Result<(), NamesrvError> {
    let c = &state.config;
    if !c.metrics_exporter_type.eq_ignore_ascii_case("PROM") {
        return Ok(());
    }
    let host = if c.metrics_prom_exporter_host.is_empty() {
        "0.0.0.0"
    } else {
        c.metrics_prom_exporter_host.as_str()
    };
    let listener = tokio::net::TcpListener::bind((host, c.metrics_prom_exporter_port))
        .await
        .map_err(|source| NamesrvError::Bind {
            addr: format!("{host}:{}", c.metrics_prom_exporter_port),
            port: c.metrics_prom_exporter_port,
            source,
        })?;
    let m = &state.metrics;
    let mut registry = Registry::default();
    registry.register(
        "rmq_namesrv_requests",
        "Requests answered, by request code",
        m.requests.clone(),
    );
    registry.register(
        "rmq_namesrv_broker_addresses",
        "Live broker addresses",
        m.brokers.clone(),
    );
    registry.register(
        "rmq_namesrv_topics",
        "Topics with a route",
        m.topics.clone(),
    );
    let weak: Weak<NamesrvState> = Arc::downgrade(state);
    let exposition = Arc::new(rmq_metrics::Exposition {
        registry,
        refresh: Box::new(move || {
            if let Some(s) = weak.upgrade() {
                let routes = s.routes.read();
                s.metrics.brokers.set(routes.live_count() as i64);
                s.metrics.topics.set(routes.topic_count() as i64);
            }
        }),
    });
    tracker.spawn(rmq_metrics::serve(listener, exposition, shutdown.clone()));
    Ok(())
}
