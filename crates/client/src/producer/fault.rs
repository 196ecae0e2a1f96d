//! Latency fault tolerance, simple version (protocol.md 8.7): a per-broker "not available until"
//! instant. A send that failed at the transport level, or was slow, isolates its broker for a
//! while so that queue selection skips it; Java's latency → isolation table is kept.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// Send latencies (ms) and how long a broker that took at least that long is avoided (ms).
const LATENCY_MAX: [u64; 7] = [50, 100, 550, 1_800, 3_000, 5_000, 15_000];
const NOT_AVAILABLE: [u64; 7] = [0, 0, 2_000, 5_000, 6_000, 10_000, 30_000];
/// A failed send counts as this latency, which isolates the broker for 10 s (as Java).
const FAILURE_LATENCY_MS: u64 = 10_000;

/// Which brokers to avoid, and until when.
#[derive(Debug, Default)]
pub struct FaultTolerance {
    until: Mutex<HashMap<String, Instant>>,
}

/// How long a broker is avoided after a send that took `latency` (or failed).
pub fn isolation_for(latency: Duration, failed: bool) -> Duration {
    let ms = if failed {
        FAILURE_LATENCY_MS
    } else {
        latency.as_millis() as u64
    };
    LATENCY_MAX
        .iter()
        .zip(NOT_AVAILABLE)
        .rev()
        .find(|(max, _)| ms >= **max)
        .map(|(_, n)| Duration::from_millis(n))
        .unwrap_or_default()
}

impl FaultTolerance {
    /// Records a send to `broker` that took `latency` (or failed).
    pub fn record(&self, broker: &str, latency: Duration, failed: bool) {
        let isolation = isolation_for(latency, failed);
        let mut until = self.until.lock();
        if isolation.is_zero() {
            until.remove(broker);
        } else {
            until.insert(broker.to_owned(), Instant::now() + isolation);
        }
    }

    /// Forgets a broker's isolation: its master has (re)appeared in a route, so it is worth
    /// trying again at once rather than after the isolation runs out.
    pub fn forget(&self, broker: &str) {
        self.until.lock().remove(broker);
    }

    pub fn is_available(&self, broker: &str) -> bool {
        self.until
            .lock()
            .get(broker)
            .is_none_or(|t| *t <= Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolation_table() {
        assert_eq!(
            isolation_for(Duration::from_millis(10), false),
            Duration::ZERO
        );
        assert_eq!(
            isolation_for(Duration::from_millis(600), false),
            Duration::from_secs(2)
        );
        assert_eq!(
            isolation_for(Duration::from_millis(20_000), false),
            Duration::from_secs(30)
        );
        assert_eq!(isolation_for(Duration::ZERO, true), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn broker_comes_back_after_isolation() {
        let f = FaultTolerance::default();
        f.record("a", Duration::ZERO, true);
        assert!(!f.is_available("a"));
        assert!(f.is_available("b"));
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(f.is_available("a"));
        f.record("a", Duration::from_millis(5), false);
        assert!(f.is_available("a"));
    }
}
