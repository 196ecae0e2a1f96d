//! ACL 1.0: a broker's `plain_acl.yml`, edited and read through the broker
//! (UPDATE_AND_CREATE_ACL_CONFIG 50 … GET_BROKER_CLUSTER_ACL_CONFIG 54), as Apache 4.x's
//! `mqadmin updateAclConfig` and friends do. Each broker has its own file; every call names one.

use rmq_remoting::body::GetBrokerClusterAclConfigResponseBody;
use rmq_remoting::header::{
    CreateAccessConfigRequestHeader, DeleteAccessConfigRequestHeader,
    GetBrokerAclConfigResponseHeader, UpdateGlobalWhiteAddrsConfigRequestHeader,
};
use rmq_remoting::RequestCode;

use super::rpc::{bare, request};
use super::Admin;
use crate::error::Result;

impl Admin {
    /// UPDATE_AND_CREATE_ACL_CONFIG (50): creates the account `account.access_key`, or changes
    /// the fields of it that are set.
    pub async fn update_acl_config(
        &self,
        addr: &str,
        account: &CreateAccessConfigRequestHeader,
    ) -> Result<()> {
        let req = request(RequestCode::UpdateAndCreateAclConfig, account);
        self.call(addr, req).await.map(drop)
    }

    /// DELETE_ACL_CONFIG (51).
    pub async fn delete_acl_config(&self, addr: &str, access_key: &str) -> Result<()> {
        let h = DeleteAccessConfigRequestHeader {
            access_key: Some(access_key.to_owned()),
        };
        self.call(addr, request(RequestCode::DeleteAclConfig, &h))
            .await
            .map(drop)
    }

    /// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53): replaces `globalWhiteRemoteAddresses`
    /// (comma-separated patterns; empty: none).
    pub async fn update_global_white_addrs(&self, addr: &str, patterns: &str) -> Result<()> {
        let h = UpdateGlobalWhiteAddrsConfigRequestHeader {
            global_white_addrs: Some(patterns.to_owned()),
            acl_file_full_path: None,
        };
        self.call(addr, request(RequestCode::UpdateGlobalWhiteAddrsConfig, &h))
            .await
            .map(drop)
    }

    /// GET_BROKER_CLUSTER_ACL_INFO (52): the version of the broker's rules.
    pub async fn acl_config_version(&self, addr: &str) -> Result<GetBrokerAclConfigResponseHeader> {
        self.call(addr, bare(RequestCode::GetBrokerClusterAclInfo))
            .await?
            .header()
    }

    /// GET_BROKER_CLUSTER_ACL_CONFIG (54): the accounts (with their secrets) and global white
    /// addresses in force.
    pub async fn acl_config(&self, addr: &str) -> Result<GetBrokerClusterAclConfigResponseBody> {
        self.call(addr, bare(RequestCode::GetBrokerClusterAclConfig))
            .await?
            .body()
    }
}
