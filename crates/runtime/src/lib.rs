//! rmq-runtime: what every rmq daemon shares, written once.
//!
//! Both daemons used to carry their own logging setup, signal handling and atomic file write,
//! each with slightly different failure handling; a fix in one never reached the other. This
//! crate is the one place for them:
//! * [`fs`] — the atomic file write (temp file, fsync, rename, fsync of the directory), also
//!   used by the client SDK for its local offset file, which is why it builds without the
//!   `daemon` feature;
//! * `logging` — one log directory per daemon, a file plus the console, a prefix naming the
//!   daemon on every line;
//! * `signal` — the SIGTERM/SIGINT future a daemon's `run(config, shutdown)` waits on;
//! * `metrics` — the Prometheus `GET /metrics` endpoint;
//! * `report` — an error and its causes as the one stderr line a daemon exits with;
//! * `limits` — the open-file limit raised to what the system allows, as the JVM does for
//!   Apache's daemons.

pub mod fs;
#[cfg(feature = "daemon")]
pub mod limits;
#[cfg(feature = "daemon")]
pub mod logging;
#[cfg(feature = "daemon")]
pub mod metrics;
#[cfg(feature = "daemon")]
pub mod report;
#[cfg(feature = "daemon")]
pub mod signal;

#[cfg(feature = "daemon")]
pub use signal::shutdown_signal;
