//! ACL 2.0 users and ACLs (AUTH_CREATE_USER 3001 … AUTH_LIST_ACL 3010). Each broker keeps its
//! own users and ACLs, as Apache's do, so every call names one broker; `mqadmin -c` loops over
//! a cluster's brokers.

use rmq_remoting::body::{AclInfo, JsonBody, UserInfo};
use rmq_remoting::header::{
    AclRequestHeader, DeleteAclRequestHeader, ListAclsRequestHeader, ListUsersRequestHeader,
    UserRequestHeader,
};
use rmq_remoting::RequestCode;

use super::rpc::request;
use super::Admin;
use crate::error::Result;

fn user_header(username: &str) -> UserRequestHeader {
    UserRequestHeader {
        username: Some(username.to_owned()),
    }
}

fn acl_header(subject: &str) -> AclRequestHeader {
    AclRequestHeader {
        subject: Some(subject.to_owned()),
    }
}

/// `filter` as an optional header field (empty: none).
fn some(filter: &str) -> Option<String> {
    (!filter.is_empty()).then(|| filter.to_owned())
}

impl Admin {
    /// AUTH_CREATE_USER (3001); the user's name is `user.username`.
    pub async fn create_user(&self, addr: &str, user: &UserInfo) -> Result<()> {
        let h = user_header(user.username.as_deref().unwrap_or(""));
        let req = request(RequestCode::AuthCreateUser, &h).with_body(user.to_json_bytes());
        self.call(addr, req).await.map(drop)
    }

    /// AUTH_UPDATE_USER (3002): the fields of `user` that are set replace the stored ones.
    pub async fn update_user(&self, addr: &str, user: &UserInfo) -> Result<()> {
        let h = user_header(user.username.as_deref().unwrap_or(""));
        let req = request(RequestCode::AuthUpdateUser, &h).with_body(user.to_json_bytes());
        self.call(addr, req).await.map(drop)
    }

    /// AUTH_DELETE_USER (3003), with the user's ACL.
    pub async fn delete_user(&self, addr: &str, username: &str) -> Result<()> {
        let req = request(RequestCode::AuthDeleteUser, &user_header(username));
        self.call(addr, req).await.map(drop)
    }

    /// AUTH_GET_USER (3004); `None` when the broker has no such user.
    pub async fn get_user(&self, addr: &str, username: &str) -> Result<Option<UserInfo>> {
        let req = request(RequestCode::AuthGetUser, &user_header(username));
        let reply = self.call(addr, req).await?;
        match reply.raw().is_empty() {
            true => Ok(None),
            false => reply.body().map(Some),
        }
    }

    /// AUTH_LIST_USER (3005): users whose name contains `filter` (all when empty).
    pub async fn list_users(&self, addr: &str, filter: &str) -> Result<Vec<UserInfo>> {
        let h = ListUsersRequestHeader {
            filter: some(filter),
        };
        let reply = self
            .call(addr, request(RequestCode::AuthListUser, &h))
            .await?;
        match reply.raw().is_empty() {
            true => Ok(Vec::new()),
            false => reply.body(),
        }
    }

    /// AUTH_CREATE_ACL (3006): adds `acl`'s entries to its subject's ACL (an entry for a
    /// resource already there replaces it).
    pub async fn create_acl(&self, addr: &str, acl: &AclInfo) -> Result<()> {
        let h = acl_header(acl.subject.as_deref().unwrap_or(""));
        let req = request(RequestCode::AuthCreateAcl, &h).with_body(acl.to_json_bytes());
        self.call(addr, req).await.map(drop)
    }

    /// AUTH_UPDATE_ACL (3007): as [`create_acl`](Self::create_acl), Apache's other name for it.
    pub async fn update_acl(&self, addr: &str, acl: &AclInfo) -> Result<()> {
        let h = acl_header(acl.subject.as_deref().unwrap_or(""));
        let req = request(RequestCode::AuthUpdateAcl, &h).with_body(acl.to_json_bytes());
        self.call(addr, req).await.map(drop)
    }

    /// AUTH_DELETE_ACL (3008): the subject's entry for `resource`, or its whole ACL when
    /// `resource` is empty.
    pub async fn delete_acl(&self, addr: &str, subject: &str, resource: &str) -> Result<()> {
        let h = DeleteAclRequestHeader {
            subject: Some(subject.to_owned()),
            policy_type: None,
            resource: some(resource),
        };
        self.call(addr, request(RequestCode::AuthDeleteAcl, &h))
            .await
            .map(drop)
    }

    /// AUTH_GET_ACL (3009); `None` when the subject has no ACL.
    pub async fn get_acl(&self, addr: &str, subject: &str) -> Result<Option<AclInfo>> {
        let reply = self
            .call(addr, request(RequestCode::AuthGetAcl, &acl_header(subject)))
            .await?;
        match reply.raw().is_empty() {
            true => Ok(None),
            false => reply.body().map(Some),
        }
    }

    /// AUTH_LIST_ACL (3010): ACLs whose subject contains `subject_filter` and that have an
    /// entry whose resource contains `resource_filter` (empty filters match all).
    pub async fn list_acls(
        &self,
        addr: &str,
        subject_filter: &str,
        resource_filter: &str,
    ) -> Result<Vec<AclInfo>> {
        let h = ListAclsRequestHeader {
            subject_filter: some(subject_filter),
            resource_filter: some(resource_filter),
        };
        let reply = self
            .call(addr, request(RequestCode::AuthListAcl, &h))
            .await?;
        match reply.raw().is_empty() {
            true => Ok(Vec::new()),
            false => reply.body(),
        }
    }
}
