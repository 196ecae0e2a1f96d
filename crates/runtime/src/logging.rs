//! Daemon logging: one log directory per daemon, a file in it plus the console, the same
//! failure handling for every daemon.
//!
//! The directory is chosen the same way for both daemons ([`log_dir`]): the `--log-dir` flag,
//! else the `logDir` property, else `$RMQ_LOG_DIR`, else `~/logs/rocketmqlogs` (where Apache's
//! daemons log). A directory that cannot be created or a file that cannot be opened is an error
//! naming the path: a daemon that silently logs nowhere is worse than one that refuses to start.
//!
//! Several brokers of `cargo xtask cluster up` may share one file, so every line can carry a
//! prefix naming the daemon (`[broker-a]`). `RUST_LOG` filters (default `info`; openraft from `warn`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{self, FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot create the log directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the log file {path}: {source}")]
    OpenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("logging was already set up in this process")]
    AlreadySet,
}

/// Where a daemon logs.
#[derive(Debug, Clone)]
pub struct LogTarget {
    /// The log directory (see [`log_dir`]).
    pub dir: PathBuf,
    /// The file in it: `broker.log`, `namesrv.log` as Apache names them.
    pub file_name: String,
    /// Written at the start of every line, e.g. the broker name; empty for none.
    pub prefix: String,
}

/// The log directory: `flag` (`--log-dir`), else `property` (`logDir`) when not empty, else
/// `$RMQ_LOG_DIR`, else `~/logs/rocketmqlogs`.
pub fn log_dir(flag: Option<&Path>, property: &str) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_owned();
    }
    if !property.trim().is_empty() {
        return expand_home(property.trim());
    }
    if let Some(dir) = std::env::var_os("RMQ_LOG_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    expand_home("~/logs/rocketmqlogs")
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map_or_else(std::env::temp_dir, PathBuf::from)
            .join(rest),
        None => PathBuf::from(path),
    }
}

/// Logs to `<dir>/<file_name>` and to stdout. Returns the log file's path.
pub fn init(target: &LogTarget) -> Result<PathBuf, LogError> {
    std::fs::create_dir_all(&target.dir).map_err(|source| LogError::CreateDir {
        path: target.dir.clone(),
        source,
    })?;
    let path = target.dir.join(&target.file_name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|source| LogError::OpenFile {
            path: path.clone(),
            source,
        })?;
    let prefix: Arc<str> = Arc::from(target.prefix.as_str());
    let console = fmt::layer()
        .with_ansi(std::io::stdout().is_terminal())
        .event_format(Prefixed::new(prefix.clone()))
        .with_writer(std::io::stdout)
        .with_filter(filter());
    let file = fmt::layer()
        .with_ansi(false)
        .event_format(Prefixed::new(prefix))
        .with_writer(Arc::new(file))
        .with_filter(filter());
    tracing_subscriber::registry()
        .with(console)
        .with(file)
        .try_init()
        .map_err(|_| LogError::AlreadySet)?;
    Ok(path)
}

/// Logs to stderr only, for commands whose stdout is their output (`-p`).
pub fn init_stderr() -> Result<(), LogError> {
    fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_filter(filter())
        .with_subscriber(tracing_subscriber::registry())
        .try_init()
        .map_err(|_| LogError::AlreadySet)
}

/// `RUST_LOG` (default `info`); openraft's own lines, a dozen for every controller election,
/// only from `warn` unless `RUST_LOG` names openraft.
fn filter() -> EnvFilter {
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let spec = if spec.contains("openraft") {
        spec
    } else {
        format!("{spec},openraft=warn")
    };
    EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new("info,openraft=warn"))
}

/// The default line format with `[prefix] ` in front.
struct Prefixed {
    prefix: Arc<str>,
    inner: fmt::format::Format,
}

impl Prefixed {
    fn new(prefix: Arc<str>) -> Self {
        Prefixed {
            prefix,
            inner: fmt::format::Format::default(),
        }
    }
}

impl<S, N> FormatEvent<S, N> for Prefixed
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        if !self.prefix.is_empty() {
            write!(writer, "[{}] ", self.prefix)?;
        }
        self.inner.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_over_property_over_default() {
        let flag = Path::new("/a");
        assert_eq!(log_dir(Some(flag), "/b"), PathBuf::from("/a"));
        assert_eq!(log_dir(None, "/b"), PathBuf::from("/b"));
        assert!(log_dir(None, " ").is_absolute());
    }
}
