//! Broker-level calls: runtime figures (GET_BROKER_RUNTIME_INFO 28), one statistic of a topic
//! or group (VIEW_BROKER_STATS_DATA 315) and the broker's config (GET_BROKER_CONFIG 26,
//! UPDATE_BROKER_CONFIG 25). Config travels as `.properties` text, as
//! Java's `MixAll.properties2String` writes it, and comes back as a sorted map.

use std::collections::BTreeMap;

use rmq_common::config::parse_properties;
use rmq_remoting::body::{BrokerStatsData, KVTable};
use rmq_remoting::header::ViewBrokerStatsDataRequestHeader;
use rmq_remoting::RequestCode;

use super::rpc::{bare, request};
use super::Admin;
use crate::error::Result;

impl Admin {
    /// GET_BROKER_RUNTIME_INFO (28): the broker's runtime figures (`putTps`, `brokerVersionDesc`,
    /// `commitLogDiskRatio`, ...).
    pub async fn broker_runtime_info(&self, addr: &str) -> Result<BTreeMap<String, String>> {
        let reply = self
            .call(addr, bare(RequestCode::GetBrokerRuntimeInfo))
            .await?;
        Ok(reply.body::<KVTable>()?.table)
    }

    /// VIEW_BROKER_STATS_DATA (315): one statistic of the broker at `addr` over the last
    /// minute, hour and day — `stats_name` as Apache names them (`TOPIC_PUT_NUMS` with a topic as
    /// `stats_key`, `GROUP_GET_NUMS` with `topic@group`, ...). A key the broker has not counted
    /// yet is a [`ClientError::Broker`](crate::ClientError::Broker) SYSTEM_ERROR ("The stats
    /// <NAME> <KEY> not exist"), as from Apache's brokers.
    pub async fn broker_stats(
        &self,
        addr: &str,
        stats_name: &str,
        stats_key: &str,
    ) -> Result<BrokerStatsData> {
        let h = ViewBrokerStatsDataRequestHeader {
            stats_name: stats_name.to_owned(),
            stats_key: stats_key.to_owned(),
            ..Default::default()
        };
        self.call(addr, request(RequestCode::ViewBrokerStatsData, &h))
            .await?
            .body()
    }

    /// GET_BROKER_CONFIG (26): the broker's effective configuration.
    pub async fn broker_config(&self, addr: &str) -> Result<BTreeMap<String, String>> {
        let reply = self.call(addr, bare(RequestCode::GetBrokerConfig)).await?;
        let text = String::from_utf8_lossy(reply.raw());
        Ok(parse_properties(&text).into_iter().collect())
    }

    /// DELETE_EXPIRED_COMMITLOG (329): the broker at `addr` deletes its expired CommitLog files
    /// now (and what follows them); returns what it says it deleted.
    pub async fn delete_expired_commit_log(&self, addr: &str) -> Result<String> {
        let reply = self
            .call(addr, bare(RequestCode::DeleteExpiredCommitlog))
            .await?;
        Ok(reply.remark().to_owned())
    }

    /// CLEAN_EXPIRED_CONSUMEQUEUE (306): the broker at `addr` deletes the consume-queue files
    /// that point only at deleted CommitLog; returns what it says it deleted.
    pub async fn clean_expired_consume_queues(&self, addr: &str) -> Result<String> {
        let reply = self
            .call(addr, bare(RequestCode::CleanExpiredConsumequeue))
            .await?;
        Ok(reply.remark().to_owned())
    }

    /// UPDATE_BROKER_CONFIG (25): changes the given keys on one broker.
    pub async fn update_broker_config(
        &self,
        addr: &str,
        changes: &BTreeMap<String, String>,
    ) -> Result<()> {
        let req = bare(RequestCode::UpdateBrokerConfig).with_body(properties_text(changes));
        self.call(addr, req).await.map(drop)
    }
}

/// `key=value` lines, as `MixAll.properties2String`.
fn properties_text(map: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(map.len() * 32);
    for (k, v) in map {
        out.push_str(k);
        out.push('=');
        out.push_str(v);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_round_trip() {
        let map: BTreeMap<String, String> = [("brokerName", "b"), ("flushDiskType", "ASYNC_FLUSH")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let text = properties_text(&map);
        assert_eq!(text, "brokerName=b\nflushDiskType=ASYNC_FLUSH\n");
        let back: BTreeMap<String, String> = parse_properties(&text).into_iter().collect();
        assert_eq!(back, map);
    }
}
