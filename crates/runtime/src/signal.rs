//! The shutdown signal every daemon waits on: SIGTERM (what supervisors and `mqshutdown` send)
//! or SIGINT (Ctrl-C). A daemon's library takes it as the `shutdown` future of
//! `run(config, shutdown)`, so tests pass any future instead.

use std::fmt;

/// Which signal asked the daemon to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Terminate,
    Interrupt,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "SIGINT",
        })
    }
}

/// Runs a daemon on a new multi-threaded tokio runtime (threads named `thread_name`): the
/// open-file limit raised (see [`crate::limits`]), the signal handlers go in first, then
/// `daemon(shutdown)` runs to its end. What every daemon binary's `main` does once its config is
/// read and its logging set up.
pub fn run_daemon<F, Fut>(thread_name: &str, daemon: F) -> std::io::Result<Fut::Output>
where
    F: FnOnce(std::pin::Pin<Box<dyn std::future::Future<Output = Signal> + Send>>) -> Fut,
    Fut: std::future::Future,
{
    match crate::limits::raise_open_files() {
        Ok(l) => tracing::info!(
            soft = l.soft,
            hard = l.hard,
            was = l.before,
            "open-file limit"
        ),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(thread_name)
        .build()?;
    let shutdown = {
        let _in_runtime = runtime.enter();
        Box::pin(shutdown_signal())
    };
    Ok(runtime.block_on(daemon(shutdown)))
}

/// Installs the SIGTERM and SIGINT handlers now and returns a future that resolves on the
/// first of them, logging which. Call it (inside the runtime, before the daemon binds its
/// ports) so that a signal arriving as soon as the port answers is already handled rather than
/// killing the process. A handler that cannot be installed is warned about; with neither, the
/// future never resolves (the daemon then stops only by SIGKILL).
pub fn shutdown_signal() -> impl std::future::Future<Output = Signal> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate())
        .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGTERM"))
        .ok();
    let int = signal(SignalKind::interrupt())
        .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGINT"))
        .ok();
    async move {
        let recv = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let signal = tokio::select! {
            _ = recv(term) => Signal::Terminate,
            _ = recv(int) => Signal::Interrupt,
        };
        tracing::info!(%signal, "shutting down");
        signal
    }
}
