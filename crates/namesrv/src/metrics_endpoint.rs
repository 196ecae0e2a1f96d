//! The name server's metrics endpoint, enabled with `metricsExporterType=PROM`
//! (`metricsPromExporterHost`, `metricsPromExporterPort`, default 5557), Apache's keys. Gauges that
//! are cheaper to read at scrape time (live brokers, topics) are filled in just before each encode.

use std::sync::{Arc, Weak};

use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::state::NamesrvState;
use crate::NamesrvError;

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
    let mut registry = Registry::default();
    state.metrics.register(&mut registry);
    let weak: Weak<NamesrvState> = Arc::downgrade(state);
    let exposition = Arc::new(rmq_runtime::metrics::Exposition {
        registry,
        refresh: Box::new(move || {
            if let Some(s) = weak.upgrade() {
                let routes = s.routes.read();
                s.metrics.brokers.set(routes.live_count() as i64);
                s.metrics.topics.set(routes.topic_count() as i64);
            }
        }),
    });
    tracker.spawn(rmq_runtime::metrics::serve(
        listener,
        exposition,
        shutdown.clone(),
    ));
    Ok(())
}
