//! Access control. `gate.rs` picks ACL 1.0 (this file, `plain.rs`) or ACL 2.0 (`v2/`); both
//! share the request-to-resource mapping (`resources.rs`) and the signature check.
//!
//! ACL 1.0, as Apache's `PlainAccessValidator` applies it: every remoting request names an
//! account (`AccessKey`) and is signed with its secret; the account's permissions on the topics
//! and groups the request touches, and its admin flag, decide. Addresses in
//! `globalWhiteRemoteAddresses`, or in the account's `whiteRemoteAddress`, skip the checks.
//!
//! A refusal is a NO_PERMISSION (16) response naming the account, the resource and the missing
//! permission; the connection stays open. The rules come from `plain_acl.yml` and are re-read
//! when the file changes (`reload.rs`); a file that does not parse keeps the rules in force.

pub(crate) mod action;
mod address;
mod edit;
mod gate;
mod grpc_proof;
pub(crate) mod perm;
mod plain;
mod reload;
mod replication;
mod resources;
pub mod v2;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use rmq_common::time::now_millis;
use rmq_remoting::body::DataVersion;

pub use gate::{gate_for, Gate, Guard};
pub use grpc_proof::GrpcProof;
pub use plain::{FileError, PlainAcl};
pub(crate) use reload::start as start_reload;
pub use replication::{ReplicationGuard, ReplicationProver};

pub(crate) use perm::{ANY, PUB, SUB};
pub(crate) use resources::{Needed, Resource};
pub use v2::Rpc;

/// Why a request is refused; the text is the remark.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No account, an unknown one, or a bad signature.
    #[error("{0}")]
    Unauthenticated(String),
    /// A proven account without the permission.
    #[error("{0}")]
    Forbidden(String),
}

/// The rules in force and where they come from.
#[derive(Debug)]
pub struct Acl {
    path: PathBuf,
    rules: RwLock<Arc<PlainAcl>>,
    /// Apache's `DataVersion` of the rules: bumped on every load.
    version: parking_lot::Mutex<DataVersion>,
    /// One edit of the file at a time (`edit.rs`).
    editing: parking_lot::Mutex<()>,
}

/// Why the ACL file cannot be used at start.
#[derive(Debug, thiserror::Error)]
pub enum AclError {
    #[error(
        "aclEnable=true but the ACL file {path} cannot be read: {source}; write one (see \
         deploy/conf/plain_acl.yml) or set aclFile"
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ACL file {path}: {error}")]
    Parse { path: PathBuf, error: FileError },
}

impl Acl {
    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Arc<Acl>, AclError> {
        let rules = read(path)?;
        tracing::info!(
            file = %path.display(),
            accounts = rules.accounts.len(),
            "ACL enabled: every request must be signed by an account of this file"
        );
        Ok(Arc::new(Acl {
            path: path.to_owned(),
            rules: RwLock::new(Arc::new(rules)),
            version: parking_lot::Mutex::new(DataVersion::new(now_millis())),
            editing: parking_lot::Mutex::new(()),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rules in force.
    pub fn rules(&self) -> Arc<PlainAcl> {
        self.rules.read().clone()
    }

    fn replace(&self, rules: PlainAcl) {
        *self.rules.write() = Arc::new(rules);
        self.version.lock().next_version(now_millis());
    }

    /// The decision for one request of either protocol: `what` names it in remarks (made only
    /// for a refusal),
    /// `access_key` is the account it names, `verify` checks its proof against a secret, and
    /// `needed` says what it touches (computed only once the account is proven).
    pub fn decide(
        &self,
        peer: IpAddr,
        what: &dyn Fn() -> String,
        access_key: Option<&str>,
        verify: &dyn Fn(&str) -> bool,
        needed: &dyn Fn() -> Result<Needed, String>,
    ) -> Result<(), Refusal> {
        use Refusal::{Forbidden, Unauthenticated};
        let rules = self.rules.read().clone();
        if rules.global_white.iter().any(|p| p.matches(peer)) {
            return Ok(());
        }
        let Some(access_key) = access_key else {
            let what = what();
            return Err(Unauthenticated(format!(
                "ACL: {what} names no account (no AccessKey); sign requests with an account of \
                 the broker's plain_acl.yml (Java: AclClientRPCHook; rmq: credentials in the \
                 client options; 5.x clients: a SessionCredentialsProvider)"
            )));
        };
        let Some(account) = rules.accounts.get(access_key) else {
            return Err(Unauthenticated(format!(
                "ACL: no account accessKey={access_key} on this broker"
            )));
        };
        if account.white.as_ref().is_some_and(|p| p.matches(peer)) {
            return Ok(());
        }
        if !verify(&account.secret_key) {
            return Err(Unauthenticated(format!(
                "ACL: signature check failed for accessKey={access_key}: the request was not \
                 signed with this account's secretKey"
            )));
        }
        let needed = needed().map_err(|e| Forbidden(format!("ACL: {e}")))?;
        if needed.admin && !account.admin {
            let what = what();
            return Err(Forbidden(format!(
                "ACL: {what} needs an admin account; accessKey={access_key} is not admin"
            )));
        }
        for need in needed.resources.iter().filter(|n| n.perm != 0) {
            let (resource, wanted) = (&need.resource, &need.perm);
            let (explicit, default, kind) = match resource {
                Resource::Topic(t) => (
                    account.topic_perms.get(t),
                    account.default_topic_perm,
                    "topics",
                ),
                Resource::Group(g) => (
                    account.group_perms.get(g),
                    account.default_group_perm,
                    "groups",
                ),
                Resource::Cluster => continue,
            };
            let allowed = match explicit {
                Some(owned) => perm::allows(*wanted, *owned),
                // An admin account may do anything not denied by name.
                None => account.admin || perm::allows(*wanted, default),
            };
            if !allowed {
                let owned = match explicit {
                    Some(p) => format!("it has {}", perm::name(*p)),
                    None => format!("it has the default for {kind}, {}", perm::name(default)),
                };
                return Err(Forbidden(format!(
                    "ACL: accessKey={access_key} has no {} permission on {resource} ({owned})",
                    perm::name(*wanted)
                )));
            }
        }
        Ok(())
    }
}

fn read(path: &Path) -> Result<PlainAcl, AclError> {
    let text = std::fs::read_to_string(path).map_err(|source| AclError::Read {
        path: path.to_owned(),
        source,
    })?;
    PlainAcl::parse(&text).map_err(|error| AclError::Parse {
        path: path.to_owned(),
        error,
    })
}
