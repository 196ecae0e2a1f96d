//! Which access control a broker runs: ACL 1.0 (`aclEnable`, `plain_acl.yml`) or ACL 2.0
//! (`authenticationEnabled`, `authorizationEnabled`, users and ACLs managed with `mqadmin`),
//! never both; and the remoting server's guard that asks it about every request.

use std::net::IpAddr;
use std::sync::Arc;

use rmq_remoting::protocol::signature::{self, ACCESS_KEY};
use rmq_remoting::{ProcessError, RemotingCommand, RequestContext, RequestGuard, ResponseCode};

use super::v2::{self, AuthSettings, AuthStore, Rpc};
use super::{resources, Acl, Needed, Refusal};
use crate::config::BrokerConfig;
use crate::BrokerError;

/// The access control in force: ACL 1.0 (`aclEnable`) or ACL 2.0 (`authenticationEnabled`,
/// `authorizationEnabled`).
#[derive(Debug, Clone)]
pub enum Gate {
    V1(Arc<Acl>),
    V2(Arc<v2::Auth>),
}

impl Gate {
    /// The decision for one request of either protocol (see [`Acl::decide`]); `rpc` is what
    /// ACL 2.0's whitelists name.
    pub fn decide(
        &self,
        peer: IpAddr,
        rpc: Rpc<'_>,
        what: &dyn Fn() -> String,
        access_key: Option<&str>,
        verify: &dyn Fn(&str) -> bool,
        needed: &dyn Fn() -> Result<Needed, String>,
    ) -> Result<(), Refusal> {
        match self {
            Gate::V1(acl) => acl.decide(peer, what, access_key, verify, needed),
            Gate::V2(auth) => auth.decide(peer, rpc, what, access_key, verify, needed),
        }
    }

    /// Whether the remoting `request` from `peer` may proceed.
    pub fn check(&self, peer: IpAddr, request: &RemotingCommand) -> Result<(), Refusal> {
        self.decide(
            peer,
            Rpc::Code(request.code),
            &|| request.request_code().to_string(),
            request.ext_fields.get(ACCESS_KEY),
            &|secret| signature::verify(request, secret),
            &|| resources::needed(request),
        )
    }
}

/// The remoting server's guard: refusals answer NO_PERMISSION with the reason.
pub struct Guard(pub Gate);

impl RequestGuard for Guard {
    fn check(&self, ctx: &RequestContext, request: &RemotingCommand) -> Result<(), ProcessError> {
        self.0
            .check(ctx.peer_addr().ip(), request)
            .map_err(|refusal| {
                let remark = refusal.to_string();
                tracing::debug!(peer = %ctx.peer_addr(), %remark, "request refused");
                ProcessError::response(ResponseCode::NoPermission, remark)
            })
    }
}

/// The gate `config` asks for; ACL 2.0's start-up users are created in `store` first.
pub fn gate_for(
    config: &BrokerConfig,
    store: &Arc<AuthStore>,
) -> Result<Option<Gate>, BrokerError> {
    if config.acl_enable && config.auth_v2() {
        return Err(BrokerError::Auth(
            "aclEnable=true (ACL 1.0, plain_acl.yml) and authenticationEnabled or \
             authorizationEnabled (ACL 2.0) are both set; turn one of them off"
                .into(),
        ));
    }
    let users: Vec<_> = [config.init_user(), config.inner_client_user()]
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(BrokerError::Auth)?
        .into_iter()
        .flatten()
        .collect();
    v2::ensure_start_users(store, &users).map_err(|e| BrokerError::Auth(e.to_string()))?;
    if config.acl_enable {
        return Ok(Some(Gate::V1(Acl::load(&config.acl_file_path())?)));
    }
    if !config.auth_v2() {
        return Ok(None);
    }
    if store.tables().users.is_empty() {
        tracing::warn!(
            "ACL 2.0 is on but this broker has no users: every request will be refused; set \
             initAuthenticationUser={{\"username\":\"…\",\"password\":\"…\"}} to create a \
             super user at start"
        );
    }
    let settings = AuthSettings {
        authentication: config.authentication_enabled,
        authorization: config.authorization_enabled,
        authentication_whitelist: config.authentication_whitelist.clone(),
        authorization_whitelist: config.authorization_whitelist.clone(),
        cluster: config.broker_cluster_name.clone(),
    };
    Ok(Some(Gate::V2(v2::Auth::new(settings, store.clone()))))
}
