//! Background loops that must not die quietly. [`spawn_supervised`] runs a loop on the broker's
//! task tracker; if it panics, the panic is logged as an error naming the loop and the loop is
//! started again after a pause (1 s, doubling to 30 s), until shutdown. A loop that returns is
//! done. Each loop resumes from the state it keeps outside itself (offsets, the op log), so a
//! restart re-reads rather than loses.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// Runs `make()` until it returns or `shutdown`, restarting it after a panic.
pub(crate) fn spawn_supervised<F, Fut>(
    tasks: &TaskTracker,
    shutdown: CancellationToken,
    name: String,
    make: F,
) where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tasks.spawn(async move {
        let mut pause = FIRST_PAUSE;
        loop {
            let run = tokio::spawn(make());
            let failure = match run.await {
                Ok(()) => return,
                Err(e) if e.is_panic() => e.into_panic(),
                Err(_) => return,
            };
            let why = failure
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| failure.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-text panic".into());
            tracing::error!(
                task = %name,
                panic = %why,
                restart_in_ms = pause.as_millis() as u64,
                "background task panicked; restarting it"
            );
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.cancelled() => return,
            }
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_panicking_loop_is_restarted_and_a_finished_one_is_not() {
        let tasks = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        spawn_supervised(&tasks, shutdown.clone(), "flaky".into(), move || {
            let r = r.clone();
            async move {
                if r.fetch_add(1, Ordering::SeqCst) < 2 {
                    panic!("boom");
                }
            }
        });
        tasks.close();
        tasks.wait().await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            3,
            "two panics, then a clean finish"
        );
    }
}
