//! The name servers' KV config (PUT_KV_CONFIG 100, GET_KV_CONFIG 101, DELETE_KV_CONFIG 102,
//! GET_KVLIST_BY_NAMESPACE 219). Writes go to every name server, because each keeps its own
//! table; reads ask the first that answers, as Java's admin does.

use std::collections::BTreeMap;

use rmq_remoting::body::KVTable;
use rmq_remoting::header::{
    DeleteKVConfigRequestHeader, GetKVConfigRequestHeader, GetKVConfigResponseHeader,
    GetKVListByNamespaceRequestHeader, PutKVConfigRequestHeader,
};
use rmq_remoting::{RequestCode, ResponseCode};

use super::rpc::request;
use super::Admin;
use crate::error::Result;

impl Admin {
    /// PUT_KV_CONFIG (100) on every name server.
    pub async fn put_kv_config(&self, namespace: &str, key: &str, value: &str) -> Result<()> {
        let h = PutKVConfigRequestHeader {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
            ..Default::default()
        };
        self.call_every_namesrv(request(RequestCode::PutKvConfig, &h))
            .await
    }

    /// GET_KV_CONFIG (101); `None` when the key is not set.
    pub async fn get_kv_config(&self, namespace: &str, key: &str) -> Result<Option<String>> {
        let h = GetKVConfigRequestHeader {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            ..Default::default()
        };
        let req = request(RequestCode::GetKvConfig, &h);
        match self
            .call_namesrv_or_absent(req, &[ResponseCode::QueryNotFound])
            .await?
        {
            Some(reply) => Ok(reply.header::<GetKVConfigResponseHeader>()?.value),
            None => Ok(None),
        }
    }

    /// DELETE_KV_CONFIG (102) on every name server.
    pub async fn delete_kv_config(&self, namespace: &str, key: &str) -> Result<()> {
        let h = DeleteKVConfigRequestHeader {
            namespace: namespace.to_owned(),
            key: key.to_owned(),
            ..Default::default()
        };
        self.call_every_namesrv(request(RequestCode::DeleteKvConfig, &h))
            .await
    }

    /// GET_KVLIST_BY_NAMESPACE (219): every key of a namespace (empty when it has none).
    pub async fn kv_list(&self, namespace: &str) -> Result<BTreeMap<String, String>> {
        let h = GetKVListByNamespaceRequestHeader {
            namespace: namespace.to_owned(),
            ..Default::default()
        };
        let req = request(RequestCode::GetKvlistByNamespace, &h);
        match self
            .call_namesrv_or_absent(req, &[ResponseCode::QueryNotFound])
            .await?
        {
            Some(reply) => Ok(reply.body::<KVTable>()?.table),
            None => Ok(BTreeMap::new()),
        }
    }
}
