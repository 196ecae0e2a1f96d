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
