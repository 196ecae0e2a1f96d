//! What every example shares: log setup. `RUST_LOG` overrides the default level (`warn`); logs
//! go to stderr, in colour only when stderr is a terminal, so a pipe gets plain text.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
