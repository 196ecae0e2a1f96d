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

/// Resolves on the first SIGTERM or SIGINT and logs which one. If a handler cannot be
/// installed, the other one still works; if neither can, it never resolves (the daemon then
/// stops only by SIGKILL, which a warning says).
pub async fn shutdown_signal() -> Signal {
    use tokio::signal::unix::{signal, SignalKind};
    let signal = match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = term.recv() => Signal::Terminate,
            r = tokio::signal::ctrl_c() => match r {
                Ok(()) => Signal::Interrupt,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGINT; stopping on SIGTERM only");
                    let _ = term.recv().await;
                    Signal::Terminate
                }
            },
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; stopping on SIGINT only");
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %e, "cannot listen for SIGINT either");
                std::future::pending::<()>().await;
            }
            Signal::Interrupt
        }
    };
    tracing::info!(%signal, "shutting down");
    signal
}
