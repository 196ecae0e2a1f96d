//! ACL 1.0's `GetBrokerClusterAclConfigResponseBody` (GET_BROKER_CLUSTER_ACL_CONFIG, 54): the
//! accounts and global white addresses of a broker's `plain_acl.yml`.

use serde::{Deserialize, Serialize};

use crate::json::JsonBody;

/// `PlainAccessConfig`: one account of `plain_acl.yml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlainAccessConfig {
    pub access_key: String,
    pub admin: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_group_perm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_topic_perm: Option<String>,
    /// `NAME=PERM` entries.
    pub group_perms: Vec<String>,
    pub secret_key: String,
    pub topic_perms: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub white_remote_address: Option<String>,
}

/// `GetBrokerClusterAclConfigResponseBody`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetBrokerClusterAclConfigResponseBody {
    pub global_white_addrs: Vec<String>,
    pub plain_access_configs: Vec<PlainAccessConfig>,
}
impl JsonBody for GetBrokerClusterAclConfigResponseBody {}
