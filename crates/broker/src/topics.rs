//! Topic configs of this broker (`TopicConfigManager`): system topics created at start, topics
//! auto-created from the `TBW102` template on first send, admin-created topics; persisted to
//! `config/topics.json` as `{"dataVersion":{..},"topicConfigTable":{name: TopicConfig}}`. Every
//! change bumps the data version so the name servers learn about it at the next registration.

use std::collections::BTreeMap;
use std::path::PathBuf;

use parking_lot::RwLock;
use rmq_common::perm;
use rmq_common::topic::{self, TopicConfig};
use rmq_remoting::body::DataVersion;
use serde::{Deserialize, Serialize};

use rmq_common::time::now_millis;

use crate::group_commit::{Durable, GroupCommit};
use crate::persist;
use crate::registration_wanted::RegistrationWanted;
use crate::BrokerError;

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicsFile {
    #[serde(default)]
    data_version: DataVersion,
    #[serde(default)]
    topic_config_table: BTreeMap<String, TopicConfig>,
}

/// What changed when a topic was looked up for a send.
pub enum TopicLookup {
    Existing(TopicConfig),
    Created(TopicConfig),
}

struct State {
    data_version: DataVersion,
    table: BTreeMap<String, TopicConfig>,
}

pub struct TopicConfigs {
    path: PathBuf,
    state: RwLock<State>,
    /// `topics.json`, written by the persister task ([`crate::group_commit`]).
    commit: GroupCommit,
}

/// Settings that shape the system topics.
pub struct TopicDefaults {
    pub default_topic_queue_nums: i32,
    pub auto_create_topic_enable: bool,
    pub cluster_name: String,
    pub broker_name: String,
    pub cluster_topic_enable: bool,
    pub broker_topic_enable: bool,
    pub delay_levels: i32,
    /// `msgTraceTopicName` when `traceTopicEnable`: created at start, as Apache does.
    pub trace_topic: Option<String>,
}

impl TopicConfigs {
    pub fn load(path: PathBuf, defaults: &TopicDefaults) -> Result<Self, BrokerError> {
        let file: TopicsFile = persist::load_json(&path)?;
        let mut table = file.topic_config_table;
        let rw = perm::READ | perm::WRITE;
        let mut system = vec![
            TopicConfig::new(topic::SELF_TEST_TOPIC, 1, 1, rw),
            TopicConfig::new(
                topic::SCHEDULE_TOPIC,
                defaults.delay_levels,
                defaults.delay_levels,
                rw,
            ),
            TopicConfig::new(topic::RMQ_SYS_TRANS_HALF_TOPIC, 1, 1, rw),
            TopicConfig::new(topic::RMQ_SYS_TRANS_OP_HALF_TOPIC, 1, 1, rw),
            TopicConfig::new(topic::reply_topic(&defaults.cluster_name), 1, 1, rw),
        ];
        if defaults.auto_create_topic_enable {
            let q = defaults.default_topic_queue_nums;
            system.push(TopicConfig::new(
                topic::AUTO_CREATE_TOPIC_KEY,
                q,
                q,
                perm::INHERIT | perm::READ | perm::WRITE,
            ));
        }
        if defaults.cluster_topic_enable {
            let mut c = TopicConfig::new(defaults.cluster_name.clone(), 16, 16, rw);
            c.perm |= perm::INHERIT;
            system.push(c);
        }
        if defaults.broker_topic_enable {
            let mut c = TopicConfig::new(defaults.broker_name.clone(), 1, 1, rw);
            c.perm |= perm::INHERIT;
            system.push(c);
        }
        if let Some(t) = &defaults.trace_topic {
            system.push(TopicConfig::new(t.clone(), 1, 1, rw));
        }
        for c in system {
            table.entry(c.topic_name.clone()).or_insert(c);
        }
        Ok(TopicConfigs {
            commit: GroupCommit::new(path.clone()),
            path,
            state: RwLock::new(State {
                data_version: if file.data_version == DataVersion::default() {
                    DataVersion::new(now_millis())
                } else {
                    file.data_version
                },
                table,
            }),
        })
    }
}

impl TopicConfigs {
    pub fn get(&self, topic: &str) -> Option<TopicConfig> {
        self.state.read().table.get(topic).cloned()
    }

    /// How many queues `topic` has (the larger of its read and write counts), without copying
    /// its config; `None` for a topic this broker does not have.
    pub fn queue_count(&self, topic: &str) -> Option<i32> {
        self.state
            .read()
            .table
            .get(topic)
            .map(|t| t.read_queue_nums.max(t.write_queue_nums))
    }

    /// Every topic config with the data version, for registration and GET_ALL_TOPIC_CONFIG.
    pub fn snapshot(&self) -> (DataVersion, BTreeMap<String, TopicConfig>) {
        let s = self.state.read();
        (s.data_version, s.table.clone())
    }

    /// Creates or replaces a topic; returns the stored config.
    pub fn put(&self, config: TopicConfig) -> Result<TopicConfig, BrokerError> {
        {
            let mut s = self.state.write();
            s.table.insert(config.topic_name.clone(), config.clone());
            s.data_version.next_version(now_millis());
        }
        self.mark_dirty();
        Ok(config)
    }

    /// Moves the data version on without changing a topic, so name servers take the next
    /// registration's topics (they skip an unchanged version): after `brokerPermission` changed,
    /// which masks every topic's permission in registrations.
    pub fn touch(&self) {
        self.state.write().data_version.next_version(now_millis());
        self.mark_dirty();
    }

    /// Controller mode: this broker now serves under master epoch `epoch`; its registrations
    /// carry it (`stateVersion`), and name servers keep the newest master's.
    pub fn set_master_epoch(&self, epoch: i32) {
        self.state
            .write()
            .data_version
            .next_state_version(i64::from(epoch), now_millis());
        self.mark_dirty();
    }

    pub fn remove(&self, topic: &str) -> Result<Option<TopicConfig>, BrokerError> {
        let removed = {
            let mut s = self.state.write();
            let r = s.table.remove(topic);
            if r.is_some() {
                s.data_version.next_version(now_millis());
            }
            r
        };
        if removed.is_some() {
            self.mark_dirty();
        }
        Ok(removed)
    }

    /// The send path's lookup (`createTopicInSendMessageMethod`): an unknown topic is created
    /// from the template when the template allows inheritance (TBW102 exists only while
    /// `autoCreateTopicEnable`), with `min(requested, template)` queues.
    pub fn get_or_create_for_send(
        &self,
        topic: &str,
        template: &str,
        requested_queues: i32,
        topic_sys_flag: i32,
    ) -> Result<Option<TopicLookup>, BrokerError> {
        if let Some(c) = self.get(topic) {
            return Ok(Some(TopicLookup::Existing(c)));
        }
        let Some(tpl) = self.get(template) else {
            return Ok(None);
        };
        if !perm::is_inherited(tpl.perm) {
            return Ok(None);
        }
        let queues = requested_queues.clamp(1, tpl.write_queue_nums.max(1));
        let mut c = TopicConfig::new(topic, queues, queues, tpl.perm & !perm::INHERIT);
        c.topic_sys_flag = topic_sys_flag;
        self.create_if_absent(c).map(Some)
    }

    /// A topic the broker manages itself (`%RETRY%`, `%DLQ%`, system topics), created when
    /// missing; a creation is announced to the name servers at once, so consumers find it.
    pub fn ensure(
        &self,
        topic: &str,
        queues: i32,
        perm: i32,
        registration: &RegistrationWanted,
    ) -> Result<TopicConfig, BrokerError> {
        match self.get_or_create_simple(topic, queues, perm)? {
            TopicLookup::Created(c) => {
                tracing::info!(topic = %c.topic_name, queues = c.write_queue_nums, "created topic");
                registration.request_now();
                Ok(c)
            }
            TopicLookup::Existing(c) => Ok(c),
        }
    }

    /// Creates `%RETRY%`/`%DLQ%`-style system-managed topics if missing.
    pub fn get_or_create_simple(
        &self,
        topic: &str,
        queues: i32,
        perm: i32,
    ) -> Result<TopicLookup, BrokerError> {
        if let Some(c) = self.get(topic) {
            return Ok(TopicLookup::Existing(c));
        }
        let c = TopicConfig::new(topic, queues, queues, perm);
        self.create_if_absent(c)
    }

    fn create_if_absent(&self, c: TopicConfig) -> Result<TopicLookup, BrokerError> {
        let created = {
            let mut s = self.state.write();
            if let Some(existing) = s.table.get(&c.topic_name) {
                return Ok(TopicLookup::Existing(existing.clone()));
            }
            s.table.insert(c.topic_name.clone(), c.clone());
            s.data_version.next_version(now_millis());
            c
        };
        self.mark_dirty();
        Ok(TopicLookup::Created(created))
    }

    /// Replaces every topic with the master's (a slave's metadata sync); `true` if anything
    /// changed.
    pub fn replace_all(
        &self,
        data_version: DataVersion,
        table: BTreeMap<String, TopicConfig>,
    ) -> Result<bool, BrokerError> {
        {
            let mut s = self.state.write();
            if s.data_version == data_version && s.table == table {
                return Ok(false);
            }
            s.data_version = data_version;
            s.table = table;
        }
        self.mark_dirty();
        Ok(true)
    }

    fn mark_dirty(&self) {
        self.commit.mark();
    }

    /// Waits until every change made so far is on disk: what an answer that promises a topic
    /// (UPDATE_AND_CREATE_TOPIC, a send that created one) waits for, so a crash right after
    /// it cannot lose the topic.
    pub async fn persisted(&self) -> Result<(), BrokerError> {
        self.commit.persisted().await
    }

    /// Writes `topics.json` now; the table is encoded under the read lock, written without it.
    pub fn persist(&self) -> Result<(), BrokerError> {
        let text = {
            let s = self.state.read();
            persist::encode_json(
                &self.path,
                &TopicsFileRef {
                    data_version: &s.data_version,
                    topic_config_table: &s.table,
                },
            )?
        };
        persist::write_json(&self.path, &text)
    }
}

impl Durable for TopicConfigs {
    const WHAT: &'static str = "topic configs";
    fn commit(&self) -> &GroupCommit {
        &self.commit
    }
    fn write(&self) -> Result<(), BrokerError> {
        self.persist()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TopicsFileRef<'a> {
    data_version: &'a DataVersion,
    topic_config_table: &'a BTreeMap<String, TopicConfig>,
}
