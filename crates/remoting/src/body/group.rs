//! Consumer group configs on the wire: `SubscriptionGroupConfig` (the body of
//! UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, 200) and `SubscriptionGroupWrapper` (the body of
//! GET_ALL_SUBSCRIPTIONGROUP_CONFIG, 201, and the broker's `subscriptionGroup.json`).
//!
//! One definition serves the broker (which stores and answers them), the client's `Admin` (which
//! sends and reads them) and `mqadmin`, so the JSON names and Java defaults are written once.
//! Fields are alphabetical, as fastjson writes them; the 5.x extras this crate does not interpret
//! (`groupRetryPolicy`, `subscriptionDataSet`, `forbiddenTable`) are carried opaquely.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::lenient;
use super::register::DataVersion;
use crate::json::JsonBody;

/// `SubscriptionGroupConfig` with Apache's JSON names and defaults (protocol.md 2.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupConfig {
    /// Group attributes (`+key=value` settings).
    pub attributes: BTreeMap<String, String>,
    /// Broker id to consume from (0 = master).
    #[serde(deserialize_with = "lenient::long")]
    pub broker_id: i64,
    /// Whether broadcast consumption is allowed.
    #[serde(deserialize_with = "lenient::boolean")]
    pub consume_broadcast_enable: bool,
    /// Whether the group may consume at all.
    #[serde(deserialize_with = "lenient::boolean")]
    pub consume_enable: bool,
    /// Whether a new group starts from the queue's minimum offset.
    #[serde(deserialize_with = "lenient::boolean")]
    pub consume_from_min_enable: bool,
    /// Whether the group consumes in order.
    #[serde(deserialize_with = "lenient::boolean")]
    pub consume_message_orderly: bool,
    /// Minutes before a message being consumed counts as timed out.
    #[serde(deserialize_with = "lenient::int")]
    pub consume_timeout_minute: i32,
    /// The group's name.
    #[serde(deserialize_with = "lenient::string")]
    pub group_name: String,
    /// 5.x retry policy (`{"type":"CUSTOMIZED",...}`), carried as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_retry_policy: Option<serde_json::Value>,
    /// System flag bits of the group.
    #[serde(deserialize_with = "lenient::int")]
    pub group_sys_flag: i32,
    /// Whether consumers are told when the group's members change.
    #[serde(deserialize_with = "lenient::boolean")]
    pub notify_consumer_ids_changed_enable: bool,
    /// Times a message is retried before it goes to the DLQ.
    #[serde(deserialize_with = "lenient::int")]
    pub retry_max_times: i32,
    /// Number of retry queues.
    #[serde(deserialize_with = "lenient::int")]
    pub retry_queue_nums: i32,
    /// 5.x static subscriptions of the group, carried as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_data_set: Option<serde_json::Value>,
    /// Broker id to consume from when consumption is slow.
    #[serde(deserialize_with = "lenient::long")]
    pub which_broker_when_consume_slowly: i64,
}

impl Default for SubscriptionGroupConfig {
    fn default() -> Self {
        SubscriptionGroupConfig {
            attributes: BTreeMap::new(),
            broker_id: 0,
            consume_broadcast_enable: true,
            consume_enable: true,
            consume_from_min_enable: true,
            consume_message_orderly: false,
            consume_timeout_minute: 15,
            group_name: String::new(),
            group_retry_policy: None,
            group_sys_flag: 0,
            notify_consumer_ids_changed_enable: true,
            retry_max_times: 16,
            retry_queue_nums: 1,
            subscription_data_set: None,
            which_broker_when_consume_slowly: 1,
        }
    }
}

impl SubscriptionGroupConfig {
    /// A config for `group` with Java's defaults.
    pub fn new(group: impl Into<String>) -> Self {
        SubscriptionGroupConfig {
            group_name: group.into(),
            ..Default::default()
        }
    }
}
impl JsonBody for SubscriptionGroupConfig {}

/// `SubscriptionGroupWrapper`: every group config of a broker with its data version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionGroupWrapper {
    /// Version of the table, bumped on every change.
    pub data_version: DataVersion,
    /// 5.x per-group, per-topic forbidden bits, carried as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forbidden_table: Option<serde_json::Value>,
    /// Group name to config.
    pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
}
impl JsonBody for SubscriptionGroupWrapper {}
