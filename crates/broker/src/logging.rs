//! Daemon logging: `tracing` to stdout and to a file under the log directory
//! (`$RMQ_LOG_DIR`, else `~/logs/rocketmqlogs` as Apache's daemons use). The level comes from
//! `RUST_LOG` (default `info`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::EnvFilter;

/// The directory daemon logs go to.
pub fn log_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RMQ_LOG_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join("logs").join("rocketmqlogs")
}

/// Installs the global subscriber. If the log file cannot be opened, logs go to stdout only and
/// a warning says why.
pub fn init(dir: &Path, file_name: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file = std::fs::create_dir_all(dir).and_then(|_| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(file_name))
    });
    match file {
        Ok(f) => {
            let writer = std::io::stdout.and(Arc::new(f));
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(writer)
                .init();
        }
        Err(e) => {
            tracing_subscriber::fmt().with_env_filter(filter).init();
            tracing::warn!(dir = %dir.display(), error = %e, "cannot open the log file; logging to stdout only");
        }
    }
}
