//! ACL 2.0 bodies: `UserInfo` (AUTH_CREATE_USER … AUTH_LIST_USER) and `AclInfo`
//! (AUTH_CREATE_ACL … AUTH_LIST_ACL), as Apache's admin tools send and read them. Every field
//! is optional on the wire; the broker says which one is missing.

use serde::{Deserialize, Serialize};

use crate::json::JsonBody;

/// `UserInfo`: a user of ACL 2.0. `userType` is `Super` or `Normal`, `userStatus` `enable` or
/// `disable`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}
impl JsonBody for UserInfo {}
impl JsonBody for Vec<UserInfo> {}

/// `AclInfo`: the policies of one subject (`User:name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AclInfo {
    pub policies: Vec<PolicyInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}
impl JsonBody for AclInfo {}
impl JsonBody for Vec<AclInfo> {}

/// `AclInfo.PolicyInfo`: `Custom` (written by operators) or `Default` entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyInfo {
    pub entries: Vec<PolicyEntryInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<String>,
}

/// `AclInfo.PolicyEntryInfo`: one resource (`Topic:T`, `Group:G*`, `Cluster:C`, `*`), the
/// actions (`Pub`, `Sub`, `Create`, `Update`, `Delete`, `Get`, `List`, `All`), the source
/// addresses (IPs or CIDRs; any when empty) and `Allow` or `Deny`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyEntryInfo {
    pub actions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apache_shapes_decode() {
        let user = UserInfo::from_json_bytes(
            br#"{"username":"alice","password":"pw","userType":"Normal"}"#,
        )
        .unwrap();
        assert_eq!(user.username.as_deref(), Some("alice"));
        assert_eq!(user.user_status, None);
        let acl = AclInfo::from_json_bytes(
            br#"{"subject":"User:alice","policies":[{"entries":[{"resource":"Topic:T","actions":["Pub","Sub"],"sourceIps":["10.0.0.0/8"],"decision":"Allow"}]}]}"#,
        )
        .unwrap();
        assert_eq!(acl.policies[0].entries[0].actions, ["Pub", "Sub"]);
        let list =
            Vec::<UserInfo>::from_json_bytes(br#"[{"username":"a"},{"username":"b"}]"#).unwrap();
        assert_eq!(list.len(), 2);
        let text = String::from_utf8(user.to_json_bytes().to_vec()).unwrap();
        assert_eq!(
            text,
            r#"{"password":"pw","userType":"Normal","username":"alice"}"#
        );
    }
}
