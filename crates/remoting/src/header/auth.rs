//! ACL 2.0 admin headers (AUTH_CREATE_USER 3001 … AUTH_LIST_ACL 3010): users are named by
//! `username`, ACLs by their subject (`User:name`). The bodies are in `body::auth`.

crate::command_header! {
    /// `CreateUserRequestHeader`, `UpdateUserRequestHeader`, `DeleteUserRequestHeader` and
    /// `GetUserRequestHeader` (AUTH_CREATE_USER 3001 … AUTH_GET_USER 3004): one field each.
    pub struct UserRequestHeader: "UserRequestHeader" {
        opt username: String = "username",
    }
}

crate::command_header! {
    /// `ListUsersRequestHeader` (AUTH_LIST_USER, 3005).
    pub struct ListUsersRequestHeader: "ListUsersRequestHeader" {
        /// Users whose name contains it; all when absent.
        opt filter: String = "filter",
    }
}

crate::command_header! {
    /// `CreateAclRequestHeader`, `UpdateAclRequestHeader` and `GetAclRequestHeader`
    /// (AUTH_CREATE_ACL 3006, AUTH_UPDATE_ACL 3007, AUTH_GET_ACL 3009).
    pub struct AclRequestHeader: "AclRequestHeader" {
        /// `User:name`.
        opt subject: String = "subject",
    }
}

crate::command_header! {
    /// `DeleteAclRequestHeader` (AUTH_DELETE_ACL, 3008): the whole ACL of the subject, or only
    /// its entry for `resource`.
    pub struct DeleteAclRequestHeader: "DeleteAclRequestHeader" {
        opt subject: String = "subject",
        /// `Custom` (the default) or `Default`.
        opt policy_type: String = "policyType",
        /// `Topic:T`, `Group:G*`, `*` …
        opt resource: String = "resource",
    }
}

crate::command_header! {
    /// `ListAclsRequestHeader` (AUTH_LIST_ACL, 3010).
    pub struct ListAclsRequestHeader: "ListAclsRequestHeader" {
        /// ACLs whose subject contains it.
        opt subject_filter: String = "subjectFilter",
        /// ACLs with an entry whose resource contains it.
        opt resource_filter: String = "resourceFilter",
    }
}
