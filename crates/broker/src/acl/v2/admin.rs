//! The ACL 2.0 management codes (AUTH_CREATE_USER 3001 … AUTH_LIST_ACL 3010), as Apache's
//! `AdminBrokerProcessor` answers them. They work whether or not ACL 2.0 is enabled, so users
//! can be prepared before it is turned on. Only a `Super` caller may create, change or delete a
//! `Super` user (a caller without an AccessKey counts as one: authentication is off).

use std::sync::Arc;

use rmq_remoting::body::{AclInfo, JsonBody, UserInfo};
use rmq_remoting::header::{
    AclRequestHeader, DeleteAclRequestHeader, ListAclsRequestHeader, ListUsersRequestHeader,
    UserRequestHeader,
};
use rmq_remoting::protocol::signature::ACCESS_KEY;
use rmq_remoting::transport::{ProcessError, ProcessResult};
use rmq_remoting::{RemotingCommand, RemotingServer, RequestCode, ResponseCode};

use super::model::{self, Pattern, Rule, User, UserType};
use super::store::{AuthStore, StoreError};
use crate::context::BrokerContext;

fn refused(e: StoreError) -> ProcessError {
    let code = match &e {
        StoreError::Invalid(_) | StoreError::Exists(_) => ResponseCode::InvalidParameter,
        StoreError::NoUser(_) => ResponseCode::UserNotExist,
        StoreError::NoAcl(_) => ResponseCode::PolicyNotExist,
        StoreError::Disk(_) => ResponseCode::SystemError,
    };
    if let StoreError::Disk(e) = &e {
        tracing::error!(error = %e, "ACL 2.0 change not saved");
    }
    ProcessError::response(code, e.to_string())
}

fn invalid(text: impl Into<String>) -> ProcessError {
    ProcessError::response(ResponseCode::InvalidParameter, text)
}

fn ok(req: &RemotingCommand) -> ProcessResult {
    Ok(Some(req.response_to(ResponseCode::Success)))
}

fn ok_body(req: &RemotingCommand, body: bytes::Bytes) -> ProcessResult {
    Ok(Some(req.response_to(ResponseCode::Success).with_body(body)))
}

/// Whether the caller may touch super users: no AccessKey (authentication off) or a super user.
fn caller_may_touch_super(store: &AuthStore, req: &RemotingCommand) -> bool {
    req.ext_fields
        .get(ACCESS_KEY)
        .is_none_or(|ak| store.is_super(ak))
}

fn username(req: &RemotingCommand) -> Result<String, ProcessError> {
    let h: UserRequestHeader = req.decode_header()?;
    let name = h.username.unwrap_or_default().trim().to_owned();
    match name.is_empty() {
        true => Err(invalid("the username is blank")),
        false => Ok(name),
    }
}

fn user_body(req: &RemotingCommand, name: &str) -> Result<UserInfo, ProcessError> {
    let mut info = match req.body.is_empty() {
        true => UserInfo::default(),
        false => UserInfo::from_json_bytes(&req.body)
            .map_err(|e| invalid(format!("the UserInfo body cannot be read: {e}")))?,
    };
    info.username = Some(name.to_owned());
    Ok(info)
}

fn super_refusal(action: &str) -> ProcessError {
    ProcessError::response(
        ResponseCode::NoPermission,
        format!("ACL 2.0: only a Super user may {action} a Super user"),
    )
}

fn create_user(store: &AuthStore, req: RemotingCommand) -> ProcessResult {
    let name = username(&req)?;
    let user = User::from_info(&user_body(&req, &name)?).map_err(invalid)?;
    if user.kind == UserType::Super && !caller_may_touch_super(store, &req) {
        return Err(super_refusal("create"));
    }
    store.create_user(user).map_err(refused)?;
    tracing::info!(user = %name, "ACL 2.0: user created");
    ok(&req)
}

fn update_user(store: &AuthStore, req: RemotingCommand) -> ProcessResult {
    let name = username(&req)?;
    let info = user_body(&req, &name)?;
    let makes_super = info.user_type.as_deref().map(model::user_type).transpose();
    let makes_super = makes_super.map_err(invalid)? == Some(UserType::Super);
    if (makes_super || store.is_super(&name)) && !caller_may_touch_super(store, &req) {
        return Err(super_refusal("update"));
    }
    store.update_user(&info).map_err(refused)?;
    tracing::info!(user = %name, "ACL 2.0: user updated");
    ok(&req)
}

fn delete_user(store: &AuthStore, req: RemotingCommand) -> ProcessResult {
    let name = username(&req)?;
    if store.is_super(&name) && !caller_may_touch_super(store, &req) {
        return Err(super_refusal("delete"));
    }
    store.delete_user(&name).map_err(refused)?;
    tracing::info!(user = %name, "ACL 2.0: user deleted with its ACL");
    ok(&req)
}

fn get_user(store: &AuthStore, req: RemotingCommand) -> ProcessResult {
    let name = username(&req)?;
    match store.user(&name) {
        Some(user) => ok_body(&req, user.to_info().to_json_bytes()),
        None => ok(&req),
    }
}

fn list_users(store: &AuthStore, req: RemotingCommand) -> ProcessResult {
    let h: ListUsersRequestHeader = req.decode_header()?;
    let users: Vec<UserInfo> = store
        .list_users(h.filter.as_deref().unwrap_or(""))
        .iter()
        .map(User::to_info)
        .collect();
    ok_body(&req, users.to_json_bytes())
}

fn put_acl(store: &AuthStore, req: RemotingCommand) -> ProcessResult {
    let h: AclRequestHeader = req.decode_header()?;
    let subject = h.subject.unwrap_or_default();
    if req.body.is_empty() {
        return Err(invalid("the AclInfo body is empty"));
    }
    let info = AclInfo::from_json_bytes(&req.body)
        .map_err(|e| invalid(format!("the AclInfo body cannot be read: {e}")))?;
    let rule = Rule::from_info(&info, &subject).map_err(invalid)?;
    let who = rule.subject.clone();
    store.put_acl(rule).map_err(refused)?;
    tracing::info!(subject = %who, "ACL 2.0: ACL written");
    ok(&req)
}

fn delete_acl(store: &AuthStore, req: RemotingCommand) -> ProcessResult {
    let h: DeleteAclRequestHeader = req.decode_header()?;
    let subject = h.subject.unwrap_or_default();
    let kind = match h.policy_type.as_deref().filter(|s| !s.is_empty()) {
        Some(t) => model::policy_type(t).map_err(invalid)?,
        None => model::PolicyType::Custom,
    };
    let resource = match h.resource.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => Some(Pattern::parse(r).map_err(invalid)?),
        None => None,
    };
    store
        .delete_acl(&subject, kind, resource.as_ref())
        .map_err(refused)?;
    tracing::info!(%subject, "ACL 2.0: ACL deleted");
    ok(&req)
}

fn get_acl(store: &AuthStore, req: RemotingCommand) -> ProcessResult {
    let h: AclRequestHeader = req.decode_header()?;
    let subject = h.subject.unwrap_or_default();
    let user = model::user_of_subject(&subject).map_err(invalid)?;
    if store.user(user).is_none() {
        return Err(refused(StoreError::NoUser(format!(
            "no user {user} on this broker"
        ))));
    }
    match store.acl(&model::subject_of(user)) {
        Some(rule) => ok_body(&req, rule.to_info().to_json_bytes()),
        None => ok(&req),
    }
}

fn list_acls(store: &AuthStore, req: RemotingCommand) -> ProcessResult {
    let h: ListAclsRequestHeader = req.decode_header()?;
    let acls: Vec<AclInfo> = store
        .list_acls(
            h.subject_filter.as_deref().unwrap_or(""),
            h.resource_filter.as_deref().unwrap_or(""),
        )
        .iter()
        .map(Rule::to_info)
        .collect();
    ok_body(&req, acls.to_json_bytes())
}

/// Routes the ten AUTH_* codes to `store`.
pub(crate) fn register(
    server: &mut RemotingServer,
    ctx: &Arc<BrokerContext>,
    store: Arc<AuthStore>,
) {
    type Handler = fn(&AuthStore, RemotingCommand) -> ProcessResult;
    let table: [(RequestCode, Handler); 10] = [
        (RequestCode::AuthCreateUser, create_user),
        (RequestCode::AuthUpdateUser, update_user),
        (RequestCode::AuthDeleteUser, delete_user),
        (RequestCode::AuthGetUser, get_user),
        (RequestCode::AuthListUser, list_users),
        (RequestCode::AuthCreateAcl, put_acl),
        (RequestCode::AuthUpdateAcl, put_acl),
        (RequestCode::AuthDeleteAcl, delete_acl),
        (RequestCode::AuthGetAcl, get_acl),
        (RequestCode::AuthListAcl, list_acls),
    ];
    for (code, handler) in table {
        let store = store.clone();
        crate::processor::route(server, ctx, code, move |_ctx, _rc, req| {
            let out = handler(&store, req);
            async move { out }
        });
    }
}
