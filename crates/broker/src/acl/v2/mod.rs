//! ACL 2.0, as Apache 5.x's `auth` module applies it: `authenticationEnabled` makes every
//! request prove a user (the `AccessKey` names the user, the signature is made with its
//! password, the same `AclClientRPCHook` signature as 1.0); `authorizationEnabled` lets a
//! `Super` user do anything and anyone else only what a matching entry of their ACL allows: the
//! `Custom` policy first, then `Default`, the most specific resource wins and, between equals,
//! `Deny`. No matching entry is a refusal. Request codes in `authenticationWhitelist` /
//! `authorizationWhitelist` skip the check.
//!
//! Users and ACLs are managed with the AUTH_* request codes (`admin.rs`, `mqadmin createUser`
//! …) and kept in `store.rs`.

mod admin;
pub(crate) mod model;
mod store;

use std::net::IpAddr;
use std::sync::Arc;

pub(crate) use admin::register;
pub use store::{AuthStore, StoreError};

use self::model::{Decision, Kind, PolicyType, User, UserStatus, UserType};
use super::{Needed, Refusal, Resource};

/// The request being decided, as the whitelists name it: a remoting code or a gRPC message.
#[derive(Debug, Clone, Copy)]
pub enum Rpc<'a> {
    Code(i32),
    Grpc(&'a str),
}

/// The `authentication*`/`authorization*` keys that matter to the request path.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    pub authentication: bool,
    pub authorization: bool,
    /// Comma-separated request codes (remoting) or message names (gRPC).
    pub authentication_whitelist: String,
    pub authorization_whitelist: String,
    /// The cluster `Cluster:` resources name.
    pub cluster: String,
}

/// ACL 2.0 in force on a broker.
#[derive(Debug)]
pub struct Auth {
    settings: AuthSettings,
    authn_white: Vec<String>,
    authz_white: Vec<String>,
    store: Arc<AuthStore>,
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn listed(list: &[String], rpc: Rpc<'_>) -> bool {
    list.iter().any(|w| match rpc {
        Rpc::Code(c) => w.parse::<i32>() == Ok(c),
        Rpc::Grpc(name) => w == name || w.rsplit('.').next() == Some(name),
    })
}

impl Auth {
    pub fn new(settings: AuthSettings, store: Arc<AuthStore>) -> Arc<Auth> {
        tracing::info!(
            authentication = settings.authentication,
            authorization = settings.authorization,
            users = store.tables().users.len(),
            "ACL 2.0 enabled: users and ACLs are managed with mqadmin createUser/createAcl"
        );
        Arc::new(Auth {
            authn_white: list(&settings.authentication_whitelist),
            authz_white: list(&settings.authorization_whitelist),
            settings,
            store,
        })
    }

    /// The users and ACLs.
    pub fn store(&self) -> &AuthStore {
        &self.store
    }

    /// The decision for one request of either protocol (see `Acl::decide` for the arguments).
    pub fn decide(
        &self,
        peer: IpAddr,
        rpc: Rpc<'_>,
        what: &dyn Fn() -> String,
        access_key: Option<&str>,
        verify: &dyn Fn(&str) -> bool,
        needed: &dyn Fn() -> Result<Needed, String>,
    ) -> Result<(), Refusal> {
        use Refusal::{Forbidden, Unauthenticated};
        let authn = self.settings.authentication && !listed(&self.authn_white, rpc);
        let authz = self.settings.authorization && !listed(&self.authz_white, rpc);
        if !authn && !authz {
            return Ok(());
        }
        let Some(name) = access_key else {
            let what = what();
            return Err(Unauthenticated(format!(
                "ACL 2.0: {what} names no user (no AccessKey); sign requests as a user of this \
                 broker (Java: AclClientRPCHook; rmq: credentials in the client options; 5.x \
                 clients: a SessionCredentialsProvider)"
            )));
        };
        let tables = self.store.tables();
        let Some(user) = tables.users.get(name) else {
            return Err(Unauthenticated(format!(
                "ACL 2.0: no user {name} on this broker (mqadmin listUser shows them)"
            )));
        };
        if user.status == UserStatus::Disable {
            return Err(Unauthenticated(format!("ACL 2.0: user {name} is disabled")));
        }
        if authn && !verify(&user.password) {
            return Err(Unauthenticated(format!(
                "ACL 2.0: signature check failed for user {name}: the request was not signed \
                 with this user's password"
            )));
        }
        if !authz || user.kind == UserType::Super {
            return Ok(());
        }
        let needed = needed().map_err(|e| Forbidden(format!("ACL 2.0: {e}")))?;
        let rule = tables.acls.get(&model::subject_of(name));
        for need in needed.resources.iter().filter(|n| !n.actions.is_empty()) {
            let (kind, res_name) = match &need.resource {
                Resource::Topic(t) => (Kind::Topic, t.as_str()),
                Resource::Group(g) => (Kind::Group, g.as_str()),
                Resource::Cluster => (Kind::Cluster, self.settings.cluster.as_str()),
            };
            let key = || match kind {
                Kind::Topic => format!("Topic:{res_name}"),
                Kind::Group => format!("Group:{res_name}"),
                _ => format!("Cluster:{res_name}"),
            };
            let best = rule.and_then(|rule| {
                [PolicyType::Custom, PolicyType::Default]
                    .iter()
                    .filter_map(|want| {
                        let entries = &rule.policies.iter().find(|(k, _)| k == want)?.1;
                        entries
                            .iter()
                            .filter(|e| {
                                e.resource.matches(kind, res_name)
                                    && e.actions.grants(need.actions)
                                    && e.matches_source(peer)
                            })
                            .min_by_key(|e| (e.resource.rank(), e.decision != Decision::Deny))
                    })
                    .next()
            });
            match best {
                Some(e) if e.decision == Decision::Allow => {}
                Some(e) => {
                    return Err(Forbidden(format!(
                        "ACL 2.0: User:{name} has no permission to {} {} from {peer}: the entry \
                         for {} denies it",
                        need.actions,
                        key(),
                        e.resource
                    )))
                }
                None => {
                    return Err(Forbidden(format!(
                        "ACL 2.0: User:{name} has no permission to {} {} from {peer}: no entry \
                         of its ACL allows it (mqadmin createAcl -s User:{name} -r {} -a {} -d \
                         Allow)",
                        need.actions,
                        key(),
                        key(),
                        need.actions.names().first().copied().unwrap_or("Get")
                    )))
                }
            }
        }
        Ok(())
    }
}

/// The users the configuration asks for at start (`initAuthenticationUser`,
/// `innerClientAuthenticationCredentials`), created as `Super` when absent.
pub fn ensure_start_users(store: &AuthStore, users: &[User]) -> Result<(), StoreError> {
    for user in users {
        if store.ensure_user(User {
            kind: UserType::Super,
            ..user.clone()
        })? {
            tracing::info!(user = %user.name, "ACL 2.0: created the start-up super user");
        }
    }
    Ok(())
}
