//! When a consumer rebalances: at start, on NOTIFY_CONSUMER_IDS_CHANGED, every
//! `rebalance_interval`, and — while the last round left something unsettled (a subscribed
//! topic with no route yet, a broker that does not list this member yet, an orderly queue still
//! locked by the member that is giving it up) — again after a short pause that doubles up to
//! [`MAX_RETRY`]. Start-up and hand-over therefore never wait for a periodic timer: a topic
//! created after the consumer started is picked up within seconds, not one route period later.

use std::future::Future;
use std::time::Duration;

use crate::instance::ClientInstance;

/// First pause after an unsettled round.
const FIRST_RETRY: Duration = Duration::from_millis(200);
/// Longest pause between rounds while unsettled (never longer than the rebalance interval): a
/// missing topic costs one route query a second until it appears.
const MAX_RETRY: Duration = Duration::from_secs(1);

/// What one rebalance round achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoundOutcome {
    /// Every subscription resolved and every wanted queue taken.
    Settled,
    /// Something is still missing; try again soon.
    Unsettled,
}

/// Runs `round` until the client shuts down (the caller spawns this on the client's tracker).
pub(crate) async fn run<F, Fut>(instance: &ClientInstance, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = RoundOutcome>,
{
    let notify = instance.rebalance_notify.clone();
    let interval = instance.options.rebalance_interval;
    let mut retry = FIRST_RETRY;
    loop {
        let wait = match round().await {
            RoundOutcome::Settled => {
                retry = FIRST_RETRY;
                interval
            }
            RoundOutcome::Unsettled => {
                let wait = retry.min(interval);
                retry = (retry * 2).min(MAX_RETRY);
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = notify.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn instance(interval: Duration) -> Arc<ClientInstance> {
        let options = crate::ClientOptions {
            name_servers: vec!["127.0.0.1:1".into()],
            rebalance_interval: interval,
            ..Default::default()
        };
        ClientInstance::new(options).expect("valid options")
    }

    /// Rounds that stay unsettled run 0.2, 0.4, 0.8 s apart, then every second; once settled,
    /// the next round waits for the full interval.
    #[tokio::test(start_paused = true)]
    async fn unsettled_rounds_retry_with_backoff_then_wait_the_interval() {
        let instance = instance(Duration::from_secs(60));
        let rounds = Arc::new(AtomicUsize::new(0));
        let counted = rounds.clone();
        let start = tokio::time::Instant::now();
        let times = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let seen = times.clone();
        let task = tokio::spawn({
            let instance = instance.clone();
            async move {
                run(&instance, || {
                    let n = counted.fetch_add(1, Ordering::SeqCst);
                    seen.lock().push(start.elapsed());
                    async move {
                        if n < 7 {
                            RoundOutcome::Unsettled
                        } else {
                            RoundOutcome::Settled
                        }
                    }
                })
                .await
            }
        });
        while rounds.load(Ordering::SeqCst) < 9 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        task.abort();
        let ms: Vec<u128> = times.lock().iter().map(|d| d.as_millis()).collect();
        // 0, +200, +400, +800, then +1000 each, then +60000 after settling.
        assert_eq!(ms[..9], [0, 200, 600, 1400, 2400, 3400, 4400, 5400, 65400]);
    }

    /// A group change wakes the loop at once, whatever it was waiting for.
    #[tokio::test(start_paused = true)]
    async fn notify_wakes_a_round_immediately() {
        let instance = instance(Duration::from_secs(60));
        let rounds = Arc::new(AtomicUsize::new(0));
        let counted = rounds.clone();
        let task = tokio::spawn({
            let instance = instance.clone();
            async move {
                run(&instance, || {
                    counted.fetch_add(1, Ordering::SeqCst);
                    async { RoundOutcome::Settled }
                })
                .await
            }
        });
        while rounds.load(Ordering::SeqCst) < 1 {
            tokio::task::yield_now().await;
        }
        let before = tokio::time::Instant::now();
        instance.rebalance_notify.notify_one();
        while rounds.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(before.elapsed(), Duration::ZERO);
        task.abort();
    }
}
