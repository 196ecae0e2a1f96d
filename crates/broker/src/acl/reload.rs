//! Re-reads `plain_acl.yml` when it changes, as Apache's broker watches it: the new rules apply
//! to the next request, connections stay open. A file that does not parse is logged with its
//! line and the rules in force stay.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Acl, AclError, PlainAcl};

/// How often the file's size and modification time are looked at.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// What tells a changed file: modification time, length and the text's hash (a rewrite within
/// the file system's time granularity keeps the time).
type Stamp = Option<(SystemTime, u64, u64)>;

/// The file's stamp and text, read once.
fn look(acl: &Acl) -> (Stamp, std::io::Result<Vec<u8>>) {
    let text = std::fs::read(acl.path());
    let stamp = (|| {
        let meta = std::fs::metadata(acl.path()).ok()?;
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.as_ref().ok()?.hash(&mut h);
        Some((meta.modified().ok()?, meta.len(), h.finish()))
    })();
    (stamp, text)
}

/// Starts the one task that owns reloading; it stops on `shutdown`.
pub(crate) fn start(acl: Arc<Acl>, tasks: &TaskTracker, shutdown: CancellationToken) {
    tasks.spawn(async move {
        let mut seen = look(&acl).0;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(CHECK_EVERY) => {}
            }
            let (now, text) = look(&acl);
            if now == seen {
                continue;
            }
            seen = now;
            let parsed = match text {
                Ok(bytes) => PlainAcl::parse(&String::from_utf8_lossy(&bytes)).map_err(|error| {
                    AclError::Parse {
                        path: acl.path().to_owned(),
                        error,
                    }
                }),
                Err(source) => Err(AclError::Read {
                    path: acl.path().to_owned(),
                    source,
                }),
            };
            match parsed {
                Ok(rules) => {
                    tracing::info!(
                        file = %acl.path().display(),
                        accounts = rules.accounts.len(),
                        "ACL file changed; new rules in force"
                    );
                    acl.replace(rules);
                }
                Err(e) => tracing::error!(
                    "{e}; the rules read before stay in force until the file is fixed"
                ),
            }
        }
    });
}
