//! ACL 1.0, as Apache's `PlainAccessValidator` applies it: every remoting request names an
//! account (`AccessKey`) and is signed with its secret; the account's permissions on the topics
//! and groups the request touches, and its admin flag, decide. Addresses in
//! `globalWhiteRemoteAddresses`, or in the account's `whiteRemoteAddress`, skip the checks.
//!
//! A refusal is a NO_PERMISSION (16) response naming the account, the resource and the missing
//! permission; the connection stays open. The rules come from `plain_acl.yml` and are re-read
//! when the file changes (`reload.rs`); a file that does not parse keeps the rules in force.

mod address;
mod perm;
mod plain;
mod reload;
mod resources;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use rmq_remoting::protocol::signature::{self, ACCESS_KEY};
use rmq_remoting::{ProcessError, RemotingCommand, RequestContext, RequestGuard, ResponseCode};

pub use plain::{FileError, PlainAcl};
pub(crate) use reload::start as start_reload;

use resources::Resource;

/// The rules in force and where they come from.
#[derive(Debug)]
pub struct Acl {
    path: PathBuf,
    rules: RwLock<Arc<PlainAcl>>,
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
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn replace(&self, rules: PlainAcl) {
        *self.rules.write() = Arc::new(rules);
    }

    /// Whether `request` from `peer` may proceed; the error is the remark of the refusal.
    pub fn check(&self, peer: IpAddr, request: &RemotingCommand) -> Result<(), String> {
        let rules = self.rules.read().clone();
        if rules.global_white.iter().any(|p| p.matches(peer)) {
            return Ok(());
        }
        let code = request.request_code();
        let Some(access_key) = request.ext_fields.get(ACCESS_KEY) else {
            return Err(format!(
                "ACL: {code} carries no AccessKey; sign requests with an account of the broker's \
                 plain_acl.yml (Java: AclClientRPCHook; rmq: credentials in the client options)"
            ));
        };
        let Some(account) = rules.accounts.get(access_key) else {
            return Err(format!(
                "ACL: no account accessKey={access_key} on this broker"
            ));
        };
        if account.white.as_ref().is_some_and(|p| p.matches(peer)) {
            return Ok(());
        }
        if !signature::verify(request, &account.secret_key) {
            return Err(format!(
                "ACL: signature check failed for accessKey={access_key}: the request was not \
                 signed with this account's secretKey"
            ));
        }
        let needed = resources::needed(request).map_err(|e| format!("ACL: {e}"))?;
        if needed.admin && !account.admin {
            return Err(format!(
                "ACL: {code} needs an admin account; accessKey={access_key} is not admin"
            ));
        }
        for (resource, wanted) in &needed.resources {
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
                return Err(format!(
                    "ACL: accessKey={access_key} has no {} permission on {resource} ({owned})",
                    perm::name(*wanted)
                ));
            }
        }
        Ok(())
    }
}

/// The remoting server's guard: refusals answer NO_PERMISSION with the reason.
pub struct Guard(pub Arc<Acl>);

impl RequestGuard for Guard {
    fn check(&self, ctx: &RequestContext, request: &RemotingCommand) -> Result<(), ProcessError> {
        self.0
            .check(ctx.peer_addr().ip(), request)
            .map_err(|remark| {
                tracing::debug!(peer = %ctx.peer_addr(), %remark, "request refused");
                ProcessError::response(ResponseCode::NoPermission, remark)
            })
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
