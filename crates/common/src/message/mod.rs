//! Messages as producers build them (`Message`) and as the store hands them out (`MessageExt`).

pub mod keys;
pub mod properties;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use bytes::Bytes;

pub use properties::{decode_properties, encode_properties};

/// User and system properties of a message. Ordered so encodings are deterministic.
pub type Properties = BTreeMap<String, String>;

/// A message as a producer sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub flag: i32,
    pub properties: Properties,
    pub body: Bytes,
}

impl Message {
    pub fn new(topic: impl Into<String>, body: impl Into<Bytes>) -> Self {
        Message {
            topic: topic.into(),
            body: body.into(),
            ..Default::default()
        }
    }

    pub fn with_tags(mut self, tags: impl Into<String>) -> Self {
        self.set_tags(tags);
        self
    }

    pub fn with_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = keys
            .into_iter()
            .map(|k| k.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(keys::KEY_SEPARATOR);
        self.properties.insert(keys::KEYS.into(), joined);
        self
    }

    pub fn with_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    pub fn with_delay_level(mut self, level: i32) -> Self {
        self.properties
            .insert(keys::DELAY.into(), level.to_string());
        self
    }

    pub fn set_tags(&mut self, tags: impl Into<String>) {
        self.properties.insert(keys::TAGS.into(), tags.into());
    }

    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
    }

    pub fn tags(&self) -> Option<&str> {
        self.property(keys::TAGS)
    }

    /// The space-separated `KEYS` property split into its non-empty parts.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.property(keys::KEYS)
            .unwrap_or("")
            .split(' ')
            .filter(|k| !k.is_empty())
    }

    pub fn delay_level(&self) -> i32 {
        self.property(keys::DELAY)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// `UNIQ_KEY`, the client-generated id that users know as the message id.
    pub fn uniq_key(&self) -> Option<&str> {
        self.property(keys::UNIQ_KEY)
    }

    /// `WAIT`: absent means true.
    pub fn wait_store_msg_ok(&self) -> bool {
        self.property(keys::WAIT) != Some("false")
    }
}

/// A stored message as read back from the CommitLog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExt {
    pub message: Message,
    pub queue_id: i32,
    pub store_size: i32,
    pub queue_offset: i64,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_timestamp: i64,
    pub store_host: SocketAddr,
    pub commit_log_offset: i64,
    pub body_crc: u32,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
}

/// A stored message is a message plus where and when it was stored: `msg_ext.body`,
/// `msg_ext.tags()` and every other [`Message`] field and method read through.
impl std::ops::Deref for MessageExt {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.message
    }
}

impl std::ops::DerefMut for MessageExt {
    fn deref_mut(&mut self) -> &mut Message {
        &mut self.message
    }
}

impl MessageExt {
    /// The offset message id (store host + commit-log offset) of this record.
    pub fn offset_msg_id(&self) -> String {
        crate::msg_id::create_offset_msg_id(self.store_host, self.commit_log_offset)
    }

    /// What Java calls `getMsgId()`: the `UNIQ_KEY` if present, else the offset id.
    pub fn msg_id(&self) -> String {
        match self.message.uniq_key() {
            Some(k) => k.to_owned(),
            None => self.offset_msg_id(),
        }
    }

    pub fn topic(&self) -> &str {
        &self.message.topic
    }
}
